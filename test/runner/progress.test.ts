// The live progress line (runner/output.ts) as a user sees it: the BUILT runner under a real
// pseudo-terminal (util-linux `script`), copying from a real s3rver through the proxy, which holds
// one GET long enough for several progress renders whatever the machine's speed.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultEnv, type FaultEnv } from "../faults/support.js";
import { get, keys, put, RUNNER, runRunner } from "./harness.js";

const hasScript = spawnSync("script", ["--version"]).status === 0;

let fx: FaultEnv;
let bodies: Record<string, Buffer>;
beforeAll(async () => {
  fx = await startFaultEnv({ a: ["pr-a"], b: ["pr-b", "pr-b2"] });
  bodies = await seedObjects();
});
afterAll(async () => fx?.stop());

const N = 24;
const SMALL = 16 * 1024; // obj-00 … obj-22
const BIG = 4 * 1024 * 1024; // obj-23, the one held by the proxy

/** Run a command line under a pseudo-terminal; returns everything the terminal received. */
function underPty(argv: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return new Promise((resolve, reject) => {
    // -q quiet, -f flush, -e child's exit code, -c command; the typescript file is /dev/null.
    const child = spawn("script", ["-qfec", argv.map(quote).join(" "), "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, TERM: "xterm" } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function seedObjects() {
  const bodies: Record<string, Buffer> = {};
  for (let i = 0; i < N; i++) bodies[`obj-${String(i).padStart(2, "0")}`] = randomBytes(i === N - 1 ? BIG : SMALL);
  await Promise.all(Object.entries(bodies).map(([k, v]) => put(fx.clients.a, "pr-a", k, v)));
  return bodies;
}

function config(target: string, name: string) {
  return fx.config({
    endpoints: fx.endpoints(),
    state: { dir: join(fx.env.dir, `state-${name}`) },
    transfers: 4,
    jobs: [{ name, mode: "copy", source: { endpoint: "a", bucket: "pr-a" }, targets: [{ endpoint: "b", bucket: target }] }],
  });
}

// 23 × 16 KiB + 4 MiB = 4464 KiB: "prog: 23/24 objects, 368.0 KiB/4.4 MiB, 150.3 KiB/s, ETA 0:27"
const PROGRESS = new RegExp(String.raw`prog: (\d+)/${N} objects, ([\d.]+) (B|KiB|MiB)/4\.4 MiB, ([\d.]+) (B|KiB|MiB)/s, ETA (\d+:\d\d|--:--)`, "g");
const UNIT: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 * 1024 };
const TOTAL = (N - 1) * SMALL + BIG;

describe("progress line on a TTY", () => {
  it.skipIf(!hasScript && !process.env.CI)("shows objects, bytes, rate and ETA while copying, then clears it for the summary", async () => {
    expect(hasScript, "util-linux `script` is needed for the pseudo-terminal").toBe(true);
    // The big object's first GET is held 3 s: the run lasts that long on any machine, and the line
    // is redrawn every 250 ms.
    fx.proxies.a.setFaults([{ kinds: "GET", key: new RegExp(`^obj-${N - 1}$`), first: 1, fault: { type: "stall", ms: 3000 } }]);
    const r = await underPty([process.execPath, RUNNER, "run", "--config", config("pr-b", "prog")]);
    fx.proxies.a.setFaults([]);
    expect(r.code, r.out).toBe(0);
    const frames = [...r.out.matchAll(PROGRESS)];
    expect(frames.length, r.out).toBeGreaterThanOrEqual(3);
    // Each frame is drawn in place: carriage return and erase-line before it.
    expect(r.out).toContain("\r\x1b[2Kprog: ");
    // Counts never go backwards; while the held object is in flight all the others are done.
    const done = frames.map((m) => Number(m[1]));
    expect([...done].sort((x, y) => x - y)).toEqual(done);
    const held = frames.filter((m) => m[1] === String(N - 1) && `${m[2]} ${m[3]}` === "368.0 KiB");
    expect(held.length, r.out).toBeGreaterThanOrEqual(2);
    // The rate is bytes over elapsed time and the ETA the remaining bytes at that rate (the frame
    // shows both rounded: 0.1 of a unit, whole seconds).
    for (const m of held) {
      const rate = Number(m[4]) * UNIT[m[5]];
      expect(rate).toBeGreaterThan(0);
      const [min, sec] = m[6].split(":").map(Number);
      const expected = (TOTAL - (N - 1) * SMALL) / rate;
      expect(Math.abs(min * 60 + sec - expected), m[0]).toBeLessThanOrEqual(expected * 0.05 + 1);
      expect(min * 60 + sec).toBeGreaterThan(0);
    }
    // The held frames show a falling rate (no bytes move while the clock runs) and a growing ETA.
    const rates = held.map((m) => Number(m[4]) * UNIT[m[5]]);
    expect(rates[rates.length - 1]).toBeLessThan(rates[0]);
    // Then the summary, on a line of its own after the progress line was erased.
    const last = frames[frames.length - 1];
    const summaryAt = r.out.indexOf("prog (copy): ok: copied 24 (4.4 MiB)");
    expect(summaryAt, r.out).toBeGreaterThan(last.index!);
    expect(r.out.slice(last.index!, summaryAt)).toContain("\r\x1b[2K");
    expect(r.out.slice(summaryAt)).not.toMatch(PROGRESS);
    for (const [k, v] of Object.entries(bodies)) expect((await get(fx.clients.b, "pr-b", k)).body.equals(v), k).toBe(true);
  });

  it("is not drawn when output is not a terminal", async () => {
    fx.proxies.a.setFaults([{ kinds: "GET", key: new RegExp(`^obj-${N - 1}$`), first: 1, fault: { type: "stall", ms: 1000 } }]);
    const r = await runRunner(["run", "--config", config("pr-b2", "pipe")]);
    fx.proxies.a.setFaults([]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pipe \(copy\): ok: copied 24 \(4\.4 MiB\)/m);
    expect(r.stdout + r.stderr).not.toMatch(/objects, .*\/s, ETA/);
    expect(r.stdout + r.stderr).not.toContain("\x1b[");
    expect(await keys(fx.clients.b, "pr-b2")).toHaveLength(N);
  });
});
