// The native Swift access layer (runner/store/swift.ts, swift-auth.ts) against a real one-node
// OpenStack Swift 2.30 (test/support/swift.ts: tempauth, so auth v1 is real). Keystone v3 is NOT
// real here: a fake Keystone below checks the request body and answers a realistic token document
// whose catalog points at the real Swift storage URL with a real tempauth token, so the v3 path is
// exercised end to end against real Swift after authentication.
//
// Skipped (with the reason) on a machine without the Swift packages; under CI a missing Swift fails.
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAuthError, isRetryable, withRetry } from "../../runner/store/s3.js";
import { keystoneTokensUrl, storageUrlFromCatalog } from "../../runner/store/swift-auth.js";
import { metaText, parseMtimeMeta, parseSwiftListTime, SwiftClient, swiftObjectPath, type SwiftListPage, type SwiftListedObject } from "../../runner/store/swift.js";
import type { ListParams } from "../../runner/store/list.js";
import { startSwift, swiftUnavailable, type Swift } from "../support/swift.js";
import { findLeaks } from "../support/leak-check.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runRunner } from "./harness.js";

const KiB = 1024;
const unavailable = swiftUnavailable();
const skip = !!unavailable && !process.env.CI;
if (skip) console.warn(`test/runner/swift-native.test.ts skipped: ${unavailable}`);

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");
const utf8Cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

async function bytesOf(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A body streamed in small chunks (so segment cuts fall inside chunks). */
function streamOf(b: Buffer, chunk = 64 * KiB + 7): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < b.length; i += chunk) yield b.subarray(i, i + chunk);
    })(),
    { objectMode: false },
  );
}

let swift: Swift;
let sw: SwiftClient;

// ---------------------------------------------------------------- fake Keystone

const KS = { user: "kuser", password: "TopSecretValue123", userDomain: "Default", project: "kproject", projectDomain: "Default", appId: "app-cred-1", appSecret: "TopSecretValue123" };

interface FakeKeystone {
  url: string;
  requests: unknown[];
  /** Tokens to hand out before the real one (e.g. an already expired one). */
  queue: string[];
  close(): Promise<void>;
}

async function fakeKeystone(real: () => Promise<{ token: string; storageUrl: string }>): Promise<FakeKeystone> {
  const requests: unknown[] = [];
  const queue: string[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== "POST" || req.url !== "/identity/v3/auth/tokens") {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    requests.push(body);
    const id = body?.auth?.identity;
    const okPassword =
      id?.methods?.[0] === "password" &&
      id.password?.user?.name === KS.user &&
      id.password.user.domain?.name === KS.userDomain &&
      id.password.user.password === KS.password &&
      body.auth.scope?.project?.name === KS.project &&
      body.auth.scope.project.domain?.name === KS.projectDomain;
    const okApp = id?.methods?.[0] === "application_credential" && id.application_credential?.id === KS.appId && id.application_credential.secret === KS.appSecret;
    if (!okPassword && !okApp) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: 401, message: "The request you have made requires authentication.", title: "Unauthorized" } }));
      return;
    }
    const t = await real();
    const token = queue.shift() ?? t.token;
    const port = new URL(t.storageUrl).port;
    // The shape of a Keystone v3 token response (api-ref: identity/v3, "Password authentication with scoped authorization").
    const doc = {
      token: {
        methods: [id.methods[0]],
        user: { domain: { id: "default", name: "Default" }, id: "ee4dfb6e5540447cb3741905149d9b6e", name: KS.user, password_expires_at: null },
        audit_ids: ["3T2dc1CGQxyJsHdDu1xkcw"],
        expires_at: new Date(Date.now() + 3600_000).toISOString().replace("Z", "000Z"),
        issued_at: new Date().toISOString().replace("Z", "000Z"),
        project: { domain: { id: "default", name: "Default" }, id: "a6944d763bf64ee6a275f1263fae0352", name: KS.project },
        is_domain: false,
        roles: [{ id: "51cc68287d524c759f47c811e6463340", name: "member" }],
        catalog: [
          {
            endpoints: [{ id: "1", interface: "public", region_id: "RegionOne", url: "http://127.0.0.1:5000/identity", region: "RegionOne" }],
            id: "k1",
            type: "identity",
            name: "keystone",
          },
          {
            endpoints: [
              { id: "2", interface: "public", region_id: "RegionOne", url: t.storageUrl, region: "RegionOne" },
              // Same region, other interfaces; another region: must not be picked.
              { id: "3", interface: "internal", region_id: "RegionOne", url: `http://127.0.0.2:${port}/v1/AUTH_internal`, region: "RegionOne" },
              { id: "4", interface: "admin", region_id: "RegionOne", url: `http://127.0.0.2:${port}/v1`, region: "RegionOne" },
              { id: "5", interface: "public", region_id: "RegionTwo", url: `http://127.0.0.3:${port}/v1/AUTH_other`, region: "RegionTwo" },
            ],
            id: "s1",
            type: "object-store",
            name: "swift",
          },
        ],
      },
    };
    res.writeHead(201, { "content-type": "application/json", "x-subject-token": token, "x-openstack-request-id": "req-fake" }).end(JSON.stringify(doc));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/identity`,
    requests,
    queue,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

let ks: FakeKeystone;

beforeAll(async () => {
  if (skip) return;
  expect(unavailable, `${unavailable}; CI must install it (.ci/run)`).toBeUndefined();
  swift = await startSwift();
  console.log(`swift started in ${swift.startupMs} ms at ${swift.endpoint}`);
  const a = swift.accounts[0];
  sw = new SwiftClient({ auth: { version: 1, authUrl: swift.nativeAuthUrl, user: `${a.account}:${a.user}`, key: a.secretAccessKey }, largeObjectThreshold: 1024 * KiB, segmentSize: 300 * KiB });
  ks = await fakeKeystone(() => swift.nativeAuth(a));
  for (const c of ["auth", "list", "names", "rt", "slo", "xs3"]) await sw.createContainer(c);
}, 150_000);

afterAll(async () => {
  sw?.destroy();
  await ks?.close();
  await swift?.stop();
});

async function listAll(c: SwiftClient, container: string, params: ListParams): Promise<{ objects: SwiftListedObject[]; prefixes: string[]; pages: number }> {
  const objects: SwiftListedObject[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  let pages = 0;
  for (;;) {
    const p: SwiftListPage = await c.listPage(container, { ...params, continuationToken: token });
    pages++;
    objects.push(...p.objects);
    prefixes.push(...p.commonPrefixes);
    if (!p.isTruncated) break;
    token = p.nextContinuationToken;
    expect(token).toBeDefined();
  }
  return { objects, prefixes, pages };
}

describe.skipIf(skip)("native Swift: auth", () => {
  it("v1: token and storage URL from the auth URL, cached", async () => {
    const t = await sw.auth.token();
    const ref = await swift.nativeAuth(swift.accounts[0]);
    expect(t.storageUrl).toBe(ref.storageUrl);
    expect(t.token).toMatch(/^AUTH_tk/);
    const n = sw.auth.authentications;
    await sw.listPage("auth", {});
    await sw.listPage("auth", {});
    expect(sw.auth.authentications).toBe(n);
  });

  it("v1: an invalid cached token (expired) → one transparent re-authentication", async () => {
    const c = new SwiftClient({ auth: sw.auth.config });
    try {
      await c.put("auth", "k", streamOf(Buffer.from("x")), 1);
      const before = c.auth.authentications;
      const t = await c.auth.token();
      c.auth.useToken({ token: "AUTH_tk00000000000000000000000000000000", storageUrl: t.storageUrl, expiresAt: Infinity });
      // A streamed PUT (Expect: 100-continue: the 401 comes before the body is sent, so it is resent).
      const body = Buffer.from("after re-auth");
      await c.put("auth", "k2", streamOf(body), body.length);
      expect(c.auth.authentications).toBe(before + 1);
      c.auth.useToken({ token: "AUTH_tk00000000000000000000000000000001", storageUrl: t.storageUrl, expiresAt: Infinity });
      expect((await bytesOf((await c.get("auth", "k2")).body)).toString()).toBe("after re-auth");
      expect(c.auth.authentications).toBe(before + 2);
    } finally {
      c.destroy();
    }
  });

  it("v1: a wrong key is an auth error naming the credentials, not the key", async () => {
    const a = swift.accounts[0];
    const c = new SwiftClient({ auth: { version: 1, authUrl: swift.nativeAuthUrl, user: `${a.account}:${a.user}`, key: "WrongSecretValue42" } });
    try {
      const e = await c.listPage("auth", {}).catch((x) => x);
      expect(e).toBeInstanceOf(Error);
      expect(isAuthError(e)).toBe(true);
      expect(isRetryable(e)).toBe(false);
      expect(e.$metadata.httpStatusCode).toBe(401);
      expect(e.message).toContain("user/key");
      expect(e.message).toContain("test:tester");
      expect(e.message).not.toContain("WrongSecretValue42");
      // withRetry does not retry it.
      let calls = 0;
      await expect(withRetry(() => (calls++, c.listPage("auth", {})), 5)).rejects.toThrow(/refused/);
      expect(calls).toBe(1);
    } finally {
      c.destroy();
    }
  });

  it("v3 (fake Keystone, real Swift): password auth scoped to a project; catalog object-store public in the region", async () => {
    const c = new SwiftClient({ auth: { version: 3, authUrl: ks.url, username: KS.user, password: KS.password, userDomainName: "Default", projectName: KS.project, projectDomainName: "Default", region: "RegionOne" } });
    try {
      const n = ks.requests.length;
      await c.put("auth", "v3", streamOf(Buffer.from("via keystone")), 12);
      expect((await bytesOf((await c.get("auth", "v3")).body)).toString()).toBe("via keystone");
      expect(ks.requests.length).toBe(n + 1);
      expect(ks.requests[n]).toEqual({
        auth: {
          identity: { methods: ["password"], password: { user: { name: KS.user, domain: { name: "Default" }, password: KS.password } } },
          scope: { project: { name: KS.project, domain: { name: "Default" } } },
        },
      });
      expect((await c.auth.token()).storageUrl).toBe((await sw.auth.token()).storageUrl);
      expect((await c.auth.token()).expiresAt).toBeGreaterThan(Date.now() + 3000_000);
    } finally {
      c.destroy();
    }
  });

  it("v3: application credential; an expired token from Keystone → 401 from Swift → re-authentication", async () => {
    const c = new SwiftClient({ auth: { version: 3, authUrl: `${ks.url}/v3`, applicationCredentialId: KS.appId, applicationCredentialSecret: KS.appSecret, region: "RegionOne" } });
    try {
      ks.queue.push("AUTH_tk0000000000000000000000000000dead");
      const n = ks.requests.length;
      const page = await c.listPage("auth", { prefix: "v3" });
      expect(page.objects.map((o) => o.key)).toEqual(["v3"]);
      expect(ks.requests.length).toBe(n + 2);
      expect(ks.requests[n]).toEqual({ auth: { identity: { methods: ["application_credential"], application_credential: { id: KS.appId, secret: KS.appSecret } } } });
    } finally {
      c.destroy();
    }
  });

  it("v3: a wrong password is an auth error; a missing region with two regions is a clear error", async () => {
    const bad = new SwiftClient({ auth: { version: 3, authUrl: ks.url, username: KS.user, password: "WrongSecretValue42", projectName: KS.project } });
    const noRegion = new SwiftClient({ auth: { version: 3, authUrl: ks.url, username: KS.user, password: KS.password, projectName: KS.project } });
    try {
      const e = await bad.listPage("auth", {}).catch((x) => x);
      expect(isAuthError(e)).toBe(true);
      expect(e.message).toMatch(/username\/password/);
      expect(e.message).not.toContain("WrongSecretValue42");
      const r = await noRegion.listPage("auth", {}).catch((x) => x);
      expect(r.message).toMatch(/several object-store endpoints .*set region/);
    } finally {
      bad.destroy();
      noRegion.destroy();
    }
  });
});

describe.skipIf(skip)("native Swift: wrong credentials through the built runner", () => {
  // Source: the endpoint with wrong credentials; target: a good one (nothing may be written there).
  async function runWith(bad: Record<string, unknown>) {
    const a = swift.accounts[0];
    const dir = mkdtempSync(join(tmpdir(), "swift-creds-"));
    try {
      const p = join(dir, "config.json");
      const good = { type: "swift", authVersion: 1, authUrl: swift.nativeAuthUrl, user: `${a.account}:${a.user}`, key: a.secretAccessKey };
      writeFileSync(p, JSON.stringify({ endpoints: { bad, good }, state: { dir: join(dir, "state") }, jobs: [{ name: "creds", mode: "sync", source: { endpoint: "bad", bucket: "auth" }, targets: [{ endpoint: "good", bucket: "creds-dst" }] }] }));
      for (const json of [[], ["--json"]]) {
        const r = await runRunner(["run", "--config", p, ...json]);
        const all = r.stdout + r.stderr;
        expect(r.code, all).toBe(1);
        expect(all).toContain("endpoints.bad.credentials");
        expect(findLeaks(all)).toEqual([]);
        expect(all).not.toContain("WrongSecretValue42");
        if (json.length) expect(r.summaries[0]).toMatchObject({ ok: false, copied: 0, deleted: 0 });
        else return all;
      }
      return "";
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("v1 wrong key: exit 1, the message names endpoints.bad.credentials and user/key, no secret printed", async () => {
    await sw.createContainer("creds-dst");
    const a = swift.accounts[0];
    const all = await runWith({ type: "swift", authVersion: 1, authUrl: swift.nativeAuthUrl, user: `${a.account}:${a.user}`, key: "WrongSecretValue42" });
    expect(all).toMatch(/refused user "test:tester".*check the endpoint's user\/key credentials.*check endpoints\.bad\.credentials/);
    expect((await sw.listPage("creds-dst", {})).objects).toEqual([]);
  });

  it("Keystone v3 wrong password (fake Keystone in front of real Swift): exit 1 naming endpoints.bad.credentials and username/password, no secret printed", async () => {
    const all = await runWith({ type: "swift", authVersion: 3, authUrl: ks.url, username: KS.user, password: "WrongSecretValue42", projectName: KS.project, region: "RegionOne" });
    expect(all).toMatch(/swift auth v3 .* refused user "kuser".*username\/password.*check endpoints\.bad\.credentials/);
    expect(all).not.toContain(KS.password);
    expect((await sw.listPage("creds-dst", {})).objects).toEqual([]);
  });
});

describe.skipIf(skip)("native Swift: listing", () => {
  const keys = [
    ...Array.from({ length: 9 }, (_, i) => `a/${i}`),
    "a/sub/x",
    "a/sub/y",
    "b",
    "b/1",
    "c/d/e",
    "top",
    "é",
    "z",
    "\u{1F600}",
    "\uFF21",
    "a-",
    "a0",
  ];

  beforeAll(async () => {
    if (skip) return;
    for (const k of keys) await sw.put("list", k, streamOf(Buffer.from(k)), Buffer.byteLength(k));
  });

  it("every key in UTF-8 byte order across pages of 4 (continuation = marker)", async () => {
    const r = await listAll(sw, "list", { maxKeys: 4 });
    expect(r.pages).toBe(Math.ceil(keys.length / 4) + (keys.length % 4 === 0 ? 1 : 0));
    expect(r.objects.map((o) => o.key)).toEqual([...keys].sort(utf8Cmp));
    for (const o of r.objects) {
      expect(o.size).toBe(Buffer.byteLength(o.key));
      expect(o.etag).toBe(md5(o.key));
      expect(o.largeObject).toBeUndefined();
      expect(Math.abs(o.mtime - Date.now())).toBeLessThan(120_000);
    }
  });

  it("prefix + delimiter: subdirs as commonPrefixes, across page boundaries", async () => {
    for (const maxKeys of [1, 2, 3, 10_000]) {
      const r = await listAll(sw, "list", { delimiter: "/", maxKeys });
      expect(r.prefixes).toEqual(["a/", "b/", "c/"]);
      expect(r.objects.map((o) => o.key)).toEqual(["a-", "a0", "b", "top", "z", "é", "\uFF21", "\u{1F600}"]);
      const s = await listAll(sw, "list", { prefix: "a/", delimiter: "/", maxKeys });
      expect(s.prefixes).toEqual(["a/sub/"]);
      expect(s.objects.map((o) => o.key)).toEqual(Array.from({ length: 9 }, (_, i) => `a/${i}`));
    }
  });

  it("startAfter is the first marker; maxKeys pages; a missing container is NoSuchBucket", async () => {
    const r = await listAll(sw, "list", { startAfter: "b/1", maxKeys: 2 });
    expect(r.objects.map((o) => o.key)).toEqual([...keys].sort(utf8Cmp).filter((k) => utf8Cmp(k, "b/1") > 0));
    const e = await sw.listPage("no-such-container", {}).catch((x) => x);
    expect(e.name).toBe("NoSuchBucket");
    expect(e.$metadata.httpStatusCode).toBe(404);
  });

  it("last_modified (UTC, microseconds) parsing", () => {
    expect(parseSwiftListTime("2026-12-03T14:00:18.910820")).toBe(Date.UTC(2026, 11, 3, 14, 0, 18, 910));
    expect(parseSwiftListTime("2026-12-03T14:00:18")).toBe(Date.UTC(2026, 11, 3, 14, 0, 18));
    expect(parseMtimeMeta("1700000000.123456789")).toBe(1700000000123);
    expect(parseMtimeMeta("1700000000")).toBe(1700000000000);
    expect(parseMtimeMeta("x")).toBeUndefined();
  });
});

// Not here: names with "." or ".." segments ("a/b/../c"): PUT/GET/HEAD/DELETE work, but Swift 2.30
// answers 404 to a server-side copy from such a name (X-Copy-From is normalized), see swift.ts.
const AWKWARD = ["with space", "caf\u00e9/na\u00efve", "\u{1F600} emoji", "plus+sign", "100%25 percent %", "what?query", "hash#frag", "semi;colon&amp=x", "trailing/", "double//slash"];

describe.skipIf(skip)("native Swift: objects", () => {
  it("awkward names: PUT, HEAD, GET, list, copy, delete", async () => {
    for (const k of AWKWARD) {
      const body = Buffer.from(`body of ${k}`);
      const r = await sw.put("names", k, streamOf(body), body.length, { md5: md5(body) });
      expect(r.etag).toBe(md5(body));
      expect((await sw.head("names", k)).size).toBe(body.length);
      expect(await bytesOf((await sw.get("names", k)).body)).toEqual(body);
      expect(await sw.copy("names", k, "names", `copy/${k}`)).toBe(md5(body));
    }
    const listed = await listAll(sw, "names", { maxKeys: 3 });
    expect(listed.objects.map((o) => o.key)).toEqual([...AWKWARD, ...AWKWARD.map((k) => `copy/${k}`)].sort(utf8Cmp));
    for (const k of AWKWARD) {
      expect(await sw.delete("names", k)).toBe(true);
      expect(await sw.delete("names", `copy/${k}`)).toBe(true);
    }
    expect((await sw.listPage("names", {})).objects).toEqual([]);
    expect(swiftObjectPath("c", "a b/?#%+")).toBe("/c/a%20b/%3F%23%25%2B");
  });

  it("bytes, headers and metadata round trip (rclone's X-Object-Meta-Mtime)", async () => {
    const body = randomBytes(200 * KiB + 3);
    const mtime = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    await sw.put("rt", "obj", streamOf(body), body.length, {
      md5: md5(body),
      contentType: "application/x-test",
      contentDisposition: 'attachment; filename="r\u00e9sum\u00e9.txt"',
      contentEncoding: "identity",
      metadata: { color: "blue", "Mixed-Case": "Value", utf8: "gr\u00fc\u00df \u{1F600}" },
      mtime,
    });
    const g = await sw.get("rt", "obj");
    expect(await bytesOf(g.body)).toEqual(body);
    expect(g.size).toBe(body.length);
    expect(g.etag).toBe(md5(body));
    expect(g.contentType).toBe("application/x-test");
    expect(g.contentDisposition).toBe('attachment; filename="r\u00e9sum\u00e9.txt"');
    expect(g.contentEncoding).toBe("identity");
    expect(g.metadata).toEqual({ color: "blue", "mixed-case": "Value", utf8: "gr\u00fc\u00df \u{1F600}", mtime: "1704164645.678" });
    expect(g.mtime).toBe(mtime);
    expect(g.largeObject).toBeUndefined();
    expect(Math.abs(g.lastModified - Date.now())).toBeLessThan(120_000);
    const h = await sw.head("rt", "obj");
    const { body: _b, ...rest } = g;
    expect(h).toEqual(rest);
  });

  it("non-ASCII metadata: read back natively as sent (undoing Swift 2.30's extra UTF-8 layer: metaText)", async () => {
    await sw.put("rt", "utf8meta", streamOf(Buffer.from("x")), 1, { metadata: { u: "gr\u00fc\u00df \u{1F600}", v: "Zo\u00eb \u65e5\u672c" } });
    expect((await sw.head("rt", "utf8meta")).metadata).toEqual({ u: "gr\u00fc\u00df \u{1F600}", v: "Zo\u00eb \u65e5\u672c" });
    expect(metaText("ascii")).toBe("ascii");
  });

  it("a body whose MD5 is not the given one: the request is failed before its last chunk (BodyGuard), nothing stored", async () => {
    const body = Buffer.from("actual bytes");
    const e = await sw.put("rt", "bad-md5", streamOf(body), body.length, { md5: md5("other bytes") }).catch((x) => x);
    expect(e.name).toBe("TruncatedBody");
    expect(e.message).toMatch(/MD5/);
    expect(await sw.head("rt", "bad-md5").catch((x) => x.name)).toBe("NotFound");
  });

  it("a body shorter than its Content-Length never becomes an object", async () => {
    const e = await sw.put("rt", "short", streamOf(Buffer.from("12345")), 10).catch((x) => x);
    expect(e).toBeInstanceOf(Error);
    expect(await sw.head("rt", "short").catch((x) => x.name)).toBe("NotFound");
  });

  it("server-side copy keeps metadata and adds new; delete of a missing object is fine", async () => {
    const etag = await sw.copy("rt", "obj", "xs3", "copied", { metadata: { extra: "1" }, mtime: Date.UTC(2020, 0, 1) });
    const h = await sw.head("xs3", "copied");
    expect(h.etag).toBe(etag);
    expect(h.metadata).toMatchObject({ color: "blue", extra: "1", mtime: "1577836800.000" });
    expect(await sw.delete("xs3", "copied")).toBe(true);
    expect(await sw.delete("xs3", "copied")).toBe(false);
    const e = await sw.get("xs3", "copied").catch((x) => x);
    expect(e.name).toBe("NoSuchKey");
    expect(isRetryable(e)).toBe(false);
    const c = await sw.copy("xs3", "nope", "xs3", "nope2").catch((x) => x);
    expect(c.$metadata.httpStatusCode).toBe(404);
  });
});

describe.skipIf(skip)("native Swift: static large objects", () => {
  it("a PUT above the threshold is an SLO of streamed segments; listed hash semantics; GET; delete removes the segments", async () => {
    await sw.createContainer(sw.segmentContainer("slo"));
    const body = randomBytes(1024 * KiB + 12345); // threshold 1 MiB, segments of 300 KiB → 4 segments
    const r = await sw.put("slo", "big file", streamOf(body), body.length, { md5: md5(body), metadata: { k: "v" }, mtime: 1_700_000_000_000 });
    expect(r.segments).toBe(4);
    expect(r.largeObject).toBe("slo");
    // The segments: in slo_segments, each a plain object; the SLO ETag is the MD5 of their ETags concatenated.
    const segs = await listAll(sw, "slo_segments", {});
    expect(segs.objects.map((o) => o.size)).toEqual([300 * KiB, 300 * KiB, 300 * KiB, body.length - 900 * KiB]);
    const sloEtag = md5(segs.objects.map((o) => o.etag).join(""));
    expect(r.etag).toBe(`${sloEtag}-slo`);
    for (const [i, o] of segs.objects.entries()) expect(o.etag).toBe(md5(body.subarray(i * 300 * KiB, (i + 1) * 300 * KiB)));
    const listed = (await sw.listPage("slo", {})).objects.find((o) => o.key === "big file")!;
    expect(listed).toMatchObject({ size: body.length, etag: `${sloEtag}-slo`, largeObject: "slo" });
    expect(listed.etag).not.toBe(md5(body)); // not a content MD5
    const h = await sw.head("slo", "big file");
    expect(h).toMatchObject({ size: body.length, etag: `${sloEtag}-slo`, largeObject: "slo", mtime: 1_700_000_000_000, metadata: { k: "v", mtime: "1700000000.000" } });
    expect(await bytesOf((await sw.get("slo", "big file")).body)).toEqual(body);
    // A wrong whole-body MD5: the manifest is not written and the segments are removed.
    const e = await sw.put("slo", "bad", streamOf(body), body.length, { md5: md5("x") }).catch((x) => x);
    expect(e.name).toBe("BadDigest");
    expect((await listAll(sw, "slo_segments", {})).objects.length).toBe(4);
    expect(await sw.head("slo", "bad").catch((x) => x.name)).toBe("NotFound");
    // Delete with multipart-manifest=delete: manifest and segments.
    expect(await sw.delete("slo", "big file", { largeObject: "slo" })).toBe(true);
    expect((await listAll(sw, "slo_segments", {})).objects).toEqual([]);
    expect(await sw.head("slo", "big file").catch((x) => x.name)).toBe("NotFound");
  });

  it("a DLO is only recognisable on HEAD (listing: the manifest's own size and hash)", async () => {
    await sw.put("slo", "dlo-seg/1", streamOf(Buffer.from("aaa")), 3);
    await sw.put("slo", "dlo-seg/2", streamOf(Buffer.from("bb")), 2);
    const t = await sw.auth.token();
    const res = await fetch(`${t.storageUrl}/slo/dlo`, { method: "PUT", headers: { "X-Auth-Token": t.token, "X-Object-Manifest": "slo/dlo-seg/" }, body: "" });
    expect(res.status).toBe(201);
    const listed = (await sw.listPage("slo", { prefix: "dlo" })).objects.find((o) => o.key === "dlo")!;
    expect(listed).toMatchObject({ size: 0, etag: md5("") });
    expect(listed.largeObject).toBeUndefined();
    const h = await sw.head("slo", "dlo");
    expect(h).toMatchObject({ size: 5, etag: `${md5(md5("aaa") + md5("bb"))}-dlo`, largeObject: "dlo" });
    expect((await bytesOf((await sw.get("slo", "dlo")).body)).toString()).toBe("aaabb");
  });
});

describe.skipIf(skip)("native Swift: seen through other clients", () => {
  const objs = [
    { key: "plain.txt", body: Buffer.from("hello from the native API"), metadata: { color: "blue", owner: "ops" } as Record<string, string>, mtime: Date.UTC(2023, 4, 6, 7, 8, 9, 123) },
    { key: "dir/with space & +plus", body: randomBytes(70 * KiB), metadata: { n: "2" }, mtime: Date.UTC(2021, 1, 2, 3, 4, 5, 0) },
    { key: "caf\u00e9 \u{1F600}", body: Buffer.from("unicode"), metadata: {} as Record<string, string>, mtime: Date.UTC(2022, 5, 6, 7, 8, 9, 500) },
  ];

  beforeAll(async () => {
    if (skip) return;
    for (const o of objs) await sw.put("xs3", o.key, streamOf(o.body), o.body.length, { md5: md5(o.body), metadata: o.metadata, mtime: o.mtime, contentType: "text/x-native" });
  });

  it("Swift's S3 API: same bytes, ETags and x-amz-meta-* (incl. mtime)", async () => {
    const a = swift.accounts[0];
    const s3 = new S3Client({ endpoint: swift.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey }, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });
    try {
      const list = await s3.send(new ListObjectsV2Command({ Bucket: "xs3" }));
      const byKey = new Map((list.Contents ?? []).map((c) => [c.Key!, c]));
      for (const o of objs) {
        const l = byKey.get(o.key)!;
        expect(l, o.key).toBeDefined();
        expect(l.Size).toBe(o.body.length);
        expect(l.ETag).toBe(`"${md5(o.body)}"`);
        const g = await s3.send(new GetObjectCommand({ Bucket: "xs3", Key: o.key }));
        expect(Buffer.from(await g.Body!.transformToByteArray())).toEqual(o.body);
        expect(g.Metadata).toEqual({ ...o.metadata, mtime: (o.mtime / 1000).toFixed(3) });
        expect(g.ContentType).toBe("text/x-native");
        const h = await s3.send(new HeadObjectCommand({ Bucket: "xs3", Key: o.key }));
        expect(h.ETag).toBe(`"${md5(o.body)}"`);
      }
    } finally {
      s3.destroy();
    }
  });

  const rclone = spawnSync("sh", ["-c", "command -v rclone"]).status === 0;
  it.skipIf(!rclone)("rclone's swift backend (lsjson): same names, sizes, MD5s, and X-Object-Meta-Mtime as ModTime", async () => {
    const a = swift.accounts[0];
    const env: NodeJS.ProcessEnv = { ...process.env, RCLONE_CONFIG_SW_TYPE: "swift", RCLONE_CONFIG_SW_USER: `${a.account}:${a.user}`, RCLONE_CONFIG_SW_KEY: a.secretAccessKey, RCLONE_CONFIG_SW_AUTH: swift.nativeAuthUrl };
    delete env.AWS_CA_BUNDLE;
    const r = spawnSync("rclone", ["lsjson", "--recursive", "--files-only", "--hash", "--config", "/dev/null", "sw:xs3"], { env, encoding: "utf8", timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const items = JSON.parse(r.stdout) as { Path: string; Size: number; ModTime: string; Hashes?: { md5?: string } }[];
    const byPath = new Map(items.map((i) => [i.Path, i]));
    for (const o of objs) {
      const i = byPath.get(o.key)!;
      expect(i, `${o.key} in ${r.stdout}`).toBeDefined();
      expect(i.Size).toBe(o.body.length);
      expect(i.Hashes?.md5).toBe(md5(o.body));
      expect(Date.parse(i.ModTime)).toBe(o.mtime);
    }
  });
});

describe("Keystone v3 catalog and URL handling (fixtures only, no server)", () => {
  const doc = (eps: unknown[]) => ({ token: { catalog: [{ type: "identity", endpoints: [{ interface: "public", url: "http://k" }] }, { type: "object-store", endpoints: eps }] } });
  it("picks the public endpoint of the region; names the regions when there is none or several", () => {
    const eps = [
      { interface: "public", region_id: "R1", region: "R1", url: "https://s1/v1/AUTH_p/" },
      { interface: "internal", region_id: "R1", region: "R1", url: "https://i1/v1/AUTH_p" },
      { interface: "public", region_id: "R2", region: "R2", url: "https://s2/v1/AUTH_p" },
    ];
    expect(storageUrlFromCatalog(doc(eps), "public", "R1", "u")).toBe("https://s1/v1/AUTH_p");
    expect(storageUrlFromCatalog(doc(eps), "internal", "R1", "u")).toBe("https://i1/v1/AUTH_p");
    expect(storageUrlFromCatalog(doc(eps.slice(0, 2)), "public", undefined, "u")).toBe("https://s1/v1/AUTH_p");
    expect(() => storageUrlFromCatalog(doc(eps), "public", undefined, "u")).toThrow(/several .* set region/);
    expect(() => storageUrlFromCatalog(doc(eps), "public", "R3", "u")).toThrow(/in region "R3".*R1, R2/);
    expect(() => storageUrlFromCatalog(doc([]), "public", "R1", "u")).toThrow(/no object-store/);
    expect(() => storageUrlFromCatalog({ token: {} }, "public", "R1", "u")).toThrow(/no service catalog/);
  });
  it("the tokens URL with or without /v3", () => {
    expect(keystoneTokensUrl("https://k:5000").href).toBe("https://k:5000/v3/auth/tokens");
    expect(keystoneTokensUrl("https://k/identity/").href).toBe("https://k/identity/v3/auth/tokens");
    expect(keystoneTokensUrl("https://k/identity/v3/").href).toBe("https://k/identity/v3/auth/tokens");
  });
});
