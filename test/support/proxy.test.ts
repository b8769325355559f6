// The counting / fault-injecting proxy against a real s3rver process.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { startSite, S3RVER_CREDENTIALS, type Site } from "../../local/sites.js";
import { createHash, randomBytes } from "node:crypto";
import { awsMultipartEtag, classify, seededRng, startProxy, type Kind, type Proxy } from "./proxy.js";

let dir: string;
let site: Site;
let proxy: Proxy;
const BUCKET = "proxy-test";

function client(endpoint: string, maxAttempts = 1): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    maxAttempts,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

interface RawResult {
  status?: number;
  headers?: http.IncomingHttpHeaders;
  body: Buffer;
  error?: string;
  ms: number;
}

/** A raw HTTP request with no retries: reports exactly what came over the wire. */
function raw(method: string, url: string, opts: { body?: Buffer | string; timeoutMs?: number } = {}): Promise<RawResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let headers: http.IncomingHttpHeaders | undefined;
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      resolve({ status, headers, body: Buffer.concat(chunks), error, ms: Date.now() - t0 });
    };
    const req = http.request(url, { method, agent: false }, (res) => {
      status = res.statusCode;
      headers = res.headers;
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done());
      res.on("aborted", () => done("aborted"));
      res.on("error", (e) => done(`res:${(e as NodeJS.ErrnoException).code ?? e.message}`));
    });
    req.on("error", (e) => done(`req:${(e as NodeJS.ErrnoException).code ?? e.message}`));
    if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error("timeout")));
    req.end(opts.body);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "proxy-test-"));
  site = await startSite({ dir, buckets: [BUCKET] });
  proxy = await startProxy({ target: site.endpoint });
});
afterAll(async () => {
  await proxy?.stop();
  await site?.stop();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  proxy.setFaults([]);
  proxy.reset();
});

describe("classify", () => {
  const cases: [string, string, Record<string, string>, Kind][] = [
    ["GET", "/b?list-type=2&prefix=a%2F&continuation-token=x", {}, "LIST"],
    ["GET", "/b", {}, "LIST"],
    ["GET", "/b/?prefix=x&marker=y", {}, "LIST"],
    ["GET", "/b?location", {}, "BUCKET_OTHER"],
    ["GET", "/b?uploads", {}, "BUCKET_OTHER"],
    ["GET", "/", {}, "BUCKET_OTHER"],
    ["HEAD", "/b", {}, "BUCKET_OTHER"],
    ["PUT", "/b", {}, "BUCKET_OTHER"],
    ["HEAD", "/b/k", {}, "HEAD"],
    ["GET", "/b/dir/k%20x?x-id=GetObject", {}, "GET"],
    ["GET", "/b/k?acl", {}, "OTHER"],
    ["GET", "/b/k?uploadId=1", {}, "OTHER"],
    ["PUT", "/b/k?x-id=PutObject", {}, "PUT"],
    ["PUT", "/b/k", { "x-amz-copy-source": "/b/j" }, "COPY"],
    ["PUT", "/b/k?partNumber=1&uploadId=u", {}, "MPU_PART"],
    ["PUT", "/b/k?partNumber=1&uploadId=u", { "x-amz-copy-source": "/b/j" }, "MPU_PART_COPY"],
    ["PUT", "/b/k?tagging", {}, "OTHER"],
    ["POST", "/b/k?uploads", {}, "MPU_CREATE"],
    ["POST", "/b/k?uploadId=u", {}, "MPU_COMPLETE"],
    ["DELETE", "/b/k?uploadId=u", {}, "MPU_ABORT"],
    ["DELETE", "/b/k", {}, "DELETE"],
    ["POST", "/b?delete", {}, "DELETE_MULTI"],
    ["DELETE", "/b", {}, "BUCKET_OTHER"],
  ];
  it.each(cases)("%s %s → %s", (method, url, headers, kind) => {
    expect(classify(method, url, headers).kind).toBe(kind);
  });
  it("decodes the bucket and key", () => {
    expect(classify("GET", "/b/a%2Fb/c%20d%2B%C3%A9")).toMatchObject({ bucket: "b", key: "a/b/c d+é" });
  });
});

describe("counting through the AWS SDK", () => {
  it("counts every request by kind, exactly", async () => {
    const s3 = client(proxy.endpoint);
    const B = BUCKET;
    // Keys without "/": s3rver sometimes answers 500 to a DeleteObjects of two keys in one
    // "directory" (its file store races removing the emptied parent directory).
    await s3.send(new HeadBucketCommand({ Bucket: B }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "cnt-a", Body: "aaa" }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: "cnt-b c+d", Body: "bbb" }));
    await s3.send(new HeadObjectCommand({ Bucket: B, Key: "cnt-a" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: "cnt-b c+d" }));
    expect(await got.Body!.transformToString()).toBe("bbb");
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: "cnt-copy", CopySource: `${B}/cnt-a` }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: "cnt-" }));
    expect(listed.KeyCount).toBe(3);
    await s3.send(new DeleteObjectCommand({ Bucket: B, Key: "cnt-copy" }));
    await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: "cnt-a" }, { Key: "cnt-b c+d" }] } }));

    const mpu = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "count/mpu" }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket: B, Key: "count/mpu", UploadId: mpu.UploadId, PartNumber: 1, Body: Buffer.alloc(5 * 1024 * 1024, 1) }),
    );
    // UploadPartCopy: counted whatever s3rver makes of it.
    await s3
      .send(new UploadPartCopyCommand({ Bucket: B, Key: "count/mpu", UploadId: mpu.UploadId, PartNumber: 2, CopySource: `${B}/count/none` }))
      .catch(() => undefined);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: "count/mpu",
        UploadId: mpu.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const mpu2 = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: "count/mpu2" }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: "count/mpu2", UploadId: mpu2.UploadId })).catch(() => undefined);

    expect(proxy.counts()).toEqual({
      LIST: 1,
      HEAD: 1,
      GET: 1,
      PUT: 2,
      COPY: 1,
      DELETE: 1,
      DELETE_MULTI: 1,
      MPU_CREATE: 2,
      MPU_PART: 1,
      MPU_PART_COPY: 1,
      MPU_COMPLETE: 1,
      MPU_ABORT: 1,
      BUCKET_OTHER: 1,
      OTHER: 0,
    });
    expect(proxy.total()).toBe(15);
    proxy.reset();
    expect(proxy.total()).toBe(0);
    s3.destroy();
  });

  it("streams a large body both ways unchanged", async () => {
    const s3 = client(proxy.endpoint);
    const body = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(i * 2654435761 >>> 0, i);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "big", Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "big" }));
    const back = Buffer.from(await got.Body!.transformToByteArray());
    expect(back.equals(body)).toBe(true);
    expect(proxy.counts()).toMatchObject({ PUT: 1, GET: 1 });
    s3.destroy();
  });
});

describe("faults", () => {
  it("status 500 with an S3 XML error body, not forwarded", async () => {
    proxy.setFaults([{ kinds: "PUT", always: true, fault: { type: "status", status: 500 } }]);
    const r = await raw("PUT", `${proxy.endpoint}/${BUCKET}/f500`, { body: "x" });
    expect(r.status).toBe(500);
    expect(r.headers?.["content-type"]).toBe("application/xml");
    expect(r.body.toString()).toMatch(/<Error><Code>InternalError<\/Code><Message>[^<]+<\/Message><Resource>\/proxy-test\/f500<\/Resource>/);
    proxy.setFaults([]);
    expect((await raw("GET", `${site.endpoint}/${BUCKET}/f500`)).status).toBe(404);
    expect(proxy.faultCounts().status).toBe(1);
    expect(proxy.counts().PUT).toBe(1);
  });

  it("503 is seen by the SDK as ServiceUnavailable; forward:true lets the server do the write", async () => {
    proxy.setFaults([{ kinds: "PUT", always: true, fault: { type: "status", status: 503, forward: true } }]);
    const s3 = client(proxy.endpoint);
    const err = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "f503", Body: "written" })).catch((e) => e);
    expect(err.name).toBe("ServiceUnavailable");
    expect(err.$metadata.httpStatusCode).toBe(503);
    const direct = await raw("GET", `${site.endpoint}/${BUCKET}/f503`);
    expect(direct.body.toString()).toBe("written");
    s3.destroy();
  });

  it("SlowDown: 503 with Code SlowDown, retried by the SDK", async () => {
    proxy.setFaults([{ kinds: "GET", first: 2, fault: { type: "slowdown" } }]);
    await raw("PUT", `${site.endpoint}/${BUCKET}/slow`, { body: "ok" });
    const once = client(proxy.endpoint, 1);
    const err = await once.send(new GetObjectCommand({ Bucket: BUCKET, Key: "slow" })).catch((e) => e);
    expect(err.name).toBe("SlowDown");
    expect(err.$metadata.httpStatusCode).toBe(503);
    once.destroy();
    // The second GET is still faulted, the third passes: a client with 3 attempts gets through.
    const retrying = client(proxy.endpoint, 3);
    const got = await retrying.send(new GetObjectCommand({ Bucket: BUCKET, Key: "slow" }));
    expect(await got.Body!.transformToString()).toBe("ok");
    expect(proxy.counts().GET).toBe(3);
    expect(proxy.faultCounts().slowdown).toBe(2);
    retrying.destroy();
  });

  it("connection reset on arrival: nothing reaches the server", async () => {
    proxy.setFaults([{ kinds: "PUT", always: true, fault: { type: "reset" } }]);
    const r = await raw("PUT", `${proxy.endpoint}/${BUCKET}/reset1`, { body: "x" });
    expect(r.status).toBeUndefined();
    expect(r.error).toMatch(/ECONNRESET|socket hang up|EPIPE/);
    expect((await raw("GET", `${site.endpoint}/${BUCKET}/reset1`)).status).toBe(404);
  });

  it("connection reset while responding: headers, then the socket dies", async () => {
    await raw("PUT", `${site.endpoint}/${BUCKET}/reset2`, { body: "y".repeat(10_000) });
    proxy.setFaults([{ kinds: "GET", key: /^reset2$/, always: true, fault: { type: "reset", when: "response" } }]);
    const r = await raw("GET", `${proxy.endpoint}/${BUCKET}/reset2`);
    expect(r.status).toBe(200);
    expect(r.error).toBeDefined();
    expect(r.body.length).toBeLessThan(10_000);
  });

  it("stall forever: the client times out; stall ms: the answer comes late but whole", async () => {
    await raw("PUT", `${site.endpoint}/${BUCKET}/stall`, { body: "late" });
    proxy.setFaults([{ kinds: "GET", first: 1, fault: { type: "stall" } }]);
    const r1 = await raw("GET", `${proxy.endpoint}/${BUCKET}/stall`, { timeoutMs: 300 });
    expect(r1.error).toMatch(/timeout/);
    expect(r1.ms).toBeGreaterThanOrEqual(290);
    proxy.setFaults([{ kinds: "GET", always: true, fault: { type: "stall", ms: 400 } }]);
    const r2 = await raw("GET", `${proxy.endpoint}/${BUCKET}/stall`);
    expect(r2.status).toBe(200);
    expect(r2.body.toString()).toBe("late");
    expect(r2.ms).toBeGreaterThanOrEqual(390);
    // The SDK's own request timeout fires on a stall past it (this SDK only warns unless
    // throwOnRequestTimeout is set).
    proxy.setFaults([{ kinds: "GET", always: true, fault: { type: "stall" } }]);
    const s3 = new S3Client({
      endpoint: proxy.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      maxAttempts: 1,
      requestHandler: { requestTimeout: 150, throwOnRequestTimeout: true },
    });
    const err = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "stall" })).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err.name) + String(err.message)).toMatch(/Timeout/i);
    s3.destroy();
  });

  it("truncated body: full Content-Length, half the bytes, then the socket dies", async () => {
    const body = Buffer.alloc(100_000, 7);
    await raw("PUT", `${site.endpoint}/${BUCKET}/trunc`, { body });
    proxy.setFaults([{ kinds: "GET", key: "^trunc$", always: true, fault: { type: "truncate" } }]);
    const r = await raw("GET", `${proxy.endpoint}/${BUCKET}/trunc`);
    expect(r.status).toBe(200);
    expect(r.headers?.["content-length"]).toBe("100000");
    expect(r.body.length).toBe(50_000);
    expect(r.error).toBeDefined();
    // The SDK notices too.
    const s3 = client(proxy.endpoint);
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "trunc" }));
    await expect(got.Body!.transformToByteArray()).rejects.toThrow();
    expect(proxy.faultCounts().truncate).toBe(2);
    s3.destroy();
  });

  it("matches by key pattern and kind only", async () => {
    proxy.setFaults([{ kinds: ["PUT"], key: /^bad\//, always: true, fault: { type: "status", status: 500 } }]);
    expect((await raw("PUT", `${proxy.endpoint}/${BUCKET}/bad/1`, { body: "x" })).status).toBe(500);
    expect((await raw("PUT", `${proxy.endpoint}/${BUCKET}/good/1`, { body: "x" })).status).toBe(200);
    expect((await raw("GET", `${proxy.endpoint}/${BUCKET}/good/1`)).status).toBe(200);
    expect(proxy.faultCounts().status).toBe(1);
  });

  it("probabilistic faults are reproducible from the seed", async () => {
    const pattern = async (seed: number) => {
      proxy.setFaults([{ kinds: "LIST", probability: 0.3, fault: { type: "status", status: 503 } }], seed);
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await raw("GET", `${proxy.endpoint}/${BUCKET}?list-type=2&max-keys=1`)).status!);
      return out;
    };
    const a = await pattern(42);
    const b = await pattern(42);
    const c = await pattern(7);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const faulted = a.filter((s) => s === 503).length;
    expect(faulted).toBeGreaterThan(3);
    expect(faulted).toBeLessThan(25);
    expect(a.filter((s) => s === 200).length).toBe(40 - faulted);
  });

  it("seededRng is uniform enough", () => {
    const r = seededRng(3);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) sum += r();
    expect(sum / 10_000).toBeGreaterThan(0.48);
    expect(sum / 10_000).toBeLessThan(0.52);
  });

  it("record: keeps a request log with faults and statuses", async () => {
    const p = await startProxy({ target: site.endpoint, record: true, faults: [{ kinds: "HEAD", first: 1, fault: { type: "status", status: 500 } }] });
    try {
      await raw("HEAD", `${p.endpoint}/${BUCKET}/nothing`);
      await raw("HEAD", `${p.endpoint}/${BUCKET}/nothing`);
      expect(p.log()).toEqual([
        { kind: "HEAD", method: "HEAD", bucket: BUCKET, key: "nothing", fault: "status", status: 500 },
        { kind: "HEAD", method: "HEAD", bucket: BUCKET, key: "nothing", status: 404 },
      ]);
    } finally {
      await p.stop();
    }
  });
});

describe("emulations (opt-in)", () => {
  const MiB = 1024 * 1024;
  const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
  /** A multipart upload with the given part size, through `s3`; returns the answer's ETag. */
  async function multipart(s3: S3Client, Key: string, data: Buffer, partSize: number, extra: { ContentType?: string } = {}): Promise<string> {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ...extra }));
    const Parts: { PartNumber: number; ETag: string }[] = [];
    for (let i = 0, n = 1; i < data.length; i += partSize, n++) {
      const r = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: n, Body: data.subarray(i, i + partSize) }));
      Parts.push({ PartNumber: n, ETag: r.ETag! });
    }
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts } }));
    return done.ETag!.replace(/"/g, "");
  }

  it("awsMultipartEtag: md5 of the concatenated binary part MD5s, -N, parts in PartNumber order", () => {
    const p1 = md5(Buffer.from("one"));
    const p2 = md5(Buffer.from("two"));
    const want = createHash("md5").update(Buffer.concat([Buffer.from(p1, "hex"), Buffer.from(p2, "hex")])).digest("hex") + "-2";
    const xml = (a: [number, string][]) => `<CompleteMultipartUpload>${a.map(([n, e]) => `<Part><ETag>&quot;${e}&quot;</ETag><PartNumber>${n}</PartNumber></Part>`).join("")}</CompleteMultipartUpload>`;
    expect(awsMultipartEtag(xml([[1, p1], [2, p2]]))).toBe(want);
    expect(awsMultipartEtag(xml([[2, p2], [1, p1]]))).toBe(want);
    expect(awsMultipartEtag(xml([[1, "not-an-md5"]]))).toBeUndefined();
  });

  it("awsMultipartEtags: completion, listing, GET and HEAD show md5-N; a plain PUT over the key shows its MD5 again", async () => {
    const p = await startProxy({ target: site.endpoint, awsMultipartEtags: true });
    const s3 = client(p.endpoint);
    try {
      const data = randomBytes(11 * MiB);
      const etag = await multipart(s3, "mp-etag", data, 5 * MiB);
      expect(etag).toMatch(/^[0-9a-f]{32}-3$/);
      // Without the emulation s3rver shows the whole-content MD5.
      const direct = await client(site.endpoint).send(new HeadObjectCommand({ Bucket: BUCKET, Key: "mp-etag" }));
      expect(direct.ETag).toBe(`"${md5(data)}"`);
      expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "mp-etag" }))).ETag).toBe(`"${etag}"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "mp-etag" }));
      expect(got.ETag).toBe(`"${etag}"`);
      expect(md5(Buffer.from(await got.Body!.transformToByteArray()))).toBe(md5(data));
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "mp-etag-plain", Body: "plain" }));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "mp-etag" }));
      expect(listed.Contents?.map((o) => [o.Key, o.ETag]).sort()).toEqual([
        ["mp-etag", `"${etag}"`],
        ["mp-etag-plain", `"${md5(Buffer.from("plain"))}"`],
      ]);
      // A different part size gives a different ETag for the same bytes (as on AWS).
      expect(await multipart(s3, "mp-etag-6", data, 6 * MiB)).toMatch(/^[0-9a-f]{32}-2$/);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "mp-etag", Body: "now small" }));
      expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "mp-etag" }))).ETag).toBe(`"${md5(Buffer.from("now small"))}"`);
    } finally {
      s3.destroy();
      await p.stop();
    }
  });

  it("uploadPartCopy: ranged part copies make the exact bytes; x-amz-copy-source-if-match is honoured; counted as MPU_PART_COPY", async () => {
    const p = await startProxy({ target: site.endpoint, uploadPartCopy: { ...S3RVER_CREDENTIALS } });
    const s3 = client(p.endpoint);
    try {
      const data = randomBytes(11 * MiB + 7);
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "pc src/é+1", Body: data }));
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: "pc-dst" }));
      const Parts: { PartNumber: number; ETag: string }[] = [];
      const part = 5 * MiB;
      for (let i = 0, n = 1; i < data.length; i += part, n++) {
        const end = Math.min(data.length, i + part) - 1;
        const r = await s3.send(
          new UploadPartCopyCommand({ Bucket: BUCKET, Key: "pc-dst", UploadId, PartNumber: n, CopySource: `${BUCKET}/${encodeURIComponent("pc src/é+1")}`, CopySourceRange: `bytes=${i}-${end}`, CopySourceIfMatch: `"${md5(data)}"` }),
        );
        expect(r.CopyPartResult?.ETag).toBe(`"${md5(data.subarray(i, end + 1))}"`);
        Parts.push({ PartNumber: n, ETag: r.CopyPartResult!.ETag! });
      }
      await expect(
        s3.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: "pc-dst", UploadId, PartNumber: 9, CopySource: `${BUCKET}/${encodeURIComponent("pc src/é+1")}`, CopySourceIfMatch: '"00000000000000000000000000000000"' })),
      ).rejects.toMatchObject({ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
      await expect(s3.send(new UploadPartCopyCommand({ Bucket: BUCKET, Key: "pc-dst", UploadId, PartNumber: 9, CopySource: `${BUCKET}/no-such-key` }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: "pc-dst", UploadId, MultipartUpload: { Parts } }));
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "pc-dst" }));
      expect(md5(Buffer.from(await got.Body!.transformToByteArray()))).toBe(md5(data));
      expect(p.counts()).toMatchObject({ MPU_PART_COPY: 5, MPU_CREATE: 1, MPU_COMPLETE: 1, GET: 1, PUT: 1 });
    } finally {
      s3.destroy();
      await p.stop();
    }
  });
});
