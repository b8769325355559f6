// The state file: gzip of a line format, sorted by key (UTF-8 byte order, see compareKeys).
// Compact (no per-key JSON, about 30 bytes per key gzipped with random ETags), written and parsed
// byte by byte, and streamed both ways: a run never holds a whole state in memory.
//
//   replication-state 1
//   {"job":"…","mode":"bisync","source":"london/b1/","written":"2026-…"}        (meta, JSON)
//   #T {"target":"zurich/b2/"}                                                 (section per target)
//   <key>\t<aSize>\t<aEtag>\t<aMtime>\t<bSize>\t<bEtag>\t<bMtime>              (one line per key;
//                                                           a b field "=" means: same as a)
//
// Keys escape `\` `\t` `\n` `\r` as `\\` `\t` `\n` `\r`, and a leading `#` as `\#`.
//
// A file is one or more gzip members (gunzip, zcat and Node read them as one stream): the writer
// compresses 1 MiB of text at a time, and a state is assembled from a header member and one run of
// members per section (runner/state/next.ts). Files written by earlier runners sorted keys by
// UTF-16 code units; readers check the order and sort such a file on the fly (runner/stream/).
//
// Performance (see docs/performance.md): the encoder writes every line straight into one reused
// Buffer (no per-line strings), and the decoder parses gunzipped bytes in place (numbers digit by
// digit, one string per key and per ETag, no intermediate text).
import { closeSync, openSync, writeSync } from "node:fs";
import { createReadStream } from "node:fs";
import { createGunzip, gunzipSync, gzip, gzipSync } from "node:zlib";
import type { StateRecord } from "../decide/types.js";
import type { BatchSource } from "../stream/cursor.js";

export interface StateMeta {
  job: string;
  mode: string;
  source: string;
  written: string;
  /** Keys (relative) spread evenly over the source's listing: range boundaries for the next run. */
  ranges?: string[];
  /** Keys the source listed in that run (whether the next run lists in ranges). */
  keys?: number;
  /** Listings seen out of UTF-8 byte order (some S3-compatibles): the next run sorts them on disk. */
  unordered?: string[];
}

export interface StateSection {
  target: string;
  records: StateRecord[];
}

export interface StateFile {
  meta: StateMeta;
  sections: StateSection[];
}

export const MAGIC = "replication-state 1";
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

/** Bytes of uncompressed text gzipped at a time. Each chunk becomes one gzip member, so the encoder
 *  reuses one small buffer instead of allocating the whole text: a large external allocation makes
 *  V8 run a full mark-compact of the heap. */
const CHUNK = 1 << 20;

/**
 * Encodes lines into a reused 1 MiB buffer and hands each full chunk, gzipped as one member, to
 * `sink`. Used for whole states in memory (encodeState) and for files written as a run streams.
 */
export class RecordEncoder {
  private buf = Buffer.allocUnsafeSlow(CHUNK);
  private pos = 0;
  /**
   * `sink` receives each gzip member. With `raw`, the encoder gzips nothing itself: `raw` receives
   * each chunk of text (a buffer it may keep: the encoder continues in a fresh one) and compresses
   * it elsewhere (RecordFileWriter: on libuv's thread pool, off the main thread).
   */
  constructor(
    private readonly sink: (member: Buffer) => void,
    private readonly raw?: (text: Buffer) => void,
  ) {}

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafeSlow(n);
  }

  /** Ends the current gzip member (if any text is pending). */
  flush(): void {
    if (!this.pos) return;
    if (this.raw) {
      this.raw(this.buf.subarray(0, this.pos));
      this.buf = Buffer.allocUnsafeSlow(Math.max(CHUNK, this.buf.length));
    } else this.sink(gzipSync(this.buf.subarray(0, this.pos), { level: 1 }));
    this.pos = 0;
  }

  text(t: string): void {
    this.room(Buffer.byteLength(t));
    this.pos += this.buf.write(t, this.pos, "utf8");
  }

  header(meta: StateMeta): void {
    this.text(`${MAGIC}\n${JSON.stringify(meta)}\n`);
  }

  section(target: string): void {
    this.text(`#T ${JSON.stringify({ target })}\n`);
  }

  record(r: StateRecord): void {
    // Upper bound of the line: 3 bytes per UTF-16 unit, escapes at most double ASCII.
    this.room(3 * (r.key.length + r.aEtag.length + r.bEtag.length) + 4 * NUM_MAX + 8);
    const buf = this.buf;
    let pos = this.pos;
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
    this.pos = pos;
  }
}

export function encodeState(s: StateFile): Buffer {
  const out: Buffer[] = [];
  const enc = new RecordEncoder((m) => out.push(m));
  enc.header(s.meta);
  for (const sec of s.sections) {
    enc.section(sec.target);
    for (const r of sec.records) enc.record(r);
  }
  enc.flush();
  return out.length === 1 ? out[0] : Buffer.concat(out);
}

/** Chunks being compressed at once by a RecordFileWriter; beyond that the run waits (backlog). */
const MAX_COMPRESSING = 4;

/**
 * Writes records to a file as they come (gzip members of the line format); the file is one
 * section. Chunks are gzipped on libuv's thread pool, so a run that writes a large state (the
 * unchanged records of a no-op: about 75 bytes of text per key) keeps its main thread for the
 * merge; members are written in order. `backlog()` lets the producer wait while
 * MAX_COMPRESSING chunks are in flight: memory stays bounded whatever the state's size.
 */
export class RecordFileWriter {
  private readonly fd: number;
  private readonly enc: RecordEncoder;
  /** Chunks in order; a slot holds its member once compressed. */
  private readonly slots: { member?: Buffer }[] = [];
  private compressing = 0;
  private failure: Error | undefined;
  private waiters: (() => void)[] = [];
  count = 0;
  bytes = 0;
  constructor(readonly path: string) {
    this.fd = openSync(path, "w", 0o600);
    this.enc = new RecordEncoder(
      () => undefined,
      (text) => this.compress(text),
    );
  }

  private compress(text: Buffer): void {
    const slot: { member?: Buffer } = {};
    this.slots.push(slot);
    this.compressing++;
    gzip(text, { level: 1 }, (err, member) => {
      this.compressing--;
      if (err) this.failure ??= err;
      else {
        slot.member = member;
        this.writeReady();
      }
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  private writeReady(): void {
    while (this.slots.length && this.slots[0].member) {
      const m = this.slots.shift()!.member!;
      if (this.failure) continue;
      try {
        writeSync(this.fd, m);
        this.bytes += m.length;
      } catch (e) {
        this.failure = e as Error;
      }
    }
  }

  /** A promise to wait on while too many chunks are being compressed; undefined: go on. */
  backlog(): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (this.compressing < MAX_COMPRESSING) return undefined;
    return new Promise((r) => this.waiters.push(r));
  }

  section(target: string): void {
    this.enc.section(target);
  }
  add(r: StateRecord): void {
    this.enc.record(r);
    this.count++;
  }
  /** Writes what is pending and closes the file (after every member is on disk). */
  async close(): Promise<void> {
    this.enc.flush();
    while (this.compressing > 0) await new Promise<void>((r) => this.waiters.push(r));
    this.writeReady();
    this.closeFd();
    if (this.failure) throw this.failure;
  }

  /** Closes the file without finishing it (a failed pass): chunks still compressing are dropped. */
  abort(): void {
    this.failure ??= new Error("aborted");
    this.closeFd();
  }

  private closed = false;
  private closeFd(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

export class StateFormatError extends Error {}

/**
 * Parses complete lines of gunzipped text in d[start, end) (`end` is just after a LF, or the end of
 * the data). Records go to `out`; a `#T` line calls `onSection` (records after it go to `out` only
 * while it returns true). Returns nothing; throws StateFormatError on a malformed line.
 */
class LineParser {
  lineNo = 0;
  /** Whether records of the current section are wanted. */
  private collecting = false;
  private sawSection = false;
  meta: StateMeta | undefined;
  constructor(private readonly onSection: (target: string) => boolean) {}

  parse(d: Buffer, start: number, len: number, out: StateRecord[]): void {
    let pos = start;
    const malformed = () => new StateFormatError(`state file line ${this.lineNo} is malformed`);
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
    const lineEnd = (p: number) => {
      const e = d.indexOf(LF, p);
      return e < 0 || e > len ? len : e;
    };

    while (pos < len) {
      this.lineNo++;
      if (this.lineNo <= 2) {
        const e = lineEnd(pos);
        const line = d.toString("utf8", pos, e);
        pos = e + 1;
        if (this.lineNo === 1 && line !== MAGIC) throw new StateFormatError("state file has an unknown format");
        if (this.lineNo === 2) {
          try {
            this.meta = JSON.parse(line) as StateMeta;
          } catch {
            throw new StateFormatError("state file meta line is not JSON");
          }
        }
        continue;
      }
      const c0 = d[pos];
      if (c0 === LF) {
        pos++;
        continue;
      }
      if (c0 === HASH && d[pos + 1] === 84 /* T */ && d[pos + 2] === 32 /* space */) {
        const e = lineEnd(pos);
        let target: string;
        try {
          target = (JSON.parse(d.toString("utf8", pos + 3, e)) as { target: string }).target;
        } catch {
          throw malformed();
        }
        pos = e + 1;
        this.sawSection = true;
        this.collecting = this.onSection(target);
        continue;
      }
      if (!this.sawSection) throw new StateFormatError("state file record before any section");
      if (!this.collecting) {
        // Another section's record: skip to the next section header without parsing.
        const next = d.indexOf("\n#T ", pos);
        if (next < 0 || next >= len) {
          // Count the skipped lines for error messages only approximately: not needed.
          pos = len;
        } else pos = next + 1;
        continue;
      }
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
      out.push({ key, aSize, aEtag, aMtime, bSize, bEtag, bMtime });
    }
  }

  /** At the end of the data: a file without its header lines is not a state. */
  finish(): void {
    if (this.lineNo < 2) throw new StateFormatError(this.lineNo === 0 ? "state file is empty" : "state file has no meta line");
  }
}

export function decodeState(buf: Buffer): StateFile {
  let d: Buffer;
  try {
    d = gunzipSync(buf);
  } catch {
    throw new StateFormatError("state file is not gzip");
  }
  const sections: StateSection[] = [];
  let records: StateRecord[] = [];
  const parser = new LineParser((target) => {
    records = [];
    sections.push({ target, records });
    return true;
  });
  // Each section's records land in its own array: parse section by section.
  const out: StateRecord[] = [];
  let pos = 0;
  while (pos < d.length) {
    const next = d.indexOf("\n#T ", pos);
    const end = next < 0 ? d.length : next + 1;
    parser.parse(d, pos, end, out);
    if (out.length) {
      if (!sections.length) throw new StateFormatError("state file record before any section");
      for (const r of out) records.push(r);
      out.length = 0;
    }
    pos = end;
  }
  parser.finish();
  return { meta: parser.meta!, sections };
}

/** Records per batch handed to a merge. */
const BATCH_BYTES = 256 * 1024;

/**
 * Streams one section of a state file (or every section when `target` is undefined) as sorted
 * batches. `meta()` resolves once the header lines are read. A missing section yields nothing.
 */
export class StateFileSource implements BatchSource<StateRecord> {
  private readonly it: AsyncIterator<Buffer>;
  private rest: Buffer | undefined;
  private ended = false;
  private readonly parser: LineParser;
  private readonly stream;
  /** Set once the wanted section ended (a later section started): nothing more to read. */
  private passed = false;
  private seen = false;

  private readonly headerless: boolean;

  /** `headerless`: a section file of a run in progress (no magic and meta lines). */
  constructor(readonly path: string, target: string | undefined, headerless = false) {
    this.stream = createReadStream(path, { highWaterMark: BATCH_BYTES }).pipe(createGunzip({ chunkSize: BATCH_BYTES }));
    this.it = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    this.parser = new LineParser((t) => {
      if (target === undefined) return true;
      if (t === target) {
        this.seen = true;
        return true;
      }
      if (this.seen) this.passed = true;
      return false;
    });
    this.headerless = headerless;
    if (headerless) this.parser.lineNo = 2;
  }

  async next(): Promise<StateRecord[] | undefined> {
    const out: StateRecord[] = [];
    while (out.length === 0) {
      if (this.ended || this.passed) return undefined;
      let chunk: Buffer;
      try {
        const r = await this.it.next();
        if (r.done) {
          this.ended = true;
          if (this.rest && this.rest.length) this.parser.parse(this.rest, 0, this.rest.length, out);
          this.rest = undefined;
          if (!this.headerless) this.parser.finish();
          return out.length ? out : undefined;
        }
        chunk = r.value;
      } catch (e) {
        if (e instanceof StateFormatError) throw e;
        throw new StateFormatError(`state file is not gzip or is truncated (${(e as Error).message})`);
      }
      const d = this.rest && this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
      const lastLf = d.lastIndexOf(LF);
      if (lastLf < 0) {
        this.rest = d;
        continue;
      }
      this.parser.parse(d, 0, lastLf + 1, out);
      this.rest = lastLf + 1 < d.length ? Buffer.from(d.subarray(lastLf + 1)) : undefined;
    }
    return out;
  }

  /** The header (reads the file's first lines). */
  get meta(): StateMeta | undefined {
    return this.parser.meta;
  }

  async close(): Promise<void> {
    this.ended = true;
    this.stream.destroy();
  }
}

/** Reads only the header lines of a state file (its first kilobytes). */
export async function readStateMeta(path: string): Promise<StateMeta> {
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 }).pipe(createGunzip());
  let text = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      text = Buffer.concat([text, chunk as Buffer]);
      const first = text.indexOf(LF);
      const second = first < 0 ? -1 : text.indexOf(LF, first + 1);
      // The meta line holds at most 1,024 range boundaries of ≤ 256 characters (≤ 1 MiB).
      if (second >= 0 || text.length > 4 << 20) break;
    }
  } catch (e) {
    throw new StateFormatError(`state file is not gzip (${(e as Error).message})`);
  } finally {
    stream.destroy();
  }
  const parser = new LineParser(() => false);
  const first = text.indexOf(LF);
  const second = first < 0 ? -1 : text.indexOf(LF, first + 1);
  parser.parse(text, 0, second < 0 ? text.length : second + 1, []);
  parser.finish();
  return parser.meta!;
}
