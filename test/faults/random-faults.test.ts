// Scenario 1: about 10% random faults of every kind (500, 503, SlowDown, resets before and after the
// server acted, stalls past the client timeout, truncated GET/LIST bodies) on BOTH endpoints during
// an initial replication of 500 objects, in copy, sync and bisync. The run either completes through
// retries or fails; then clean runs converge. Verdict: nothing lost, nothing corrupted, converged.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedOf, makeObjects, run, seed, snapshot, startFaultEnv, verdict, type FaultEnv, type FaultRule, type Obj } from "./support.js";

/** ≈ 10% of requests get a fault, every kind represented. */
const RANDOM_FAULTS: FaultRule[] = [
  { probability: 0.02, fault: { type: "status", status: 500 } },
  { probability: 0.015, fault: { type: "status", status: 503 } },
  { probability: 0.015, fault: { type: "slowdown" } },
  { probability: 0.015, fault: { type: "reset" } },
  { kinds: ["PUT", "DELETE_MULTI"], probability: 0.01, fault: { type: "reset", when: "response" } },
  { kinds: ["PUT"], probability: 0.01, fault: { type: "status", status: 500, forward: true } },
  { kinds: ["GET", "LIST"], probability: 0.02, fault: { type: "truncate" } },
  { probability: 0.004, fault: { type: "stall" } },
];

let fx: FaultEnv;
beforeAll(async () => {
  fx = await startFaultEnv({ a: ["c-src", "s-src", "bi-a"], b: ["c-dst", "s-dst", "bi-b"] }, 8);
});
afterAll(async () => fx?.stop());

function jobConfig(name: string, mode: string, src: string, dst: string) {
  return {
    endpoints: fx.endpoints(),
    state: { dir: `${fx.env.dir}/state-${name}` },
    transfers: 16,
    requestTimeoutSeconds: 3,
    jobs: [{ name, mode, source: { endpoint: "a", bucket: src }, targets: [{ endpoint: "b", bucket: dst }] }],
  };
}

interface Outcome {
  faulted: { code: number | null; copied: number; errors: number; faults: Record<string, number> };
  cleanRuns: number;
}

/** Run with faults on both proxies, then clean runs until exit 0, then one more that must be a no-op. */
async function faultedThenClean(cfg: string, seedNo: number): Promise<Outcome> {
  for (const p of Object.values(fx.proxies)) {
    p.reset();
    p.setFaults(RANDOM_FAULTS, seedNo);
  }
  const f = await run(cfg);
  const faults: Record<string, number> = {};
  for (const p of Object.values(fx.proxies)) for (const [k, v] of Object.entries(p.faultCounts())) faults[k] = (faults[k] ?? 0) + v;
  expect([0, 1]).toContain(f.code); // never a crash (2) or a safety abort (3) from faults
  for (const p of Object.values(fx.proxies)) p.setFaults([]);
  let cleanRuns = 0;
  let code = f.code;
  while (code !== 0 && cleanRuns < 3) {
    code = (await run(cfg)).code;
    cleanRuns++;
  }
  expect(code).toBe(0);
  const again = await run(cfg);
  expect(again.code).toBe(0);
  expect(again.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0, errors: 0 });
  expect(again.s!.requests).toMatchObject({ GET: 0, PUT: 0, COPY: 0, DELETE: 0 });
  const outcome = { faulted: { code: f.code, copied: f.s?.copied ?? 0, errors: f.s?.errors ?? 0, faults }, cleanRuns };
  console.log(`[scenario 1] ${JSON.stringify(outcome)}`);
  // The dice must actually have rolled faults of every kind.
  for (const k of ["status", "slowdown", "reset", "truncate"]) expect(faults[k], `fault ${k} injected`).toBeGreaterThan(0);
  return outcome;
}

describe("scenario 1: 10% random faults during an initial replication of 500 objects", () => {
  it("copy: completes or converges on the next clean run; target-only objects untouched", async () => {
    const src = makeObjects(500, "data/", 101);
    const mine = makeObjects(10, "target-only/", 102);
    await Promise.all([seed(fx.clients.a, "c-src", src), seed(fx.clients.b, "c-dst", mine)]);
    await faultedThenClean(fx.config(jobConfig("copy", "copy", "c-src", "c-dst")), 11);
    const [a, b] = await Promise.all([snapshot(fx.clients.a, "c-src"), snapshot(fx.clients.b, "c-dst")]);
    verdict([a], expectedOf(src));
    verdict([b], expectedOf([...src, ...mine]));
  });

  it("sync: completes or converges; the stale target objects are deleted only once every copy succeeded", async () => {
    const src = makeObjects(500, "data/", 201);
    const stale = makeObjects(40, "stale/", 202);
    // The target already has 100 of the source's objects, so 40 deletes of 140 stay under max-delete 50%.
    await Promise.all([seed(fx.clients.a, "s-src", src), seed(fx.clients.b, "s-dst", [...stale, ...src.slice(0, 100)])]);
    await faultedThenClean(fx.config(jobConfig("sync", "sync", "s-src", "s-dst")), 12);
    const [a, b] = await Promise.all([snapshot(fx.clients.a, "s-src"), snapshot(fx.clients.b, "s-dst")]);
    expect(verdict([a, b], expectedOf(src))).toBe("nothing lost, nothing corrupted, converged");
  });

  it("bisync: completes or converges; both sides hold the union, nothing deleted", async () => {
    const onA = makeObjects(250, "from-a/", 301);
    const onB = makeObjects(200, "from-b/", 302);
    const both: Obj[] = makeObjects(50, "both/", 303);
    await Promise.all([seed(fx.clients.a, "bi-a", [...onA, ...both]), seed(fx.clients.b, "bi-b", [...onB, ...both])]);
    await faultedThenClean(fx.config(jobConfig("bisync", "bisync", "bi-a", "bi-b")), 13);
    const [a, b] = await Promise.all([snapshot(fx.clients.a, "bi-a"), snapshot(fx.clients.b, "bi-b")]);
    expect(verdict([a, b], expectedOf([...onA, ...onB, ...both]))).toBe("nothing lost, nothing corrupted, converged");
  });
});
