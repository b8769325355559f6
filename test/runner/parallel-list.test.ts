// RangeLister (runner/list/lister.ts), parallel range listing, against the in-process synthetic S3
// endpoint: 60,000 formula keys plus awkward extras (control characters, keys between formula
// keys, BMP characters above the surrogates, non-BMP keys, a key equal to a directory prefix, keys
// past the last formula key, a second top-level directory). Its output must be the formula's
// listing exactly (keys, sizes, ETags, mtimes, order), whatever the concurrency, the boundaries
// and the spooling; the LIST count stays within one page per 1,000 keys plus one per range and
// per discovery request; and with a delay per LIST the ranges are really listed at once.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entry } from "../../runner/decide/types.js";
import { RangeLister, type ListOptions } from "../../runner/list/lister.js";
import { BoundarySampler } from "../../runner/list/ranges.js";
import { makeEndpoint, zeroCounts, type Location } from "../../runner/store/s3.js";
import { spawnSyntheticS3, startSyntheticS3, type SyntheticServer } from "../support/synthetic-s3.js";

const N = 60_000;
const EXTRA = [
  "\u0001ctl",
  " space",
  "a",
  "data/",
  "data/000000/obj-000000000 ",
  "data/000005/obj-000005500 x",
  "data/000010/\ue000",
  "data/000010/\uffff",
  "data/000010/\u{10000}",
  "data/000010/😀/deep",
  "data/000020/tab\tkey",
  "data/000020/nl\nkey",
  "data/000030/",
  "data/000041/obj-000041999~",
  "data/000059/obj-000059999\uffff",
  "data/000059/obj-000059999😀",
  "data/\u{10ffff}",
  "data/zzz",
  "zz/😀",
  "~tail",
  "\u{10ffff}end",
];
const BASE_SECONDS = 1_700_000_000;
/** A location prefix with a non-BMP character, and keys just outside it on both sides. */
const PREFIX = "p😀/";
const PRE_EXTRA = ["p😀", "p😀.", "p😀0", "p\uffff/x", "p/", "q", `${PREFIX}`, `${PREFIX}\ue000`, `${PREFIX}zz/😀`, `${PREFIX}data/000007/obj-000007123 `, `${PREFIX}data/\u{10ffff}`];

/** The bucket's listing computed from the formula (independently of the server), in UTF-8 order. */
function formula(n = N, prefix = "", extra = EXTRA): Entry[] {
  const p6 = (n: number) => String(n).padStart(6, "0");
  const p9 = (n: number) => String(n).padStart(9, "0");
  const out: Entry[] = [];
  const add = (key: string, i: number) => {
    const body = `${key}\n0\n`;
    out.push({ key, size: Buffer.byteLength(body), etag: createHash("md5").update(body).digest("hex"), mtime: (BASE_SECONDS + Math.max(i, 0)) * 1000 });
  };
  for (let i = 0; i < n; i++) add(`${prefix}data/${p6(Math.floor(i / 1000))}/obj-${p9(i)}`, i);
  for (const k of extra) add(k, -1);
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
}

/** Forwards HTTP to the synthetic server, counting LIST requests in flight at once. */
async function inflightProxy(target: string): Promise<{ endpoint: string; maxInFlight: () => number; reset: () => void; stop: () => Promise<void> }> {
  const t = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let now = 0;
  let max = 0;
  const server = http.createServer((req, res) => {
    const list = (req.url ?? "").includes("list-type=2");
    if (list) max = Math.max(max, ++now);
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers, agent }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
      r.on("end", () => {
        if (list) now--;
      });
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    maxInFlight: () => max,
    reset: () => {
      max = 0;
    },
    stop: () =>
      new Promise<void>((r) => {
        agent.destroy();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

let fast: SyntheticServer;
let slow: SyntheticServer;
let proxy: Awaited<ReturnType<typeof inflightProxy>>;
let want: Entry[];
let boundaries: string[];
const work = mkdtempSync(join(tmpdir(), "parallel-list-"));

beforeAll(async () => {
  const buckets = { big: { keys: N, extra: EXTRA } };
  fast = await startSyntheticS3({ buckets: { ...buckets, pre: { keys: 30_000, prefix: PREFIX, extra: PRE_EXTRA } } });
  // In a child process: its CPU (MD5 and XML of every page) stays out of the lister's event loop,
  // so the timing compares latency hidden by parallel ranges, not one thread's CPU.
  slow = await spawnSyntheticS3({ buckets, delayMs: 20 });
  proxy = await inflightProxy(slow.endpoint);
  want = formula();
  // As the runner samples the state's boundaries (BoundarySampler): the last key of every 1,000.
  const sampler = new BoundarySampler();
  for (const e of want) sampler.add(e.key);
  boundaries = sampler.keys;
});
afterAll(async () => {
  await proxy?.stop();
  await fast?.stop();
  await slow?.stop();
  rmSync(work, { recursive: true, force: true });
});

function location(url: string, bucket = "big", prefix = "", direct = true): Location {
  const ep = makeEndpoint("synth", { endpoint: url, region: "us-east-1", forcePathStyle: true }, { accessKeyId: "AKIDSYNTH", secretAccessKey: "synthetic-secret" }, { maxSockets: 32, requestTimeoutMs: 20_000, counts: zeroCounts(), direct });
  return { ep, bucket, prefix };
}

async function list(server: SyntheticServer | string, o: Partial<ListOptions>, slowConsumer = false, where: [string, string] = ["big", ""], direct = true) {
  const url = typeof server === "string" ? server : server.endpoint;
  if (typeof server !== "string") await server.resetCounts();
  const lister = new RangeLister(location(url, ...where, direct), { concurrency: 1, accept: () => true, attempts: 3, spoolDir: work, label: "source synth/big/", ...o });
  const t0 = performance.now();
  const out: Entry[] = [];
  try {
    for (let b = await lister.next(); b !== undefined; b = await lister.next()) {
      for (const e of b) out.push(e);
      if (slowConsumer) await new Promise((r) => setTimeout(r, 3));
    }
  } finally {
    await lister.close();
  }
  const ms = performance.now() - t0;
  const lists = typeof server === "string" ? undefined : (await server.counts()).LIST;
  return { out, stats: lister.stats, ms, lists };
}

const PAGES = Math.ceil((N + EXTRA.length) / 1000);

describe("RangeLister: parallel range listing", () => {
  it("one stream (concurrency 1): the formula's listing exactly, in exactly ceil(N/1000) LISTs", async () => {
    const r = await list(fast, { concurrency: 1, boundaries, expectedKeys: want.length });
    expect(r.out.length).toBe(want.length);
    expect(r.out).toEqual(want);
    expect(r.lists).toBe(PAGES);
    expect(r.stats).toMatchObject({ ranges: 1, splits: 0, discoveryRequests: 0 });
  });

  it("a first run (no boundaries, nothing known): the single stream grows into ranges via CommonPrefixes; output identical", async () => {
    const r = await list(fast, { concurrency: 8 });
    expect(r.stats.ranges).toBeGreaterThan(1);
    expect(r.stats.discoveryRequests).toBeGreaterThanOrEqual(1);
    expect(r.out).toEqual(want);
    expect(r.lists).toBe(r.stats.pages + r.stats.discoveryRequests);
    expect(r.lists!).toBeLessThanOrEqual(PAGES + r.stats.ranges + r.stats.discoveryRequests);
    console.log(`[parallel-list] first run: ${r.stats.ranges} ranges (${r.stats.splits} splits), ${r.stats.discoveryRequests} discovery LISTs, ${r.lists} LISTs in all (one stream: ${PAGES})`);
  });

  it("boundaries from the previous state (page-aligned) and expectedKeys: output identical in exactly ceil(N/1000) LISTs, however many ranges (up to 4 × concurrency)", async () => {
    expect(boundaries.length).toBe(Math.floor(want.length / 1000));
    expect(boundaries[0]).toBe(want[999].key);
    for (const concurrency of [2, 8, 32]) {
      const r = await list(fast, { concurrency, boundaries, expectedKeys: want.length });
      expect(r.stats.ranges).toBeGreaterThanOrEqual(Math.min(4 * concurrency, PAGES - 1));
      expect(r.stats.ranges).toBeLessThanOrEqual(4 * concurrency);
      expect(r.out).toEqual(want);
      expect(r.lists).toBe(r.stats.pages + r.stats.discoveryRequests);
      // Every range ends where a page ends: not one LIST more than one stream needs.
      expect(r.lists).toBe(PAGES);
      console.log(`[parallel-list] aligned boundaries, concurrency ${concurrency}: ${r.stats.ranges} ranges (${r.stats.splits} splits), ${r.lists} LISTs (one stream: ${PAGES})`);
    }
  });

  it("thinned boundaries (every 8,000 keys) into ranges of unequal length: no split of the longer ones, still exactly ceil(N/1000) LISTs", async () => {
    const sampler = new BoundarySampler(8);
    for (const e of want) sampler.add(e.key);
    expect(sampler.keys.length).toBe(7);
    const r = await list(fast, { concurrency: 3, boundaries: sampler.keys, expectedKeys: want.length });
    expect(r.out).toEqual(want);
    // The last range holds 2 stored ends and the tail (21 pages), the others one end (8 pages).
    expect(r.stats.splits).toBe(0);
    expect(r.lists).toBe(PAGES);
  });

  it("older, not page-aligned boundaries (every 1000th key from the first) and keys added since: output identical, at most one LIST more per range", async () => {
    const old = want.filter((_, i) => i % 1000 === 0).map((e) => e.key);
    const r = await list(fast, { concurrency: 8, boundaries: old, expectedKeys: want.length });
    expect(r.stats.ranges).toBeGreaterThan(8);
    expect(r.out).toEqual(want);
    expect(r.lists).toBe(r.stats.pages + r.stats.discoveryRequests);
    expect(r.lists!).toBeLessThanOrEqual(PAGES + r.stats.ranges + r.stats.discoveryRequests);
    // Boundaries sampled before 100 keys were added in one place.
    const fewer = want.filter((e) => !e.key.startsWith("data/000010/obj-0000100"));
    const sampler = new BoundarySampler();
    for (const e of fewer) sampler.add(e.key);
    const g = await list(fast, { concurrency: 8, boundaries: sampler.keys, expectedKeys: fewer.length });
    expect(g.out).toEqual(want);
    expect(g.lists!).toBeGreaterThan(PAGES - 1);
    expect(g.lists!).toBeLessThanOrEqual(PAGES + g.stats.ranges);
    console.log(`[parallel-list] old boundaries: ${r.stats.ranges} ranges, ${r.lists} LISTs; after 100 added keys: ${g.lists} LISTs (one stream: ${PAGES})`);
  });

  it("a slow consumer: streams ahead hold back at memBytes of unparsed pages (plus a page per stream) instead of listing on; output identical", async () => {
    const PAGE_BYTES = 250_000; // a 1,000-key page of this bucket is about 200 KB
    for (const o of [{ boundaries, expectedKeys: want.length }, {}]) {
      const r = await list(fast, { concurrency: 8, memBytes: 2 * PAGE_BYTES, ...o }, true);
      expect(r.out).toEqual(want);
      expect(r.stats.maxHeldBytes).toBeGreaterThan(0);
      expect(r.stats.maxHeldBytes).toBeLessThanOrEqual(2 * PAGE_BYTES + 8 * PAGE_BYTES);
      // Without the hold-back the streams run ahead of a consumer this slow (3 ms per page).
      const free = await list(fast, { concurrency: 8, memBytes: 1e12, ...o }, true);
      expect(free.out).toEqual(want);
      expect(free.stats.maxHeldBytes).toBeGreaterThan(2 * PAGE_BYTES + 8 * PAGE_BYTES);
    }
  });

  it("pages parsed at once (not held unparsed: the SDK or Swift path, odd bodies) hold back at memEntries the same way", async () => {
    const r = await list(fast, { concurrency: 8, memEntries: 2000, boundaries, expectedKeys: want.length }, true, undefined, false);
    expect(r.out).toEqual(want);
    expect(r.stats.maxHeldBytes).toBe(0);
    expect(r.stats.maxBuffered).toBeGreaterThan(0);
    expect(r.stats.maxBuffered).toBeLessThanOrEqual(2000 + 8 * 1000);
  });

  it("spooled pages, unparsed or parsed, come back identical (tiny memory budgets, a starved consumer)", async () => {
    for (const direct of [true, false]) {
      const r = await list(proxy.endpoint, { concurrency: 8, memEntries: 1000, memBytes: 1, boundaries, expectedKeys: want.length }, false, undefined, direct);
      expect(r.out).toEqual(want);
      expect(r.stats.spooledPages).toBeGreaterThan(0);
    }
  });

  // The server (one process) spends about 10–15 ms of CPU per 1,000-key page, which bounds how much
  // of the 20 ms delay parallel ranges can hide: the in-flight count is the real assertion, the wall
  // time ratio (measured 1.9–3.6×, lower when the machine is busy) only a lenient one.
  it("a stream asks for its next page before the consumer is woken with the one that came: a busy consumer does not hold back the next LIST", async () => {
    await slow.resetCounts();
    const lister = new RangeLister(location(slow.endpoint), { concurrency: 1, accept: () => true, attempts: 3, spoolDir: work, label: "source synth/big/" });
    const got: number[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const b = await lister.next();
        expect(b).toHaveLength(1000);
        got.push(Date.now());
        // The merge busy with the page (parse, decide): the event loop is blocked meanwhile.
        const until = Date.now() + 300;
        while (Date.now() < until);
      }
    } finally {
      await lister.close();
    }
    // Each next LIST reached the server (another process) before the consumer was done with the
    // page before it: at most a little after it got the page, never the 300 ms of its work later.
    const arrivals = await slow.listArrivals();
    expect(arrivals.length).toBeGreaterThanOrEqual(4);
    for (let k = 0; k < 3; k++) expect(arrivals[k + 1] - got[k]).toBeLessThan(150);
  });

  it("a consumer that finds every page already here still lets the event loop in every few ms (LIST responses wait for that)", async () => {
    const lister = new RangeLister(location(fast.endpoint), { concurrency: 8, boundaries, expectedKeys: want.length, accept: () => true, attempts: 3, spoolDir: work, label: "source synth/big/", memBytes: 256 << 20, memEntries: 1 << 20 });
    const out: Entry[] = [];
    let ticks = 0;
    let ticking = true;
    try {
      for (const e of (await lister.next())!) out.push(e);
      // Every range listed and held (unparsed) before the loop below starts.
      while (lister.stats.pages < PAGES) await new Promise((r) => setTimeout(r, 20));
      const tick = () => {
        ticks++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      ticks = 0;
      const t0 = performance.now();
      for (let b = await lister.next(); b !== undefined; b = await lister.next()) for (const e of b) out.push(e);
      const ms = performance.now() - t0;
      ticking = false;
      expect(out).toEqual(want);
      // Taking ~60 held pages (parsing each) is a run of promise callbacks; without a yield no
      // macrotask would run until it ends.
      expect(ms).toBeGreaterThan(6);
      expect(ticks).toBeGreaterThanOrEqual(Math.min(3, Math.floor(ms / 4)));
    } finally {
      ticking = false;
      await lister.close();
    }
  });

  it("while the consumer waits for a page, pages held further ahead are parsed (within memEntries); output identical", async () => {
    for (const memEntries of [10_000, 2_500]) {
      const r = await list(slow, { concurrency: 8, boundaries, expectedKeys: want.length, memEntries });
      expect(r.out).toEqual(want);
      expect(r.stats.parsedAhead).toBeGreaterThan(0);
      expect(r.stats.maxBuffered).toBeLessThanOrEqual(memEntries);
      expect(r.lists).toBe(PAGES);
      console.log(`[parallel-list] memEntries ${memEntries}: ${r.stats.parsedAhead} of ${r.stats.pages} pages parsed ahead, at most ${r.stats.maxBuffered} entries held`);
    }
  });

  it("with 20 ms per LIST, ranges are listed at once: several LISTs in flight, and faster than one stream", async () => {
    proxy.reset();
    const one = await list(proxy.endpoint, { concurrency: 1, boundaries, expectedKeys: want.length });
    expect(proxy.maxInFlight()).toBe(1);
    proxy.reset();
    const par = await list(proxy.endpoint, { concurrency: 8, boundaries, expectedKeys: want.length });
    const inFlight = proxy.maxInFlight();
    expect(one.out).toEqual(want);
    expect(par.out).toEqual(want);
    console.log(`[parallel-list] 20 ms per LIST: one stream ${one.ms.toFixed(0)} ms, concurrency 8 ${par.ms.toFixed(0)} ms (${(one.ms / par.ms).toFixed(1)}×), up to ${inFlight} LISTs in flight`);
    expect(inFlight).toBeGreaterThanOrEqual(4);
    expect(inFlight).toBeLessThanOrEqual(8);
    expect(one.ms / par.ms).toBeGreaterThanOrEqual(1.3);
  });

  it("a location prefix with a non-BMP character (keys just outside it on both sides), and a filter: relative keys, identical in every mode", async () => {
    const accept = (rel: string) => !rel.endsWith("7");
    const inPrefix = formula(30_000, PREFIX, PRE_EXTRA)
      .filter((e) => e.key.startsWith(PREFIX) && e.key !== PREFIX)
      .map((e) => ({ ...e, key: e.key.slice(PREFIX.length) }))
      .filter((e) => accept(e.key));
    const bounds = inPrefix.filter((_, i) => i % 1000 === 0).map((e) => e.key);
    const modes: Partial<ListOptions>[] = [{ concurrency: 1 }, { concurrency: 8 }, { concurrency: 8, boundaries: bounds, expectedKeys: 30_000 }, { concurrency: 8, memEntries: 1500 }];
    for (const o of modes) {
      const r = await list(fast, { accept, ...o }, o.memEntries !== undefined, ["pre", PREFIX]);
      expect(r.out.length, JSON.stringify(o)).toBe(inPrefix.length);
      expect(r.out, JSON.stringify(o)).toEqual(inPrefix);
      if (o.concurrency === 8 && !o.memEntries) expect(r.stats.ranges).toBeGreaterThan(1);
    }
  });
});
