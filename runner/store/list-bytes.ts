// The hot path of a listing: a ListObjectsV2 body read as bytes, straight from the response
// Buffer. A page is about 200 bytes per key; decoding the whole body into one JavaScript string
// first (what the string scanners in list.ts do) cost more than the parse itself at millions of
// keys (a fresh ~200 KB string per page, outside the young generation: bench/list-cpu.ts). Here
// only the strings that are kept are made: each key and each ETag, cut from the Buffer.
//
// Anything unusual (comments, CDATA, a DOCTYPE, an ETag with entities inside the quotes, a
// non-numeric Size, an error document) returns undefined, and the general scanner in list.ts
// reads the page instead, so this file only has to be right for what servers actually send.
import type { ListedObject, ListPage } from "./list.js";

type Slicer = (this: Buffer, start: number, end: number) => string;
// Buffer's own one-shot decoders (what buf.toString(enc, a, b) calls after its argument checks).
const proto = Buffer.prototype as unknown as { latin1Slice?: Slicer; utf8Slice?: Slicer };
const latin1: Slicer = proto.latin1Slice ?? function (this: Buffer, a, b) { return this.toString("latin1", a, b); };
const utf8: Slicer = proto.utf8Slice ?? function (this: Buffer, a, b) { return this.toString("utf8", a, b); };

const LT = 60; // <
const GT = 62; // >
const SLASH = 47;
const AMP = 38;
const PCT = 37;
const PLUS = 43;

/** What a leaf element's text is for. */
const F_NONE = 0;
const F_KEY = 1;
const F_SIZE = 2;
const F_ETAG = 3;
const F_MTIME = 4;
const F_PREFIX = 5;
const F_TRUNCATED = 6;
const F_TOKEN = 7;
const F_ENCODING = 8;

/** Is b[at, at + lit.length) exactly the ASCII `lit`? */
function bytesAre(b: Buffer, at: number, len: number, lit: string): boolean {
  if (len !== lit.length) return false;
  for (let k = 0; k < len; k++) if (b[at + k] !== lit.charCodeAt(k)) return false;
  return true;
}

export function digitsAt(b: Buffer, a: number, e: number): number {
  let v = 0;
  for (let i = a; i < e; i++) {
    const d = b[i] - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

let dayBytes = new Uint8Array(10);
let dayMs = NaN;
/** `2026-01-02T03:04:05.678Z` → epoch ms, the day's midnight cached (neighbouring keys share it);
 *  any other form through Date.parse, 0 when unparseable (as the string scanners do). */
function timeAt(b: Buffer, a: number, e: number): number {
  if (e - a === 24 && b[a + 23] === 90 /* Z */ && b[a + 10] === 84 /* T */ && b[a + 19] === 46 /* . */) {
    let same = !Number.isNaN(dayMs);
    for (let k = 0; same && k < 10; k++) same = dayBytes[k] === b[a + k];
    if (!same) {
      dayBytes = new Uint8Array(b.subarray(a, a + 10));
      dayMs = Date.UTC(digitsAt(b, a, a + 4), digitsAt(b, a + 5, a + 7) - 1, digitsAt(b, a + 8, a + 10));
    }
    const t = dayMs + ((digitsAt(b, a + 11, a + 13) * 60 + digitsAt(b, a + 14, a + 16)) * 60 + digitsAt(b, a + 17, a + 19)) * 1000 + digitsAt(b, a + 20, a + 23);
    if (Number.isFinite(t)) return t;
  }
  const t = Date.parse(latin1.call(b, a, e).trim());
  return Number.isFinite(t) ? t : 0;
}

export interface TextDecoders {
  decodeXmlText(s: string): string;
  decodeUrlValue(s: string): string;
  stripEtag(s: string): string;
}

/** b[a, e) as text: XML entities resolved, URL-decoded when the listing is url-encoded. */
function textAt(b: Buffer, a: number, e: number, url: boolean, d: TextDecoders): string {
  let high = false;
  let special = false;
  for (let i = a; i < e; i++) {
    const c = b[i];
    if (c >= 0x80) high = true;
    else if (c === AMP || (url && (c === PCT || c === PLUS))) special = true;
  }
  let s = high ? utf8.call(b, a, e) : latin1.call(b, a, e);
  if (!special) return s;
  if (s.indexOf("&") >= 0) s = d.decodeXmlText(s);
  return url ? d.decodeUrlValue(s) : s;
}

/** What one page has collected so far (an object, not closure variables: the scanning loop then
 *  keeps the body and its index in registers). Exported for tests. */
export class PageState {
  objects: ListedObject[] = [];
  /** Keys are made at the end: EncodingType may come after the Contents. */
  keyRanges: number[] = [];
  prefixRanges: number[] = [];
  isTruncated = false;
  token: string | undefined = undefined;
  url = false;
  cur: ListedObject = { key: "", size: 0, etag: "", mtime: 0 };
  keyAt = -1;
  keyEnd = -1;
}

/**
 * One ListObjectsV2 body → a page, or undefined for the general scanner. A single pass over the
 * tags with a depth counter: depth 1 is the root, depth 2 its fields and the Contents and
 * CommonPrefixes elements, depth 3 their fields.
 */
export function parseListBytes(b: Buffer, d: TextDecoders): ListPage | undefined {
  const n = b.length;
  const st = new PageState();
  let depth = 0;
  let inContents = false;
  let inPrefixes = false;
  let field = F_NONE;
  let textStart = -1;
  let sawRoot = false;
  let i = 0;
  while (i < n) {
    while (i < n && b[i] !== LT) i++;
    if (i >= n) break;
    const lt = i;
    const c = b[lt + 1];
    // Most of a page: one Contents after another, read in one go where it has the usual shape.
    if (c === 67 /* C */ && depth === 1 && sawRoot && litAt(b, lt, L_CONTENTS)) {
      st.cur = { key: "", size: 0, etag: "", mtime: 0 };
      const end = contentsInOrder(st, b, lt + 10);
      if (end > 0) {
        st.keyRanges.push(st.keyAt, st.keyEnd);
        st.objects.push(st.cur);
        i = end;
        continue;
      }
    }
    if (c === 63 /* ? */) {
      // <?xml ...?>
      i = lt + 2;
      while (i < n && !(b[i] === GT && b[i - 1] === 63)) i++;
      i++;
      continue;
    }
    if (c === 33 /* ! */) return undefined; // comment, CDATA or DOCTYPE: the general scanner
    const closing = c === SLASH;
    let e = closing ? lt + 2 : lt + 1;
    const nameAt = e;
    for (;;) {
      if (e >= n) return undefined;
      const ch = b[e];
      if (ch === GT || ch === SLASH || ch === 32 || ch === 9 || ch === 10 || ch === 13) break;
      e++;
    }
    const len = e - nameAt;
    let gt = e;
    while (gt < n && b[gt] !== GT) gt++;
    if (gt >= n) return undefined;
    i = gt + 1;
    if (closing) {
      if (depth === 3 && field !== F_NONE && textStart >= 0) {
        if (!leaf(st, b, d, field, textStart, lt)) return undefined;
      } else if (depth === 2) {
        if (inContents) {
          if (st.keyAt < 0) return undefined;
          st.keyRanges.push(st.keyAt, st.keyEnd);
          st.objects.push(st.cur);
          inContents = false;
        } else if (field !== F_NONE && textStart >= 0 && !leaf(st, b, d, field, textStart, lt)) return undefined;
        inPrefixes = false;
      }
      field = F_NONE;
      textStart = -1;
      depth--;
      continue;
    }
    const selfClosing = b[gt - 1] === SLASH;
    depth++;
    field = F_NONE;
    if (depth === 3) {
      if (inContents) {
        const f = b[nameAt];
        if (f === 75 /* K */ && len === 3 && b[nameAt + 1] === 101 && b[nameAt + 2] === 121) field = F_KEY;
        else if (f === 83 /* S */ && bytesAre(b, nameAt, len, "Size")) field = F_SIZE;
        else if (f === 69 /* E */ && bytesAre(b, nameAt, len, "ETag")) field = F_ETAG;
        else if (f === 76 /* L */ && bytesAre(b, nameAt, len, "LastModified")) field = F_MTIME;
      } else if (inPrefixes && bytesAre(b, nameAt, len, "Prefix")) field = F_PREFIX;
    } else if (depth === 2) {
      if (bytesAre(b, nameAt, len, "Contents")) {
        if (selfClosing) return undefined;
        // Not the usual shape (see above): tag by tag.
        st.cur = { key: "", size: 0, etag: "", mtime: 0 };
        st.keyAt = -1;
        inContents = true;
      } else if (bytesAre(b, nameAt, len, "CommonPrefixes")) inPrefixes = !selfClosing;
      else if (bytesAre(b, nameAt, len, "IsTruncated")) field = F_TRUNCATED;
      else if (bytesAre(b, nameAt, len, "NextContinuationToken")) field = F_TOKEN;
      else if (bytesAre(b, nameAt, len, "EncodingType")) field = F_ENCODING;
    } else if (depth === 1) {
      if (!bytesAre(b, nameAt, len, "ListBucketResult")) return undefined; // an error document, or not S3's
      sawRoot = true;
    }
    if (selfClosing) {
      // An empty element: its text is "".
      if (field !== F_NONE && !leaf(st, b, d, field, gt, gt)) return undefined;
      field = F_NONE;
      depth--;
      continue;
    }
    textStart = field === F_NONE ? -1 : gt + 1;
  }
  if (!sawRoot || depth !== 0) return undefined;
  const { objects, keyRanges, prefixRanges, url } = st;
  for (let k = 0; k < objects.length; k++) objects[k].key = textAt(b, keyRanges[2 * k], keyRanges[2 * k + 1], url, d);
  const commonPrefixes: string[] = [];
  for (let k = 0; k < prefixRanges.length; k += 2) commonPrefixes.push(textAt(b, prefixRanges[k], prefixRanges[k + 1], url, d));
  const page: ListPage = { objects, commonPrefixes, isTruncated: st.isTruncated };
  if (st.token !== undefined) page.nextContinuationToken = st.token;
  return page;
}

/** Is b[at, at + lit.length) exactly the bytes `lit`? */
export function litAt(b: Buffer, at: number, lit: Uint8Array): boolean {
  const n = lit.length;
  if (at + n > b.length) return false;
  for (let k = 0; k < n; k++) if (b[at + k] !== lit[k]) return false;
  return true;
}
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const L_KEY = ascii("<Key>");
const L_KEY_END_MTIME = ascii("</Key><LastModified>");
const L_MTIME_END_ETAG = ascii("</LastModified><ETag>&quot;");
const L_ETAG_END = ascii("&quot;</ETag>");
const L_SIZE = ascii("<Size>");
const L_SIZE_END = ascii("</Size>");
export const L_CONTENTS = ascii("<Contents>");
const L_CONTENTS_END = ascii("</Contents>");
const L_OWNER = ascii("<Owner>");
const L_OWNER_END = ascii("</Owner>");

/** b[p] onwards: the end of a text without markup (the next "<"), or -1 at the end of the body. */
function textEnd(b: Buffer, p: number): number {
  const n = b.length;
  while (p < n && b[p] !== LT) p++;
  return p < n ? p : -1;
}

/**
 * Where the fields of the Contents element scanContents read last are: [key, key end, LastModified,
 * its end, the ETag's hex (inside `&quot;`), its end, Size, its end] as byte offsets. One array
 * for every call: the scan allocates nothing (a page pair is compared without a single string,
 * runner/engine/page-pairs.ts), and callers copy what they keep before the next call.
 */
export const SPANS = new Int32Array(8);

/**
 * One Contents element in the order servers send it, from `p` (just after `<Contents>`): Key,
 * LastModified, ETag (`&quot;hex&quot;`), optional checksum fields, Size, then leaf elements the
 * runner does not read (StorageClass, an Owner with its ID and DisplayName, ...) and `</Contents>`.
 * No whitespace between elements, no attributes, no comments or CDATA. Fills SPANS and returns the
 * index after `</Contents>`; -1 for anything else (the caller then reads the element tag by tag).
 */
export function scanContents(b: Buffer, p: number): number {
  if (!litAt(b, p, L_KEY)) return -1;
  const ka = p + 5;
  const ke = textEnd(b, ka);
  if (ke < 0 || !litAt(b, ke, L_KEY_END_MTIME)) return -1;
  const ta = ke + 20;
  const te = textEnd(b, ta);
  if (te < 0 || !litAt(b, te, L_MTIME_END_ETAG)) return -1;
  const ea = te + 27;
  let ee = ea;
  for (;;) {
    const c = b[ee];
    if (c === AMP) break;
    if (c === undefined || c === LT || c >= 0x80) return -1;
    ee++;
  }
  if (!litAt(b, ee, L_ETAG_END)) return -1;
  let q = ee + 13;
  // Checksum fields (AWS since 2025) sit between ETag and Size: not read, but checked to be leaves.
  while (!litAt(b, q, L_SIZE)) {
    q = skipLeaf(b, q);
    if (q < 0) return -1;
  }
  const sa = q + 6;
  const se = textEnd(b, sa);
  if (se < 0 || !litAt(b, se, L_SIZE_END)) return -1;
  q = se + 7;
  for (;;) {
    if (litAt(b, q, L_CONTENTS_END)) break;
    if (litAt(b, q, L_OWNER)) {
      q += 7;
      while (!litAt(b, q, L_OWNER_END)) {
        q = skipLeaf(b, q);
        if (q < 0) return -1;
      }
      q += 8;
      continue;
    }
    q = skipLeaf(b, q);
    if (q < 0) return -1;
  }
  SPANS[0] = ka;
  SPANS[1] = ke;
  SPANS[2] = ta;
  SPANS[3] = te;
  SPANS[4] = ea;
  SPANS[5] = ee;
  SPANS[6] = sa;
  SPANS[7] = se;
  return q + 11;
}

/**
 * scanContents, into st.cur, st.keyAt and st.keyEnd (the same result as the tag-by-tag reading
 * where both apply: test/runner/list-bytes.test.ts). Why: about twice as fast per key as the
 * general loop, which looks at every tag's name.
 */
export function contentsInOrder(st: PageState, b: Buffer, p: number): number {
  const q = scanContents(b, p);
  if (q < 0) return -1;
  const size = digitsAt(b, SPANS[6], SPANS[7]);
  if (Number.isNaN(size)) return -1;
  st.keyAt = SPANS[0];
  st.keyEnd = SPANS[1];
  st.cur.mtime = timeAt(b, SPANS[2], SPANS[3]);
  st.cur.etag = latin1.call(b, SPANS[4], SPANS[5]);
  st.cur.size = size;
  return q;
}

/** `<Name>text</Name>` at q, Name not one the runner reads (Key, LastModified, ETag, Size) nor
 *  Contents or Owner: the index after it, else -1. */
function skipLeaf(b: Buffer, q: number): number {
  if (b[q] !== LT) return -1;
  const na = q + 1;
  let ne = na;
  for (;;) {
    const c = b[ne];
    if (c === GT) break;
    // Letters only: no closing tag, attribute, self-closing element, comment or CDATA.
    if (c === undefined || !((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return -1;
    ne++;
  }
  const len = ne - na;
  if (len === 0) return -1;
  const first = b[na];
  if ((first === 75 || first === 76 || first === 69) /* K, L, E */ && (bytesAre(b, na, len, "Key") || bytesAre(b, na, len, "LastModified") || bytesAre(b, na, len, "ETag"))) return -1;
  if (bytesAre(b, na, len, "Size") || bytesAre(b, na, len, "Contents") || bytesAre(b, na, len, "Owner")) return -1;
  const te = textEnd(b, ne + 1);
  if (te < 0 || b[te + 1] !== SLASH || b[te + 2 + len] !== GT) return -1;
  for (let k = 0; k < len; k++) if (b[te + 2 + k] !== b[na + k]) return -1;
  return te + 3 + len;
}

/** The text b[a, e) of a leaf element of interest; false: unusual, use the general scanner. */
function leaf(st: PageState, b: Buffer, d: TextDecoders, f: number, a: number, e: number): boolean {
  switch (f) {
    case F_KEY:
      st.keyAt = a;
      st.keyEnd = e;
      return true;
    case F_SIZE: {
      const v = digitsAt(b, a, e);
      if (Number.isNaN(v)) return false;
      st.cur.size = v;
      return true;
    }
    case F_MTIME:
      st.cur.mtime = timeAt(b, a, e);
      return true;
    case F_ETAG: {
      // The common case, `&quot;<hex>&quot;`, cut out directly.
      if (e - a >= 12 && bytesAre(b, a, 6, "&quot;") && bytesAre(b, e - 6, 6, "&quot;")) {
        let plain = true;
        for (let k = a + 6; k < e - 6; k++) if (b[k] === AMP || b[k] >= 0x80) plain = false;
        if (plain) {
          st.cur.etag = latin1.call(b, a + 6, e - 6);
          return true;
        }
      }
      const etag = d.stripEtag(textAt(b, a, e, false, d));
      if (etag.indexOf("&") >= 0) return false;
      st.cur.etag = etag;
      return true;
    }
    case F_PREFIX:
      st.prefixRanges.push(a, e);
      return true;
    case F_TRUNCATED:
      st.isTruncated = bytesAre(b, a, Math.min(4, e - a), "true");
      return true;
    case F_TOKEN:
      st.token = textAt(b, a, e, false, d);
      return true;
    case F_ENCODING:
      // Exactly "url" (what servers send); anything else to the general scanner, which trims.
      st.url = bytesAre(b, a, e - a, "url");
      return st.url || e === a;
  }
  return true;
}

/**
 * What the lister needs of a page the moment it arrives, read without parsing the page: whether
 * more follows, the continuation token, and the last key (where the range stands). The page itself
 * is parsed only when the merge takes it (RangeLister: a page held ahead then costs a Buffer, not
 * a thousand objects the garbage collector must trace and move).
 */
export interface PagePeek {
  isTruncated: boolean;
  nextContinuationToken?: string;
  /** The last Contents' key, decoded. */
  lastKey: string;
}

const KEY_OPEN = Buffer.from("<Key>");
const KEY_CLOSE = Buffer.from("</Key>");
const ROOT_CLOSE = "</ListBucketResult>";

/** The text of the first `<name>…</name>` in b (undefined: absent), as raw byte offsets. */
function elementAt(b: Buffer, name: string): [number, number] | undefined {
  const open = b.indexOf(`<${name}>`, 0, "latin1");
  if (open < 0) return undefined;
  const a = open + name.length + 2;
  const e = b.indexOf(`</${name}>`, a, "latin1");
  return e < 0 ? undefined : [a, e];
}

/**
 * The peek of a ListObjectsV2 body, or undefined when the body is anything but the plain shape
 * parseListBytes reads (no root, CDATA in the last key, an odd EncodingType, no Contents): the caller
 * then parses it at once, so a malformed 200 is still caught (and retried) where it arrived.
 * Whoever parses the page later checks that the parse agrees with this peek.
 */
export function peekListBytes(b: Buffer, d: TextDecoders): PagePeek | undefined {
  const n = b.length;
  let s = 0;
  while (s < n && (b[s] === 32 || b[s] === 9 || b[s] === 10 || b[s] === 13)) s++;
  if (b[s] === LT && b[s + 1] === 63 /* ? */) {
    const q = b.indexOf("?>", s, "latin1");
    if (q < 0) return undefined;
    s = q + 2;
    while (s < n && (b[s] === 32 || b[s] === 9 || b[s] === 10 || b[s] === 13)) s++;
  }
  if (!bytesAre(b, s, Math.min(17, n - s), "<ListBucketResult")) return undefined;
  let e = n;
  while (e > 0 && (b[e - 1] === 32 || b[e - 1] === 9 || b[e - 1] === 10 || b[e - 1] === 13)) e--;
  if (!bytesAre(b, e - ROOT_CLOSE.length, ROOT_CLOSE.length, ROOT_CLOSE)) return undefined;
  let url = false;
  const enc = elementAt(b, "EncodingType");
  if (enc) {
    if (!bytesAre(b, enc[0], enc[1] - enc[0], "url")) return undefined;
    url = true;
  }
  const tr = elementAt(b, "IsTruncated");
  if (!tr) return undefined;
  const last = b.lastIndexOf(KEY_OPEN);
  if (last < 0) return undefined;
  const lastEnd = b.indexOf(KEY_CLOSE, last);
  if (lastEnd < 0) return undefined;
  // Plain text only (a CDATA section or a comment in the key: parse at once). Not the whole body is
  // searched for "<!": what the peek did not read, the parse reads, and parseRawPage refuses a page
  // whose parse disagrees with this peek.
  for (let k = last + KEY_OPEN.length; k < lastEnd; k++) if (b[k] === LT) return undefined;
  const peek: PagePeek = { isTruncated: bytesAre(b, tr[0], Math.min(4, tr[1] - tr[0]), "true"), lastKey: textAt(b, last + KEY_OPEN.length, lastEnd, url, d) };
  const tok = elementAt(b, "NextContinuationToken");
  if (tok) peek.nextContinuationToken = textAt(b, tok[0], tok[1], false, d);
  return peek;
}
