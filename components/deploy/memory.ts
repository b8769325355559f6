// The memory a runner job needs, from what is in flight, never from the number of keys (issue 12):
// the streaming engine keeps listing pages ahead of the merge up to a bound (the rest spools to
// disk), and each transfer holds at most its multipart parts in flight. Pure; used by the platforms
// for the heap flag and the systemd/container memory limits, and by the bench to run the runner as
// it is deployed.

/** node + the runner bundle + the AWS SDK, measured idle: about 90 MiB RSS. */
export const RUNNER_BASE_MIB = 100;
/** V8 old-space limit for the runner (--max-old-space-size). The live JS heap of a job is bounded
 *  by pages in flight (listConcurrency × 1,000 entries per side, plus 50,000 entries ahead before
 *  spooling) and measured at 30–70 MiB whatever N; the limit leaves room for GC to work. */
export const RUNNER_HEAP_MB = 192;
/** Multipart parts buffered per large transfer (lib-storage queue). */
export const PARTS_IN_FLIGHT = 4;

export interface MemoryInputs {
  transfers?: number;
  partSizeMiB?: number;
}

/**
 * Worst-case RSS of one runner process in MiB: base + heap + every transfer streaming a large
 * object with its parts in flight (small objects stream through 64 KiB buffers).
 */
export function runnerMemoryMiB(m: MemoryInputs = {}): number {
  const transfers = m.transfers ?? 16;
  const part = m.partSizeMiB ?? 8;
  return RUNNER_BASE_MIB + RUNNER_HEAP_MB + transfers * PARTS_IN_FLIGHT * part;
}
