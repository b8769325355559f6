// Shared machinery of the fault scenarios (issue 8): real s3rver processes, one fault proxy in front
// of each, the BUILT dist/runner.mjs as a child process, and the final verdict "nothing lost,
// nothing corrupted, converged" computed from both sides object by object (GET + sha256, content
// type and user metadata).
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { spawn, type ChildProcess } from "node:child_process";
import { captureOutput } from "../support/leak-check.js";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import pLimit from "p-limit";
import { expect } from "vitest";
import { S3RVER_CREDENTIALS } from "../../local/sites.js";
import { decodeState, type StateFile } from "../../runner/state/codec.js";
import { seededRng, startProxy, type FaultRule, type Proxy } from "../support/proxy.js";
import { get, put, RUNNER, startEnv, writeConfig, type Env, type RunResult } from "../runner/harness.js";

export { sleep } from "../runner/harness.js";

/** Distinctive secrets used by the scenarios; no runner output may ever contain one. */
export const WRONG_SECRET = "WRONG-fault-secret-7d1e4b2a9c";
export const SECRETS = [S3RVER_CREDENTIALS.secretAccessKey, WRONG_SECRET];

export interface FaultEnv {
  env: Env;
  clients: Record<string, S3Client>;
  proxies: Record<string, Proxy>;
  /** Runner endpoints section: every site reached THROUGH its proxy. */
  endpoints(overrides?: Record<string, Record<string, unknown>>): Record<string, unknown>;
  config(cfg: Record<string, unknown>): string;
  stop(): Promise<void>;
}

/**
 * A front that forwards a request only once its whole body has arrived, and drops it when the
 * client goes away before that. This gives s3rver the all-or-nothing PUT of a real S3 server:
 * s3rver itself writes a request body straight into the object's file, so a PUT cut off mid-body
 * leaves a torn object behind (proven without the runner in persistent-truncated.test.ts). Used by
 * the scenarios that kill the runner or the server mid-upload, so that they test the runner, not
 * s3rver's storage.
 */
export async function startAtomicFront(target: string): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const t = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let complete = false;
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      complete = true;
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !["connection", "keep-alive", "expect"].includes(k)) headers[k] = v;
      const up = http.request({ hostname: t.hostname, port: t.port, method: req.method, path: req.url, headers, agent }, (r) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !["connection", "keep-alive", "transfer-encoding"].includes(k)) out[k] = v;
        res.writeHead(r.statusCode ?? 502, out);
        r.pipe(res);
        r.on("error", () => req.socket.destroy());
        r.on("aborted", () => req.socket.destroy());
      });
      up.on("error", () => req.socket.destroy());
      // Once the whole body is here the request completes upstream even if the client goes away
      // (as on S3): aborting it now would hand s3rver a cut body again.
      up.end(Buffer.concat(chunks));
    });
    req.on("close", () => {
      if (!complete) chunks.length = 0; // the client left mid-body: nothing is forwarded
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as import("node:net").AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      agent.destroy();
      await closed;
    },
  };
}

export async function startFaultEnv(sites: Record<string, string[]>, seed = 1, opts: { atomic?: boolean } = {}): Promise<FaultEnv> {
  const env = await startEnv(sites);
  const proxies: Record<string, Proxy> = {};
  const fronts: Record<string, { endpoint: string; stop(): Promise<void> }> = {};
  for (const [n, s] of Object.entries(env.sites)) {
    proxies[n] = await startProxy({ target: s.endpoint, seed, record: true });
    if (opts.atomic) fronts[n] = await startAtomicFront(proxies[n].endpoint);
  }
  return {
    env,
    clients: env.clients,
    proxies,
    endpoints(overrides = {}) {
      return Object.fromEntries(
        Object.entries(proxies).map(([n, p]) => [
          n,
          { endpoint: fronts[n]?.endpoint ?? p.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS }, ...(overrides[n] ?? {}) },
        ]),
      );
    },
    config(cfg) {
      return writeConfig(env, cfg);
    },
    async stop() {
      await Promise.all([...Object.values(fronts), ...Object.values(proxies)].map((p) => p.stop()));
      await env.stop();
    },
  };
}

// ------------------------------------------------------------------ objects

export interface Obj {
  key: string;
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
}

const TYPES = ["text/plain", "application/json", "image/png", "application/octet-stream", "text/csv; charset=utf-8"];

/** `n` small objects with seeded random bodies (0–24 KiB), content types and user metadata. */
export function makeObjects(n: number, prefix: string, seed: number): Obj[] {
  const rng = seededRng(seed);
  const out: Obj[] = [];
  for (let i = 0; i < n; i++) {
    const size = i % 50 === 0 ? 0 : Math.floor(rng() * 24 * 1024);
    const body = Buffer.alloc(size);
    for (let j = 0; j < size; j++) body[j] = Math.floor(rng() * 256);
    out.push({
      key: `${prefix}${String(i).padStart(4, "0")}-${Math.floor(rng() * 1e6).toString(36)}.bin`,
      body,
      contentType: TYPES[i % TYPES.length],
      metadata: { seq: String(i), origin: prefix.replace(/\W/g, "") || "root", note: `seed-${seed}` },
    });
  }
  return out;
}

export async function seed(c: S3Client, bucket: string, objs: Obj[]): Promise<void> {
  const limit = pLimit(16);
  await Promise.all(objs.map((o) => limit(() => put(c, bucket, o.key, o.body, { ContentType: o.contentType, Metadata: o.metadata }))));
}

// ------------------------------------------------------------------ snapshots and the verdict

export interface Seen {
  sha256: string;
  size: number;
  contentType: string;
  /** User metadata without the two keys the runner adds for rclone (mtime, md5chksum). */
  metadata: Record<string, string>;
}
export type Snapshot = Map<string, Seen>;

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

export async function listKeys(c: S3Client, Bucket: string, Prefix = ""): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await c.send(new ListObjectsV2Command({ Bucket, Prefix: Prefix || undefined, ContinuationToken: token }));
    for (const o of r.Contents ?? []) out.push(o.Key!);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

/** Every object of the bucket: GET, sha256 of the bytes, content type and user metadata. */
export async function snapshot(c: S3Client, bucket: string, prefix = ""): Promise<Snapshot> {
  const ks = await listKeys(c, bucket, prefix);
  const limit = pLimit(16);
  const out: Snapshot = new Map();
  await Promise.all(
    ks.map((k) =>
      limit(async () => {
        const r = await get(c, bucket, k);
        const { mtime: _m, md5chksum: _c, ...md } = r.Metadata ?? {};
        out.set(k.slice(prefix.length), { sha256: sha256(r.body), size: r.body.length, contentType: r.ContentType ?? "", metadata: md });
      }),
    ),
  );
  return out;
}

export function expectedOf(objs: Obj[]): Snapshot {
  return new Map(objs.map((o) => [o.key, { sha256: sha256(o.body), size: o.body.length, contentType: o.contentType, metadata: o.metadata }]));
}

const sorted = (m: Snapshot) => Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * The verdict. `expected` holds every object that must exist (nothing lost) with its original bytes
 * and metadata (nothing corrupted); `sides` must be identical object by object (converged), or, for
 * copy (`subsetOf`), the source's objects must all be on the target unchanged.
 */
export function verdict(sides: Snapshot[], expected: Snapshot, opts: { exact?: boolean } = {}): string {
  const exact = opts.exact ?? true;
  for (const [i, side] of sides.entries()) {
    const lost = [...expected.keys()].filter((k) => !side.has(k));
    expect(lost, `side ${i}: lost objects`).toEqual([]);
    const corrupted = [...expected.entries()].filter(([k, v]) => JSON.stringify(side.get(k)) !== JSON.stringify(v)).map(([k]) => k);
    expect(corrupted.slice(0, 5).map((k) => [k, side.get(k), expected.get(k)]), `side ${i}: corrupted objects (${corrupted.length})`).toEqual([]);
    if (exact) expect([...side.keys()].filter((k) => !expected.has(k)), `side ${i}: unexpected objects`).toEqual([]);
  }
  for (let i = 1; i < sides.length; i++) expect(sorted(sides[i]), `side ${i} differs from side 0`).toEqual(sorted(sides[0]));
  return "nothing lost, nothing corrupted, converged";
}

// ------------------------------------------------------------------ running the built runner

/** Every runner output seen by the fault suite, for the secret check. */
export const allOutput: string[] = [];

export function expectNoSecrets(text: string): void {
  for (const s of SECRETS) expect(text.includes(s), `secret ${JSON.stringify(s)} in runner output:\n${text.slice(0, 2000)}`).toBe(false);
}

function parse(code: number | null, stdout: string, stderr: string, signal: NodeJS.Signals | null): RunResult & { signal: NodeJS.Signals | null } {
  const lines = stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, signal, stdout, stderr, lines, summaries: lines.filter((l) => l.type === "summary") };
}

export interface Running {
  child: ChildProcess;
  done: Promise<RunResult & { signal: NodeJS.Signals | null }>;
}

/** Start the built runner (`--json` is the caller's choice). Output is checked for secrets on exit. */
export function startRunner(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [RUNNER, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<RunResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      allOutput.push(stdout, stderr);
      captureOutput(`runner ${args.join(" ")}`, stdout, stderr);
      expectNoSecrets(stdout + stderr);
      resolve(parse(code, stdout, stderr, signal));
    });
  });
  return { child, done };
}

export async function run(cfgPath: string, ...extra: string[]) {
  const r = startRunner(["run", "--config", cfgPath, "--json", ...extra]);
  const timer = setTimeout(() => r.child.kill("SIGKILL"), 240_000);
  const res = await r.done;
  clearTimeout(timer);
  return { ...res, s: res.summaries[0] as Record<string, any> | undefined };
}

/** Poll until `cond` holds (every 5 ms), or fail after `ms`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Kill with SIGKILL and wait for the exit; returns the run's output. */
export async function kill(r: Running) {
  r.child.kill("SIGKILL");
  const res = await r.done;
  expect(res.signal).toBe("SIGKILL");
  return res;
}

// ------------------------------------------------------------------ state

export function readStateFile(dir: string, job: string): { raw: Buffer; state: StateFile } | undefined {
  const p = join(dir, `${job}.state.gz`);
  if (!existsSync(p)) return undefined;
  const raw = readFileSync(p);
  return { raw, state: decodeState(raw) };
}

export function stateKeys(s: StateFile): string[] {
  return s.sections.flatMap((x) => x.records.map((r) => r.key)).sort();
}

/** Requests of the given kinds in a proxy's log (since its last reset). */
export function requestsOf(p: Proxy, kinds: string[]): { kind: string; key: string }[] {
  return p
    .log()
    .filter((l) => kinds.includes(l.kind))
    .map((l) => ({ kind: l.kind, key: l.key }));
}

export const MUTATING = ["PUT", "COPY", "DELETE", "DELETE_MULTI", "MPU_CREATE", "MPU_PART", "MPU_PART_COPY", "MPU_COMPLETE"];

export type { FaultRule };
