// Request-count properties of issue 7, measured twice: by the runner's own `--json` summary
// (`requests`, counted per SDK attempt) and by a counting proxy in front of each server (every HTTP
// request that actually arrives). Counts, not timings: deterministic on any machine.
//
// N = 1,001 objects: two LIST pages per side (ceil(N/1000) = 2), so page boundaries are covered.
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, type Proxy } from "../support/proxy.js";
import { endpointsOf, keys, put, runRunner, startEnv, writeConfig, type Env } from "./harness.js";

const N = 1001;
const PAGES = Math.ceil(N / 1000);
const key = (i: number) => `d${i % 7}/obj-${String(i).padStart(5, "0")}.bin`;

let env: Env;
const proxies: Record<string, Proxy> = {};

beforeAll(async () => {
  env = await startEnv({ a: ["src", "same"], b: ["dst", "bi"] });
  for (const [n, s] of Object.entries(env.sites)) proxies[n] = await startProxy({ target: s.endpoint });
  let next = 0;
  const body = Buffer.alloc(1024, 1);
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        await env.clients.a.send(new PutObjectCommand({ Bucket: "src", Key: key(i), Body: body }));
      }
    }),
  );
}, 120_000);

afterAll(async () => {
  for (const p of Object.values(proxies)) await p.stop();
  await env?.stop();
});

/** Endpoints pointing at the proxies (same credentials: a and b stay distinct servers). */
function proxied(): Record<string, unknown> {
  const eps = endpointsOf(env) as Record<string, Record<string, unknown>>;
  for (const n of Object.keys(eps)) eps[n] = { ...eps[n], endpoint: proxies[n].endpoint };
  return eps;
}

function job(name: string, mode: string, source: object, target: object) {
  return writeConfig(env, { endpoints: proxied(), state: { dir: `${env.dir}/state-perf` }, transfers: 16, jobs: [{ name, mode, source, targets: [target] }] });
}

/** Both proxies' counts summed, only the kinds that occurred. */
function wire(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of Object.values(proxies)) for (const [k, v] of Object.entries(p.counts())) if (v) out[k] = (out[k] ?? 0) + v;
  return out;
}

async function run(cfg: string) {
  for (const p of Object.values(proxies)) p.reset();
  const r = await runRunner(["run", "--config", cfg, "--json"], { timeoutMs: 120_000 });
  expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
  return { s: r.summaries[0], wire: wire() };
}

/** The summary's non-zero request kinds. */
function nz(requests: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(requests).filter(([, v]) => v));
}

describe("request counts per object (issue 7)", () => {
  const copyCfg = () => job("perf-copy", "copy", { endpoint: "a", bucket: "src" }, { endpoint: "b", bucket: "dst" });

  it("initial cross-endpoint copy: exactly 1 GET + 1 PUT per object, no HEAD, one listing", async () => {
    const { s, wire } = await run(copyCfg());
    expect(s.copied).toBe(N);
    // Source: ceil(N/1000) pages; the empty target: one page.
    expect(nz(s.requests)).toEqual({ LIST: PAGES + 1, GET: N, PUT: N });
    expect(wire).toEqual({ LIST: PAGES + 1, GET: N, PUT: N });
    expect((await keys(env.clients.b, "dst")).length).toBe(N);
  }, 180_000);

  it("no-op re-run (copy): ceil(N/1000) LIST pages per side and nothing else", async () => {
    const { s, wire } = await run(copyCfg());
    expect(s).toMatchObject({ copied: 0, deleted: 0, unchanged: N });
    expect(nz(s.requests)).toEqual({ LIST: 2 * PAGES });
    expect(wire).toEqual({ LIST: 2 * PAGES });
  }, 120_000);

  it("incremental: only the changed objects are transferred, no HEAD", async () => {
    const changed = [3, 500, 999, 1000];
    for (const i of changed) await put(env.clients.a, "src", key(i), Buffer.alloc(1024, 2));
    const { s, wire } = await run(copyCfg());
    expect(s).toMatchObject({ copied: changed.length, unchanged: N - changed.length });
    expect(nz(s.requests)).toEqual({ LIST: 2 * PAGES, GET: changed.length, PUT: changed.length });
    expect(wire).toEqual({ LIST: 2 * PAGES, GET: changed.length, PUT: changed.length });
  }, 120_000);

  it("same endpoint: exactly one CopyObject per object, no GET/PUT/HEAD", async () => {
    const { s, wire } = await run(job("perf-same", "copy", { endpoint: "a", bucket: "src" }, { endpoint: "a", bucket: "same" }));
    expect(s.copied).toBe(N);
    expect(nz(s.requests)).toEqual({ LIST: PAGES + 1, COPY: N });
    expect(wire).toEqual({ LIST: PAGES + 1, COPY: N });
  }, 180_000);

  it("bisync: first run copies once per object; the no-op re-run is ceil(N/1000) LIST pages per side", async () => {
    const cfg = job("perf-bisync", "bisync", { endpoint: "a", bucket: "src" }, { endpoint: "b", bucket: "bi" });
    const first = await run(cfg);
    expect(first.s.copied).toBe(N);
    expect(first.wire).toEqual({ LIST: PAGES + 1, GET: N, PUT: N });
    const again = await run(cfg);
    expect(again.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0, unchanged: N });
    expect(nz(again.s.requests)).toEqual({ LIST: 2 * PAGES });
    expect(again.wire).toEqual({ LIST: 2 * PAGES });
  }, 180_000);

  it("a multipart transfer: 1 GET, parts only (unsigned payload), no HEAD; bytes intact", async () => {
    const big = Buffer.alloc(11 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    await put(env.clients.a, "same", "big/one.bin", big);
    const cfg = writeConfig(env, {
      endpoints: proxied(),
      state: { dir: `${env.dir}/state-perf` },
      multipartThresholdMiB: 5,
      partSizeMiB: 5,
      jobs: [{ name: "perf-mpu", mode: "copy", source: { endpoint: "a", bucket: "same", prefix: "big/" }, targets: [{ endpoint: "b", bucket: "dst", prefix: "big/" }] }],
    });
    const { s, wire } = await run(cfg);
    expect(s.copied).toBe(1);
    expect(nz(s.requests)).toEqual({ LIST: 2, GET: 1, MPU_CREATE: 1, MPU_PART: 3, MPU_COMPLETE: 1 });
    expect(wire).toEqual({ LIST: 2, GET: 1, MPU_CREATE: 1, MPU_PART: 3, MPU_COMPLETE: 1 });
    const got = await env.clients.b.send(new GetObjectCommand({ Bucket: "dst", Key: "big/one.bin" }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(big)).toBe(true);
  }, 120_000);
});
