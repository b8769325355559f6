// Swift-native parity, through the BUILT runner against the real Swift of test/support/swift.ts:
// - the state and the lock in a Swift container (`state.endpoint` naming a `type: "swift"`
//   endpoint, runner/state/swift-store.ts): copy and bisync with a no-op second run, a held lock
//   (exit 1 naming it), a stale lock taken over, and `--shard` (the shard map lives there too);
//   Swift 2.30's answer to a create-only PUT (If-None-Match: *), which the lock relies on;
// - large objects: a streamed upload above a lowered `largeObjectThresholdMiB` becomes an SLO;
//   overwriting an SLO leaves no orphan segment (and a failed overwrite leaves the old object whole).
//
// Skipped (with the reason) on a machine without the Swift packages; under CI a missing Swift fails.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SwiftClient } from "../../runner/store/swift.js";
import { startSwift, swiftUnavailable, type Swift, type SwiftAccount } from "../support/swift.js";
import { contents, endpointsOf, get, put, runRunner, type Env, startEnv } from "./harness.js";

const KiB = 1024;
const unavailable = swiftUnavailable();
const skip = !!unavailable && !process.env.CI;
if (skip) console.warn(`test/runner/swift-state.test.ts skipped: ${unavailable}`);

let swift: Swift;
let env: Env;
let dir: string;
let sw: SwiftClient;

const CONTAINERS = ["st", "st-dst", "st-bi", "st-sh", "st-sh-dst", "big", "big_segments", "ow", "ow_segments"];
const authOf = (a: SwiftAccount) => ({ authUrl: swift.nativeAuthUrl, user: `${a.account}:${a.user}`, key: a.secretAccessKey });

beforeAll(async () => {
  if (skip) return;
  expect(unavailable, `${unavailable}; CI must install it (.ci/run)`).toBeUndefined();
  swift = await startSwift();
  env = await startEnv({ s3: ["src", "bi", "sh", "big-src"] });
  dir = mkdtempSync(join(tmpdir(), "runner-swift-state-"));
  sw = new SwiftClient({ auth: { version: 1, ...authOf(swift.accounts[0]) } });
  for (const c of CONTAINERS) await sw.createContainer(c);
}, 150_000);

afterAll(async () => {
  sw?.destroy();
  await env?.stop();
  await swift?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function config(jobs: unknown[], extra: Record<string, unknown> = {}, swExtra: Record<string, unknown> = {}): string {
  const p = join(dir, `config-${++n}.json`);
  const endpoints = { ...endpointsOf(env), sw: { type: "swift", authVersion: 1, ...authOf(swift.accounts[0]), ...swExtra } };
  writeFileSync(p, JSON.stringify({ endpoints, state: { endpoint: "sw", bucket: "st", prefix: "runner/" }, transfers: 4, retries: 2, jobs, ...extra }, null, 2));
  return p;
}

async function run(cfg: string, ...flags: string[]) {
  const r = await runRunner(["run", "--config", cfg, "--json", ...flags], { timeoutMs: 90_000 });
  return { ...r, s: r.summaries[0], all: r.stdout + r.stderr };
}

async function swKeys(container: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  for (;;) {
    const p = await sw.listPage(container, { prefix, continuationToken: token });
    out.push(...p.objects.map((o) => o.key));
    if (!p.isTruncated) break;
    token = p.nextContinuationToken;
  }
  return out.sort();
}

async function swBytes(c: SwiftClient, container: string, key: string): Promise<Buffer> {
  const g = await c.get(container, key);
  const chunks: Buffer[] = [];
  for await (const x of g.body) chunks.push(x as Buffer);
  return Buffer.concat(chunks);
}

async function swPut(c: SwiftClient, container: string, key: string, body: string | Buffer, o: Parameters<SwiftClient["put"]>[4] = {}) {
  const b = Buffer.from(body);
  return c.put(container, key, Readable.from([b]), b.length, o);
}

function lockDoc(expires: number): string {
  return JSON.stringify({ pid: 1, host: "other-host", token: "planted-token", started: new Date(Date.now() - 60_000).toISOString(), expires });
}

describe.skipIf(skip)("state and lock in a Swift container", () => {
  it("Swift 2.30 answers a create-only PUT (If-None-Match: *) of an existing name with 412, and creates an absent one", async () => {
    await swPut(sw, "st", "probe/lock", "first", { ifNoneMatch: true });
    const e = await swPut(sw, "st", "probe/lock", "second", { ifNoneMatch: true }).catch((x) => x);
    expect(e.$metadata?.httpStatusCode, String(e)).toBe(412);
    expect(e.name).toBe("PreconditionFailed");
    expect((await swBytes(sw, "st", "probe/lock")).toString()).toBe("first");
    await sw.delete("st", "probe/lock");
  });

  it("copy S3→Swift with the state in the container: written after the run, the lock removed; the second run is a no-op", async () => {
    for (const k of ["a.txt", "dir/b.txt", "ü n+%.txt"]) await put(env.clients.s3, "src", k, `v1 ${k}`);
    const cfg = config([{ name: "cp", mode: "copy", source: { endpoint: "s3", bucket: "src" }, targets: [{ endpoint: "sw", bucket: "st-dst" }] }]);
    const r1 = await run(cfg);
    expect(r1.code, r1.all).toBe(0);
    expect(r1.s).toMatchObject({ copied: 3, errors: 0, stateWritten: true });
    expect(await swKeys("st", "runner/")).toEqual(["runner/cp.state.gz"]);
    const r2 = await run(cfg);
    expect(r2.code, r2.all).toBe(0);
    expect(r2.s).toMatchObject({ copied: 0, errors: 0 });
    expect(r2.s.requests).toMatchObject({ GET: 0, PUT: 0 });
    // The state is what made it a no-op: one changed key is copied, nothing else.
    await put(env.clients.s3, "src", "a.txt", "v2 a");
    const r3 = await run(cfg);
    expect(r3.s).toMatchObject({ copied: 1, errors: 0 });
    expect((await swBytes(sw, "st-dst", "a.txt")).toString()).toBe("v2 a");
  });

  it("a held lock: a second run exits 1 naming the lock's holder, copies nothing and leaves the lock; a stale lock is taken over", async () => {
    await put(env.clients.s3, "src", "while-locked.txt", "x");
    const cfg = config([{ name: "cp", mode: "copy", source: { endpoint: "s3", bucket: "src" }, targets: [{ endpoint: "sw", bucket: "st-dst" }] }]);
    await swPut(sw, "st", "runner/cp.lock", lockDoc(Date.now() + 3600_000), { contentType: "application/json" });
    const held = await run(cfg);
    expect(held.code, held.all).toBe(1);
    expect(held.all).toMatch(/job \\?"cp\\?" is locked by pid 1 on other-host/);
    expect(held.s).toMatchObject({ copied: 0 });
    expect((await swKeys("st-dst")).includes("while-locked.txt")).toBe(false);
    expect(JSON.parse((await swBytes(sw, "st", "runner/cp.lock")).toString()).token).toBe("planted-token");
    // Expired: taken over; the run completes and removes its own lock.
    await swPut(sw, "st", "runner/cp.lock", lockDoc(Date.now() - 1000), { contentType: "application/json" });
    const stale = await run(cfg);
    expect(stale.code, stale.all).toBe(0);
    expect(stale.s).toMatchObject({ copied: 1, errors: 0, stateWritten: true });
    expect(await swKeys("st", "runner/cp.")).toEqual(["runner/cp.state.gz"]);
  });

  it("bisync Swift↔S3 with the state in the container: merge, a change on each side, then a no-op", async () => {
    await swPut(sw, "st-bi", "from-swift.txt", "sw 1");
    await put(env.clients.s3, "bi", "from-s3.txt", "s3 1");
    const cfg = config([{ name: "bi", mode: "bisync", source: { endpoint: "sw", bucket: "st-bi" }, targets: [{ endpoint: "s3", bucket: "bi" }] }]);
    const r1 = await run(cfg);
    expect(r1.code, r1.all).toBe(0);
    expect(r1.s).toMatchObject({ copied: 2, errors: 0, stateWritten: true });
    expect(await swKeys("st", "runner/bi.")).toEqual(["runner/bi.state.gz"]);
    await swPut(sw, "st-bi", "from-swift.txt", "sw 2");
    await put(env.clients.s3, "bi", "from-s3.txt", "s3 2");
    const r2 = await run(cfg);
    expect(r2.code, r2.all).toBe(0);
    expect(r2.s).toMatchObject({ copied: 2, conflicts: 0, errors: 0 });
    expect(await contents(env.clients.s3, "bi")).toEqual({ "from-swift.txt": "sw 2", "from-s3.txt": "s3 2" });
    expect((await swBytes(sw, "st-bi", "from-s3.txt")).toString()).toBe("s3 2");
    const r3 = await run(cfg);
    expect(r3.code, r3.all).toBe(0);
    expect(r3.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0, errors: 0 });
    expect(r3.s.requests).toMatchObject({ GET: 0, PUT: 0 });
  });

  it("--shard K/N: the shard map and each shard's state in the container; the end state of one run; re-runs are no-ops", async () => {
    const want: Record<string, string> = {};
    for (let i = 0; i < 40; i++) {
      const k = `d${i % 4}/k${String(i).padStart(3, "0")}.txt`;
      want[k] = `body ${i}`;
      await put(env.clients.s3, "sh", k, want[k]);
    }
    const cfg = config([{ name: "sh", mode: "sync", source: { endpoint: "s3", bucket: "sh" }, targets: [{ endpoint: "sw", bucket: "st-sh-dst" }] }]);
    const shards = () => Promise.all([0, 1].map((k) => runRunner(["run", "--config", cfg, "--job", "sh", "--shard", `${k}/2`, "--json"], { timeoutMs: 90_000 })));
    const rs = await shards();
    for (const r of rs) expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(rs.reduce((t, r) => t + r.summaries[0].copied, 0)).toBe(40);
    expect(await swKeys("st", "runner/sh.")).toEqual(["runner/sh.shard-0-of-2.state.gz", "runner/sh.shard-1-of-2.state.gz", "runner/sh.shards.json"]);
    expect(JSON.parse((await swBytes(sw, "st", "runner/sh.shards.json")).toString())).toMatchObject({ job: "sh", count: 2 });
    const got: Record<string, string> = {};
    for (const k of await swKeys("st-sh-dst")) got[k] = (await swBytes(sw, "st-sh-dst", k)).toString();
    expect(got).toEqual(want);
    const again = await shards();
    for (const r of again) {
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.summaries[0]).toMatchObject({ copied: 0, deleted: 0, errors: 0 });
    }
    // An unsharded run is refused: the map in the container says the job is split.
    const plain = await runRunner(["run", "--config", cfg, "--job", "sh"]);
    expect(plain.code).toBe(2);
    expect(plain.stderr + plain.stdout).toMatch(/split into 2 shards/);
  }, 180_000);
});

describe.skipIf(skip)("large objects on a Swift target", () => {
  const SEG = 64 * KiB;
  const big = (fill: number, len = 300 * KiB) => {
    const b = Buffer.alloc(len, fill);
    b.write(`start ${fill}`);
    return b;
  };

  it("streamed upload above a lowered largeObjectThresholdMiB: an SLO of segments; an overwrite (SLO or plain) leaves no orphan segment; a re-run is a no-op", async () => {
    const s3 = env.clients.s3;
    await put(s3, "big-src", "big.bin", big(1));
    const cfg = config([{ name: "big", mode: "sync", source: { endpoint: "s3", bucket: "big-src" }, targets: [{ endpoint: "sw", bucket: "big" }] }], { state: { dir: join(dir, "state-big") } }, { largeObjectThresholdMiB: 100 / 1024, segmentSizeMiB: SEG / 1024 / 1024 });
    const r1 = await run(cfg);
    expect(r1.code, r1.all).toBe(0);
    expect(r1.lines.filter((l) => l.type === "copy").map((l) => l.method)).toEqual(["multipart"]);
    const h1 = await sw.head("big", "big.bin");
    expect(h1.largeObject).toBe("slo");
    expect((await swBytes(sw, "big", "big.bin")).equals(big(1))).toBe(true);
    const segs1 = await swKeys("big_segments");
    expect(segs1).toHaveLength(5);
    expect((await run(cfg)).s).toMatchObject({ copied: 0, errors: 0 });

    // Overwritten by a new SLO: exactly the new object's segments remain.
    await put(s3, "big-src", "big.bin", big(2));
    const r2 = await run(cfg);
    expect(r2.code, r2.all).toBe(0);
    expect(r2.s).toMatchObject({ copied: 1, errors: 0 });
    expect((await swBytes(sw, "big", "big.bin")).equals(big(2))).toBe(true);
    const segs2 = await swKeys("big_segments");
    expect(segs2).toHaveLength(5);
    expect(segs2.filter((s) => segs1.includes(s))).toEqual([]);
    // Overwritten by a plain object: no segment remains.
    await put(s3, "big-src", "big.bin", "small now");
    const r3 = await run(cfg);
    expect(r3.code, r3.all).toBe(0);
    expect((await sw.head("big", "big.bin")).largeObject).toBeUndefined();
    expect((await swBytes(sw, "big", "big.bin")).toString()).toBe("small now");
    expect(await swKeys("big_segments")).toEqual([]);
    // The same through Swift's own view of the S3 side: bytes equal.
    expect((await get(s3, "big-src", "big.bin")).text).toBe("small now");
  });

  it("native put: an SLO overwritten by a client that did not list the container (HEAD path); a failed overwrite leaves the old SLO whole", async () => {
    const small = new SwiftClient({ auth: { version: 1, ...authOf(swift.accounts[0]) }, largeObjectThreshold: 100 * KiB, segmentSize: SEG });
    try {
      await small.put("ow", "x.bin", Readable.from([big(3)]), big(3).length);
      const segs = await swKeys("ow_segments");
      expect(segs).toHaveLength(5);
      // A body whose MD5 is not the one given: the upload fails, the old object and its segments stay.
      const bad = await small.put("ow", "x.bin", Readable.from([big(4)]), big(4).length, { md5: "0".repeat(32) }).catch((e) => e);
      expect(bad).toBeInstanceOf(Error);
      expect((await swBytes(sw, "ow", "x.bin")).equals(big(3))).toBe(true);
      expect(await swKeys("ow_segments")).toEqual(segs);
      // A fresh client (no listing: it asks with a HEAD) overwrites with a plain object: segments gone.
      const fresh = new SwiftClient({ auth: { version: 1, ...authOf(swift.accounts[0]) } });
      try {
        await swPut(fresh, "ow", "x.bin", "plain");
      } finally {
        fresh.destroy();
      }
      expect((await swBytes(sw, "ow", "x.bin")).toString()).toBe("plain");
      expect(await swKeys("ow_segments")).toEqual([]);
    } finally {
      small.destroy();
    }
  });
});
