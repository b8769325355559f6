// Server-side multipart copy (UploadPartCopy), which the runner uses for same-endpoint copies of
// objects larger than `multipartCopyThresholdMiB` (default 5 GiB, CopyObject's limit). s3rver does
// not implement UploadPartCopy: the proxy in front of it emulates it (a ranged GET from the server +
// an UploadPart of that body; x-amz-copy-source-if-match honoured). The threshold is lowered to
// 5 MiB so a 12 MiB object takes 3 parts. Real s3rver process, the BUILT runner.
import { HeadObjectCommand, PutObjectCommand, type PutObjectCommandInput } from "@aws-sdk/client-s3";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3RVER_CREDENTIALS } from "../../local/sites.js";
import { startProxy, type Proxy } from "../support/proxy.js";
import { endpointsOf, get, keys, runRunner, sleep, startEnv, writeConfig, type Env } from "./harness.js";

const MiB = 1024 * 1024;
let env: Env;
let proxy: Proxy;

beforeAll(async () => {
  env = await startEnv({ a: ["src", "dst", "src2", "dst2", "src3", "dst3"] });
  proxy = await startProxy({ target: env.sites.a.endpoint, uploadPartCopy: { ...S3RVER_CREDENTIALS } });
});
afterAll(async () => {
  await proxy?.stop();
  await env?.stop();
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function config(name: string, src: string, dst: string, extra: Record<string, unknown> = {}): string {
  const eps = endpointsOf(env) as Record<string, Record<string, unknown>>;
  eps.a = { ...eps.a, endpoint: proxy.endpoint };
  return writeConfig(env, {
    endpoints: eps,
    state: { dir: join(env.dir, `state-${name}`) },
    multipartCopyThresholdMiB: 5,
    partSizeMiB: 5,
    ...extra,
    jobs: [{ name, mode: "copy", source: { endpoint: "a", bucket: src }, targets: [{ endpoint: "a", bucket: dst }] }],
  });
}

const HEADERS: Partial<PutObjectCommandInput> = {
  ContentType: "application/x-big",
  CacheControl: "max-age=60",
  ContentDisposition: 'attachment; filename="big.bin"',
  ContentEncoding: "identity",
  ContentLanguage: "de-CH",
  Expires: new Date("2031-01-02T03:04:05Z"),
  Metadata: { owner: "team-x", mtime: "1700000000.5" },
};

async function seed(Bucket: string, Key: string, body: Buffer, extra: Partial<PutObjectCommandInput> = {}): Promise<void> {
  await env.clients.a.send(new PutObjectCommand({ Bucket, Key, Body: body, ...extra }));
}

describe("multipart server-side copy (UploadPartCopy)", () => {
  it("same endpoint, above the lowered threshold: MPU_CREATE + 3 × MPU_PART_COPY + MPU_COMPLETE, no GET/PUT, identical bytes and headers; below it: one CopyObject", async () => {
    const data = randomBytes(12 * MiB + 345);
    await seed("src", "dir/big file+1.bin", data, HEADERS);
    await seed("src", "small.txt", Buffer.from("small"), { ContentType: "text/plain" });
    proxy.reset();
    const cfg = config("mpc", "src", "dst");
    const r = await runRunner(["run", "--config", cfg, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summaries[0]).toMatchObject({ copied: 2, errors: 0, stateWritten: true });
    // The runner's own count (per SDK attempt) and the proxy's (what arrived on the wire).
    expect(r.summaries[0].requests).toMatchObject({ LIST: 2, HEAD: 1, GET: 0, PUT: 0, COPY: 1, MPU_CREATE: 1, MPU_PART: 3, MPU_COMPLETE: 1, MPU_ABORT: 0 });
    expect(proxy.counts()).toMatchObject({ HEAD: 1, GET: 0, PUT: 0, COPY: 1, MPU_CREATE: 1, MPU_PART: 0, MPU_PART_COPY: 3, MPU_COMPLETE: 1, MPU_ABORT: 0 });
    const methods = Object.fromEntries(r.lines.filter((l) => l.type === "copy").map((l) => [l.key, l.method]));
    expect(methods).toEqual({ "dir/big file+1.bin": "multipart-copy", "small.txt": "copy" });

    const [s, d] = [await get(env.clients.a, "src", "dir/big file+1.bin"), await get(env.clients.a, "dst", "dir/big file+1.bin")];
    expect(d.body.length).toBe(data.length);
    expect(sha(d.body)).toBe(sha(data));
    for (const h of ["ContentType", "CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage"] as const) expect(d[h], h).toBe(s[h]);
    expect(d.Expires?.getTime()).toBe(HEADERS.Expires!.getTime());
    // User metadata is kept as it was (an existing rclone `mtime` is not overwritten); `md5chksum`
    // is added because the source ETag is a plain MD5.
    expect(d.Metadata).toEqual({ ...HEADERS.Metadata, md5chksum: createHash("md5").update(data).digest("base64") });
    expect((await get(env.clients.a, "dst", "small.txt")).ContentType).toBe("text/plain");

    // Converged: the second run makes no copy at all.
    proxy.reset();
    const again = await runRunner(["run", "--config", cfg, "--json"]);
    expect(again.summaries[0]).toMatchObject({ copied: 0 });
    expect(proxy.counts()).toMatchObject({ HEAD: 0, COPY: 0, MPU_CREATE: 0, MPU_PART_COPY: 0 });
  });

  it("a part that keeps failing: the upload is aborted, no object appears, the run fails and the next one copies it", async () => {
    const data = randomBytes(12 * MiB + 1);
    await seed("src2", "fail.bin", data);
    const cfg = config("mpc-fail", "src2", "dst2", { retries: 1 });
    proxy.reset();
    proxy.setFaults([{ kinds: "MPU_PART_COPY", key: /^fail\.bin$/, always: true, fault: { type: "status", status: 500 } }]);
    const r = await runRunner(["run", "--config", cfg, "--json"]);
    proxy.setFaults([]);
    expect(r.code).toBe(1);
    expect(r.summaries[0]).toMatchObject({ copied: 0, errors: 1, stateWritten: false });
    expect(r.summaries[0].failures[0]).toMatchObject({ key: "fail.bin" });
    expect(proxy.counts()).toMatchObject({ MPU_CREATE: 1, MPU_COMPLETE: 0, MPU_ABORT: 1, GET: 0, PUT: 0 });
    expect(proxy.counts().MPU_PART_COPY).toBeGreaterThanOrEqual(3); // the SDK's 3 attempts of the failing part
    expect(await keys(env.clients.a, "dst2")).toEqual([]);

    proxy.reset();
    const r2 = await runRunner(["run", "--config", cfg, "--json"]);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(r2.summaries[0]).toMatchObject({ copied: 1, errors: 0 });
    expect(sha((await get(env.clients.a, "dst2", "fail.bin")).body)).toBe(sha(data));
  });

  it("the source changes between the HEAD and the part copies: x-amz-copy-source-if-match fails (412), the upload is aborted, nothing mixed is written; the next run copies the new version", async () => {
    const v1 = randomBytes(12 * MiB + 2);
    const v2 = randomBytes(12 * MiB + 2);
    await seed("src3", "race.bin", v1);
    const cfg = config("mpc-race", "src3", "dst3");
    proxy.reset();
    // Hold the CreateMultipartUpload (after the runner's HEAD) while the source is overwritten.
    proxy.setFaults([{ kinds: "MPU_CREATE", key: /^race\.bin$/, first: 1, fault: { type: "stall", ms: 3000 } }]);
    const running = runRunner(["run", "--config", cfg, "--json"]);
    const deadline = Date.now() + 20_000;
    while (proxy.faultCounts().stall < 1 && Date.now() < deadline) await sleep(20);
    expect(proxy.faultCounts().stall).toBe(1);
    await seed("src3", "race.bin", v2);
    const r = await running;
    proxy.setFaults([]);
    expect(r.code).toBe(1);
    expect(r.summaries[0]).toMatchObject({ copied: 0, stateWritten: false });
    expect(r.summaries[0].failures[0].message).toMatch(/PreconditionFailed/);
    expect(proxy.counts()).toMatchObject({ MPU_ABORT: 1, MPU_COMPLETE: 0 });
    expect(await keys(env.clients.a, "dst3")).toEqual([]);

    const r2 = await runRunner(["run", "--config", cfg, "--json"]);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(sha((await get(env.clients.a, "dst3", "race.bin")).body)).toBe(sha(v2));
    const head = await env.clients.a.send(new HeadObjectCommand({ Bucket: "dst3", Key: "race.bin" }));
    expect(head.ContentLength).toBe(v2.length);
  });

  it("multipartCopyThresholdMiB is validated (5–5120): exit 2 naming the field", async () => {
    for (const bad of [1, 6000, "5"]) {
      const cfg = config("mpc-bad", "src", "dst", { multipartCopyThresholdMiB: bad });
      const r = await runRunner(["run", "--config", cfg]);
      expect(r.code, String(bad)).toBe(2);
      expect(r.stderr).toMatch(/^error: multipartCopyThresholdMiB: /m);
    }
  });
});
