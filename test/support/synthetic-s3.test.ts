// The synthetic S3 endpoint (formula-computed buckets) against the AWS SDK, a brute-force model of
// S3's listing semantics, raw HTTP, rclone (when installed) and as a child process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import { GetObjectCommand, ListObjectsV2Command, S3Client, type _Object } from "@aws-sdk/client-s3";
import { compareUtf8, spawnSyntheticS3, startSyntheticS3, type SyntheticBucket, type SyntheticServer } from "./synthetic-s3.js";

const execFileAsync = promisify(execFile);
const md5 = (s: string): string => createHash("md5").update(s, "utf8").digest("hex");
const utf8Cache = new Map<string, Buffer>();
const bytes = (k: string): Buffer => {
  let b = utf8Cache.get(k);
  if (!b) utf8Cache.set(k, (b = Buffer.from(k, "utf8")));
  return b;
};
const byteOrder = (a: string, b: string): number => Buffer.compare(bytes(a), bytes(b));
const unquotePlus = (s: string): string => decodeURIComponent(s.replace(/\+/g, " "));
const xmlUnescape = (s: string): string =>
  s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" })[e]!);

/** The bucket's objects, computed independently of the server: key → version. */
function model(b: SyntheticBucket): Map<string, number> {
  const m = new Map<string, number>();
  const p6 = (n: number) => String(n).padStart(6, "0");
  const p9 = (n: number) => String(n).padStart(9, "0");
  for (let i = 0; i < b.keys; i++) {
    if (b.deleteEvery && i % b.deleteEvery === (b.deleteOffset ?? 0)) continue;
    m.set(`${b.prefix ?? ""}data/${p6(Math.floor(i / 1000))}/obj-${p9(i)}`, b.changeEvery && i % b.changeEvery === (b.changeOffset ?? 0) ? 1 : 0);
  }
  for (const k of b.extra ?? []) if (!m.has(k)) m.set(k, 0);
  return m;
}

type Item = { key: string } | { cp: string };
/** A complete listing as S3 defines it, by brute force over `keys` (sorted in byte order): keys under `prefix` after `startAfter`, in
 *  byte order, each rolled up to its common prefix (once, where its first key is) if the delimiter
 *  occurs after `prefix`. A page of max-keys m is the next m items. */
function reference(keys: string[], prefix: string, delimiter: string, startAfter?: string): Item[] {
  const out: Item[] = [];
  const seen = new Set<string>();
  for (const k of keys) {
    if (!k.startsWith(prefix) || (startAfter !== undefined && byteOrder(k, startAfter) <= 0)) continue;
    const at = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    if (at < 0) out.push({ key: k });
    else {
      const cp = k.slice(0, at + delimiter.length);
      if (!seen.has(cp)) out.push({ cp });
      seen.add(cp);
    }
  }
  return out;
}

interface ParsedPage {
  status: number;
  xml: string;
  keys: string[];
  items: Item[];
  contents: { key: string; etag: string; size: number; lastModified: string }[];
  truncated: boolean;
  next?: string;
  keyCount: number;
}
/** One raw ListObjectsV2 request, parsed (keys decoded per the encoding type). */
async function listRaw(endpoint: string, bucket: string, params: Record<string, string | number | undefined>): Promise<ParsedPage> {
  const q = new URLSearchParams({ "list-type": "2" });
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const r = await fetch(`${endpoint}/${encodeURIComponent(bucket)}?${q.toString().replace(/\+/g, "%20")}`);
  const xml = await r.text();
  const dec = params["encoding-type"] === "url" ? (s: string) => unquotePlus(xmlUnescape(s)) : xmlUnescape;
  const contents = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map((m) => ({
    key: dec(/<Key>([^<]*)<\/Key>/.exec(m[1])![1]),
    etag: xmlUnescape(/<ETag>([^<]*)<\/ETag>/.exec(m[1])![1]),
    size: Number(/<Size>(\d+)<\/Size>/.exec(m[1])![1]),
    lastModified: /<LastModified>([^<]*)<\/LastModified>/.exec(m[1])![1],
  }));
  const cps = [...xml.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((m) => dec(m[1]));
  return {
    status: r.status,
    xml,
    keys: contents.map((c) => c.key),
    // Contents then CommonPrefixes, as S3 sends them; merged back into listing order for comparison.
    items: [...contents.map((c) => ({ key: c.key })), ...cps.map((cp) => ({ cp }))].sort((a, b) =>
      byteOrder("key" in a ? a.key : a.cp, "key" in b ? b.key : b.cp),
    ),
    contents,
    truncated: /<IsTruncated>true<\/IsTruncated>/.test(xml),
    next: /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1],
    keyCount: Number(/<KeyCount>(\d+)<\/KeyCount>/.exec(xml)?.[1]),
  };
}

const AWKWARD = ["sp ace", "plus+sign", "per%cent", "amp&<>\"'", "tilde~star*", "😀 emoji", "\uFF21 fullwidth", "ctl\u0001char", "é/accent"];

const BIG: SyntheticBucket = {
  keys: 25_000,
  prefix: "p/",
  deleteEvery: 7,
  deleteOffset: 3,
  changeEvery: 5,
  changeOffset: 1,
  extra: [
    "p/data/000003/obj-000003500a", // between two formula keys
    "p/data/000000/obj-000000003", // a deleted formula key, present again as an extra
    "p/data/000024/obj-000024999", // = a live formula key: listed once
    "p/data/000010/",
    "p/\uFF21", // U+FF21 < U+1F600 in bytes, but not in JS (surrogates < 0xFF21)
    "p/😀",
    "a space",
    "amp&<>\"'",
    "plus+per%cent",
    "é",
  ],
};
const SMALL: SyntheticBucket = {
  keys: 1_200,
  deleteEvery: 4,
  extra: ["a/b/c", "a/d", "a//x", "top", "data/zzz", "data/000001/sub/deeper", "data/000001", "data0", "😀/x", "\uFF21/y", ...AWKWARD],
};

let s3: SyntheticServer;
let slow: SyntheticServer;
beforeAll(async () => {
  s3 = await startSyntheticS3({ buckets: { big: BIG, small: SMALL, shuffled: { keys: 3_000, unordered: true } } });
  slow = await startSyntheticS3({ buckets: { b: { keys: 10 } }, delayMs: 200 });
});
afterAll(async () => {
  await s3?.stop();
  await slow?.stop();
});

describe("synthetic S3", () => {
  it("compareUtf8 is Buffer.compare of the UTF-8 encodings", () => {
    const alphabet = ["a", "z", "/", "\u0001", "é", "\uE000", "\uFF21", "\uFFFD", "😀", "\u{10FFFF}", "𝄞"];
    let seed = 7;
    const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), (seed >>> 8) % n);
    for (let t = 0; t < 5000; t++) {
      const mk = () => Array.from({ length: rnd(4) }, () => alphabet[rnd(alphabet.length)]).join("");
      const [a, b] = [mk(), mk()];
      const want = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      if (Math.sign(compareUtf8(a, b)) !== want) expect(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: ${compareUtf8(a, b)}`).toBe(want);
    }
  });

  it("the AWS SDK paginates 25,000 keys in UTF-8 byte order with ETags and sizes of the GET bodies", async () => {
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "synthetic", secretAccessKey: "synthetic" },
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
    const listed: _Object[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await client.send(new ListObjectsV2Command({ Bucket: "big", ContinuationToken: token }));
      listed.push(...(r.Contents ?? []));
      token = r.NextContinuationToken;
      pages++;
    } while (token);
    const m = model(BIG);
    const expected = [...m.keys()].sort(byteOrder);
    expect(expected).not.toEqual([...expected].sort()); // the byte order matters for this key set
    expect(listed.map((o) => o.Key)).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 1000));
    for (const o of listed) {
      const body = `${o.Key}\n${m.get(o.Key!)}\n`;
      if (o.ETag !== `"${md5(body)}"` || o.Size !== Buffer.byteLength(body)) throw new Error(`wrong ETag/Size for ${o.Key}`);
    }
    // Versions and dates: i=1 is changed (version 1, +1 day), i=2 is not.
    expect(listed.find((o) => o.Key === "p/data/000000/obj-000000001")!.LastModified!.toISOString()).toBe("2023-11-15T22:13:21.000Z");
    expect(listed.find((o) => o.Key === "p/data/000000/obj-000000002")!.LastModified!.toISOString()).toBe("2023-11-14T22:13:22.000Z");
    const sample = [...BIG.extra!, "p/data/000000/obj-000000001", "p/data/000012/obj-000012345", "p/data/000024/obj-000024998"];
    for (const key of sample) {
      const o = listed.find((x) => x.Key === key)!;
      const r = await client.send(new GetObjectCommand({ Bucket: "big", Key: key }));
      const body = await r.Body!.transformToString("utf8");
      expect(body).toBe(`${key}\n${m.get(key)}\n`);
      expect(`"${md5(body)}"`).toBe(o.ETag);
      expect(r.ETag).toBe(o.ETag);
      expect(r.ContentLength).toBe(o.Size);
      expect(r.LastModified!.getTime()).toBe(o.LastModified!.getTime());
    }
    client.destroy();
  });

  it("prefix, delimiter, start-after and max-keys page exactly like S3 (brute-force model, encoding-type=url)", async () => {
    const keys = [...model(SMALL).keys()].sort(byteOrder);
    let combos = 0;
    for (const prefix of ["", "data/", "data/000001/obj-0000011", "a/", "d", "nomatch"])
      for (const delimiter of ["", "/", "obj-", "//", "1"])
        for (const startAfter of [undefined, "data/000001/obj-000001150", "zzz"])
          for (const maxKeys of [2, 50, 1000]) {
            const want = reference(keys, prefix, delimiter, startAfter);
            if (want.length > maxKeys * 10 || (maxKeys > want.length && maxKeys !== 1000)) continue; // ≤ 10 pages, no duplicate single pages
            const got: Item[] = [];
            let token: string | undefined;
            let page = 0;
            for (;;) {
              const p = await listRaw(s3.endpoint, "small", {
                prefix: prefix || undefined,
                delimiter: delimiter || undefined,
                "start-after": startAfter,
                "max-keys": maxKeys,
                "continuation-token": token,
                "encoding-type": "url",
              });
              const where = JSON.stringify({ prefix, delimiter, startAfter, maxKeys, page });
              expect(p.status, where).toBe(200);
              expect(p.items, where).toEqual(want.slice(page * maxKeys, (page + 1) * maxKeys));
              expect(p.keyCount, where).toBe(p.items.length);
              expect(p.truncated, where).toBe(want.length > (page + 1) * maxKeys);
              got.push(...p.items);
              page++;
              if (!p.truncated) break;
              token = p.next;
            }
            expect(got).toEqual(want);
            combos++;
          }
    expect(combos).toBeGreaterThan(100);
    // A large rolled-up prefix costs one page, not a walk over its keys.
    const one = await listRaw(s3.endpoint, "big", { delimiter: "/", "max-keys": 1 });
    expect(one.items).toEqual([{ key: "a space" }]);
    const two = await listRaw(s3.endpoint, "big", { delimiter: "/", "continuation-token": one.next });
    expect(two.items).toEqual([{ key: "amp&<>\"'" }, { cp: "p/" }, { key: "plus+per%cent" }, { key: "é" }]);
  });

  it("encoding-type=url round-trips awkward keys and encodes like AWS; without it, XML escapes and a control character is a 500", async () => {
    const p = await listRaw(s3.endpoint, "small", { "encoding-type": "url", prefix: "sp ace", delimiter: " ", "start-after": "a b" });
    expect(p.xml).toContain("<Prefix>sp+ace</Prefix>");
    expect(p.xml).toContain("<Delimiter>+</Delimiter>");
    expect(p.xml).toContain("<StartAfter>a+b</StartAfter>");
    expect(p.xml).toContain("<EncodingType>url</EncodingType>");
    const all = await listRaw(s3.endpoint, "small", { "encoding-type": "url", "start-after": "data0" });
    expect(all.keys).toEqual([...model(SMALL).keys()].filter((k) => byteOrder(k, "data0") > 0).sort(byteOrder));
    expect(all.xml).toContain("<Key>%C3%A9/accent</Key>");
    const rolled = await listRaw(s3.endpoint, "small", { "encoding-type": "url", delimiter: "/" });
    expect(rolled.truncated).toBe(false);
    for (const spelled of ["sp+ace", "plus%2Bsign", "per%25cent", "amp%26%3C%3E%22%27", "tilde%7Estar*", "%F0%9F%98%80+emoji", "ctl%01char"])
      expect(rolled.xml).toContain(`<Key>${spelled}</Key>`);
    expect(rolled.xml).toContain("<CommonPrefixes><Prefix>%C3%A9/</Prefix></CommonPrefixes>");

    const plain = await listRaw(s3.endpoint, "small", { prefix: "amp" });
    expect(plain.status).toBe(200);
    expect(plain.xml).toContain("<Key>amp&amp;&lt;&gt;&quot;&apos;</Key>");
    expect(plain.keys).toEqual(["amp&<>\"'"]);
    const bad = await listRaw(s3.endpoint, "small", { "start-after": "c" });
    expect(bad.status).toBe(500);
    expect(bad.xml).toContain("<Code>InternalError</Code>");
    // Only pages that hold the key fail.
    expect((await listRaw(s3.endpoint, "small", { "start-after": "cu" })).status).toBe(200);
    expect((await listRaw(s3.endpoint, "small", { "max-keys": 4 })).status).toBe(200); // a//x a/b/c a/d amp…
    expect((await listRaw(s3.endpoint, "small", { "max-keys": 5 })).status).toBe(500); // … ctl\u0001char
  });

  it("delayMs delays LIST responses only", async () => {
    let t = performance.now();
    const p = await listRaw(slow.endpoint, "b", {});
    const listMs = performance.now() - t;
    expect(p.keys).toHaveLength(10);
    t = performance.now();
    const r = await fetch(`${slow.endpoint}/b/data/000000/obj-000000004`);
    await r.text();
    const getMs = performance.now() - t;
    expect(r.status).toBe(200);
    expect(listMs).toBeGreaterThanOrEqual(195);
    expect(getMs).toBeLessThan(150);
  });

  it("cacheListBytes answers a repeated LIST with the same bytes, keeps at most that many bytes, and counts its hits", async () => {
    const cached = await startSyntheticS3({ buckets: { big: BIG }, cacheListBytes: 1 << 20 });
    const tiny = await startSyntheticS3({ buckets: { big: BIG }, cacheListBytes: 1000 });
    try {
      const first = await listRaw(s3.endpoint, "big", { "encoding-type": "url" });
      const second = await listRaw(s3.endpoint, "big", { "encoding-type": "url", "continuation-token": first.next });
      for (const srv of [cached, tiny]) {
        for (let k = 0; k < 3; k++) {
          expect((await listRaw(srv.endpoint, "big", { "encoding-type": "url" })).xml).toBe(first.xml);
          expect((await listRaw(srv.endpoint, "big", { "encoding-type": "url", "continuation-token": first.next })).xml).toBe(second.xml);
        }
      }
      expect(first.xml.length).toBeGreaterThan(1000);
      expect(await cached.counts()).toMatchObject({ LIST: 6, LIST_CACHED: 4 });
      // A page larger than the whole cache is never kept.
      expect(await tiny.counts()).toMatchObject({ LIST: 6, LIST_CACHED: 0 });
      await cached.resetCounts();
      expect(await cached.counts()).toMatchObject({ LIST: 0, LIST_CACHED: 0 });
      expect(await s3.counts()).not.toHaveProperty("LIST_CACHED");
    } finally {
      await cached.stop();
      await tiny.stop();
    }
  });

  it("unordered mode shuffles each page's Contents (deterministically), same keys per page", async () => {
    const sorted = [...model({ keys: 3_000 }).keys()];
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const p = await listRaw(s3.endpoint, "shuffled", { "continuation-token": token });
      const again = await listRaw(s3.endpoint, "shuffled", { "continuation-token": token });
      expect(again.keys).toEqual(p.keys);
      expect(p.keys).not.toEqual([...p.keys].sort(byteOrder));
      expect([...p.keys].sort(byteOrder)).toEqual(sorted.slice(seen.length, seen.length + 1000));
      seen.push(...p.keys);
      token = p.next;
    } while (token);
    expect(seen.length).toBe(3_000);
  });

  it("answers 404 for absent keys and buckets, 501 for everything else, and counts requests by kind", async () => {
    await s3.resetCounts();
    const req = async (method: string, path: string) => {
      const r = await fetch(`${s3.endpoint}${path}`, { method, body: method === "PUT" || method === "POST" ? "x" : undefined });
      return { status: r.status, text: await r.text(), etag: r.headers.get("etag"), length: r.headers.get("content-length"), type: r.headers.get("content-type") };
    };
    expect(await req("GET", "/small/data/000000/obj-000000004")).toMatchObject({ status: 404 });
    expect((await req("GET", "/small/data/000000/obj-000000004")).text).toContain("<Code>NoSuchKey</Code>"); // deleted
    expect((await req("GET", "/small/data/000099/obj-000099000")).text).toContain("<Code>NoSuchKey</Code>"); // beyond N
    expect((await req("GET", "/nope/data/000000/obj-000000001")).text).toContain("<Code>NoSuchBucket</Code>");
    expect((await req("GET", "/nope?list-type=2")).text).toContain("<Code>NoSuchBucket</Code>");
    expect(await req("HEAD", "/small/missing")).toMatchObject({ status: 404, text: "" });
    const body = "plus+per%cent\n0\n";
    expect(await req("HEAD", "/big/plus%2Bper%25cent")).toMatchObject({ status: 200, text: "", etag: `"${md5(body)}"`, length: String(body.length), type: "application/octet-stream" });
    expect(await req("GET", "/big/plus%2Bper%25cent")).toMatchObject({ status: 200, text: body });
    for (const [method, path] of [["PUT", "/small/k"], ["DELETE", "/small/k"], ["POST", "/small?delete"], ["GET", "/small?acl"], ["GET", "/small"], ["GET", "/"], ["HEAD", "/small"], ["GET", "/small/k?tagging"]]) {
      const r = await req(method, path);
      expect(r.status, `${method} ${path}`).toBe(501);
      if (method !== "HEAD") expect(r.text).toContain("<Code>NotImplemented</Code>");
    }
    expect(await s3.counts()).toEqual({ LIST: 1, GET: 5, HEAD: 2, OTHER: 8 });
  });

  const hasRclone = (() => {
    try {
      execFileSync("sh", ["-c", "command -v rclone"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasRclone && !process.env.CI)("rclone lsf --recursive lists the same keys, with and without encoding-type=url", async () => {
    if (!hasRclone) throw new Error("rclone is not installed (required when CI is set)");
    const plain: SyntheticBucket = { keys: 1_500, deleteEvery: 3, extra: ["sp ace", "plus+sign", "per%cent", "amp&<>", "😀 emoji", "\uFF21 wide", "d/e/f"] };
    // rclone shows control characters as U+2400… (its "Ctl" name encoding): map them back.
    const awkward: SyntheticBucket = { keys: 10, extra: ["a+b%c~d*e f", "ctl\u0001char", "😀/x", "amp&<>"] };
    const srv = await startSyntheticS3({ buckets: { plain, awkward } });
    try {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        RCLONE_CONFIG_SYN_TYPE: "s3",
        RCLONE_CONFIG_SYN_PROVIDER: "Other",
        RCLONE_CONFIG_SYN_ENDPOINT: srv.endpoint,
        RCLONE_CONFIG_SYN_ACCESS_KEY_ID: "synthetic",
        RCLONE_CONFIG_SYN_SECRET_ACCESS_KEY: "synthetic",
        RCLONE_CONFIG_SYN_FORCE_PATH_STYLE: "true",
        RCLONE_CONFIG_SYN_LIST_VERSION: "2",
      };
      delete env.AWS_CA_BUNDLE;
      // Asynchronously: the server answers from this process's event loop.
      const lsf = async (bucket: string, urlEncode: boolean): Promise<string[]> => {
        const { stdout } = await execFileAsync("rclone", ["lsf", "--recursive", "--files-only", `syn:${bucket}`], {
          env: { ...env, RCLONE_CONFIG_SYN_LIST_URL_ENCODE: String(urlEncode) },
          encoding: "utf8",
          timeout: 30_000,
        });
        return stdout
          .split("\n")
          .filter(Boolean)
          .map((k) => k.replace(/[\u2400-\u241F]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x2400)))
          .sort(byteOrder);
      };
      expect(await lsf("plain", false)).toEqual([...model(plain).keys()].sort(byteOrder));
      expect((await srv.counts()).LIST).toBe(2);
      expect(await lsf("awkward", true)).toEqual([...model(awkward).keys()].sort(byteOrder));
    } finally {
      await srv.stop();
    }
  });

  it("runs as a child process: announces its port, serves, reports and resets stats, stops on SIGTERM", async () => {
    const child = await spawnSyntheticS3({ buckets: { c: { keys: 1_500 } } });
    try {
      expect(child.pid).toBeGreaterThan(0);
      expect(child.pid).not.toBe(process.pid);
      expect(child.endpoint).toBe(`http://127.0.0.1:${child.port}`);
      const p = await listRaw(child.endpoint, "c", {});
      expect(p.keys).toHaveLength(1000);
      expect(p.truncated).toBe(true);
      const r = await fetch(`${child.endpoint}/c/data/000001/obj-000001499`, { method: "HEAD" });
      expect(r.status).toBe(200);
      expect(await child.counts()).toEqual({ LIST: 1, GET: 0, HEAD: 1, OTHER: 0 });
      await child.resetCounts();
      expect(await child.counts()).toEqual({ LIST: 0, GET: 0, HEAD: 0, OTHER: 0 });
    } finally {
      await child.stop();
    }
    expect(() => process.kill(child.pid, 0)).toThrow(/ESRCH/);
  });
});
