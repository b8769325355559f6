// CLI behaviour of the BUILT runner against real s3rver processes behind counting proxies:
// `--job` selection, bisync `--dry-run` (nothing written anywhere), the summary's `skipped` and
// `seconds` fields (JSON and human), and endpoints without credentials (the SDK's default chain).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MUTATING, requestsOf, startFaultEnv, type FaultEnv } from "../faults/support.js";
import { contents, del, get, keys, put, runRunner } from "./harness.js";

let fx: FaultEnv;
beforeAll(async () => {
  fx = await startFaultEnv({ a: ["j1", "j2", "dry-a", "sk-a", "chain-a"], b: ["j1", "j2", "dry-b", "sk-b", "chain-b"] });
});
afterAll(async () => fx?.stop());

const resetProxies = () => Object.values(fx.proxies).forEach((p) => p.reset());
const mutations = () => Object.values(fx.proxies).flatMap((p) => requestsOf(p, MUTATING));

describe("--job", () => {
  it("runs only the named job: the other job's target stays empty and its bucket is never contacted", async () => {
    const { a: A, b: B } = fx.clients;
    await put(A, "j1", "one/x", "job one x");
    await put(A, "j1", "one/y", "job one y");
    await put(A, "j2", "two/z", "job two z");
    const stateDir = join(fx.env.dir, "state-jobs");
    const job = (name: string, bucket: string) => ({ name, mode: "copy", source: { endpoint: "a", bucket }, targets: [{ endpoint: "b", bucket }] });
    const cfg = fx.config({ endpoints: fx.endpoints(), state: { dir: stateDir }, jobs: [job("one", "j1"), job("two", "j2")] });

    resetProxies();
    const r = await runRunner(["run", "--config", cfg, "--job", "one", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summaries.map((s) => s.job)).toEqual(["one"]);
    expect(r.summaries[0]).toMatchObject({ copied: 2, errors: 0 });
    expect(await contents(B, "j1")).toEqual({ "one/x": "job one x", "one/y": "job one y" });
    expect(await keys(B, "j2")).toEqual([]);
    expect(Object.values(fx.proxies).flatMap((p) => p.log()).filter((l) => l.bucket === "j2")).toEqual([]);
    expect(readdirSync(stateDir)).toEqual(["one.state.gz"]);

    // Repeated --job runs those jobs, in the order given.
    const both = await runRunner(["run", "--config", cfg, "--job", "two", "--job", "one", "--json"]);
    expect(both.code).toBe(0);
    expect(both.summaries.map((s) => [s.job, s.copied])).toEqual([
      ["two", 1],
      ["one", 0],
    ]);
    expect((await get(B, "j2", "two/z")).text).toBe("job two z");
  });
});

describe("bisync --dry-run", () => {
  it("prints the plan and writes nothing on either side: no object, no state, no lock", async () => {
    const { a: A, b: B } = fx.clients;
    for (const k of ["same", "keep1", "keep2", "keep3"]) {
      await put(A, "dry-a", k, `equal ${k}`);
      await put(B, "dry-b", k, `equal ${k}`);
    }
    await put(A, "dry-a", "only-a", "from A");
    await put(B, "dry-b", "only-b", "from B");
    await put(A, "dry-a", "diff", "A's version");
    await put(B, "dry-b", "diff", "B's version");
    const stateDir = join(fx.env.dir, "state-dry");
    const cfg = fx.config({
      endpoints: fx.endpoints(),
      state: { dir: stateDir },
      jobs: [{ name: "dry", mode: "bisync", source: { endpoint: "a", bucket: "dry-a" }, targets: [{ endpoint: "b", bucket: "dry-b" }] }],
    });
    const before = { a: await contents(A, "dry-a"), b: await contents(B, "dry-b") };

    // First run (no state yet): the merge plan.
    resetProxies();
    const r = await runRunner(["run", "--config", cfg, "--json", "--dry-run"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const of = (t: string) => r.lines.filter((l) => l.type === t).map((l) => l.key).sort();
    expect(of("would-copy")).toEqual(["only-a", "only-b"]);
    expect(of("would-resolve-conflict")).toEqual(["diff"]);
    expect(of("would-delete")).toEqual([]);
    expect(r.lines.find((l) => l.type === "plan")).toMatchObject({ dryRun: true, firstRun: true, copies: 2, conflicts: 1, deletes: 0 });
    expect(r.summaries[0]).toMatchObject({ dryRun: true, ok: true, copied: 2, conflicts: 1, deleted: 0, stateWritten: false });
    expect(mutations()).toEqual([]);
    expect({ a: await contents(A, "dry-a"), b: await contents(B, "dry-b") }).toEqual(before);
    expect(existsSync(stateDir)).toBe(false);

    // With state and pending deletes: still nothing written, and the state file is left as it was.
    const real = await runRunner(["run", "--config", cfg, "--json"]);
    expect(real.code, real.stdout + real.stderr).toBe(0);
    const statePath = join(stateDir, "dry.state.gz");
    const state = readFileSync(statePath);
    await del(A, "dry-a", "keep1");
    await put(B, "dry-b", "keep2", "changed on B");
    const mid = { a: await contents(A, "dry-a"), b: await contents(B, "dry-b") };
    resetProxies();
    const r2 = await runRunner(["run", "--config", cfg, "--json", "--dry-run"]);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(r2.lines.filter((l) => l.type === "would-delete").map((l) => [l.key, l.side])).toEqual([["keep1", "b/dry-b/"]]);
    expect(r2.lines.filter((l) => l.type === "would-copy").map((l) => [l.key, l.to])).toEqual([["keep2", "a/dry-a/"]]);
    expect(r2.summaries[0]).toMatchObject({ dryRun: true, copied: 1, deleted: 1, stateWritten: false });
    expect(mutations()).toEqual([]);
    expect({ a: await contents(A, "dry-a"), b: await contents(B, "dry-b") }).toEqual(mid);
    expect(readFileSync(statePath).equals(state)).toBe(true);
    expect(readdirSync(stateDir)).toEqual(["dry.state.gz"]);
  });
});

describe("summary fields", () => {
  it("`skipped` counts the deletes withheld after a failed transfer, `seconds` the job's duration (JSON and human)", async () => {
    const { a: A, b: B } = fx.clients;
    for (const k of ["k1", "k2", "k3", "k4"]) {
      await put(A, "sk-a", k, `v ${k}`);
      await put(B, "sk-b", k, `v ${k}`);
    }
    await put(A, "sk-a", "fails", "never arrives");
    await put(B, "sk-b", "stale1", "to delete");
    await put(B, "sk-b", "stale2", "to delete");
    const cfg = fx.config({
      endpoints: fx.endpoints(),
      state: { dir: join(fx.env.dir, "state-sk") },
      retries: 1,
      jobs: [{ name: "sk", mode: "sync", source: { endpoint: "a", bucket: "sk-a" }, targets: [{ endpoint: "b", bucket: "sk-b" }] }],
    });
    fx.proxies.a.setFaults([{ kinds: "GET", key: /^fails$/, always: true, fault: { type: "status", status: 500 } }]);
    try {
      for (const json of [true, false]) {
        const t0 = Date.now();
        const r = await runRunner(["run", "--config", cfg, ...(json ? ["--json"] : [])]);
        const wall = (Date.now() - t0) / 1000;
        expect(r.code, r.stdout + r.stderr).toBe(1);
        if (json) {
          const s = r.summaries[0];
          expect(s).toMatchObject({ ok: false, copied: 0, deleted: 0, skipped: 2, unchanged: 4, errors: 1 });
          expect(typeof s.seconds).toBe("number");
          expect(s.seconds).toBeGreaterThan(0);
          expect(s.seconds).toBeLessThanOrEqual(wall);
        } else {
          const m = /^sk \(sync\): FAILED: copied 0 \(0 B\), deleted 0, conflicts 0, unchanged 4, skipped 2, errors 1 in ([\d.]+)s; requests: /m.exec(r.stdout);
          expect(m, r.stdout).not.toBeNull();
          expect(Number(m![1])).toBeGreaterThan(0);
          expect(Number(m![1])).toBeLessThanOrEqual(wall + 0.05);
          expect(r.stderr).toMatch(/warning: job sk: 2 deletes skipped because transfers failed/);
        }
        expect(await keys(B, "sk-b")).toEqual(["k1", "k2", "k3", "k4", "stale1", "stale2"]);
      }
    } finally {
      fx.proxies.a.setFaults([]);
    }
    const ok = await runRunner(["run", "--config", cfg, "--json"]);
    expect(ok.code).toBe(0);
    expect(ok.summaries[0]).toMatchObject({ copied: 1, deleted: 2, skipped: 0, errors: 0 });
    expect(await keys(B, "sk-b")).toEqual(["fails", "k1", "k2", "k3", "k4"]);
  });
});

describe("credentials absent", () => {
  it("uses the SDK's default chain (here the standard AWS_* variables; on a VM the instance role)", async () => {
    const { a: A, b: B } = fx.clients;
    await put(A, "chain-a", "k", "via the default chain");
    // No `credentials` on either endpoint: the runner must not invent any, and the SDK finds the
    // environment's keys. s3rver accepts only the key id S3RVER, so a wrong or missing key fails.
    const endpoints = fx.endpoints();
    for (const ep of Object.values(endpoints) as Record<string, unknown>[]) delete ep.credentials;
    const job = { name: "chain", mode: "copy", source: { endpoint: "a", bucket: "chain-a" }, targets: [{ endpoint: "b", bucket: "chain-b" }] };
    const cfg = fx.config({ endpoints, state: { dir: join(fx.env.dir, "state-chain") }, jobs: [job] });
    const env = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_CONFIG_FILE: "/nonexistent", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent" };

    const denied = await runRunner(["run", "--config", cfg, "--json"], { env: { ...env, AWS_ACCESS_KEY_ID: "NOT-S3RVER" } });
    expect(denied.code, denied.stdout + denied.stderr).toBe(1);
    expect(await keys(B, "chain-b")).toEqual([]);

    const r = await runRunner(["run", "--config", cfg, "--json"], { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summaries[0]).toMatchObject({ copied: 1, errors: 0 });
    expect((await get(B, "chain-b", "k")).text).toBe("via the default chain");
  });
});
