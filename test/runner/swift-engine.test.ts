// The runner's engine on `type: "swift"` endpoints (OpenStack Swift's native API,
// runner/store/swift-endpoint.ts), through the BUILT runner: copy Swift→S3 and S3→Swift, sync with
// deletes on the Swift side, bisync Swift↔S3 (changes on each side and a conflict), Swift→Swift
// (server-side X-Copy-From in one account, streamed between accounts), awkward keys. The S3 side
// is an s3rver site; the Swift side is the real Swift of test/support/swift.ts, checked natively
// (SwiftClient) and through its own S3 layer (s3api) too.
//
// Skipped (with the reason) on a machine without the Swift packages; under CI a missing Swift fails.
import { S3Client } from "@aws-sdk/client-s3";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SwiftClient } from "../../runner/store/swift.js";
import { startSwift, swiftUnavailable, type Swift, type SwiftAccount } from "../support/swift.js";
import { contents, del, endpointsOf, get, put, runRunner, sleep, startEnv, type Env } from "./harness.js";

const unavailable = swiftUnavailable();
const skip = !!unavailable && !process.env.CI;
if (skip) console.warn(`test/runner/swift-engine.test.ts skipped: ${unavailable}`);

let swift: Swift;
let env: Env;
let dir: string;
let sw: SwiftClient; // account a, native
let swB: SwiftClient; // account b, native
let S3A: S3Client; // account a, through Swift's s3api

const CONTAINERS_A = ["e-src", "e-dst", "e-sync", "e-bi", "e-copy", "e-slo", "e-slo_segments", "e-slo-dst", "e-slo-del", "e-slo-del_segments", "e-same"];
const CONTAINERS_B = ["e-b", "e-same"];
const AWKWARD = ["plain.txt", "with space/a b.txt", "unicodé/日本語 ファイル.txt", "plus+sign+.txt", "percent%41%2F.txt", "deep/er/x"];

const authOf = (a: SwiftAccount) => ({ authUrl: swift.nativeAuthUrl, user: `${a.account}:${a.user}`, key: a.secretAccessKey });

beforeAll(async () => {
  if (skip) return;
  expect(unavailable, `${unavailable}; CI must install it (.ci/run)`).toBeUndefined();
  swift = await startSwift();
  env = await startEnv({ s3: ["from-sw", "to-sw", "sync-src", "bi"] });
  dir = mkdtempSync(join(tmpdir(), "runner-swift-engine-"));
  sw = new SwiftClient({ auth: { version: 1, ...authOf(swift.accounts[0]) } });
  swB = new SwiftClient({ auth: { version: 1, ...authOf(swift.accounts[1]) } });
  for (const c of CONTAINERS_A) await sw.createContainer(c);
  for (const c of CONTAINERS_B) await swB.createContainer(c);
  const a = swift.accounts[0];
  S3A = new S3Client({
    endpoint: swift.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}, 150_000);

afterAll(async () => {
  sw?.destroy();
  swB?.destroy();
  S3A?.destroy();
  await env?.stop();
  await swift?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function config(jobs: unknown[]): string {
  const p = join(dir, `config-${++n}.json`);
  const endpoints = {
    ...endpointsOf(env),
    sw: { type: "swift", authVersion: 1, ...authOf(swift.accounts[0]) },
    sw2: { type: "swift", authVersion: 1, ...authOf(swift.accounts[0]) },
    swb: { type: "swift", authVersion: 1, ...authOf(swift.accounts[1]) },
  };
  writeFileSync(p, JSON.stringify({ endpoints, state: { dir: join(dir, `state-${n}`) }, transfers: 4, jobs }, null, 2));
  return p;
}

async function run(cfg: string, ...flags: string[]) {
  const r = await runRunner(["run", "--config", cfg, "--json", ...flags], { timeoutMs: 60_000 });
  return { ...r, s: r.summaries[0], all: r.stdout + r.stderr };
}

async function swPut(c: SwiftClient, container: string, key: string, body: string, o: Parameters<SwiftClient["put"]>[4] = {}): Promise<void> {
  const b = Buffer.from(body);
  await c.put(container, key, Readable.from([b]), b.length, o);
}

async function swText(c: SwiftClient, container: string, key: string): Promise<string> {
  const g = await c.get(container, key);
  const chunks: Buffer[] = [];
  for await (const x of g.body) chunks.push(x as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function swKeys(c: SwiftClient, container: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  for (;;) {
    const p = await c.listPage(container, { continuationToken: token });
    out.push(...p.objects.map((o) => o.key));
    if (!p.isTruncated) break;
    token = p.nextContinuationToken;
  }
  return out.sort();
}

async function swContents(c: SwiftClient, container: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of await swKeys(c, container)) out[k] = await swText(c, container, k);
  return out;
}

const MTIME = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

describe.skipIf(skip)("engine on native Swift endpoints", () => {
  it("copy Swift→S3: bytes, content type, user metadata, rclone mtime; a second run is a no-op", async () => {
    await swPut(sw, "e-src", "doc.txt", "hello from swift", { contentType: "text/x-swift; charset=utf-8", contentLanguage: "fr-CH", metadata: { owner: "alice" }, mtime: MTIME });
    for (const k of AWKWARD) await swPut(sw, "e-src", k, `body of ${k}`, { contentType: "text/plain" });
    const cfg = config([{ name: "sw2s3", mode: "copy", source: { endpoint: "sw", bucket: "e-src" }, targets: [{ endpoint: "s3", bucket: "from-sw" }] }]);
    const r1 = await run(cfg);
    expect(r1.code, r1.all).toBe(0);
    expect(r1.s).toMatchObject({ copied: AWKWARD.length + 1, errors: 0 });
    expect(await contents(env.clients.s3, "from-sw")).toEqual(await swContents(sw, "e-src"));
    const g = await get(env.clients.s3, "from-sw", "doc.txt");
    expect(g.ContentType).toBe("text/x-swift; charset=utf-8");
    expect(g.ContentLanguage).toBe("fr-CH");
    expect(g.Metadata?.owner).toBe("alice");
    expect(g.Metadata?.mtime).toBe("1704164645.678"); // the Swift object's rclone mtime, kept
    const h = await sw.head("e-src", "plain.txt");
    const p = await get(env.clients.s3, "from-sw", "plain.txt");
    // No mtime on the source: the source's modification time becomes rclone's mtime.
    expect(Math.abs(Number(p.Metadata?.mtime) * 1000 - h.lastModified)).toBeLessThanOrEqual(1000);
    const r2 = await run(cfg);
    expect(r2.code, r2.all).toBe(0);
    expect(r2.s).toMatchObject({ copied: 0, errors: 0 });
    expect(r2.s.requests.GET).toBe(0);
    expect(r2.s.requests.PUT).toBe(0);
    // check (listings only) agrees: in sync.
    const c = await runRunner(["check", "--config", cfg, "--json"]);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    expect(c.summaries[0]).toMatchObject({ inSync: true });
  });

  it("copy S3→Swift: bytes, content type, user metadata, rclone mtime, seen natively and through s3api; second run no-op", async () => {
    const s3 = env.clients.s3;
    await put(s3, "to-sw", "doc.txt", "hello from s3", { ContentType: "text/x-s3", CacheControl: "max-age=60", ContentLanguage: "de-CH", Expires: new Date("2030-01-02T03:04:05Z"), Metadata: { owner: "bob", note: "Ünïcode ok" } });
    for (const k of AWKWARD) await put(s3, "to-sw", k, `s3 body of ${k}`);
    await put(s3, "to-sw", "folder/", "");
    const cfg = config([{ name: "s32sw", mode: "copy", source: { endpoint: "s3", bucket: "to-sw" }, targets: [{ endpoint: "sw", bucket: "e-dst", prefix: "in/" }] }]);
    const r1 = await run(cfg);
    expect(r1.code, r1.all).toBe(0);
    expect(r1.s).toMatchObject({ copied: AWKWARD.length + 2, errors: 0 });
    expect(r1.lines.filter((l) => l.type === "copy").every((l) => l.method === "stream")).toBe(true);
    const src = await contents(s3, "to-sw");
    const dst = await swContents(sw, "e-dst");
    expect(dst).toEqual(Object.fromEntries(Object.entries(src).map(([k, v]) => [`in/${k}`, v])));
    const srcHead = await get(s3, "to-sw", "doc.txt");
    const h = await sw.head("e-dst", "in/doc.txt");
    expect(h.contentType).toBe("text/x-s3");
    expect(h.cacheControl).toBe("max-age=60");
    expect(h.contentLanguage).toBe("de-CH");
    expect(h.expires).toBe("Wed, 02 Jan 2030 03:04:05 GMT");
    expect(h.metadata.owner).toBe("bob");
    expect(h.metadata.note).toBe("Ünïcode ok");
    expect((await sw.head("e-dst", "in/folder/")).size).toBe(0);
    expect(h.mtime).toBe(srcHead.LastModified!.getTime());
    // The same objects through Swift's S3 layer.
    for (const k of ["doc.txt", ...AWKWARD]) expect((await get(S3A, "e-dst", `in/${k}`)).text).toBe(src[k]);
    const viaS3 = await get(S3A, "e-dst", "in/doc.txt");
    expect(viaS3.ContentType).toBe("text/x-s3");
    expect(viaS3.Metadata?.owner).toBe("bob");
    expect(Number(viaS3.Metadata?.mtime) * 1000).toBe(srcHead.LastModified!.getTime());
    const r2 = await run(cfg);
    expect(r2.code, r2.all).toBe(0);
    expect(r2.s).toMatchObject({ copied: 0, errors: 0 });
    expect(r2.s.requests.GET).toBe(0);
    expect(r2.s.requests.PUT).toBe(0);
  });

  it("sync S3→Swift deletes on the Swift side", async () => {
    const s3 = env.clients.s3;
    for (const k of ["keep.txt", "gone.txt", "with space/gone too.txt", "ü+%.txt", "a.txt", "b/c.txt"]) await put(s3, "sync-src", k, `v1 ${k}`);
    const cfg = config([{ name: "sync", mode: "sync", source: { endpoint: "s3", bucket: "sync-src" }, targets: [{ endpoint: "sw", bucket: "e-sync" }] }]);
    const r1 = await run(cfg);
    expect(r1.code, r1.all).toBe(0);
    expect(r1.s).toMatchObject({ copied: 6, deleted: 0, errors: 0 });
    await swPut(sw, "e-sync", "extra on target+%.txt", "extra");
    await del(s3, "sync-src", "with space/gone too.txt");
    await put(s3, "sync-src", "keep.txt", "v2 keep");
    const r2 = await run(cfg);
    expect(r2.code, r2.all).toBe(0);
    expect(r2.s).toMatchObject({ copied: 1, deleted: 2, errors: 0 });
    expect(await swContents(sw, "e-sync")).toEqual(await contents(s3, "sync-src"));
    expect(r2.s.requests.DELETE).toBe(2);
  });

  it("bisync Swift↔S3: first merge, a change on each side, a conflict; then a no-op", async () => {
    const s3 = env.clients.s3;
    await swPut(sw, "e-bi", "from-swift.txt", "sw 1");
    await swPut(sw, "e-bi", "unicodé/ファイル+1%.txt", "sw awkward");
    await swPut(sw, "e-bi", "both.txt", "same");
    await put(s3, "bi", "from-s3.txt", "s3 1");
    await put(s3, "bi", "both.txt", "same");
    await put(s3, "bi", "conflict.txt", "base");
    const cfg = config([{ name: "bi", mode: "bisync", source: { endpoint: "sw", bucket: "e-bi" }, targets: [{ endpoint: "s3", bucket: "bi" }] }]);
    const r1 = await run(cfg);
    expect(r1.code, r1.all).toBe(0);
    expect(r1.s).toMatchObject({ copied: 4, conflicts: 0, deleted: 0, errors: 0 });
    expect(await swContents(sw, "e-bi")).toEqual(await contents(s3, "bi"));

    await swPut(sw, "e-bi", "from-swift.txt", "sw 2"); // changed on Swift
    await put(s3, "bi", "from-s3.txt", "s3 2"); // changed on S3
    await swPut(sw, "e-bi", "conflict.txt", "swift edit (older)");
    await sleep(1100);
    await put(s3, "bi", "conflict.txt", "s3 edit (newer)");
    const r2 = await run(cfg);
    expect(r2.code, r2.all).toBe(0);
    expect(r2.s).toMatchObject({ conflicts: 1, errors: 0 });
    const a = await swContents(sw, "e-bi");
    const b = await contents(s3, "bi");
    expect(a).toEqual(b);
    expect(a["from-swift.txt"]).toBe("sw 2");
    expect(a["from-s3.txt"]).toBe("s3 2");
    expect(a["conflict.txt"]).toBe("s3 edit (newer)");
    const losers = Object.keys(a).filter((k) => k.startsWith("conflict.txt.conflict-"));
    expect(losers).toHaveLength(1);
    expect(a[losers[0]]).toBe("swift edit (older)");
    const r3 = await run(cfg);
    expect(r3.code, r3.all).toBe(0);
    expect(r3.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0, errors: 0 });
    expect(r3.s.requests.GET).toBe(0);
    expect(r3.s.requests.PUT).toBe(0);
  });

  it("an SLO source (ETag \"…-slo\", not an MD5) is streamed to S3 and to Swift; the next run is a no-op by the state's pairs", async () => {
    const small = new SwiftClient({ auth: { version: 1, ...authOf(swift.accounts[0]) }, largeObjectThreshold: 100 * 1024, segmentSize: 64 * 1024 });
    const big = Buffer.alloc(300 * 1024, 7);
    big.write("start");
    await small.put("e-slo", "big.bin", Readable.from([big]), big.length, { contentType: "application/x-big" });
    await small.put("e-slo-del", "extra big.bin", Readable.from([big]), big.length);
    small.destroy();
    const listed = (await sw.listPage("e-slo", {})).objects.find((o) => o.key === "big.bin")!;
    expect(listed.etag).toMatch(/-slo$/);
    const cfg = config([
      { name: "slo-s3", mode: "copy", source: { endpoint: "sw", bucket: "e-slo" }, targets: [{ endpoint: "s3", bucket: "from-sw", prefix: "slo/" }] },
      { name: "slo-sw", mode: "copy", source: { endpoint: "sw", bucket: "e-slo" }, targets: [{ endpoint: "sw2", bucket: "e-slo-dst", prefix: "slo/" }] },
    ]);
    const r1 = await run(cfg);
    expect(r1.code, r1.all).toBe(0);
    expect(r1.summaries.map((x) => x.copied)).toEqual([1, 1]);
    // Same account, but an SLO is not server-side copied (it would become one object): streamed.
    expect(r1.lines.filter((l) => l.type === "copy").every((l) => l.method === "stream")).toBe(true);
    expect((await get(env.clients.s3, "from-sw", "slo/big.bin")).body.equals(big)).toBe(true);
    expect((await sw.head("e-slo-dst", "slo/big.bin")).size).toBe(big.length);
    expect(await swText(sw, "e-slo-dst", "slo/big.bin")).toBe(big.toString("utf8"));
    const r2 = await run(cfg);
    expect(r2.code, r2.all).toBe(0);
    expect(r2.summaries.map((x) => [x.copied, x.requests.GET, x.requests.PUT])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    // sync deletes an extra SLO on a Swift target together with its segments.
    expect((await swKeys(sw, "e-slo-del_segments")).length).toBe(5);
    const r3 = await run(config([{ name: "slo-del", mode: "sync", source: { endpoint: "sw", bucket: "e-src" }, targets: [{ endpoint: "sw2", bucket: "e-slo-del" }] }]), "--force");
    expect(r3.code, r3.all).toBe(0);
    expect(r3.s).toMatchObject({ deleted: 1, errors: 0 });
    expect(await swKeys(sw, "e-slo-del")).toEqual(await swKeys(sw, "e-src"));
    expect(await swKeys(sw, "e-slo-del_segments")).toEqual([]);
  });

  it("Swift→Swift: server-side copy in one account, streamed to another account", async () => {
    const cfg = config([
      { name: "same", mode: "copy", source: { endpoint: "sw", bucket: "e-src" }, targets: [{ endpoint: "sw2", bucket: "e-copy" }] },
      { name: "other", mode: "copy", source: { endpoint: "sw", bucket: "e-src" }, targets: [{ endpoint: "swb", bucket: "e-b" }] },
    ]);
    const r = await run(cfg);
    expect(r.code, r.all).toBe(0);
    const [same, other] = r.summaries;
    expect(same).toMatchObject({ copied: AWKWARD.length + 1, errors: 0 });
    expect(other).toMatchObject({ copied: AWKWARD.length + 1, errors: 0 });
    const copies = r.lines.filter((l) => l.type === "copy");
    expect(copies.filter((l) => l.job === "same").every((l) => l.method === "copy")).toBe(true);
    expect(copies.filter((l) => l.job === "other").every((l) => l.method === "stream")).toBe(true);
    const src = await swContents(sw, "e-src");
    expect(await swContents(sw, "e-copy")).toEqual(src);
    expect(await swContents(swB, "e-b")).toEqual(src);
    expect((await sw.head("e-copy", "doc.txt")).mtime).toBe(MTIME);
    expect((await swB.head("e-b", "doc.txt")).metadata.owner).toBe("alice");
  });

  it("the same container name under two accounts on one auth URL: validates and runs (a container belongs to its account)", async () => {
    await swPut(sw, "e-same", "only-in-a.txt", "from account a");
    const cfg = config([{ name: "same-name", mode: "sync", source: { endpoint: "sw", bucket: "e-same" }, targets: [{ endpoint: "swb", bucket: "e-same" }] }]);
    const r = await run(cfg);
    expect(r.code, r.all).toBe(0);
    expect(r.s).toMatchObject({ copied: 1, deleted: 0, errors: 0 });
    expect(await swText(swB, "e-same", "only-in-a.txt")).toBe("from account a");
    // ...while the same name in one account is an overlap, refused before anything runs
    const bad = config([{ name: "overlap", mode: "sync", source: { endpoint: "sw", bucket: "e-same" }, targets: [{ endpoint: "sw2", bucket: "e-same" }] }]);
    const o = await run(bad);
    expect(o.code).toBe(2);
    expect(o.all).toMatch(/overlap/i);
  });
});
