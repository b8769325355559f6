// The shard map of a job, read from or written to the job's state location, and the job a shard
// runs: the job's own config, renamed so that the shard's state, journal and lock are its own
// (`<job>.shard-K-of-N`), and limited to the shard's key range.
//
// The map is created once, by whichever shard comes first, while it holds the job's own lock (the
// lock an unsharded run of the job holds for its whole run), so every shard sees the same map and
// no unsharded run is in progress. It changes only through `reshard`.
import { join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import type { JobConfig } from "../config/types.js";
import { readStateMeta } from "../state/codec.js";
import { LockedError, type StateStore } from "../state/store.js";
import { listPage } from "../store/list.js";
import type { Location } from "../store/s3.js";
import { boundariesFrom, checkShardMap, ShardError, shardRange, type ShardMap, type ShardSpec } from "./shards.js";

export const SHARD_MAP: "shards.json" = "shards.json";

/** What resolving needs from the run: the store, the job's source location, how to retry. */
export interface ShardEnv {
  store: StateStore;
  source: Location;
  attempts: number;
  lockTtlMs: number;
  /** A directory for downloaded files. */
  dir: string;
  /** Dry runs and `check` compute a missing map without writing it. */
  write: boolean;
  /** How long to wait for the job's lock while another shard writes the map (ms). */
  lockWaitMs?: number;
  log: (message: string) => void;
}

/** The state name of shard K of N of a job: its state, journal and lock. */
export function shardStateName(job: string, spec: Pick<ShardSpec, "index" | "count">): string {
  return `${job}.shard-${spec.index}-of-${spec.count}`;
}

export async function readShardMap(store: StateStore, job: string, dir: string): Promise<ShardMap | undefined> {
  const path = await store.open(job, SHARD_MAP, dir);
  if (!path) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new ShardError(`job ${job}: the shard map is not JSON; remove ${job}.${SHARD_MAP} from the state location and run "reshard" to write a new one`);
  }
  return checkShardMap(parsed, job);
}

/** Boundary candidates of an unsharded state: the keys its run sampled for parallel listing. */
async function stateBoundaries(store: StateStore, name: string, dir: string): Promise<string[]> {
  const path = await store.open(name, "state.gz", dir).catch(() => undefined);
  if (!path) return [];
  try {
    const ranges = (await readStateMeta(path)).ranges;
    return Array.isArray(ranges) ? ranges.filter((k): k is string => typeof k === "string") : [];
  } catch {
    return [];
  }
}

/**
 * Candidates from the source's directory structure: the CommonPrefixes (and keys) at the first
 * level with more than one entry, up to 4 levels down and 8 pages a level. Relative keys.
 */
async function discoverBoundaries(source: Location, want: number, attempts: number): Promise<string[]> {
  let level = source.prefix;
  for (let depth = 0; depth < 4; depth++) {
    const found: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 8 && found.length < want * 8; page++) {
      const pg = await listPage(source.ep, source.bucket, { prefix: level || undefined, delimiter: "/", continuationToken: token, maxKeys: 1000 }, attempts);
      found.push(...pg.commonPrefixes, ...pg.objects.map((o) => o.key));
      if (!pg.isTruncated || !pg.nextContinuationToken) break;
      token = pg.nextContinuationToken;
    }
    const rel = found.map((k) => k.slice(source.prefix.length)).filter((k) => k !== "");
    // One directory holds everything: its children are the structure.
    if (found.length === 1 && found[0].endsWith("/") && found[0] !== level) {
      level = found[0];
      continue;
    }
    return rel;
  }
  return [];
}

/** A new map for `count` shards: from the unsharded state's samples, else from discovery. */
export async function computeShardMap(env: ShardEnv, job: JobConfig, count: number, extraCandidates: string[] = []): Promise<ShardMap> {
  let candidates = [...extraCandidates, ...(await stateBoundaries(env.store, job.name, env.dir))];
  let basis: ShardMap["basis"] = extraCandidates.length ? "shard-states" : "state";
  if (candidates.length < count - 1) {
    candidates = [...candidates, ...(await discoverBoundaries(env.source, count, env.attempts))];
    basis = "discovery";
  }
  const boundaries = boundariesFrom(candidates, count);
  if (new Set(candidates).size < count - 1) basis = "even";
  return { version: 1, job: job.name, count, boundaries, basis, created: new Date().toISOString() };
}

export async function writeShardMap(store: StateStore, map: ShardMap, dir: string): Promise<void> {
  const tmp = join(dir, `shards-${process.pid}.json`);
  writeFileSync(tmp, JSON.stringify(map, null, 2) + "\n", { mode: 0o600 });
  await store.commit(map.job, SHARD_MAP, tmp);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The shard map for `spec`: read, or (first sharded run) computed and written under the job's lock.
 * A map for another shard count is an error that says how to reshard.
 */
export async function shardMapFor(env: ShardEnv, job: JobConfig, spec: ShardSpec): Promise<ShardMap> {
  const mismatch = (m: ShardMap) =>
    new ShardError(
      `job ${job.name} is split into ${m.count} shards (its shard map in the state location), but this run asks for --shard ${spec.index}/${spec.count}; ` +
        `run every shard with N=${m.count}, or change the split with "bucket-replication reshard --config FILE --job ${job.name} --shards ${spec.count}" while no shard runs`,
    );
  const found = await readShardMap(env.store, job.name, env.dir);
  if (found) {
    if (found.count !== spec.count) throw mismatch(found);
    return found;
  }
  if (!env.write) {
    const m = await computeShardMap(env, job, spec.count);
    env.log(`job ${job.name}: no shard map yet; using one computed for this run only (${m.basis}), not written`);
    return m;
  }
  // First sharded run: one shard writes the map while holding the job's lock; the others wait for
  // the lock and then read that map.
  const deadline = Date.now() + (env.lockWaitMs ?? 120_000);
  for (;;) {
    let lock;
    try {
      lock = await env.store.lock(job.name, env.lockTtlMs);
    } catch (e) {
      if (!(e instanceof LockedError) || Date.now() > deadline) throw e;
      await sleep(250 + Math.random() * 750);
      const m = await readShardMap(env.store, job.name, env.dir);
      if (m) {
        if (m.count !== spec.count) throw mismatch(m);
        return m;
      }
      continue;
    }
    try {
      const again = await readShardMap(env.store, job.name, env.dir);
      if (again) {
        if (again.count !== spec.count) throw mismatch(again);
        return again;
      }
      const m = await computeShardMap(env, job, spec.count);
      await writeShardMap(env.store, m, env.dir);
      env.log(`job ${job.name}: wrote a shard map for ${m.count} shards (boundaries from ${m.basis === "state" ? "the unsharded state" : m.basis === "discovery" ? "the source's prefixes" : "even cuts"})`);
      return m;
    } finally {
      await lock.release().catch(() => undefined);
    }
  }
}

export { shardRange };
