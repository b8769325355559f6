// Binary codecs of what a run spools between its stages: copy tasks, bisync actions, deletes.
import type { BisyncAction, Side } from "../decide/bisync.js";
import type { Entry } from "../decide/types.js";
import { entryCodec, type Codec } from "../stream/blocks.js";

/** One copy of a copy/sync job: `entry` (source) to target number `ti`. */
export interface CopyTask {
  ti: number;
  entry: Entry;
  reason: "missing" | "different";
}

export const copyTaskCodec: Codec<CopyTask> = {
  write(w, t) {
    w.num(t.ti);
    w.u8(t.reason === "missing" ? 0 : 1);
    entryCodec.write(w, t.entry);
  },
  read(r) {
    const ti = r.num();
    const reason = r.u8() === 0 ? "missing" : "different";
    return { ti, reason, entry: entryCodec.read(r) };
  },
};

/** A planned delete: the entry as listed, and why (bisync). */
export interface DeleteTask {
  entry: Entry;
  reason: string;
}

export const deleteCodec: Codec<DeleteTask> = {
  write(w, d) {
    entryCodec.write(w, d.entry);
    w.str(d.reason);
  },
  read(r) {
    const entry = entryCodec.read(r);
    return { entry, reason: r.str() };
  },
};

const side = (s: Side) => (s === "a" ? 0 : 1);
const unside = (n: number): Side => (n === 0 ? "a" : "b");

/** Bisync transfers: copies and conflicts (deletes go to their own spools). */
export const bisyncActionCodec: Codec<BisyncAction> = {
  write(w, x) {
    if (x.kind === "copy") {
      w.u8(0);
      w.u8(side(x.from));
      entryCodec.write(w, x.entry);
      w.str(x.reason);
    } else if (x.kind === "conflict") {
      w.u8(1);
      w.u8(x.winner === null ? 2 : side(x.winner));
      entryCodec.write(w, x.a);
      entryCodec.write(w, x.b);
      w.str(x.reason);
    } else {
      w.u8(2);
      w.u8(side(x.side));
      entryCodec.write(w, x.entry);
      w.str(x.reason);
    }
  },
  read(r) {
    const kind = r.u8();
    const s = r.u8();
    if (kind === 0) {
      const entry = entryCodec.read(r);
      return { kind: "copy", from: unside(s), key: entry.key, entry, reason: r.str() };
    }
    if (kind === 1) {
      const a = entryCodec.read(r);
      const b = entryCodec.read(r);
      return { kind: "conflict", key: a.key, a, b, winner: s === 2 ? null : unside(s), reason: r.str() };
    }
    const entry = entryCodec.read(r);
    return { kind: "delete", side: unside(s), key: entry.key, entry, reason: r.str() };
  },
};

/** A key that differs between the source and one target (`check`). */
export interface CheckDiff {
  ti: number;
  entry: Entry;
  reason: "missing" | "different" | "extra";
}

const CHECK_REASONS = ["missing", "different", "extra"] as const;

export const checkDiffCodec: Codec<CheckDiff> = {
  write(w, x) {
    w.num(x.ti);
    w.u8(CHECK_REASONS.indexOf(x.reason));
    entryCodec.write(w, x.entry);
  },
  read(r) {
    const ti = r.num();
    const reason = CHECK_REASONS[r.u8()];
    return { ti, reason, entry: entryCodec.read(r) };
  },
};
