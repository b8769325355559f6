// Pure data shared by the decision tables. No I/O anywhere under runner/decide/.

/** One object of a listing, with its key relative to the location's prefix. */
export interface Entry {
  key: string;
  size: number;
  /** ETag without quotes ("" if unknown). */
  etag: string;
  /** LastModified, epoch milliseconds. */
  mtime: number;
}

/**
 * One key of the saved state, after the last fully successful run. `a` is the job's source side,
 * `b` the target side. For copy/sync it records which source (size, ETag) produced which target
 * (size, ETag), so objects whose ETags differ across providers (multipart) are not copied again.
 * For bisync it is both sides' listing after the run.
 */
export interface StateRecord {
  key: string;
  aSize: number;
  aEtag: string;
  aMtime: number;
  bSize: number;
  bEtag: string;
  bMtime: number;
}

/**
 * The key order used everywhere: UTF-8 byte order, the order S3 lists general-purpose buckets in.
 * JavaScript's `<` compares UTF-16 code units, which disagrees with it only where one key has a
 * surrogate (a character outside the BMP, UTF-8 lead byte F0-F4) and the other a BMP character
 * from U+E000 (lead byte EE-EF) at the first differing position: there the surrogate sorts last.
 */
export function compareKeys(x: string, y: string): number {
  if (x === y) return 0;
  // Without surrogates every UTF-16 unit is a code point, and code point order is UTF-8 byte order:
  // the engine's own comparison is right (and several times faster than the loop below, which
  // runs twice per listed key in the order checks and the merge).
  if (!SURROGATE.test(x) && !SURROGATE.test(y)) return x < y ? -1 : 1;
  return compareUnits(x, y);
}

const SURROGATE = /[\uD800-\uDFFF]/;

function compareUnits(x: string, y: string): number {
  const n = x.length < y.length ? x.length : y.length;
  for (let i = 0; i < n; i++) {
    const a = x.charCodeAt(i);
    const b = y.charCodeAt(i);
    if (a === b) continue;
    if (a >= 0xd800 && b >= 0xd800) {
      const sa = a <= 0xdfff;
      const sb = b <= 0xdfff;
      if (sa !== sb) return sa ? 1 : -1;
    }
    return a < b ? -1 : 1;
  }
  return x.length < y.length ? -1 : 1;
}

export function sortEntries<T extends { key: string }>(xs: T[]): T[] {
  return xs.sort((p, q) => compareKeys(p.key, q.key));
}

const PLAIN_MD5 = /^[0-9a-f]{32}$/i;
/** An ETag is an MD5 of the content only when it is 32 hex digits (single-part, no SSE-KMS/C). */
export function isPlainMd5(etag: string): boolean {
  return PLAIN_MD5.test(etag);
}

export function record(key: string, a: Omit<Entry, "key">, b: Omit<Entry, "key">): StateRecord {
  return { key, aSize: a.size, aEtag: a.etag, aMtime: a.mtime, bSize: b.size, bEtag: b.etag, bMtime: b.mtime };
}

/** Does this record describe exactly these two objects (size and ETag on each side)? */
export function pairMatches(r: StateRecord, a: Entry, b: Entry): boolean {
  return r.aSize === a.size && r.aEtag === a.etag && r.bSize === b.size && r.bEtag === b.etag;
}

/**
 * Do a source object and a target object hold the same content, judged without any HEAD?
 * - The state says this target (size, ETag) was produced from this source (size, ETag): equal.
 * - The ETag pair journal says so (a transfer that completed in a run whose state was not written,
 *   see decide/journal.ts): equal. Only equal sizes and non-empty ETags count as such evidence.
 * - Sizes differ: different.
 * - Same size and same non-empty ETag: equal (plain MD5s, or identical multipart layouts).
 * - Otherwise different (including "unknown": a multipart ETag vs anything else with no state;
 *   copying again is safe and the state then records the pair).
 */
export function sameContent(a: Entry, b: Entry, prior?: StateRecord, pair?: StateRecord): boolean {
  if (prior && pairMatches(prior, a, b)) return true;
  if (pair && a.etag !== "" && b.etag !== "" && a.size === b.size && pairMatches(pair, a, b)) return true;
  if (a.size !== b.size) return false;
  return a.etag !== "" && a.etag === b.etag;
}

/**
 * A lookup into records sorted by key, for callers that ask for keys in increasing order (the
 * merge-joins): amortised O(1) per call, no map.
 */
export function sortedLookup(rs: readonly StateRecord[] | undefined): (key: string) => StateRecord | undefined {
  const xs = rs ?? [];
  let k = 0;
  return (key) => {
    while (k < xs.length && compareKeys(xs[k].key, key) < 0) k++;
    return k < xs.length && xs[k].key === key ? xs[k] : undefined;
  };
}

/**
 * A copy/sync record that is its own evidence: same size and the same non-empty ETag on both sides.
 * sameContent() judges such a pair equal without any record, so the copy state leaves it out and
 * holds only the pairs it is needed for (ETags that differ across providers, multipart, SSE): a
 * no-op between like endpoints then reads and writes an almost empty state, not one line per key.
 */
export function selfEvident(r: StateRecord): boolean {
  return r.aSize === r.bSize && r.aEtag !== "" && r.aEtag === r.bEtag;
}

/** Is this entry unchanged since the state recorded that side (size and ETag)? */
export function unchangedSince(e: Entry, size: number, etag: string): boolean {
  return e.size === size && e.etag === etag && etag !== "";
}
