// Key ranges for parallel listing. Pure. A range (lo, hi] lists keys k with lo < k ≤ hi
// (ListObjectsV2 StartAfter = lo, stop past hi); any increasing boundaries are correct, good ones
// only balance the work. Boundaries come from the previous state (every so many keys), from
// delimiter discovery (CommonPrefixes) on a first run, and from splitting a long range while it
// is being listed.
import { compareKeys } from "../decide/types.js";
import { ownString } from "../store/list.js";

/** Picks at most `n - 1` boundaries (n ranges) spread evenly over sorted, distinct candidates. */
export function spread(candidates: readonly string[], n: number): string[] {
  if (n <= 1 || candidates.length === 0) return [];
  if (candidates.length <= n - 1) return [...candidates];
  const out: string[] = [];
  for (let i = 1; i < n; i++) out.push(candidates[Math.floor((i * candidates.length) / n)]);
  return out.filter((b, i) => i === 0 || compareKeys(out[i - 1], b) < 0);
}

/**
 * Picks at most `n - 1` of a previous listing's page ends (BoundarySampler's keys, sorted) so that
 * the n ranges hold about as many pages each. Candidate j ends the (j+1)-th stride of pages, so
 * range i ends at candidate floor(i·len/n) - 1. The last candidate is never picked: the listing
 * may end right there, and a range after it would cost a LIST that finds nothing.
 */
export function spreadEnds(ends: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 1; i < n; i++) {
    const j = Math.floor((i * ends.length) / n) - 1;
    if (j >= 0 && j < ends.length - 1 && (out.length === 0 || compareKeys(out[out.length - 1], ends[j]) < 0)) out.push(ends[j]);
  }
  return out;
}

/** Highest code point a midpoint is built from: splits stay inside the BMP below the surrogates. */
const MAX_SPLIT_CHAR = 0xd7ff;

/**
 * A key strictly between `lo` and `hi` (lo < m < hi, in UTF-8 order), or undefined when none is
 * easy to build. `hi` undefined: the range is open-ended; then the split aims at the printable
 * ASCII range above `lo` (where most keys live), so a split costs at most a short, empty listing.
 */
export function midpoint(lo: string, hi: string | undefined): string | undefined {
  let i = 0;
  const h = hi ?? "";
  if (hi !== undefined) {
    while (i < lo.length && i < h.length && lo.charCodeAt(i) === h.charCodeAt(i)) i++;
    if (i >= h.length) return undefined; // hi is a prefix of lo: lo ≥ hi
  } else {
    // Open-ended: the first position where lo's character is below DEL.
    while (i < lo.length && lo.charCodeAt(i) >= 0x7e) i++;
  }
  const cl = i < lo.length ? lo.charCodeAt(i) : 0;
  const ch = hi !== undefined ? h.charCodeAt(i) : 0x7f;
  if (cl > MAX_SPLIT_CHAR || ch > MAX_SPLIT_CHAR + 1 || (cl >= 0xd800 && cl <= 0xdfff)) return undefined;
  if (ch - cl >= 2) {
    const m = lo.slice(0, i) + String.fromCharCode((cl + ch) >> 1);
    return compareKeys(lo, m) < 0 && (hi === undefined || compareKeys(m, hi) < 0) ? m : undefined;
  }
  if (ch - cl !== 1 || i >= lo.length) return undefined;
  // Adjacent characters: keep lo's character and go halfway up from lo's next one.
  const c2 = i + 1 < lo.length ? lo.charCodeAt(i + 1) : 0;
  if (c2 >= 0x7e) return undefined;
  const m = lo.slice(0, i + 1) + String.fromCharCode((c2 + 0x7f) >> 1);
  return compareKeys(lo, m) < 0 && (hi === undefined || compareKeys(m, hi) < 0) ? m : undefined;
}

/**
 * Keeps about `max` keys evenly spaced over a sorted stream of unknown length: the last key of
 * every `stride` keys, the stride doubling (and every other sample dropped) whenever the sample is
 * full. The next run lists with these as range boundaries.
 *
 * Why the last key of each 1,000 (a page's last key) and not the first: a range (lo, hi] then
 * holds whole pages. Its last page ends exactly at hi, so an unchanged listing costs exactly
 * ceil(N/1000) LISTs however many ranges it is cut into; only a range where keys were added since
 * lists one page more.
 */
const MAX_BOUNDARY_LENGTH = 256;
const PAGE_KEYS = 1000;

export class BoundarySampler {
  private stride = PAGE_KEYS;
  /** Keys seen. */
  n = 0;
  readonly keys: string[] = [];
  /** Each sample's position in the stream (0-based), to keep the aligned ones when thinning. */
  private readonly at: number[] = [];
  constructor(private readonly max = 1024) {}
  add(key: string): void {
    const i = this.n++;
    if (i % this.stride === this.stride - 1) this.sample(i, key);
  }

  /** `count` keys at once, the j-th read by keyAt(j) (a page the merge took unparsed): only the
   *  sampled ones are read. The same samples as `count` calls of add(). */
  addRun(count: number, keyAt: (j: number) => string): void {
    const base = this.n;
    this.n += count;
    // The next sampled position from i (the stride may double at each sample).
    for (let i = base + this.stride - 1 - (base % this.stride); i < base + count; i = i + 1 + this.stride - 1 - ((i + 1) % this.stride)) this.sample(i, keyAt(i - base));
  }

  private sample(i: number, key: string): void {
    // A very long key would only bloat the state's meta line (≤ 1,024 boundaries): skip its turn.
    if (key.length > MAX_BOUNDARY_LENGTH) return;
    this.keys.push(ownString(key)); // kept all run: never a slice of a listing page
    this.at.push(i);
    if (this.keys.length >= this.max) {
      this.stride *= 2;
      let j = 0;
      for (let k = 0; k < this.keys.length; k++) {
        if (this.at[k] % this.stride !== this.stride - 1) continue;
        this.keys[j] = this.keys[k];
        this.at[j++] = this.at[k];
      }
      this.keys.length = j;
      this.at.length = j;
    }
  }
}
