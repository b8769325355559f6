// Key-range shards of one job: `--shard K/N` processes only range K of N, so N machines split one
// bucket's sync and each lists only its own part. Pure: parsing, the shard map's format and
// checks, boundaries from candidates, and range membership.
//
// A shard map is N-1 increasing boundary keys (relative to the job's source prefix, UTF-8 order).
// Shard K covers the keys k with b[K-1] < k ≤ b[K] (no lower bound for K = 0, no upper bound for
// K = N-1): exactly the (lo, hi] ranges the lister already lists with StartAfter. The map is
// written once, under the job's lock, and read by every shard, so all shards agree on it; it only
// changes through an explicit reshard.
import { compareKeys } from "../decide/types.js";
import { spread } from "../list/ranges.js";

export const MAX_SHARDS = 256;

export interface ShardSpec {
  /** This process's shard, 0 ≤ index < count. */
  index: number;
  count: number;
  /** Where the index came from: the flag, or an environment variable for `auto`. */
  from: "flag" | "JOB_COMPLETION_INDEX" | "AWS_BATCH_JOB_ARRAY_INDEX";
}

export class ShardError extends Error {}

/** The environment variables `auto` reads the index from: Kubernetes Indexed Jobs, AWS Batch array jobs. */
const INDEX_VARS = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"] as const;

/** Parses `K/N` or `auto/N`. */
export function parseShard(value: string, env: Record<string, string | undefined> = process.env): ShardSpec {
  const m = /^(auto|\d+)\/(\d+)$/.exec(value.trim());
  if (!m) throw new ShardError(`--shard ${JSON.stringify(value)} is not K/N: write e.g. --shard 0/4 (shard 0 of 4), or --shard auto/4 to read K from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX`);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_SHARDS) throw new ShardError(`--shard ${value}: N must be from 1 to ${MAX_SHARDS}, got ${m[2]}`);
  let index: number;
  let from: ShardSpec["from"] = "flag";
  if (m[1] === "auto") {
    const name = INDEX_VARS.find((v) => env[v] !== undefined && env[v] !== "");
    if (!name) throw new ShardError(`--shard auto/${count}: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job) is set; give the index explicitly, e.g. --shard 0/${count}`);
    const raw = env[name]!;
    if (!/^\d+$/.test(raw)) throw new ShardError(`--shard auto/${count}: ${name} is ${JSON.stringify(raw)}, not a whole number`);
    index = Number(raw);
    from = name;
  } else index = Number(m[1]);
  if (index >= count) throw new ShardError(`--shard ${value}: K must be from 0 to ${count - 1}${from === "flag" ? "" : ` (${from} is ${index})`}`);
  return { index, count, from };
}

/** The shard map as stored beside the job's state (`<job>.shards.json`). */
export interface ShardMap {
  version: 1;
  job: string;
  count: number;
  /** count - 1 increasing keys, relative to the job's source prefix. */
  boundaries: string[];
  /** How the boundaries were found (for the log and the docs). */
  basis: "state" | "shard-states" | "discovery" | "even";
  created: string;
}

/** Validates a parsed shard map; throws a ShardError naming what is wrong. */
export function checkShardMap(v: unknown, job: string): ShardMap {
  const m = v as Partial<ShardMap> | null;
  const bad = (what: string) => new ShardError(`job ${job}: the shard map is damaged (${what}); remove <job>.shards.json from the state location and run "reshard" to write a new one`);
  if (!m || typeof m !== "object" || m.version !== 1) throw bad("unknown version");
  if (!Number.isSafeInteger(m.count) || m.count! < 1 || m.count! > MAX_SHARDS) throw bad("count");
  if (!Array.isArray(m.boundaries) || m.boundaries.length !== m.count! - 1 || m.boundaries.some((b) => typeof b !== "string")) throw bad("boundaries");
  for (let i = 1; i < m.boundaries.length; i++) if (compareKeys(m.boundaries[i - 1], m.boundaries[i]) >= 0) throw bad("boundaries out of order");
  return m as ShardMap;
}

/** A (lo, hi] key range, relative to a location's prefix; undefined = unbounded. */
export interface KeyRange {
  lo?: string;
  hi?: string;
}

/** The (lo, hi] range of shard `index` (relative keys; undefined = unbounded). */
export function shardRange(map: Pick<ShardMap, "boundaries">, index: number): KeyRange {
  return { lo: index === 0 ? undefined : map.boundaries[index - 1], hi: index === map.boundaries.length ? undefined : map.boundaries[index] };
}

/** Whether the relative key `k` is in (lo, hi]. */
export function inRange(k: string, r: { lo?: string; hi?: string }): boolean {
  return (r.lo === undefined || compareKeys(r.lo, k) < 0) && (r.hi === undefined || compareKeys(k, r.hi) <= 0);
}

/**
 * N-1 boundaries from sorted candidate keys. With too few distinct candidates the remaining cuts
 * are made evenly between character codes after the last candidate: always N-1 increasing keys, so
 * every shard has a range (some may be empty; a later reshard balances from the keys then seen).
 */
export function boundariesFrom(candidates: readonly string[], count: number): string[] {
  const sorted = [...new Set(candidates)].filter((k) => k !== "").sort(compareKeys);
  const out = spread(sorted, count);
  const missing = count - 1 - out.length;
  if (missing <= 0) return out;
  // Even cuts over digits and lowercase letters, where the keys of most buckets start (a UUID or
  // hash key space is covered evenly): two characters each, appended after the candidates.
  const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
  const span = ALPHABET.length * ALPHABET.length;
  const after = out.length ? out[out.length - 1] : "";
  const extra: string[] = [];
  for (let i = 1; i <= missing; i++) {
    const n = Math.floor((i * span) / (missing + 1));
    let cut = ALPHABET[Math.floor(n / ALPHABET.length)] + ALPHABET[n % ALPHABET.length];
    const prev = extra.length ? extra[extra.length - 1] : after;
    if (prev && compareKeys(cut, prev) <= 0) cut = `${prev}${cut}`;
    extra.push(cut);
  }
  return [...out, ...extra];
}
