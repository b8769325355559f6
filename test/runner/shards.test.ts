// `run --shard K/N` against real servers (s3rver behind the counting fault proxy, the BUILT runner
// as child processes): N shard processes give the same end state as one process for copy, sync and
// bisync; every changed key is copied once; a failed shard makes no other shard delete anything;
// the map is written once and guarded (an unsharded run, or another N, is refused until `reshard`).
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeObjects, seed, snapshot, startFaultEnv, type FaultEnv, type Snapshot } from "../faults/support.js";
import { del, put, runRunner, type RunResult } from "./harness.js";
import { compareKeys } from "../../runner/decide/types.js";

let fx: FaultEnv;
const N = 3;
// Buckets on site a (sources) and b (targets): one pair for the single process, one for the shards.
beforeAll(async () => {
  fx = await startFaultEnv({
    a: ["cp-one", "cp-sh", "bi-a-one", "bi-a-sh", "fl-src", "co-src"],
    b: ["cp-one-t", "cp-sh-t", "bi-b-one", "bi-b-sh", "fl-t", "co-one-t", "co-sh-t"],
  });
}, 120_000);
afterAll(async () => fx?.stop());

/** Keys in UTF-8 order; a conflict copy's timestamp (the second its run made it) made comparable. */
const sorted = (m: Snapshot) =>
  Object.fromEntries([...m.entries()].map(([k, v]) => [k.replace(/\.conflict-\d{8}T\d{6}Z-/, ".conflict-<time>-"), v] as const).sort(([a], [b]) => compareKeys(a, b)));
/** Objects spread over 8 "directories", so that the first sharded run finds boundaries by discovery. */
const objects = (seedN: number) => [0, 1, 2, 3, 4, 5, 6, 7].flatMap((d) => makeObjects(25, `d${d}/`, seedN * 10 + d));

function config(stateDir: string, jobs: unknown[]): string {
  return fx.config({ endpoints: fx.endpoints(), state: { dir: stateDir }, transfers: 4, retries: 2, listConcurrency: 4, spoolDir: join(fx.env.dir, "spool"), jobs });
}

async function shards(cfg: string, job: string, n = N, extra: string[] = []): Promise<RunResult[]> {
  return Promise.all(Array.from({ length: n }, (_, k) => runRunner(["run", "--config", cfg, "--job", job, "--shard", `${k}/${n}`, "--json", ...extra], { timeoutMs: 120_000 })));
}

/** PUT requests per key on a bucket, from the proxy's log. */
function putsPerKey(site: "a" | "b", bucket: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of fx.proxies[site].log()) if ((r.kind === "PUT" || r.kind === "COPY") && r.bucket === bucket && r.status && r.status < 300) m.set(r.key, (m.get(r.key) ?? 0) + 1);
  return m;
}
const deletesOn = (site: "a" | "b", bucket: string) =>
  fx.proxies[site].log().filter((r) => (r.kind === "DELETE" || r.kind === "DELETE_MULTI") && r.bucket === bucket).length;

describe(`sync: ${N} shard processes against one process`, () => {
  const state = () => mkdtempSync(join(fx.env.dir, "state-"));
  let stOne: string;
  let stSh: string;
  let cfg: string;
  beforeAll(async () => {
    const objs = objects(1);
    await seed(fx.clients.a, "cp-one", objs);
    await seed(fx.clients.a, "cp-sh", objs);
    stOne = state();
    stSh = state();
    cfg = config(stSh, [
      { name: "one", mode: "sync", source: { endpoint: "a", bucket: "cp-one" }, targets: [{ endpoint: "b", bucket: "cp-one-t" }], maxDeletePercent: 100 },
      { name: "sharded", mode: "sync", source: { endpoint: "a", bucket: "cp-sh" }, targets: [{ endpoint: "b", bucket: "cp-sh-t" }], maxDeletePercent: 100 },
    ]);
  });

  it("first run: the same end state; each key PUT exactly once; the ranges cover the key space once", async () => {
    const one = await runRunner(["run", "--config", config(stOne, [{ name: "one", mode: "sync", source: { endpoint: "a", bucket: "cp-one" }, targets: [{ endpoint: "b", bucket: "cp-one-t" }] }]), "--json"]);
    expect(one.code, one.stderr).toBe(0);
    fx.proxies.b.reset();
    fx.proxies.a.reset();
    const rs = await shards(cfg, "sharded");
    for (const r of rs) expect(r.code, r.stderr + r.stdout.slice(-1500)).toBe(0);
    const sums = rs.map((r) => r.summaries[0]);
    expect(sums.map((s) => s.shard)).toEqual(["0/3", "1/3", "2/3"]);
    // consecutive (lo, hi] ranges: shard k ends where shard k+1 starts; the first and last are open
    expect(sums[0].range.lo).toBeUndefined();
    expect(sums[2].range.hi).toBeUndefined();
    expect(sums[0].range.hi).toBe(sums[1].range.lo);
    expect(sums[1].range.hi).toBe(sums[2].range.lo);
    expect(sums.reduce((n, s) => n + s.copied, 0)).toBe(200);
    // every key exactly once
    const puts = putsPerKey("b", "cp-sh-t");
    expect(puts.size).toBe(200);
    expect([...puts.values()].every((n) => n === 1)).toBe(true);
    expect(sorted(await snapshot(fx.clients.b, "cp-sh-t"))).toEqual(sorted(await snapshot(fx.clients.b, "cp-one-t")));
    // the map: written once, beside the states of the 3 shards
    const map = JSON.parse(readFileSync(join(stSh, "sharded.shards.json"), "utf8"));
    expect(map).toMatchObject({ version: 1, job: "sharded", count: 3, basis: "discovery" });
    for (let k = 0; k < 3; k++) expect(readFileSync(join(stSh, `sharded.shard-${k}-of-3.state.gz`)).length).toBeGreaterThan(0);
  }, 180_000);

  it("changes: modified, added and deleted keys; the same end state, each changed key copied once, deletes only in range", async () => {
    const changes = async (bucket: string) => {
      const ks = [...(await snapshot(fx.clients.a, bucket)).keys()].sort(compareKeys);
      await put(fx.clients.a, bucket, "d1/new-object.txt", "new");
      await put(fx.clients.a, bucket, "d6/another-new.txt", "new too");
      await put(fx.clients.a, bucket, ks[3], "modified 3");
      await put(fx.clients.a, bucket, ks[120], "modified 120");
      await del(fx.clients.a, bucket, ks[50]);
      await del(fx.clients.a, bucket, ks[190]);
    };
    await changes("cp-one");
    await changes("cp-sh");
    const one = await runRunner(["run", "--config", config(stOne, [{ name: "one", mode: "sync", source: { endpoint: "a", bucket: "cp-one" }, targets: [{ endpoint: "b", bucket: "cp-one-t" }] }]), "--json"]);
    expect(one.code, one.stderr).toBe(0);
    fx.proxies.b.reset();
    const rs = await shards(cfg, "sharded");
    for (const r of rs) expect(r.code, r.stderr).toBe(0);
    const sums = rs.map((r) => r.summaries[0]);
    expect(one.summaries[0]).toMatchObject({ copied: 4, deleted: 2 });
    expect(sums.reduce((n, s) => n + s.copied, 0)).toBe(4);
    expect(sums.reduce((n, s) => n + s.deleted, 0)).toBe(2);
    expect([...putsPerKey("b", "cp-sh-t").values()]).toEqual([1, 1, 1, 1]);
    expect(sorted(await snapshot(fx.clients.b, "cp-sh-t"))).toEqual(sorted(await snapshot(fx.clients.b, "cp-one-t")));
    expect(sorted(await snapshot(fx.clients.b, "cp-sh-t"))).toEqual(sorted(await snapshot(fx.clients.a, "cp-sh")));
  }, 180_000);

  it("check per shard and over the whole job: in sync", async () => {
    const all = await runRunner(["check", "--config", cfg, "--job", "sharded", "--json"]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.summaries[0].inSync).toBe(true);
    const per = await Promise.all([0, 1, 2].map((k) => runRunner(["check", "--config", cfg, "--job", "sharded", "--shard", `${k}/3`, "--json"])));
    const counted = per.map((r) => r.summaries[0].source.objects as number);
    expect(per.every((r) => r.code === 0)).toBe(true);
    expect(counted.reduce((a, b) => a + b, 0)).toBe(all.summaries[0].source.objects);
  }, 120_000);

  it("an unsharded run, or another N, is refused (exit 2, the fix named); reshard changes N explicitly and safely", async () => {
    const plain = await runRunner(["run", "--config", cfg, "--job", "sharded"]);
    expect(plain.code).toBe(2);
    expect(plain.stderr + plain.stdout).toMatch(/job sharded is split into 3 shards.*--shard K\/3.*reshard --config FILE --job sharded --shards 1/);
    const other = await runRunner(["run", "--config", cfg, "--job", "sharded", "--shard", "0/2"]);
    expect(other.code).toBe(2);
    expect(other.stderr + other.stdout).toMatch(/asks for --shard 0\/2; run every shard with N=3, or change the split with "bucket-replication reshard/);
    // reshard to 2: new map from the shards' samples, old states removed; the next runs converge
    // as first runs (copy what differs, delete nothing)
    const rs = await runRunner(["reshard", "--config", cfg, "--job", "sharded", "--shards", "2", "--json"]);
    expect(rs.code, rs.stderr).toBe(0);
    const ev = rs.lines.find((l) => l.type === "reshard") as Record<string, any>;
    expect(ev).toMatchObject({ job: "sharded", from: 3, to: 2 });
    expect(ev.boundaries).toHaveLength(1);
    await put(fx.clients.a, "cp-sh", "d0/after-reshard.txt", "x");
    fx.proxies.b.reset();
    const two = await shards(cfg, "sharded", 2);
    for (const r of two) expect(r.code, r.stderr).toBe(0);
    expect(two.reduce((n, r) => n + r.summaries[0].copied, 0)).toBe(1);
    expect(deletesOn("b", "cp-sh-t")).toBe(0);
    expect(sorted(await snapshot(fx.clients.b, "cp-sh-t"))).toEqual(sorted(await snapshot(fx.clients.a, "cp-sh")));
    // back to one job
    expect((await runRunner(["reshard", "--config", cfg, "--job", "sharded", "--shards", "1"])).code).toBe(0);
    const back = await runRunner(["run", "--config", cfg, "--job", "sharded", "--json"]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.summaries[0].copied).toBe(0);
  }, 180_000);
});

describe("copy: shard processes against one process", () => {
  it("first run and a re-run after changes (a delete on the source is not propagated): the same end state, each key PUT once", async () => {
    const objs = objects(4);
    await seed(fx.clients.a, "co-src", objs);
    const st1 = mkdtempSync(join(fx.env.dir, "cst-"));
    const st2 = mkdtempSync(join(fx.env.dir, "cst-"));
    const job = (name: string, t: string) => ({ name, mode: "copy", source: { endpoint: "a", bucket: "co-src" }, targets: [{ endpoint: "b", bucket: t }] });
    const cfgOne = config(st1, [job("co", "co-one-t")]);
    const cfgSh = config(st2, [job("co", "co-sh-t")]);
    for (const phase of ["first", "changes"]) {
      if (phase === "changes") {
        const ks = objs.map((o) => o.key).sort(compareKeys);
        await put(fx.clients.a, "co-src", ks[7], "changed");
        await put(fx.clients.a, "co-src", "d3/zz-new.txt", "new");
        await del(fx.clients.a, "co-src", ks[160]);
      }
      const one = await runRunner(["run", "--config", cfgOne, "--json"]);
      expect(one.code, one.stderr).toBe(0);
      fx.proxies.b.reset();
      const rs = await shards(cfgSh, "co");
      for (const r of rs) expect(r.code, r.stderr).toBe(0);
      expect(rs.reduce((n, r) => n + r.summaries[0].copied, 0)).toBe(one.summaries[0].copied);
      expect([...putsPerKey("b", "co-sh-t").values()].every((n) => n === 1)).toBe(true);
      expect(putsPerKey("b", "co-sh-t").size).toBe(phase === "first" ? 200 : 2);
      expect(deletesOn("b", "co-sh-t")).toBe(0);
      expect(sorted(await snapshot(fx.clients.b, "co-sh-t"))).toEqual(sorted(await snapshot(fx.clients.b, "co-one-t")));
    }
  }, 240_000);
});

describe("bisync: shard processes against one process", () => {
  it("first run, then edits on both sides (incl. a conflict and deletes): the same end state on both pairs", async () => {
    const objs = objects(2);
    for (const b of ["bi-a-one", "bi-a-sh"]) await seed(fx.clients.a, b, objs.slice(0, 150));
    for (const b of ["bi-b-one", "bi-b-sh"]) await seed(fx.clients.b, b, objs.slice(100));
    const st1 = mkdtempSync(join(fx.env.dir, "bst-"));
    const st2 = mkdtempSync(join(fx.env.dir, "bst-"));
    const job = (name: string, a: string, b: string) => ({ name, mode: "bisync", source: { endpoint: "a", bucket: a }, targets: [{ endpoint: "b", bucket: b }], maxDeletePercent: 100 });
    const cfgOne = config(st1, [job("bi", "bi-a-one", "bi-b-one")]);
    const cfgSh = config(st2, [job("bi", "bi-a-sh", "bi-b-sh")]);
    const round = async () => {
      const one = await runRunner(["run", "--config", cfgOne, "--json"]);
      expect(one.code, one.stderr).toBe(0);
      const rs = await shards(cfgSh, "bi");
      for (const r of rs) expect(r.code, r.stderr).toBe(0);
      expect(sorted(await snapshot(fx.clients.a, "bi-a-sh"))).toEqual(sorted(await snapshot(fx.clients.a, "bi-a-one")));
      expect(sorted(await snapshot(fx.clients.b, "bi-b-sh"))).toEqual(sorted(await snapshot(fx.clients.b, "bi-b-one")));
      expect(sorted(await snapshot(fx.clients.a, "bi-a-sh"))).toEqual(sorted(await snapshot(fx.clients.b, "bi-b-sh")));
      return rs.map((r) => r.summaries[0]);
    };
    const first = await round();
    expect(first.reduce((n, s) => n + s.deleted, 0)).toBe(0);
    const ks = objs.map((o) => o.key).sort(compareKeys);
    const edits = async (a: string, b: string) => {
      await put(fx.clients.a, a, ks[5], "edited on a");
      await del(fx.clients.b, b, ks[170]);
      await put(fx.clients.a, a, ks[120], "conflict a");
      await put(fx.clients.b, b, ks[120], "conflict b");
      await put(fx.clients.b, b, "d7/only-on-b.txt", "b");
    };
    await edits("bi-a-one", "bi-b-one");
    await edits("bi-a-sh", "bi-b-sh");
    fx.proxies.a.reset();
    fx.proxies.b.reset();
    const second = await round();
    // every changed key crossed once: the edit on a to b, the key only on b to a, the conflict's
    // winner and its conflict copy; no key was written twice by the shards
    const putsA = putsPerKey("a", "bi-a-sh");
    const putsB = putsPerKey("b", "bi-b-sh");
    expect([...putsA.values(), ...putsB.values()].every((n) => n === 1)).toBe(true);
    expect(putsB.get(ks[5])).toBe(1);
    expect(putsA.get("d7/only-on-b.txt")).toBe(1);
    expect(second.reduce((n, s) => n + s.deleted, 0)).toBe(1);
    expect(second.reduce((n, s) => n + s.conflicts, 0)).toBe(1);
  }, 240_000);
});

describe("a failed shard", () => {
  it("makes no other shard delete anything beyond its own range's deletes; it deletes nothing itself; the next run converges", async () => {
    const objs = objects(3);
    await seed(fx.clients.a, "fl-src", objs);
    const st = mkdtempSync(join(fx.env.dir, "fst-"));
    const cfg = config(st, [{ name: "fl", mode: "sync", source: { endpoint: "a", bucket: "fl-src" }, targets: [{ endpoint: "b", bucket: "fl-t" }], maxDeletePercent: 100 }]);
    for (const r of await shards(cfg, "fl")) expect(r.code, r.stderr).toBe(0);
    const map = JSON.parse(readFileSync(join(st, "fl.shards.json"), "utf8")) as { boundaries: string[] };
    const ks = objs.map((o) => o.key).sort(compareKeys);
    const shardOf = (k: string) => map.boundaries.filter((b) => compareKeys(b, k) < 0).length;
    // one delete per shard, and a new key in shard 1 whose PUT keeps failing
    const victims = [0, 1, 2].map((s) => ks.find((k) => shardOf(k) === s)!);
    for (const v of victims) await del(fx.clients.a, "fl-src", v);
    const bad = ks.filter((k) => shardOf(k) === 1)[10].replace(/\.bin$/, "-new.bin");
    await put(fx.clients.a, "fl-src", bad, "will fail");
    fx.proxies.b.setFaults([{ kinds: ["PUT"], key: bad, fault: { type: "status", status: 500 } }]);
    fx.proxies.b.reset();
    const rs = await shards(cfg, "fl");
    fx.proxies.b.setFaults([]);
    expect(rs.map((r) => r.code)).toEqual([0, 1, 0]);
    const deleted = fx.proxies.b.log().filter((r) => r.kind === "DELETE" || r.kind === "DELETE_MULTI");
    // shards 0 and 2 deleted their own victim; shard 1 deleted nothing
    const remaining = new Set((await snapshot(fx.clients.b, "fl-t")).keys());
    expect(remaining.has(victims[0])).toBe(false);
    expect(remaining.has(victims[2])).toBe(false);
    expect(remaining.has(victims[1])).toBe(true);
    expect(deleted.length).toBeGreaterThan(0);
    const again = await shards(cfg, "fl");
    for (const r of again) expect(r.code, r.stderr).toBe(0);
    expect(sorted(await snapshot(fx.clients.b, "fl-t"))).toEqual(sorted(await snapshot(fx.clients.a, "fl-src")));
  }, 240_000);

  it("--shard auto/N reads K from JOB_COMPLETION_INDEX; without it, exit 2 naming both variables", async () => {
    const st = mkdtempSync(join(fx.env.dir, "ast-"));
    const cfg = config(st, [{ name: "auto", mode: "copy", source: { endpoint: "a", bucket: "fl-src" }, targets: [{ endpoint: "b", bucket: "fl-t" }] }]);
    const r = await runRunner(["run", "--config", cfg, "--shard", "auto/2", "--json"], { env: { JOB_COMPLETION_INDEX: "1" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.summaries[0].shard).toBe("1/2");
    const bad = await runRunner(["run", "--config", cfg, "--shard", "auto/2"], { env: { JOB_COMPLETION_INDEX: "", AWS_BATCH_JOB_ARRAY_INDEX: "" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/neither JOB_COMPLETION_INDEX .* nor AWS_BATCH_JOB_ARRAY_INDEX/);
  }, 120_000);
});
