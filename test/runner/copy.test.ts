// copy mode against two real s3rver processes, through the built dist/runner.mjs.
import { createHash } from "node:crypto";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contents, endpointsOf, get, keys, put, runRunner, startEnv, writeConfig, type Env } from "./harness.js";

let env: Env;
beforeAll(async () => {
  env = await startEnv({ london: ["src", "src2", "many"], zurich: ["dst", "dst2", "fan1", "viasdk", "many"], paris: ["fan2"] });
});
afterAll(async () => {
  await env?.stop();
});

const seg = "s".repeat(200);
const LONG_KEY = [seg, seg, seg, seg, "e".repeat(1024 - 4 * 201)].join("/");
const WEIRD = ["with space.txt", "plus+sign.txt", "per%25cent%.txt", "ünïcødé/日本語/😀.txt", "folder/", "deep/a/b/c.txt", LONG_KEY];

describe("copy", () => {
  it("copies bytes, headers and user metadata, writes rclone mtime/md5chksum, and converges", async () => {
    const c = env.clients;
    await put(c.london, "src", "doc.html", "<h1>hi</h1>", {
      ContentType: "text/html; charset=utf-8",
      CacheControl: "max-age=60",
      ContentDisposition: 'attachment; filename="doc.html"',
      ContentEncoding: "identity",
      ContentLanguage: "fr-CH",
      Metadata: { owner: "alice", "x-note": "Ünïcode ok" },
    });
    for (const k of WEIRD) await put(c.london, "src", k, k.endsWith("/") ? "" : `body of ${k}`);
    await put(c.zurich, "dst", "target-only.txt", "keep me");
    const cfgPath = writeConfig(env, {
      endpoints: endpointsOf(env),
      state: { dir: `${env.dir}/state1` },
      transfers: 4,
      jobs: [{ name: "c1", mode: "copy", source: { endpoint: "london", bucket: "src" }, targets: [{ endpoint: "zurich", bucket: "dst" }] }],
    });
    const r1 = await runRunner(["run", "--config", cfgPath, "--json"]);
    expect(r1.code, r1.stderr + r1.stdout).toBe(0);
    expect(r1.stderr).toBe("");
    const s1 = r1.summaries[0];
    expect(s1).toMatchObject({ job: "c1", copied: WEIRD.length + 1, deleted: 0, errors: 0, ok: true, stateWritten: true });
    expect(s1.requests.HEAD).toBe(0);
    expect(s1.requests.GET).toBe(WEIRD.length + 1);
    expect(s1.requests.PUT).toBe(WEIRD.length + 1);

    const src = await contents(c.london, "src");
    const dst = await contents(c.zurich, "dst");
    expect(dst).toEqual({ ...src, "target-only.txt": "keep me" });

    const g = await get(c.zurich, "dst", "doc.html");
    expect(g.ContentType).toBe("text/html; charset=utf-8");
    expect(g.CacheControl).toBe("max-age=60");
    expect(g.ContentDisposition).toBe('attachment; filename="doc.html"');
    expect(g.ContentEncoding).toBe("identity");
    expect(g.ContentLanguage).toBe("fr-CH");
    expect(g.Metadata?.owner).toBe("alice");
    const srcObj = await get(c.london, "src", "doc.html");
    // Non-ASCII metadata (the source serves the raw UTF-8 bytes) is sent RFC 2047-encoded: raw bytes
    // would be signed as something else than what goes on the wire (403 on servers that check
    // signatures, which s3rver does not; see test/runner/swift.test.ts).
    expect(Buffer.from(srcObj.Metadata!["x-note"], "latin1").toString("utf8")).toBe("Ünïcode ok");
    expect(g.Metadata?.["x-note"]).toBe(`=?UTF-8?B?${Buffer.from("Ünïcode ok").toString("base64")}?=`);
    expect(g.Metadata?.md5chksum).toBe(createHash("md5").update("<h1>hi</h1>").digest("base64"));
    expect(Number(g.Metadata?.mtime)).toBeCloseTo(srcObj.LastModified!.getTime() / 1000, 0);

    // Second run: nothing to do, no GET/PUT/HEAD.
    const r2 = await runRunner(["run", "--config", cfgPath, "--json"]);
    expect(r2.code).toBe(0);
    expect(r2.summaries[0]).toMatchObject({ copied: 0, deleted: 0, unchanged: WEIRD.length + 1 });
    expect(r2.summaries[0].requests).toMatchObject({ GET: 0, PUT: 0, HEAD: 0, COPY: 0, DELETE: 0 });
    expect(r2.summaries[0].requests.LIST).toBe(2);

    // A changed source object is copied again; the target-only key is never touched.
    await put(c.london, "src", "with space.txt", "changed!");
    const r3 = await runRunner(["run", "--config", cfgPath, "--json"]);
    expect(r3.summaries[0]).toMatchObject({ copied: 1, deleted: 0 });
    expect((await get(c.zurich, "dst", "with space.txt")).text).toBe("changed!");
    expect((await get(c.zurich, "dst", "target-only.txt")).text).toBe("keep me");

    // check: in sync (copy ignores target-only keys).
    const ck = await runRunner(["check", "--config", cfgPath, "--json"]);
    expect(ck.code).toBe(0);
    expect(ck.summaries[0]).toMatchObject({ type: "summary", job: "c1", inSync: true, source: { objects: WEIRD.length + 1 } });
    expect(ck.summaries[0].targets[0]).toMatchObject({ objects: WEIRD.length + 2, missing: 0, different: 0, extra: 1 });
  });

  it("directHttp: false sends GET and PUT through the SDK, with the same bytes, headers and metadata as the direct path", async () => {
    // Runs after the test above: `src` holds doc.html and the awkward keys, `dst` the direct path's copies.
    const c = env.clients;
    await put(c.london, "src", "expires.txt", "with Expires", { Expires: new Date("2031-05-06T07:08:09Z"), ContentType: "text/plain" });
    const job = (name: string, bucket: string) => ({ name, mode: "copy", source: { endpoint: "london", bucket: "src" }, targets: [{ endpoint: "zurich", bucket }] });
    const direct = await runRunner(["run", "--config", writeConfig(env, { endpoints: endpointsOf(env), state: { dir: `${env.dir}/state-direct` }, jobs: [job("direct", "dst")] }), "--json"]);
    expect(direct.code, direct.stderr).toBe(0);
    const sdk = await runRunner(["run", "--config", writeConfig(env, { endpoints: endpointsOf(env), state: { dir: `${env.dir}/state-sdk` }, directHttp: false, jobs: [job("sdk", "viasdk")] }), "--json"]);
    expect(sdk.code, sdk.stderr).toBe(0);
    expect(sdk.summaries[0].requests).toMatchObject({ HEAD: 0, GET: sdk.summaries[0].copied, PUT: sdk.summaries[0].copied });
    const src = await contents(c.london, "src");
    expect(await contents(c.zurich, "viasdk")).toEqual(src);
    for (const k of Object.keys(src)) {
      const a = await get(c.zurich, "dst", k);
      const b = await get(c.zurich, "viasdk", k);
      for (const h of ["ContentType", "CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage", "ContentLength", "ETag"] as const) expect([k, h, b[h]]).toEqual([k, h, a[h]]);
      expect([k, b.Expires?.toISOString()]).toEqual([k, a.Expires?.toISOString()]);
      expect([k, b.Metadata]).toEqual([k, a.Metadata]);
    }
    expect((await get(c.zurich, "dst", "expires.txt")).Expires?.toISOString()).toBe("2031-05-06T07:08:09.000Z");
  });

  it("maps prefixes, applies include/exclude, and fans out from one listing", async () => {
    const c = env.clients;
    for (const k of ["a/keep.jpg", "a/skip.tmp", "a/sub/x.jpg", "a/sub/y.txt", "b/outside.jpg"]) await put(c.london, "src2", k, `v-${k}`);
    const cfgPath = writeConfig(env, {
      endpoints: endpointsOf(env),
      state: { dir: `${env.dir}/state2` },
      jobs: [
        {
          name: "fan",
          mode: "copy",
          source: { endpoint: "london", bucket: "src2", prefix: "a/" },
          targets: [
            { endpoint: "zurich", bucket: "fan1", prefix: "x/" },
            { endpoint: "paris", bucket: "fan2", prefix: "" },
          ],
          include: ["**/*.jpg", "**/*.txt"],
          exclude: ["sub/y.*"],
        },
      ],
    });
    const r = await runRunner(["run", "--config", cfgPath, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summaries[0]).toMatchObject({ copied: 4, errors: 0 });
    expect(r.summaries[0].requests.LIST).toBe(3);
    expect(await contents(c.zurich, "fan1")).toEqual({ "x/keep.jpg": "v-a/keep.jpg", "x/sub/x.jpg": "v-a/sub/x.jpg" });
    expect(await contents(c.paris, "fan2")).toEqual({ "keep.jpg": "v-a/keep.jpg", "sub/x.jpg": "v-a/sub/x.jpg" });
    const again = await runRunner(["run", "--config", cfgPath, "--json"]);
    expect(again.summaries[0]).toMatchObject({ copied: 0 });
  });

  it("uses server-side CopyObject on the same endpoint (no GET/PUT)", async () => {
    const c = env.clients;
    for (let i = 0; i < 5; i++) await put(c.zurich, "dst", `same/${i}.txt`, `n${i}`, { ContentType: "text/x-test" });
    const cfgPath = writeConfig(env, {
      endpoints: endpointsOf(env),
      state: { dir: `${env.dir}/state3` },
      jobs: [{ name: "same", mode: "copy", source: { endpoint: "zurich", bucket: "dst", prefix: "same/" }, targets: [{ endpoint: "zurich", bucket: "dst2" }] }],
    });
    const r = await runRunner(["run", "--config", cfgPath, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summaries[0].requests).toMatchObject({ COPY: 5, GET: 0, PUT: 0, HEAD: 0 });
    expect(await keys(c.zurich, "dst2")).toEqual(["0.txt", "1.txt", "2.txt", "3.txt", "4.txt"]);
    expect((await get(c.zurich, "dst2", "3.txt")).ContentType).toBe("text/x-test");
  });

  it("32 transfers in flight: every object copied and nothing on stderr (no listener warnings from the shared abort signal)", async () => {
    const c = env.clients;
    const want: Record<string, string> = {};
    for (let i = 0; i < 64; i++) want[`m/${String(i).padStart(2, "0")}`] = `body ${i} ${"x".repeat(i * 100)}`;
    await Promise.all(Object.entries(want).map(([k, v]) => put(c.london, "many", k, v)));
    const cfgPath = writeConfig(env, {
      endpoints: endpointsOf(env),
      state: { dir: `${env.dir}/state-many` },
      transfers: 32,
      jobs: [{ name: "many", mode: "copy", source: { endpoint: "london", bucket: "many" }, targets: [{ endpoint: "zurich", bucket: "many" }] }],
    });
    const r = await runRunner(["run", "--config", cfgPath, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.summaries[0]).toMatchObject({ copied: 64, errors: 0 });
    expect(await contents(c.zurich, "many")).toEqual(want);
  });

  it("a missing source bucket fails the run at once, while the target's first LIST still hangs", async () => {
    // A target that accepts connections and never answers: its LIST would only fail after
    // requestTimeoutSeconds (and retries). The source's NoSuchBucket must not wait for it.
    const sockets: Socket[] = [];
    const blackhole = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => blackhole.listen(0, "127.0.0.1", () => r()));
    try {
      const port = (blackhole.address() as AddressInfo).port;
      const endpoints = endpointsOf(env) as Record<string, Record<string, unknown>>;
      const cfgPath = writeConfig(env, {
        endpoints: { ...endpoints, hole: { ...endpoints.zurich, endpoint: `http://127.0.0.1:${port}` } },
        state: { dir: `${env.dir}/state-hole` },
        requestTimeoutSeconds: 30,
        jobs: [{ name: "hole", mode: "copy", source: { endpoint: "london", bucket: "no-such-bucket" }, targets: [{ endpoint: "hole", bucket: "dst" }] }],
      });
      const t0 = Date.now();
      const r = await runRunner(["run", "--config", cfgPath]);
      const ms = Date.now() - t0;
      expect(r.code, r.stdout + r.stderr).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/no-such-bucket/);
      expect(ms).toBeLessThan(20_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => blackhole.close(r));
    }
  });
});
