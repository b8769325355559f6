// The no-op's shortcut. Between like endpoints, a copy or sync whose sides are already equal lists
// the same keys, sizes and ETags on both sides, page for page: both listings are cut at the same
// boundaries (the previous run's), and a page holds the next 1,000 keys after the same key. Such a
// pair of pages is compared here as the bytes the servers sent, field by field, without making a
// string or an object per key: the merge then takes both pages as "all the same" (merge.ts). Each
// key still costs a scan of its Contents element on each side, but not the parse, the merge and
// the decision, which were most of a 100,000-key no-op's CPU (docs/performance.md).
//
// Anything this cannot prove equal in the plain shape returns undefined, and the pages go through
// the parse and the decision tables as before; a wrong "equal" would silently skip a copy, so
// every doubt is a fallback:
// - a key with `%`, `+` or `&` (URL or XML escapes: the bytes are not the key), or `<` (CDATA);
// - a Contents element not in the plain order (scanContents), a comment or CDATA anywhere;
// - an empty ETag (sameContent never judges it equal), a Size that is not digits;
// - keys out of order (the parse then reports it), a page past its range's end (the parse drops
//   the keys beyond it), a key equal to the prefix.
import { compareKeys } from "../decide/types.js";
import type { HeldView } from "../list/lister.js";
import { digitsAt, L_CONTENTS, litAt, scanContents, SPANS } from "../store/list-bytes.js";

/**
 * A listing whose pages a merge may take unparsed, in pairs with another side's (RangeLister, and
 * the wrappers over it that keep its errors and the boundary samples).
 */
export interface HeldPages {
  /** The next page if it is held unparsed, else undefined (see RangeLister.peekHeld). */
  peekHeld(): Promise<HeldView | undefined>;
  /** Takes that page: `count` objects, all equal to the other side's; keyAt(j) reads the j-th key
   *  (relative), until the page is taken. */
  takeHeld(v: HeldView, count: number, keyAt: (j: number) => string): void;
}

export function heldPagesOf(x: object): HeldPages | undefined {
  const h = x as Partial<HeldPages>;
  return typeof h.peekHeld === "function" && typeof h.takeHeld === "function" ? (h as HeldPages) : undefined;
}

/** What a pair of equal pages held. */
export interface PagePair {
  /** Objects on each side. */
  count: number;
  /** Their total size, on each side. */
  bytes: number;
  /** The key (relative to the prefix) of the j-th object; valid until the next pairPages call, and
   *  only while the source page is not taken (it reads the page's bytes). */
  keyAt(j: number): string;
}

const PCT = 37;
const PLUS = 43;
const AMP = 38;
const LT = 60;
const COMMENT_OR_CDATA = Buffer.from("<!");

/** Byte order of b[a, ae) and b[c, ce) (UTF-8 byte order, that of compareKeys). */
function compareBytes(b: Buffer, a: number, ae: number, c: number, ce: number): number {
  const la = ae - a;
  const lc = ce - c;
  const n = la < lc ? la : lc;
  for (let k = 0; k < n; k++) {
    const d = b[a + k] - b[c + k];
    if (d !== 0) return d;
  }
  return la - lc;
}

/** Are x[a, a + n) and y[c, c + n) the same bytes? */
function sameBytes(x: Uint8Array, a: number, y: Uint8Array, c: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (x[a + k] !== y[c + k]) return false;
  return true;
}

/** Is b[a, e) a key whose bytes are its text (no escape, no markup)? */
function plainKey(b: Buffer, a: number, e: number): boolean {
  for (let i = a; i < e; i++) {
    const c = b[i];
    if (c === PCT || c === PLUS || c === AMP || c === LT) return false;
  }
  return true;
}

/** The page ends within its range. */
function withinRange(v: HeldView): boolean {
  return v.hi === undefined || compareKeys(v.lastKey, v.hi) <= 0;
}

/**
 * The first Contents element's offset in a page, if no comment or CDATA comes before it (one there
 * could hide a `<Contents>`). Inside the run of Contents elements scanContents admits none, and
 * after it the caller checks the rest: so a page is never searched whole (a search for "<!" in
 * 200 KB of tags cost 0.2 ms a page).
 */
function firstContents(raw: Buffer): number {
  const p = raw.indexOf(L_CONTENTS);
  return p >= 0 && raw.subarray(0, p).indexOf(COMMENT_OR_CDATA) < 0 ? p : -1;
}

/** After the run of Contents ending at p: no other Contents element, no comment or CDATA. */
function plainTail(raw: Buffer, p: number): boolean {
  return raw.indexOf(L_CONTENTS, p) < 0 && raw.indexOf(COMMENT_OR_CDATA, p) < 0;
}

/** Is the key at b[a, e) greater than `after` (UTF-8 byte order)? */
function afterOk(b: Buffer, a: number, e: number, after: string | undefined): boolean {
  if (after === undefined) return true;
  const x = Buffer.from(after, "utf8");
  const n = Math.min(x.length, e - a);
  for (let k = 0; k < n; k++) if (b[a + k] !== x[k]) return b[a + k] > x[k];
  return e - a > x.length;
}

let keySpans = new Int32Array(2 * 1024);

/**
 * The source page and each target's page, if they list exactly the same keys (after each side's
 * prefix) with the same Size and the same non-empty ETag, in the order and within the bounds the
 * parse would check; else undefined. keyAt of the result reads the source page's bytes.
 */
export function pairPages(src: HeldView, tgts: readonly HeldView[]): PagePair | undefined {
  if (!tgts.length || !withinRange(src)) return undefined;
  for (const t of tgts) if (!withinRange(t)) return undefined;
  const sb = src.raw;
  const sp = src.prefix.length;
  let ps = firstContents(sb);
  if (ps < 0) return undefined;
  const pt = new Int32Array(tgts.length);
  /** Each target's last key, as [start, end) in its page. */
  const tLast = new Int32Array(2 * tgts.length);
  for (let ti = 0; ti < tgts.length; ti++) {
    pt[ti] = firstContents(tgts[ti].raw);
    if (pt[ti] < 0) return undefined;
  }
  let count = 0;
  let bytes = 0;
  let prevA = -1;
  let prevE = -1;
  for (;;) {
    const next = scanContents(sb, ps + 10);
    if (next < 0) return undefined;
    const ka = SPANS[0];
    const ke = SPANS[1];
    const ea = SPANS[4];
    const ee = SPANS[5];
    const sa = SPANS[6];
    const se = SPANS[7];
    // The key: plain, under the prefix, not the prefix itself, after the one before (or `after`).
    if (ke - ka <= sp || !plainKey(sb, ka, ke) || !sameBytes(sb, ka, src.prefix, 0, sp)) return undefined;
    if (prevA < 0 ? !afterOk(sb, ka, ke, src.after) : compareBytes(sb, prevA, prevE, ka, ke) >= 0) return undefined;
    if (ee === ea) return undefined; // no ETag: never "the same" without a state
    const size = digitsAt(sb, sa, se);
    if (Number.isNaN(size)) return undefined;
    for (let ti = 0; ti < tgts.length; ti++) {
      const t = tgts[ti];
      const tb = t.raw;
      const tp = t.prefix.length;
      const q = scanContents(tb, pt[ti] + 10);
      if (q < 0) return undefined;
      const tka = SPANS[0];
      const tke = SPANS[1];
      if (tke - tka - tp !== ke - ka - sp || !sameBytes(tb, tka + tp, sb, ka + sp, ke - ka - sp) || !sameBytes(tb, tka, t.prefix, 0, tp)) return undefined;
      if (SPANS[5] - SPANS[4] !== ee - ea || !sameBytes(tb, SPANS[4], sb, ea, ee - ea)) return undefined;
      if (SPANS[7] - SPANS[6] !== se - sa || !sameBytes(tb, SPANS[6], sb, sa, se - sa)) return undefined;
      if (count === 0 && !afterOk(tb, tka, tke, t.after)) return undefined;
      pt[ti] = q;
      tLast[2 * ti] = tka;
      tLast[2 * ti + 1] = tke;
    }
    if (2 * count + 2 > keySpans.length) {
      const grown = new Int32Array(2 * keySpans.length);
      grown.set(keySpans);
      keySpans = grown;
    }
    keySpans[2 * count] = ka + sp;
    keySpans[2 * count + 1] = ke;
    count++;
    bytes += size;
    prevA = ka;
    prevE = ke;
    ps = next;
    // The Contents run on until something else; the pages pair only if they all end here, and no
    // other Contents element follows elsewhere in any of them.
    const more = litAt(sb, ps, L_CONTENTS);
    for (let ti = 0; ti < tgts.length; ti++) if (litAt(tgts[ti].raw, pt[ti], L_CONTENTS) !== more) return undefined;
    if (more) continue;
    if (!plainTail(sb, ps)) return undefined;
    for (let ti = 0; ti < tgts.length; ti++) if (!plainTail(tgts[ti].raw, pt[ti])) return undefined;
    break;
  }
  // The last key must be the one the lister took as where the range stands.
  if (sb.toString("utf8", prevA, prevE) !== src.lastKey) return undefined;
  for (let ti = 0; ti < tgts.length; ti++) if (tgts[ti].raw.toString("utf8", tLast[2 * ti], tLast[2 * ti + 1]) !== tgts[ti].lastKey) return undefined;
  const spans = keySpans;
  return { count, bytes, keyAt: (j) => sb.toString("utf8", spans[2 * j], spans[2 * j + 1]) };
}
