// The memory a runner job needs, from what is in flight, never from the number of keys (issue 12):
// the streaming engine keeps listing pages ahead of the merge up to a bound (the rest spools to
// disk), and each transfer holds at most its multipart parts in flight. Pure; used by the platforms
// for the heap flag and the systemd/container memory limits, and by the bench to run the runner as
// it is deployed.

/** node + the runner bundle + the AWS SDK, measured idle: about 90 MiB RSS. */
export const RUNNER_BASE_MIB = 100;
/** V8 old-space limit for the runner (--max-old-space-size). The live JS heap of a job is bounded
 *  by what is in flight (listing pages are parsed only when the merge takes them; pages parsed at
 *  once, off the direct path: 10,000 entries ahead before spooling) and measured at 15–70 MiB
 *  whatever N; the limit leaves room for GC to work. */
export const RUNNER_HEAP_MB = 192;
/** V8 young-generation semi-space (--max-semi-space-size). With the heap capped at 192 MB, V8
 *  sizes the young generation from the cap (a semi-space of about 1.5 MB), so the listing's
 *  short-lived entries were scavenged and promoted over and over: at 1 M keys per side a fifth of
 *  the runner's CPU was the garbage collector. 32 MB semi-spaces cut the CPU of a bisync no-op by
 *  about a quarter for about 45 MB more RSS (docs/performance.md). */
export const RUNNER_SEMI_SPACE_MB = 32;
/** The node flags of every deployed runner (systemd units, containers, the bench). */
export const RUNNER_NODE_OPTIONS = `--max-old-space-size=${RUNNER_HEAP_MB} --max-semi-space-size=${RUNNER_SEMI_SPACE_MB}`;
/** Multipart parts buffered per large transfer (lib-storage queue). */
export const PARTS_IN_FLIGHT = 4;
/** Unparsed listing pages held ahead of the merge per listing, outside the JS heap (the lister's
 *  memBytes; beyond it pages spool to disk). */
export const LISTING_AHEAD_MIB = 8;
/** One LIST response body (1,000 keys of up to ~300 bytes of XML each), per stream in flight. */
export const LIST_PAGE_MIB = 0.32;
/** Reused LIST body buffers kept between pages (runner/store/list.ts: 32 × 320 KiB). */
export const LIST_POOL_MIB = 10;

export interface MemoryInputs {
  transfers?: number;
  partSizeMiB?: number;
  /** Listings merged at once: 2 for a bisync or a one-target copy (default), 1 + targets for a fan-out. */
  listings?: number;
  listConcurrency?: number;
}

/**
 * Worst-case RSS of one runner process in MiB: base + old space + young generation (two
 * semi-spaces) + the listings' pages outside the heap (held ahead, in flight, pooled) + every
 * transfer streaming a large object with its parts in flight (small objects stream through
 * 64 KiB buffers).
 */
export function runnerMemoryMiB(m: MemoryInputs = {}): number {
  const transfers = m.transfers ?? 16;
  const part = m.partSizeMiB ?? 8;
  const listings = m.listings ?? 2;
  const streams = m.listConcurrency ?? 32; // the runner's default (runner/cli.ts)
  const listingMiB = Math.ceil(listings * (LISTING_AHEAD_MIB + streams * LIST_PAGE_MIB) + LIST_POOL_MIB);
  return RUNNER_BASE_MIB + RUNNER_HEAP_MB + 2 * RUNNER_SEMI_SPACE_MB + listingMiB + transfers * PARTS_IN_FLIGHT * part;
}
