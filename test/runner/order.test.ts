// UTF-8 byte order, everywhere: compareKeys against Buffer.compare; the Cursor's order check; the
// BUILT runner against a server that lists out of order (synthetic S3 in `unordered` mode: a
// read-only `check`, and a copy run to s3rver); and the migration of a state file written in the
// old order (UTF-16 code units, JS `<`) by earlier runners: sorted on disk, decided exactly as if in
// order, and rewritten in UTF-8 order.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareKeys, type StateRecord } from "../../runner/decide/types.js";
import { decodeState, encodeState } from "../../runner/state/codec.js";
import { arraySource, Cursor, OrderError } from "../../runner/stream/cursor.js";
import { seededRng } from "../support/proxy.js";
import { startSyntheticS3, type SyntheticServer } from "../support/synthetic-s3.js";
import { del, endpointsOf, get, keys, put, runRunner, startEnv, writeConfig, type Env } from "./harness.js";

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

describe("compareKeys is UTF-8 byte order", () => {
  it("agrees with Buffer.compare of the UTF-8 encodings on 20,000 random pairs of well-formed strings", () => {
    const rng = seededRng(0xc0de);
    // Code points from every UTF-8 length and around the surrogate range (never a lone surrogate).
    const ranges: [number, number][] = [
      [0x00, 0x1f],
      [0x20, 0x7f],
      [0x80, 0x7ff],
      [0x800, 0xd7ff],
      [0xd7f0, 0xd7ff],
      [0xe000, 0xe00f],
      [0xe000, 0xffff],
      [0xfff0, 0xffff],
      [0x10000, 0x1000f],
      [0x1f600, 0x1f64f],
      [0x10fff0, 0x10ffff],
    ];
    const cp = () => {
      const [lo, hi] = ranges[Math.floor(rng() * ranges.length)];
      return String.fromCodePoint(lo + Math.floor(rng() * (hi - lo + 1)));
    };
    const str = (n: number) => Array.from({ length: n }, cp).join("");
    let jsDisagrees = 0;
    for (let i = 0; i < 20_000; i++) {
      // Often a shared prefix, so the first difference is anywhere.
      const common = rng() < 0.5 ? str(Math.floor(rng() * 4)) : "";
      const a = common + str(Math.floor(rng() * 4));
      const b = rng() < 0.05 ? a : common + str(Math.floor(rng() * 4));
      const want = Math.sign(utf8Order(a, b));
      expect(Math.sign(compareKeys(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(want);
      expect(Math.sign(compareKeys(b, a))).toBe(0 - want);
      if (Math.sign(a < b ? -1 : a > b ? 1 : 0) !== want) jsDisagrees++;
    }
    // The pairs include many where JS `<` (UTF-16 code units) gives the other answer.
    expect(jsDisagrees).toBeGreaterThan(200);
  });
});

describe("Cursor order check", () => {
  const entries = (ks: string[]) => ks.map((key) => ({ key }));
  async function drain(ks: string[], size: number): Promise<string[]> {
    const c = new Cursor(arraySource(entries(ks), size), "source test/b/");
    const out: string[] = [];
    for (;;) {
      await c.fill();
      if (c.head === undefined) return out;
      out.push(c.take().key);
    }
  }
  it("passes a stream in UTF-8 order (where UTF-16 order differs), across batch boundaries", async () => {
    const ks = ["a", "a\ue000", "a\uffff", "a😀", "a\u{10ffff}", "b"];
    expect([...ks].sort()).not.toEqual(ks);
    for (const size of [1, 2, 3, 100]) expect(await drain(ks, size)).toEqual(ks);
  });
  it("throws OrderError on a decreasing key, within a batch and across a batch boundary", async () => {
    for (const size of [1, 2, 10]) {
      const e = await drain(["a", "a😀", "a\ue000", "b"], size).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OrderError);
      expect(e).toMatchObject({ source: "source test/b/", previous: "a😀", key: "a\ue000" });
      expect((e as Error).message).toMatch(/source test\/b\/ is not in UTF-8 byte order/);
    }
  });
  it("throws OrderError on a repeated key", async () => {
    for (const size of [1, 2, 10]) {
      const e = await drain(["a", "b", "b", "c"], size).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(OrderError);
      expect(e).toMatchObject({ previous: "b", key: "b" });
    }
  });
});

// ----------------------------------------------------------------------------- out-of-order listings

const N = 3000;
const SRC_EXTRA = ["x/é", "x/\ue000", "x/😀", "x/only-source"];
const TGT_EXTRA = ["x/é", "x/\ue000", "x/😀", "x/only-target", "y/\u{10000}"];
const CHANGE = 7;
const DELETE = 11;

function formulaKey(i: number): string {
  const b = String(Math.floor(i / 1000)).padStart(6, "0");
  return `data/${b}/obj-${b}${String(i % 1000).padStart(3, "0")}`;
}

let synth: SyntheticServer;
let env: Env;
beforeAll(async () => {
  synth = await startSyntheticS3({
    buckets: {
      // The source lists every page shuffled; the target in order, with changed and missing keys.
      src: { keys: N, extra: SRC_EXTRA, unordered: true },
      tgt: { keys: N, extra: TGT_EXTRA, changeEvery: CHANGE, changeOffset: 3, deleteEvery: DELETE, deleteOffset: 5 },
      small: { keys: 300, extra: ["x/é", "x/😀", "x/\ue000", "x/sp ace"], unordered: true },
    },
  });
  env = await startEnv({ a: ["dst", "bi"], b: ["bi"] });
});
afterAll(async () => {
  await synth?.stop();
  await env?.stop();
});

function synthConfig(jobs: object[], extra: Record<string, unknown> = {}): string {
  return writeConfig(env, {
    endpoints: { ...endpointsOf(env), synth: { endpoint: synth.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "AKIDSYNTH", secretAccessKey: "synthetic-secret" } } },
    state: { dir: join(env.dir, "state-order") },
    listConcurrency: 8,
    jobs,
    ...extra,
  });
}

const warnings = (r: { lines: Record<string, unknown>[] }) => r.lines.filter((l) => l.type === "log" && l.level === "warn").map((l) => String(l.message));

describe("a server that lists out of order (built runner)", () => {
  it("check between an unordered and an ordered bucket: warns and sorts on disk; missing/different/extra are exactly the formula's", async () => {
    const cfg = synthConfig([{ name: "unordered-check", mode: "sync", source: { endpoint: "synth", bucket: "src" }, targets: [{ endpoint: "synth", bucket: "tgt" }] }]);
    const r = await runRunner(["check", "--config", cfg, "--json"]);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(1);
    const w = warnings(r);
    expect(w.some((m) => /source synth\/src\/ is not in UTF-8 byte order/.test(m) && /sorting it on disk/.test(m)), w.join("\n")).toBe(true);

    // From the formula: a key missing on the target is deleted there (a deleted key is missing
    // whether or not it was changed); one changed on the target (only) is different.
    const missing: string[] = [];
    const different: string[] = [];
    for (let i = 0; i < N; i++) {
      if (i % DELETE === 5) missing.push(formulaKey(i));
      else if (i % CHANGE === 3) different.push(formulaKey(i));
    }
    missing.push("x/only-source");
    const extra = ["x/only-target", "y/\u{10000}"];
    for (const xs of [missing, different, extra]) xs.sort(utf8Order);

    const s = r.summaries[0];
    expect(s).toMatchObject({ inSync: false, errors: 0, source: { objects: N + SRC_EXTRA.length } });
    expect(s.targets[0]).toMatchObject({
      objects: N - Math.ceil((N - 5) / DELETE) + TGT_EXTRA.length,
      missing: missing.length,
      different: different.length,
      extra: extra.length,
      missingKeys: missing.slice(0, 20),
      differentKeys: different.slice(0, 20),
      extraKeys: extra,
    });
    // Every differing key as an event, in UTF-8 order.
    const ev = (type: string) => r.lines.filter((l) => l.type === type).map((l) => String(l.key));
    expect(ev("missing")).toEqual(missing);
    expect(ev("different")).toEqual(different);
    expect(ev("extra")).toEqual(extra);
  });

  it("copy run from an unordered synthetic source to s3rver: every key arrives with the right bytes; a second run copies nothing", async () => {
    const cfg = synthConfig([{ name: "unordered-copy", mode: "copy", source: { endpoint: "synth", bucket: "small" }, targets: [{ endpoint: "a", bucket: "dst" }] }]);
    const want = [...Array.from({ length: 300 }, (_, i) => formulaKey(i)), "x/é", "x/😀", "x/\ue000", "x/sp ace"];
    const r = await runRunner(["run", "--config", cfg, "--json"], { timeoutMs: 90_000 });
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    expect(warnings(r).some((m) => /source synth\/small\/ is not in UTF-8 byte order/.test(m))).toBe(true);
    expect(r.summaries[0]).toMatchObject({ copied: want.length, errors: 0, stateWritten: true });
    expect(await keys(env.clients.a, "dst")).toEqual([...want].sort());
    for (const k of want) expect((await get(env.clients.a, "dst", k)).text, k).toBe(`${k}\n0\n`);
    const again = await runRunner(["run", "--config", cfg, "--json"]);
    expect(again.code, again.stdout.slice(-2000)).toBe(0);
    expect(again.summaries[0]).toMatchObject({ copied: 0, unchanged: want.length });
    // The state remembers the unordered listing: the next run sorts it from the start, no warning.
    expect(warnings(again)).toEqual([]);
  });
});

// ----------------------------------------------------------------------------- old-order state

describe("a state file in the old order (UTF-16 code units), bisync", () => {
  // Keys on both sides of the surrogate boundary: JS `<` puts a non-BMP key (lead surrogate
  // 0xD800–0xDBFF) before one with U+E000–U+FFFD, UTF-8 after it.
  const CANDIDATES = ["m/a", "m/\ue000", "m/\uf8ff", "m/\ufb01", "m/\uff21", "m/😀", "m/𝄞", "m/\u{10000}", "m/\u{10ffff}", "m/😀/\ue000", "m/😀/\u{1f600}", "m/\uff21/x", "m/z"];

  it("is sorted on disk with a warning, decided exactly as if in order, and rewritten in UTF-8 order", async () => {
    const { a: A, b: B } = env.clients;
    for (const k of CANDIDATES) {
      await put(A, "bi", k, `v0 ${k}`);
      await put(B, "bi", k, `v0 ${k}`);
    }
    // Only keys s3rver stores and lists back verbatim (see test/badinput/key-fuzz.test.ts).
    const onA = await keys(A, "bi");
    const ks = CANDIDATES.filter((k) => onA.includes(k));
    expect(ks.length).toBeGreaterThanOrEqual(10);
    const old = [...ks].sort(); // JS `<`: what earlier runners wrote
    expect(old).not.toEqual([...ks].sort(utf8Order));

    const job = { name: "old-order", mode: "bisync", source: { endpoint: "a", bucket: "bi" }, targets: [{ endpoint: "b", bucket: "bi" }] };
    const stateDir = join(env.dir, "state-old-order");
    mkdirSync(stateDir, { recursive: true });
    const records: StateRecord[] = old.map((k) => {
      const body = `v0 ${k}`;
      return { key: k, aSize: Buffer.byteLength(body), aEtag: md5(body), aMtime: 1_700_000_000_000, bSize: Buffer.byteLength(body), bEtag: md5(body), bMtime: 1_700_000_000_000 };
    });
    const statePath = join(stateDir, "old-order.state.gz");
    writeFileSync(statePath, encodeState({ meta: { job: "old-order", mode: "bisync", source: "a/bi/", written: "2025-01-01T00:00:00.000Z" }, sections: [{ target: "b/bi/", records }] }));
    expect(readFileSync(statePath).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));

    // Since that run: a non-BMP key deleted on the target (unchanged on the source: delete it there),
    // a U+FF21 key changed on the source (copy it to the target). Were the out-of-order records lost
    // or the state ignored (first run), the deleted key would be copied back instead.
    const gone = ks.includes("m/😀") ? "m/😀" : ks.find((k) => /[\ud800-\udbff]/.test(k))!;
    const changed = ks.includes("m/\uff21") ? "m/\uff21" : ks.find((k) => /[\ue000-\uffff]/.test(k))!;
    await del(B, "bi", gone);
    await put(A, "bi", changed, "v1 changed");

    const cfg = writeConfig(env, { endpoints: endpointsOf(env), state: { dir: stateDir }, jobs: [job] });
    const r = await runRunner(["run", "--config", cfg, "--json"]);
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const w = warnings(r);
    console.log(`[order] old-order state of ${ks.length} keys (${CANDIDATES.length - ks.length} not storable on s3rver); warnings:\n  ${w.join("\n  ")}`);
    expect(w.some((m) => /state is not in UTF-8 byte order/.test(m) && /sorting it on disk/.test(m)), w.join("\n")).toBe(true);
    expect(r.summaries[0]).toMatchObject({ copied: 1, deleted: 1, conflicts: 0, unchanged: ks.length - 2, errors: 0, stateWritten: true });
    expect(r.lines.filter((l) => l.type === "delete").map((l) => l.key)).toEqual([gone]);
    expect(r.lines.filter((l) => l.type === "copy").map((l) => l.key)).toEqual([changed]);
    expect((await get(B, "bi", changed)).text).toBe("v1 changed");
    expect(await keys(A, "bi")).toEqual(ks.filter((k) => k !== gone).sort());

    // The state was rewritten in UTF-8 order, with every surviving key.
    const next = decodeState(readFileSync(statePath));
    const got = next.sections[0].records.map((x) => x.key);
    expect(got).toEqual(ks.filter((k) => k !== gone).sort(utf8Order));
    for (let i = 1; i < got.length; i++) expect(utf8Order(got[i - 1], got[i])).toBe(-1);

    // The next run reads it in order: no warning about the state, a no-op.
    const again = await runRunner(["run", "--config", cfg, "--json"]);
    expect(again.code).toBe(0);
    expect(warnings(again).filter((m) => /^job old-order: state /.test(m))).toEqual([]);
    expect(again.summaries[0]).toMatchObject({ copied: 0, deleted: 0, conflicts: 0, unchanged: ks.length - 1 });
  });
});
