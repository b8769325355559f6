// Differential test of the streaming engine (runner/engine/merge.ts) against the in-memory decision
// tables (runner/decide/): random listings, states and journals — keys with control characters,
// BMP characters on both sides of the surrogate range and non-BMP characters, so that UTF-16 code
// unit order and UTF-8 byte order disagree — go through copyPass/bisyncPass (as batch streams of
// random small sizes) and through decideCopy/decideBisync/mergeJournal, and must give identical
// decisions. Variants: the state and journal through a real file (encodeState → StateFileSource,
// one section per target), and a listing that arrives shuffled and is sorted by ExternalSorter.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decideBisync, type BisyncAction, type BisyncOptions } from "../../runner/decide/bisync.js";
import { decideCopy } from "../../runner/decide/copy.js";
import { informative, mergeJournal } from "../../runner/decide/journal.js";
import { compareKeys, record, sortEntries, type Entry, type StateRecord } from "../../runner/decide/types.js";
import { SectionBuilder, writeJournal, writeState } from "../../runner/engine/commit.js";
import { bisyncPass, copyPass } from "../../runner/engine/merge.js";
import { decodeState, encodeState, StateFileSource } from "../../runner/state/codec.js";
import { entryCodec, recordCodec } from "../../runner/stream/blocks.js";
import { arraySource, type BatchSource } from "../../runner/stream/cursor.js";
import { ExternalSorter } from "../../runner/stream/extsort.js";
import { seededRng } from "../support/proxy.js";

/** ASCII, separators, controls, the state file's escapes, BMP around the surrogates, non-BMP. */
const ALPHABET = ["a", "b", "z", "0", "/", " ", "\t", "\n", "\r", "\u0001", "#", "\\", "=", "é", "\ud7ff", "\ue000", "\uffff", "😀", "\u{10000}", "\u{10ffff}"];

type Rng = () => number;
const int = (rng: Rng, n: number) => Math.floor(rng() * n);
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)];

function randomKey(rng: Rng): string {
  let k = "";
  const n = 1 + int(rng, 4);
  for (let i = 0; i < n; i++) k += pick(rng, ALPHABET);
  return k;
}

/** A pool of distinct keys. */
function keyPool(rng: Rng, n: number): string[] {
  const s = new Set<string>();
  for (let tries = 0; s.size < n && tries < n * 20; tries++) s.add(randomKey(rng));
  return [...s];
}

const ETAGS = ["", "e1", "e2", "e3", "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef-2"];
const randomEntry = (rng: Rng, key: string): Entry => ({ key, size: int(rng, 3), etag: pick(rng, ETAGS), mtime: 1000 + int(rng, 4) });

/** `e` or a variant of it (same content most of the time, else a changed size/ETag/mtime). */
function variant(rng: Rng, e: Entry): Entry {
  const r = rng();
  if (r < 0.5) return { ...e, mtime: r < 0.25 ? e.mtime : e.mtime + 1 + int(rng, 3) };
  if (r < 0.7) return { ...e, etag: pick(rng, ETAGS) }; // e.g. a multipart ETag of the same bytes, or other content
  if (r < 0.8) return { ...e, size: e.size + 1 };
  return randomEntry(rng, e.key);
}

function subset<T>(rng: Rng, xs: readonly T[], p: number): T[] {
  return xs.filter(() => rng() < p);
}

/** Listing of up to `max` keys of the pool. */
function listing(rng: Rng, pool: readonly string[], max: number): Entry[] {
  const p = rng();
  const keys = subset(rng, pool, p).slice(0, max);
  return sortEntries(keys.map((k) => randomEntry(rng, k)));
}

/** A listing overlapping `base`: most of base's keys (many with equal content), plus others of the pool. */
function overlapping(rng: Rng, base: readonly Entry[], pool: readonly string[], max: number): Entry[] {
  const keep = rng();
  const byKey = new Map<string, Entry>();
  for (const e of base) if (rng() < keep) byKey.set(e.key, variant(rng, e));
  for (const k of subset(rng, pool, rng() * 0.5)) if (!byKey.has(k)) byKey.set(k, randomEntry(rng, k));
  return sortEntries([...byKey.values()].slice(0, max));
}

/** A state or journal derived from the two sides: records of keys on either side (exact, or with
 *  random changes), plus records of keys on neither side. */
function records(rng: Rng, a: readonly Entry[], b: readonly Entry[], pool: readonly string[], pairsOnly = false): StateRecord[] {
  const ma = new Map(a.map((e) => [e.key, e]));
  const mb = new Map(b.map((e) => [e.key, e]));
  const keys = new Set([...subset(rng, [...ma.keys(), ...mb.keys()], rng()), ...subset(rng, pool, rng() * 0.2)]);
  const out: StateRecord[] = [];
  for (const k of keys) {
    const ea = ma.get(k) ?? randomEntry(rng, k);
    const eb = mb.get(k) ?? randomEntry(rng, k);
    let ra = rng() < 0.7 ? ea : variant(rng, ea);
    let rb = rng() < 0.7 ? eb : variant(rng, eb);
    if (pairsOnly && rng() < 0.6) {
      // An informative pair: equal sizes, different non-empty ETags.
      rb = { ...rb, size: ra.size, etag: ra.etag === "e1" ? "e2" : "e1" };
      if (ra.etag === "") ra = { ...ra, etag: "e3" };
    }
    out.push(record(k, ra, rb));
  }
  return sortEntries(out);
}

const batches = <T>(rng: Rng, xs: readonly T[]): BatchSource<T> => arraySource(xs, 1 + int(rng, 7));

// ----------------------------------------------------------------------------- copy / sync

interface CopyCase {
  src: Entry[];
  tgts: Entry[][];
  states: (StateRecord[] | undefined)[];
  journals: (StateRecord[] | undefined)[];
  deletes: boolean;
}

function copyCase(seed: number): CopyCase {
  const rng = seededRng(seed);
  const pool = keyPool(rng, 1 + int(rng, 400));
  const max = int(rng, 301);
  const src = listing(rng, pool, max);
  const nt = 1 + int(rng, 3);
  const tgts = Array.from({ length: nt }, () => (rng() < 0.1 ? [] : overlapping(rng, src, pool, int(rng, 301))));
  const states = tgts.map((t) => (rng() < 0.2 ? undefined : records(rng, src, t, pool)));
  const journals = tgts.map((t) => (rng() < 0.3 ? undefined : records(rng, src, t, pool, true)));
  return { src, tgts, states, journals, deletes: rng() < 0.5 };
}

interface CopyOut {
  copies: { key: string; entry: Entry; reason: string }[];
  deletes: Entry[];
  extra: number;
  same: StateRecord[];
  pairs: StateRecord[];
}

/** The in-memory tables' answer, per target. */
function expectedCopy(c: CopyCase): CopyOut[] {
  return c.tgts.map((t, ti) => {
    const plan = decideCopy(c.src, t, c.states[ti], { deletes: c.deletes, journal: c.journals[ti] });
    return {
      copies: plan.copies.map((x) => ({ key: x.entry.key, entry: x.entry, reason: x.reason })),
      deletes: plan.deletes,
      extra: plan.extra,
      same: plan.same,
      pairs: mergeJournal(c.journals[ti], [], c.src, t),
    };
  });
}

async function streamedCopy(
  c: CopyCase,
  inputs: { src: BatchSource<Entry>; tgts: BatchSource<Entry>[]; states: (BatchSource<StateRecord> | undefined)[]; journals: (BatchSource<StateRecord> | undefined)[] },
): Promise<{ out: CopyOut[]; counts: Awaited<ReturnType<typeof copyPass>> }> {
  const out: CopyOut[] = c.tgts.map(() => ({ copies: [], deletes: [], extra: 0, same: [], pairs: [] }));
  const counts = await copyPass(
    {
      ...inputs,
      labels: { src: "source", tgts: c.tgts.map((_, i) => `target ${i}`), states: c.tgts.map(() => "state"), journals: c.tgts.map(() => "ETag pair journal") },
    },
    c.deletes,
    {
      copy: (ti, entry, reason) => out[ti].copies.push({ key: entry.key, entry, reason }),
      extra: (ti, entry, deleted) => {
        out[ti].extra++;
        if (deleted) out[ti].deletes.push(entry);
      },
      same: (ti, r) => out[ti].same.push(r),
      keepPair: (ti, p) => out[ti].pairs.push(p),
    },
  );
  // The journal writer (engine/commit.ts writeJournal) keeps only informative pairs.
  for (const o of out) o.pairs = o.pairs.filter(informative);
  return { out, counts };
}

function arrayInputs(rng: Rng, c: CopyCase) {
  return {
    src: batches(rng, c.src),
    tgts: c.tgts.map((t) => batches(rng, t)),
    states: c.states.map((s) => (s ? batches(rng, s) : undefined)),
    journals: c.journals.map((j) => (j ? batches(rng, j) : undefined)),
  };
}

function checkCounts(c: CopyCase, counts: Awaited<ReturnType<typeof copyPass>>): void {
  const side = (xs: Entry[]) => ({ objects: xs.length, bytes: xs.reduce((n, e) => n + e.size, 0) });
  expect(counts.src).toEqual(side(c.src));
  expect(counts.tgts).toEqual(c.tgts.map(side));
  expect(counts.priors).toEqual(c.states.map((s) => s?.length ?? 0));
}

// ----------------------------------------------------------------------------- bisync

interface BisyncCase {
  a: Entry[];
  b: Entry[];
  state: StateRecord[] | undefined;
  journal: StateRecord[] | undefined;
  opts: BisyncOptions;
}

function bisyncCase(seed: number): BisyncCase {
  const rng = seededRng(seed);
  const pool = keyPool(rng, 1 + int(rng, 400));
  const a = listing(rng, pool, int(rng, 301));
  const b = overlapping(rng, a, pool, int(rng, 301));
  // The state: the last run's listing of both sides (mostly equal content), with changes since.
  const state = rng() < 0.25 ? undefined : records(rng, a, b, pool);
  const journal = rng() < 0.3 ? undefined : records(rng, a, b, pool, true);
  return { a, b, state, journal, opts: { deletes: rng() < 0.7, conflict: rng() < 0.5 ? "newer" : "keep-both" } };
}

interface BisyncOut {
  actions: BisyncAction[];
  same: StateRecord[];
  forgotten: number;
  deletes: { a: number; b: number };
  pairs: StateRecord[];
}

function expectedBisync(c: BisyncCase): BisyncOut {
  const plan = decideBisync(c.a, c.b, c.state, { ...c.opts, journal: c.journal });
  return { actions: plan.actions, same: plan.same, forgotten: plan.forgotten, deletes: plan.deletes, pairs: mergeJournal(c.journal, [], c.a, c.b) };
}

async function streamedBisync(c: BisyncCase, inputs: { a: BatchSource<Entry>; b: BatchSource<Entry>; state?: BatchSource<StateRecord>; journal?: BatchSource<StateRecord> }) {
  const out: BisyncOut = { actions: [], same: [], forgotten: 0, deletes: { a: 0, b: 0 }, pairs: [] };
  const counts = await bisyncPass({ ...inputs, labels: { a: "source", b: "target", state: "state", journal: "ETag pair journal" } }, c.opts, c.state === undefined, {
    action: (x) => {
      out.actions.push(x);
      if (x.kind === "delete") out.deletes[x.side]++;
    },
    same: (r) => out.same.push(r),
    forget: () => out.forgotten++,
    keepPair: (p) => out.pairs.push(p),
  });
  out.pairs = out.pairs.filter(informative);
  return { out, counts };
}

// ----------------------------------------------------------------------------- the tests

const CASES = 300;
const work = mkdtempSync(join(tmpdir(), "differential-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("streaming engine = in-memory decision tables (random inputs)", () => {
  it("the generated keys make UTF-16 and UTF-8 order disagree (else this test would prove nothing)", () => {
    let disagree = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const { src } = copyCase(seed);
      const js = src.map((e) => e.key).sort();
      if (js.some((k, i) => k !== src[i].key)) disagree++;
      // sortEntries is UTF-8 byte order.
      for (let i = 1; i < src.length; i++) expect(Buffer.compare(Buffer.from(src[i - 1].key), Buffer.from(src[i].key))).toBe(-1);
    }
    expect(disagree).toBeGreaterThan(10);
  });

  it(`copy and sync, 1–3 targets each with its own state and journal: ${CASES} cases`, async () => {
    let decisions = 0;
    const kinds = { missing: 0, different: 0, deletes: 0, same: 0, pairs: 0 };
    for (let seed = 1; seed <= CASES; seed++) {
      const c = copyCase(seed);
      const want = expectedCopy(c);
      const { out, counts } = await streamedCopy(c, arrayInputs(seededRng(seed * 7919), c));
      expect(out, `seed ${seed}`).toEqual(want);
      checkCounts(c, counts);
      for (const w of want) {
        decisions += w.copies.length + w.extra + w.same.length;
        kinds.missing += w.copies.filter((x) => x.reason === "missing").length;
        kinds.different += w.copies.filter((x) => x.reason === "different").length;
        kinds.deletes += w.deletes.length;
        kinds.same += w.same.length;
        kinds.pairs += w.pairs.length;
      }
    }
    // Every kind of decision occurred, many times.
    for (const [k, n] of Object.entries(kinds)) expect(n, k).toBeGreaterThan(100);
    expect(decisions).toBeGreaterThan(20_000);
  });

  it(`bisync, first runs and runs with state, deletes on/off, newer/keep-both: ${CASES} cases`, async () => {
    const kinds: Record<string, number> = { copy: 0, delete: 0, conflict: 0, "conflict-keep-both": 0, same: 0, forgotten: 0, pairs: 0, firstRun: 0 };
    for (let seed = 1; seed <= CASES; seed++) {
      const c = bisyncCase(10_000 + seed);
      const want = expectedBisync(c);
      const rng = seededRng(seed * 104729);
      const { out, counts } = await streamedBisync(c, {
        a: batches(rng, c.a),
        b: batches(rng, c.b),
        state: c.state ? batches(rng, c.state) : undefined,
        journal: c.journal ? batches(rng, c.journal) : undefined,
      });
      expect(out, `seed ${seed}`).toEqual(want);
      expect(counts).toEqual({
        a: { objects: c.a.length, bytes: c.a.reduce((n, e) => n + e.size, 0) },
        b: { objects: c.b.length, bytes: c.b.reduce((n, e) => n + e.size, 0) },
        prior: c.state?.length ?? 0,
      });
      for (const x of want.actions) kinds[x.kind === "conflict" && x.winner === null ? "conflict-keep-both" : x.kind]++;
      kinds.same += want.same.length;
      kinds.forgotten += want.forgotten;
      kinds.pairs += want.pairs.length;
      if (!c.state) kinds.firstRun++;
    }
    for (const [k, n] of Object.entries(kinds)) expect(n, k).toBeGreaterThan(20);
  });

  it("the state and journal through real files (encodeState → StateFileSource, one section per target): same decisions", async () => {
    for (let seed = 1; seed <= 80; seed++) {
      const c = copyCase(50_000 + seed);
      const targets = c.tgts.map((_, i) => `zurich/b${i}/p\t"${i}"/`);
      const write = (name: string, secs: (StateRecord[] | undefined)[]) => {
        const path = join(work, `${name}-${seed}.gz`);
        // Sections in another order than the targets, one for a target not in the job, none for an absent one.
        const sections = secs.map((records, i) => ({ target: targets[i], records: records! })).filter((s) => s.records !== undefined);
        sections.reverse();
        sections.splice(int(seededRng(seed), sections.length + 1), 0, { target: "other/x/", records: c.src.map((e) => record(e.key, e, e)) });
        writeFileSync(path, encodeState({ meta: { job: "j", mode: c.deletes ? "sync" : "copy", source: "london/a/", written: "2026-01-01T00:00:00.000Z" }, sections }));
        return path;
      };
      const statePath = write("state", c.states);
      const journalPath = write("pairs", c.journals);
      const want = expectedCopy(c);
      const rng = seededRng(seed);
      const { out } = await streamedCopy(c, {
        src: batches(rng, c.src),
        tgts: c.tgts.map((t) => batches(rng, t)),
        // A target without a section reads as an empty state (decideCopy: no records).
        states: targets.map((t) => new StateFileSource(statePath, t)),
        journals: targets.map((t) => new StateFileSource(journalPath, t)),
      });
      expect(out, `seed ${seed}`).toEqual(want);
    }
  });

  it("a listing that arrives shuffled, sorted by ExternalSorter (spilling sorted runs to disk), merges to the same decisions", async () => {
    for (let seed = 1; seed <= 80; seed++) {
      const c = copyCase(90_000 + seed);
      const want = expectedCopy(c);
      const rng = seededRng(seed);
      const shuffled = (xs: readonly Entry[]) => {
        const a = xs.slice();
        for (let i = a.length - 1; i > 0; i--) {
          const j = int(rng, i + 1);
          [a[i], a[j]] = [a[j], a[i]];
        }
        return a;
      };
      const sorter = new ExternalSorter<Entry>(work, `src-${seed}`, entryCodec, 1 + int(rng, 40));
      for (const e of shuffled(c.src)) sorter.add(e);
      const tsorter = new ExternalSorter<Entry>(work, `tgt-${seed}`, entryCodec, 1 + int(rng, 40));
      for (const e of shuffled(c.tgts[0])) tsorter.add(e);
      const ssorter = new ExternalSorter<StateRecord>(work, `state-${seed}`, recordCodec, 1 + int(rng, 40));
      for (const r of c.states[0] ?? []) ssorter.add(r);
      try {
        const inputs = arrayInputs(rng, c);
        inputs.src = sorter.sorted();
        inputs.tgts[0] = tsorter.sorted();
        if (c.states[0]) inputs.states[0] = ssorter.sorted();
        const { out } = await streamedCopy(c, inputs);
        expect(out, `seed ${seed}`).toEqual(want);
        if (c.src.length > 40) expect(sorter.spilledRuns).toBeGreaterThan(0);
      } finally {
        sorter.close();
        tsorter.close();
        ssorter.close();
      }
    }
  });

  it("the commit stage: next state (carry + transfer results) and journal (kept pairs + fresh pairs) written as files = sorted union / mergeJournal", async () => {
    for (let seed = 1; seed <= 80; seed++) {
      const c = copyCase(130_000 + seed);
      const rng = seededRng(seed * 31);
      const dir = join(work, `commit-${seed}`);
      mkdirSync(dir);
      const targets = c.tgts.map((_, i) => `zurich/b${i}/`);
      const sections = targets.map((t, i) => new SectionBuilder(t, dir, i));
      // Transfers complete in any order; some fail (not in the results).
      const fresh: StateRecord[][] = c.tgts.map(() => []);
      await copyPass(
        { ...arrayInputs(rng, c), labels: { src: "source", tgts: targets, states: targets.map(() => "state"), journals: targets.map(() => "ETag pair journal") } },
        c.deletes,
        {
          copy: (ti, entry) => {
            if (rng() < 0.8) fresh[ti].push(record(entry.key, entry, rng() < 0.5 ? entry : { ...entry, etag: `t${int(rng, 3)}`, mtime: 5000 }));
          },
          extra: () => undefined,
          same: (ti, r) => sections[ti].carry.add(r),
          keepPair: (ti, p) => sections[ti].pairs.add(p),
        },
      );
      for (const s of sections) await s.endCarry();
      for (let ti = 0; ti < fresh.length; ti++) {
        const shuffled = fresh[ti].slice().sort(() => rng() - 0.5);
        for (const r of shuffled) sections[ti].results.add(r);
      }
      const meta = { job: "j", mode: "copy", source: "london/a/", written: "2026-01-01T00:00:00.000Z" };
      try {
        const want = expectedCopy(c);
        const nRecords = await writeState(join(dir, "next.state.gz"), meta, sections);
        const next = decodeState(readFileSync(join(dir, "next.state.gz")));
        expect(next.meta).toEqual(meta);
        expect(next.sections.map((s) => s.target)).toEqual(targets);
        next.sections.forEach((s, ti) => expect(s.records, `seed ${seed} target ${ti}`).toEqual(sortEntries([...want[ti].same, ...fresh[ti]])));
        expect(nRecords).toBe(next.sections.reduce((n, s) => n + s.records.length, 0));

        const nPairs = await writeJournal(join(dir, "next.pairs.gz"), meta, sections);
        const j = decodeState(readFileSync(join(dir, "next.pairs.gz")));
        const wantPairs = c.tgts.map((t, ti) => mergeJournal(c.journals[ti], fresh[ti], c.src, t));
        // A section only where there is a pair.
        expect(j.sections.map((s) => s.target)).toEqual(targets.filter((_, ti) => wantPairs[ti].length > 0));
        for (const s of j.sections) expect(s.records, `seed ${seed} ${s.target}`).toEqual(wantPairs[targets.indexOf(s.target)]);
        expect(nPairs).toBe(wantPairs.reduce((n, p) => n + p.length, 0));
      } finally {
        for (const s of sections) s.close();
      }
    }
  });
});
