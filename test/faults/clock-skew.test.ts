// Scenario 8: clock skew. Site "b" is an s3rver process whose LastModified values run ten years
// ahead of the real clock (fixtures/skew-mtime.cjs, preloaded through NODE_OPTIONS, which
// local/sites.ts passes on to the s3rver child). A bisync conflict then always picks b's version as
// "newer", even when a's edit is the real latest one; the verdict is that no content is lost: the
// loser is kept under KEY.conflict-… on both sides, and both sides converge.
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3RVER_CREDENTIALS, startSite, type Site } from "../../local/sites.js";
import { startProxy, type Proxy } from "../support/proxy.js";
import { put, writeConfig, type Env } from "../runner/harness.js";
import { expectedOf, makeObjects, run, seed, sha256, snapshot, verdict, type Snapshot } from "./support.js";

const SKEW_MS = 10 * 365 * 24 * 3600 * 1000;
const PRELOAD = fileURLToPath(new URL("./fixtures/skew-mtime.cjs", import.meta.url));

let dir: string;
const sites: Record<string, Site> = {};
const clients: Record<string, S3Client> = {};
const proxies: Record<string, Proxy> = {};

function client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "skew-"));
  const buckets = ["n-a", "n-b", "kb-a", "kb-b"];
  sites.a = await startSite({ dir: join(dir, "a"), buckets });
  // local/sites.ts builds the child's environment from process.env synchronously when it spawns, so
  // the skew applies to this one child only.
  const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, S3RVER_SKEW_MS: process.env.S3RVER_SKEW_MS };
  process.env.NODE_OPTIONS = `${saved.NODE_OPTIONS ?? ""} --require ${PRELOAD}`.trim();
  process.env.S3RVER_SKEW_MS = String(SKEW_MS);
  const starting = startSite({ dir: join(dir, "b"), buckets });
  if (saved.NODE_OPTIONS === undefined) delete process.env.NODE_OPTIONS;
  else process.env.NODE_OPTIONS = saved.NODE_OPTIONS;
  delete process.env.S3RVER_SKEW_MS;
  sites.b = await starting;
  for (const n of ["a", "b"]) {
    clients[n] = client(sites[n].endpoint);
    proxies[n] = await startProxy({ target: sites[n].endpoint, record: true });
  }
});
afterAll(async () => {
  for (const c of Object.values(clients)) c.destroy();
  await Promise.all(Object.values(proxies).map((p) => p.stop()));
  await Promise.all(Object.values(sites).map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function config(name: string, a: string, b: string, conflict: string): string {
  const env = { dir } as Env;
  return writeConfig(env, {
    endpoints: Object.fromEntries(["a", "b"].map((n) => [n, { endpoint: proxies[n].endpoint, region: "us-east-1", forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } }])),
    state: { dir: join(dir, `state-${name}`) },
    jobs: [{ name, mode: "bisync", conflict, source: { endpoint: "a", bucket: a }, targets: [{ endpoint: "b", bucket: b }] }],
  });
}

const hashes = (s: Snapshot) => new Set([...s.values()].map((v) => v.sha256));

describe("scenario 8: clock skew (LastModified ten years ahead on one side)", () => {
  it("the skew is real: site b reports LastModified years in the future, site a does not", async () => {
    await put(clients.a, "n-a", "probe", "x");
    await put(clients.b, "n-b", "probe", "x");
    const lm = async (n: string, b: string) => (await clients[n].send(new ListObjectsV2Command({ Bucket: b }))).Contents![0].LastModified!.getTime();
    expect(Math.abs((await lm("a", "n-a")) - Date.now())).toBeLessThan(60_000);
    expect((await lm("b", "n-b")) - Date.now()).toBeGreaterThan(SKEW_MS - 60_000);
  });

  it("conflict: newer — the skewed side wins the name, the real latest edit survives as .conflict on both sides", async () => {
    const base = makeObjects(20, "doc/", 81);
    await seed(clients.a, "n-a", base);
    const cfg = config("n", "n-a", "n-b", "newer");
    expect((await run(cfg)).code).toBe(0);

    // b edits first, a edits later (a's edit is the real latest), plus a key created on both sides.
    const k = base[3].key;
    const onB = Buffer.from("edited on b, earlier in real time");
    const onA = Buffer.from("edited on a, the real latest edit");
    await put(clients.b, "n-b", k, onB, { ContentType: "text/plain", Metadata: { by: "b" } });
    await new Promise((r) => setTimeout(r, 1100));
    await put(clients.a, "n-a", k, onA, { ContentType: "text/plain", Metadata: { by: "a" } });
    const newA = Buffer.from("new on a");
    const newB = Buffer.from("new on b, same key");
    await put(clients.a, "n-a", "both-new.txt", newA, { ContentType: "text/plain" });
    await put(clients.b, "n-b", "both-new.txt", newB, { ContentType: "text/plain" });

    const r = await run(cfg);
    expect(r.code, r.stderr).toBe(0);
    expect(r.s).toMatchObject({ conflicts: 2, errors: 0 });
    const conflicts = r.lines.filter((l) => l.type === "conflict") as { key: string; winner: string; kept: string[] }[];
    expect(conflicts.map((c) => [c.key, c.winner]).sort()).toEqual([["both-new.txt", "target"], [k, "target"]]);

    const [a, b] = await Promise.all([snapshot(clients.a, "n-a"), snapshot(clients.b, "n-b")]);
    // Both versions' content on both sides: the skewed winner under the key, the loser under .conflict.
    for (const side of [a, b]) {
      expect(side.get(k)!.sha256).toBe(sha256(onB));
      const kept = [...side.entries()].filter(([key]) => key.startsWith(`${k}.conflict`));
      expect(kept.map(([, v]) => v.sha256)).toEqual([sha256(onA)]);
      expect(kept[0][1].metadata).toEqual({ by: "a" });
      for (const h of [onA, onB, newA, newB]) expect(hashes(side).has(sha256(h))).toBe(true);
    }
    const unchanged = base.filter((o) => o.key !== k);
    expect(verdict([a, b], expectedOf(unchanged), { exact: false })).toBe("nothing lost, nothing corrupted, converged");
    const again = await run(cfg);
    expect(again.s).toMatchObject({ copied: 0, conflicts: 0, deleted: 0 });
  });

  it("conflict: keep-both — both versions renamed on both sides, whatever the clocks say", async () => {
    const base = makeObjects(5, "kb/", 82);
    await seed(clients.a, "kb-a", base);
    const cfg = config("kb", "kb-a", "kb-b", "keep-both");
    expect((await run(cfg)).code).toBe(0);
    const k = base[0].key;
    const onA = Buffer.from("A version");
    const onB = Buffer.from("B version");
    await put(clients.a, "kb-a", k, onA);
    await put(clients.b, "kb-b", k, onB);
    const r = await run(cfg);
    expect(r.code).toBe(0);
    expect(r.s).toMatchObject({ conflicts: 1 });
    const [a, b] = await Promise.all([snapshot(clients.a, "kb-a"), snapshot(clients.b, "kb-b")]);
    for (const side of [a, b]) {
      expect(side.has(k)).toBe(false);
      const kept = [...side.entries()].filter(([key]) => key.startsWith(`${k}.conflict`)).map(([, v]) => v.sha256).sort();
      expect(kept).toEqual([sha256(onA), sha256(onB)].sort());
    }
    expect(verdict([a, b], expectedOf(base.slice(1)), { exact: false })).toBe("nothing lost, nothing corrupted, converged");
  });
});
