// bisync: two listings + the state of the last fully successful run → actions.
// Each side is compared with its own prior listing (the state), as rclone bisync does, but with
// (size, ETag) instead of modification times, so no HEAD is ever needed.
import { compareKeys, record, sameContent, sortedLookup, unchangedSince, type Entry, type StateRecord } from "./types.js";

export type Side = "a" | "b";

export type BisyncAction =
  | { kind: "copy"; from: Side; key: string; entry: Entry; reason: string }
  | { kind: "delete"; side: Side; key: string; entry: Entry; reason: string }
  | {
      kind: "conflict";
      key: string;
      a: Entry;
      b: Entry;
      /** Whose content stays under `key` ("newer"); null: keep-both (both renamed). */
      winner: Side | null;
      reason: string;
    };

export interface BisyncPlan {
  actions: BisyncAction[];
  /** Keys equal on both sides that need nothing: carried into the next state. */
  same: StateRecord[];
  /** Keys deleted on both sides (forgotten). */
  forgotten: number;
  deletes: { a: number; b: number };
  /** Whether the run had no usable state (first run or --resync): merge only, never delete. */
  firstRun: boolean;
}

export interface BisyncOptions {
  /** Propagate deletions (default true). Off: a key deleted on one side is restored from the other. */
  deletes: boolean;
  conflict: "newer" | "keep-both";
  /** The ETag pair journal (see journal.ts), sorted by key: consulted only to tell that a key new or
   *  changed on both sides holds equal content. Never used for "unchanged/changed/deleted", so it can
   *  never cause a delete or a restore. */
  journal?: readonly StateRecord[];
}

/** The side whose content wins a "newer" conflict: the later LastModified; a tie goes to the source (a). */
export function newerSide(a: Entry, b: Entry): Side {
  return b.mtime > a.mtime ? "b" : "a";
}

function other(s: Side): Side {
  return s === "a" ? "b" : "a";
}

/** One key's decision: an action, or "same" (carried into the next state), or "forget" (deleted on both sides). */
export type BisyncKeyDecision = BisyncAction | { kind: "same"; record: StateRecord } | { kind: "forget" };

/**
 * The bisync table for one key: its entries on each side (either may be absent), its record in the
 * prior state (`r`; always undefined on a first run), and its ETag pair journal record (`pair`).
 */
export function decideBisyncKey(key: string, ea: Entry | undefined, eb: Entry | undefined, r: StateRecord | undefined, pair: StateRecord | undefined, opts: BisyncOptions, firstRun: boolean): BisyncKeyDecision {
  const conflictOrSame = (ea: Entry, eb: Entry, why: string): BisyncKeyDecision => {
    if (sameContent(ea, eb, undefined, pair)) return { kind: "same", record: record(key, ea, eb) };
    const winner = opts.conflict === "keep-both" ? null : newerSide(ea, eb);
    return { kind: "conflict", key, a: ea, b: eb, winner, reason: why };
  };
  if (!r) {
    // New on one or both sides (or first run).
    if (ea && eb) return conflictOrSame(ea, eb, firstRun ? "present on both sides with different content (first run)" : "new on both sides with different content");
    if (ea) return { kind: "copy", from: "a", key, entry: ea, reason: "new on source" };
    return { kind: "copy", from: "b", key, entry: eb!, reason: "new on target" };
  }
  const aState = ea ? (unchangedSince(ea, r.aSize, r.aEtag) ? "unchanged" : "changed") : "deleted";
  const bState = eb ? (unchangedSince(eb, r.bSize, r.bEtag) ? "unchanged" : "changed") : "deleted";

  if (aState === "deleted" && bState === "deleted") return { kind: "forget" };
  // identical (size, ETag) on both sides: reuse the record, no allocation
  if (aState === "unchanged" && bState === "unchanged") return { kind: "same", record: r };
  if (aState === "deleted" || bState === "deleted") {
    const gone: Side = aState === "deleted" ? "a" : "b";
    const kept: Side = other(gone);
    const keptEntry = (kept === "a" ? ea : eb)!;
    const keptState = kept === "a" ? aState : bState;
    if (keptState === "unchanged" && opts.deletes) {
      return { kind: "delete", side: kept, key, entry: keptEntry, reason: `deleted on ${gone === "a" ? "source" : "target"}, unchanged here` };
    }
    return {
      kind: "copy",
      from: kept,
      key,
      entry: keptEntry,
      reason: keptState === "changed" ? `deleted on ${gone === "a" ? "source" : "target"} but changed on the other side: the changed version survives` : "deleted on one side; deletes are off: restored",
    };
  }
  if (aState === "changed" && bState === "unchanged") return { kind: "copy", from: "a", key, entry: ea!, reason: "changed on source" };
  if (aState === "unchanged" && bState === "changed") return { kind: "copy", from: "b", key, entry: eb!, reason: "changed on target" };
  return conflictOrSame(ea!, eb!, "changed on both sides with different content");
}

/** Adds one key's decision to an in-memory plan. */
export function addToBisyncPlan(plan: BisyncPlan, d: BisyncKeyDecision): void {
  if (d.kind === "same") plan.same.push(d.record);
  else if (d.kind === "forget") plan.forgotten++;
  else {
    plan.actions.push(d);
    if (d.kind === "delete") plan.deletes[d.side]++;
  }
}

/**
 * Merge-join of the two sorted listings and the sorted state: the in-memory form of the table
 * (tests, small callers; the runner streams, runner/engine/).
 * `prior` undefined = first run or --resync: merge both ways, never delete, different contents are conflicts.
 */
export function decideBisync(a: readonly Entry[], b: readonly Entry[], prior: readonly StateRecord[] | undefined, opts: BisyncOptions): BisyncPlan {
  const firstRun = prior === undefined;
  const st = prior ?? [];
  const plan: BisyncPlan = { actions: [], same: [], forgotten: 0, deletes: { a: 0, b: 0 }, firstRun };
  let i = 0;
  let j = 0;
  let k = 0;
  const journalOf = sortedLookup(opts.journal);
  while (i < a.length || j < b.length || k < st.length) {
    let key: string | undefined = i < a.length ? a[i].key : undefined;
    if (j < b.length && (key === undefined || compareKeys(b[j].key, key) < 0)) key = b[j].key;
    if (k < st.length && (key === undefined || compareKeys(st[k].key, key) < 0)) key = st[k].key;
    const ea = i < a.length && a[i].key === key ? a[i++] : undefined;
    const eb = j < b.length && b[j].key === key ? b[j++] : undefined;
    const r = k < st.length && st[k].key === key ? st[k++] : undefined;
    addToBisyncPlan(plan, decideBisyncKey(key!, ea, eb, r, journalOf(key!), opts, firstRun));
  }
  return plan;
}
