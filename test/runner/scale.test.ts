// The scale path at a small N, in `npm test`: the BUILT runner's `check` (read-only) between two
// synthetic buckets of 50,000 keys each with listConcurrency 8 — the parallel range listing, the
// k-way merge and the spools, end to end — measured with GNU time (or /proc sampling): in sync,
// every LIST accounted for, peak RSS of the runner child bounded. Then the same check after a state
// that recorded a small listing: one stream per side, exactly ceil(N/1000) LISTs each.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMeasured } from "../../bench/lib/measure.js";
import { encodeState } from "../../runner/state/codec.js";
import { captureOutput } from "../support/leak-check.js";
import { startSyntheticS3, type SyntheticServer } from "../support/synthetic-s3.js";
import { RUNNER } from "./harness.js";

const N = 50_000;
const PAGES = Math.ceil(N / 1000);
const RSS_BOUND_MB = 200;

let synth: SyntheticServer;
let dir: string;
beforeAll(async () => {
  synth = await startSyntheticS3({ buckets: { s50a: { keys: N }, s50b: { keys: N } } });
  dir = mkdtempSync(join(tmpdir(), "scale-"));
});
afterAll(async () => {
  await synth?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function config(stateDir: string): string {
  const p = join(dir, `config-${Math.random().toString(36).slice(2, 8)}.json`);
  writeFileSync(
    p,
    JSON.stringify({
      endpoints: { synth: { endpoint: synth.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "AKIDSYNTH", secretAccessKey: "synthetic-secret" } } },
      state: { dir: stateDir },
      listConcurrency: 8,
      spoolDir: join(dir, "spool"),
      jobs: [{ name: "scale", mode: "sync", source: { endpoint: "synth", bucket: "s50a" }, targets: [{ endpoint: "synth", bucket: "s50b" }] }],
    }),
  );
  return p;
}

async function check(cfg: string) {
  await synth.resetCounts();
  const m = await runMeasured(process.execPath, [RUNNER, "check", "--config", cfg, "--json"], { timeoutMs: 60_000 });
  captureOutput("runner check (scale)", m.stdout, m.stderr);
  const lines = m.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, any>);
  return { m, lines, sum: lines.find((l) => l.type === "summary")!, server: await synth.counts() };
}

describe(`check over ${N.toLocaleString("en")} synthetic keys per side (built runner, listConcurrency 8)`, () => {
  it(`first check (no state: ranges grown while listing): in sync, every LIST counted, peak RSS under ${RSS_BOUND_MB} MB`, async () => {
    const { m, sum, server } = await check(config(join(dir, "state-a")));
    expect(m.code, m.stderr + m.stdout.slice(-2000)).toBe(0);
    expect(sum).toMatchObject({ inSync: true, exitCode: 0, errors: 0, source: { objects: N } });
    expect(sum.targets[0]).toMatchObject({ objects: N, missing: 0, different: 0, extra: 0 });
    // The runner's count (per attempt) and the server's agree, and nothing but LISTs was sent.
    expect(server).toEqual({ LIST: sum.requests.LIST, GET: 0, HEAD: 0, OTHER: 0 });
    expect(sum.requests.LIST).toBeGreaterThanOrEqual(2 * PAGES);
    // Growing costs discovery and split LISTs, but not more than one per 1,000-key page again.
    expect(sum.requests.LIST).toBeLessThanOrEqual(4 * PAGES);
    const peakMb = (m.maxRssKb * 1024) / 1e6;
    console.log(`[scale] first check: ${sum.requests.LIST} LISTs (one stream per side: ${2 * PAGES}), ${(m.wallMs / 1000).toFixed(1)} s, peak RSS ${peakMb.toFixed(0)} MB (${m.via})`);
    expect(m.maxRssKb).toBeGreaterThan(10_000); // the measurement is real
    expect(peakMb).toBeLessThan(RSS_BOUND_MB);
  });

  it(`after a state that recorded a small listing: one stream per side, exactly 2 × ceil(N/1000) = ${2 * PAGES} LISTs`, async () => {
    const stateDir = join(dir, "state-b");
    mkdirSync(stateDir, { recursive: true });
    // An earlier run saw 10,000 keys (below the range threshold) and kept no records for this target.
    writeFileSync(join(stateDir, "scale.state.gz"), encodeState({ meta: { job: "scale", mode: "sync", source: "synth/s50a/", written: "2026-01-01T00:00:00.000Z", keys: 10_000 }, sections: [] }));
    const { m, sum, server } = await check(config(stateDir));
    expect(m.code, m.stderr + m.stdout.slice(-2000)).toBe(0);
    expect(sum).toMatchObject({ inSync: true, errors: 0 });
    expect(sum.requests.LIST).toBe(2 * PAGES);
    expect(server.LIST).toBe(2 * PAGES);
    console.log(`[scale] check after a small state: ${server.LIST} LISTs, ${(m.wallMs / 1000).toFixed(1)} s, peak RSS ${((m.maxRssKb * 1024) / 1e6).toFixed(0)} MB`);
  });
});
