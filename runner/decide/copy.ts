// copy and sync: one source listing, one target listing, the saved pairs → actions.
import { compareKeys, record, sameContent, sortedLookup, type Entry, type StateRecord } from "./types.js";

export interface CopyPlan {
  /** Source entries to copy to the target (missing or different there). */
  copies: { entry: Entry; reason: "missing" | "different" }[];
  /** Target entries to delete (sync only: absent from the source). */
  deletes: Entry[];
  /** Keys already equal on both sides: carried into the next state. */
  same: StateRecord[];
  /** Target-only keys (deleted by sync, left alone by copy). */
  extra: number;
  missing: number;
  different: number;
}

export interface CopyOptions {
  deletes: boolean;
  /** The ETag pair journal of this source→target pair, sorted by key (see journal.ts): evidence of
   *  equal content only. It never adds or removes a copy of a missing key, nor any delete. */
  journal?: readonly StateRecord[];
}

/**
 * Merge-join of sorted arrays (by compareKeys). O(n), no maps.
 * `prior` is the saved state of this source→target pair (undefined: none).
 */
export function decideCopy(src: readonly Entry[], tgt: readonly Entry[], prior: readonly StateRecord[] | undefined, opts: CopyOptions): CopyPlan {
  const plan: CopyPlan = { copies: [], deletes: [], same: [], extra: 0, missing: 0, different: 0 };
  const stateOf = sortedLookup(prior);
  const journalOf = sortedLookup(opts.journal);
  let i = 0;
  let j = 0;
  while (i < src.length || j < tgt.length) {
    const s = i < src.length ? src[i] : undefined;
    const t = j < tgt.length ? tgt[j] : undefined;
    const c = s && t ? compareKeys(s.key, t.key) : s ? -1 : 1;
    if (c < 0) {
      plan.copies.push({ entry: s!, reason: "missing" });
      plan.missing++;
      i++;
    } else if (c > 0) {
      plan.extra++;
      if (opts.deletes) plan.deletes.push(t!);
      j++;
    } else {
      const key = s!.key;
      if (sameContent(s!, t!, stateOf(key), journalOf(key))) plan.same.push(record(key, s!, t!));
      else {
        plan.copies.push({ entry: s!, reason: "different" });
        plan.different++;
      }
      i++;
      j++;
    }
  }
  return plan;
}
