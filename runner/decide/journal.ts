// The ETag pair journal: evidence of equal content from runs whose state was not written. Pure.
//
// A run with any failure keeps the old state (so a failed copy never looks like a deletion). The
// objects that DID copy in that run are then unknown to the state: on the next run they are "new on
// both sides" (bisync) or "present on both sides" (copy/sync), and when their ETags differ across the
// two sides (multipart uploads with different part sizes, other providers) listings alone cannot
// tell that the contents are equal: bisync would declare false conflicts and copy/sync would copy
// them again. The journal keeps, per target, the (key, source size+ETag, target size+ETag) of every
// transfer that completed in such a run. `sameContent` accepts a journal pair exactly like a state
// record, but ONLY as evidence of equal content: existence and deletions are decided by the state
// alone, so a journal can never cause a delete.
import { compareKeys, pairMatches, type Entry, type StateRecord } from "./types.js";

/** Lookup into a sorted listing for keys asked in increasing order. */
function entryLookup(xs: readonly Entry[]): (key: string) => Entry | undefined {
  let i = 0;
  return (key) => {
    while (i < xs.length && compareKeys(xs[i].key, key) < 0) i++;
    return i < xs.length && xs[i].key === key ? xs[i] : undefined;
  };
}

/** Is this pair evidence that listings alone would not give? (Equal size and ETag are equal anyway.) */
export function informative(r: StateRecord): boolean {
  return r.aEtag !== "" && r.bEtag !== "" && r.aSize === r.bSize && r.aEtag !== r.bEtag;
}

/**
 * The journal to save after a run whose state was NOT written.
 *
 * - `fresh`: pairs of the transfers that completed in this run (what was actually copied); they
 *   replace any older pair of the same key.
 * - `old`: the journal loaded at the start of the run (sorted by key); an old pair is kept only while it still
 *   describes the objects listed now on both sides (`a`: source listing, `b`: target listing, both
 *   sorted by key). So the journal never outgrows the listings plus this run's transfers, and pairs
 *   of keys that were deleted or changed since are dropped.
 * - Only pairs with equal sizes and different non-empty ETags are kept: equal ETags are proven by
 *   the listings, and anything else is no evidence (sameContent ignores it too).
 *
 * Returns records sorted by key, one per key.
 */
export function mergeJournal(old: readonly StateRecord[] | undefined, fresh: readonly StateRecord[], a: readonly Entry[], b: readonly Entry[]): StateRecord[] {
  const byKey = new Map<string, StateRecord>();
  const inA = entryLookup(a);
  const inB = entryLookup(b);
  for (const r of old ?? []) {
    const ea = inA(r.key);
    const eb = inB(r.key);
    if (ea && eb && pairMatches(r, ea, eb)) byKey.set(r.key, r);
  }
  for (const r of fresh) byKey.set(r.key, r);
  return [...byKey.values()].filter(informative).sort((p, q) => compareKeys(p.key, q.key));
}
