// Embedded S3-compatible "sites" on loopback: one real s3rver *process* per site, so that demos,
// tests and benchmarks talk HTTP to separate servers exactly as the runner would to separate clouds.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** s3rver accepts exactly this key pair and verifies SigV4 signatures with it. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

const CHILD = fileURLToPath(new URL("./s3rver-child.mjs", import.meta.url));

export interface SiteOptions {
  /** Directory holding the site's data (kept across restarts). */
  dir: string;
  /** Buckets to create at start (idempotent). */
  buckets?: string[];
  /** Fixed port; default 0 = pick a free one. A restart reuses the port it got. */
  port?: number;
}

export interface Site {
  readonly port: number;
  /** e.g. http://127.0.0.1:4568 */
  readonly endpoint: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** Stop and start again on the same port and data directory. */
  restart(): Promise<void>;
}

async function launch(opts: SiteOptions, port: number): Promise<{ child: ChildProcess; port: number }> {
  const args = [CHILD, "--dir", opts.dir, "--port", String(port)];
  for (const b of opts.buckets ?? []) args.push("--bucket", b);
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --openssl-legacy-provider`.trim() };
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  return await new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`s3rver exited (${code}) before ready: ${stderr.trim()}`));
    child.once("exit", onExit);
    lines.once("line", (line) => {
      child.off("exit", onExit);
      try {
        const msg = JSON.parse(line) as { port: number };
        resolve({ child, port: msg.port });
      } catch {
        reject(new Error(`s3rver printed unexpected output: ${line}`));
      }
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export async function startSite(opts: SiteOptions): Promise<Site> {
  let { child, port } = await launch(opts, opts.port ?? 0);
  const site: Site = {
    get port() {
      return port;
    },
    get endpoint() {
      return `http://127.0.0.1:${port}`;
    },
    get pid() {
      return child.pid;
    },
    async stop() {
      await stopChild(child);
    },
    async restart() {
      await stopChild(child);
      ({ child, port } = await launch({ ...opts, buckets: [] }, port));
    },
  };
  return site;
}

/** Start several sites in parallel; stop them all if any fails to start. */
export async function startSites(all: Record<string, SiteOptions>): Promise<Record<string, Site>> {
  const names = Object.keys(all);
  const results = await Promise.allSettled(names.map((n) => startSite(all[n])));
  const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
  if (failed) {
    await Promise.all(results.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
    throw failed.reason;
  }
  return Object.fromEntries(names.map((n, i) => [n, (results[i] as PromiseFulfilledResult<Site>).value]));
}
