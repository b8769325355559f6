// One job, stage by stage: lock → list + merge + decide (one streaming pass, spooled to disk) →
// safety checks on the totals → transfers from the spool → deletes → next state committed only
// after a fully successful run. Memory is bounded by transfers, parts and pages in flight, not by
// the number of keys (runner/engine/, runner/list/, runner/stream/).
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import picomatch from "picomatch";
import type { JobConfig, LocationConfig, RunnerConfig } from "./config/types.js";
import type { BisyncAction, Side } from "./decide/bisync.js";
import { conflictKey, safetyAbort } from "./decide/safety.js";
import { record, sameContent, selfEvident, type Entry, type StateRecord } from "./decide/types.js";
import { bisyncActionCodec, checkDiffCodec, copyTaskCodec, deleteCodec, type CheckDiff, type CopyTask, type DeleteTask } from "./engine/codecs.js";
import { SectionBuilder, writeJournal, writeState } from "./engine/commit.js";
import { InputFormatError, ListingError, listingSource, recordSource, RunDir } from "./engine/inputs.js";
import { bisyncPass, copyPass } from "./engine/merge.js";
import { heldPagesOf, type HeldPages } from "./engine/page-pairs.js";
import { BoundarySampler } from "./list/ranges.js";
import { fmtBytes, type Output } from "./output.js";
import { describeNetProblem, netProblem, taggedEndpoint } from "./store/net-errors.js";
import type { Limits } from "./store/throttle.js";
import { readStateMeta, StateFormatError, type StateMeta } from "./state/codec.js";
import { LockedError, type HeldLock, type StateKind, type StateStore } from "./state/store.js";
import { inRange, ShardError, type KeyRange, type ShardSpec } from "./shard/shards.js";
import { readShardMap, shardMapFor, shardRange, shardStateName } from "./shard/resolve.js";
import { Spool } from "./stream/blocks.js";
import { OrderError, type BatchSource } from "./stream/cursor.js";
import {
  deleteKeys,
  describeLocation,
  diffCounts,
  errorCode,
  isAuthError,
  transferObject,
  withRetry,
  type Endpoint,
  type Location,
  type RequestCounts,
  type TransferOptions,
  type TransferResult,
} from "./store/s3.js";

export interface RunContext {
  cfg: RunnerConfig;
  /** `--shard K/N`: each job runs only key range K of N, with its own state, journal and lock. */
  shard?: ShardSpec;
  endpoints: Map<string, Endpoint>;
  store: StateStore;
  counts: RequestCounts;
  out: Output;
  dryRun: boolean;
  resync: boolean;
  force: boolean;
  transfers: number;
  attempts: number;
  lockTtlMs: number;
  transfer: Omit<TransferOptions, "onBytes">;
  /** Locks currently held (released on signals). */
  heldLocks: Set<HeldLock>;
  /** Ranges listed at once per location. */
  listConcurrency: number;
  /** Where runs keep their temporary files (a per-run directory under it). */
  spoolDir: string;
  /** Aborted (with an Interrupted reason) on SIGINT/SIGTERM: no new transfer starts, in-flight
   *  streamed copies are destroyed, no delete and no state write follows. */
  signal: AbortSignal;
  /** The bandwidth limits (maxBytesPerSecond) of jobs and endpoints. */
  limits: Limits;
}

/** The abort reason of a run stopped by a signal; its exit code is 128 + the signal number. */
export class Interrupted extends Error {
  readonly exitCode: 130 | 143;
  constructor(readonly sig: "SIGINT" | "SIGTERM") {
    super(`interrupted by ${sig}`);
    this.name = "Interrupted";
    this.exitCode = sig === "SIGINT" ? 130 : 143;
  }
}

export interface Failure {
  key: string;
  op: string;
  message: string;
}

export interface JobSummary {
  type: "summary";
  job: string;
  mode: string;
  command: "run";
  dryRun: boolean;
  ok: boolean;
  exitCode: 0 | 1 | 2 | 3 | 130 | 143;
  copied: number;
  deleted: number;
  conflicts: number;
  unchanged: number;
  skipped: number;
  bytes: number;
  requests: RequestCounts;
  seconds: number;
  errors: number;
  failures: Failure[];
  aborted?: string;
  /** The signal that stopped the job (SIGINT/SIGTERM): state not written, nothing deleted after it. */
  interrupted?: string;
  stateWritten: boolean;
  /** "K/N" for a sharded run, with the shard's (lo, hi] range. */
  shard?: string;
  range?: KeyRange;
}

export interface CheckSummary {
  type: "summary";
  job: string;
  mode: string;
  command: "check";
  inSync: boolean;
  exitCode: 0 | 1 | 2 | 130 | 143;
  source: { objects: number; bytes: number };
  targets: CheckTarget[];
  requests: RequestCounts;
  seconds: number;
  errors: number;
  failures: Failure[];
  shard?: string;
  range?: KeyRange;
}

/** One target of `check`: counts, and the first differing keys of each kind. */
export interface CheckTarget {
  location: string;
  objects: number;
  bytes: number;
  missing: number;
  different: number;
  extra: number;
  /** The first CHECK_KEYS_LISTED keys of each kind (relative to the prefixes); the counts above say how many in all. */
  missingKeys: string[];
  differentKeys: string[];
  extraKeys: string[];
}

const MAX_FAILURES_LISTED = 100;
export const CHECK_KEYS_LISTED = 20;
/** Keys a dry run names per category in human output (--json lists every key). */
export const DRY_RUN_KEYS_LISTED = 20;

/** The first keys of one category of a dry run's plan, and how many there are in all. */
class NamedKeys {
  readonly keys: string[] = [];
  n = 0;
  constructor(readonly title: string) {}
  add(key: string, note = ""): void {
    if (this.keys.length < DRY_RUN_KEYS_LISTED) this.keys.push(JSON.stringify(key) + note);
    this.n++;
  }
}

/** Human lines of a dry run: per category its title and count, its first keys, and how many more. */
function printNamed(out: Output, groups: NamedKeys[]): void {
  for (const g of groups) {
    if (!g.n) continue;
    out.info(`  ${g.title} (${g.n}):`);
    for (const k of g.keys) out.info(`    ${k}`);
    if (g.n > g.keys.length) out.info(`    ... and ${g.n - g.keys.length} more (--json lists every key)`);
  }
}

/** Key ranges of sharded runs: the job a shard runs (shardJob) → its (lo, hi] range. */
const jobRanges = new WeakMap<JobConfig, KeyRange>();

/** The job shard `spec` runs: renamed `<job>.shard-K-of-N` (its state, journal and lock are its
 *  own) and limited to its range (listings start and stop at the range; every key is checked). */
function shardJob(job: JobConfig, spec: ShardSpec, range: KeyRange): JobConfig {
  const j = { ...job, name: shardStateName(job.name, spec) };
  jobRanges.set(j, range);
  return j;
}

/** Resolves the shard map of `job` (reading, or writing it on the first sharded run) and returns
 *  the job this shard runs; an unsharded run of a sharded job is refused. */
async function jobForRun(ctx: RunContext, job: JobConfig, dir: string, write: boolean): Promise<JobConfig> {
  if (!ctx.shard) return job;
  const env = { store: ctx.store, source: loc(ctx, job.source), attempts: ctx.attempts, lockTtlMs: ctx.lockTtlMs, dir, write, log: (m: string) => ctx.out.info(m, { job: job.name }) };
  const map = await shardMapFor(env, job, ctx.shard);
  return shardJob(job, ctx.shard, shardRange(map, ctx.shard.index));
}

/** A shard map problem (another N, an unsharded run of a sharded job, a damaged map): the job
 *  ends with exit 2 and the message that names the fix; anything else is rethrown. */
function shardFailure(ctx: RunContext, sum: JobSummary | CheckSummary, job: JobConfig, e: unknown): void {
  if (!(e instanceof ShardError)) throw e;
  if ("ok" in sum) sum.ok = false;
  sum.exitCode = 2;
  sum.errors++;
  sum.failures.push({ key: "", op: "shard", message: e.message });
  ctx.out.error(e.message, { job: job.name, field: "--shard", exitCode: 2 });
}

/** An unsharded run of a job with a shard map would race its shards: refused (exit 2). */
async function refuseIfSharded(ctx: RunContext, job: JobConfig, dir: string): Promise<void> {
  const map = await readShardMap(ctx.store, job.name, dir);
  if (map)
    throw new ShardError(
      `job ${job.name} is split into ${map.count} shards (its shard map in the state location); run it with --shard K/${map.count} (K = 0..${map.count - 1}), ` +
        `or make it one job again with "bucket-replication reshard --config FILE --job ${job.name} --shards 1" while no shard runs`,
    );
}

/** Whether the job's filter takes every key but the prefix itself (makeFilter). */
function acceptsAll(job: JobConfig): boolean {
  return (!job.include || job.include.includes("**")) && !job.exclude?.length && !jobRanges.get(job);
}

function makeFilter(job: JobConfig): (k: string) => boolean {
  // What page pairs assume of a listing that takes every key (engine/page-pairs.ts).
  if (acceptsAll(job)) return (k) => k !== "";
  // The default include ("**", everything) must not go through picomatch: it never matches a key
  // with a "." or ".." path segment (e.g. "a/../b", "p/."), even with dot: true, and S3 keys are
  // opaque strings, so those keys would silently never replicate.
  const all = !job.include || job.include.includes("**");
  const inc = all ? () => true : picomatch(job.include!, { dot: true });
  const exc = job.exclude && job.exclude.length ? picomatch(job.exclude, { dot: true }) : undefined;
  const range = jobRanges.get(job);
  return (k) => k !== "" && inc(k) && !(exc && exc(k)) && (!range || inRange(k, range));
}

function loc(ctx: RunContext, l: LocationConfig): Location {
  return { ep: ctx.endpoints.get(l.endpoint)!, bucket: l.bucket, prefix: l.prefix ?? "" };
}

function locId(l: LocationConfig): string {
  return `${l.endpoint}/${l.bucket}/${l.prefix ?? ""}`;
}

/** Human message for an S3 error, naming the endpoint; never includes credentials. */
export function describeError(e: unknown, where?: Location): string {
  const code = errorCode(e);
  const msg = String((e as Error)?.message ?? e).split("\n")[0];
  // Nothing reached the server: name the endpoint and what to check, not a raw `connect ECONNREFUSED`.
  const net = netProblem(e);
  if (net) {
    const ep = where?.ep ?? taggedEndpoint(e);
    if (ep) return `${describeNetProblem(net, ep)}${where ? ` (bucket "${where.bucket}")` : ""}`;
    return `cannot connect: ${net.what} (${msg}); check ${net.check.replace("FIELD", "the endpoint's URL")}`;
  }
  const ep = where ? `endpoint "${where.ep.name}" (${where.ep.url}), bucket "${where.bucket}"` : "";
  if (where && isAuthError(e)) {
    return `${ep}: access denied (${code}: ${msg}); check endpoints.${where.ep.name}.credentials`;
  }
  if (where && (code === "NoSuchBucket" || /does not exist/i.test(msg))) return `${ep}: ${code}: ${msg}`;
  return where ? `${ep}: ${code}: ${msg}` : `${code}: ${msg}`;
}

/** Runs `fn` on every item of a sorted source with `n` in flight, pulling batches as slots free up
 *  (backpressure: at most one batch of a spool is in memory beyond the items in flight). */
async function pool<T>(src: BatchSource<T>, n: number, fn: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let batch: T[] = [];
  let i = 0;
  let done = false;
  let filling: Promise<void> | undefined;
  const take = async (): Promise<T | undefined> => {
    if (signal?.aborted) return undefined; // stopping: nothing new starts
    while (i >= batch.length) {
      if (done) return undefined;
      filling ??= src.next().then((b) => {
        if (b === undefined) done = true;
        else {
          batch = b;
          i = 0;
        }
        filling = undefined;
      });
      await filling;
    }
    return batch[i++];
  };
  await Promise.all(
    Array.from({ length: Math.max(1, n) }, async () => {
      for (let x = await take(); x !== undefined; x = await take()) await fn(x);
    }),
  );
}

async function forEachItem<T>(src: BatchSource<T>, fn: (item: T) => void): Promise<void> {
  for (let b = await src.next(); b !== undefined; b = await src.next()) for (const x of b) fn(x);
}

/** The job's files in the state store, as local files to stream from (downloaded for a bucket). */
interface StoredInputs {
  state?: { path: string; meta: StateMeta };
  journal?: { path: string; meta: StateMeta };
  boundaries?: string[];
  /** Keys the source listed in the run that wrote the state. */
  expectedKeys?: number;
  /** Listings that run found out of UTF-8 order (sorted on disk from the start this time). */
  unordered: Set<string>;
  /** The journal file exists (a successful run removes it). */
  journalExists: boolean;
}

async function openStored(ctx: RunContext, job: JobConfig, dir: string, withState: boolean): Promise<StoredInputs> {
  const out: StoredInputs = { journalExists: false, unordered: new Set() };
  const meta = async (kind: StateKind, what: string): Promise<{ path: string; meta: StateMeta } | undefined> => {
    let path: string | undefined;
    try {
      path = await ctx.store.open(job.name, kind, dir);
    } catch (e) {
      if (kind === "state.gz") throw e;
      ctx.out.warn(`job ${job.name}: cannot read the ${what} in ${ctx.store.description} (${describeError(e)}); continuing without it`, { job: job.name });
      return undefined;
    }
    if (!path) return undefined;
    if (kind === "pairs.gz") out.journalExists = true;
    try {
      return { path, meta: await readStateMeta(path) };
    } catch (e) {
      if (!(e instanceof StateFormatError)) throw e;
      ctx.out.warn(
        kind === "state.gz"
          ? `job ${job.name}: ignoring unreadable state in ${ctx.store.description} (${e.message}); treating this run as a first run`
          : `job ${job.name}: ignoring unreadable ETag pair journal in ${ctx.store.description} (${e.message})`,
        { job: job.name },
      );
      return undefined;
    }
  };
  if (withState) out.state = await meta("state.gz", "state");
  out.journal = await meta("pairs.gz", "ETag pair journal");
  const ranges = out.state?.meta.ranges;
  if (Array.isArray(ranges) && ranges.every((k) => typeof k === "string")) out.boundaries = ranges;
  const keys = out.state?.meta.keys;
  if (typeof keys === "number" && Number.isFinite(keys) && keys >= 0) out.expectedKeys = keys;
  // A state without the count (older runners) still says the listing is not new: no growing.
  else if (out.state) out.expectedKeys = 0;
  const unordered = out.state?.meta.unordered;
  if (Array.isArray(unordered)) for (const u of unordered) if (typeof u === "string") out.unordered.add(u);
  return out;
}

/** A new directory under `dir` for one attempt of a decide pass (a repeated pass starts clean). */
function freshDir(dir: string, name: string): string {
  return mkdtempSync(join(dir, `${name}-`));
}

/** Whether a state/journal file describes this job's source (and mode, where required). */
function describes(f: { meta: StateMeta } | undefined, job: JobConfig, requireMode?: string): boolean {
  return !!f && f.meta.source === locId(job.source) && (!requireMode || f.meta.mode === requireMode);
}

/**
 * Runs a decide pass until it completes: an input that breaks the UTF-8 order is sorted on disk and
 * the pass runs again (it changes nothing, so repeating it is safe); a state or journal that turns
 * out unreadable is left out. `attempt` builds fresh spools for each try.
 */
/** Listings seen out of order in this process (a server's order does not change between runs). */
const unorderedInputs = new Set<string>();

async function decideWithRetries<R>(ctx: RunContext, job: JobConfig, sorted: Set<string>, attempt: (sorted: Set<string>, dropped: Set<string>) => Promise<R>, cleanup: () => void): Promise<R> {
  for (const x of unorderedInputs) sorted.add(x);
  const dropped = new Set<string>();
  for (let tries = 0; ; tries++) {
    try {
      return await attempt(sorted, dropped);
    } catch (e) {
      cleanup();
      if (e instanceof OrderError && !sorted.has(e.source) && tries < 8) {
        sorted.add(e.source);
        if (e.source !== "state" && e.source !== "ETag pair journal") unorderedInputs.add(e.source);
        ctx.out.warn(`job ${job.name}: ${e.message}; sorting it on disk (external sort) and deciding again`, { job: job.name, input: e.source });
        continue;
      }
      if (e instanceof InputFormatError && !dropped.has(e.input) && tries < 8) {
        dropped.add(e.input);
        ctx.out.warn(`job ${job.name}: ignoring unreadable ${e.input} in ${ctx.store.description} (${e.message})${e.input === "state" ? "; treating this run as a first run" : ""}`, { job: job.name });
        continue;
      }
      if (e instanceof ListingError) throw new JobError(e.message);
      throw e;
    }
  }
}

export class JobError extends Error {}

function emptySummary(job: JobConfig, ctx: RunContext): JobSummary {
  return {
    type: "summary",
    job: job.name,
    mode: job.mode,
    command: "run",
    dryRun: ctx.dryRun,
    ok: true,
    exitCode: 0,
    copied: 0,
    deleted: 0,
    conflicts: 0,
    unchanged: 0,
    skipped: 0,
    bytes: 0,
    requests: diffCounts(ctx.counts, ctx.counts),
    seconds: 0,
    errors: 0,
    failures: [],
    stateWritten: false,
  };
}

export async function runJob(ctx: RunContext, config: JobConfig): Promise<JobSummary> {
  const t0 = Date.now();
  const before = { ...ctx.counts };
  let job = config;
  const sum = emptySummary(job, ctx);
  let lock: HeldLock | undefined;
  const dir = new RunDir(ctx.spoolDir, job.name);
  try {
    try {
      job = await jobForRun(ctx, config, dir.path, !ctx.dryRun);
    } catch (e) {
      shardFailure(ctx, sum, config, e);
      return finishSummary(ctx, sum, before, t0, lock, dir);
    }
    if (ctx.shard) {
      sum.shard = `${ctx.shard.index}/${ctx.shard.count}`;
      sum.range = jobRanges.get(job);
    }
    if (!ctx.dryRun) {
      lock = await ctx.store.lock(job.name, ctx.lockTtlMs);
      ctx.heldLocks.add(lock);
    }
    if (!ctx.shard) {
      try {
        await refuseIfSharded(ctx, job, dir.path);
      } catch (e) {
        shardFailure(ctx, sum, config, e);
        return finishSummary(ctx, sum, before, t0, lock, dir);
      }
    }
    if (job.mode === "bisync") await runBisync(ctx, job, sum, dir.path);
    else await runCopy(ctx, job, sum, dir.path);
  } catch (e) {
    sum.ok = false;
    // Stopped by a signal (whatever error the abort surfaced as): not a failure of the job.
    const intr = e instanceof Interrupted ? e : ctx.signal.reason instanceof Interrupted ? ctx.signal.reason : undefined;
    if (intr) {
      sum.exitCode = intr.exitCode;
      sum.interrupted = intr.sig;
      ctx.out.error(`job ${job.name}: ${intr.message}: in-flight transfers aborted, nothing deleted, state not written`, { job: job.name, interrupted: intr.sig });
      return finishSummary(ctx, sum, before, t0, lock, dir);
    }
    sum.exitCode = 1;
    const message = e instanceof JobError || e instanceof LockedError ? e.message : describeError(e);
    sum.errors++;
    sum.failures.push({ key: "", op: "job", message });
    ctx.out.error(`job ${job.name}: ${message}`, { job: job.name });
  }
  return finishSummary(ctx, sum, before, t0, lock, dir);
}

/** The end of every job: the lock released and the run directory removed (also when interrupted). */
async function finishSummary(ctx: RunContext, sum: JobSummary, before: RequestCounts, t0: number, lock: HeldLock | undefined, dir: RunDir): Promise<JobSummary> {
  ctx.out.stopProgress();
  dir.remove();
  if (lock) {
    await lock.release().catch(() => undefined);
    ctx.heldLocks.delete(lock);
  }
  sum.requests = diffCounts(ctx.counts, before);
  sum.seconds = (Date.now() - t0) / 1000;
  if (sum.failures.length > MAX_FAILURES_LISTED) sum.failures.length = MAX_FAILURES_LISTED;
  return sum;
}

function recordFailure(ctx: RunContext, sum: JobSummary, job: JobConfig, f: Failure): void {
  sum.errors++;
  sum.ok = false;
  sum.exitCode = 1;
  if (sum.failures.length < MAX_FAILURES_LISTED) sum.failures.push(f);
  ctx.out.error(`job ${job.name}: ${f.op} ${JSON.stringify(f.key)}: ${f.message}`, { job: job.name, key: f.key, op: f.op });
}

async function transferWithRetry(ctx: RunContext, job: JobConfig, from: Location, fromKey: string, entry: Entry, to: Location, toKey: string): Promise<TransferResult> {
  return withRetry(
    () =>
      transferObject(from, fromKey, entry, to, toKey, {
        ...ctx.transfer,
        onBytes: (n) => ctx.out.addBytes(n),
        signal: ctx.signal,
        throttle: ctx.limits.throttle(job.name, from.ep.name, to.ep.name, ctx.signal),
      }),
    ctx.attempts,
    undefined,
    ctx.signal,
  );
}

function abort(ctx: RunContext, job: JobConfig, sum: JobSummary, reason: string): void {
  sum.ok = false;
  sum.exitCode = 3;
  sum.aborted = reason;
  ctx.out.error(`job ${job.name}: safety abort: ${reason}`, { job: job.name, abort: true });
}

function listing(ctx: RunContext, job: JobConfig, l: Location, label: string, accept: (k: string) => boolean, stored: StoredInputs, sorted: Set<string>, dir: string): BatchSource<Entry> {
  return listingSource(
    { loc: l, label, accept, concurrency: ctx.listConcurrency, boundaries: stored.boundaries, expectedKeys: stored.expectedKeys, attempts: ctx.attempts, sort: sorted.has(label), describeError: (e) => describeError(e, l), range: jobRanges.get(job), acceptsAll: acceptsAll(job) },
    dir,
  );
}

/** Samples the source listing's keys as it streams: the next run's range boundaries. */
function sampled(src: BatchSource<Entry>, sampler: BoundarySampler): BatchSource<Entry> {
  const out: BatchSource<Entry> & Partial<HeldPages> = {
    async next() {
      const b = await src.next();
      if (b) for (const e of b) sampler.add(e.key);
      return b;
    },
    close: () => src.close?.() ?? Promise.resolve(),
  };
  const held = heldPagesOf(src);
  if (held) {
    out.peekHeld = () => held.peekHeld();
    out.takeHeld = (v, count, keyAt) => {
      sampler.addRun(count, keyAt);
      held.takeHeld(v, count, keyAt);
    };
  }
  return out;
}

function stateMeta(job: JobConfig): StateMeta {
  return { job: job.name, mode: job.mode, source: locId(job.source), written: new Date().toISOString() };
}

/** After the transfers and deletes: the next state (no failure), else the journal of this run's pairs. */
async function finish(ctx: RunContext, job: JobConfig, sum: JobSummary, sections: SectionBuilder[], stored: StoredInputs, dir: string, sampler: BoundarySampler): Promise<void> {
  try {
    if (sum.errors === 0) {
      const out = join(dir, "next.state.gz");
      try {
        // The source's listing boundaries ride in the meta line: the next run lists in ranges from them.
        const unordered = [...stored.unordered].filter((x) => x !== "state" && x !== "ETag pair journal");
        await writeState(out, { ...stateMeta(job), ranges: sampler.keys, keys: sampler.n, ...(unordered.length ? { unordered } : {}) }, sections);
        await ctx.store.commit(job.name, "state.gz", out);
        sum.stateWritten = true;
      } catch (e) {
        throw new JobError(`writing state to ${ctx.store.description} failed: ${describeError(e)}; the next run behaves as if this one had not happened`);
      }
    } else {
      ctx.out.warn(`job ${job.name}: state not written because ${sum.errors} operation(s) failed; the next run retries them`, { job: job.name });
    }
  } finally {
    // The ETag pair journal: obsolete once the state is written, else this run's completed pairs.
    try {
      if (sum.stateWritten) {
        if (stored.journalExists) await ctx.store.remove(job.name, "pairs.gz");
      } else {
        const out = join(dir, "next.pairs.gz");
        const n = await writeJournal(out, stateMeta(job), sections);
        if (n > 0) await ctx.store.commit(job.name, "pairs.gz", out);
        else if (stored.journalExists) await ctx.store.remove(job.name, "pairs.gz");
      }
    } catch (e) {
      ctx.out.warn(`job ${job.name}: ETag pair journal not updated in ${ctx.store.description} (${describeError(e)}); the next run may copy again what this run copied`, { job: job.name });
    }
  }
}

/** Deletes the spooled keys of one location in batches; failures are recorded. */
async function applyDeletes(ctx: RunContext, sum: JobSummary, job: JobConfig, loc: Location, spool: Spool<DeleteTask>): Promise<void> {
  const src = spool.source();
  for (let b = await src.next(); b !== undefined; b = await src.next()) {
    ctx.signal.throwIfAborted();
    const slo = new Set(b.filter((d) => d.entry.etag.endsWith("-slo")).map((d) => loc.prefix + d.entry.key));
    const failures = await deleteKeys(loc, b.map((d) => loc.prefix + d.entry.key), ctx.attempts, (n) => (sum.deleted += n), slo);
    for (const f of failures) recordFailure(ctx, sum, job, { key: f.key, op: `delete on ${describeLocation(loc)}`, message: f.message });
    const failed = new Set(failures.map((f) => f.key));
    for (const d of b) if (!failed.has(loc.prefix + d.entry.key)) ctx.out.event({ type: "delete", job: job.name, key: d.entry.key, side: describeLocation(loc), ...(job.mode === "bisync" ? { reason: d.reason } : {}) });
  }
}

// ------------------------------------------------------------------------------ copy / sync

interface CopyDecided {
  tasks: Spool<CopyTask>;
  deletes: Spool<DeleteTask>[];
  sections: SectionBuilder[];
  counts: { src: number; tgts: number[]; priors: number[] };
  copies: number;
  copyBytes: number;
  same: number;
}

async function runCopy(ctx: RunContext, job: JobConfig, sum: JobSummary, dir: string): Promise<void> {
  const deletes = job.mode === "sync";
  const maxPct = job.maxDeletePercent ?? 50;
  const srcLoc = loc(ctx, job.source);
  const tgtLocs = job.targets.map((t) => loc(ctx, t));
  const stored = await openStored(ctx, job, dir, true);
  const state = describes(stored.state, job) ? stored.state : undefined;
  const journal = describes(stored.journal, job) ? stored.journal : undefined;
  const accept = makeFilter(job);
  const sampler = new BoundarySampler();
  let d: CopyDecided | undefined;
  const cleanup = () => {
    d?.tasks.close();
    d?.deletes.forEach((s) => s.close());
    d?.sections.forEach((s) => s.close());
  };
  try {
    d = await decideWithRetries(
      ctx,
      job,
      stored.unordered,
      async (sorted, dropped) => {
        const attemptDir = freshDir(dir, "pass");
        const out: CopyDecided = {
          tasks: new Spool(join(attemptDir, "tasks.spool"), copyTaskCodec),
          deletes: job.targets.map((_, i) => new Spool(join(attemptDir, `deletes-${i}.spool`), deleteCodec)),
          sections: job.targets.map((t, i) => new SectionBuilder(locId(t), attemptDir, i)),
          counts: { src: 0, tgts: [], priors: [] },
          copies: 0,
          copyBytes: 0,
          same: 0,
        };
        d = out;
        const srcLabel = `source ${describeLocation(srcLoc)}`;
        const tgtLabels = tgtLocs.map((l) => `target ${describeLocation(l)}`);
        const r = await copyPass(
          {
            src: sampled(listing(ctx, job, srcLoc, srcLabel, accept, stored, sorted, attemptDir), sampler),
            tgts: tgtLocs.map((l, i) => listing(ctx, job, l, tgtLabels[i], accept, stored, sorted, attemptDir)),
            states: job.targets.map((t) => (state && !dropped.has("state") ? recordSource(state.path, locId(t), "state", attemptDir, sorted.has("state")) : undefined)),
            journals: job.targets.map((t) => (journal && !dropped.has("ETag pair journal") ? recordSource(journal.path, locId(t), "ETag pair journal", attemptDir, sorted.has("ETag pair journal")) : undefined)),
            labels: { src: srcLabel, tgts: tgtLabels, states: job.targets.map(() => "state"), journals: job.targets.map(() => "ETag pair journal") },
          },
          deletes,
          {
            copy: (ti, entry, reason) => {
              out.tasks.add({ ti, entry, reason });
              out.copies++;
              out.copyBytes += entry.size;
            },
            extra: (ti, entry, deleted) => {
              if (deleted) out.deletes[ti].add({ entry, reason: "" });
            },
            same: (ti, rec) => {
              // Only pairs the next run needs as evidence (see selfEvident).
              if (!selfEvident(rec)) out.sections[ti].carry.add(rec);
              out.same++;
            },
            // Pages equal on both sides (engine/page-pairs.ts): self-evident pairs, nothing to carry.
            sameRun: (_ti, n) => {
              out.same += n;
            },
            backlog: () => {
              for (const s of out.sections) {
                const w = s.carry.backlog();
                if (w) return w;
              }
              return undefined;
            },
            keepPair: (ti, pair) => out.sections[ti].pairs.add(pair),
          },
        );
        out.counts = { src: r.src.objects, tgts: r.tgts.map((t) => t.objects), priors: r.priors };
        for (const s of out.sections) await s.endCarry();
        return out;
      },
      cleanup,
    );
    // The state holds only the pairs it is evidence for; the source count rides in its meta line.
    const priorSrcCount = Math.max(stored.expectedKeys ?? 0, ...d.counts.priors);

    // Safety, before any change: the totals are known, nothing has been written.
    if (deletes && !ctx.force) {
      for (let i = 0; i < job.targets.length; i++) {
        let reason: string | undefined;
        const nt = d.counts.tgts[i];
        if (d.counts.src === 0 && nt > 0) {
          reason = `source ${describeLocation(srcLoc)} lists no objects while target ${describeLocation(tgtLocs[i])} has ${nt}${priorSrcCount ? ` (and the last run saw ${priorSrcCount})` : ""}; refusing to delete everything (use --force if this is intended)`;
        } else {
          reason = safetyAbort({ side: `target ${describeLocation(tgtLocs[i])}`, objects: nt, deletes: d.deletes[i].count, maxDeletePercent: maxPct });
        }
        if (reason) return abort(ctx, job, sum, reason);
      }
    }

    sum.unchanged = d.same;
    const plannedDeletes = d.deletes.reduce((n, s) => n + s.count, 0);
    ctx.out.event({ type: "plan", job: job.name, mode: job.mode, dryRun: ctx.dryRun, source: d.counts.src, targets: d.counts.tgts, copies: d.copies, bytes: d.copyBytes, deletes: plannedDeletes });

    if (ctx.dryRun) {
      const toCopy = tgtLocs.map((l) => new NamedKeys(`to copy to ${describeLocation(l)}`));
      const toDelete = tgtLocs.map((l) => new NamedKeys(`to delete on ${describeLocation(l)}`));
      await forEachItem(d.tasks.source(), (c) => {
        toCopy[c.ti].add(c.entry.key);
        ctx.out.event({ type: "would-copy", job: job.name, key: c.entry.key, to: describeLocation(tgtLocs[c.ti]), bytes: c.entry.size, reason: c.reason });
      });
      for (let ti = 0; ti < tgtLocs.length; ti++) {
        await forEachItem(d.deletes[ti].source(), (x) => {
          toDelete[ti].add(x.entry.key);
          ctx.out.event({ type: "would-delete", job: job.name, key: x.entry.key, side: describeLocation(tgtLocs[ti]) });
        });
      }
      sum.copied = d.copies;
      sum.bytes = d.copyBytes;
      sum.deleted = plannedDeletes;
      if (!ctx.out.json) {
        ctx.out.info(`job ${job.name}: dry run: would copy ${d.copies} objects (${fmtBytes(d.copyBytes)}) and delete ${sum.deleted}`);
        printNamed(ctx.out, [...toCopy, ...toDelete]);
      }
      return;
    }

    const sections = d.sections;
    ctx.signal.throwIfAborted();
    ctx.out.startProgress(job.name, d.copies, d.copyBytes);
    await pool(d.tasks.source(), ctx.transfers, async ({ ti, entry }) => {
      const to = tgtLocs[ti];
      try {
        const r = await transferWithRetry(ctx, job, srcLoc, srcLoc.prefix + entry.key, entry, to, to.prefix + entry.key);
        const rec = record(entry.key, { size: r.srcSize, etag: r.srcEtag, mtime: r.srcMtime }, { size: r.dstSize, etag: r.dstEtag, mtime: Date.now() });
        if (!selfEvident(rec)) sections[ti].results.add(rec);
        sum.copied++;
        sum.bytes += r.bytes || r.srcSize;
        ctx.out.addObject();
        ctx.out.event({ type: "copy", job: job.name, key: entry.key, to: describeLocation(to), bytes: r.srcSize, method: r.method });
      } catch (e) {
        if (ctx.signal.aborted) return; // aborted by a signal: reported once, by runJob
        recordFailure(ctx, sum, job, { key: entry.key, op: `copy to ${describeLocation(to)}`, message: describeError(e, e && isAuthError(e) ? to : undefined) });
      }
    }, ctx.signal);
    ctx.out.stopProgress();
    ctx.signal.throwIfAborted();

    if (deletes && plannedDeletes) {
      if (sum.errors > 0) {
        // rclone's rule, and the fix for Sclone's bug: no deletes after a failed transfer.
        sum.skipped += plannedDeletes;
        ctx.out.warn(`job ${job.name}: ${plannedDeletes} deletes skipped because transfers failed; the next run retries`, { job: job.name });
      } else {
        for (let ti = 0; ti < tgtLocs.length; ti++) await applyDeletes(ctx, sum, job, tgtLocs[ti], d.deletes[ti]);
      }
    }
    await finish(ctx, job, sum, sections, stored, dir, sampler);
  } finally {
    cleanup();
  }
}

// ------------------------------------------------------------------------------ bisync

interface BisyncDecided {
  transfers: Spool<BisyncAction>;
  deletes: Record<Side, Spool<DeleteTask>>;
  section: SectionBuilder;
  a: number;
  b: number;
  prior: number;
  copies: number;
  conflicts: number;
  bytes: number;
  same: number;
}

async function runBisync(ctx: RunContext, job: JobConfig, sum: JobSummary, dir: string): Promise<void> {
  const maxPct = job.maxDeletePercent ?? 50;
  const stored = await openStored(ctx, job, dir, !ctx.resync);
  const state = describes(stored.state, job, "bisync") ? stored.state : undefined;
  const journal = describes(stored.journal, job) ? stored.journal : undefined;
  const A = loc(ctx, job.source);
  const B = loc(ctx, job.targets[0]);
  const sideLoc: Record<Side, Location> = { a: A, b: B };
  const labels: Record<Side, string> =
    job.source.endpoint !== job.targets[0].endpoint ? { a: job.source.endpoint, b: job.targets[0].endpoint } : { a: "source", b: "target" };
  const accept = makeFilter(job);
  const sampler = new BoundarySampler();
  const opts = { deletes: job.deletes !== false, conflict: job.conflict ?? "newer" } as const;
  const target = locId(job.targets[0]);
  let d: BisyncDecided | undefined;
  let firstRun = !state;
  const cleanup = () => {
    d?.transfers.close();
    d?.deletes.a.close();
    d?.deletes.b.close();
    d?.section.close();
  };
  try {
    d = await decideWithRetries(
      ctx,
      job,
      stored.unordered,
      async (sorted, dropped) => {
        const attemptDir = freshDir(dir, "pass");
        const out: BisyncDecided = {
          transfers: new Spool(join(attemptDir, "transfers.spool"), bisyncActionCodec),
          deletes: { a: new Spool(join(attemptDir, "deletes-a.spool"), deleteCodec), b: new Spool(join(attemptDir, "deletes-b.spool"), deleteCodec) },
          section: new SectionBuilder(target, attemptDir, 0),
          a: 0,
          b: 0,
          prior: 0,
          copies: 0,
          conflicts: 0,
          bytes: 0,
          same: 0,
        };
        d = out;
        const useState = !!state && !dropped.has("state");
        firstRun = !useState;
        const la = `source ${describeLocation(A)}`;
        const lb = `target ${describeLocation(B)}`;
        const r = await bisyncPass(
          {
            a: sampled(listing(ctx, job, A, la, accept, stored, sorted, attemptDir), sampler),
            b: listing(ctx, job, B, lb, accept, stored, sorted, attemptDir),
            state: useState ? recordSource(state!.path, target, "state", attemptDir, sorted.has("state")) : undefined,
            journal: journal && !dropped.has("ETag pair journal") ? recordSource(journal.path, target, "ETag pair journal", attemptDir, sorted.has("ETag pair journal")) : undefined,
            labels: { a: la, b: lb, state: "state", journal: "ETag pair journal" },
          },
          opts,
          firstRun,
          {
            action: (x) => {
              if (x.kind === "delete") out.deletes[x.side].add({ entry: x.entry, reason: x.reason });
              else {
                out.transfers.add(x);
                if (x.kind === "copy") {
                  out.copies++;
                  out.bytes += x.entry.size;
                } else {
                  out.conflicts++;
                  out.bytes += x.a.size + x.b.size;
                }
              }
            },
            same: (rec) => {
              out.section.carry.add(rec);
              out.same++;
            },
            backlog: () => out.section.carry.backlog(),
            forget: () => undefined,
            keepPair: (pair) => out.section.pairs.add(pair),
          },
        );
        out.a = r.a.objects;
        out.b = r.b.objects;
        out.prior = r.prior;
        await out.section.endCarry();
        return out;
      },
      cleanup,
    );

    if (!ctx.force && !firstRun) {
      const checks = (["a", "b"] as Side[]).map((s) => ({
        side: `${s === "a" ? "source" : "target"} ${describeLocation(sideLoc[s])}`,
        objects: s === "a" ? d!.a : d!.b,
        deletes: d!.deletes[s].count,
        priorObjects: d!.prior,
        maxDeletePercent: maxPct,
      }));
      // An emptied side is the cause and the other side's max-delete only its symptom: name the cause.
      const reason = checks.map((c) => safetyAbort({ ...c, deletes: 0 })).find(Boolean) ?? checks.map(safetyAbort).find(Boolean);
      if (reason) return abort(ctx, job, sum, reason);
    }

    sum.unchanged = d.same;
    const nDeletes = d.deletes.a.count + d.deletes.b.count;
    ctx.out.event({
      type: "plan",
      job: job.name,
      mode: job.mode,
      dryRun: ctx.dryRun,
      firstRun,
      source: d.a,
      targets: [d.b],
      copies: d.copies,
      conflicts: d.conflicts,
      deletes: nDeletes,
      bytes: d.bytes,
    });
    if (firstRun && !ctx.out.json) ctx.out.info(`job ${job.name}: ${ctx.resync ? "--resync" : "no state yet (first run)"}: merging both sides, no deletes`);
    const runAt = new Date();

    if (ctx.dryRun) {
      const toCopy: Record<Side, NamedKeys> = { b: new NamedKeys(`to copy to ${describeLocation(B)}`), a: new NamedKeys(`to copy to ${describeLocation(A)}`) };
      const toDelete: Record<Side, NamedKeys> = { a: new NamedKeys(`to delete on ${describeLocation(A)}`), b: new NamedKeys(`to delete on ${describeLocation(B)}`) };
      const conflicts = new NamedKeys(`conflicts (${opts.conflict})`);
      await forEachItem(d.transfers.source(), (x) => {
        if (x.kind === "copy") {
          toCopy[x.from === "a" ? "b" : "a"].add(x.key);
          ctx.out.event({ type: "would-copy", job: job.name, key: x.key, to: describeLocation(sideLoc[x.from === "a" ? "b" : "a"]), bytes: x.entry.size, reason: x.reason });
        } else if (x.kind === "conflict") {
          const winner = x.winner === null ? null : x.winner === "a" ? "source" : "target";
          conflicts.add(x.key, winner ? ` (${winner} wins; the other kept as .conflict)` : " (both kept as .conflict)");
          ctx.out.event({ type: "would-resolve-conflict", job: job.name, key: x.key, winner, reason: x.reason });
        }
      });
      for (const s of ["a", "b"] as Side[]) {
        await forEachItem(d.deletes[s].source(), (x) => {
          toDelete[s].add(x.entry.key);
          ctx.out.event({ type: "would-delete", job: job.name, key: x.entry.key, side: describeLocation(sideLoc[s]), reason: x.reason });
        });
      }
      sum.copied = d.copies;
      sum.conflicts = d.conflicts;
      sum.deleted = nDeletes;
      sum.bytes = d.bytes;
      if (!ctx.out.json) {
        ctx.out.info(`job ${job.name}: dry run: would copy ${sum.copied}, resolve ${sum.conflicts} conflicts, delete ${sum.deleted}`);
        printNamed(ctx.out, [toCopy.b, toCopy.a, toDelete.a, toDelete.b, conflicts]);
      }
      return;
    }

    const results = d.section.results;
    const other = (s: Side): Side => (s === "a" ? "b" : "a");
    const rec = (key: string, side: Side, r: TransferResult): StateRecord => {
      const srcSide = { size: r.srcSize, etag: r.srcEtag, mtime: r.srcMtime };
      const dstSide = { size: r.dstSize, etag: r.dstEtag, mtime: Date.now() };
      return side === "a" ? record(key, srcSide, dstSide) : record(key, dstSide, srcSide);
    };
    // A same-side copy (conflict backup) records the same result on the side it was made.
    const put = (key: string, onA: TransferResult, onB: TransferResult): StateRecord =>
      record(key, { size: onA.dstSize, etag: onA.dstEtag, mtime: Date.now() }, { size: onB.dstSize, etag: onB.dstEtag, mtime: Date.now() });

    ctx.signal.throwIfAborted();
    ctx.out.startProgress(job.name, d.copies + d.conflicts, d.bytes);
    await pool(d.transfers.source(), ctx.transfers, async (x) => {
      if (x.kind === "copy") {
        const from = sideLoc[x.from];
        const to = sideLoc[other(x.from)];
        try {
          const r = await transferWithRetry(ctx, job, from, from.prefix + x.key, x.entry, to, to.prefix + x.key);
          results.add(rec(x.key, x.from, r));
          sum.copied++;
          sum.bytes += r.bytes || r.srcSize;
          ctx.out.addObject();
          ctx.out.event({ type: "copy", job: job.name, key: x.key, to: describeLocation(to), bytes: r.srcSize, method: r.method, reason: x.reason });
        } catch (e) {
          if (ctx.signal.aborted) return;
          recordFailure(ctx, sum, job, { key: x.key, op: `copy to ${describeLocation(to)}`, message: describeError(e, isAuthError(e) ? to : undefined) });
        }
        return;
      }
      if (x.kind !== "conflict") return;
      const entry: Record<Side, Entry> = { a: x.a, b: x.b };
      try {
        if (x.winner) {
          const W = x.winner;
          const L = other(W);
          const ck = conflictKey(x.key, runAt, labels[L]);
          // 1. keep the loser's content under KEY.conflict-… on both sides, 2. then overwrite the loser.
          const [onL, onW] = await Promise.all([
            transferWithRetry(ctx, job, sideLoc[L], sideLoc[L].prefix + x.key, entry[L], sideLoc[L], sideLoc[L].prefix + ck),
            transferWithRetry(ctx, job, sideLoc[L], sideLoc[L].prefix + x.key, entry[L], sideLoc[W], sideLoc[W].prefix + ck),
          ]);
          const r = await transferWithRetry(ctx, job, sideLoc[W], sideLoc[W].prefix + x.key, entry[W], sideLoc[L], sideLoc[L].prefix + x.key);
          results.add(rec(x.key, W, r));
          results.add(L === "a" ? put(ck, onL, onW) : put(ck, onW, onL));
          sum.bytes += r.bytes + onW.bytes;
          ctx.out.event({ type: "conflict", job: job.name, key: x.key, winner: W === "a" ? "source" : "target", kept: [ck], reason: x.reason });
        } else {
          const ckA = conflictKey(x.key, runAt, labels.a);
          const ckB = conflictKey(x.key, runAt, labels.b);
          const [aa, ab, bb, ba] = await Promise.all([
            transferWithRetry(ctx, job, A, A.prefix + x.key, x.a, A, A.prefix + ckA),
            transferWithRetry(ctx, job, A, A.prefix + x.key, x.a, B, B.prefix + ckA),
            transferWithRetry(ctx, job, B, B.prefix + x.key, x.b, B, B.prefix + ckB),
            transferWithRetry(ctx, job, B, B.prefix + x.key, x.b, A, A.prefix + ckB),
          ]);
          // Both versions are now safe under their new names on both sides: remove the original key.
          for (const s of ["a", "b"] as Side[]) {
            const k = sideLoc[s].prefix + x.key;
            const f = await deleteKeys(sideLoc[s], [k], ctx.attempts, undefined, x[s].etag.endsWith("-slo") ? new Set([k]) : undefined);
            if (f.length) throw new Error(f[0].message);
          }
          results.add(put(ckA, aa, ab));
          results.add(put(ckB, ba, bb));
          sum.bytes += ab.bytes + ba.bytes;
          ctx.out.event({ type: "conflict", job: job.name, key: x.key, winner: null, kept: [ckA, ckB], reason: x.reason });
        }
        sum.conflicts++;
        ctx.out.addObject();
      } catch (e) {
        if (ctx.signal.aborted) return;
        recordFailure(ctx, sum, job, { key: x.key, op: "resolve conflict", message: describeError(e) });
      }
    }, ctx.signal);
    ctx.out.stopProgress();
    ctx.signal.throwIfAborted();

    if (nDeletes) {
      if (sum.errors > 0) {
        sum.skipped += nDeletes;
        ctx.out.warn(`job ${job.name}: ${nDeletes} deletes skipped because transfers failed; the next run retries`, { job: job.name });
      } else {
        for (const s of ["a", "b"] as Side[]) if (d.deletes[s].count) await applyDeletes(ctx, sum, job, sideLoc[s], d.deletes[s]);
      }
    }
    await finish(ctx, job, sum, [d.section], stored, dir, sampler);
  } finally {
    cleanup();
  }
}

// ------------------------------------------------------------------------------ check

export async function checkJob(ctx: RunContext, config: JobConfig): Promise<CheckSummary> {
  const t0 = Date.now();
  const before = { ...ctx.counts };
  let job = config;
  const sum: CheckSummary = {
    type: "summary",
    job: job.name,
    mode: job.mode,
    command: "check",
    inSync: false,
    exitCode: 1,
    source: { objects: 0, bytes: 0 },
    targets: [],
    requests: diffCounts(ctx.counts, ctx.counts),
    seconds: 0,
    errors: 0,
    failures: [],
  };
  const dir = new RunDir(ctx.spoolDir, job.name);
  let diffs: Spool<CheckDiff> | undefined;
  try {
    // `check --shard K/N` compares only range K (the map's, or one computed and not written).
    try {
      job = await jobForRun(ctx, config, dir.path, false);
    } catch (e) {
      shardFailure(ctx, sum, config, e);
      dir.remove();
      sum.requests = diffCounts(ctx.counts, before);
      sum.seconds = (Date.now() - t0) / 1000;
      return sum;
    }
    if (ctx.shard) {
      sum.shard = `${ctx.shard.index}/${ctx.shard.count}`;
      sum.range = jobRanges.get(job);
    }
    const stored = await openStored(ctx, job, dir.path, true);
    const state = describes(stored.state, job) ? stored.state : undefined;
    const journal = describes(stored.journal, job) ? stored.journal : undefined;
    const srcLoc = loc(ctx, job.source);
    const tgtLocs = job.targets.map((t) => loc(ctx, t));
    const accept = makeFilter(job);
    const targets: CheckTarget[] = await decideWithRetries(
      ctx,
      job,
      stored.unordered,
      async (sorted, dropped) => {
        diffs = new Spool(join(freshDir(dir.path, "pass"), "diffs.spool"), checkDiffCodec);
        const out = diffs;
        const ts: CheckTarget[] = job.targets.map((t) => ({ location: locId(t), objects: 0, bytes: 0, missing: 0, different: 0, extra: 0, missingKeys: [], differentKeys: [], extraKeys: [] }));
        const note = (ti: number, entry: Entry, reason: CheckDiff["reason"]) => {
          ts[ti][reason]++;
          const names = ts[ti][`${reason}Keys`];
          if (names.length < CHECK_KEYS_LISTED) names.push(entry.key);
          out.add({ ti, entry, reason });
        };
        const srcLabel = `source ${describeLocation(srcLoc)}`;
        const tgtLabels = tgtLocs.map((l) => `target ${describeLocation(l)}`);
        const r = await copyPass(
          {
            src: listing(ctx, job, srcLoc, srcLabel, accept, stored, sorted, dir.path),
            tgts: tgtLocs.map((l, i) => listing(ctx, job, l, tgtLabels[i], accept, stored, sorted, dir.path)),
            states: job.targets.map((t) => (state && !dropped.has("state") ? recordSource(state.path, locId(t), "state", dir.path, sorted.has("state")) : undefined)),
            journals: job.targets.map((t) => (journal && !dropped.has("ETag pair journal") ? recordSource(journal.path, locId(t), "ETag pair journal", dir.path, sorted.has("ETag pair journal")) : undefined)),
            labels: { src: srcLabel, tgts: tgtLabels, states: job.targets.map(() => "state"), journals: job.targets.map(() => "ETag pair journal") },
          },
          false,
          {
            copy: (ti, entry, reason) => note(ti, entry, reason),
            extra: (ti, entry) => note(ti, entry, "extra"),
            same: () => undefined,
            sameRun: () => undefined,
            keepPair: () => undefined,
          },
        );
        sum.source = { objects: r.src.objects, bytes: r.src.bytes };
        r.tgts.forEach((t, i) => {
          ts[i].objects = t.objects;
          ts[i].bytes = t.bytes;
        });
        return ts;
      },
      () => diffs?.close(),
    );
    sum.targets = targets;
    // Every differing key as an event (--json), after the pass (a repeated pass never repeats one).
    await forEachItem(diffs!.source(), (x) => ctx.out.event({ type: x.reason, job: job.name, key: x.entry.key, target: describeLocation(tgtLocs[x.ti]) }));
    const inSync = targets.every((t) => !t.missing && !t.different && (job.mode === "copy" || !t.extra));
    sum.inSync = inSync;
    sum.exitCode = inSync ? 0 : 1;
  } catch (e) {
    const intr = e instanceof Interrupted ? e : ctx.signal.reason instanceof Interrupted ? ctx.signal.reason : undefined;
    if (intr) {
      sum.exitCode = intr.exitCode;
      ctx.out.error(`job ${job.name}: ${intr.message}`, { job: job.name, interrupted: intr.sig });
    } else {
      sum.errors++;
      const message = e instanceof JobError ? e.message : describeError(e);
      sum.failures.push({ key: "", op: "check", message });
      ctx.out.error(`job ${job.name}: ${message}`, { job: job.name });
    }
  } finally {
    diffs?.close();
    dir.remove();
  }
  sum.requests = diffCounts(ctx.counts, before);
  sum.seconds = (Date.now() - t0) / 1000;
  return sum;
}

// Re-exported for tests of the pure parts.
export { sameContent };
