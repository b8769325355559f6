// The list stage's sources for one job: each side's listing (parallel ranges, in UTF-8 byte order),
// the prior state and the ETag pair journal, as sorted streams. An input that breaks the order is
// sorted on disk on the next attempt of the decide pass; a state or journal that cannot be read
// is left out (as an unreadable state always was: a first run).
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureDir } from "../config/dirs.js";
import type { Entry, StateRecord } from "../decide/types.js";
import { RangeLister } from "../list/lister.js";
import { StateFileSource, StateFormatError } from "../state/codec.js";
import { pidAlive } from "../state/store.js";
import { entryCodec, recordCodec, type Codec } from "../stream/blocks.js";
import type { HeldPages } from "./page-pairs.js";
import { OrderError, type BatchSource } from "../stream/cursor.js";
import { ExternalSorter } from "../stream/extsort.js";
import type { Location } from "../store/s3.js";

/** Run directories alive in this process: removed on SIGINT/SIGTERM too (see cli.ts). */
const liveRunDirs = new Set<string>();

/**
 * A per-run directory for spool files (`replication-<job>-<pid>-XXXXXX`), removed when the run
 * ends. A run that was killed leaves its directory behind; the next run removes every directory
 * of a dead pid, so a crash loop cannot fill the disk.
 */
export class RunDir {
  readonly path: string;
  constructor(base: string, job: string) {
    try {
      ensureDir(base, 0o700);
      for (const name of readdirSync(base)) {
        const m = /^replication-.+-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
        if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) rmSync(join(base, name), { recursive: true, force: true });
      }
      this.path = mkdtempSync(join(base, `replication-${job}-${process.pid}-`));
    } catch (e) {
      throw new Error(`cannot create a temporary directory under ${base} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set spoolDir in the runner config to a writable directory on disk`);
    }
    liveRunDirs.add(this.path);
  }
  remove(): void {
    liveRunDirs.delete(this.path);
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Removes every live run directory (synchronous: for signal handlers that exit right after). */
export function removeRunDirs(): void {
  for (const d of liveRunDirs) rmSync(d, { recursive: true, force: true });
  liveRunDirs.clear();
}

/** A listing failed for a reason other than order: the message names the location. */
export class ListingError extends Error {}

/** The state or journal file could not be parsed (mid-stream, where it was found). */
export class InputFormatError extends Error {
  constructor(
    readonly input: string,
    cause: Error,
  ) {
    super(cause.message);
  }
}

/** Drains `src` into an external sorter on first use, then streams it in key order. */
function sortedOnDisk<T extends { key: string }>(src: BatchSource<T>, codec: Codec<T>, dir: string, name: string): BatchSource<T> {
  let out: BatchSource<T> | undefined;
  let sorter: ExternalSorter<T> | undefined;
  return {
    async next() {
      if (!out) {
        sorter = new ExternalSorter(dir, name, codec);
        for (let b = await src.next(); b !== undefined; b = await src.next()) for (const x of b) sorter.add(x);
        await src.close?.();
        out = sorter.sorted();
      }
      return out.next();
    },
    async close() {
      await src.close?.();
      sorter?.close();
    },
  };
}

export interface ListingSpec {
  loc: Location;
  /** Names the input in order errors and logs, e.g. `source london/b1/`. */
  label: string;
  accept: (rel: string) => boolean;
  concurrency: number;
  boundaries?: readonly string[];
  expectedKeys?: number;
  attempts: number;
  /** Sort on disk: the server was seen listing out of order. */
  sort: boolean;
  describeError: (e: unknown) => string;
  /** A shard's (lo, hi] key range, relative to the location's prefix. */
  range?: { lo?: string; hi?: string };
  /** `accept` takes every key but the prefix itself (no include, exclude or shard range): the
   *  merge may then take this listing's pages unparsed, in pairs (engine/page-pairs.ts). */
  acceptsAll?: boolean;
}

export function listingSource(spec: ListingSpec, dir: string): BatchSource<Entry> {
  const lister = new RangeLister(spec.loc, {
    concurrency: spec.concurrency,
    boundaries: spec.boundaries,
    expectedKeys: spec.expectedKeys,
    accept: spec.accept,
    attempts: spec.attempts,
    spoolDir: dir,
    label: spec.label,
    unordered: spec.sort,
    range: spec.range,
  });
  const src = spec.sort ? sortedOnDisk(lister, entryCodec, dir, `sorted-${spec.label.replace(/[^A-Za-z0-9]+/g, "-")}`) : lister;
  const failed = (e: unknown): Error => (e instanceof OrderError ? e : new ListingError(`listing ${spec.label} failed: ${spec.describeError(e)}`));
  const out: BatchSource<Entry> & Partial<HeldPages> = {
    async next() {
      try {
        return await src.next();
      } catch (e) {
        throw failed(e);
      }
    },
    close: () => src.close?.() ?? Promise.resolve(),
  };
  // Pages are taken unparsed only as they are listed (a sorted listing is entries from disk), and
  // only where no key is filtered out (the pair check knows nothing of patterns).
  if (!spec.sort && spec.acceptsAll) {
    out.peekHeld = async () => {
      try {
        return await lister.peekHeld();
      } catch (e) {
        throw failed(e);
      }
    };
    out.takeHeld = (v, count) => lister.takeHeld(v, count);
  }
  return out;
}

/** One section of a state or journal file; `sort`: the file is not in UTF-8 order (older runners). */
export function recordSource(path: string, target: string, input: string, dir: string, sort: boolean): BatchSource<StateRecord> {
  const file = new StateFileSource(path, target);
  const guarded: BatchSource<StateRecord> = {
    async next() {
      try {
        return await file.next();
      } catch (e) {
        if (e instanceof StateFormatError) throw new InputFormatError(input, e);
        throw e;
      }
    },
    close: () => file.close(),
  };
  return sort ? sortedOnDisk(guarded, recordCodec, dir, `sorted-${input}`) : guarded;
}
