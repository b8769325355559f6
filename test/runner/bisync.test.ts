// bisync against two real s3rver processes: first run merge, every row of the table, conflicts,
// safety aborts, convergence.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contents, del, endpointsOf, keys, put, runRunner, sleep, startEnv, writeConfig, type Env } from "./harness.js";
import { join } from "node:path";

let env: Env;
beforeAll(async () => {
  env = await startEnv({ london: ["a1", "a2", "a3", "a4", "a5"], zurich: ["b1", "b2", "b3", "b4", "b5"] });
});
afterAll(async () => {
  await env?.stop();
});

function cfgFor(n: number, extra: Record<string, unknown> = {}) {
  return writeConfig(env, {
    endpoints: endpointsOf(env),
    state: { dir: join(env.dir, `state-${n}`) },
    transfers: 4,
    jobs: [{ name: `bi${n}`, mode: "bisync", source: { endpoint: "london", bucket: `a${n}`, prefix: "p/" }, targets: [{ endpoint: "zurich", bucket: `b${n}` }], ...extra }],
  });
}

async function run(cfg: string, ...flags: string[]) {
  const r = await runRunner(["run", "--config", cfg, "--json", ...flags]);
  return { ...r, s: r.summaries[0] };
}

describe("bisync", () => {
  it("first run merges both ways without deleting; different contents become conflicts; then every row of the table", async () => {
    const { london: A, zurich: B } = env.clients;
    const cfg = cfgFor(1);
    // Initial contents.
    for (const k of ["keep", "chgA", "chgB", "delA", "delB", "delA-chgB", "delBoth", "bothSame", "bothDiff"]) {
      await put(A, "a1", `p/${k}`, `orig-${k}`);
      await put(B, "b1", k, `orig-${k}`);
    }
    await put(A, "a1", "p/onlyA", "from A");
    await put(B, "b1", "onlyB", "from B");
    await put(A, "a1", "outside-prefix", "never touched");
    await put(A, "a1", "p/first-conflict", "A version");
    await sleep(1100);
    await put(B, "b1", "first-conflict", "B version (newer)");

    const r1 = await run(cfg);
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    expect(r1.s).toMatchObject({ copied: 2, conflicts: 1, deleted: 0, errors: 0, stateWritten: true });
    const a1 = await contents(A, "a1", "p/");
    const b1 = await contents(B, "b1");
    expect(Object.keys(a1).map((k) => k.slice(2)).sort()).toEqual(Object.keys(b1).sort());
    expect(b1["onlyA"]).toBe("from A");
    expect(a1["p/onlyB"]).toBe("from B");
    expect(b1["first-conflict"]).toBe("B version (newer)");
    expect(a1["p/first-conflict"]).toBe("B version (newer)");
    const ck = Object.keys(b1).filter((k) => k.startsWith("first-conflict.conflict-"));
    expect(ck).toHaveLength(1);
    expect(ck[0]).toMatch(/^first-conflict\.conflict-\d{8}T\d{6}Z-london$/);
    expect(b1[ck[0]]).toBe("A version");
    expect(a1[`p/${ck[0]}`]).toBe("A version");
    expect(await keys(A, "a1", "outside")).toEqual(["outside-prefix"]);

    // Second run right after: zero transfers, zero deletes, no GET/PUT.
    const r2 = await run(cfg);
    expect(r2.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0 });
    expect(r2.s.requests).toMatchObject({ GET: 0, PUT: 0, COPY: 0, DELETE: 0, HEAD: 0, LIST: 2 });

    // Every row of the table.
    await put(A, "a1", "p/chgA", "A changed"); // changed on A only → copied to B
    await put(B, "b1", "chgB", "B changed"); // changed on B only → copied to A
    await del(A, "a1", "p/delA"); // deleted on A, unchanged on B → deleted on B
    await del(B, "b1", "delB"); // deleted on B, unchanged on A → deleted on A
    await del(A, "a1", "p/delA-chgB"); // deleted on A, changed on B → B's version survives, copied back
    await put(B, "b1", "delA-chgB", "B changed, A deleted");
    await del(A, "a1", "p/delBoth"); // deleted on both → forgotten
    await del(B, "b1", "delBoth");
    await put(A, "a1", "p/bothSame", "same new content"); // changed on both, equal → nothing
    await put(B, "b1", "bothSame", "same new content");
    await put(A, "a1", "p/newA", "new on A"); // new on A → copied
    await put(B, "b1", "bothDiff", "B edit (older)"); // changed on both, different → conflict
    await sleep(1100);
    await put(A, "a1", "p/bothDiff", "A edit (newer)");

    const r3 = await run(cfg);
    expect(r3.code, r3.stdout + r3.stderr).toBe(0);
    expect(r3.s).toMatchObject({ copied: 4, deleted: 2, conflicts: 1, errors: 0 });
    const a3 = await contents(A, "a1", "p/");
    const b3 = await contents(B, "b1");
    const strip = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/^p\//, ""), v]));
    expect(strip(a3)).toEqual(b3);
    expect(b3["chgA"]).toBe("A changed");
    expect(a3["p/chgB"]).toBe("B changed");
    expect(b3["delA"]).toBeUndefined();
    expect(a3["p/delB"]).toBeUndefined();
    expect(a3["p/delA-chgB"]).toBe("B changed, A deleted");
    expect(b3["delBoth"]).toBeUndefined();
    expect(b3["bothSame"]).toBe("same new content");
    expect(b3["newA"]).toBe("new on A");
    expect(b3["bothDiff"]).toBe("A edit (newer)");
    const loser = Object.keys(b3).filter((k) => k.startsWith("bothDiff.conflict-"));
    expect(loser).toHaveLength(1);
    expect(loser[0]).toMatch(/-zurich$/);
    expect(b3[loser[0]]).toBe("B edit (older)");
    expect(b3["keep"]).toBe("orig-keep");

    const r4 = await run(cfg);
    expect(r4.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0 });
    expect(r4.s.requests).toMatchObject({ GET: 0, PUT: 0, COPY: 0, DELETE: 0 });
    const check = await runRunner(["check", "--config", cfg, "--json"]);
    expect(check.code).toBe(0);
    expect(check.summaries[0]).toMatchObject({ inSync: true, targets: [{ missing: 0, different: 0, extra: 0 }] });
  });

  it("keep-both renames both versions; --resync merges without deleting", async () => {
    const { london: A, zurich: B } = env.clients;
    const cfg = cfgFor(2, { conflict: "keep-both" });
    await put(A, "a2", "p/doc", "base");
    await put(B, "b2", "doc", "base");
    expect((await run(cfg)).code).toBe(0);
    await put(A, "a2", "p/doc", "left edit");
    await put(B, "b2", "doc", "right edit");
    const r = await run(cfg);
    expect(r.code, r.stdout).toBe(0);
    expect(r.s.conflicts).toBe(1);
    const b = await contents(B, "b2");
    expect(b["doc"]).toBeUndefined();
    const names = Object.keys(b).sort();
    expect(names).toHaveLength(2);
    expect(names.every((k) => k.startsWith("doc.conflict-"))).toBe(true);
    expect(Object.values(b).sort()).toEqual(["left edit", "right edit"]);
    expect(Object.keys(await contents(A, "a2", "p/")).sort()).toEqual(names.map((n) => `p/${n}`));

    // --resync: a key deleted on one side comes back instead of being deleted.
    await del(B, "b2", names[0]);
    const rs = await run(cfg, "--resync");
    expect(rs.s).toMatchObject({ copied: 1, deleted: 0 });
    expect(await keys(B, "b2")).toEqual(names);
  });

  it("safety: max-delete per side and an emptied side abort with exit 3 and change nothing; deletes:false restores", async () => {
    const { london: A, zurich: B } = env.clients;
    const cfg = cfgFor(3);
    for (let i = 0; i < 4; i++) {
      await put(A, "a3", `p/f${i}`, `v${i}`);
    }
    expect((await run(cfg)).s).toMatchObject({ copied: 4 });
    for (let i = 0; i < 3; i++) await del(A, "a3", `p/f${i}`);
    await put(A, "a3", "p/new", "n");
    const r = await run(cfg);
    expect(r.code).toBe(3);
    expect(r.s.aborted).toMatch(/3 of 4 objects .* on target/);
    expect(await keys(B, "b3")).toEqual(["f0", "f1", "f2", "f3"]);
    // Emptied side.
    await del(A, "a3", "p/f3");
    await del(A, "a3", "p/new");
    const e = await run(cfg);
    expect(e.code).toBe(3);
    expect(e.s.aborted).toMatch(/lists no objects but had 4/);
    expect(await keys(B, "b3")).toEqual(["f0", "f1", "f2", "f3"]);
    // With deletes off the deleted keys are restored from the other side.
    const cfgNoDel = cfgFor(3, { deletes: false });
    const nd = await run(cfgNoDel, "--force");
    expect(nd.code, nd.stdout).toBe(0);
    expect(nd.s).toMatchObject({ copied: 4, deleted: 0 });
    expect(await keys(A, "a3", "p/")).toEqual(["p/f0", "p/f1", "p/f2", "p/f3"]);
  });

  it("safety: max-delete guards the source side too (deletes made on the target), then --force propagates them", async () => {
    const { london: A, zurich: B } = env.clients;
    const cfg = cfgFor(5);
    for (let i = 0; i < 4; i++) await put(A, "a5", `p/g${i}`, `v${i}`);
    expect((await run(cfg)).s).toMatchObject({ copied: 4 });
    for (let i = 0; i < 3; i++) await del(B, "b5", `g${i}`);
    const r = await run(cfg);
    expect(r.code).toBe(3);
    expect(r.s.aborted).toMatch(/3 of 4 objects .* on source/);
    expect(await keys(A, "a5", "p/")).toEqual(["p/g0", "p/g1", "p/g2", "p/g3"]);
    expect(await keys(B, "b5")).toEqual(["g3"]);
    const f = await run(cfg, "--force");
    expect(f.code, f.stdout).toBe(0);
    expect(f.s).toMatchObject({ deleted: 3, copied: 0 });
    expect(await keys(A, "a5", "p/")).toEqual(["p/g3"]);
  });

  it("clock skew: a far-future LastModified can't lose content (loser kept under .conflict)", async () => {
    const { london: A, zurich: B } = env.clients;
    const cfg = cfgFor(4);
    await put(A, "a4", "p/skew", "A");
    await put(B, "b4", "skew", "B");
    const r = await run(cfg);
    expect(r.code).toBe(0);
    const all = [...Object.values(await contents(A, "a4", "p/")), ...Object.values(await contents(B, "b4"))];
    expect(all.filter((v) => v === "A").length).toBeGreaterThanOrEqual(1);
    expect(all.filter((v) => v === "B").length).toBeGreaterThanOrEqual(1);
    expect(Object.keys(await contents(B, "b4"))).toHaveLength(2);
  });
});
