// Helpers for runner integration tests: real s3rver processes, the BUILT dist/runner.mjs run as a
// child process, and an SDK client to seed and inspect the buckets.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from "@aws-sdk/client-s3";
import { spawn } from "node:child_process";
import { captureOutput } from "../support/leak-check.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { S3RVER_CREDENTIALS, startSites, type Site } from "../../local/sites.js";

export const RUNNER = fileURLToPath(new URL("../../dist/runner.mjs", import.meta.url));
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
{
  const emit = process.emitWarning.bind(process) as (...a: unknown[]) => void;
  (process as { emitWarning: unknown }).emitWarning = (w: unknown, ...a: unknown[]) => {
    if (/will require node >=|NodeVersionSupportWarning/.test(String((w as Error)?.message ?? w)) || (a[0] as { type?: string })?.type === "NodeVersionSupportWarning" || a[0] === "NodeVersionSupportWarning") return;
    emit(w, ...a);
  };
}

export interface Env {
  dir: string;
  sites: Record<string, Site>;
  clients: Record<string, S3Client>;
  stop(): Promise<void>;
}

export async function startEnv(sites: Record<string, string[]>): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), "runner-test-"));
  const started = await startSites(Object.fromEntries(Object.entries(sites).map(([n, buckets]) => [n, { dir: join(dir, n), buckets }])));
  const clients = Object.fromEntries(
    Object.entries(started).map(([n, s]) => [
      n,
      new S3Client({
        endpoint: s.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { ...S3RVER_CREDENTIALS },
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      }),
    ]),
  );
  return {
    dir,
    sites: started,
    clients,
    async stop() {
      for (const c of Object.values(clients)) c.destroy();
      await Promise.all(Object.values(started).map((s) => s.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function endpointsOf(env: Env, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(env.sites).map(([n, s]) => [n, { endpoint: s.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: S3RVER_CREDENTIALS.secretAccessKey }, ...extra }]),
  );
}

let cfgCounter = 0;
export function writeConfig(env: Env, cfg: unknown): string {
  const p = join(env.dir, `config-${++cfgCounter}.json`);
  writeFileSync(p, JSON.stringify(cfg, null, 2));
  return p;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: Record<string, unknown>[];
  summaries: Record<string, any>[];
}

export function runRunner(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUNNER, ...args], { env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    // "close", not "exit": at "exit" the child's stdout may still hold its last lines (a summary went
    // missing once: 4 shard runners ending together while they wrote their code cache).
    child.on("close", (code) => {
      clearTimeout(timer);
      captureOutput(`runner ${args.join(" ")}`, stdout, stderr);
      const lines = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, stdout, stderr, lines, summaries: lines.filter((l) => l.type === "summary") });
    });
  });
}

export async function put(c: S3Client, Bucket: string, Key: string, Body: string | Buffer, extra: Partial<PutObjectCommandInput> = {}): Promise<string> {
  const r = await c.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));
  return (r.ETag ?? "").replace(/"/g, "");
}

export async function get(c: S3Client, Bucket: string, Key: string) {
  const r = await c.send(new GetObjectCommand({ Bucket, Key }));
  const body = Buffer.from(await r.Body!.transformToByteArray());
  return { ...r, body, text: body.toString("utf8") };
}

export async function del(c: S3Client, Bucket: string, Key: string): Promise<void> {
  await c.send(new DeleteObjectCommand({ Bucket, Key }));
}

/** All keys → body text (small test objects only). */
export async function contents(c: S3Client, Bucket: string, Prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let token: string | undefined;
  do {
    const r = await c.send(new ListObjectsV2Command({ Bucket, Prefix: Prefix || undefined, ContinuationToken: token }));
    for (const o of r.Contents ?? []) out[o.Key!] = (await get(c, Bucket, o.Key!)).text;
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function keys(c: S3Client, Bucket: string, Prefix = ""): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await c.send(new ListObjectsV2Command({ Bucket, Prefix: Prefix || undefined, ContinuationToken: token }));
    for (const o of r.Contents ?? []) out.push(o.Key!);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
