// The decide stage: one pass over every sorted input of a job (each side's listing, the prior
// state, the ETag pair journal), a k-way merge join that hands each key's entries to the pure
// decision tables (runner/decide/), and a sink that spools what was decided. Nothing here
// changes a bucket, so the pass can be run again (after sorting an input that broke the order).
import { decideBisyncKey, type BisyncAction, type BisyncOptions } from "../decide/bisync.js";
import { decideCopyKey } from "../decide/copy.js";
import { compareKeys, pairMatches, type Entry, type StateRecord } from "../decide/types.js";
import { allReady, Cursor, fillAll, type BatchSource } from "../stream/cursor.js";
import { heldPagesOf, pairPages, type HeldPages } from "./page-pairs.js";

type Keyed = { key: string };

/** Smallest head key over cursors that are ready (callers fill them first). */
function minKey(cursors: readonly Cursor<Keyed>[]): string | undefined {
  let key: string | undefined;
  for (const c of cursors) {
    const h = c.head;
    if (h !== undefined && (key === undefined || compareKeys(h.key, key) < 0)) key = h.key;
  }
  return key;
}

function takeIf<T extends Keyed>(c: Cursor<T> | undefined, key: string): T | undefined {
  if (!c) return undefined;
  const h = c.head;
  return h !== undefined && h.key === key ? c.take() : undefined;
}

/** Receives a copy/sync job's decisions, key by key in order. */
export interface CopySink {
  copy(ti: number, entry: Entry, reason: "missing" | "different"): void;
  /** Target-only key; `deleted`: sync will delete it. */
  extra(ti: number, entry: Entry, deleted: boolean): void;
  same(ti: number, record: StateRecord): void;
  /** `n` keys the same on both sides with the same non-empty ETag, as a page pair (page-pairs.ts):
   *  as `n` calls of same() with self-evident records. Without it, no pages are paired. */
  sameRun?(ti: number, n: number): void;
  /** A journal pair that still describes both listed objects: kept if no state is written. */
  keepPair(ti: number, pair: StateRecord): void;
  /** A promise to wait on before the next key (the sink's writers are behind); undefined: go on. */
  backlog?(): Promise<void> | undefined;
}

export interface CopyInputs {
  src: BatchSource<Entry>;
  tgts: BatchSource<Entry>[];
  /** Per target: the prior state's section (undefined: none). */
  states: (BatchSource<StateRecord> | undefined)[];
  journals: (BatchSource<StateRecord> | undefined)[];
  labels: { src: string; tgts: string[]; states: string[]; journals: string[] };
}

export interface SideCount {
  objects: number;
  bytes: number;
}

/** One pass over a copy/sync job's inputs; returns the object counts of each side. */
export async function copyPass(inp: CopyInputs, deletes: boolean, sink: CopySink): Promise<{ src: SideCount; tgts: SideCount[]; priors: number[] }> {
  // Listings are checked page by page where they are listed (runner/list/lister.ts).
  const cs = new Cursor(inp.src, inp.labels.src, false);
  const ct = inp.tgts.map((t, i) => new Cursor(t, inp.labels.tgts[i], false));
  const cst = inp.states.map((s, i) => (s ? new Cursor(s, inp.labels.states[i]) : undefined));
  const cj = inp.journals.map((s, i) => (s ? new Cursor(s, inp.labels.journals[i]) : undefined));
  const all = ([cs, ...ct, ...cst, ...cj] as (Cursor<Keyed> | undefined)[]).filter((c): c is Cursor<Keyed> => c !== undefined);
  const src: SideCount = { objects: 0, bytes: 0 };
  const tgts: SideCount[] = ct.map(() => ({ objects: 0, bytes: 0 }));
  const priors = ct.map(() => 0);
  const pairs = sink.sameRun ? pagePairing(inp) : undefined;
  const records = ([...cst, ...cj] as (Cursor<Keyed> | undefined)[]).filter((c): c is Cursor<Keyed> => c !== undefined);
  try {
    for (;;) {
      if (!allReady(all)) {
        // Every listing is at a page boundary: the next pages may be taken whole, if equal.
        if (pairs && !cs.ready && ct.every((c) => !c.ready)) {
          const n = await takePagePair(pairs, records);
          if (n) {
            src.objects += n.count;
            src.bytes += n.bytes;
            for (let ti = 0; ti < ct.length; ti++) {
              tgts[ti].objects += n.count;
              tgts[ti].bytes += n.bytes;
              sink.sameRun!(ti, n.count);
            }
            continue;
          }
        }
        await fillAll(all);
      }
      const key = minKey(all);
      if (key === undefined) break;
      const s = takeIf(cs, key);
      if (s) {
        src.objects++;
        src.bytes += s.size;
      }
      for (let ti = 0; ti < ct.length; ti++) {
        const t = takeIf(ct[ti], key);
        const prior = takeIf(cst[ti], key);
        const pair = takeIf(cj[ti], key);
        if (prior) priors[ti]++;
        if (t) {
          tgts[ti].objects++;
          tgts[ti].bytes += t.size;
        }
        if (!s && !t) continue; // only the state or journal knew this key
        const d = decideCopyKey(s, t, prior, pair, deletes);
        if (d.kind === "copy") sink.copy(ti, d.entry, d.reason);
        else if (d.kind === "extra") sink.extra(ti, d.entry, d.delete);
        else sink.same(ti, d.record);
        if (pair && s && t && pairMatches(pair, s, t)) sink.keepPair(ti, pair);
      }
      const wait = sink.backlog?.();
      if (wait) await wait;
    }
  } finally {
    for (const c of all) await c.close();
  }
  return { src, tgts, priors };
}

/** The listings of a copy pass, if every one can hand its pages over unparsed. */
function pagePairing(inp: CopyInputs): { src: HeldPages; tgts: HeldPages[] } | undefined {
  const src = heldPagesOf(inp.src);
  const tgts = inp.tgts.map((t) => heldPagesOf(t));
  if (!src || !tgts.length || tgts.some((t) => t === undefined)) return undefined;
  return { src, tgts: tgts as HeldPages[] };
}

/**
 * The next page of every listing, taken whole if they are equal (pairPages) and no record of the
 * state or the journal falls within them (those keys go through the table); else nothing is taken
 * and the merge parses the pages. Returns the objects per side and their bytes.
 */
async function takePagePair(p: { src: HeldPages; tgts: HeldPages[] }, records: Cursor<Keyed>[]): Promise<{ count: number; bytes: number } | undefined> {
  const unready = records.filter((c) => !c.ready);
  if (unready.length) await fillAll(unready);
  const peeks = [p.src.peekHeld(), ...p.tgts.map((t) => t.peekHeld())];
  for (const w of peeks) w.catch(() => undefined); // the first failure is thrown below, the rest would go unhandled
  const views = await Promise.all(peeks);
  const sv = views[0];
  if (!sv) return undefined;
  const tv = views.slice(1);
  if (tv.some((v) => v === undefined)) return undefined;
  const pair = pairPages(sv, tv as NonNullable<(typeof tv)[number]>[]);
  if (!pair) return undefined;
  const last = pair.keyAt(pair.count - 1);
  for (const c of records) {
    const h = c.head;
    if (h !== undefined && compareKeys(h.key, last) <= 0) return undefined;
  }
  p.src.takeHeld(sv, pair.count, pair.keyAt);
  for (let ti = 0; ti < p.tgts.length; ti++) p.tgts[ti].takeHeld(tv[ti]!, pair.count, pair.keyAt);
  return { count: pair.count, bytes: pair.bytes };
}

/** Receives a bisync job's decisions, key by key in order. */
export interface BisyncSink {
  action(x: BisyncAction): void;
  same(record: StateRecord): void;
  forget(): void;
  keepPair(pair: StateRecord): void;
  /** As CopySink.backlog. */
  backlog?(): Promise<void> | undefined;
}

export interface BisyncInputs {
  a: BatchSource<Entry>;
  b: BatchSource<Entry>;
  state?: BatchSource<StateRecord>;
  journal?: BatchSource<StateRecord>;
  labels: { a: string; b: string; state: string; journal: string };
}

/** One pass over a bisync job's inputs. `firstRun`: no usable state (merge only, never delete). */
export async function bisyncPass(inp: BisyncInputs, opts: BisyncOptions, firstRun: boolean, sink: BisyncSink): Promise<{ a: SideCount; b: SideCount; prior: number }> {
  const ca = new Cursor(inp.a, inp.labels.a, false);
  const cb = new Cursor(inp.b, inp.labels.b, false);
  const cst = inp.state ? new Cursor(inp.state, inp.labels.state) : undefined;
  const cj = inp.journal ? new Cursor(inp.journal, inp.labels.journal) : undefined;
  const all = ([ca, cb, cst, cj] as (Cursor<Keyed> | undefined)[]).filter((c): c is Cursor<Keyed> => c !== undefined);
  const a: SideCount = { objects: 0, bytes: 0 };
  const b: SideCount = { objects: 0, bytes: 0 };
  let prior = 0;
  try {
    for (;;) {
      if (!allReady(all)) await fillAll(all);
      const key = minKey(all);
      if (key === undefined) break;
      const ea = takeIf(ca, key);
      const eb = takeIf(cb, key);
      const r = takeIf(cst, key);
      const pair = takeIf(cj, key);
      if (ea) {
        a.objects++;
        a.bytes += ea.size;
      }
      if (eb) {
        b.objects++;
        b.bytes += eb.size;
      }
      if (r) prior++;
      if (!ea && !eb && !r) continue; // only the journal knew this key
      const d = decideBisyncKey(key, ea, eb, r, pair, opts, firstRun);
      if (d.kind === "same") sink.same(d.record);
      else if (d.kind === "forget") sink.forget();
      else sink.action(d);
      if (pair && ea && eb && pairMatches(pair, ea, eb)) sink.keepPair(pair);
      const wait = sink.backlog?.();
      if (wait) await wait;
    }
  } finally {
    for (const c of all) await c.close();
  }
  return { a, b, prior };
}
