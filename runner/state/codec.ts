// The state file: gzip of a line format, sorted by key. Compact (no per-key JSON, about 30 bytes
// per key gzipped with random ETags), written and parsed byte by byte.
//
//   replication-state 1
//   {"job":"…","mode":"bisync","source":"london/b1/","written":"2026-…"}        (meta, JSON)
//   #T {"target":"zurich/b2/"}                                                 (section per target)
//   <key>\t<aSize>\t<aEtag>\t<aMtime>\t<bSize>\t<bEtag>\t<bMtime>              (one line per key;
//                                                           a b field "=" means: same as a)
//
// Keys escape `\` `\t` `\n` `\r` as `\\` `\t` `\n` `\r`, and a leading `#` as `\#`.
//
// Performance (1,000,000 keys, see docs/performance.md): the encoder writes every line straight into
// one Buffer (no per-line strings: those survived young-generation GCs and made every major GC mark
// the whole heap again), and the decoder parses the gunzipped bytes in place (numbers digit by digit,
// one string per key and per ETag, no intermediate text).
import { gunzipSync, gzipSync } from "node:zlib";
import type { StateRecord } from "../decide/types.js";

export interface StateMeta {
  job: string;
  mode: string;
  source: string;
  written: string;
}

export interface StateSection {
  target: string;
  records: StateRecord[];
}

export interface StateFile {
  meta: StateMeta;
  sections: StateSection[];
}

const MAGIC = "replication-state 1";
const NEEDS_ESCAPE = /[\\\t\n\r]|^#/;

function escapeKey(k: string): string {
  if (!NEEDS_ESCAPE.test(k)) return k;
  let out = k.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
  if (out.startsWith("#")) out = "\\" + out;
  return out;
}

function unescapeKey(k: string): string {
  if (!k.includes("\\")) return k;
  return k.replace(/\\(.)/g, (_, c: string) => (c === "t" ? "\t" : c === "n" ? "\n" : c === "r" ? "\r" : c));
}

const TAB = 9;
const LF = 10;
const EQ = 61;
const HASH = 35;
const BACKSLASH = 92;

/** Writes a number in decimal at `pos`; returns the new position. Non-negative safe integers
 *  (every size and epoch-ms time) digit by digit, anything else through String(). */
function writeNum(buf: Buffer, pos: number, n: number): number {
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) return pos + buf.write(String(n), pos, "latin1");
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let p = pos + digits;
  let x = n;
  do {
    const q = Math.floor(x / 10);
    buf[--p] = 48 + (x - q * 10);
    x = q;
  } while (x > 0);
  return pos + digits;
}

/** Longest decimal form writeNum can produce for a number (String() of a double is ≤ 25 chars). */
const NUM_MAX = 25;

/** Bytes of uncompressed text gzipped at a time. Each chunk becomes one gzip member (a gzip file
 *  may hold several; gunzip, zcat and Node read them as one stream), so the encoder reuses one
 *  small buffer instead of allocating the whole text: a large external allocation makes V8 run a
 *  full mark-compact of the (then large) heap. */
const CHUNK = 1 << 20;

export function encodeState(s: StateFile): Buffer {
  const out: Buffer[] = [];
  let buf = Buffer.allocUnsafeSlow(CHUNK);
  let pos = 0;
  const flush = () => {
    if (pos) out.push(gzipSync(buf.subarray(0, pos), { level: 1 }));
    pos = 0;
  };
  const room = (n: number) => {
    if (pos + n <= buf.length) return;
    flush();
    if (n > buf.length) buf = Buffer.allocUnsafeSlow(n);
  };
  const text = (t: string) => {
    room(Buffer.byteLength(t));
    pos += buf.write(t, pos, "utf8");
  };
  text(`${MAGIC}\n${JSON.stringify(s.meta)}\n`);
  for (const sec of s.sections) {
    text(`#T ${JSON.stringify({ target: sec.target })}\n`);
    for (const r of sec.records) {
      // Upper bound of the line: 3 bytes per UTF-16 unit, escapes at most double ASCII.
      room(3 * (r.key.length + r.aEtag.length + r.bEtag.length) + 4 * NUM_MAX + 8);
      pos += buf.write(escapeKey(r.key), pos, "utf8");
      buf[pos++] = TAB;
      pos = writeNum(buf, pos, r.aSize);
      buf[pos++] = TAB;
      pos += buf.write(r.aEtag, pos, "utf8");
      buf[pos++] = TAB;
      pos = writeNum(buf, pos, r.aMtime);
      buf[pos++] = TAB;
      // "=" in the b fields means "same as a" (the common case: same content, same ETag).
      if (r.bSize === r.aSize) buf[pos++] = EQ;
      else pos = writeNum(buf, pos, r.bSize);
      buf[pos++] = TAB;
      if (r.bEtag === r.aEtag) buf[pos++] = EQ;
      else pos += buf.write(r.bEtag, pos, "utf8");
      buf[pos++] = TAB;
      if (r.bMtime === r.aMtime) buf[pos++] = EQ;
      else pos = writeNum(buf, pos, r.bMtime);
      buf[pos++] = LF;
    }
  }
  flush();
  return out.length === 1 ? out[0] : Buffer.concat(out);
}

export class StateFormatError extends Error {}

export function decodeState(buf: Buffer): StateFile {
  let d: Buffer;
  try {
    d = gunzipSync(buf);
  } catch {
    throw new StateFormatError("state file is not gzip");
  }
  const len = d.length;
  let pos = 0;
  const nextLine = (): string | undefined => {
    if (pos >= len) return undefined;
    let end = d.indexOf(LF, pos);
    if (end < 0) end = len;
    const line = d.toString("utf8", pos, end);
    pos = end + 1;
    return line;
  };
  if (nextLine() !== MAGIC) throw new StateFormatError("state file has an unknown format");
  const meta = JSON.parse(nextLine() ?? "") as StateMeta;
  const sections: StateSection[] = [];
  let records: StateRecord[] | undefined;
  let lineNo = 2;
  const malformed = () => new StateFormatError(`state file line ${lineNo} is malformed`);
  // A string field: bytes up to the next tab (or end of line for the last field).
  let hi = false; // saw a byte ≥ 0x80 (needs UTF-8 decoding)
  let esc = false; // saw a backslash (key needs unescaping)
  const fieldEnd = (p: number, last: boolean): number => {
    hi = false;
    esc = false;
    for (; p < len; p++) {
      const c = d[p];
      if (c === TAB) {
        if (last) throw malformed();
        return p;
      }
      if (c === LF) {
        if (last) return p;
        throw malformed();
      }
      if (c >= 0x80) hi = true;
      else if (c === BACKSLASH) esc = true;
    }
    if (last) return p;
    throw malformed();
  };
  const str = (s: number, e: number): string => (hi ? d.toString("utf8", s, e) : d.toString("latin1", s, e));
  // A number field: digits parsed in place; anything else (or "=") through the string path.
  let numEnd = 0;
  const num = (p: number, last: boolean): number => {
    let n = 0;
    const s = p;
    for (; p < len; p++) {
      const c = d[p];
      if (c >= 48 && c <= 57) n = n * 10 + (c - 48);
      else if (c === TAB || c === LF) break;
      else {
        numEnd = fieldEnd(p, last);
        return Number(d.toString("utf8", s, numEnd));
      }
    }
    numEnd = fieldEnd(p, last);
    if (p - s > 15) return Number(d.toString("latin1", s, p)); // beyond exact double digits: let Number round
    return n;
  };
  const isEq = (p: number, last: boolean) => d[p] === EQ && (last ? p + 1 >= len || d[p + 1] === LF : d[p + 1] === TAB);

  while (pos < len) {
    lineNo++;
    const c0 = d[pos];
    if (c0 === LF) {
      pos++;
      continue;
    }
    if (c0 === HASH && d[pos + 1] === 84 /* T */ && d[pos + 2] === 32 /* space */) {
      const line = nextLine()!;
      records = [];
      sections.push({ target: (JSON.parse(line.slice(3)) as { target: string }).target, records });
      continue;
    }
    if (!records) throw new StateFormatError("state file record before any section");
    let p = pos;
    let e = fieldEnd(p, false);
    const key = esc ? unescapeKey(str(p, e)) : str(p, e);
    p = e + 1;
    const aSize = num(p, false);
    p = numEnd + 1;
    e = fieldEnd(p, false);
    const aEtag = str(p, e);
    p = e + 1;
    const aMtime = num(p, false);
    p = numEnd + 1;
    let bSize = aSize;
    if (isEq(p, false)) p += 2;
    else {
      bSize = num(p, false);
      p = numEnd + 1;
    }
    let bEtag = aEtag;
    if (isEq(p, false)) p += 2;
    else {
      e = fieldEnd(p, false);
      bEtag = str(p, e);
      p = e + 1;
    }
    let bMtime = aMtime;
    if (isEq(p, true)) p += 1;
    else {
      bMtime = num(p, true);
      p = numEnd;
    }
    if (p < len && d[p] !== LF) throw malformed();
    pos = p + 1;
    records.push({ key, aSize, aEtag, aMtime, bSize, bEtag, bMtime });
  }
  return { meta, sections };
}
