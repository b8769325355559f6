// Sharding at a size where listing dominates: 200,000 synthetic keys per side (two test-only
// endpoints, so the source's LISTs are counted apart), a copy job whose target already holds every
// key. One process against 4 shard processes started together (--shard K/4), first run (no state:
// the map is found by prefix discovery) and re-run (each shard lists its range in parallel from its
// own state's boundaries): every shard lists only its range, and the source LISTs of all shards
// together stay within 1.25x of one process's.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSyntheticS3, type SyntheticServer } from "../support/synthetic-s3.js";
import { runRunner } from "./harness.js";

const N = 200_000;
const SHARDS = 4;
let src: SyntheticServer;
let tgt: SyntheticServer;
let dir: string;
beforeAll(async () => {
  src = await startSyntheticS3({ buckets: { a: { keys: N } } });
  tgt = await startSyntheticS3({ buckets: { b: { keys: N } } });
  dir = mkdtempSync(join(tmpdir(), "shards-scale-"));
});
afterAll(async () => {
  await src?.stop();
  await tgt?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function config(name: string): string {
  const ep = (e: string) => ({ endpoint: e, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "AKIDSYNTH", secretAccessKey: "synthetic-secret" } });
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify({
    endpoints: { src: ep(src.endpoint), tgt: ep(tgt.endpoint) },
    state: { dir: join(dir, `state-${name}`) },
    spoolDir: join(dir, "spool"),
    listConcurrency: 4,
    jobs: [{ name: "big", mode: "copy", source: { endpoint: "src", bucket: "a" }, targets: [{ endpoint: "tgt", bucket: "b" }] }],
  }));
  return p;
}

async function pass(cfg: string, shards: number) {
  await src.resetCounts();
  const rs = await Promise.all(Array.from({ length: shards }, (_, k) => runRunner(["run", "--config", cfg, "--json", ...(shards > 1 ? ["--shard", `${k}/${shards}`] : [])], { timeoutMs: 300_000 })));
  for (const r of rs) expect(r.code, r.stderr + r.stdout.slice(-1000)).toBe(0);
  const sums = rs.map((r) => r.summaries[0]);
  return { sums, lists: (await src.counts()).LIST, unchanged: sums.reduce((n, s) => n + s.unchanged, 0), copied: sums.reduce((n, s) => n + s.copied, 0) };
}

describe(`${N.toLocaleString("en")} keys per side: one process against ${SHARDS} shard processes`, () => {
  let one: string;
  let sh: string;
  beforeAll(() => {
    one = config("one");
    sh = config("sharded");
  });

  it("first run: every key seen once across the shards, nothing copied; source LISTs within 1.25x", async () => {
    const a = await pass(one, 1);
    const b = await pass(sh, SHARDS);
    expect(a.unchanged).toBe(N);
    expect(b.unchanged).toBe(N);
    expect(b.copied).toBe(0);
    // each shard saw a part, and together exactly the whole: the ranges are disjoint and complete
    expect(b.sums.every((s) => s.unchanged > 0 && s.unchanged < N)).toBe(true);
    console.log(`first run: source LISTs ${SHARDS} shards ${b.lists}, one process ${a.lists} (${(b.lists / a.lists).toFixed(3)}x)`);
    expect(b.lists / a.lists, `source LISTs: ${SHARDS} shards ${b.lists}, one process ${a.lists}`).toBeLessThanOrEqual(1.25);
  }, 600_000);

  it("re-run from the states: the same, each shard listing its range in parallel", async () => {
    const a = await pass(one, 1);
    const b = await pass(sh, SHARDS);
    expect(a.unchanged).toBe(N);
    expect(b.unchanged).toBe(N);
    console.log(`re-run: source LISTs ${SHARDS} shards ${b.lists}, one process ${a.lists} (${(b.lists / a.lists).toFixed(3)}x)`);
    expect(b.lists / a.lists, `source LISTs: ${SHARDS} shards ${b.lists}, one process ${a.lists}`).toBeLessThanOrEqual(1.25);
    // at least ceil(N/1000) pages: nobody skipped part of the key space
    expect(b.lists).toBeGreaterThanOrEqual(Math.ceil(N / 1000));
  }, 600_000);
});
