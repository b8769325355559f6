// Scale rows of `npm run bench` (issue 12): listings of N synthetic keys per side served from a
// formula by the test-only endpoint test/support/synthetic-s3.ts (its own process, so its CPU and
// memory are not the runner's), so millions of keys need no storage.
//
//   scale-bisync-first / -noop: a bisync job between two buckets with the same N keys: the first
//     run (no state: every key compared, state written) and the no-op re-run (listings + state).
//   scale-copy-noop: a copy job's re-run, side by side with rclone copy --checksum (LIST only).
//   list-latency: 50 ms per LIST (a bucket in another region): a copy job's first run and re-run
//     with listConcurrency 32 (the default) and 1, against one stream's floor (pages × 50 ms); with
//     32, a second re-run served from the server's page cache (its CPU is then not the runner's
//     competitor).
//   scale-sharded: the same copy job (first run and no-op, 20 ms per LIST) as one process and as
//     4 shard processes started together (--shard K/4): wall time of the slowest shard, LISTs of
//     all shards together, peak RSS of the largest shard. On this 2-core machine the shards share
//     the CPU; on N machines each has its own.
// The runner runs as deployed: node with the heap flag the runner units set (RUNNER_NODE_FLAGS).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RUNNER_NODE_OPTIONS } from "../components/deploy/memory.js";
import { KINDS, type Kind } from "../test/support/proxy.js";
import { spawnSyntheticS3, type SyntheticOptions } from "../test/support/synthetic-s3.js";
import { runMeasured, type Measured } from "./lib/measure.js";
import type { Row } from "./lib/report.js";

export interface ScaleSizes {
  /** Keys per side for the bisync rows. */
  bisync: number[];
  /** Keys per side for the copy no-op rows (with rclone). */
  copy: number[];
  /** Keys for the latency rows. */
  latencyKeys: number;
  latencyMs: number;
  /** Keys per side for the sharded rows (4 shards). */
  sharded: number[];
}

export const SCALE_FULL: ScaleSizes = { bisync: [100_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000], copy: [200_000, 1_000_000], latencyKeys: 100_000, latencyMs: 50, sharded: [1_000_000] };
export const SCALE_QUICK: ScaleSizes = { bisync: [10_000], copy: [5_000], latencyKeys: 3_000, latencyMs: 20, sharded: [20_000] };

const n = (x: number) => x.toLocaleString("en-US");
/** The runner's default listConcurrency (runner/cli.ts): the latency row's parallel runs. */
export const DEFAULT_LIST_CONCURRENCY = 32;
/** Runs of the latency row's no-op served from the server's cache (the median is reported). */
const CACHED_RUNS = 5;
const NODE_FLAGS = RUNNER_NODE_OPTIONS.split(" ");

function counts(c: Record<string, number>): Record<Kind, number> {
  const out = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  for (const [k, v] of Object.entries(c)) if ((KINDS as readonly string[]).includes(k)) out[k as Kind] += v;
  return out;
}

function summaryOf(m: Measured): Record<string, any> | undefined {
  const line = m.stdout.split("\n").filter((l) => l.includes('"type":"summary"')).pop();
  try {
    return line ? (JSON.parse(line) as Record<string, any>) : undefined;
  } catch {
    return undefined;
  }
}

interface Ctx {
  runner: string;
  work: string;
  log: (m: string) => void;
  rcloneEnv?: (endpoint: string) => NodeJS.ProcessEnv;
}

async function withServer<T>(opts: SyntheticOptions, fn: (endpoint: string, server: Awaited<ReturnType<typeof spawnSyntheticS3>>) => Promise<T>): Promise<T> {
  const srv = await spawnSyntheticS3(opts);
  try {
    return await fn(srv.endpoint, srv);
  } finally {
    await srv.stop();
  }
}

function runnerConfig(ctx: Ctx, name: string, endpoint: string, mode: "copy" | "bisync", extra: Record<string, unknown> = {}): string {
  const dir = join(ctx.work, "scale", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ep = { endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "synthetic", secretAccessKey: "synthetic" } };
  const cfg = { endpoints: { a: ep, b: ep }, state: { dir: join(dir, "state") }, spoolDir: join(dir, "spool"), ...extra, jobs: [{ name: "scale", mode, source: { endpoint: "a", bucket: "a" }, targets: [{ endpoint: "b", bucket: "b" }] }] };
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(cfg));
  return file;
}

async function runRunner(ctx: Ctx, cfg: string, server: { resetCounts(): Promise<void>; counts(): Promise<Record<string, number>> }): Promise<{ m: Measured; s: Record<string, any> | undefined; c: Record<Kind, number> }> {
  await server.resetCounts();
  const m = await runMeasured(process.execPath, [...NODE_FLAGS, ctx.runner, "run", "--config", cfg, "--json"], { timeoutMs: 60 * 60_000 });
  const c = counts(await server.counts());
  if (m.code !== 0) ctx.log(`runner exited ${m.code ?? m.signal}: ${(m.stderr || m.stdout).trim().split("\n").slice(-3).join(" | ")}`);
  return { m, s: summaryOf(m), c };
}

function row(workload: string, tool: Row["tool"], objects: number, m: Measured, c: Record<Kind, number>, ok: boolean, note: string): Row {
  return { workload, tool, objects, bytes: 0, wallMs: m.wallMs, userMs: m.userMs, sysMs: m.sysMs, maxRssKb: m.maxRssKb, counts: c, ok, note };
}

export async function scaleRows(ctx: Ctx, sz: ScaleSizes): Promise<Row[]> {
  const rows: Row[] = [];
  // Bisync: first run and no-op over N keys per side.
  for (const N of sz.bisync) {
    await withServer({ buckets: { a: { keys: N }, b: { keys: N } } }, async (endpoint, server) => {
      const cfg = runnerConfig(ctx, `bisync-${N}`, endpoint, "bisync");
      for (const phase of ["first", "noop"] as const) {
        const { m, s, c } = await runRunner(ctx, cfg, server);
        const ok = m.code === 0 && s?.unchanged === N && s?.copied === 0 && s?.deleted === 0 && s?.stateWritten === true;
        const label = `scale-bisync-${phase} (${n(N)} keys per side)`;
        const note = `${ok ? "" : "FAILED: "}unchanged ${n(s?.unchanged ?? 0)}; ${(m.wallMs / 1000 / (N / 1e6)).toFixed(1)} s per million keys per side; node flags ${NODE_FLAGS.join(" ")}`;
        rows.push(row(label, "runner", N, m, c, ok, note));
        ctx.log(`${label}: ${(m.wallMs / 1000).toFixed(2)} s, peak RSS ${(m.maxRssKb / 1024).toFixed(0)} MB, LIST ${c.LIST}`);
      }
    });
  }
  // Copy no-op, side by side with rclone --checksum (which lists both sides and compares MD5s).
  for (const N of sz.copy) {
    await withServer({ buckets: { a: { keys: N }, b: { keys: N } } }, async (endpoint, server) => {
      const cfg = runnerConfig(ctx, `copy-${N}`, endpoint, "copy");
      await runRunner(ctx, cfg, server); // first run: writes the state (boundaries for the re-run)
      const { m, s, c } = await runRunner(ctx, cfg, server);
      const label = `scale-copy-noop (${n(N)} keys per side)`;
      const ok = m.code === 0 && s?.unchanged === N && s?.copied === 0;
      rows.push(row(label, "runner", N, m, c, ok, `${ok ? "" : "FAILED: "}unchanged ${n(s?.unchanged ?? 0)}`));
      ctx.log(`${label} · runner: ${(m.wallMs / 1000).toFixed(2)} s`);
      if (ctx.rcloneEnv) {
        await server.resetCounts();
        const r = await runMeasured("rclone", ["copy", "SYN:a", "SYN:b", "--checksum", "--transfers", "16", "--checkers", "16", "--dry-run"], { env: ctx.rcloneEnv(endpoint), timeoutMs: 60 * 60_000 });
        const rc = counts(await server.counts());
        const rok = r.code === 0 && rc.GET === 0 && rc.HEAD === 0;
        rows.push(row(label, "rclone-best", N, r, rc, rok, `${rok ? "" : `FAILED: exit ${r.code}; ${r.stderr.trim().split("\n").slice(-2).join(" | ")}; `}rclone copy --checksum (--dry-run: the target is read-only)`));
        ctx.log(`${label} · rclone: ${(r.wallMs / 1000).toFixed(2)} s`);
      }
    });
  }
  // Listing against a slow endpoint: parallel ranges vs one stream.
  const N = sz.latencyKeys;
  const floorMs = Math.ceil(N / 1000) * sz.latencyMs;
  for (const lc of [DEFAULT_LIST_CONCURRENCY, 1]) {
    // The server keeps the pages it rendered (cacheListBytes): on this machine it shares the runner's
    // two cores, and rendering 200 pages costs it about 0.4 CPU-s that a remote endpoint would not
    // take from the runner. The first no-op asks for pages the first run did not (ranges), so the
    // server still renders them; the second no-op is served from its cache. That one is repeatable
    // (nothing changes any more), so it runs CACHED_RUNS times and the median counts: one run of
    // 0.6 s on this shared machine varies by ±10 %.
    await withServer({ buckets: { a: { keys: N }, b: { keys: N } }, delayMs: sz.latencyMs, cacheListBytes: 256 * 1024 * 1024 }, async (endpoint, server) => {
      const cfg = runnerConfig(ctx, `latency-${N}-${lc}`, endpoint, "copy", { listConcurrency: lc });
      for (const phase of lc > 1 ? ["first run", "no-op", "no-op, server pages cached"] : ["first run", "no-op"]) {
        const repeats = phase.endsWith("cached") ? CACHED_RUNS : 1;
        const runs: Awaited<ReturnType<typeof runRunner>>[] = [];
        for (let k = 0; k < repeats; k++) runs.push(await runRunner(ctx, cfg, server));
        const byWall = [...runs].sort((x, y) => x.m.wallMs - y.m.wallMs);
        const { m, s, c } = byWall[Math.floor(byWall.length / 2)];
        const label = `list-latency (${n(N)} keys, ${sz.latencyMs} ms per LIST, listConcurrency ${lc}, ${phase})`;
        const ok = runs.every((r) => r.m.code === 0 && r.s?.unchanged === N);
        const spread = repeats > 1 ? `median of ${repeats} runs (${byWall.map((r) => (r.m.wallMs / 1000).toFixed(2)).join(", ")} s); ` : "";
        rows.push(row(label, "runner", N, m, c, ok, `${ok ? "" : "FAILED; "}${spread}one stream's floor ${(floorMs / 1000).toFixed(2)} s; ${(floorMs / m.wallMs).toFixed(1)}× faster than it`));
        ctx.log(`${label}: ${(m.wallMs / 1000).toFixed(2)} s (floor ${(floorMs / 1000).toFixed(2)} s), LIST ${c.LIST}`);
      }
    });
  }
  rows.push(...(await shardedRows(ctx, sz)));
  return rows;
}

/** One job split into 4 key-range shards, against the same job as one process. */
export async function shardedRows(ctx: Ctx, sz: Pick<ScaleSizes, "sharded">): Promise<Row[]> {
  const rows: Row[] = [];
  const SHARDS = 4;
  for (const N of sz.sharded) {
    for (const shards of [1, SHARDS]) {
      await withServer({ buckets: { a: { keys: N }, b: { keys: N } }, delayMs: 20 }, async (endpoint, server) => {
        const cfg = runnerConfig(ctx, `sharded-${N}-${shards}`, endpoint, "copy");
        for (const phase of ["first run", "no-op"]) {
          await server.resetCounts();
          const t0 = Date.now();
          const ms = await Promise.all(
            Array.from({ length: shards }, (_, k) => runMeasured(process.execPath, [...NODE_FLAGS, ctx.runner, "run", "--config", cfg, "--json", ...(shards > 1 ? ["--shard", `${k}/${shards}`] : [])], { timeoutMs: 60 * 60_000 })),
          );
          const wallMs = Date.now() - t0;
          const c = counts(await server.counts());
          const sums = ms.map(summaryOf);
          const unchanged = sums.reduce((x, s) => x + (s?.unchanged ?? 0), 0);
          const ok = ms.every((m) => m.code === 0) && unchanged === N;
          const big = ms.reduce((a, b) => (b.maxRssKb > a.maxRssKb ? b : a));
          const m: Measured = { ...big, wallMs, userMs: ms.reduce((x, y) => x + y.userMs, 0), sysMs: ms.reduce((x, y) => x + y.sysMs, 0) };
          const label = `scale-sharded (${n(N)} keys per side, 20 ms per LIST, ${shards === 1 ? "one process" : `${shards} shard processes`}, ${phase})`;
          rows.push(row(label, "runner", N, m, c, ok, `${ok ? "" : "FAILED; "}LIST ${c.LIST} in all; peak RSS of the largest process; CPU summed over the processes`));
          ctx.log(`${label}: ${(wallMs / 1000).toFixed(2)} s, LIST ${c.LIST}`);
        }
      });
    }
  }
  return rows;
}
