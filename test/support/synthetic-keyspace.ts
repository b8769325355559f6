// The keyspace of one synthetic bucket (test/support/synthetic-s3.ts): N keys computed from a
// formula plus a few explicit extra keys, in S3's order, listed page by page without ever
// materializing the N keys. Every page start is a binary search over the formula index (O(log N));
// a page costs O(page).
import { hash } from "node:crypto";

export interface SyntheticBucket {
  /** N formula keys: `${prefix}data/${pad6(floor(i/1000))}/obj-${pad9(i)}` for 0 ≤ i < N. */
  keys: number;
  /** Prepended to every formula key (default ""). */
  prefix?: string;
  /** Every k-th key (i % k === changeOffset) has version 1 instead of 0 (other body, ETag, date). */
  changeEvery?: number;
  changeOffset?: number;
  /** Every k-th key (i % k === deleteOffset) is absent. */
  deleteEvery?: number;
  deleteOffset?: number;
  /** Additional explicit keys (version 0), merged into the listing in order. An extra equal to a
   *  live formula key is that key (listed once, with the formula's version). */
  extra?: string[];
  /** Serve each page's Contents in a shuffled (deterministic) order, to test clients' order checks. */
  unordered?: boolean;
}

/** One listed object. `i` is the formula index, or -1 for an extra key. */
export interface Entry {
  key: string;
  i: number;
  version: number;
}

/** Compare two strings in UTF-8 byte order (= code point order), which is S3's listing order, with
 *  no encoding: JS `<` compares UTF-16 code units, which differs only when one side is a surrogate
 *  (a non-BMP character) and the other a BMP character at or above U+E000. Same result as
 *  Buffer.compare of the UTF-8 encodings for well-formed strings. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let k = 0; k < n; k++) {
    let x = a.charCodeAt(k);
    let y = b.charCodeAt(k);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (0xD800–0xDFFF) encode code points above 0xFFFF: move them above 0xE000–0xFFFF.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

const pad = (n: number, w: number): string => String(n).padStart(w, "0");
/** "000"…"999": pad9(i) = pad6(floor(i / 1000)) + P3[i % 1000] for i < 1e9, so a formula key is a
 *  per-block head (cached) plus one table entry; String#padStart per key was most of a page's cost. */
const P3 = Array.from({ length: 1000 }, (_, k) => pad(k, 3));

/** The listing position: the next formula index to consider (always live or N) and next extra. */
export interface Cursor {
  f: number;
  e: number;
}

/** 2023-11-14T22:13:20.000Z, the LastModified of formula key 0 (version 0) and of every extra. */
export const BASE_SECONDS = 1_700_000_000;
const DAY = 86_400;

export class Keyspace {
  readonly n: number;
  readonly prefix: string;
  readonly unordered: boolean;
  /** Extra keys in UTF-8 order, unique, without those that are live formula keys. */
  readonly extras: string[];
  private readonly extraSet: Set<string>;
  private readonly changeEvery: number;
  private readonly changeOffset: number;
  private readonly deleteEvery: number;
  private readonly deleteOffset: number;
  private readonly dayCache = new Map<number, string>();
  /** "HH:MM:SS.000Z" by second of the day, filled lazily. */
  private readonly clock: string[] = [];
  private headBlock = -1;
  private head = "";

  constructor(b: SyntheticBucket) {
    const int = (v: number | undefined, name: string, min: number): number => {
      if (v === undefined) return 0;
      if (!Number.isInteger(v) || v < min) throw new Error(`synthetic bucket: ${name} must be an integer ≥ ${min}`);
      return v;
    };
    this.n = int(b.keys, "keys", 0);
    if (this.n > 1e9) throw new Error("synthetic bucket: keys must be at most 1e9 (pad9)");
    this.prefix = b.prefix ?? "";
    this.unordered = b.unordered ?? false;
    this.changeEvery = int(b.changeEvery, "changeEvery", 1);
    this.changeOffset = int(b.changeOffset, "changeOffset", 0);
    this.deleteEvery = int(b.deleteEvery, "deleteEvery", 1);
    this.deleteOffset = int(b.deleteOffset, "deleteOffset", 0);
    const extras = [...new Set(b.extra ?? [])].filter((k) => this.formulaIndex(k) < 0);
    this.extras = extras.sort(compareUtf8);
    this.extraSet = new Set(this.extras);
  }

  formulaKey(i: number): string {
    const block = Math.floor(i / 1000);
    if (block !== this.headBlock) {
      const b = pad(block, 6);
      this.head = `${this.prefix}data/${b}/obj-${b}`;
      this.headBlock = block;
    }
    return this.head + P3[i - block * 1000];
  }

  deleted(i: number): boolean {
    return this.deleteEvery > 0 && i % this.deleteEvery === this.deleteOffset;
  }

  version(i: number): number {
    return i >= 0 && this.changeEvery > 0 && i % this.changeEvery === this.changeOffset ? 1 : 0;
  }

  /** The first live formula index ≥ i (N if none). */
  private live(i: number): number {
    if (this.deleteEvery === 1 && this.deleteOffset === 0) return this.n; // every key deleted
    while (i < this.n && this.deleted(i)) i++; // at most one step when deleteEvery ≥ 2
    return i;
  }

  /** Formula index of a live formula key, else -1. */
  formulaIndex(key: string): number {
    if (!key.startsWith(this.prefix)) return -1;
    const m = /^data\/(\d{6})\/obj-(\d{9})$/.exec(key.slice(this.prefix.length));
    if (!m) return -1;
    const i = Number(m[2]);
    return i < this.n && Number(m[1]) === Math.floor(i / 1000) && !this.deleted(i) ? i : -1;
  }

  lookup(key: string): Entry | undefined {
    const i = this.formulaIndex(key);
    if (i >= 0) return { key, i, version: this.version(i) };
    return this.extraSet.has(key) ? { key, i: -1, version: 0 } : undefined;
  }

  /** The position of the first key for which `before` is false. `before` must be true for a
   *  (possibly empty) initial run of keys in UTF-8 order and false after it. */
  seek(before: (key: string) => boolean): Cursor {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.formulaKey(mid))) lo = mid + 1;
      else hi = mid;
    }
    let elo = 0;
    let ehi = this.extras.length;
    while (elo < ehi) {
      const mid = (elo + ehi) >>> 1;
      if (before(this.extras[mid])) elo = mid + 1;
      else ehi = mid;
    }
    return { f: this.live(lo), e: elo };
  }

  /** The entry at `c` (the smaller of the next formula key and the next extra), or undefined. */
  peek(c: Cursor): Entry | undefined {
    const fk = c.f < this.n ? this.formulaKey(c.f) : undefined;
    const ek = c.e < this.extras.length ? this.extras[c.e] : undefined;
    if (fk !== undefined && (ek === undefined || compareUtf8(fk, ek) < 0)) return { key: fk, i: c.f, version: this.version(c.f) };
    return ek === undefined ? undefined : { key: ek, i: -1, version: 0 };
  }

  /** Move `c` past `e` (the entry peek(c) returned). */
  advance(c: Cursor, e: Entry): void {
    if (e.i >= 0) c.f = this.live(c.f + 1);
    else c.e++;
  }

  /** The object body: `${key}\n${version}\n`. */
  body(e: Entry): string {
    return e.key + (e.version === 0 ? "\n0\n" : `\n${e.version}\n`);
  }

  /** ETag without quotes: md5 hex of the body (crypto.hash: one call, no Hash object, ~3× cheaper
   *  than createHash; still about half of a listed key's cost). */
  etag(body: string): string {
    return hash("md5", body, "hex");
  }

  /** Digests of formula keys by index and version, computed once per server process: a re-run
   *  (the no-op rows of the bench) lists the same keys again, and the MD5 was a sixth of the
   *  server's CPU, which shares the two cores with the runner being measured. 16 bytes per key
   *  and version, allocated lazily (the OS backs only pages touched). */
  private digests: (Buffer | undefined)[] = [];
  private known: (Uint8Array | undefined)[] = [];

  /** etag(body(e)), from the cache for formula keys. */
  etagOf(e: Entry, body: string): string {
    if (e.i < 0 || e.version > 1) return this.etag(body);
    const v = e.version;
    const d = (this.digests[v] ??= Buffer.alloc(16 * this.n));
    const k = (this.known[v] ??= new Uint8Array(this.n));
    const at = 16 * e.i;
    if (!k[e.i]) {
      hash("md5", body, "buffer").copy(d, at);
      k[e.i] = 1;
    }
    return d.toString("hex", at, at + 16);
  }

  /** LastModified as ISO 8601 with milliseconds: base + i seconds (+1 day for version 1). Built from
   *  cached date and time-of-day strings because Date#toISOString costs about as much as the MD5. */
  lastModified(e: Entry): string {
    const t = BASE_SECONDS + Math.max(e.i, 0) + e.version * DAY;
    const day = Math.floor(t / DAY);
    let d = this.dayCache.get(day);
    if (d === undefined) {
      d = new Date(day * DAY * 1000).toISOString().slice(0, 11);
      this.dayCache.set(day, d);
    }
    const s = t - day * DAY;
    return d + (this.clock[s] ??= `${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor(s / 60) % 60, 2)}:${pad(s % 60, 2)}.000Z`);
  }
}

export interface PageRequest {
  prefix: string;
  /** "" = no delimiter. */
  delimiter: string;
  maxKeys: number;
  /** Where to start: after this key, or (`skipPrefix`) after every key that starts with it. */
  after?: { key: string; skipPrefix: boolean };
}

export interface Page {
  contents: Entry[];
  commonPrefixes: string[];
  /** Set when truncated: where the next page starts (to be put in the continuation token). */
  next?: { key: string; skipPrefix: boolean };
}

const afterPredicate = (a: { key: string; skipPrefix: boolean }) => (k: string): boolean =>
  compareUtf8(k, a.key) <= 0 || (a.skipPrefix && k.startsWith(a.key));

/** One ListObjectsV2 page with S3's semantics: keys under `prefix`, in order, starting after
 *  `after`; with a delimiter, a key whose remainder after `prefix` contains it is rolled up into the
 *  common prefix ending at its first occurrence, each common prefix once and counted against
 *  maxKeys, and the listing jumps past all keys under it with one binary search. */
export function listPage(ks: Keyspace, req: PageRequest): Page {
  const { prefix, delimiter, maxKeys } = req;
  const page: Page = { contents: [], commonPrefixes: [] };
  if (maxKeys <= 0) return page; // S3: an empty, untruncated page
  const after = req.after ? afterPredicate(req.after) : () => false;
  // Both conditions are true for an initial run of keys in order, so their union is too.
  const c = ks.seek((k) => compareUtf8(k, prefix) < 0 || after(k));
  let count = 0;
  let lastIsPrefix = false; // the last item was a common prefix (else the last of page.contents)
  for (let e = ks.peek(c); e !== undefined && e.key.startsWith(prefix); e = ks.peek(c)) {
    if (count === maxKeys) {
      page.next = lastIsPrefix
        ? { key: page.commonPrefixes[page.commonPrefixes.length - 1], skipPrefix: true }
        : { key: page.contents[page.contents.length - 1].key, skipPrefix: false };
      break;
    }
    const at = delimiter ? e.key.indexOf(delimiter, prefix.length) : -1;
    if (at >= 0) {
      const cp = e.key.slice(0, at + delimiter.length);
      page.commonPrefixes.push(cp);
      lastIsPrefix = true;
      const past = ks.seek(afterPredicate({ key: cp, skipPrefix: true }));
      // Never move backwards (seek restarts from 0, and `past` is at or after `c` by construction).
      c.f = Math.max(c.f, past.f);
      c.e = Math.max(c.e, past.e);
    } else {
      page.contents.push(e);
      lastIsPrefix = false;
      ks.advance(c, e);
    }
    count++;
  }
  return page;
}
