// The pure decision tables: every row of the table, plus rclone's and Sclone's scenarios.
import { describe, expect, it } from "vitest";
import { decideBisync, newerSide, type BisyncAction } from "../../runner/decide/bisync.js";
import { decideCopy } from "../../runner/decide/copy.js";
import { mergeJournal } from "../../runner/decide/journal.js";
import { conflictKey, safetyAbort } from "../../runner/decide/safety.js";
import { compareKeys, isPlainMd5, sameContent, selfEvident, sortEntries, type Entry, type StateRecord } from "../../runner/decide/types.js";
import { decodeState, encodeState } from "../../runner/state/codec.js";

const md5 = (c: string) => c.padEnd(32, "0").slice(0, 32); // fake but plain-MD5 shaped
const e = (key: string, content: string, mtime = 1000, etag = md5(content)): Entry => ({ key, size: content.length, etag, mtime });
const rec = (a: Entry, b: Entry = a): StateRecord => ({ key: a.key, aSize: a.size, aEtag: a.etag, aMtime: a.mtime, bSize: b.size, bEtag: b.etag, bMtime: b.mtime });
const opts = { deletes: true, conflict: "newer" as const };
const only = (acts: BisyncAction[]) => acts.map((x) => (x.kind === "copy" ? `copy ${x.from}→ ${x.key}` : x.kind === "delete" ? `delete ${x.side} ${x.key}` : `conflict ${x.key} winner=${x.winner}`));

describe("decideCopy", () => {
  it("copies missing and different keys, keeps equal ones, leaves target-only keys in copy mode", () => {
    const src = [e("a", "1"), e("b", "2"), e("c", "3")];
    const tgt = [e("b", "2"), e("c", "X"), e("z", "9")];
    const p = decideCopy(src, tgt, undefined, { deletes: false });
    expect(p.copies.map((c) => [c.entry.key, c.reason])).toEqual([["a", "missing"], ["c", "different"]]);
    expect(p.same.map((s) => s.key)).toEqual(["b"]);
    expect(p.deletes).toEqual([]);
    expect(p.extra).toBe(1);
  });
  it("sync deletes target-only keys", () => {
    const p = decideCopy([e("a", "1")], [e("a", "1"), e("b", "2")], undefined, { deletes: true });
    expect(p.deletes.map((d) => d.key)).toEqual(["b"]);
    expect(p.copies).toEqual([]);
  });
  it("a multipart source ETag and a different target ETag: copied once without state, equal with the state's pair (no endless re-copies)", () => {
    const s = e("big", "x".repeat(10), 1, "0123456789abcdef0123456789abcdef-3");
    const t = e("big", "x".repeat(10), 2, "fedcba9876543210fedcba9876543210");
    expect(decideCopy([s], [t], undefined, { deletes: false }).copies.length).toBe(1); // Sclone re-uploads forever
    expect(decideCopy([s], [t], [rec(s, t)], { deletes: false }).copies.length).toBe(0);
    // ...but a changed source is copied again even with state.
    const s2 = { ...s, etag: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-3" };
    expect(decideCopy([s2], [t], [rec(s, t)], { deletes: false }).copies.length).toBe(1);
  });
  it("equal size and plain MD5 ETags decide equality with no state; a size difference is always different", () => {
    expect(sameContent(e("k", "abc"), e("k", "abc"))).toBe(true);
    expect(sameContent(e("k", "abc"), e("k", "abd"))).toBe(false);
    expect(sameContent(e("k", "abc"), { ...e("k", "abc"), size: 4 })).toBe(false);
    expect(isPlainMd5("d41d8cd98f00b204e9800998ecf8427e")).toBe(true);
    expect(isPlainMd5("d41d8cd98f00b204e9800998ecf8427e-2")).toBe(false);
  });
  it("a self-evident record (equal size, equal non-empty ETag) decides nothing: the copy state leaves it out", () => {
    // Every combination of sizes and ETags (plain, multipart, empty) on both sides of the record
    // and of the listed pair: leaving out a record that selfEvident() accepts changes no decision.
    const etags = ["", md5("x"), md5("y"), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2"];
    const sides = etags.flatMap((etag) => [1, 2].map((size) => ({ key: "k", size, etag, mtime: 1 })));
    let omitted = 0;
    for (const ra of sides) {
      for (const rb of sides) {
        const r = rec(ra, rb);
        if (!selfEvident(r)) continue;
        omitted++;
        for (const a of sides) for (const b of sides) expect(sameContent(a, b, r), JSON.stringify([r, a, b])).toBe(sameContent(a, b));
      }
    }
    expect(omitted).toBe(6); // 3 non-empty ETags × 2 sizes
    expect(selfEvident(rec(e("k", "abc"), { ...e("k", "abc"), etag: "" }))).toBe(false);
    expect(selfEvident(rec(e("k", "abc"), { ...e("k", "abc"), etag: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2" }))).toBe(false);
  });
  it("handles 200,000 keys per side as a linear merge", () => {
    const n = 200_000;
    const src = sortEntries(Array.from({ length: n }, (_, i) => e(`k/${i}`, `v${i}`)));
    const tgt = sortEntries(Array.from({ length: n }, (_, i) => e(`k/${i + 10}`, `v${i + 10}`)));
    const t0 = Date.now();
    const p = decideCopy(src, tgt, undefined, { deletes: true });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(p.copies.length).toBe(10);
    expect(p.deletes.length).toBe(10);
  });
});

describe("decideBisync (each side against its own prior state)", () => {
  const A1 = e("k", "one", 1000);
  const A2 = e("k", "two", 2000);
  const B3 = e("k", "three", 3000);
  const st = [rec(A1)];

  it("unchanged on both → nothing, carried into state", () => {
    const p = decideBisync([A1], [A1], st, opts);
    expect(p.actions).toEqual([]);
    expect(p.same.map((s) => s.key)).toEqual(["k"]);
  });
  it("new on one side → copied to the other", () => {
    expect(only(decideBisync([A1, e("n", "new")], [A1], st, opts).actions)).toEqual(["copy a→ n"]);
    expect(only(decideBisync([A1], [A1, e("n", "new")], st, opts).actions)).toEqual(["copy b→ n"]);
  });
  it("changed on one side only → copied to the other", () => {
    expect(only(decideBisync([A2], [A1], st, opts).actions)).toEqual(["copy a→ k"]);
    expect(only(decideBisync([A1], [A2], st, opts).actions)).toEqual(["copy b→ k"]);
  });
  it("deleted on one side, unchanged on the other → deleted there (if deletes)", () => {
    const p = decideBisync([], [A1], st, opts);
    expect(only(p.actions)).toEqual(["delete b k"]);
    expect(p.deletes).toEqual({ a: 0, b: 1 });
    expect(only(decideBisync([A1], [], st, opts).actions)).toEqual(["delete a k"]);
  });
  it("deleted on one side with deletes off → restored from the other side", () => {
    expect(only(decideBisync([], [A1], st, { ...opts, deletes: false }).actions)).toEqual(["copy b→ k"]);
  });
  it("deleted on one side, changed on the other → the changed version survives and is copied back", () => {
    expect(only(decideBisync([], [A2], st, opts).actions)).toEqual(["copy b→ k"]);
    expect(only(decideBisync([A2], [], st, opts).actions)).toEqual(["copy a→ k"]);
  });
  it("deleted on both → forgotten", () => {
    const p = decideBisync([], [], st, opts);
    expect(p.actions).toEqual([]);
    expect(p.same).toEqual([]);
    expect(p.forgotten).toBe(1);
  });
  it("changed on both with equal content → nothing", () => {
    const p = decideBisync([A2], [{ ...A2, mtime: 9999 }], st, opts);
    expect(p.actions).toEqual([]);
    expect(p.same.length).toBe(1);
  });
  it("changed on both with different content → conflict, newer LastModified wins", () => {
    const p = decideBisync([A2], [B3], st, opts);
    expect(only(p.actions)).toEqual(["conflict k winner=b"]);
    expect(only(decideBisync([{ ...A2, mtime: 5000 }], [B3], st, opts).actions)).toEqual(["conflict k winner=a"]);
  });
  it("keep-both: no winner, both renamed", () => {
    expect(only(decideBisync([A2], [B3], st, { ...opts, conflict: "keep-both" }).actions)).toEqual(["conflict k winner=null"]);
  });
  it("new on both sides with different content → conflict; with equal content → nothing", () => {
    expect(only(decideBisync([e("n", "x", 5)], [e("n", "y", 6)], st.slice(0, 0), opts).actions)).toEqual(["conflict n winner=b"]);
    expect(decideBisync([e("n", "x", 5)], [e("n", "x", 6)], [], opts).actions).toEqual([]);
  });
  it("first run (no state) / --resync: merge both ways, never delete, different contents are conflicts", () => {
    const p = decideBisync([e("a", "1"), e("both", "same"), e("diff", "left", 10)], [e("b", "2"), e("both", "same"), e("diff", "right", 20)], undefined, opts);
    expect(p.firstRun).toBe(true);
    expect(only(p.actions)).toEqual(["copy a→ a", "copy b→ b", "conflict diff winner=b"]);
    expect(p.actions.some((x) => x.kind === "delete")).toBe(false);
  });
  it("a tie in LastModified goes to the source side", () => {
    expect(newerSide(e("k", "x", 5), e("k", "y", 5))).toBe("a");
  });
  it("a modification that re-uploads identical content is not a change", () => {
    expect(decideBisync([{ ...A1, mtime: 77777 }], [A1], st, opts).actions).toEqual([]);
  });
  it("state records the target's own ETag: a multipart ETag pair is unchanged, not a conflict", () => {
    const a = e("m", "x".repeat(10), 1, "0123456789abcdef0123456789abcdef-2");
    const b = e("m", "x".repeat(10), 2, "fedcba9876543210fedcba9876543210");
    expect(decideBisync([a], [b], [rec(a, b)], opts).actions).toEqual([]);
  });

  // Sclone's bugs, as scenarios.
  it("Sclone: a failed copy never turns into a delete (the state without the key makes it 'new' again)", () => {
    // Run 1 listed n on A only; its copy to B failed, so the state was NOT written with n.
    const p = decideBisync([A1, e("n", "new")], [A1], st, opts);
    expect(only(p.actions)).toEqual(["copy a→ n"]);
  });
  it("Sclone: delete does not beat modify", () => {
    expect(only(decideBisync([A2], [], st, opts).actions)).toEqual(["copy a→ k"]);
  });
  it("Sclone/clock skew: a far-future LastModified only picks the winner; the loser's content is kept by the executor", () => {
    const skewed = { ...B3, mtime: Date.UTC(2100, 0, 1) };
    const [x] = decideBisync([A2], [skewed], st, opts).actions;
    expect(x).toMatchObject({ kind: "conflict", winner: "b", a: A2 });
  });
  // rclone's scenarios.
  it("rclone: max-delete is strictly greater-than (5 of 10 at 50% passes, 6 of 10 aborts; 5 of 9 aborts)", () => {
    const base = { side: "target", maxDeletePercent: 50 };
    expect(safetyAbort({ ...base, objects: 10, deletes: 5 })).toBeUndefined();
    expect(safetyAbort({ ...base, objects: 10, deletes: 6 })).toMatch(/6 of 10/);
    expect(safetyAbort({ ...base, objects: 9, deletes: 5 })).toMatch(/5 of 9/);
    expect(safetyAbort({ ...base, objects: 10, deletes: 10, maxDeletePercent: 100 })).toBeUndefined();
  });
  it("rclone: a side listing empty while the prior listing was not is an abort", () => {
    expect(safetyAbort({ side: "source", objects: 0, deletes: 0, priorObjects: 3, maxDeletePercent: 50 })).toMatch(/lists no objects/);
    expect(safetyAbort({ side: "source", objects: 0, deletes: 0, priorObjects: 0, maxDeletePercent: 50 })).toBeUndefined();
  });
  it("rclone: deletes on a side are counted per side", () => {
    const s = [rec(e("1", "a")), rec(e("2", "b")), rec(e("3", "c"))];
    const p = decideBisync([e("1", "a")], [e("1", "a"), e("2", "b"), e("3", "c")], s, opts);
    expect(p.deletes).toEqual({ a: 0, b: 2 });
  });
  it("keys out of order on input are handled after sorting; UTF-16 order is used consistently", () => {
    const keys = ["z", "ä", "a", "😀", "\uffff", "A"];
    const sorted = sortEntries(keys.map((k) => e(k, k))).map((x) => x.key);
    for (let i = 1; i < sorted.length; i++) expect(compareKeys(sorted[i - 1], sorted[i])).toBeLessThan(0);
    const p = decideBisync(sortEntries(keys.map((k) => e(k, k))), sortEntries([...keys].reverse().map((k) => e(k, k))), undefined, opts);
    expect(p.actions).toEqual([]);
  });
});

describe("ETag pair journal (transfers of a run whose state was not written)", () => {
  // Multipart objects whose ETags differ across the two sides (different part sizes/providers).
  const mp = (key: string, content: string, etag: string, mtime = 1000): Entry => ({ key, size: content.length, etag, mtime });
  const SRC = mp("big", "x".repeat(20), "0123456789abcdef0123456789abcdef-3", 1000);
  const DST = mp("big", "x".repeat(20), "fedcba9876543210fedcba9876543210-2", 2000);
  const pair = rec(SRC, DST);

  it("a journal pair makes sameContent true exactly like a state record; a mismatching pair is ignored", () => {
    expect(sameContent(SRC, DST)).toBe(false);
    expect(sameContent(SRC, DST, undefined, pair)).toBe(true);
    expect(sameContent(SRC, { ...DST, etag: "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-2" }, undefined, pair)).toBe(false);
    expect(sameContent({ ...SRC, etag: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-3" }, DST, undefined, pair)).toBe(false);
    // No evidence: sizes that differ (a copy keeps the size), empty ETags.
    expect(sameContent(SRC, { ...DST, size: 21 }, undefined, { ...pair, bSize: 21 })).toBe(false);
    expect(sameContent({ ...SRC, etag: "" }, { ...DST, etag: "" }, undefined, { ...pair, aEtag: "", bEtag: "" })).toBe(false);
    expect(sameContent({ ...SRC, etag: "" }, DST, undefined, { ...pair, aEtag: "" })).toBe(false);
  });

  it("bisync, no state (a first run that partly failed): a journal pair is equal content, not a conflict", () => {
    const withoutJournal = decideBisync([SRC], [DST], undefined, opts);
    expect(only(withoutJournal.actions)).toEqual(["conflict big winner=b"]);
    const p = decideBisync([SRC], [DST], undefined, { ...opts, journal: [pair] });
    expect(p.actions).toEqual([]);
    expect(p.same).toEqual([rec(SRC, DST)]);
  });

  it("bisync with state: new on both sides / changed on both sides with a journal pair → nothing", () => {
    const other = e("o", "other");
    const st = [rec(other), rec({ ...SRC, etag: "11111111111111111111111111111111-3" }, { ...DST, etag: "22222222222222222222222222222222-2" })];
    // changed on both (run 1 copied the source's new version, then another key failed)
    expect(only(decideBisync([SRC, other], [DST, other], st, opts).actions)).toEqual(["conflict big winner=b"]);
    expect(decideBisync([SRC, other], [DST, other], st, { ...opts, journal: [pair] }).actions).toEqual([]);
    // new on both
    expect(decideBisync([SRC, other], [DST, other], [rec(other)], { ...opts, journal: [pair] }).actions).toEqual([]);
  });

  it("a mismatching journal pair is ignored: different content stays a conflict (bisync) or a copy (copy/sync)", () => {
    const changed = { ...DST, etag: "99999999999999999999999999999999-2", mtime: 3000 };
    expect(only(decideBisync([SRC], [changed], undefined, { ...opts, journal: [pair] }).actions)).toEqual(["conflict big winner=b"]);
    expect(decideCopy([SRC], [changed], undefined, { deletes: true, journal: [pair] }).copies.map((c) => c.reason)).toEqual(["different"]);
    // a pair for another key does not apply
    expect(only(decideBisync([SRC], [DST], undefined, { ...opts, journal: [{ ...pair, key: "bif" }, { ...pair, key: "bih" }] }).actions)).toEqual(["conflict big winner=b"]);
  });

  it("copy/sync: a journal pair is equal content (no re-copy after a failed run)", () => {
    expect(decideCopy([SRC], [DST], undefined, { deletes: false }).copies.length).toBe(1);
    const p = decideCopy([SRC, e("z", "z")], [DST], undefined, { deletes: true, journal: [pair] });
    expect(p.copies.map((c) => c.entry.key)).toEqual(["z"]);
    expect(p.same).toEqual([rec(SRC, DST)]);
  });

  it("the journal never causes a delete, a restore or a copy of a missing key: those depend on the state alone", () => {
    const st = [rec(SRC, DST)];
    const journal = [pair, rec(e("gone", "g")), rec(e("n", "new"))];
    for (const j of [undefined, journal]) {
      // bisync with state: deleted on the source, unchanged on the target → delete there (from the state)
      expect(only(decideBisync([], [DST], st, { ...opts, journal: j }).actions)).toEqual(["delete b big"]);
      // bisync without state: a key on one side only is copied, never deleted, journal or not
      expect(only(decideBisync([], [DST], undefined, { ...opts, journal: j }).actions)).toEqual(["copy b→ big"]);
      expect(only(decideBisync([SRC], [], undefined, { ...opts, journal: j }).actions)).toEqual(["copy a→ big"]);
      // copy/sync: missing keys are copied, target-only keys deleted by sync exactly as without it
      const c = decideCopy([e("n", "new")], [DST, e("gone", "g")], undefined, { deletes: true, journal: j });
      expect(c.copies.map((x) => x.entry.key)).toEqual(["n"]);
      expect(c.deletes.map((x) => x.key)).toEqual(["big", "gone"]);
    }
    // A journal pair describing the deleted object does not turn "unchanged" into anything else.
    expect(only(decideBisync([SRC], [], st, { ...opts, journal: [pair] }).actions)).toEqual(["delete a big"]);
  });

  it("mergeJournal: this run's transfers win, old pairs survive only while both listings still show them, equal-ETag pairs are dropped", () => {
    const k1 = { a: mp("k1", "1".repeat(10), "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1-2"), b: mp("k1", "1".repeat(10), "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1-3") };
    const k2 = { a: mp("k2", "2".repeat(10), "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2-2"), b: mp("k2", "2".repeat(10), "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2-3") };
    const k3 = { a: mp("k3", "3".repeat(10), "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3-2"), b: mp("k3", "3".repeat(10), "b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3-3") };
    const old = [rec(k1.a, k1.b), rec(k2.a, k2.b), rec(k3.a, k3.b), rec(e("gone", "g"), mp("gone", "g", "cccccccccccccccccccccccccccccccc-2"))];
    const k2new = rec({ ...k2.a, etag: "dddddddddddddddddddddddddddddddd-2" }, { ...k2.b, etag: "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-3" });
    const plain = rec(e("p", "plain")); // equal size and ETag on both sides: the listings prove it
    // Listings now: k1 unchanged on both, k2 (re-copied in this run), k3 changed on the target, "gone" deleted.
    const a = [k1.a, k2.a, k3.a, e("p", "plain")];
    const b = [k1.b, k2.b, { ...k3.b, etag: "ffffffffffffffffffffffffffffffff-3" }, e("p", "plain")];
    const m = mergeJournal(old, [plain, k2new], a, b);
    expect(m.map((r) => r.key)).toEqual(["k1", "k2"]);
    expect(m[1]).toEqual(k2new);
    expect(mergeJournal(undefined, [plain], a, b)).toEqual([]);
    expect(mergeJournal(undefined, [{ ...k2new, bSize: 11 }], a, b)).toEqual([]); // sizes differ: no evidence
    // Bounded: nothing outside the listings survives, whatever the old journal held.
    const huge = Array.from({ length: 10_000 }, (_, i) => rec(mp(`x${String(i).padStart(5, "0")}`, "x", "a".repeat(32) + "-2"), mp(`x${i}`, "x", "b".repeat(32) + "-2")));
    expect(mergeJournal(huge, [], a, b)).toEqual([]);
  });
});

describe("conflict keys and state file", () => {
  it("conflict key starts with the original key followed by .conflict", () => {
    const k = conflictKey("photo.jpg", new Date(Date.UTC(2026, 10, 22, 1, 30, 0, 123)), "london");
    expect(k).toBe("photo.jpg.conflict-20261122T013000Z-london");
    expect(k.startsWith("photo.jpg.conflict")).toBe(true);
  });
  it("state codec round-trips awkward keys", () => {
    const keys = ["plain", "tab\there", "new\nline", "back\\slash", "#hash", "\\#x", "ü 😀 %2F +", "trail/"];
    const records = sortEntries([...keys.map((k, i) => rec(e(k, `c${i}`, i), e(k, `d${i}`, i + 1))), rec(e("same-both", "x", 7)), rec(e("=", "y", 8))]);
    const buf = encodeState({ meta: { job: "j", mode: "bisync", source: "s", written: "now" }, sections: [{ target: "t", records }] });
    const back = decodeState(buf);
    expect(back.meta.job).toBe("j");
    expect(back.sections[0].target).toBe("t");
    expect(back.sections[0].records).toEqual(records);
  });
});
