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

/** What to do with one key, given its source and target entries (either may be absent). */
export type CopyKeyDecision =
  | { kind: "copy"; entry: Entry; reason: "missing" | "different" }
  /** Target-only: deleted by sync (`deletes`), left alone and counted as extra by copy. */
  | { kind: "extra"; entry: Entry; delete: boolean }
  | { kind: "same"; record: StateRecord };

/**
 * The copy/sync table for one key. `prior`: this key's record in the saved state of the pair;
 * `pair`: its record in the ETag pair journal (evidence of equal content only). At least one of
 * `s` and `t` is present.
 */
export function decideCopyKey(s: Entry | undefined, t: Entry | undefined, prior: StateRecord | undefined, pair: StateRecord | undefined, deletes: boolean): CopyKeyDecision {
  if (!t) return { kind: "copy", entry: s!, reason: "missing" };
  if (!s) return { kind: "extra", entry: t, delete: deletes };
  if (sameContent(s, t, prior, pair)) return { kind: "same", record: record(s.key, s, t) };
  return { kind: "copy", entry: s, reason: "different" };
}

/** Adds one key's decision to an in-memory plan (the array form below, and tests). */
export function addToPlan(plan: CopyPlan, d: CopyKeyDecision): void {
  if (d.kind === "copy") {
    plan.copies.push({ entry: d.entry, reason: d.reason });
    if (d.reason === "missing") plan.missing++;
    else plan.different++;
  } else if (d.kind === "extra") {
    plan.extra++;
    if (d.delete) plan.deletes.push(d.entry);
  } else plan.same.push(d.record);
}

/**
 * Merge-join of sorted arrays (by compareKeys). O(n), no maps. The in-memory form of the table,
 * for tests and small callers; the runner streams (runner/engine/).
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
    const key = c <= 0 ? s!.key : t!.key;
    addToPlan(plan, decideCopyKey(c <= 0 ? s : undefined, c >= 0 ? t : undefined, stateOf(key), journalOf(key), opts.deletes));
    if (c <= 0) i++;
    if (c >= 0) j++;
  }
  return plan;
}
