// serverSideCopy after a 412 on its conditional CopyObject / UploadPartCopy (runner/store/s3.ts):
// Swift compares x-amz-copy-source-if-match with its own large-object ETag, so an unchanged
// multipart-uploaded object fails the condition. The runner verifies the source (HEAD If-Match the
// listed ETag) and copies without the condition; a source that really changed keeps the 412 and
// is never copied. A scripted fake client stands in for the server (the Swift scenario is in
// test/runner/swift.test.ts).
import { describe, expect, it } from "vitest";
import { transferObject, type Endpoint, type Location } from "../../runner/store/s3.js";

const err = (status: number, name: string) => Object.assign(new Error(name), { name, Code: name, $metadata: { httpStatusCode: status } });

interface Server {
  /** The object's ETag as HEAD answers it (quoted), or undefined: deleted. */
  etag: string | undefined;
  /** What the server's If-Match on copies compares with (Swift: its large-object ETag). */
  copyEtag: string;
  /** Called after each unconditional copy (to simulate a change in that window). */
  afterCopy?: () => void;
  /** HEAD answers 200 whatever If-Match says (s3rver). */
  headIgnoresIfMatch?: boolean;
  log: string[];
}

function locations(srv: Server): { src: Location; dst: Location } {
  const send = async (cmd: { constructor: { name: string }; input: Record<string, any> }) => {
    const name = cmd.constructor.name.replace(/Command$/, "");
    const i = cmd.input;
    const cond = i.CopySourceIfMatch ?? i.IfMatch;
    srv.log.push(`${name}${cond ? " if-match" : ""}`);
    switch (name) {
      case "HeadObject":
        if (srv.etag === undefined) throw err(404, "NotFound");
        if (i.IfMatch && i.IfMatch !== srv.etag && !srv.headIgnoresIfMatch) throw err(412, "PreconditionFailed");
        return { ETag: srv.etag, ContentLength: 6, Metadata: {} };
      case "CopyObject":
        if (cond && cond !== srv.copyEtag) throw err(412, "PreconditionFailed");
        if (!cond) srv.afterCopy?.();
        return { CopyObjectResult: { ETag: '"copied"' } };
      case "CreateMultipartUpload":
        return { UploadId: "u1" };
      case "UploadPartCopy":
        if (cond && cond !== srv.copyEtag) throw err(412, "PreconditionFailed");
        if (!cond) srv.afterCopy?.();
        return { CopyPartResult: { ETag: `"p${i.PartNumber}"` } };
      case "CompleteMultipartUpload":
        return { ETag: '"done-2"' };
      case "AbortMultipartUpload":
        return {};
    }
    throw new Error(`unexpected ${name}`);
  };
  const client = { send } as never;
  const ep: Endpoint = { name: "a", client, bucketClient: () => client, copyIdentity: "same", url: "http://127.0.0.1:1" };
  return { src: { ep, bucket: "src", prefix: "" }, dst: { ep, bucket: "dst", prefix: "" } };
}

const listed = { key: "k", size: 6, etag: "abc-2", mtime: 1000 };
const opts = { multipartThreshold: 64 * 2 ** 20, partSize: 5 * 2 ** 20, partsInFlight: 2 };
const mpOpts = { ...opts, multipartCopyThreshold: 5 };

describe("server-side copy after 412 PreconditionFailed", () => {
  it("unchanged source whose copy condition the server cannot match (Swift): verified by HEAD If-Match, copied without the condition", async () => {
    const srv: Server = { etag: '"abc-2"', copyEtag: '"swift-internal"', log: [] };
    const { src, dst } = locations(srv);
    const r = await transferObject(src, "k", listed, dst, "k", opts);
    expect(r).toMatchObject({ method: "copy", srcEtag: "abc-2", dstEtag: "copied" });
    expect(srv.log).toEqual(["CopyObject if-match", "HeadObject if-match", "CopyObject", "HeadObject if-match"]);
  });

  it("a source that really changed keeps the 412 and is not copied", async () => {
    const srv: Server = { etag: '"new-etag"', copyEtag: '"new-etag"', log: [] };
    const { src, dst } = locations(srv);
    await expect(transferObject(src, "k", listed, dst, "k", opts)).rejects.toMatchObject({ name: "PreconditionFailed" });
    expect(srv.log.filter((l) => l === "CopyObject")).toEqual([]);
  });

  it("a server that ignores If-Match on HEAD: the HEAD's own ETag decides, a changed source keeps the 412", async () => {
    const srv: Server = { etag: '"new-etag"', copyEtag: '"new-etag"', headIgnoresIfMatch: true, log: [] };
    const { src, dst } = locations(srv);
    await expect(transferObject(src, "k", listed, dst, "k", opts)).rejects.toMatchObject({ name: "PreconditionFailed" });
    expect(srv.log.filter((l) => l === "CopyObject")).toEqual([]);
  });

  it("a deleted source keeps the 412", async () => {
    const srv: Server = { etag: undefined, copyEtag: '"x"', log: [] };
    const { src, dst } = locations(srv);
    await expect(transferObject(src, "k", listed, dst, "k", opts)).rejects.toMatchObject({ name: "PreconditionFailed" });
    expect(srv.log).not.toContain("CopyObject");
  });

  it("a source that changes between the check and the unconditional copy fails the copy (SourceChanged), so nothing records it as the listed version", async () => {
    const srv: Server = { etag: '"abc-2"', copyEtag: '"swift-internal"', log: [] };
    srv.afterCopy = () => (srv.etag = '"changed"');
    const { src, dst } = locations(srv);
    await expect(transferObject(src, "k", listed, dst, "k", opts)).rejects.toMatchObject({ name: "SourceChanged" });
  });

  it("multipart copy: parts go without the condition after a verified 412, and the source is checked again before completing", async () => {
    const srv: Server = { etag: '"abc-2"', copyEtag: '"swift-internal"', log: [] };
    const { src, dst } = locations(srv);
    const r = await transferObject(src, "k", listed, dst, "k", mpOpts);
    expect(r).toMatchObject({ method: "multipart-copy", srcEtag: "abc-2", dstEtag: "done-2" });
    expect(srv.log[srv.log.length - 2]).toBe("HeadObject if-match");
    expect(srv.log[srv.log.length - 1]).toBe("CompleteMultipartUpload");
    expect(srv.log).toContain("UploadPartCopy");
  });

  it("multipart copy: a source that changed after the first check aborts the upload", async () => {
    const srv: Server = { etag: '"abc-2"', copyEtag: '"swift-internal"', log: [] };
    srv.afterCopy = () => (srv.etag = '"changed"');
    const { src, dst } = locations(srv);
    await expect(transferObject(src, "k", listed, dst, "k", mpOpts)).rejects.toMatchObject({ name: "SourceChanged" });
    expect(srv.log).toContain("AbortMultipartUpload");
    expect(srv.log).not.toContain("CompleteMultipartUpload");
  });
});
