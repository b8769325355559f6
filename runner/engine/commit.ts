// The commit stage: the next state (or, after a failed run, the ETag pair journal) assembled as a
// stream into one local file, then installed atomically by the state store. The decide pass wrote
// each target's unchanged records ("carry") as a section file in key order; transfers add their
// results in completion order, sorted on disk; the two merge into the section.
import { closeSync, createReadStream, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { informative } from "../decide/journal.js";
import { compareKeys, type StateRecord } from "../decide/types.js";
import { MAGIC, RecordEncoder, RecordFileWriter, StateFileSource, type StateMeta } from "../state/codec.js";
import { Spool, recordCodec } from "../stream/blocks.js";
import { Cursor, mergeSources, type BatchSource } from "../stream/cursor.js";
import { ExternalSorter } from "../stream/extsort.js";

/** What a run collects for one target (section) of its state. */
export class SectionBuilder {
  /** Records carried over unchanged, in key order (a headerless section file). */
  readonly carry: RecordFileWriter;
  /** Records of completed transfers, any order. */
  readonly results: ExternalSorter<StateRecord>;
  /** Old journal pairs that still describe both listed objects, in key order. */
  readonly pairs: Spool<StateRecord>;

  constructor(
    readonly target: string,
    dir: string,
    index: number,
  ) {
    this.carry = new RecordFileWriter(join(dir, `carry-${index}.gz`));
    this.carry.section(target);
    this.results = new ExternalSorter(dir, `results-${index}`, recordCodec, 50_000);
    this.pairs = new Spool(join(dir, `pairs-${index}.spool`), recordCodec, 1000, true);
  }

  /** Closes the carry file for reading (after the decide pass). */
  endCarry(): Promise<void> {
    return this.carry.close();
  }

  close(): void {
    this.carry.abort();
    this.results.close();
    this.pairs.close();
  }
}

async function copyFileInto(fd: number, path: string): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const b = chunk as Buffer;
    let off = 0;
    while (off < b.length) off += writeSync(fd, b, off, b.length - off);
  }
}

async function drainInto(enc: RecordEncoder, src: BatchSource<StateRecord>, keep?: (r: StateRecord) => boolean): Promise<number> {
  let n = 0;
  for (let b = await src.next(); b !== undefined; b = await src.next()) {
    for (const r of b) {
      if (keep && !keep(r)) continue;
      enc.record(r);
      n++;
    }
  }
  await src.close?.();
  return n;
}

function headerMember(meta: StateMeta): Buffer {
  return gzipSync(`${MAGIC}\n${JSON.stringify(meta)}\n`, { level: 1 });
}

/** Writes the next state to `out`: the header, then per section the carry merged with the results. */
export async function writeState(out: string, meta: StateMeta, sections: readonly SectionBuilder[]): Promise<number> {
  const fd = openSync(out, "w", 0o600);
  let records = 0;
  try {
    writeSync(fd, headerMember(meta));
    for (const s of sections) {
      if (s.results.count === 0) {
        await copyFileInto(fd, s.carry.path);
        records += s.carry.count;
        continue;
      }
      const enc = new RecordEncoder((m) => writeSync(fd, m));
      enc.section(s.target);
      records += await drainInto(enc, mergeSources([new StateFileSource(s.carry.path, undefined, true), s.results.sorted()], "next state"));
      enc.flush();
    }
  } finally {
    closeSync(fd);
  }
  return records;
}

/** The pairs of the old journal that still hold, with this run's transfers replacing them by key. */
function journalSource(s: SectionBuilder): BatchSource<StateRecord> {
  const old = new Cursor(s.pairs.source(), "journal", false);
  const fresh = new Cursor(s.results.sorted(), "results", false);
  return {
    async next() {
      const out: StateRecord[] = [];
      while (out.length < 1000) {
        if (!old.ready) await old.fill();
        if (!fresh.ready) await fresh.fill();
        const o = old.head;
        const f = fresh.head;
        if (!o && !f) break;
        const c = !o ? 1 : !f ? -1 : compareKeys(o.key, f.key);
        if (c < 0) out.push(old.take());
        else {
          if (c === 0) old.take();
          out.push(fresh.take());
        }
      }
      return out.length ? out : undefined;
    },
  };
}

/** Writes the journal to `out`; returns the number of pairs (0: nothing worth keeping). Only pairs
 *  with equal sizes and different non-empty ETags are evidence listings cannot give (journal.ts). */
export async function writeJournal(out: string, meta: StateMeta, sections: readonly SectionBuilder[]): Promise<number> {
  const fd = openSync(out, "w", 0o600);
  let pairs = 0;
  try {
    writeSync(fd, headerMember(meta));
    for (const s of sections) {
      const enc = new RecordEncoder((m) => writeSync(fd, m));
      let n = 0;
      const src = journalSource(s);
      for (let b = await src.next(); b !== undefined; b = await src.next()) {
        for (const r of b) {
          if (!informative(r)) continue;
          if (n === 0) enc.section(s.target);
          enc.record(r);
          n++;
        }
      }
      enc.flush();
      pairs += n;
    }
  } finally {
    closeSync(fd);
  }
  return pairs;
}
