// The bandwidth limit (`maxBytesPerSecond` of a job or an endpoint): token buckets on the bytes of
// streamed copies (the body between the source's GET and the destination's PUT). One bucket per
// job and one per endpoint, shared by every transfer of that job or through that endpoint, so the
// limit holds for the sum of the parallel transfers. Server-side copies, listings and state I/O do
// not carry object bytes through this machine and are not limited.
import { setTimeout as sleep } from "node:timers/promises";
import type { RunnerConfig } from "../config/types.js";

export class TokenBucket {
  private tokens = 0;
  private last = performance.now();
  /** At most this much unused allowance accumulates while idle (a quarter second's worth). */
  private readonly burst: number;
  constructor(readonly bytesPerSecond: number) {
    this.burst = Math.max(16 * 1024, bytesPerSecond / 4);
  }
  /** Takes `n` bytes' worth, waiting as long as the bucket is in debt. Concurrent takers queue by
   *  arrival: each one's wait covers the debt of those before it. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = now;
    this.tokens -= n;
    if (this.tokens >= 0) return;
    await sleep((-this.tokens / this.bytesPerSecond) * 1000, undefined, signal ? { signal } : {});
  }
}

/** The buckets of a run: per job name and per endpoint name, for those with a limit. */
export class Limits {
  private readonly jobs = new Map<string, TokenBucket>();
  private readonly endpoints = new Map<string, TokenBucket>();
  constructor(cfg: RunnerConfig) {
    for (const j of cfg.jobs) if (j.maxBytesPerSecond !== undefined) this.jobs.set(j.name, new TokenBucket(j.maxBytesPerSecond));
    for (const [name, e] of Object.entries(cfg.endpoints)) if (e.maxBytesPerSecond !== undefined) this.endpoints.set(name, new TokenBucket(e.maxBytesPerSecond));
  }
  /** The throttle of a streamed copy of `job` from endpoint `from` to `to` (each bucket counted
   *  once), or undefined when none of them is limited. */
  throttle(job: string, from: string, to: string, signal?: AbortSignal): ((n: number) => Promise<void>) | undefined {
    const buckets = [...new Set([this.jobs.get(job), this.endpoints.get(from), this.endpoints.get(to)])].filter((b): b is TokenBucket => b !== undefined);
    if (!buckets.length) return undefined;
    return async (n) => {
      for (const b of buckets) await b.take(n, signal);
    };
  }
}
