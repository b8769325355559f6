// Parallel listing of one location in key order. The key space is cut into ranges (ranges.ts);
// up to `concurrency` ranges are listed at once with ListObjectsV2 StartAfter, and their pages are
// handed out in range order, so the consumer sees one sorted stream. Pages of ranges ahead of the
// one being consumed stay in memory up to `memEntries`, beyond that they go to a spool file:
// memory is bounded whatever the bucket's size. A range that turns out long is split while it is
// being listed, so idle streams take over part of it.
import { join } from "node:path";
import { compareKeys, type Entry } from "../decide/types.js";
import { BlockFile, decodeBlock, encodeBlock, entryCodec, type BlockRef } from "../stream/blocks.js";
import { OrderError, type BatchSource } from "../stream/cursor.js";
import { isRawPage, listPage, listPageRaw, parseRawPage, type ListedObject, type ListPage, type ListParams, type RawPage } from "../store/list.js";
import type { Location } from "../store/s3.js";
import { midpoint, spread, spreadEnds } from "./ranges.js";

export interface ListOptions {
  /** Ranges listed at once (listConcurrency). */
  concurrency: number;
  /** Boundaries (keys relative to the prefix, sorted) from the previous run. */
  boundaries?: readonly string[];
  /** Keys the previous run listed here (undefined: unknown, e.g. a first run). */
  expectedKeys?: number;
  accept: (relKey: string) => boolean;
  attempts: number;
  /** Directory for the spool file of pages listed ahead. */
  spoolDir: string;
  /** Entries kept in memory ahead of the consumer (default 10,000) before streams ahead hold back
   *  or, while the consumer waits, spool to disk. */
  memEntries?: number;
  /** Bytes of unparsed pages (direct path) kept in memory ahead of the consumer (default 8 MiB,
   *  about 40,000 keys) before the same happens. */
  memBytes?: number;
  /** Names the stream in errors, e.g. `source london/b1/`. */
  label: string;
  /** Called after each page with the number of entries listed so far. */
  onPage?: (listed: number) => void;
  /** The server may list out of order: one stream, no order check (the caller sorts). */
  unordered?: boolean;
  /** Only keys k with lo < k ≤ hi (relative to the prefix): a shard's range (--shard K/N). The
   *  listing starts after lo and stops past hi, so a shard lists only its part. Ignored when the
   *  listing is unordered (bounds need order); `accept` must then check the range. */
  range?: { lo?: string; hi?: string };
}

export interface ListStats {
  pages: number;
  ranges: number;
  splits: number;
  discoveryRequests: number;
  spooledPages: number;
  listed: number;
  /** The most entries held in memory at once (pages listed, not yet consumed). */
  maxBuffered: number;
  /** The most bytes of unparsed pages held in memory at once. */
  maxHeldBytes: number;
  /** Pages parsed ahead while the consumer waited (parseAhead). */
  parsedAhead: number;
  /** Pages the merge took unparsed, equal to the other side's (peekHeld). */
  pairedPages: number;
}

/**
 * A page held ahead of the merge as its response bytes (in memory, or `ref` in the spool file),
 * with what parsing it needs: the key it was listed after (order check) and the range's end.
 */
interface HeldPage {
  page: RawPage;
  /** Set once the bytes went to the spool file (then page.raw is dropped). */
  ref?: BlockRef;
  after?: string;
  hi?: string;
}

/** A page held unparsed, as the merge may compare it with the other side's (peekHeld,
 *  engine/page-pairs.ts). */
export interface HeldView {
  /** The ListObjectsV2 response body. */
  raw: Buffer;
  /** The location's prefix as UTF-8 bytes: every key starts with it, keys are compared after it. */
  prefix: Buffer;
  /** The key the page was listed after (absolute), if any: its first key must be greater. */
  after?: string;
  /** The end of the page's range (absolute, inclusive), if any. */
  hi?: string;
  /** The page's last key (absolute), from the peek made when it arrived. */
  lastKey: string;
  /** The lister's own handle on the page (takeHeld). */
  held: unknown;
}

interface Range {
  /** Exclusive lower bound (absolute key); undefined: from the start of the prefix. */
  lo?: string;
  /** Inclusive upper bound (absolute key); undefined: to the end. */
  hi?: string;
  /** Last key listed so far. */
  pos?: string;
  token?: string;
  pages: (Entry[] | BlockRef | HeldPage)[];
  listedPages: number;
  /** Pages the last run listed in this range (cut from its boundaries); 0: unknown. */
  expectedPages: number;
  state: "pending" | "listing" | "done";
  next?: Range;
}

const EMPTY = Buffer.alloc(0);
const DISCOVERY_DEPTH = 4;
const DISCOVERY_PAGES = 8;
/**
 * A listing the previous run saw this large is listed in ranges from its boundaries. Smaller ones
 * stay one stream: a few LIST round trips are all ranges could save there, and a server that is
 * one process (s3rver) answers concurrent LISTs no sooner, while one stream overlaps parsing page k
 * with the server's work on page k+1 (the bench's 10,000-key no-op: 1.9–2.0 s as one stream,
 * 2.3–2.9 s in 3–10 ranges per side).
 */
const PARALLEL_MIN_KEYS = 20_000;
/** At least this many keys (a page) per range. The boundaries end pages (BoundarySampler), so a
 *  range of an unchanged listing costs no extra LIST, and one where keys were added at most one. */
const KEYS_PER_RANGE = 1_000;
/**
 * Ranges per stream, from a previous run's boundaries. Streams take the next range when done, so
 * the listing ends when the last range does: with 2 per stream, 100 pages in 16 streams were ranges
 * of 3 or 4 pages and some streams listed 8 in a row while others idled (at 50 ms per LIST, 0.15 s
 * of a 0.75 s no-op); with 4, ranges of 1 or 2 pages, none lists more than 7. A range costs a LIST
 * more only where keys were added since (the page past its end), so at most this many per stream.
 */
const RANGES_PER_STREAM = 4;
/** A first run's single stream is cut into ranges once this many pages came back truncated. */
const GROW_AFTER_PAGES = 3;
/** A range is split for an idle stream only after it listed this many pages (more than the last
 *  run listed in it: ranges cut from boundaries are balanced already, and a split costs a LIST). */
const SPLIT_AFTER_PAGES = 4;

/** The merge runs at most this long before it lets waiting I/O in (yieldToIo). */
const MERGE_SLICE_MS = 2;
let sliceStart = 0;

/**
 * Lets the event loop handle what arrived (LIST responses, whose ranges then send their next
 * request) once the merge has run for MERGE_SLICE_MS. A page the consumer takes that is already
 * here resolves as a microtask, so without this a merge that keeps finding pages (parse and decide:
 * 1–2 ms a page) holds the loop for as long as they last, while responses wait in their sockets
 * and their streams send nothing: with 50 ms per LIST, LISTs took 74–86 ms at the median and a
 * 100,000-key copy no-op 0.90–0.92 s; yielding, 60 ms and 0.73–0.75 s (docs/performance.md).
 * Shared by every lister: it is the one event loop that waits.
 */
function yieldToIo(): Promise<void> | undefined {
  const now = performance.now();
  if (now - sliceStart < MERGE_SLICE_MS) return undefined;
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      sliceStart = performance.now();
      resolve();
    }),
  );
}

/** Entries in a full page (maxKeys). */
const PAGE_ENTRIES = 1000;
/** Pages parseAhead looks at, nearest the merge first. */
const PARSE_AHEAD_LOOK = 256;
/** The listers of this process that are listing (started, not closed). */
const listing = new Set<RangeLister>();

/** A page parsed ahead by `starved` or, failing that, by another lister of the run (a merge that
 *  waits for one side may take the other's pages next). */
function parseAheadAnywhere(starved: RangeLister): boolean {
  if (starved.parseAhead()) return true;
  for (const l of listing) if (l !== starved && l.parseAhead()) return true;
  return false;
}

export class RangeLister implements BatchSource<Entry> {
  private head: Range | undefined;
  private readonly pending: Range[] = [];
  private buffered = 0;
  /** Bytes of unparsed pages held in memory. */
  private heldBytes = 0;
  private error: unknown;
  private waiters: (() => void)[] = [];
  private wakeQueued = false;
  private spool: BlockFile | undefined;
  private started = false;
  private closed = false;
  /** The consumer is waiting for the head range's next page. */
  private starved = false;
  /** The merge compares this listing's pages unparsed (peekHeld): none is parsed ahead. */
  private pairing = false;
  private readonly prefixBytes: Buffer;
  /** The prefix whose children (CommonPrefixes) were the first run's boundaries. */
  private discoveryPrefix: string | undefined;
  /** A first run's single stream may still be cut into ranges (once). */
  private growable = false;
  /** Listing in ranges (from boundaries, or grown): idle streams may split long ranges. */
  private parallel = false;
  readonly stats: ListStats = { pages: 0, ranges: 0, splits: 0, discoveryRequests: 0, spooledPages: 0, listed: 0, maxBuffered: 0, maxHeldBytes: 0, parsedAhead: 0, pairedPages: 0 };
  private readonly memEntries: number;
  private readonly memBytes: number;

  constructor(
    private readonly loc: Location,
    private readonly o: ListOptions,
  ) {
    this.prefixBytes = Buffer.from(loc.prefix, "utf8");
    this.memEntries = o.memEntries ?? 10_000;
    this.memBytes = o.memBytes ?? 8 * 1024 * 1024;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  private changed(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }
  /**
   * wake(), after the request a stream makes next has gone out. A stream pushes a page and then
   * asks for its next one; Node writes a request on a later tick, after every pending promise
   * callback. Woken at once, the merge would take the page first (parse and decide: 10-20 ms a
   * page) and the next LIST would wait for it; woken in setImmediate, the LIST goes first.
   */
  private wakeSoon(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      this.wake();
    });
  }

  private async page(params: ListParams): Promise<ListPage> {
    return listPage(this.loc.ep, this.loc.bucket, this.withDefaults(params), this.o.attempts);
  }

  /** As page(), but unparsed where the endpoint allows (see listRange). */
  private async pageRaw(params: ListParams): Promise<ListPage | RawPage> {
    return listPageRaw(this.loc.ep, this.loc.bucket, this.withDefaults(params), this.o.attempts);
  }

  private withDefaults(params: ListParams): ListParams {
    return { prefix: this.loc.prefix || undefined, maxKeys: 1000, ...params };
  }

  /**
   * CommonPrefixes after `pos`, a level deeper while there is only one: boundaries for the rest of
   * an open-ended listing (a first run that turned out long).
   */
  private async discover(pos: string): Promise<string[]> {
    const want = this.o.concurrency * 4;
    let level = this.loc.prefix;
    const cuts: string[] = [];
    for (let depth = 0; depth < DISCOVERY_DEPTH; depth++) {
      const found: string[] = [];
      let token: string | undefined;
      for (let n = 0; n < DISCOVERY_PAGES && found.length < want * 4; n++) {
        this.stats.discoveryRequests++;
        const pg = await this.page({ prefix: level, delimiter: "/", startAfter: token ? undefined : pos, continuationToken: token });
        for (const cp of pg.commonPrefixes) found.push(cp);
        token = pg.isTruncated ? pg.nextContinuationToken : undefined;
        if (!token) break;
      }
      this.discoveryPrefix = level;
      for (const cp of found) if (compareKeys(cp, pos) > 0) cuts.push(cp);
      // The directory the position is in holds (part of) the rest: with too few cuts so far,
      // look inside it too (its children are finer boundaries in the same order).
      const holder = found.find((cp) => pos.startsWith(cp));
      if (!holder || cuts.length >= want) break;
      level = holder;
    }
    return [...new Set(cuts)].sort(compareKeys);
  }

  /** The absolute (lo, hi] the whole listing is limited to (a shard's range). */
  private get outer(): { lo?: string; hi?: string } {
    const r = this.o.unordered ? undefined : this.o.range;
    return {
      lo: r?.lo !== undefined ? this.loc.prefix + r.lo : undefined,
      hi: r?.hi !== undefined ? this.loc.prefix + r.hi : undefined,
    };
  }

  /** Whether the absolute key `k` lies strictly inside the outer range (a usable cut). */
  private insideOuter(k: string): boolean {
    const { lo, hi } = this.outer;
    return (lo === undefined || compareKeys(lo, k) < 0) && (hi === undefined || compareKeys(k, hi) < 0);
  }

  private async start(): Promise<void> {
    this.started = true;
    listing.add(this);
    const n = Math.max(1, this.o.concurrency);
    let bounds: string[] = [];
    let ends: string[] = [];
    const expected = this.o.expectedKeys ?? 0;
    // Ranges where the last run listed PARALLEL_MIN_KEYS or more. With its page-aligned boundaries
    // an unchanged listing still costs exactly ceil(N/1000) LISTs; a range where keys were added
    // since, or older boundaries (not page-aligned), one more each.
    if (n > 1 && !this.o.unordered && this.o.boundaries?.length && expected >= PARALLEL_MIN_KEYS) {
      ends = this.o.boundaries.map((b) => this.loc.prefix + b).filter((b) => this.insideOuter(b));
      bounds = spreadEnds(ends, Math.min(n * RANGES_PER_STREAM, Math.ceil(expected / KEYS_PER_RANGE)));
      this.parallel = true;
    }
    // Nothing known (first run): one stream, cut into ranges once it has proved long.
    this.growable = n > 1 && !this.o.unordered && this.o.expectedKeys === undefined;
    let prev: Range | undefined;
    const all: Range[] = [];
    // Pages the last run listed in each range: its stored page ends times the pages between two
    // of them. Ranges differ by up to one end (16 pages at 10 M keys), so an average would let idle
    // streams split the longer ranges near their ends, a LIST each.
    const pagesPerEnd = this.o.boundaries?.length ? expected / 1000 / this.o.boundaries.length : 0;
    const endAt = bounds.map((b) => ends.indexOf(b));
    for (let i = 0; i <= bounds.length; i++) {
      // The last range also holds the keys after the last stored end (less than one stride).
      const span = (i < bounds.length ? endAt[i] : ends.length + 1) - (i > 0 ? endAt[i - 1] : -1);
      const expectedPages = bounds.length ? Math.ceil(span * pagesPerEnd) : 0;
      const r: Range = { lo: i === 0 ? this.outer.lo : bounds[i - 1], hi: i < bounds.length ? bounds[i] : this.outer.hi, pages: [], listedPages: 0, expectedPages, state: "pending" };
      if (prev) prev.next = r;
      prev = r;
      all.push(r);
    }
    this.stats.ranges = all.length;
    this.head = all[0];
    this.pending.push(...all);
    for (let i = 0; i < (this.o.unordered ? 1 : n); i++) void this.worker();
  }

  /** The single stream of a first run has listed GROW_AFTER_PAGES and goes on: cut the rest. */
  private async grow(r: Range): Promise<void> {
    try {
      // Twice as many ranges as streams: enough to balance, few enough that the page each range
      // lists past its end (the cost of a boundary) stays small.
      const cuts = spread((await this.discover(r.pos!)).filter((c) => this.insideOuter(c)), this.o.concurrency * 2);
      // Not cut meanwhile (its end is still the listing's own end).
      if (!cuts.length || r.state === "done" || r.hi !== this.outer.hi) return;
      const valid = cuts.filter((c) => compareKeys(c, r.pos!) > 0);
      if (valid.length) {
        this.parallel = true;
        this.cut(r, valid);
      }
    } catch (e) {
      this.error ??= e;
    } finally {
      this.wake();
    }
  }

  /** Ends `r` at cuts[0] and inserts ranges (cut_i, cut_i+1] after it; returns them. */
  private cut(r: Range, cuts: string[]): Range[] {
    const hi = r.hi;
    const after = r.next;
    let prev = r;
    r.hi = cuts[0];
    const fresh: Range[] = [];
    for (let i = 0; i < cuts.length; i++) {
      const nr: Range = { lo: cuts[i], hi: i + 1 < cuts.length ? cuts[i + 1] : hi, pages: [], listedPages: 0, expectedPages: 0, state: "pending" };
      prev.next = nr;
      prev = nr;
      fresh.push(nr);
    }
    prev.next = after;
    this.stats.splits += fresh.length;
    this.stats.ranges += fresh.length;
    this.pending.push(...fresh);
    return fresh;
  }

  private async worker(): Promise<void> {
    try {
      while (!this.error && !this.closed) {
        const r = this.pending.shift() ?? (this.o.unordered ? undefined : await this.split());
        if (!r) {
          if (!this.anyListing()) return;
          await this.changed();
          continue;
        }
        await this.listRange(r);
      }
    } catch (e) {
      this.error ??= e;
      this.wake();
    }
  }

  private anyListing(): boolean {
    for (let r = this.head; r; r = r.next) if (r.state !== "done") return true;
    return false;
  }

  /** Cuts the unlisted part of the busiest range in two; returns the new range, if any. */
  private async split(): Promise<Range | undefined> {
    // Each split costs about one LIST (the page that runs past the new bound): only a bounded
    // number, and only of ranges that have proved long.
    if (!this.parallel || this.stats.splits >= this.o.concurrency) return undefined;
    let best: Range | undefined;
    for (let r = this.head; r; r = r.next) {
      if (r.state === "listing" && r.listedPages >= r.expectedPages + SPLIT_AFTER_PAGES && r.pos !== undefined && (!best || r.listedPages > best.listedPages)) best = r;
    }
    if (!best) return undefined;
    const r = best;
    let cuts: string[] = [];
    const hi0 = r.hi;
    if (this.discoveryPrefix !== undefined && r.pos!.startsWith(this.discoveryPrefix)) {
      // The next CommonPrefixes after the position (and before the range's end) are real
      // boundaries, where a character midpoint may fall where no key is.
      this.stats.discoveryRequests++;
      const pg = await this.page({ prefix: this.discoveryPrefix, delimiter: "/", startAfter: r.pos });
      if (r.state !== "listing" || r.hi !== hi0) return undefined;
      const inside = pg.commonPrefixes.filter((cp) => compareKeys(cp, r.pos!) > 0 && (hi0 === undefined || compareKeys(cp, hi0) < 0));
      cuts = spread(inside, Math.max(2, this.o.concurrency));
    }
    if (!cuts.length) {
      const m = midpoint(r.pos!, r.hi);
      if (m === undefined) return undefined;
      cuts = [m];
    }
    const fresh = this.cut(r, cuts);
    this.pending.splice(this.pending.indexOf(fresh[0]), 1);
    return fresh[0];
  }

  private async listRange(r: Range): Promise<void> {
    r.state = "listing";
    try {
      for (;;) {
        if (r.hi !== undefined && r.pos !== undefined && compareKeys(r.pos, r.hi) >= 0) break;
        const after = r.pos ?? r.lo;
        const params = { startAfter: r.token ? undefined : after, continuationToken: r.token };
        // Ordered listings take pages unparsed where the endpoint allows (the direct path): they are
        // parsed when the merge takes them (next), fresh in the cache and short-lived for the GC.
        const pg = this.o.unordered ? await this.page(params) : await this.pageRaw(params);
        this.stats.pages++;
        r.listedPages++;
        let past = false;
        if (isRawPage(pg)) {
          // Where the range stands, from the page's last key; each key is checked when parsed.
          if (after !== undefined && compareKeys(after, pg.lastKey) >= 0) throw new OrderError(this.o.label, after, pg.lastKey);
          past = r.hi !== undefined && compareKeys(pg.lastKey, r.hi) > 0;
          if (!past) r.pos = pg.lastKey;
          this.push(r, { page: pg, after, hi: r.hi });
        } else {
          const kept = this.keep(pg.objects, after, r.hi);
          past = kept.past;
          if (!this.o.unordered && kept.last !== undefined) r.pos = kept.last;
          if (kept.out.length) this.push(r, kept.out);
        }
        if (past || !pg.isTruncated || !pg.nextContinuationToken) break;
        r.token = pg.nextContinuationToken;
        if (this.growable && r.listedPages >= GROW_AFTER_PAGES && r.pos !== undefined) {
          this.growable = false;
          void this.grow(r);
        }
        // Backpressure. The range being consumed waits for the consumer. So do ranges ahead of it
        // while the consumer has the head range's pages coming: listing further ahead only to spool
        // to disk and read back costs CPU the merge needs (at 1M keys per side about a tenth of the
        // run). Only while the head range still waits for a stream do ranges ahead spool (below), so
        // the streams can never all wait on each other.
        while (this.holdBack(r)) await this.changed();
        if (this.closed || this.error) return;
      }
    } catch (e) {
      // Recorded before the range is marked done: the consumer must see the error, not an end.
      this.error ??= e;
      throw e;
    } finally {
      r.state = "done";
      this.wake();
    }
  }

  /** Whether `r` should wait before listing its next page (see listRange). */
  private holdBack(r: Range): boolean {
    if (this.closed || this.error || !this.overBudget(0, 0)) return false;
    // The head range waits only for its own pages to be taken (the consumer always takes them).
    if (r === this.head) return r.pages.length > 0;
    // Ranges ahead wait while the consumer is busy with pages it has: then the merge is the
    // bottleneck, and pages listed further ahead would only be spooled and read back. While the
    // consumer waits for the head range (a slow endpoint: the listing is the bottleneck), or the
    // head range waits for a stream, they go on and spool (push).
    return !this.starved && this.head !== undefined && this.head.state !== "pending";
  }

  /** A page's objects that belong to the range, as entries (relative keys, filtered); checks that
   *  they increase from `after`. `past`: a key beyond `hi` (the range is done); `last`: the last key
   *  within it. */
  private keep(objects: ListedObject[], after: string | undefined, hi: string | undefined): { out: Entry[]; past: boolean; last?: string } {
    const prefixLen = this.loc.prefix.length;
    const ordered = !this.o.unordered;
    const out: Entry[] = [];
    let prev = after;
    let past = false;
    let last: string | undefined;
    for (const o of objects) {
      // Each page must continue the order: a server that lists unordered is caught here, before a
      // bound check could drop keys silently.
      if (ordered && prev !== undefined && compareKeys(prev, o.key) >= 0) throw new OrderError(this.o.label, prev, o.key);
      prev = o.key;
      if (hi !== undefined && compareKeys(o.key, hi) > 0) {
        past = true;
        break;
      }
      last = o.key;
      const rel = o.key.slice(prefixLen);
      if (rel !== "" && this.o.accept(rel)) {
        // The page's object becomes the entry (same fields): no second object per key.
        (o as Entry).key = rel;
        out.push(o as Entry);
      }
    }
    this.stats.listed += out.length;
    this.o.onPage?.(this.stats.listed);
    return { out, past, last };
  }

  private overBudget(extraEntries: number, extraBytes: number): boolean {
    return this.buffered + extraEntries > this.memEntries || this.heldBytes + extraBytes > this.memBytes;
  }

  private push(r: Range, page: Entry[] | HeldPage): void {
    if (this.closed) return;
    const held = Array.isArray(page) ? undefined : page;
    const entries = held ? 0 : (page as Entry[]).length;
    const bytes = held ? held.page.raw.length : 0;
    if (r !== this.head && this.overBudget(entries, bytes)) {
      this.spool ??= new BlockFile(join(this.o.spoolDir, `list-${process.pid}-${Math.random().toString(36).slice(2, 10)}.spool`));
      if (held) {
        held.ref = this.spool.append(held.page.raw);
        held.page.release?.();
        held.page.raw = EMPTY;
        r.pages.push(held);
      } else r.pages.push(this.spool.append(encodeBlock(entryCodec, page as Entry[])));
      this.stats.spooledPages++;
    } else {
      r.pages.push(page);
      this.buffered += entries;
      this.heldBytes += bytes;
      if (this.buffered > this.stats.maxBuffered) this.stats.maxBuffered = this.buffered;
      if (this.heldBytes > this.stats.maxHeldBytes) this.stats.maxHeldBytes = this.heldBytes;
    }
    this.wakeSoon();
  }

  /**
   * Waits until the head range has a page or the listing has ended (undefined); takes nothing.
   * The caller reads `this.head.pages[0]` again after its await (another lister's parseAhead may
   * have parsed the page meanwhile).
   */
  private async headPage(): Promise<true | undefined> {
    if (!this.started) await this.start();
    await yieldToIo();
    for (;;) {
      if (this.error) throw this.error;
      const r = this.head;
      if (!r) return undefined;
      if (r.pages.length) return true;
      if (r.state === "done") {
        this.head = r.next;
        this.wake();
        continue;
      }
      // Starved: held-back streams may list ahead now (holdBack).
      this.starved = true;
      this.wake();
      // While the page comes, parse a page held further ahead (here or in another listing of the
      // run), then look again: the merge finds those ready later. Else, with every range ending in
      // the same round of LISTs, their last pages were all parsed after the last response came
      // (at 50 ms per LIST, 30-50 ms at the end of a 100,000-key no-op). Not while the merge pairs
      // pages unparsed (peekHeld): a page parsed ahead would no longer pair.
      if (!this.pairing && parseAheadAnywhere(this)) await new Promise<void>((resolve) => setImmediate(resolve));
      else await this.changed();
      this.starved = false;
    }
  }

  async next(): Promise<Entry[] | undefined> {
    if (!(await this.headPage())) return undefined;
    const p = this.head!.pages.shift()!;
    if (Array.isArray(p)) {
      this.buffered -= p.length;
      this.wake();
      return p;
    }
    if ("page" in p) return this.parseHeld(p);
    return decodeBlock(entryCodec, this.spool!.read(p));
  }

  /**
   * The next page, if it is held unparsed (in memory or spooled), for the merge to compare with the
   * other side's (engine/page-pairs.ts); undefined when the next batch is parsed or the listing has
   * ended. Waits like next() and takes nothing. From the first call on, this lister parses no
   * pages ahead (a page parsed ahead would no longer pair).
   */
  async peekHeld(): Promise<HeldView | undefined> {
    this.pairing = true;
    if (!(await this.headPage())) return undefined;
    const p = this.head!.pages[0];
    if (Array.isArray(p) || !("page" in p)) return undefined;
    if (p.ref && !p.page.raw.length) p.page.raw = this.spool!.read(p.ref);
    return { raw: p.page.raw, prefix: this.prefixBytes, after: p.after, hi: p.hi, lastKey: p.page.lastKey, held: p };
  }

  /** Takes the page peekHeld returned, whose `count` objects the merge accounted for without
   *  parsing them (they are equal to the other side's, key by key). */
  takeHeld(v: HeldView, count: number, _keyAt?: (j: number) => string): void {
    const h = v.held as HeldPage;
    if (this.head?.pages[0] !== h) throw new Error(`${this.o.label}: the page taken is not the one peeked`);
    this.head.pages.shift();
    if (h.ref) h.page.raw = EMPTY;
    else {
      this.heldBytes -= h.page.raw.length;
      h.page.release?.();
      h.page.raw = EMPTY;
    }
    this.stats.pairedPages++;
    this.stats.listed += count;
    this.o.onPage?.(this.stats.listed);
    this.wake();
  }

  /** Parses one page held unparsed in memory ahead of the consumer, while the entries held stay
   *  within memEntries (so no stream is held back for it); false when there is none. */
  parseAhead(): boolean {
    if (this.pairing || this.closed || this.error || this.buffered + PAGE_ENTRIES > this.memEntries) return false;
    // Only the pages nearest the merge: a huge listing may hold thousands of spooled ones, and
    // this runs each time the merge waits.
    let looked = 0;
    for (let r = this.head; r && looked < PARSE_AHEAD_LOOK; r = r.next) {
      const pages = r.pages;
      for (let k = 0; k < pages.length && looked < PARSE_AHEAD_LOOK; k++, looked++) {
        const p = pages[k];
        if (Array.isArray(p) || !("page" in p) || p.ref) continue;
        let out: Entry[];
        try {
          out = this.parseHeld(p);
        } catch {
          return false; // recorded in this.error: the consumer sees it at its next call
        }
        pages[k] = out;
        this.stats.parsedAhead++;
        this.buffered += out.length;
        if (this.buffered > this.stats.maxBuffered) this.stats.maxBuffered = this.buffered;
        return true;
      }
    }
    return false;
  }

  /** The entries of a page held unparsed (see listRange). */
  private parseHeld(h: HeldPage): Entry[] {
    if (h.ref) {
      if (!h.page.raw.length) h.page.raw = this.spool!.read(h.ref); // else read by peekHeld
    }
    else {
      this.heldBytes -= h.page.raw.length;
      this.wake();
    }
    try {
      return this.keep(parseRawPage(h.page).objects, h.after, h.hi).out;
    } catch (e) {
      // The consumer sees it now; the streams stop too.
      this.error ??= e;
      this.wake();
      throw e;
    } finally {
      // The entries hold no view of the bytes (fresh strings): the buffer can serve another page.
      if (!h.ref) h.page.release?.();
      h.page.raw = EMPTY;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    listing.delete(this);
    this.wake();
    this.spool?.close();
  }
}
