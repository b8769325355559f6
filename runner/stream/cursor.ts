// Sorted streams in batches, and a cursor over one for merge-joins. A merge awaits only when a
// cursor's batch is used up, so a million keys cost a thousand awaits, not a million.
import { compareKeys } from "../decide/types.js";

/** A stream of batches; `undefined` ends it. Batches are in key order, and so is every key. */
export interface BatchSource<T> {
  next(): Promise<T[] | undefined>;
  close?(): Promise<void>;
}

/** A stream broke the strictly increasing key order (UTF-8 byte order). */
export class OrderError extends Error {
  constructor(
    readonly source: string,
    readonly previous: string,
    readonly key: string,
  ) {
    super(`${source} is not in UTF-8 byte order: ${JSON.stringify(key)} came after ${JSON.stringify(previous)}`);
    this.name = "OrderError";
  }
}

export class Cursor<T extends { key: string }> {
  private batch: T[] = [];
  private i = 0;
  private done = false;
  private last: string | undefined;

  /** `label` names the stream in an OrderError; `checkOrder` false for streams sorted by us. */
  constructor(
    private readonly src: BatchSource<T>,
    readonly label: string,
    private readonly checkOrder = true,
  ) {}

  /** Whether `head` is valid without awaiting (an entry is buffered, or the stream ended). */
  get ready(): boolean {
    return this.i < this.batch.length || this.done;
  }

  /** Loads the next batch when the current one is used up. */
  async fill(): Promise<void> {
    while (!this.done && this.i >= this.batch.length) {
      const b = await this.src.next();
      if (b === undefined) {
        this.done = true;
        this.batch = [];
        this.i = 0;
        break;
      }
      if (this.checkOrder) this.check(b);
      this.batch = b;
      this.i = 0;
    }
  }

  private check(b: T[]): void {
    let prev = this.last;
    for (const x of b) {
      if (prev !== undefined && compareKeys(prev, x.key) >= 0) throw new OrderError(this.label, prev, x.key);
      prev = x.key;
    }
    if (b.length) this.last = b[b.length - 1].key;
  }

  /** The current entry (undefined at the end); valid when `ready`. */
  get head(): T | undefined {
    return this.i < this.batch.length ? this.batch[this.i] : undefined;
  }

  take(): T {
    return this.batch[this.i++];
  }

  async close(): Promise<void> {
    this.done = true;
    await this.src.close?.();
  }
}

/** A source over an array already in memory (tests, small inputs), in batches of `size`. */
export function arraySource<T>(xs: readonly T[], size = 1000): BatchSource<T> {
  let i = 0;
  return {
    async next() {
      if (i >= xs.length) return undefined;
      const b = xs.slice(i, i + size);
      i += size;
      return b;
    },
  };
}

/** Concatenates sources (each sorted, each after the one before). */
export function concatSources<T>(sources: BatchSource<T>[]): BatchSource<T> {
  let k = 0;
  return {
    async next() {
      while (k < sources.length) {
        const b = await sources[k].next();
        if (b !== undefined) return b;
        k++;
      }
      return undefined;
    },
    async close() {
      for (const s of sources) await s.close?.();
    },
  };
}

/**
 * Loads the next batch of every cursor that needs one, all at once: a cursor's first batch is often
 * a LIST round trip, and the sides' listings must run side by side, not one after the other (a
 * 2,000-key no-op spent a page's latency, 0.1-0.2 s, waiting for the source before asking the
 * target). The first failure is thrown at once (a missing source bucket is not reported only after
 * a slow target's retries); the other fills' failures are caught here, and the caller closes them.
 */
export async function fillAll<T extends { key: string }>(cursors: readonly Cursor<T>[]): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const c of cursors) if (!c.ready) waits.push(c.fill());
  if (waits.length === 1) return waits[0];
  for (const w of waits) w.catch(() => undefined);
  await Promise.all(waits);
}

/** Whether every cursor has its head (or has ended): then the key needs no await. An await per key,
 *  even of a promise already settled, costs a microtask turn per key, millions of them a run. */
export function allReady<T extends { key: string }>(cursors: readonly Cursor<T>[]): boolean {
  for (let i = 0; i < cursors.length; i++) if (!cursors[i].ready) return false;
  return true;
}

/** Merges sources of disjoint keys into one sorted source (k-way, by compareKeys). */
export function mergeSources<T extends { key: string }>(sources: BatchSource<T>[], label: string, batchSize = 1000): BatchSource<T> {
  const cursors = sources.map((s, i) => new Cursor(s, `${label} part ${i + 1}`, false));
  return {
    async next() {
      const out: T[] = [];
      while (out.length < batchSize) {
        let best: Cursor<T> | undefined;
        if (!allReady(cursors)) await fillAll(cursors);
        for (const c of cursors) {
          const h = c.head;
          if (h !== undefined && (best === undefined || compareKeys(h.key, best.head!.key) < 0)) best = c;
        }
        if (!best) break;
        out.push(best.take());
      }
      return out.length ? out : undefined;
    },
    async close() {
      for (const c of cursors) await c.close();
    },
  };
}
