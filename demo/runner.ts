// Drives the real sync runner (dist/runner.mjs) as a user would: builds the bundle when it is missing
// or older than its sources, then runs `run` (live progress on the inherited terminal) and `check --json`.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("..", import.meta.url));
export const BUNDLE = join(REPO, "dist", "runner.mjs");
const BUILD_SCRIPT = join(REPO, "scripts", "build-runner.mjs");

/** Environment for child processes: no AWS SDK Node-version notice, no stray AWS config. */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  for (const k of ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE"]) delete env[k];
  return env;
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (/\.(ts|mts|js|mjs|json)$/.test(entry.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Why the bundle must be (re)built, or undefined when it is up to date. */
export function bundleStaleness(): string | undefined {
  if (!existsSync(BUNDLE)) return "dist/runner.mjs is missing";
  const built = statSync(BUNDLE).mtimeMs;
  const sources = Math.max(newestMtime(join(REPO, "runner")), existsSync(BUILD_SCRIPT) ? statSync(BUILD_SCRIPT).mtimeMs : 0);
  return sources > built ? "runner sources changed since dist/runner.mjs was built" : undefined;
}

/** `npm run build`, run directly (same script) with its output captured; throws with it on failure. */
export async function buildBundle(): Promise<void> {
  if (!existsSync(BUILD_SCRIPT)) throw new Error(`cannot build the runner: ${BUILD_SCRIPT} does not exist`);
  const r = await exec(process.execPath, [BUILD_SCRIPT], { capture: true });
  if (r.code !== 0) throw new Error(`npm run build failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
  if (!existsSync(BUNDLE)) throw new Error(`npm run build succeeded but ${BUNDLE} does not exist`);
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

export function exec(cmd: string, args: string[], opts: { capture: boolean; cwd?: string }): Promise<ExecResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? REPO,
      env: childEnv(),
      stdio: opts.capture ? ["ignore", "pipe", "pipe"] : ["ignore", "inherit", "inherit"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d) => (stdout += d));
    child.stderr?.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, seconds: (performance.now() - started) / 1000 }),
    );
  });
}

export interface RunLine {
  job: string;
  mode: string;
  status: string;
  copied: number;
  deleted: number;
  conflicts: number;
  seconds: number;
}

/** The per-job summary lines of the runner's human output, e.g.
 *  `name (bisync): ok: copied 4 (380.0 KiB), deleted 1, conflicts 1, ... in 0.4s; requests: ...`. */
export function parseRunLines(stdout: string): RunLine[] {
  const out: RunLine[] = [];
  const re = /^(\S+) \((copy|sync|bisync)\): ([^:]+): copied (\d+) \([^)]*\), deleted (\d+), conflicts (\d+)\b.* in ([\d.]+)s\b/;
  for (const line of stdout.split("\n")) {
    const m = re.exec(line.trim());
    if (m) out.push({ job: m[1], mode: m[2], status: m[3], copied: +m[4], deleted: +m[5], conflicts: +m[6], seconds: +m[7] });
  }
  return out;
}

/** `node dist/runner.mjs run --config FILE` as a user sees it: stdout is shown line by line (and kept,
 *  to read the per-job times), stderr (the live progress line on a TTY) goes straight to the terminal. */
export function runRunner(configFile: string, extra: string[] = []): Promise<ExecResult & { jobs: RunLine[] }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE, "run", "--config", configFile, ...extra], {
      cwd: REPO,
      env: childEnv(),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d;
      process.stdout.write(d);
    });
    child.once("error", reject);
    child.once("close", (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr: "",
        seconds: (performance.now() - started) / 1000,
        jobs: parseRunLines(stdout),
      }),
    );
  });
}

export interface RunJsonSummary {
  type: "summary";
  job: string;
  command?: string;
  ok?: boolean;
  copied: number;
  deleted: number;
  conflicts: number;
  bytes: number;
  requests: Record<string, number>;
  seconds: number;
  [k: string]: unknown;
}

/** `run --json`, captured: the per-job summaries. */
export async function runRunnerJson(configFile: string): Promise<{ result: ExecResult; summaries: RunJsonSummary[] }> {
  const result = await exec(process.execPath, [BUNDLE, "run", "--config", configFile, "--json"], { capture: true });
  return { result, summaries: parseCheckOutput(result.stdout) as unknown as RunJsonSummary[] };
}

export interface CheckTarget {
  objects: number;
  bytes: number;
  missing: number;
  different: number;
  extra: number;
  [k: string]: unknown;
}

export interface CheckSummary {
  type: "summary";
  job: string;
  inSync: boolean;
  source: { objects: number; bytes: number; [k: string]: unknown };
  targets: CheckTarget[];
  seconds?: number;
  [k: string]: unknown;
}

/** Parse the JSON lines of `check --json`, keeping the summary objects. */
export function parseCheckOutput(stdout: string): CheckSummary[] {
  const out: CheckSummary[] = [];
  for (const line of stdout.split("\n")) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch {
      continue;
    }
    if (obj && typeof obj === "object" && (obj as { type?: unknown }).type === "summary") out.push(obj as CheckSummary);
  }
  return out;
}

export async function checkRunner(configFile: string): Promise<{ result: ExecResult; summaries: CheckSummary[] }> {
  const result = await exec(process.execPath, [BUNDLE, "check", "--config", configFile, "--json"], { capture: true });
  return { result, summaries: parseCheckOutput(result.stdout) };
}
