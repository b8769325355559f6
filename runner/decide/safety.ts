// Safety checks, pure: they run after deciding and before any change.

export interface SafetyInput {
  /** Label used in the message, e.g. `target zurich/b2/photos/`. */
  side: string;
  /** Objects on this side now (after filters). */
  objects: number;
  /** Deletes the plan would make on this side. */
  deletes: number;
  /** Objects the state recorded for this side (undefined: no state). */
  priorObjects?: number;
  maxDeletePercent: number;
}

/** A reason to abort (exit 3), or undefined. Max-delete is strictly greater-than: 5 of 10 at 50% passes, 6 of 10 aborts. */
export function safetyAbort(x: SafetyInput): string | undefined {
  if (x.priorObjects !== undefined && x.priorObjects > 0 && x.objects === 0) {
    return `${x.side} lists no objects but had ${x.priorObjects} after the last run; refusing to propagate an emptied side (use --force if this is intended)`;
  }
  if (x.deletes > 0 && x.deletes * 100 > x.maxDeletePercent * x.objects) {
    const pct = x.objects === 0 ? 100 : (x.deletes * 100) / x.objects;
    return `${x.deletes} of ${x.objects} objects (${pct.toFixed(1)}%) would be deleted on ${x.side}, more than maxDeletePercent ${x.maxDeletePercent}%; nothing was changed (use --force to proceed)`;
  }
  return undefined;
}

/** Key under which a conflict loser's content is kept: the original key, then `.conflict-<UTC time>-<side>`. */
export function conflictKey(key: string, at: Date, side: string): string {
  const ts = at.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${key}.conflict-${ts}-${side}`;
}
