// replication-runner CLI: the command line (args.ts), the config (config/), the endpoints and the
// state store, then the jobs one after another (job.ts), once or on a schedule, stopped cleanly by
// SIGINT/SIGTERM. Exit codes: 0 ok / in sync; 1 transfers failed / differences; 2 bad config or
// usage; 3 safety abort; 130 SIGINT; 143 SIGTERM (args.ts has the help text, docs/runner.md more).
import { Cron } from "croner";
import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseArgs, UsageError, type Args } from "./args.js";
import { checkDir } from "./config/dirs.js";
import { loadConfig } from "./config/load.js";
import { CredentialsError, resolveCredentials, resolveSwiftAuth, secretsOf, type ResolvedCredentials } from "./config/credentials.js";
import { isSwiftEndpoint, type EndpointConfig, type JobConfig, type RunnerConfig } from "./config/types.js";
import { checkOverlaps, ConfigError } from "./config/validate.js";
import { removeRunDirs } from "./engine/inputs.js";
import { checkJob, Interrupted, runJob, type CheckSummary, type JobSummary, type RunContext } from "./job.js";
import { fmtBytes, Output } from "./output.js";
import { BucketStateStore, DirStateStore, LockedError, type HeldLock, type StateStore } from "./state/store.js";
import { SwiftStateStore } from "./state/swift-store.js";
import { parseShard, ShardError, type ShardSpec } from "./shard/shards.js";
import { reshardJob } from "./shard/reshard.js";
import { RunDir } from "./engine/inputs.js";

/** A job's duration for humans: two decimals under 10 s (a fast job never shows as "0.0s"). */
function fmtSeconds(sec: number): string {
  return sec < 10 ? `${sec.toFixed(2)}s` : `${sec.toFixed(1)}s`;
}
import { makeEndpoint, zeroCounts, type Endpoint, type RequestCounts } from "./store/s3.js";
import { secretsOfSwiftAuth, swiftPrincipal, type SwiftAuthConfig } from "./store/swift-auth.js";
import { makeSwiftEndpoint } from "./store/swift-endpoint.js";
import { Limits } from "./store/throttle.js";

/** The package version: set by the bundle build (scripts/build-runner.mjs, esbuild `define`);
 *  read from package.json when the source runs directly (tsx). */
declare const __RUNNER_VERSION__: string | undefined;
function version(): string {
  if (typeof __RUNNER_VERSION__ === "string") return __RUNNER_VERSION__;
  try {
    return (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

function selectJobs(cfg: RunnerConfig, names: string[]): JobConfig[] {
  if (!names.length) return cfg.jobs;
  return names.map((n) => {
    const j = cfg.jobs.find((x) => x.name === n);
    if (!j) throw new ConfigError("--job", `no job named "${n}"; jobs in the config: ${cfg.jobs.map((x) => x.name).join(", ")}`);
    return j;
  });
}

function humanSummary(out: Output, s: JobSummary | CheckSummary): void {
  const req = Object.entries(s.requests)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const part = s.shard ? ` [shard ${s.shard}: keys ${s.range?.lo === undefined ? "from the start" : `after ${JSON.stringify(s.range.lo)}`} ${s.range?.hi === undefined ? "to the end" : `up to ${JSON.stringify(s.range.hi)}`}]` : "";
  if (s.command === "check") {
    out.info(`${s.job}${part} (${s.mode}): ${s.inSync ? "in sync" : "DIFFERENT"}; source ${s.source.objects} objects (${fmtBytes(s.source.bytes)})`);
    for (const t of s.targets) {
      out.info(`  ${t.location}: ${t.objects} objects (${fmtBytes(t.bytes)}), missing ${t.missing}, different ${t.different}, extra ${t.extra}`);
      const kinds = [
        ["missing", t.missing, t.missingKeys],
        ["different", t.different, t.differentKeys],
        ["extra", t.extra, t.extraKeys],
      ] as const;
      for (const [kind, n, names] of kinds) {
        for (const k of names) out.info(`    ${kind}: ${JSON.stringify(k)}`);
        if (n > names.length) out.info(`    ... and ${n - names.length} more ${kind} (--json lists every key)`);
      }
    }
    out.info(`  ${fmtSeconds(s.seconds)}; requests: ${req || "none"}`);
    return;
  }
  const status = s.interrupted ? `INTERRUPTED (${s.interrupted})` : s.aborted ? "ABORTED" : s.ok ? (s.dryRun ? "dry run" : "ok") : "FAILED";
  out.info(
    `${s.job}${part} (${s.mode}): ${status}: copied ${s.copied} (${fmtBytes(s.bytes)}), deleted ${s.deleted}, conflicts ${s.conflicts}, unchanged ${s.unchanged}, skipped ${s.skipped}, errors ${s.errors} in ${fmtSeconds(s.seconds)}; requests: ${req || "none"}`,
  );
}

async function main(argv: string[]): Promise<number> {
  let args: Args;
  let shard: ShardSpec | undefined;
  try {
    const p = parseArgs(argv);
    if (p.kind === "help") {
      process.stdout.write(`${p.text}\n`);
      return 0;
    }
    if (p.kind === "version") {
      process.stdout.write(`bucket-replication ${version()}\n`);
      return 0;
    }
    args = p.args;
    if (args.shard !== undefined) {
      try {
        shard = parseShard(args.shard);
      } catch (e) {
        if (e instanceof ShardError) throw new UsageError(e.message, args.command);
        throw e;
      }
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const usage = e.command ? `usage: bucket-replication ${e.command} --config FILE [options]; bucket-replication ${e.command} --help lists them` : "usage: bucket-replication run|check --config FILE [options]; bucket-replication --help for more";
    process.stderr.write(`error: ${e.message}\n${usage}\n`);
    return 2;
  }
  const out = new Output(args.json);
  let cfg: RunnerConfig;
  let jobs: JobConfig[];
  const counts: RequestCounts = zeroCounts();
  const endpoints = new Map<string, Endpoint>();
  let store: StateStore;
  try {
    cfg = loadConfig(args.config);
    jobs = selectJobs(cfg, args.jobs);
    const used = new Set<string>();
    for (const j of jobs) for (const l of [j.source, ...j.targets]) used.add(l.endpoint);
    if ("bucket" in cfg.state) used.add(cfg.state.endpoint);
    const transfers = cfg.transfers ?? 16;
    const s3cfg = (name: string) => cfg.endpoints[name] as EndpointConfig;
    const creds = new Map<string, ResolvedCredentials | undefined>();
    const swiftAuth = new Map<string, SwiftAuthConfig>();
    // Who each endpoint's resolved credentials are (an S3 access key ID, a Swift principal).
    const accounts = new Map<string, string | undefined>();
    for (const name of used) {
      const e = cfg.endpoints[name];
      if (isSwiftEndpoint(e)) {
        const a = resolveSwiftAuth(name, e);
        swiftAuth.set(name, a);
        out.addSecrets(secretsOfSwiftAuth(a));
        accounts.set(name, swiftPrincipal(a));
        continue;
      }
      const c = resolveCredentials(name, s3cfg(name).credentials);
      creds.set(name, c);
      out.addSecrets(secretsOf(c));
      accounts.set(name, c?.accessKeyId);
    }
    // Bucket identity includes the account: check the overlaps again with the resolved access key
    // IDs (two env/file credential sources may hold the same key, i.e. the same account).
    checkOverlaps(cfg, accounts);
    for (const name of used) {
      const o = { maxSockets: transfers * 2 + 4, requestTimeoutMs: (cfg.requestTimeoutSeconds ?? 120) * 1000, counts, direct: cfg.directHttp ?? true };
      const e = cfg.endpoints[name];
      endpoints.set(name, isSwiftEndpoint(e) ? makeSwiftEndpoint(name, e, swiftAuth.get(name)!, o) : makeEndpoint(name, s3cfg(name), creds.get(name), o));
    }
    // Before anything is listed, and after every other config check (a bad config creates no
    // directory): a directory that cannot work fails now, naming its field.
    if ("dir" in cfg.state) {
      checkDir("state.dir", cfg.state.dir, (args.command === "run" || args.command === "reshard") && !args.dryRun, 'set state.dir to a writable directory on local disk, e.g. "/var/lib/replication" (a relative path is relative to the config file\'s folder)');
    }
    checkDir("spoolDir", cfg.spoolDir ?? tmpdir(), true, `set spoolDir to a writable directory on local disk, e.g. "/var/lib/replication/spool" (a relative path is relative to the config file's folder)${cfg.spoolDir === undefined ? "; without spoolDir the runner uses the OS temp directory (TMPDIR)" : ""}`);
    if ("bucket" in cfg.state) {
      // State I/O is counted apart from replication requests.
      const st = cfg.state;
      const e = cfg.endpoints[st.endpoint];
      const o = { maxSockets: 4, requestTimeoutMs: 120_000, counts: zeroCounts() };
      if (isSwiftEndpoint(e)) {
        const ep = makeSwiftEndpoint(st.endpoint, e, swiftAuth.get(st.endpoint)!, o);
        store = new SwiftStateStore(ep.swift!, st.endpoint, st.bucket, st.prefix ?? "");
      } else store = new BucketStateStore({ ep: makeEndpoint(st.endpoint, s3cfg(st.endpoint), creds.get(st.endpoint), o), bucket: st.bucket, prefix: st.prefix ?? "" });
    } else store = new DirStateStore(cfg.state.dir);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof CredentialsError) {
      const excerpt = e instanceof ConfigError ? e.excerpt : undefined;
      out.error(excerpt && !args.json ? `${e.message}\n${excerpt}` : e.message, { field: e instanceof ConfigError ? e.field : `endpoints.${e.endpoint}.credentials`, exitCode: 2, ...(excerpt ? { excerpt } : {}) });
      return 2;
    }
    throw e;
  }

  const heldLocks = new Set<HeldLock>();
  const stop = new AbortController();
  // Every transfer in flight (and every retry's backoff) listens on this one signal, removing its
  // listener when done: more than Node's default of 10 at once is the design, not a leak.
  setMaxListeners(0, stop.signal);
  if (args.command === "reshard") return reshard(args, cfg, jobs, endpoints, store, out);

  const ctx: RunContext = {
    cfg,
    ...(shard ? { shard } : {}),
    endpoints,
    store,
    counts,
    out,
    dryRun: args.dryRun,
    resync: args.resync,
    force: args.force,
    transfers: cfg.transfers ?? 16,
    attempts: cfg.retries ?? 6,
    lockTtlMs: (cfg.lockTtlSeconds ?? 900) * 1000,
    transfer: {
      multipartThreshold: (cfg.multipartThresholdMiB ?? 64) * 1024 * 1024,
      partSize: (cfg.partSizeMiB ?? 8) * 1024 * 1024,
      partsInFlight: 4,
      ...(cfg.multipartCopyThresholdMiB !== undefined ? { multipartCopyThreshold: cfg.multipartCopyThresholdMiB * 1024 * 1024 } : {}),
    },
    heldLocks,
    // 32: at 50 ms per LIST, a 100,000-key no-op takes 4 rounds of LISTs instead of 7 (0.58 s against
    // 0.65 s); the page pairs left the CPU room for it (docs/performance.md). Also components/deploy/memory.ts.
    listConcurrency: cfg.listConcurrency ?? 32,
    spoolDir: cfg.spoolDir ?? tmpdir(),
    signal: stop.signal,
    limits: new Limits(cfg),
  };
  // SIGINT/SIGTERM: abort the run cleanly (no new transfer, in-flight ones destroyed, no delete,
  // no state write; each job releases its lock and removes its spool directory as it unwinds) and
  // exit 130/143. Should unwinding take longer than STOP_GRACE_MS (a listing request in flight), or a
  // second signal come, the same cleanup runs synchronously and the process exits at once.
  const STOP_GRACE_MS = 3000;
  const hardStop = (sig: "SIGINT" | "SIGTERM") => {
    for (const l of heldLocks) l.releaseSync();
    removeRunDirs();
    out.error(`interrupted by ${sig}; state not written for unfinished jobs`);
    process.exit(new Interrupted(sig).exitCode);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    const s = sig === "SIGINT" ? "SIGINT" : "SIGTERM";
    if (stop.signal.aborted) return hardStop(s);
    out.warn(`${s} received: stopping (in-flight transfers are aborted; nothing is deleted and no state is written)`, { event: "stopping", signal: s });
    stop.abort(new Interrupted(s));
    setTimeout(() => hardStop(s), STOP_GRACE_MS).unref();
  };

  const runAll = async (): Promise<number> => {
    let code = 0;
    for (const job of jobs) {
      if (stop.signal.aborted) break; // the jobs after an interrupted one do not start
      if (args.command === "check") {
        const s = await checkJob(ctx, job);
        if (args.json) out.event({ ...s });
        else humanSummary(out, s);
        code = Math.max(code, s.exitCode);
      } else {
        const s = await runJob(ctx, job);
        if (args.json) out.event({ ...s });
        else humanSummary(out, s);
        code = code === 3 || s.exitCode === 3 ? 3 : Math.max(code, s.exitCode);
      }
    }
    return stop.signal.reason instanceof Interrupted ? stop.signal.reason.exitCode : code;
  };

  const schedule = args.command === "run" ? (args.schedule ?? cfg.schedule) : undefined;
  if (!schedule) {
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    return runAll();
  }

  // Scheduled: run at each tick; a tick that comes while a run is active is skipped (no overlap).
  let active: Promise<number> | undefined;
  let stopping = false;
  const cron = new Cron(schedule, { protect: (job) => out.warn(`schedule: a run is still active at ${new Date().toISOString()}; skipping this tick`, { nextRun: job.nextRun()?.toISOString() }) }, async () => {
    if (stopping) return;
    const started = new Date();
    out.info(`schedule: run started at ${started.toISOString()}`, { event: "run-start" });
    active = runAll();
    const code = await active.catch((e) => {
      out.error(`schedule: run crashed: ${(e as Error).message}`);
      return 1;
    });
    active = undefined;
    out.info(`schedule: run finished with exit code ${code} in ${((Date.now() - started.getTime()) / 1000).toFixed(1)}s; next run ${cron.nextRun()?.toISOString() ?? "never"}`, { event: "run-end", exitCode: code });
  });
  out.info(`schedule: "${schedule}"; next run ${cron.nextRun()?.toISOString() ?? "never"}`, { event: "scheduled" });
  return await new Promise<number>((resolve) => {
    // The first signal ends the schedule after the active run; a second one interrupts that run.
    const onStop = async (sig: NodeJS.Signals) => {
      if (stopping) return onSignal(sig);
      stopping = true;
      cron.stop();
      out.info(`schedule: ${sig} received; ${active ? "waiting for the active run to finish (send it again to interrupt the run)" : "stopping"}`);
      if (active) await active.catch(() => 1);
      resolve(stop.signal.reason instanceof Interrupted ? stop.signal.reason.exitCode : 0);
    };
    process.on("SIGINT", onStop);
    process.on("SIGTERM", onStop);
  });
}

/** `reshard`: each selected job split into `args.shards` anew (runner/shard/reshard.ts). */
async function reshard(args: Args, cfg: RunnerConfig, jobs: JobConfig[], endpoints: Map<string, Endpoint>, store: StateStore, out: Output): Promise<number> {
  let code = 0;
  const heldLocks = new Set<HeldLock>();
  const release = () => {
    for (const l of heldLocks) l.releaseSync();
  };
  process.on("SIGINT", release);
  process.on("SIGTERM", release);
  for (const job of jobs) {
    const dir = new RunDir(cfg.spoolDir ?? tmpdir(), `${job.name}-reshard`);
    try {
      const source = { ep: endpoints.get(job.source.endpoint)!, bucket: job.source.bucket, prefix: job.source.prefix ?? "" };
      const r = await reshardJob({ store, source, attempts: cfg.retries ?? 6, lockTtlMs: (cfg.lockTtlSeconds ?? 900) * 1000, dir: dir.path, dryRun: args.dryRun, heldLocks }, job, args.shards!);
      if (args.json) out.event({ ...r });
      else {
        out.info(`${job.name}: ${r.dryRun ? "dry run: would split" : "split"} ${r.from === r.to ? "again " : ""}from ${r.from} into ${r.to} shard${r.to === 1 ? " (unsharded)" : "s"}${r.basis ? `, boundaries from ${r.basis}` : ""}`);
        for (const [i, b] of r.boundaries.entries()) out.info(`  shard ${i} ends at ${JSON.stringify(b)}; shard ${i + 1} starts after it`);
        if (r.removed.length) out.info(`  removed the state and journal of ${r.removed.join(", ")}: the next run of each shard is a first run (copies what differs, deletes nothing)`);
      }
    } catch (e) {
      code = Math.max(code, e instanceof ShardError ? 2 : 1);
      const message = e instanceof LockedError ? `${e.message}; reshard only while no run of the job (and no shard) is active` : (e as Error).message;
      out.error(`job ${job.name}: reshard failed: ${message}`, { job: job.name });
    } finally {
      dir.remove();
    }
  }
  return code;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Exit once what was written is flushed (the write callbacks), not when the event loop drains:
    // everything of the run has been awaited, and a natural exit spent another 20-45 ms tearing
    // the process down (and keep-alive sockets could hold the loop open).
    process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
  },
  (e) => {
    process.stderr.write(`error: unexpected failure: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  },
);
