// One job: lock → load state → list both sides → decide (pure) → safety → execute → save state.
import picomatch from "picomatch";
import type { JobConfig, LocationConfig, RunnerConfig } from "./config/types.js";
import { decideBisync, type BisyncAction, type Side } from "./decide/bisync.js";
import { decideCopy, type CopyPlan } from "./decide/copy.js";
import { conflictKey, safetyAbort } from "./decide/safety.js";
import { mergeJournal } from "./decide/journal.js";
import { compareKeys, record, sameContent, sortEntries, type Entry, type StateRecord } from "./decide/types.js";
import { fmtBytes, type Output } from "./output.js";
import { decodeState, encodeState, StateFormatError, type StateFile, type StateSection } from "./state/codec.js";
import { LockedError, type HeldLock, type StateStore } from "./state/store.js";
import {
  deleteKeys,
  describeLocation,
  diffCounts,
  errorCode,
  isAuthError,
  listLocation,
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
  exitCode: 0 | 1 | 3;
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
  stateWritten: boolean;
}

export interface CheckSummary {
  type: "summary";
  job: string;
  mode: string;
  command: "check";
  inSync: boolean;
  exitCode: 0 | 1;
  source: { objects: number; bytes: number };
  targets: { location: string; objects: number; bytes: number; missing: number; different: number; extra: number }[];
  requests: RequestCounts;
  seconds: number;
  errors: number;
  failures: Failure[];
}

const MAX_FAILURES_LISTED = 100;

function makeFilter(job: JobConfig): (k: string) => boolean {
  // The default include ("**", everything) must not go through picomatch: it never matches a key
  // with a "." or ".." path segment (e.g. "a/../b", "p/."), even with dot: true, and S3 keys are
  // opaque strings, so those keys would silently never replicate.
  const all = !job.include || job.include.includes("**");
  const inc = all ? () => true : picomatch(job.include!, { dot: true });
  const exc = job.exclude && job.exclude.length ? picomatch(job.exclude, { dot: true }) : undefined;
  return (k) => k !== "" && inc(k) && !(exc && exc(k));
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
  const ep = where ? `endpoint "${where.ep.name}" (${where.ep.url}), bucket "${where.bucket}"` : "";
  if (where && isAuthError(e)) {
    return `${ep}: access denied (${code}: ${msg}); check endpoints.${where.ep.name}.credentials`;
  }
  if (where && (code === "NoSuchBucket" || /does not exist/i.test(msg))) return `${ep}: ${code}: ${msg}`;
  return where ? `${ep}: ${code}: ${msg}` : `${code}: ${msg}`;
}

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
}

async function loadState(ctx: RunContext, job: JobConfig): Promise<StateFile | undefined> {
  const buf = await ctx.store.load(job.name);
  if (!buf) return undefined;
  try {
    return decodeState(buf);
  } catch (e) {
    if (e instanceof StateFormatError || e instanceof SyntaxError) {
      ctx.out.warn(`job ${job.name}: ignoring unreadable state in ${ctx.store.description} (${(e as Error).message}); treating this run as a first run`, { job: job.name });
      return undefined;
    }
    throw e;
  }
}

/** The ETag pair journal (decide/journal.ts). Unreadable: ignored (it is only evidence of equality). */
interface LoadedJournal {
  /** A journal object/file exists (so a successful run removes it). */
  exists: boolean;
  file?: StateFile;
}

async function loadJournal(ctx: RunContext, job: JobConfig): Promise<LoadedJournal> {
  let buf: Buffer | undefined;
  try {
    buf = await ctx.store.loadJournal(job.name);
  } catch (e) {
    ctx.out.warn(`job ${job.name}: cannot read the ETag pair journal in ${ctx.store.description} (${describeError(e)}); continuing without it`, { job: job.name });
    return { exists: false };
  }
  if (!buf) return { exists: false };
  try {
    return { exists: true, file: decodeState(buf) };
  } catch (e) {
    ctx.out.warn(`job ${job.name}: ignoring unreadable ETag pair journal in ${ctx.store.description} (${(e as Error).message})`, { job: job.name });
    return { exists: true };
  }
}

/**
 * After the job: state written → the journal is obsolete (its pairs are in the state): remove it.
 * State not written → save this run's completed transfers as pairs, merged with the old journal
 * (bounded by the listings). Journal I/O failures are warnings: the journal only saves work.
 */
async function finishJournal(ctx: RunContext, job: JobConfig, sum: JobSummary, loaded: LoadedJournal, sections: () => StateSection[]): Promise<void> {
  try {
    if (sum.stateWritten) {
      if (loaded.exists) await ctx.store.deleteJournal(job.name);
      return;
    }
    const secs = sections().filter((s) => s.records.length > 0);
    if (secs.length === 0) {
      if (loaded.exists) await ctx.store.deleteJournal(job.name);
      return;
    }
    const file: StateFile = { meta: { job: job.name, mode: job.mode, source: locId(job.source), written: new Date().toISOString() }, sections: secs };
    await ctx.store.saveJournal(job.name, encodeState(file));
  } catch (e) {
    ctx.out.warn(`job ${job.name}: ETag pair journal not updated in ${ctx.store.description} (${describeError(e)}); the next run may copy again what this run copied`, { job: job.name });
  }
}

/** The prior records for source→target, or undefined when the state does not describe this pair. */
function priorFor(state: StateFile | undefined, job: JobConfig, target: LocationConfig, requireMode?: string): StateRecord[] | undefined {
  if (!state || state.meta.source !== locId(job.source)) return undefined;
  if (requireMode && state.meta.mode !== requireMode) return undefined;
  return state.sections.find((s) => s.target === locId(target))?.records;
}

function sortRecords(rs: StateRecord[]): StateRecord[] {
  return rs.sort((p, q) => compareKeys(p.key, q.key));
}

async function listSides(ctx: RunContext, job: JobConfig): Promise<{ src: Entry[]; tgts: Entry[][] }> {
  const accept = makeFilter(job);
  const all = [job.source, ...job.targets].map((l) => loc(ctx, l));
  const lists = await Promise.all(
    all.map(async (l) => {
      try {
        return sortEntries(await listLocation(l, ctx.attempts, accept));
      } catch (e) {
        throw new JobError(`listing ${describeLocation(l)} failed: ${describeError(e, l)}`);
      }
    }),
  );
  return { src: lists[0], tgts: lists.slice(1) };
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

export async function runJob(ctx: RunContext, job: JobConfig): Promise<JobSummary> {
  const t0 = Date.now();
  const before = { ...ctx.counts };
  const sum = emptySummary(job, ctx);
  let lock: HeldLock | undefined;
  try {
    if (!ctx.dryRun) {
      lock = await ctx.store.lock(job.name, ctx.lockTtlMs);
      ctx.heldLocks.add(lock);
    }
    if (job.mode === "bisync") await runBisync(ctx, job, sum);
    else await runCopy(ctx, job, sum);
  } catch (e) {
    sum.ok = false;
    sum.exitCode = 1;
    const message = e instanceof JobError || e instanceof LockedError ? e.message : describeError(e);
    sum.errors++;
    sum.failures.push({ key: "", op: "job", message });
    ctx.out.error(`job ${job.name}: ${message}`, { job: job.name });
  } finally {
    ctx.out.stopProgress();
    if (lock) {
      await lock.release().catch(() => undefined);
      ctx.heldLocks.delete(lock);
    }
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

async function transferWithRetry(ctx: RunContext, from: Location, fromKey: string, entry: Entry, to: Location, toKey: string): Promise<TransferResult> {
  return withRetry(
    () =>
      transferObject(from, fromKey, entry, to, toKey, {
        ...ctx.transfer,
        onBytes: (n) => ctx.out.addBytes(n),
      }),
    ctx.attempts,
  );
}

// ------------------------------------------------------------------------------ copy / sync

async function runCopy(ctx: RunContext, job: JobConfig, sum: JobSummary): Promise<void> {
  const deletes = job.mode === "sync";
  const maxPct = job.maxDeletePercent ?? 50;
  const state = await loadState(ctx, job);
  const journal = await loadJournal(ctx, job);
  const { src, tgts } = await listSides(ctx, job);
  const srcLoc = loc(ctx, job.source);
  const tgtLocs = job.targets.map((t) => loc(ctx, t));
  const priorSrcCount = state?.sections.length ? Math.max(...state.sections.map((s) => s.records.length)) : undefined;
  const plans: CopyPlan[] = job.targets.map((t, i) => decideCopy(src, tgts[i], priorFor(state, job, t), { deletes, journal: priorFor(journal.file, job, t) }));

  // Safety, before any change.
  if (deletes && !ctx.force) {
    for (let i = 0; i < plans.length; i++) {
      let reason: string | undefined;
      if (src.length === 0 && tgts[i].length > 0) {
        reason = `source ${describeLocation(srcLoc)} lists no objects while target ${describeLocation(tgtLocs[i])} has ${tgts[i].length}${priorSrcCount ? ` (and the last run saw ${priorSrcCount})` : ""}; refusing to delete everything (use --force if this is intended)`;
      } else {
        reason = safetyAbort({ side: `target ${describeLocation(tgtLocs[i])}`, objects: tgts[i].length, deletes: plans[i].deletes.length, maxDeletePercent: maxPct });
      }
      if (reason) return abort(ctx, job, sum, reason);
    }
  }

  sum.unchanged = plans.reduce((n, p) => n + p.same.length, 0);
  const tasks: { ti: number; entry: Entry }[] = [];
  plans.forEach((p, ti) => p.copies.forEach((c) => tasks.push({ ti, entry: c.entry })));
  const totalBytes = tasks.reduce((n, t) => n + t.entry.size, 0);
  ctx.out.event({ type: "plan", job: job.name, mode: job.mode, dryRun: ctx.dryRun, source: src.length, targets: tgts.map((t) => t.length), copies: tasks.length, bytes: totalBytes, deletes: plans.reduce((n, p) => n + p.deletes.length, 0) });

  if (ctx.dryRun) {
    plans.forEach((p, ti) => {
      for (const c of p.copies) ctx.out.event({ type: "would-copy", job: job.name, key: c.entry.key, to: describeLocation(tgtLocs[ti]), bytes: c.entry.size, reason: c.reason });
      for (const d of p.deletes) ctx.out.event({ type: "would-delete", job: job.name, key: d.key, side: describeLocation(tgtLocs[ti]) });
    });
    sum.copied = tasks.length;
    sum.bytes = totalBytes;
    sum.deleted = plans.reduce((n, p) => n + p.deletes.length, 0);
    if (!ctx.out.json) ctx.out.info(`job ${job.name}: dry run: would copy ${tasks.length} objects (${fmtBytes(totalBytes)}) and delete ${sum.deleted}`);
    return;
  }

  const newRecords: StateRecord[][] = job.targets.map(() => []);
  ctx.out.startProgress(job.name, tasks.length, totalBytes);
  await pool(tasks, ctx.transfers, async ({ ti, entry }) => {
    const to = tgtLocs[ti];
    try {
      const r = await transferWithRetry(ctx, srcLoc, srcLoc.prefix + entry.key, entry, to, to.prefix + entry.key);
      newRecords[ti].push(record(entry.key, { size: r.srcSize, etag: r.srcEtag, mtime: r.srcMtime }, { size: r.dstSize, etag: r.dstEtag, mtime: Date.now() }));
      sum.copied++;
      sum.bytes += r.bytes || r.srcSize;
      ctx.out.addObject();
      ctx.out.event({ type: "copy", job: job.name, key: entry.key, to: describeLocation(to), bytes: r.srcSize, method: r.method });
    } catch (e) {
      recordFailure(ctx, sum, job, { key: entry.key, op: `copy to ${describeLocation(to)}`, message: describeError(e, e && isAuthError(e) ? to : undefined) });
    }
  });
  ctx.out.stopProgress();

  if (deletes) {
    const planned = plans.reduce((n, p) => n + p.deletes.length, 0);
    if (sum.errors > 0) {
      // rclone's rule, and the fix for Sclone's bug: no deletes after a failed transfer.
      sum.skipped += planned;
      if (planned) ctx.out.warn(`job ${job.name}: ${planned} deletes skipped because transfers failed; the next run retries`, { job: job.name });
    } else {
      for (let ti = 0; ti < plans.length; ti++) {
        const to = tgtLocs[ti];
        const keys = plans[ti].deletes.map((d) => to.prefix + d.key);
        const failures = await deleteKeys(to, keys, ctx.attempts, (n) => (sum.deleted += n));
        for (const f of failures) recordFailure(ctx, sum, job, { key: f.key, op: `delete on ${describeLocation(to)}`, message: f.message });
        for (const d of plans[ti].deletes) ctx.out.event({ type: "delete", job: job.name, key: d.key, side: describeLocation(to) });
      }
    }
  }

  try {
    if (sum.errors === 0) {
      const sections: StateSection[] = job.targets.map((t, ti) => ({ target: locId(t), records: sortRecords(plans[ti].same.concat(newRecords[ti])) }));
      await saveState(ctx, job, sections, sum);
    } else {
      ctx.out.warn(`job ${job.name}: state not written because ${sum.errors} operation(s) failed; the next run retries them`, { job: job.name });
    }
  } finally {
    await finishJournal(ctx, job, sum, journal, () =>
      job.targets.map((t, ti) => ({ target: locId(t), records: mergeJournal(priorFor(journal.file, job, t), newRecords[ti], src, tgts[ti]) })),
    );
  }
}

function abort(ctx: RunContext, job: JobConfig, sum: JobSummary, reason: string): void {
  sum.ok = false;
  sum.exitCode = 3;
  sum.aborted = reason;
  ctx.out.error(`job ${job.name}: safety abort: ${reason}`, { job: job.name, abort: true });
}

async function saveState(ctx: RunContext, job: JobConfig, sections: StateSection[], sum: JobSummary): Promise<void> {
  const file: StateFile = { meta: { job: job.name, mode: job.mode, source: locId(job.source), written: new Date().toISOString() }, sections };
  try {
    await ctx.store.save(job.name, encodeState(file));
    sum.stateWritten = true;
  } catch (e) {
    throw new JobError(`writing state to ${ctx.store.description} failed: ${describeError(e)}; the next run behaves as if this one had not happened`);
  }
}

// ------------------------------------------------------------------------------ bisync

async function runBisync(ctx: RunContext, job: JobConfig, sum: JobSummary): Promise<void> {
  const maxPct = job.maxDeletePercent ?? 50;
  const state = ctx.resync ? undefined : await loadState(ctx, job);
  const prior = priorFor(state, job, job.targets[0], "bisync");
  const journal = await loadJournal(ctx, job);
  const pairs = priorFor(journal.file, job, job.targets[0]);
  const { src: a, tgts } = await listSides(ctx, job);
  const b = tgts[0];
  const A = loc(ctx, job.source);
  const B = loc(ctx, job.targets[0]);
  const sideLoc: Record<Side, Location> = { a: A, b: B };
  const labels: Record<Side, string> =
    job.source.endpoint !== job.targets[0].endpoint ? { a: job.source.endpoint, b: job.targets[0].endpoint } : { a: "source", b: "target" };
  const plan = decideBisync(a, b, prior, { deletes: job.deletes !== false, conflict: job.conflict ?? "newer", journal: pairs });

  if (!ctx.force && prior) {
    const checks = (["a", "b"] as Side[]).map((s) => ({
      side: `${s === "a" ? "source" : "target"} ${describeLocation(sideLoc[s])}`,
      objects: (s === "a" ? a : b).length,
      deletes: plan.deletes[s],
      priorObjects: prior.length,
      maxDeletePercent: maxPct,
    }));
    // An emptied side is the cause and the other side's max-delete only its symptom: name the cause.
    const reason = checks.map((c) => safetyAbort({ ...c, deletes: 0 })).find(Boolean) ?? checks.map(safetyAbort).find(Boolean);
    if (reason) return abort(ctx, job, sum, reason);
  }

  sum.unchanged = plan.same.length;
  const transfers = plan.actions.filter((x) => x.kind !== "delete");
  const dels = plan.actions.filter((x): x is Extract<BisyncAction, { kind: "delete" }> => x.kind === "delete");
  const size = (x: BisyncAction) => (x.kind === "copy" ? x.entry.size : x.kind === "conflict" ? x.a.size + x.b.size : 0);
  const totalBytes = transfers.reduce((n, x) => n + size(x), 0);
  ctx.out.event({
    type: "plan",
    job: job.name,
    mode: job.mode,
    dryRun: ctx.dryRun,
    firstRun: plan.firstRun,
    source: a.length,
    targets: [b.length],
    copies: transfers.filter((x) => x.kind === "copy").length,
    conflicts: transfers.length - transfers.filter((x) => x.kind === "copy").length,
    deletes: dels.length,
    bytes: totalBytes,
  });
  if (plan.firstRun && !ctx.out.json) ctx.out.info(`job ${job.name}: ${ctx.resync ? "--resync" : "no state yet (first run)"}: merging both sides, no deletes`);
  const runAt = new Date();

  if (ctx.dryRun) {
    for (const x of plan.actions) {
      if (x.kind === "copy") ctx.out.event({ type: "would-copy", job: job.name, key: x.key, to: describeLocation(sideLoc[x.from === "a" ? "b" : "a"]), bytes: x.entry.size, reason: x.reason });
      else if (x.kind === "delete") ctx.out.event({ type: "would-delete", job: job.name, key: x.key, side: describeLocation(sideLoc[x.side]), reason: x.reason });
      else ctx.out.event({ type: "would-resolve-conflict", job: job.name, key: x.key, winner: x.winner === null ? null : x.winner === "a" ? "source" : "target", reason: x.reason });
    }
    sum.copied = transfers.filter((x) => x.kind === "copy").length;
    sum.conflicts = transfers.length - sum.copied;
    sum.deleted = dels.length;
    sum.bytes = totalBytes;
    if (!ctx.out.json) ctx.out.info(`job ${job.name}: dry run: would copy ${sum.copied}, resolve ${sum.conflicts} conflicts, delete ${sum.deleted}`);
    return;
  }

  const newRecords: StateRecord[] = [];
  const other = (s: Side): Side => (s === "a" ? "b" : "a");
  const rec = (key: string, side: Side, r: TransferResult): StateRecord => {
    const srcSide = { size: r.srcSize, etag: r.srcEtag, mtime: r.srcMtime };
    const dstSide = { size: r.dstSize, etag: r.dstEtag, mtime: Date.now() };
    return side === "a" ? record(key, srcSide, dstSide) : record(key, dstSide, srcSide);
  };
  // A same-side copy (conflict backup) records the same result on the side it was made.
  const put = (key: string, onA: TransferResult, onB: TransferResult): StateRecord =>
    record(key, { size: onA.dstSize, etag: onA.dstEtag, mtime: Date.now() }, { size: onB.dstSize, etag: onB.dstEtag, mtime: Date.now() });

  ctx.out.startProgress(job.name, transfers.length, totalBytes);
  await pool(transfers, ctx.transfers, async (x) => {
    if (x.kind === "copy") {
      const from = sideLoc[x.from];
      const to = sideLoc[other(x.from)];
      try {
        const r = await transferWithRetry(ctx, from, from.prefix + x.key, x.entry, to, to.prefix + x.key);
        newRecords.push(rec(x.key, x.from, r));
        sum.copied++;
        sum.bytes += r.bytes || r.srcSize;
        ctx.out.addObject();
        ctx.out.event({ type: "copy", job: job.name, key: x.key, to: describeLocation(to), bytes: r.srcSize, method: r.method, reason: x.reason });
      } catch (e) {
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
          transferWithRetry(ctx, sideLoc[L], sideLoc[L].prefix + x.key, entry[L], sideLoc[L], sideLoc[L].prefix + ck),
          transferWithRetry(ctx, sideLoc[L], sideLoc[L].prefix + x.key, entry[L], sideLoc[W], sideLoc[W].prefix + ck),
        ]);
        const r = await transferWithRetry(ctx, sideLoc[W], sideLoc[W].prefix + x.key, entry[W], sideLoc[L], sideLoc[L].prefix + x.key);
        newRecords.push(rec(x.key, W, r));
        newRecords.push(L === "a" ? put(ck, onL, onW) : put(ck, onW, onL));
        sum.bytes += r.bytes + onW.bytes;
        ctx.out.event({ type: "conflict", job: job.name, key: x.key, winner: W === "a" ? "source" : "target", kept: [ck], reason: x.reason });
      } else {
        const ckA = conflictKey(x.key, runAt, labels.a);
        const ckB = conflictKey(x.key, runAt, labels.b);
        const [aa, ab, bb, ba] = await Promise.all([
          transferWithRetry(ctx, A, A.prefix + x.key, x.a, A, A.prefix + ckA),
          transferWithRetry(ctx, A, A.prefix + x.key, x.a, B, B.prefix + ckA),
          transferWithRetry(ctx, B, B.prefix + x.key, x.b, B, B.prefix + ckB),
          transferWithRetry(ctx, B, B.prefix + x.key, x.b, A, A.prefix + ckB),
        ]);
        // Both versions are now safe under their new names on both sides: remove the original key.
        for (const s of ["a", "b"] as Side[]) {
          const f = await deleteKeys(sideLoc[s], [sideLoc[s].prefix + x.key], ctx.attempts);
          if (f.length) throw new Error(f[0].message);
        }
        newRecords.push(put(ckA, aa, ab), put(ckB, ba, bb));
        sum.bytes += ab.bytes + ba.bytes;
        ctx.out.event({ type: "conflict", job: job.name, key: x.key, winner: null, kept: [ckA, ckB], reason: x.reason });
      }
      sum.conflicts++;
      ctx.out.addObject();
    } catch (e) {
      recordFailure(ctx, sum, job, { key: x.key, op: "resolve conflict", message: describeError(e) });
    }
  });
  ctx.out.stopProgress();

  if (dels.length) {
    if (sum.errors > 0) {
      sum.skipped += dels.length;
      ctx.out.warn(`job ${job.name}: ${dels.length} deletes skipped because transfers failed; the next run retries`, { job: job.name });
    } else {
      for (const s of ["a", "b"] as Side[]) {
        const mine = dels.filter((d) => d.side === s);
        if (!mine.length) continue;
        const L = sideLoc[s];
        const failures = await deleteKeys(L, mine.map((d) => L.prefix + d.key), ctx.attempts, (n) => (sum.deleted += n));
        for (const f of failures) recordFailure(ctx, sum, job, { key: f.key, op: `delete on ${describeLocation(L)}`, message: f.message });
        for (const d of mine) ctx.out.event({ type: "delete", job: job.name, key: d.key, side: describeLocation(L), reason: d.reason });
      }
    }
  }

  try {
    if (sum.errors === 0) {
      await saveState(ctx, job, [{ target: locId(job.targets[0]), records: sortRecords(plan.same.concat(newRecords)) }], sum);
    } else {
      ctx.out.warn(`job ${job.name}: state not written because ${sum.errors} operation(s) failed; the next run retries them`, { job: job.name });
    }
  } finally {
    await finishJournal(ctx, job, sum, journal, () => [{ target: locId(job.targets[0]), records: mergeJournal(pairs, newRecords, a, b) }]);
  }
}

// ------------------------------------------------------------------------------ check

export async function checkJob(ctx: RunContext, job: JobConfig): Promise<CheckSummary> {
  const t0 = Date.now();
  const before = { ...ctx.counts };
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
  try {
    const state = await loadState(ctx, job);
    const journal = await loadJournal(ctx, job);
    const { src, tgts } = await listSides(ctx, job);
    sum.source = { objects: src.length, bytes: src.reduce((n, e) => n + e.size, 0) };
    let inSync = true;
    job.targets.forEach((t, i) => {
      const p = decideCopy(src, tgts[i], priorFor(state, job, t), { deletes: false, journal: priorFor(journal.file, job, t) });
      sum.targets.push({
        location: locId(t),
        objects: tgts[i].length,
        bytes: tgts[i].reduce((n, e) => n + e.size, 0),
        missing: p.missing,
        different: p.different,
        extra: p.extra,
      });
      if (p.missing || p.different || (job.mode !== "copy" && p.extra)) inSync = false;
      const tl = loc(ctx, t);
      for (const c of p.copies) ctx.out.event({ type: c.reason, job: job.name, key: c.entry.key, target: describeLocation(tl) });
    });
    sum.inSync = inSync;
    sum.exitCode = inSync ? 0 : 1;
  } catch (e) {
    sum.errors++;
    const message = e instanceof JobError ? e.message : describeError(e);
    sum.failures.push({ key: "", op: "check", message });
    ctx.out.error(`job ${job.name}: ${message}`, { job: job.name });
  }
  sum.requests = diffCounts(ctx.counts, before);
  sum.seconds = (Date.now() - t0) / 1000;
  return sum;
}

// Re-exported for tests of the pure parts.
export { sameContent };
