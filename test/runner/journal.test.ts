// The ETag pair journal, end to end: real s3rver processes behind the proxy, the BUILT runner.
//
// Multipart objects whose ETags differ between the two sides (the source uploaded with 5 MiB parts,
// the runner uploading with 6 MiB parts) and AWS-style multipart ETags (`md5-N`, emulated by the
// proxy: s3rver itself gives the whole-content MD5). A run in which one key fails persistently does
// not write the state; the objects it DID copy must not come back on the next run as false conflicts
// (bisync) or re-copies (copy). Each scenario has a control twin whose journal is removed before run
// 2: it shows the false conflicts / re-copies the journal prevents, so the test really fails without it.
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, ListObjectsV2Command, S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3RVER_CREDENTIALS } from "../../local/sites.js";
import { decodeState } from "../../runner/state/codec.js";
import { startProxy, type Proxy } from "../support/proxy.js";
import { del, endpointsOf, put, runRunner, startEnv, writeConfig, type Env } from "./harness.js";

const MiB = 1024 * 1024;
let env: Env;
const proxies: Record<string, Proxy> = {};
/** Clients through the proxies (so seeded multipart objects get AWS-style ETags). */
const via: Record<string, S3Client> = {};

beforeAll(async () => {
  env = await startEnv({ a: ["bi", "bi-ctl", "cp", "cp-ctl", "lk"], b: ["bi", "bi-ctl", "cp", "cp-ctl", "lk", "state"] });
  for (const [n, s] of Object.entries(env.sites)) {
    proxies[n] = await startProxy({ target: s.endpoint, awsMultipartEtags: true });
    via[n] = new S3Client({
      endpoint: proxies[n].endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { ...S3RVER_CREDENTIALS },
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }
});
afterAll(async () => {
  for (const c of Object.values(via)) c.destroy();
  for (const p of Object.values(proxies)) await p.stop();
  await env?.stop();
});

/** A multipart upload with 5 MiB parts (the runner uses 6 MiB: different ETags for equal bytes). */
async function multipart(c: S3Client, Bucket: string, Key: string, data: Buffer): Promise<string> {
  const part = 5 * MiB;
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const Parts: { PartNumber: number; ETag: string }[] = [];
  for (let i = 0, n = 1; i < data.length; i += part, n++) {
    const r = await c.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n, Body: data.subarray(i, i + part) }));
    Parts.push({ PartNumber: n, ETag: r.ETag! });
  }
  const done = await c.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
  return done.ETag!.replace(/"/g, "");
}

/** key → ETag, as listed through the proxy. */
async function etags(c: S3Client, Bucket: string): Promise<Record<string, string>> {
  const r = await c.send(new ListObjectsV2Command({ Bucket }));
  return Object.fromEntries((r.Contents ?? []).map((o) => [o.Key!, o.ETag!.replace(/"/g, "")]));
}

async function body(c: S3Client, Bucket: string, Key: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket, Key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

function config(name: string, mode: "bisync" | "copy", bucket: string, state: object): string {
  const eps = endpointsOf(env) as Record<string, Record<string, unknown>>;
  for (const n of Object.keys(eps)) eps[n] = { ...eps[n], endpoint: proxies[n].endpoint };
  return writeConfig(env, {
    endpoints: eps,
    state,
    transfers: 4,
    retries: 1,
    multipartThresholdMiB: 5,
    partSizeMiB: 6,
    jobs: [{ name, mode, source: { endpoint: "a", bucket }, targets: [{ endpoint: "b", bucket }] }],
  });
}

async function run(cfg: string, extra: string[] = []) {
  const r = await runRunner(["run", "--config", cfg, "--json", ...extra], { timeoutMs: 120_000 });
  return { ...r, s: r.summaries[0] };
}

const failBad = () => proxies.b.setFaults([{ kinds: "PUT", key: /^bad\.txt$/, always: true, fault: { type: "status", status: 500 } }]);

describe("ETag pair journal", () => {
  for (const control of [false, true]) {
    it(`bisync${control ? " (control: journal removed before run 2)" : ""}: after a partly failed run, multipart copies with differing ETags are ${control ? "false conflicts without the journal" : "not conflicts; only the failed key transfers; deletes follow the state alone"}`, async () => {
      const bucket = control ? "bi-ctl" : "bi";
      const name = control ? "bi-ctl" : "bi";
      const stateDir = join(env.dir, `state-${name}`);
      const cfg = config(name, "bisync", bucket, { dir: stateDir });
      const A = via.a;
      const B = via.b;
      // Run 0: a clean baseline, recorded in the state (big0 included, with its ETag pair).
      for (let i = 0; i < 3; i++) await put(A, bucket, `small/${i}`, `small ${i}`);
      await multipart(A, bucket, "big0", randomBytes(10 * MiB + 1));
      const r0 = await run(cfg);
      expect(r0.code, r0.stdout + r0.stderr).toBe(0);
      expect(r0.s).toMatchObject({ copied: 4, conflicts: 0, stateWritten: true });

      // Changes: big0 changed on the source, big1 new on the source, a key that will fail, and a
      // delete on the target (pending: withheld by a failed run, then done from the state).
      const big0 = randomBytes(10 * MiB + 2);
      const big1 = randomBytes(10 * MiB + 3);
      await multipart(A, bucket, "big0", big0);
      await multipart(A, bucket, "big1", big1);
      await put(A, bucket, "bad.txt", "bad");
      await del(env.clients.b, bucket, "small/1");

      failBad();
      const r1 = await run(cfg);
      proxies.b.setFaults([]);
      expect(r1.code, r1.stdout + r1.stderr).toBe(1);
      expect(r1.s).toMatchObject({ copied: 2, conflicts: 0, deleted: 0, skipped: 1, stateWritten: false });
      expect(r1.s.failures.map((f: { key: string }) => f.key)).toEqual(["bad.txt"]);
      // Precondition of the bug: equal bytes, different multipart ETags on the two sides.
      const [ea, eb] = [await etags(A, bucket), await etags(B, bucket)];
      for (const k of ["big0", "big1"]) {
        expect(ea[k]).toMatch(/^[0-9a-f]{32}-3$/);
        expect(eb[k]).toMatch(/^[0-9a-f]{32}-2$/);
      }
      expect((await body(B, bucket, "big0")).equals(big0)).toBe(true);
      // The journal holds exactly the two pairs this run completed.
      const jpath = join(stateDir, `${name}.pairs.gz`);
      const journal = decodeState(readFileSync(jpath));
      expect(journal.sections).toHaveLength(1);
      expect(journal.sections[0].records.map((r) => [r.key, r.aEtag, r.bEtag])).toEqual([
        ["big0", ea.big0, eb.big0],
        ["big1", ea.big1, eb.big1],
      ]);
      if (control) rmSync(jpath);

      const r2 = await run(cfg);
      if (control) {
        // Without the journal: both multipart copies are "changed/new on both sides with different
        // content" → two false conflicts, .conflict copies of 10 MiB objects.
        expect(r2.s.conflicts, r2.stdout).toBe(2);
        return;
      }
      expect(r2.code, r2.stdout + r2.stderr).toBe(0);
      expect(r2.s).toMatchObject({ conflicts: 0, copied: 1, deleted: 1, skipped: 0, errors: 0, stateWritten: true });
      expect(r2.lines.filter((l) => l.type === "copy").map((l) => l.key)).toEqual(["bad.txt"]);
      expect(r2.s.requests).toMatchObject({ GET: 1, PUT: 1, MPU_CREATE: 0, MPU_PART: 0, COPY: 0 });
      expect(existsSync(jpath), "a written state makes the journal obsolete").toBe(false);
      const [ka, kb] = [Object.keys(await etags(A, bucket)).sort(), Object.keys(await etags(B, bucket)).sort()];
      expect(ka).toEqual(["bad.txt", "big0", "big1", "small/0", "small/2"]);
      expect(kb).toEqual(ka);
      // Converged: nothing more to do, and the state now carries the pairs.
      const r3 = await run(cfg);
      expect(r3.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0, errors: 0 });
      expect(r3.s.requests).toMatchObject({ GET: 0, PUT: 0, MPU_CREATE: 0, COPY: 0, DELETE: 0 });
      const check = await runRunner(["check", "--config", cfg, "--json"]);
      expect(check.code, check.stdout).toBe(0);
      expect(check.summaries[0].inSync).toBe(true);
    }, 180_000);
  }

  for (const control of [false, true]) {
    it(`copy with state in a bucket${control ? " (control: journal removed before run 2)" : ""}: the objects copied by a failed run are ${control ? "copied again without the journal" : "not copied again"}`, async () => {
      const bucket = control ? "cp-ctl" : "cp";
      const name = control ? "cp-ctl" : "cp";
      const cfg = config(name, "copy", bucket, { endpoint: "b", bucket: "state", prefix: "jobs/" });
      const A = via.a;
      await multipart(A, bucket, "m/1", randomBytes(10 * MiB + 5));
      await multipart(A, bucket, "m/2", randomBytes(10 * MiB + 6));
      await put(A, bucket, "bad.txt", "bad");
      failBad();
      const r1 = await run(cfg);
      proxies.b.setFaults([]);
      expect(r1.code, r1.stdout + r1.stderr).toBe(1);
      expect(r1.s).toMatchObject({ copied: 2, stateWritten: false });
      const stateKeys = async () => Object.keys(await etags(env.clients.b, "state")).filter((k) => k.startsWith(`jobs/${name}.`)).sort();
      expect(await stateKeys()).toEqual([`jobs/${name}.pairs.gz`]);
      if (control) await del(env.clients.b, "state", `jobs/${name}.pairs.gz`);

      const r2 = await run(cfg);
      expect(r2.code, r2.stdout + r2.stderr).toBe(0);
      if (control) {
        expect(r2.s.copied).toBe(3); // the two multipart objects again, 20 MiB for nothing
        return;
      }
      expect(r2.s).toMatchObject({ copied: 1, stateWritten: true });
      expect(r2.s.requests).toMatchObject({ GET: 1, PUT: 1, MPU_CREATE: 0, MPU_PART: 0 });
      expect(await stateKeys()).toEqual([`jobs/${name}.state.gz`]);
      const r3 = await run(cfg);
      expect(r3.s).toMatchObject({ copied: 0 });
      expect(r3.s.requests).toMatchObject({ GET: 0, PUT: 0, MPU_CREATE: 0 });
    }, 180_000);
  }
});

// The bucket lock (state in a bucket) creates the lock object with If-None-Match: * (a real
// compare-and-swap where the server supports conditional writes; s3rver ignores the header), then
// reads it back after 250 ms as before. Answers of servers with and without conditional PUTs,
// injected on the lock PUT by the proxy.
describe("bucket lock: conditional create", () => {
  const lockCfg = (name: string) => config(name, "copy", "lk", { endpoint: "b", bucket: "state", prefix: "locks/" });
  beforeAll(async () => {
    await put(env.clients.a, "lk", "one.txt", "one");
  });
  const lockPuts = () => proxies.b.log().filter((l) => l.kind === "PUT" && l.key.endsWith(".lock"));

  it("412 (another runner created the lock first, then released it): reads again and takes it", async () => {
    const p = await startProxy({ target: env.sites.b.endpoint, record: true });
    const old = proxies.b;
    proxies.b = p;
    try {
      p.setFaults([{ kinds: "PUT", key: /\.lock$/, first: 1, fault: { type: "status", status: 412, code: "PreconditionFailed" } }]);
      const r = await run(lockCfg("lk412"));
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(lockPuts().map((l) => l.status)).toEqual([412, 200]);
      // 412 after the server DID write our lock (a retried request whose first answer was lost):
      // the lock is ours, not "locked by ourselves".
      p.reset();
      p.setFaults([{ kinds: "PUT", key: /\.lock$/, first: 1, fault: { type: "status", status: 412, code: "PreconditionFailed", forward: true } }]);
      const r2 = await run(lockCfg("lk412b"));
      expect(r2.code, r2.stdout + r2.stderr).toBe(0);
      expect(lockPuts().map((l) => l.status)).toEqual([412]);
    } finally {
      proxies.b = old;
      await p.stop();
    }
  });

  it("a server without conditional PUTs (501 NotImplemented / 400): falls back to a plain PUT and the read-back", async () => {
    const p = await startProxy({ target: env.sites.b.endpoint, record: true });
    const old = proxies.b;
    proxies.b = p;
    try {
      for (const [status, code] of [[501, "NotImplemented"], [400, "InvalidArgument"]] as const) {
        p.reset();
        p.setFaults([{ kinds: "PUT", key: /\.lock$/, first: 1, fault: { type: "status", status, code } }]);
        const r = await run(lockCfg(`lk${status}`));
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(lockPuts().map((l) => l.status)).toEqual([status, 200]);
      }
    } finally {
      proxies.b = old;
      await p.stop();
    }
  });

  it("a live lock held by another run: exit 1, locked, nothing copied", async () => {
    const lock = { pid: 1, host: "other-host", token: "t", started: new Date().toISOString(), expires: Date.now() + 600_000 };
    await put(env.clients.b, "state", "locks/lklive.lock", JSON.stringify(lock));
    const r = await run(lockCfg("lklive"));
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(/locked by pid 1 on other-host/);
    expect(r.s).toMatchObject({ copied: 0 });
  });
});
