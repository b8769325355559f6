// Spool files: items encoded in binary blocks on local disk, written once and read back in order.
// Used wherever a run must keep more than a bounded number of items: listing pages ahead of the
// merge, decisions between deciding and transferring, planned deletes, sort runs.
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { Entry, StateRecord } from "../decide/types.js";
import type { BatchSource } from "./cursor.js";

/** Appends fields to a growing buffer. Strings: u32 byte length + UTF-8; numbers: f64. */
export class BinWriter {
  buf = Buffer.allocUnsafe(64 * 1024);
  pos = 0;
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  str(s: string): void {
    this.ensure(4 + 3 * s.length);
    const n = this.buf.write(s, this.pos + 4, "utf8");
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4 + n;
  }
  num(x: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(x, this.pos);
    this.pos += 8;
  }
  u8(x: number): void {
    this.ensure(1);
    this.buf[this.pos++] = x;
  }
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}

export class BinReader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  get more(): boolean {
    return this.pos < this.buf.length;
  }
  str(): string {
    const n = this.buf.readUInt32LE(this.pos);
    const s = this.pos + 4;
    this.pos = s + n;
    // latin1 is exact (and faster) when every byte is ASCII.
    for (let i = s; i < this.pos; i++) if (this.buf[i] >= 0x80) return this.buf.toString("utf8", s, this.pos);
    return this.buf.toString("latin1", s, this.pos);
  }
  num(): number {
    const x = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return x;
  }
  u8(): number {
    return this.buf[this.pos++];
  }
}

export interface Codec<T> {
  write(w: BinWriter, x: T): void;
  read(r: BinReader): T;
}

export const entryCodec: Codec<Entry> = {
  write(w, e) {
    w.str(e.key);
    w.num(e.size);
    w.str(e.etag);
    w.num(e.mtime);
  },
  read(r) {
    return { key: r.str(), size: r.num(), etag: r.str(), mtime: r.num() };
  },
};

export const recordCodec: Codec<StateRecord> = {
  write(w, x) {
    w.str(x.key);
    w.num(x.aSize);
    w.str(x.aEtag);
    w.num(x.aMtime);
    w.num(x.bSize);
    w.str(x.bEtag);
    w.num(x.bMtime);
  },
  read(r) {
    return { key: r.str(), aSize: r.num(), aEtag: r.str(), aMtime: r.num(), bSize: r.num(), bEtag: r.str(), bMtime: r.num() };
  },
};

export function encodeBlock<T>(codec: Codec<T>, items: readonly T[], w = new BinWriter()): Buffer {
  for (const x of items) codec.write(w, x);
  return w.take();
}

export function decodeBlock<T>(codec: Codec<T>, buf: Buffer): T[] {
  const r = new BinReader(buf);
  const out: T[] = [];
  while (r.more) out.push(codec.read(r));
  return out;
}

/** Where a block is in a BlockFile. */
export interface BlockRef {
  offset: number;
  length: number;
  /** Whether the block was deflated. */
  deflated: boolean;
}

/** A file of blocks written at increasing offsets and read back by reference (any order). */
export class BlockFile {
  private fd: number;
  private size = 0;
  bytes = 0;
  constructor(
    readonly path: string,
    private readonly compress = false,
  ) {
    this.fd = openSync(path, "w+", 0o600);
  }
  append(data: Buffer): BlockRef {
    const body = this.compress ? deflateRawSync(data, { level: 1 }) : data;
    let off = 0;
    while (off < body.length) off += writeSync(this.fd, body, off, body.length - off, this.size + off);
    const ref = { offset: this.size, length: body.length, deflated: this.compress };
    this.size += body.length;
    this.bytes += body.length;
    return ref;
  }
  read(ref: BlockRef): Buffer {
    const buf = Buffer.allocUnsafe(ref.length);
    let got = 0;
    while (got < ref.length) {
      const n = readSync(this.fd, buf, got, ref.length - got, ref.offset + got);
      if (n === 0) throw new Error(`spool file ${this.path} is shorter than expected`);
      got += n;
    }
    return ref.deflated ? inflateRawSync(buf) : buf;
  }
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

/**
 * A sequential spool of items: `add` buffers, every `blockItems` items become one block on disk;
 * `source()` reads them back in the order added. Memory: one block.
 */
export class Spool<T> {
  private readonly file: BlockFile;
  private readonly refs: BlockRef[] = [];
  private pending: T[] = [];
  private readonly w = new BinWriter();
  count = 0;
  constructor(
    path: string,
    private readonly codec: Codec<T>,
    private readonly blockItems = 1000,
    compress = true,
  ) {
    this.file = new BlockFile(path, compress);
  }
  add(x: T): void {
    this.pending.push(x);
    this.count++;
    if (this.pending.length >= this.blockItems) this.flush();
  }
  private flush(): void {
    if (!this.pending.length) return;
    this.refs.push(this.file.append(encodeBlock(this.codec, this.pending, this.w)));
    this.pending = [];
  }
  get bytes(): number {
    return this.file.bytes;
  }
  /** Reads everything added so far, in order (call after the last add). */
  source(): BatchSource<T> {
    this.flush();
    let k = 0;
    return {
      next: async () => (k < this.refs.length ? decodeBlock(this.codec, this.file.read(this.refs[k++])) : undefined),
    };
  }
  close(): void {
    this.file.close();
  }
}
