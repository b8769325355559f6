// `reshard --shards N`: the explicit, safe way to change how a job is split. It holds the job's
// lock and the lock of every current shard (so no run of the job is in progress), writes the new
// map (boundaries from the keys the shards' states sampled), and removes the job's states and
// journals: each old state covers an old range, and a state that does not match its range could
// make a bisync run take a key it never saw for a deleted one. The next run of every shard is
// therefore a first run: it copies what differs and deletes nothing (bisync merges both sides).
import type { JobConfig } from "../config/types.js";
import type { HeldLock, StateStore } from "../state/store.js";
import type { Location } from "../store/s3.js";
import { readStateMeta } from "../state/codec.js";
import { computeShardMap, readShardMap, SHARD_MAP, shardStateName, writeShardMap } from "./resolve.js";
import type { ShardMap } from "./shards.js";

export interface ReshardResult {
  type: "reshard";
  job: string;
  from: number;
  to: number;
  dryRun: boolean;
  boundaries: string[];
  basis?: ShardMap["basis"];
  /** State names whose state and journal were removed. */
  removed: string[];
}

export interface ReshardEnv {
  store: StateStore;
  source: Location;
  attempts: number;
  lockTtlMs: number;
  dir: string;
  dryRun: boolean;
  heldLocks: Set<HeldLock>;
}

export async function reshardJob(env: ReshardEnv, job: JobConfig, count: number): Promise<ReshardResult> {
  const locks: HeldLock[] = [];
  const take = async (name: string) => {
    const l = await env.store.lock(name, env.lockTtlMs);
    locks.push(l);
    env.heldLocks.add(l);
  };
  try {
    if (!env.dryRun) await take(job.name);
    const old = await readShardMap(env.store, job.name, env.dir);
    const from = old?.count ?? 1;
    const oldNames = old ? Array.from({ length: old.count }, (_, k) => shardStateName(job.name, { index: k, count: old.count })) : [];
    // Every shard's lock: a shard that runs now would commit a state for a range that no longer exists.
    if (!env.dryRun) for (const n of oldNames) await take(n);
    // The keys the shards' last runs sampled (each within its range), in order: the new boundaries.
    const candidates: string[] = [];
    for (const n of oldNames) {
      const path = await env.store.open(n, "state.gz", env.dir).catch(() => undefined);
      if (!path) continue;
      try {
        const r = (await readStateMeta(path)).ranges;
        if (Array.isArray(r)) candidates.push(...r.filter((k): k is string => typeof k === "string"));
      } catch {
        /* an unreadable state only contributes no candidates */
      }
    }
    const envMap = { store: env.store, source: env.source, attempts: env.attempts, lockTtlMs: env.lockTtlMs, dir: env.dir, write: !env.dryRun, log: () => undefined };
    const map = count > 1 ? await computeShardMap(envMap, job, count, candidates) : undefined;
    const removed = [job.name, ...oldNames];
    if (!env.dryRun) {
      if (map) await writeShardMap(env.store, map, env.dir);
      else if (old) await env.store.remove(job.name, SHARD_MAP);
      for (const n of removed) {
        await env.store.remove(n, "state.gz");
        await env.store.remove(n, "pairs.gz");
      }
    }
    return { type: "reshard", job: job.name, from, to: count, dryRun: env.dryRun, boundaries: map?.boundaries ?? [], ...(map ? { basis: map.basis } : {}), removed: env.dryRun ? [] : removed };
  } finally {
    for (const l of locks.reverse()) {
      await l.release().catch(() => undefined);
      env.heldLocks.delete(l);
    }
  }
}
