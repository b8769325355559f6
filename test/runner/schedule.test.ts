// Schedule mode of the BUILT runner against real s3rver processes (one behind the fault proxy):
// a run longer than the cron interval is never overlapped (the tick is skipped and logged), and a
// `schedule` in the config file alone keeps the runner running until SIGTERM, which ends it cleanly.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultEnv, waitFor, type FaultEnv } from "../faults/support.js";
import { get, put, RUNNER } from "./harness.js";

let fx: FaultEnv;
beforeAll(async () => {
  fx = await startFaultEnv({ a: ["ov-a", "cf-a"], b: ["ov-b", "cf-b"] });
});
afterAll(async () => fx?.stop());

interface Scheduled {
  child: ChildProcess;
  lines(): Record<string, any>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startScheduled(args: string[]): Scheduled {
  const child = spawn(process.execPath, [RUNNER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stderr: err })),
  );
  return {
    child,
    lines: () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l)),
    exited,
  };
}

async function stop(s: Scheduled) {
  s.child.kill("SIGTERM");
  const timer = setTimeout(() => s.child.kill("SIGKILL"), 20_000);
  const r = await s.exited;
  clearTimeout(timer);
  return r;
}

const isSkip = (l: Record<string, any>) => l.type === "log" && l.level === "warn" && /skipping this tick/.test(l.message);

describe("schedule", () => {
  it("a run longer than the cron interval is not overlapped: the tick is skipped and logged", async () => {
    const { a: A, b: B } = fx.clients;
    const bodies: Record<string, Buffer> = { slow: randomBytes(5000), f1: randomBytes(100), f2: randomBytes(200) };
    for (const [k, v] of Object.entries(bodies)) await put(A, "ov-a", k, v);
    const stateDir = join(fx.env.dir, "state-overlap");
    const cfg = fx.config({
      endpoints: fx.endpoints(),
      state: { dir: stateDir },
      jobs: [{ name: "overlap", mode: "copy", source: { endpoint: "a", bucket: "ov-a" }, targets: [{ endpoint: "b", bucket: "ov-b" }] }],
    });
    // The first GET of "slow" is held 2.5 s: the first run spans at least two per-second ticks.
    fx.proxies.a.reset();
    fx.proxies.a.setFaults([{ kinds: "GET", key: /^slow$/, first: 1, fault: { type: "stall", ms: 2500 } }]);
    const s = startScheduled(["run", "--config", cfg, "--json", "--schedule", "* * * * * *"]);
    try {
      await waitFor(() => s.lines().filter((l) => l.event === "run-end").length >= 2, 30_000, "two finished runs");
    } finally {
      fx.proxies.a.setFaults([]);
    }
    const r = await stop(s);
    expect(r.code, r.stderr).toBe(0);
    const lines = s.lines();
    expect(fx.proxies.a.faultCounts().stall).toBe(1);

    // The skipped ticks are logged, each while a run was active.
    expect(lines.filter(isSkip).length, JSON.stringify(lines)).toBeGreaterThanOrEqual(1);
    let active = false;
    let runs = 0;
    for (const l of lines) {
      if (l.event === "run-start") {
        expect(active, "run-start while a run is active").toBe(false);
        active = true;
        runs++;
      } else if (l.event === "run-end") {
        expect(active, "run-end without a run").toBe(true);
        active = false;
      } else if (isSkip(l)) expect(active, "tick skipped while no run was active").toBe(true);
      else if (l.type === "summary") expect(active, "summary outside a run").toBe(true);
    }
    expect(runs).toBeGreaterThanOrEqual(2);
    // One summary per run; the first copied everything and took longer than one tick.
    const summaries = lines.filter((l) => l.type === "summary");
    expect(summaries.length).toBeGreaterThanOrEqual(2);
    expect(summaries[0]).toMatchObject({ copied: 3, errors: 0 });
    expect(summaries[0].seconds).toBeGreaterThanOrEqual(2);
    expect(summaries.slice(1).every((x) => x.copied === 0)).toBe(true);
    for (const [k, v] of Object.entries(bodies)) expect((await get(B, "ov-b", k)).body.equals(v), k).toBe(true);
    // Stopped cleanly: state written, lock released.
    expect(readdirSync(stateDir)).toEqual(["overlap.state.gz"]);
  });

  it("`schedule` in the config file alone keeps it running; SIGTERM stops it cleanly (exit 0)", async () => {
    const { a: A, b: B } = fx.clients;
    await put(A, "cf-a", "first", "one");
    const stateDir = join(fx.env.dir, "state-cfg");
    const cfg = fx.config({
      endpoints: fx.endpoints(),
      state: { dir: stateDir },
      schedule: "* * * * * *",
      jobs: [{ name: "cfg-sched", mode: "copy", source: { endpoint: "a", bucket: "cf-a" }, targets: [{ endpoint: "b", bucket: "cf-b" }] }],
    });
    const s = startScheduled(["run", "--config", cfg, "--json"]);
    const summaries = () => s.lines().filter((l) => l.type === "summary");
    await waitFor(() => summaries().length >= 1, 30_000, "the first run");
    // Still running after its first run: a later tick picks up a new object.
    expect(s.child.exitCode).toBe(null);
    await put(A, "cf-a", "second", "two");
    await waitFor(() => summaries().slice(1).some((x) => x.copied === 1), 30_000, "a later run copying the new object");
    const r = await stop(s);
    expect(r.code, r.stderr).toBe(0);
    expect(r.signal).toBe(null);
    const lines = s.lines();
    expect(lines[0]).toMatchObject({ type: "log", event: "scheduled" });
    expect(lines[0].message).toContain('"* * * * * *"');
    expect(lines.some((l) => l.type === "log" && /SIGTERM received/.test(l.message))).toBe(true);
    expect(lines.filter((l) => l.event === "run-start").length).toBeGreaterThanOrEqual(2);
    expect(summaries()[0]).toMatchObject({ copied: 1, errors: 0 });
    expect((await get(B, "cf-b", "first")).text).toBe("one");
    expect((await get(B, "cf-b", "second")).text).toBe("two");
    expect(readdirSync(stateDir)).toEqual(["cfg-sched.state.gz"]);
  });
});
