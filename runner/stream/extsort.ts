// External sort: items in any order in, one sorted stream out, in bounded memory. Up to
// `memItems` items are sorted in memory; beyond that each full buffer becomes a sorted run in a
// block file and the runs are merged (k-way) on the way out.
import { join } from "node:path";
import { compareKeys } from "../decide/types.js";
import { BinWriter, BlockFile, decodeBlock, encodeBlock, type BlockRef, type Codec } from "./blocks.js";
import { arraySource, mergeSources, type BatchSource } from "./cursor.js";

const BLOCK = 1000;

export class ExternalSorter<T extends { key: string }> {
  private buf: T[] = [];
  private file: BlockFile | undefined;
  private readonly runs: BlockRef[][] = [];
  private readonly w = new BinWriter();
  count = 0;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    private readonly codec: Codec<T>,
    private readonly memItems = 100_000,
  ) {}

  add(x: T): void {
    this.buf.push(x);
    this.count++;
    if (this.buf.length >= this.memItems) this.spill();
  }

  /** Number of sorted runs written to disk (0: everything fit in memory). */
  get spilledRuns(): number {
    return this.runs.length;
  }

  private spill(): void {
    this.file ??= new BlockFile(join(this.dir, `${this.name}.runs`), true);
    this.buf.sort((p, q) => compareKeys(p.key, q.key));
    const run: BlockRef[] = [];
    for (let i = 0; i < this.buf.length; i += BLOCK) run.push(this.file.append(encodeBlock(this.codec, this.buf.slice(i, i + BLOCK), this.w)));
    this.runs.push(run);
    this.buf = [];
  }

  /** The items in key order (stable for equal keys is not promised: callers add each key once). */
  sorted(): BatchSource<T> {
    this.buf.sort((p, q) => compareKeys(p.key, q.key));
    const mem = arraySource(this.buf, BLOCK);
    if (!this.runs.length) return mem;
    const file = this.file!;
    const runSources: BatchSource<T>[] = this.runs.map((run) => {
      let k = 0;
      return { next: async () => (k < run.length ? decodeBlock(this.codec, file.read(run[k++])) : undefined) };
    });
    return mergeSources([...runSources, mem], this.name);
  }

  close(): void {
    this.file?.close();
    this.buf = [];
  }
}
