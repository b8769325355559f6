// Failed transfers and transient faults, in `npm test` (the fault suite proper runs separately):
// real s3rver processes behind the counting, fault-injecting proxy (test/support/proxy.ts), the
// BUILT runner as a child process.
//
// - A key whose every GET (or PUT) fails during a bisync with deletes pending: exit 1, the other keys
//   replicate, the summary names the key, NO delete reaches either server, the state file is left
//   byte for byte, and once the fault clears the next run converges (the key replicates, the
//   withheld deletes go through). This is the Sclone data-loss bug, guarded end to end.
// - Transient resets and SlowDown throttling: retried with backoff; the run succeeds.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listKeys, run, snapshot, startFaultEnv, type FaultEnv } from "../faults/support.js";
import { del, get, put } from "./harness.js";

let fx: FaultEnv;
beforeAll(async () => {
  fx = await startFaultEnv({ a: ["get-a", "put-a", "tr-a"], b: ["get-b", "put-b", "tr-b"] });
});
afterAll(async () => fx?.stop());

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

const DELETES = ["DELETE", "DELETE_MULTI"] as const;
const deletesSeen = () => Object.values(fx.proxies).reduce((n, p) => n + DELETES.reduce((m, k) => m + p.counts()[k], 0), 0);

describe("a key that keeps failing during a bisync with deletes pending", () => {
  for (const [kind, faultSide, ba, bb] of [
    ["GET", "a", "get-a", "get-b"],
    ["PUT", "b", "put-a", "put-b"],
  ] as const) {
    it(`every ${kind} of one key fails with 500: exit 1, others replicate, no delete anywhere, state untouched; then it converges`, async () => {
      const { a: A, b: B } = fx.clients;
      const stateDir = join(fx.env.dir, `state-${kind}`);
      const cfg = fx.config({
        endpoints: fx.endpoints(),
        state: { dir: stateDir },
        transfers: 4,
        retries: 2,
        jobs: [{ name: `fail-${kind}`, mode: "bisync", source: { endpoint: "a", bucket: ba }, targets: [{ endpoint: "b", bucket: bb }], deletes: true }],
      });
      // A baseline both sides agree on, recorded in the state by a clean run.
      for (let i = 0; i < 10; i++) {
        await put(A, ba, `base/${i}`, `base ${i}`);
        await put(B, bb, `base/${i}`, `base ${i}`);
      }
      const first = await run(cfg);
      expect(first.code, first.stdout + first.stderr).toBe(0);
      const statePath = join(stateDir, `fail-${kind}.state.gz`);
      const stateBefore = readFileSync(statePath);

      // Pending deletes on both sides, new keys on both sides, and the key that will fail (new on A).
      await del(A, ba, "base/0"); // → delete base/0 on B
      await del(B, bb, "base/1"); // → delete base/1 on A
      const fresh: Record<string, Buffer> = {};
      for (let i = 0; i < 5; i++) fresh[`new/a${i}`] = randomBytes(1000 + i);
      for (const [k, v] of Object.entries(fresh)) await put(A, ba, k, v);
      const fromB = randomBytes(2048);
      await put(B, bb, "new/b0", fromB);
      const bad = randomBytes(4096);
      await put(A, ba, "new/bad", bad);

      const p = fx.proxies[faultSide];
      for (const x of Object.values(fx.proxies)) x.reset();
      p.setFaults([{ kinds: kind, key: /^new\/bad$/, always: true, fault: { type: "status", status: 500 } }]);
      const r = await run(cfg);
      p.setFaults([]);

      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(p.faultCounts().status, "the fault fired, and was retried").toBeGreaterThan(1);
      // The other keys replicated, bytes identical.
      for (const [k, v] of Object.entries(fresh)) expect(sha((await get(B, bb, k)).body), k).toBe(sha(v));
      expect(sha((await get(A, ba, "new/b0")).body)).toBe(sha(fromB));
      expect(await listKeys(B, bb, "new/bad")).toEqual([]);
      // The summary names the failure and counts the withheld deletes.
      expect(r.s).toMatchObject({ ok: false, exitCode: 1, copied: 6, deleted: 0, skipped: 2, stateWritten: false });
      expect(r.s!.errors).toBeGreaterThan(0);
      expect(r.s!.failures.map((f: { key: string }) => f.key)).toEqual(["new/bad"]);
      expect(r.lines.some((l) => l.type === "error" && l.key === "new/bad")).toBe(true);
      // No DELETE of any kind reached either server, and the pending deletes are still pending.
      expect(deletesSeen(), "DELETE requests seen by the proxies").toBe(0);
      expect(await listKeys(A, ba, "base/1")).toEqual(["base/1"]);
      expect(await listKeys(B, bb, "base/0")).toEqual(["base/0"]);
      // The state file is byte for byte the one of the last successful run; no lock left behind
      // (an ETag pair journal of the completed copies may be saved next to it).
      expect(readFileSync(statePath).equals(stateBefore)).toBe(true);
      expect(readdirSync(stateDir).filter((f) => f !== `fail-${kind}.pairs.gz`)).toEqual([`fail-${kind}.state.gz`]);

      // The fault clears: the next run replicates the key and performs the withheld deletes.
      for (const x of Object.values(fx.proxies)) x.reset();
      const r2 = await run(cfg);
      expect(r2.code, r2.stdout + r2.stderr).toBe(0);
      expect(r2.s).toMatchObject({ ok: true, copied: 1, deleted: 2, skipped: 0, errors: 0, stateWritten: true });
      expect(deletesSeen()).toBeGreaterThan(0);
      expect(sha((await get(B, bb, "new/bad")).body)).toBe(sha(bad));
      expect(readFileSync(statePath).equals(stateBefore)).toBe(false);
      const [sa, sb] = await Promise.all([snapshot(A, ba), snapshot(B, bb)]);
      expect([...sa.keys()].sort()).toEqual([...sb.keys()].sort());
      expect([...sb.keys()]).not.toContain("base/0");
      expect([...sa.keys()]).not.toContain("base/1");
      expect(Object.fromEntries(sa)).toEqual(Object.fromEntries(sb));
      const r3 = await run(cfg);
      expect(r3.s).toMatchObject({ copied: 0, deleted: 0, errors: 0 });
    });
  }
});

describe("transient faults", () => {
  it("connection resets and SlowDown throttling are retried with backoff; the run succeeds", async () => {
    const { a: A, b: B } = fx.clients;
    const objs: Record<string, Buffer> = {};
    for (let i = 0; i < 8; i++) objs[`t/${i}`] = randomBytes(3000 + i);
    for (const [k, v] of Object.entries(objs)) await put(A, "tr-a", k, v);
    const cfg = fx.config({
      endpoints: fx.endpoints(),
      state: { dir: join(fx.env.dir, "state-transient") },
      transfers: 4,
      jobs: [{ name: "transient", mode: "copy", source: { endpoint: "a", bucket: "tr-a" }, targets: [{ endpoint: "b", bucket: "tr-b" }] }],
    });
    for (const x of Object.values(fx.proxies)) x.reset();
    // GETs on A: the first 2 are reset, the next 2 get SlowDown; PUTs on B: one SlowDown, one reset.
    // A streamed PUT is not retried by the SDK, so each PUT fault costs a runner attempt, and four
    // GET faults cost at most one (the SDK makes 3 attempts per GET): no key can exhaust its default
    // 4 attempts, so anything but exit 0 is a retry bug.
    fx.proxies.a.setFaults([
      { kinds: "GET", first: 2, fault: { type: "reset" } },
      { kinds: "GET", first: 2, fault: { type: "slowdown" } },
    ]);
    fx.proxies.b.setFaults([
      { kinds: "PUT", first: 1, fault: { type: "slowdown" } },
      { kinds: "PUT", first: 1, fault: { type: "reset" } },
    ]);
    const r = await run(cfg);
    fx.proxies.a.setFaults([]);
    fx.proxies.b.setFaults([]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.s).toMatchObject({ ok: true, copied: 8, errors: 0 });
    expect(fx.proxies.a.faultCounts()).toMatchObject({ reset: 2, slowdown: 2 });
    expect(fx.proxies.b.faultCounts()).toMatchObject({ reset: 1, slowdown: 1 });
    // Every faulted request was retried: 8 objects took at least 8 + 4 GETs and 8 + 2 PUTs, and
    // some key was requested more than once.
    const getsA = fx.proxies.a.log().filter((l) => l.kind === "GET");
    const putsB = fx.proxies.b.log().filter((l) => l.kind === "PUT");
    expect(getsA.length).toBeGreaterThanOrEqual(12);
    expect(putsB.length).toBe(10);
    const perKey = new Map<string, number>();
    for (const l of getsA) perKey.set(l.key, (perKey.get(l.key) ?? 0) + 1);
    expect(Math.max(...perKey.values())).toBeGreaterThan(1);
    // The summary counts every attempt, retries included, as the proxies saw them.
    expect(r.s!.requests.GET).toBe(getsA.length);
    expect(r.s!.requests.PUT).toBe(putsB.length);
    // Bytes identical.
    for (const [k, v] of Object.entries(objs)) expect(sha((await get(B, "tr-b", k)).body), k).toBe(sha(v));
    expect(existsSync(join(fx.env.dir, "state-transient", "transient.state.gz"))).toBe(true);
  });
});
