// Run a child process and measure wall time, CPU (user+sys) and peak RSS.
//
// Preferred: GNU time (`/usr/bin/time -o FILE -f ...`), which reports the child's getrusage:
// ru_utime, ru_stime and ru_maxrss (the peak RSS, i.e. VmHWM at exit). Fallback when it is not
// installed: sample /proc/<pid>/stat (utime, stime) and /proc/<pid>/status (VmHWM) every 20 ms; the
// last sample misses at most 20 ms of CPU.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Measured {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  userMs: number;
  sysMs: number;
  /** Peak resident set size, KiB. */
  maxRssKb: number;
  /** How CPU and RSS were measured. */
  via: "gnu-time" | "proc-sampling";
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill after this many ms (default 30 min). */
  timeoutMs?: number;
  /** Called with each stdout chunk (for live progress). */
  onStdout?: (chunk: string) => void;
}

const GNU_TIME = "/usr/bin/time";
export const hasGnuTime = (() => {
  if (!existsSync(GNU_TIME)) return false;
  return true;
})();

export async function runMeasured(cmd: string, args: string[], opts: RunOptions = {}): Promise<Measured> {
  if (hasGnuTime) return runWithGnuTime(cmd, args, opts);
  return runWithSampling(cmd, args, opts);
}

function collect(
  child: ReturnType<typeof spawn>,
  opts: RunOptions,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stdout?.on("data", (d: string) => {
    stdout += d;
    opts.onStdout?.(d);
  });
  child.stderr?.on("data", (d: string) => {
    stderr += d;
    if (stderr.length > 4_000_000) stderr = stderr.slice(-2_000_000);
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30 * 60_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export async function runWithGnuTime(cmd: string, args: string[], opts: RunOptions): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), "bench-time-"));
  const out = join(dir, "time.txt");
  try {
    const t0 = process.hrtime.bigint();
    const child = spawn(GNU_TIME, ["-o", out, "-f", "%U %S %M %x", cmd, ...args], {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const r = await collect(child, opts);
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    // GNU time writes "Command exited with non-zero status N" before the format line.
    const lines = readFileSync(out, "utf8").trim().split("\n");
    const last = lines[lines.length - 1].trim().split(/\s+/);
    const [u, s, m, x] = last;
    const code = r.signal ? null : Number(x ?? r.code);
    return {
      ...r,
      code: Number.isFinite(code) ? code : r.code,
      wallMs,
      userMs: Number(u) * 1000,
      sysMs: Number(s) * 1000,
      maxRssKb: Number(m),
      via: "gnu-time",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const CLK_TCK = 100;

function sample(pid: number): { cpuMs: [number, number]; hwmKb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" that ends the command name: state is field 3; utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const hwm = /VmHWM:\s+(\d+)/.exec(status);
    return { cpuMs: [(utime * 1000) / CLK_TCK, (stime * 1000) / CLK_TCK], hwmKb: hwm ? Number(hwm[1]) : 0 };
  } catch {
    return undefined;
  }
}

export async function runWithSampling(cmd: string, args: string[], opts: RunOptions): Promise<Measured> {
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let last = { cpuMs: [0, 0] as [number, number], hwmKb: 0 };
  const timer = setInterval(() => {
    const s = child.pid ? sample(child.pid) : undefined;
    if (s) last = { cpuMs: s.cpuMs, hwmKb: Math.max(last.hwmKb, s.hwmKb) };
  }, 20);
  const r = await collect(child, opts);
  clearInterval(timer);
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ...r, wallMs, userMs: last.cpuMs[0], sysMs: last.cpuMs[1], maxRssKb: last.hwmKb, via: "proc-sampling" };
}
