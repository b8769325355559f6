// Page pairs (runner/engine/page-pairs.ts): a source page and a target page taken whole, unparsed,
// when they list the same keys with the same Size and ETag. A wrong "equal" would silently skip a
// copy, so:
// - pairPages itself, on hand-built pages: each field that differs, each escape, each order or
//   bound violation gives undefined; LastModified, StorageClass, Owner and the prefixes may differ.
// - A randomised differential: whenever pairPages says equal, the parse of both pages says so too
//   (relative keys, sizes, non-empty ETags, order, bounds), and its counts and keys are the parse's.
//   Unmutated pages of plain keys must pair, so the test fails if pairing never fires.
// - BoundarySampler.addRun samples what add() key by key samples.
// - copyPass over real listers (the in-process synthetic S3 endpoint): the decisions with pairing
//   are exactly those without, for equal buckets (every page paired), changed, deleted and added
//   keys, two targets, other prefixes, and state records inside pages.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareKeys, type StateRecord } from "../../runner/decide/types.js";
import { listingSource } from "../../runner/engine/inputs.js";
import { copyPass, type CopySink } from "../../runner/engine/merge.js";
import { pairPages } from "../../runner/engine/page-pairs.js";
import type { HeldView } from "../../runner/list/lister.js";
import { BoundarySampler } from "../../runner/list/ranges.js";
import { parseListObjectsV2 } from "../../runner/store/list.js";
import { makeEndpoint, zeroCounts } from "../../runner/store/s3.js";
import { arraySource } from "../../runner/stream/cursor.js";
import { seededRng } from "../support/proxy.js";
import { s3UrlEncode, startSyntheticS3, type SyntheticBucket, type SyntheticServer } from "../support/synthetic-s3.js";

interface Obj {
  key: string;
  size?: number | string;
  etag?: string;
  mtime?: string;
  storageClass?: string;
  owner?: boolean;
}

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A ListObjectsV2 body as AWS shapes it. */
function page(objs: Obj[], o: { url?: boolean; head?: string; tail?: string } = {}): Buffer {
  const contents = objs
    .map(
      (x, i) =>
        `<Contents><Key>${o.url ? s3UrlEncode(x.key) : xmlEscape(x.key)}</Key><LastModified>${x.mtime ?? `2024-01-0${1 + (i % 9)}T10:00:00.000Z`}</LastModified><ETag>&quot;${x.etag ?? `e${i}`.padEnd(32, "0")}&quot;</ETag><Size>${x.size ?? 10 + i}</Size><StorageClass>${x.storageClass ?? "STANDARD"}</StorageClass>${x.owner ? "<Owner><ID>abc</ID><DisplayName>me</DisplayName></Owner>" : ""}</Contents>`,
    )
    .join("");
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix>${o.head ?? ""}<KeyCount>${objs.length}</KeyCount><MaxKeys>1000</MaxKeys>${o.url ? "<EncodingType>url</EncodingType>" : ""}<IsTruncated>false</IsTruncated>${contents}${o.tail ?? ""}</ListBucketResult>`,
  );
}

function view(raw: Buffer, prefix: string, lastKey: string, after?: string, hi?: string): HeldView {
  return { raw, prefix: Buffer.from(prefix), after, hi, lastKey, held: undefined };
}

/** The two sides: the same objects under two prefixes, other dates and storage classes on the target. */
function sides(objs: Obj[], sp = "src/", tp = "dst/x/", url = true, after?: [string, string], hi?: [string, string]) {
  const src = objs.map((x) => ({ ...x, key: sp + x.key }));
  const tgt = objs.map((x) => ({ ...x, key: tp + x.key, mtime: "2025-06-30T23:59:59.000Z", storageClass: "STANDARD_IA", owner: true }));
  return {
    src: view(page(src, { url }), sp, src[src.length - 1].key, after?.[0], hi?.[0]),
    tgt: view(page(tgt, { url }), tp, tgt[tgt.length - 1].key, after?.[1], hi?.[1]),
  };
}

const OBJS: Obj[] = [
  { key: "a/1", size: 5, etag: "0123456789abcdef0123456789abcdef" },
  { key: "a/2", size: 0, etag: "d41d8cd98f00b204e9800998ecf8427e" },
  { key: "b/c-d/3", size: 123456789012, etag: "ffffffffffffffffffffffffffffffff-12" },
  { key: "b/z_.", size: 7, etag: "00000000000000000000000000000000" },
];
/** Non-ASCII keys: their UTF-8 bytes where the listing is not URL-encoded. */
const NON_ASCII: Obj[] = [
  { key: "a/1", size: 5, etag: "0123456789abcdef0123456789abcdef" },
  { key: "b/é/3", size: 1, etag: "ffffffffffffffffffffffffffffffff-12" },
  { key: "b/\ue000", size: 2, etag: "00000000000000000000000000000000" },
  { key: "b/😀", size: 7, etag: "00000000000000000000000000000000" },
];

describe("pairPages on hand-built pages", () => {
  it("equal keys (after other prefixes), sizes and ETags pair, whatever the dates, storage classes and owners; counts and keys are the parse's", () => {
    const { src, tgt } = sides(OBJS);
    const p = pairPages(src, [tgt]);
    expect(p).toBeDefined();
    expect(p!.count).toBe(4);
    expect(p!.bytes).toBe(5 + 0 + 123456789012 + 7);
    expect([0, 1, 2, 3].map((j) => p!.keyAt(j))).toEqual(OBJS.map((o) => o.key));
    // Not URL-encoded: non-ASCII keys are their UTF-8 bytes, and pair.
    const plain = sides(NON_ASCII, "src/", "dst/x/", false);
    expect(pairPages(plain.src, [plain.tgt])?.count).toBe(4);
    expect([0, 1, 2, 3].map((j) => pairPages(plain.src, [plain.tgt])!.keyAt(j))).toEqual(NON_ASCII.map((o) => o.key));
    // URL-encoded, they are %-escapes: no proof without decoding, so no pair.
    const escaped = sides(NON_ASCII, "src/", "dst/x/", true);
    expect(pairPages(escaped.src, [escaped.tgt])).toBeUndefined();
    // Two targets.
    const { tgt: t2 } = sides(OBJS, "src/", "");
    expect(pairPages(src, [tgt, t2])?.count).toBe(4);
  });

  it("any one difference gives undefined: a key, a size, an ETag, one object more or less, on any target", () => {
    const variants: Obj[][] = [
      OBJS.map((o, i) => (i === 2 ? { ...o, key: "b/é/4" } : o)),
      OBJS.map((o, i) => (i === 3 ? { ...o, size: 8 } : o)),
      OBJS.map((o, i) => (i === 0 ? { ...o, size: "05" } : o)), // the same number, other bytes: no proof
      OBJS.map((o, i) => (i === 1 ? { ...o, etag: "d41d8cd98f00b204e9800998ecf8427f" } : o)),
      OBJS.slice(0, 3),
      [...OBJS, { key: "c", size: 1, etag: "11111111111111111111111111111111" }],
      OBJS.slice(1),
    ];
    const { src } = sides(OBJS);
    for (const v of variants) {
      const t = v.map((x) => ({ ...x, key: "dst/x/" + x.key }));
      const tgt = view(page(t, { url: true }), "dst/x/", t[t.length - 1].key);
      expect(pairPages(src, [tgt])).toBeUndefined();
      // The same difference on the second of two targets.
      const { tgt: same } = sides(OBJS);
      expect(pairPages(src, [same, tgt])).toBeUndefined();
    }
  });

  it("keys whose bytes are not their text (URL or XML escapes, CDATA) never pair, even byte for byte", () => {
    for (const key of ["a b", "a+b", "a%b", "a&b", "a<b", "ctl\u0001"]) {
      const objs = [{ key, size: 1, etag: "0123456789abcdef0123456789abcdef" }];
      const { src, tgt } = sides(objs, "", "");
      expect(src.raw.equals(tgt.raw)).toBe(false); // dates differ
      expect(pairPages(src, [tgt]), key).toBeUndefined();
    }
    const cdata = (raw: Buffer) => Buffer.from(raw.toString().replace("<Key>k</Key>", "<Key><![CDATA[k]]></Key>"));
    const { src, tgt } = sides([{ key: "k", size: 1, etag: "0123456789abcdef0123456789abcdef" }], "", "", false);
    expect(pairPages(view(cdata(src.raw), "", "k"), [view(cdata(tgt.raw), "", "k")])).toBeUndefined();
  });

  it("an empty ETag, a Size that is not digits, a comment, an odd element order: undefined", () => {
    const bad: Obj[][] = [OBJS.map((o, i) => (i === 1 ? { ...o, etag: "" } : o)), OBJS.map((o, i) => (i === 1 ? { ...o, size: "1e3" } : o))];
    for (const objs of bad) {
      const { src, tgt } = sides(objs);
      expect(pairPages(src, [tgt])).toBeUndefined();
    }
    const { src, tgt } = sides(OBJS);
    const comment = view(Buffer.from(src.raw.toString().replace("<MaxKeys>", "<!-- x --><MaxKeys>")), "src/", src.lastKey);
    expect(pairPages(comment, [tgt])).toBeUndefined();
    // A comment inside a Contents element, or after the last one.
    const inside = (raw: Buffer) => Buffer.from(raw.toString().replace("</Size>", "</Size><!-- c -->"));
    expect(pairPages(view(inside(src.raw), "src/", src.lastKey), [view(inside(tgt.raw), "dst/x/", tgt.lastKey)])).toBeUndefined();
    const tail = (raw: Buffer) => Buffer.from(raw.toString().replace("</ListBucketResult>", "<!-- c --></ListBucketResult>"));
    expect(pairPages(view(tail(src.raw), "src/", src.lastKey), [view(tail(tgt.raw), "dst/x/", tgt.lastKey)])).toBeUndefined();
    expect(pairPages(src, [view(tail(tgt.raw), "dst/x/", tgt.lastKey)])).toBeUndefined();
    expect(pairPages(src, [tgt])).toBeDefined();
    // Size before ETag: the plain order only.
    const swapped = (raw: Buffer) => Buffer.from(raw.toString().replace(/(<ETag>[^<]*<\/ETag>)(<Size>[^<]*<\/Size>)/g, "$2$1"));
    expect(pairPages(view(swapped(src.raw), "src/", src.lastKey), [view(swapped(tgt.raw), "dst/x/", tgt.lastKey)])).toBeUndefined();
    // A Contents after a CommonPrefixes element: not one run.
    const split = (raw: Buffer) => Buffer.from(raw.toString().replace(/<\/Contents><Contents>(?!.*<\/Contents><Contents>)/, "</Contents><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes><Contents>"));
    expect(pairPages(view(split(src.raw), "src/", src.lastKey), [view(split(tgt.raw), "dst/x/", tgt.lastKey)])).toBeUndefined();
  });

  it("order and bounds as the parse checks them: keys that do not increase, a first key not after `after`, a page past `hi`, a last key other than the peek's, a key equal to the prefix", () => {
    const unordered = [OBJS[1], OBJS[0], OBJS[2]];
    const u = sides(unordered);
    expect(pairPages(u.src, [u.tgt])).toBeUndefined();
    const dup = sides([OBJS[0], OBJS[0]]);
    expect(pairPages(dup.src, [dup.tgt])).toBeUndefined();
    // after: the first key must be greater (on every side).
    expect(pairPages(...spread(sides(OBJS, "src/", "dst/x/", true, ["src/a/0", "dst/x/a/0"])))).toBeDefined();
    expect(pairPages(...spread(sides(OBJS, "src/", "dst/x/", true, ["src/a/1", "dst/x/a/0"])))).toBeUndefined();
    expect(pairPages(...spread(sides(OBJS, "src/", "dst/x/", true, ["src/a/0", "dst/x/a/1"])))).toBeUndefined();
    expect(pairPages(...spread(sides(OBJS, "src/", "dst/x/", true, ["src/a/0", "dst/x/a/2"])))).toBeUndefined();
    // hi: the page must end within its range.
    expect(pairPages(...spread(sides(OBJS, "src/", "dst/x/", true, undefined, ["src/b/z_.", "dst/x/b/z_."])))).toBeDefined();
    expect(pairPages(...spread(sides(OBJS, "src/", "dst/x/", true, undefined, ["src/b/z", "dst/x/zz"])))).toBeUndefined();
    expect(pairPages(...spread(sides(OBJS, "src/", "dst/x/", true, undefined, ["src/zz", "dst/x/b/z"])))).toBeUndefined();
    // The peek's last key.
    const { src, tgt } = sides(OBJS);
    expect(pairPages({ ...src, lastKey: "src/b/c-d/3" }, [tgt])).toBeUndefined();
    expect(pairPages(src, [{ ...tgt, lastKey: "dst/x/b/z_. " }])).toBeUndefined();
    // A key equal to the prefix (the parse leaves it out).
    const pre = sides([{ key: "", size: 1, etag: "0123456789abcdef0123456789abcdef" }, ...OBJS]);
    expect(pairPages(pre.src, [pre.tgt])).toBeUndefined();
    // Keys not under the location's prefix.
    expect(pairPages({ ...src, prefix: Buffer.from("srd/") }, [tgt])).toBeUndefined();
  });
});

function spread(s: { src: HeldView; tgt: HeldView }): [HeldView, HeldView[]] {
  return [s.src, [s.tgt]];
}

describe("pairPages against the parse (randomised)", () => {
  const ASCII = ["a", "b", "z", "0", "/", "-", "_", "."];
  const NON_ASCII_CHARS = ["é", "\ue000", "😀", "\u{10ffff}"];
  const ESCAPED = [" ", "+", "%", "&", "<", "\u0001"];

  it("whenever it says equal, the parse agrees on every key, size and ETag (and order and bounds); unmutated plain pages always pair", () => {
    const rng = seededRng(20261204);
    const int = (n: number) => Math.floor(rng() * n);
    let paired = 0;
    let plainUnmutated = 0;
    for (let round = 0; round < 4000; round++) {
      const url = rng() < 0.7;
      const keys = new Set<string>();
      const n = 1 + int(12);
      while (keys.size < n) {
        let k = "";
        for (let c = 1 + int(5); c > 0; c--) {
          const r = rng();
          const set = r < 0.8 ? ASCII : r < 0.93 ? NON_ASCII_CHARS : ESCAPED;
          const ch = set[int(set.length)];
          if (!url && ch === "\u0001") continue; // not carried by XML unless URL-encoded
          k += ch;
        }
        if (k) keys.add(k);
      }
      const sorted = [...keys].sort(compareKeys);
      const objs: Obj[] = sorted.map((key) => ({ key, size: int(3), etag: int(40) === 0 ? "" : `${int(3)}`.padEnd(32, "a") }));
      const sp = rng() < 0.5 ? "" : "p/";
      const tp = rng() < 0.5 ? "" : url ? "q/" : "q😀/";
      const tobjs = objs.map((o) => ({ ...o }));
      const mutation = int(8);
      let mutated = true;
      if (mutation === 1) tobjs[int(n)].size = 9;
      else if (mutation === 2) tobjs[int(n)].etag = "f".repeat(32);
      else if (mutation === 3 && n > 1) tobjs.splice(int(n), 1);
      else if (mutation === 4) tobjs[int(n)].key += "a";
      else if (mutation === 5 && n > 1) tobjs.reverse();
      else mutated = false;
      const after = rng() < 0.3 ? sorted[0].slice(0, 1) : undefined;
      const hi = rng() < 0.3 ? sorted[int(n)] : undefined;
      const src = view(page(objs.map((o) => ({ ...o, key: sp + o.key })), { url }), sp, sp + objs[n - 1].key, after === undefined ? undefined : sp + after, hi === undefined ? undefined : sp + hi);
      const tl = tobjs[tobjs.length - 1].key;
      const tgt = view(page(tobjs.map((o) => ({ ...o, key: tp + o.key, mtime: "2030-01-01T00:00:00.000Z" })), { url }), tp, tp + tl, after === undefined ? undefined : tp + after, hi === undefined ? undefined : tp + hi);
      const p = pairPages(src, [tgt]);
      const ps = parseListObjectsV2(src.raw).objects;
      const pt = parseListObjectsV2(tgt.raw).objects;
      const rel = (os: typeof ps, pre: string) => os.map((o) => ({ key: o.key.slice(pre.length), size: o.size, etag: o.etag }));
      if (p) {
        paired++;
        expect(rel(pt, tp)).toEqual(rel(ps, sp));
        const r = rel(ps, sp);
        expect(r.every((o) => o.etag !== "" && o.key !== "")).toBe(true);
        for (let k = 1; k < r.length; k++) expect(compareKeys(r[k - 1].key, r[k].key)).toBeLessThan(0);
        if (after !== undefined) expect(compareKeys(after, r[0].key)).toBeLessThan(0);
        if (hi !== undefined) expect(compareKeys(r[r.length - 1].key, hi)).toBeLessThanOrEqual(0);
        expect(p.count).toBe(r.length);
        expect(p.bytes).toBe(r.reduce((s, o) => s + o.size, 0));
        expect(r.map((_, j) => p.keyAt(j))).toEqual(r.map((o) => o.key));
      }
      // Plain: bytes that are the key's text (URL encoding escapes every non-ASCII character).
      // Not URL-encoded, a space is itself; "+", "%", "&" and "<" never pass as plain.
      const plain = sorted.every((k) => [...k].every((ch) => ASCII.includes(ch) || (!url && (NON_ASCII_CHARS.includes(ch) || ch === " "))));
      const noEmpty = objs.every((o) => o.etag !== "");
      const inBounds = (after === undefined || compareKeys(after, sorted[0]) < 0) && (hi === undefined || compareKeys(sorted[n - 1], hi) <= 0);
      if (!mutated && plain && noEmpty && inBounds) {
        plainUnmutated++;
        expect(p, JSON.stringify(sorted)).toBeDefined();
      }
    }
    expect(paired).toBeGreaterThan(150);
    expect(plainUnmutated).toBe(paired);
  });
});

describe("BoundarySampler.addRun", () => {
  it("samples exactly what add() samples key by key, across pages of any length and while thinning", () => {
    const rng = seededRng(7);
    for (let round = 0; round < 20; round++) {
      const max = 4 + Math.floor(rng() * 12);
      const a = new BoundarySampler(max);
      const b = new BoundarySampler(max);
      let n = 0;
      for (let p = 0; p < 300; p++) {
        const count = rng() < 0.7 ? 1000 : Math.floor(rng() * 1500);
        const base = n;
        const key = (j: number) => `k${String(base + j).padStart(9, "0")}`;
        if (rng() < 0.5) a.addRun(count, key);
        else for (let j = 0; j < count; j++) a.add(key(j));
        for (let j = 0; j < count; j++) b.add(key(j));
        n += count;
      }
      expect(a.n).toBe(b.n);
      expect(a.keys).toEqual(b.keys);
    }
  });
});

describe("copyPass with page pairs, over real listers (in-process synthetic S3)", () => {
  // Above PARALLEL_MIN_KEYS, so listed in ranges from the boundaries: a difference shifts the pages
  // of its own range only.
  const N = 30_000;
  let synth: SyntheticServer;
  const work = mkdtempSync(join(tmpdir(), "page-pairs-"));
  const buckets: Record<string, SyntheticBucket> = {
    a: { keys: N },
    same: { keys: N },
    changed: { keys: N, changeEvery: 2_501, changeOffset: 17 },
    deleted: { keys: N, deleteEvery: 3_001, deleteOffset: 5 },
    added: { keys: N, extra: ["data/000003/obj-000003500x", "data/000009/~"] },
    moved: { keys: N, prefix: "dst/x/" },
  };
  // The previous run's boundaries: the last key of every 1,000 of the source.
  const sampler = new BoundarySampler();
  for (let i = 0; i < N; i++) sampler.add(`data/${String(Math.floor(i / 1000)).padStart(6, "0")}/obj-${String(i).padStart(9, "0")}`);

  beforeAll(async () => {
    synth = await startSyntheticS3({ buckets });
  });
  afterAll(async () => {
    await synth?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  function source(bucket: string, prefix = "") {
    const ep = makeEndpoint("synth", { endpoint: synth.endpoint, region: "us-east-1", forcePathStyle: true }, { accessKeyId: "AKIDSYNTH", secretAccessKey: "synthetic-secret" }, { maxSockets: 16, requestTimeoutMs: 20_000, counts: zeroCounts(), direct: true });
    return listingSource(
      { loc: { ep, bucket, prefix }, label: `synth/${bucket}/`, accept: (k) => k !== "", concurrency: 4, boundaries: sampler.keys, expectedKeys: N, attempts: 3, sort: false, describeError: String, acceptsAll: true },
      work,
    );
  }

  async function pass(targets: [string, string?][], pairing: boolean, states?: StateRecord[][]) {
    const log: string[] = [];
    let paired = 0;
    let same = 0;
    const sink: CopySink = {
      copy: (ti, e, reason) => log.push(`copy ${ti} ${e.key} ${e.size} ${e.etag} ${reason}`),
      extra: (ti, e, del) => log.push(`extra ${ti} ${e.key} ${del}`),
      same: (ti, r) => {
        same++;
        log.push(`same ${ti} ${r.key}`);
      },
      keepPair: (ti, r) => log.push(`pair ${ti} ${r.key}`),
    };
    if (pairing)
      sink.sameRun = (_ti, n) => {
        paired += n;
        same += n;
      };
    const r = await copyPass(
      {
        src: source("a"),
        tgts: targets.map(([b, p]) => source(b, p)),
        states: targets.map((_, i) => (states?.[i] ? arraySource(states[i], 100) : undefined)),
        journals: targets.map(() => undefined),
        labels: { src: "source", tgts: targets.map(([b]) => b), states: targets.map(() => "state"), journals: targets.map(() => "journal") },
      },
      true,
      sink,
    );
    return { log: log.filter((l) => !l.startsWith("same ")), same, paired, counts: r };
  }

  it("equal buckets: every page taken as a pair, no key through the table; the same counts as without pairing", async () => {
    const off = await pass([["same"]], false);
    const on = await pass([["same"]], true);
    expect(off.paired).toBe(0);
    expect(on.paired).toBe(N);
    expect(on.log).toEqual([]);
    expect(on.same).toBe(N);
    expect(on.counts).toEqual(off.counts);
    expect(on.counts.src).toEqual({ objects: N, bytes: off.counts.src.bytes });
  });

  it("changed, deleted and added keys, another prefix, two targets: decisions identical to the key-by-key pass; the unaffected pages still pair", async () => {
    for (const targets of [[["changed"]], [["deleted"]], [["added"]], [["moved", "dst/x/"]], [["same"], ["changed"]], [["deleted"], ["same"]]] as [string, string?][][]) {
      const off = await pass(targets, false);
      const on = await pass(targets, true);
      expect(on.log, JSON.stringify(targets)).toEqual(off.log);
      expect(on.same).toBe(off.same);
      expect(on.counts).toEqual(off.counts);
      expect(on.log.length, JSON.stringify(targets)).toBeGreaterThan(0);
      // The synthetic body (and so the ETag and size) holds the whole key: under another prefix
      // every object differs, and no page pairs.
      if (targets[0][0] === "moved") expect(on.paired).toBe(0);
      else expect(on.paired, JSON.stringify(targets)).toBeGreaterThan(N / 2);
    }
  });

  it("a state record inside a page: that page goes through the table (the record counts as a prior), the others pair", async () => {
    const key = "data/000004/obj-000004321";
    const states = [[{ key, aSize: 1, aEtag: "x", aMtime: 0, bSize: 1, bEtag: "y", bMtime: 0 }]];
    const off = await pass([["same"]], false, states);
    const on = await pass([["same"]], true, states);
    expect(on.counts).toEqual(off.counts);
    expect(on.counts.priors).toEqual([1]);
    expect(on.paired).toBe(N - 1000);
    expect(on.same).toBe(N);
  });
});
