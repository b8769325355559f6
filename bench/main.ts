// npm run bench [-- --quick] [--only w1,w2] [--out FILE] [--work DIR] [--keep] [--build] [--no-rclone] [--profile DIR] [--repeat N]
//
// Two s3rver processes on loopback ("a" and "b"), each behind a counting proxy. On the same data,
// in one run, every workload is done by: our runner (dist/runner.mjs), rclone with best-practice
// flags, rclone with its defaults, and the "raw limit" (bench/raw.ts: the least work through the
// same SDK at the same concurrency). Each tool writes into its own fresh target bucket.
// Prints a markdown table and writes it (with the machine) to --out (default bench/results.md;
// with --quick, bench/.work/results-quick.md) plus the rows as JSON next to it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { build } from "esbuild";
import { S3RVER_CREDENTIALS } from "../local/sites.js";
import type { Kind } from "../test/support/proxy.js";
import { createBucket, emptyBucket, modify, REGION, seed, seedLarge, startEnv, verifySame, type BenchEnv, type SiteName, type VerifyResult } from "./lib/env.js";
import { runMeasured, type Measured } from "./lib/measure.js";
import { SCALE_FULL, SCALE_QUICK, scaleRows, shardedRows } from "./scale.js";
import { renderReport, renderTable, TOOLS, type Machine, type Row, type Tool } from "./lib/report.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RUNNER = join(ROOT, "dist", "runner.mjs");

// ---------------------------------------------------------------- options

interface Options {
  quick: boolean;
  only: string[] | undefined;
  out: string;
  work: string;
  keep: boolean;
  build: boolean;
  rclone: boolean;
  /** Run the runner under `node --cpu-prof`, profiles into this directory. */
  profile: string;
  /** Repetitions per tool (median reported); default 3, 1 with --quick. */
  repeat: number;
  /** Extra top-level runner config fields, for experiments (e.g. {"multipartThresholdMiB":5120}). */
  runnerExtra: Record<string, unknown>;
}

export const WORKLOADS = ["initial-cross", "initial-same", "noop-copy", "noop-copy-small", "incremental", "noop-bisync", "large", "planner", "scale", "sharded"] as const;
type Workload = (typeof WORKLOADS)[number];

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, only: undefined, out: "", work: "", keep: false, build: false, rclone: true, profile: "", repeat: 0, runnerExtra: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--quick") o.quick = true;
    else if (a === "--only") o.only = val().split(",").map((s) => s.trim()).filter(Boolean);
    else if (a === "--out") o.out = val();
    else if (a === "--work") o.work = val();
    else if (a === "--keep") o.keep = true;
    else if (a === "--build") o.build = true;
    else if (a === "--no-rclone") o.rclone = false;
    else if (a === "--profile") o.profile = resolve(val());
    else if (a === "--runner-config") o.runnerExtra = JSON.parse(val()) as Record<string, unknown>;
    else if (a === "--repeat") {
      o.repeat = Number(val());
      if (!Number.isInteger(o.repeat) || o.repeat < 1) throw new Error("--repeat needs a positive integer");
    }
    else if (a === "--help" || a === "-h") {
      console.log("usage: npm run bench -- [--quick] [--only " + WORKLOADS.join(",") + "] [--out FILE] [--work DIR] [--keep] [--build] [--no-rclone] [--profile DIR] [--repeat N] [--runner-config JSON]");
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const w of o.only ?? []) if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`unknown workload ${w} (one of ${WORKLOADS.join(", ")})`);
  if (!o.out) o.out = o.quick ? join(ROOT, "bench", ".work", "results-quick.md") : join(ROOT, "bench", "results.md");
  return o;
}

interface Sizes {
  small: number;
  smallBytes: number;
  noop: number;
  /** Every `changeEvery`-th object changes in the incremental workload (1%). */
  changeEvery: number;
  large: number;
  plannerKeys: number;
}
const FULL: Sizes = { small: 2000, smallBytes: 4096, noop: 10_000, changeEvery: 100, large: 1024 ** 3, plannerKeys: 1_000_000 };
const QUICK: Sizes = { small: 20, smallBytes: 4096, noop: 50, changeEvery: 10, large: 0, plannerKeys: 20_000 };

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const n = (x: number) => x.toLocaleString("en-US");

// ---------------------------------------------------------------- tools

interface Loc {
  site: SiteName;
  bucket: string;
}
type RunKind = "copy" | "sync" | "bisync" | "bisync-first";

interface ToolRun extends Measured {
  counts: Record<Kind, number>;
  summary?: Record<string, unknown>;
}

class Bench {
  rows: Row[] = [];
  notes: string[] = [];
  runnerProblem: string | undefined;
  rcloneProblem: string | undefined;
  rcloneVersion = "rclone: not installed";
  rawScript = "";
  plannerScript = "";
  private stateSeq = 0;

  constructor(
    readonly env: BenchEnv,
    readonly o: Options,
    readonly sz: Sizes,
    readonly reps: number,
  ) {}

  skipReason(tool: Tool): string | undefined {
    if (tool === "runner") return this.runnerProblem;
    if (tool === "rclone-best" || tool === "rclone-default") return this.rcloneProblem;
    return undefined;
  }

  private endpointOf(site: SiteName): string {
    return this.env.proxies[site].endpoint;
  }

  private rcloneEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.AWS_CA_BUNDLE;
    for (const site of ["a", "b"] as SiteName[]) {
      const p = `RCLONE_CONFIG_S${site.toUpperCase()}_`;
      env[p + "TYPE"] = "s3";
      env[p + "PROVIDER"] = "Other";
      env[p + "ENDPOINT"] = this.endpointOf(site);
      env[p + "ACCESS_KEY_ID"] = S3RVER_CREDENTIALS.accessKeyId;
      env[p + "SECRET_ACCESS_KEY"] = S3RVER_CREDENTIALS.secretAccessKey;
      env[p + "FORCE_PATH_STYLE"] = "true";
      env[p + "REGION"] = REGION;
    }
    env.RCLONE_CONFIG = join(this.env.work, "rclone.conf"); // empty: remotes come from the env
    return env;
  }

  private runnerConfig(kind: RunKind, src: Loc, dst: Loc, stateDir: string): string {
    const ep = (site: SiteName) => ({ endpoint: this.endpointOf(site), region: REGION, forcePathStyle: true, credentials: { accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: S3RVER_CREDENTIALS.secretAccessKey } });
    const mode = kind === "copy" ? "copy" : kind === "sync" ? "sync" : "bisync";
    const cfg = {
      endpoints: { a: ep("a"), b: ep("b") },
      state: { dir: stateDir },
      transfers: 16,
      ...this.o.runnerExtra,
      jobs: [
        {
          name: "bench",
          mode,
          source: { endpoint: src.site, bucket: src.bucket, prefix: "" },
          targets: [{ endpoint: dst.site, bucket: dst.bucket, prefix: "" }],
          ...(mode === "bisync" ? { deletes: true, conflict: "newer" } : {}),
        },
      ],
    };
    const file = join(this.env.work, `runner-${++this.stateSeq}.json`);
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    return file;
  }

  /** State dir per (pair, tool), so a re-run finds the state of its own first run. */
  private stateDirFor(src: Loc, dst: Loc, mode: string): string {
    const d = join(this.env.work, "state", `${mode}-${src.site}-${src.bucket}--${dst.site}-${dst.bucket}`);
    mkdirSync(d, { recursive: true });
    return d;
  }

  async run(tool: Tool, kind: RunKind, src: Loc, dst: Loc, raw: "copy" | "sync" | "large" = "copy", key?: string): Promise<ToolRun> {
    this.env.resetCounts();
    let m: Measured;
    let summary: Record<string, unknown> | undefined;
    if (tool === "runner") {
      const cfg = this.runnerConfig(kind, src, dst, this.stateDirFor(src, dst, kind.startsWith("bisync") ? "bisync" : kind));
      const prof = this.o.profile ? ["--cpu-prof", "--cpu-prof-dir", this.o.profile] : [];
      m = await runMeasured(process.execPath, [...prof, RUNNER, "run", "--config", cfg, "--json"], { timeoutMs: 40 * 60_000 });
      for (const line of m.stdout.split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          if ("copied" in obj || obj.type === "summary") summary = obj;
        } catch {
          /* not JSON */
        }
      }
    } else if (tool === "rclone-best" || tool === "rclone-default") {
      const flags = tool === "rclone-best" ? ["--transfers", "16", "--checkers", "16", "--checksum"] : [];
      const s = `S${src.site.toUpperCase()}:${src.bucket}`;
      const d = `S${dst.site.toUpperCase()}:${dst.bucket}`;
      let args: string[];
      if (kind === "copy") args = ["copy", s, d, ...flags];
      else if (kind === "sync") args = ["sync", s, d, ...flags];
      else {
        const workdir = join(this.env.work, "rclone-bisync", `${tool}-${src.bucket}-${dst.bucket}`);
        mkdirSync(workdir, { recursive: true });
        args = ["bisync", s, d, "--workdir", workdir, ...flags, ...(kind === "bisync-first" ? ["--resync"] : [])];
      }
      m = await runMeasured("rclone", args, { env: this.rcloneEnv(), timeoutMs: 40 * 60_000 });
    } else {
      const mode = kind === "bisync" || kind === "sync" ? "sync" : raw;
      const args = { mode, src: { endpoint: this.endpointOf(src.site), bucket: src.bucket }, dst: { endpoint: this.endpointOf(dst.site), bucket: dst.bucket }, concurrency: 16, key };
      m = await runMeasured(process.execPath, [this.rawScript, JSON.stringify(args)], { timeoutMs: 40 * 60_000 });
    }
    const counts = this.env.counts();
    if (m.code !== 0) log(`${tool} ${kind} exited ${m.code ?? m.signal}: ${(m.stderr.trim() || m.stdout.trim()).split("\n").slice(-5).join(" | ")}`);
    return { ...m, counts, summary };
  }

  skipRow(workload: string, tool: Tool, reason: string): void {
    this.rows.push({ workload, tool, objects: 0, bytes: 0, wallMs: 0, userMs: 0, sysMs: 0, maxRssKb: 0, ok: false, note: "", skipped: reason });
    log(`${workload} · ${tool}: skipped (${reason})`);
  }

  /**
   * Run every available tool `reps` times (tool order alternating between repetitions, so no tool
   * always runs on a warmer or colder machine) and add one row per tool: the median run by wall
   * time, with the spread in the note. Request counts are those of the median run.
   */
  async measureTools(
    label: string,
    objects: number,
    bytes: number,
    once: (tool: Tool, rep: number) => Promise<{ r: ToolRun; verify: () => Promise<VerifyResult>; after?: () => Promise<void> }>,
    opts: { reps?: number; beforeRep?: (rep: number) => Promise<void>; extra?: (r: ToolRun) => string } = {},
  ): Promise<void> {
    const reps = opts.reps ?? this.reps;
    const active = TOOLS.filter((t) => !this.skipReason(t));
    const runs = new Map<Tool, { r: ToolRun; v: VerifyResult }[]>(active.map((t) => [t, []]));
    for (let rep = 0; rep < reps; rep++) {
      await opts.beforeRep?.(rep);
      for (const tool of rep % 2 === 0 ? active : [...active].reverse()) {
        const x = await once(tool, rep);
        const v = await x.verify();
        await x.after?.();
        runs.get(tool)!.push({ r: x.r, v });
        log(`${label} · ${tool} #${rep + 1}: ${(x.r.wallMs / 1000).toFixed(2)} s${v.ok && x.r.code === 0 ? "" : ` FAILED (exit ${x.r.code}; ${v.detail})`}`);
      }
    }
    for (const tool of TOOLS) {
      const skip = this.skipReason(tool);
      if (skip) {
        this.skipRow(label, tool, skip);
        continue;
      }
      const all = runs.get(tool)!;
      const sorted = [...all].sort((p, q) => p.r.wallMs - q.r.wallMs);
      const med = sorted[Math.floor((sorted.length - 1) / 2)];
      const bad = all.find((x) => x.r.code !== 0 || !x.v.ok);
      const r = med.r;
      const exitNote = bad ? `${bad.r.code !== 0 ? `exit ${bad.r.code ?? bad.r.signal}; ` : ""}${bad.v.detail}` : med.v.detail;
      const spread = all.length > 1 ? `median of ${all.length} (${(sorted[0].r.wallMs / 1000).toFixed(2)}–${(sorted[sorted.length - 1].r.wallMs / 1000).toFixed(2)} s)` : "";
      const summaryNote =
        tool === "runner" && r.summary
          ? ["copied", "deleted", "conflicts"]
              .filter((k) => typeof r.summary![k] === "number" && (r.summary![k] as number) > 0)
              .map((k) => `${k} ${r.summary![k]}`)
              .join(", ")
          : "";
      const note = [exitNote, opts.extra?.(r) ?? "", summaryNote, spread].filter(Boolean).join("; ");
      this.rows.push({
        workload: label,
        tool,
        objects,
        bytes,
        wallMs: r.wallMs,
        userMs: r.userMs,
        sysMs: r.sysMs,
        maxRssKb: r.maxRssKb,
        counts: r.counts,
        ok: !bad,
        note,
      });
      log(`${label} · ${tool}: ${(r.wallMs / 1000).toFixed(2)} s, ${bad ? "FAILED" : "ok"} (${note})`);
    }
  }

  // ------------------------------------------------------------ workloads

  private smallSeeded = false;
  async smallSource(): Promise<Loc> {
    const loc: Loc = { site: "a", bucket: "src-small" };
    if (!this.smallSeeded) {
      log(`seeding ${n(this.sz.small)} × ${this.sz.smallBytes} B on a/${loc.bucket}`);
      await seed(this.env.direct.a, loc.bucket, this.sz.small, this.sz.smallBytes, 1);
      this.smallSeeded = true;
    }
    return loc;
  }

  async initial(workload: "initial-cross" | "initial-same"): Promise<void> {
    const src = await this.smallSource();
    const same = workload === "initial-same";
    const label = `${workload} (${n(this.sz.small)} × ${this.sz.smallBytes / 1024} KiB)`;
    await this.measureTools(label, this.sz.small, this.sz.small * this.sz.smallBytes, async (tool, rep) => {
      const dst: Loc = { site: same ? "a" : "b", bucket: `${same ? "is" : "ic"}-${tool}-${rep}` };
      await createBucket(this.env.direct[dst.site], dst.bucket);
      const r = await this.run(tool, "copy", src, dst, "copy");
      return {
        r,
        verify: () => verifySame(this.env.direct[src.site], src.bucket, this.env.direct[dst.site], dst.bucket),
        // Free the disk and keep later listings of the site small.
        after: () => emptyBucket(this.env.direct[dst.site], dst.bucket),
      };
    });
  }

  private noopReady = new Set<Tool>();
  private noopSeeded = false;
  private noopSrc: Loc = { site: "a", bucket: "src-noop" };
  private noopDst = (tool: Tool): Loc => ({ site: "b", bucket: `nc-${tool}` });

  /** The source of N objects and, per tool, a target that tool has already copied into. */
  async noopSetup(tool: Tool): Promise<void> {
    if (!this.noopSeeded) {
      log(`seeding ${n(this.sz.noop)} × ${this.sz.smallBytes} B on a/${this.noopSrc.bucket}`);
      const t0 = Date.now();
      await seed(this.env.direct.a, this.noopSrc.bucket, this.sz.noop, this.sz.smallBytes, 2);
      log(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      this.noopSeeded = true;
    }
    if (this.noopReady.has(tool) || this.skipReason(tool)) return;
    const dst = this.noopDst(tool);
    await createBucket(this.env.direct.b, dst.bucket);
    log(`setup: ${tool} first copy of ${n(this.sz.noop)} objects into b/${dst.bucket}`);
    const r = await this.run(tool, "copy", this.noopSrc, dst, "copy");
    if (r.code !== 0) log(`setup run of ${tool} failed (exit ${r.code})`);
    this.noopReady.add(tool);
  }

  async noopCopy(): Promise<void> {
    const label = `noop-copy (${n(this.sz.noop)} objects)`;
    for (const tool of TOOLS) await this.noopSetup(tool);
    await this.measureTools(label, this.sz.noop, 0, async (tool) => {
      const dst = this.noopDst(tool);
      const r = await this.run(tool, "copy", this.noopSrc, dst, "sync");
      return { r, verify: () => verifySame(this.env.direct.a, this.noopSrc.bucket, this.env.direct.b, dst.bucket) };
    });
  }

  /** The no-op of a small job (issue 12: the 2,000 objects of the initial workloads): fixed costs
   *  (start-up, client set-up, lock, state) weigh most here. */
  async noopCopySmall(): Promise<void> {
    const src = await this.smallSource();
    const label = `noop-copy-small (${n(this.sz.small)} objects)`;
    const dst = (tool: Tool): Loc => ({ site: "b", bucket: `ncs-${tool}` });
    for (const tool of TOOLS) {
      if (this.skipReason(tool)) continue;
      await createBucket(this.env.direct.b, dst(tool).bucket);
      log(`setup: ${tool} first copy of ${n(this.sz.small)} objects into b/${dst(tool).bucket}`);
      const r = await this.run(tool, "copy", src, dst(tool), "copy");
      if (r.code !== 0) log(`setup run of ${tool} failed (exit ${r.code})`);
    }
    await this.measureTools(label, this.sz.small, 0, async (tool) => {
      const r = await this.run(tool, "copy", src, dst(tool), "sync");
      return { r, verify: () => verifySame(this.env.direct.a, src.bucket, this.env.direct.b, dst(tool).bucket) };
    });
  }

  async incremental(): Promise<void> {
    const label = `incremental (1% of ${n(this.sz.noop)} changed)`;
    for (const tool of TOOLS) await this.noopSetup(tool);
    let changed = 0;
    await this.measureTools(
      label,
      this.sz.noop,
      (this.sz.noop / this.sz.changeEvery) * this.sz.smallBytes,
      async (tool) => {
        const dst = this.noopDst(tool);
        const r = await this.run(tool, "copy", this.noopSrc, dst, "sync");
        return { r, verify: () => verifySame(this.env.direct.a, this.noopSrc.bucket, this.env.direct.b, dst.bucket) };
      },
      {
        // Each repetition changes the same 1% again, with new content, before every tool catches up.
        beforeRep: async (rep) => {
          changed = (await modify(this.env.direct.a, this.noopSrc.bucket, this.sz.noop, this.sz.smallBytes, this.sz.changeEvery, 100 + rep)).length;
          log(`changed ${changed} objects on a/${this.noopSrc.bucket}`);
        },
        extra: () => `changed ${changed}`,
      },
    );
  }

  async noopBisync(): Promise<void> {
    const label = `noop-bisync (${n(this.sz.noop)} objects)`;
    for (const tool of TOOLS) await this.noopSetup(tool);
    // Bring each pair in sync (the incremental workload may have changed the source) and give the
    // tool its first bisync run (runner: no state yet → merge; rclone: --resync).
    for (const tool of TOOLS.filter((t) => !this.skipReason(t))) {
      const dst = this.noopDst(tool);
      const first = await this.run(tool, tool === "raw" ? "sync" : "bisync-first", this.noopSrc, dst);
      if (first.code !== 0) log(`bisync first run of ${tool} failed (exit ${first.code})`);
    }
    await this.measureTools(label, this.sz.noop, 0, async (tool) => {
      const dst = this.noopDst(tool);
      const r = await this.run(tool, "bisync", this.noopSrc, dst);
      return { r, verify: () => verifySame(this.env.direct.a, this.noopSrc.bucket, this.env.direct.b, dst.bucket) };
    });
  }

  async large(): Promise<void> {
    const size = this.sz.large;
    const label = `large (1 × ${size >= 1024 ** 3 ? `${size / 1024 ** 3} GiB` : `${size / 1024 ** 2} MiB`} cross-endpoint)`;
    const src: Loc = { site: "a", bucket: "src-large" };
    const key = "large.bin";
    log(`seeding one ${n(size)} B object on a/${src.bucket}`);
    const t0 = Date.now();
    await seedLarge(this.env.direct.a, src.bucket, key, size);
    log(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await this.measureTools(
      label,
      1,
      size,
      async (tool) => {
        const dst: Loc = { site: "b", bucket: `lg-${tool}` };
        await createBucket(this.env.direct.b, dst.bucket);
        const r = await this.run(tool, "copy", src, dst, "large", key);
        return {
          r,
          // Multipart ETags differ by part layout: compare keys and sizes only.
          verify: () => verifySame(this.env.direct.a, src.bucket, this.env.direct.b, dst.bucket, true),
          after: async () => {
            await this.env.direct.b.send(new DeleteObjectCommand({ Bucket: dst.bucket, Key: key })).catch(() => undefined);
          },
        };
      },
      { extra: (r) => `${(size / 1024 ** 2 / (r.wallMs / 1000)).toFixed(0)} MiB/s` },
    );
    await emptyBucket(this.env.direct.a, src.bucket);
  }

  async planner(): Promise<void> {
    const keys = this.sz.plannerKeys;
    const label = `planner (bisync, ${n(keys)} keys per side + state)`;
    for (const tool of TOOLS) {
      if (tool !== "runner") continue;
      const skip = this.runnerProblem && !this.plannerScript ? this.runnerProblem : !this.plannerScript ? "runner/decide not buildable" : undefined;
      if (skip) {
        this.skipRow(label, tool, skip);
        continue;
      }
      const stateFile = join(this.env.work, `planner-state-${keys}.gz`);
      const gen = await runMeasured(process.execPath, ["--max-old-space-size=8192", this.plannerScript, JSON.stringify({ keys, state: stateFile, gen: true })], {
        timeoutMs: 20 * 60_000,
      });
      if (gen.code !== 0) log(`planner state generation failed: ${gen.stderr.trim().split("\n").slice(-3).join(" | ")}`);
      const m = await runMeasured(process.execPath, ["--max-old-space-size=8192", this.plannerScript, JSON.stringify({ keys, state: stateFile })], { timeoutMs: 20 * 60_000 });
      let out: Record<string, number> & { rssMb?: Record<string, number> } = {};
      try {
        out = JSON.parse(m.stdout.trim().split("\n").pop() ?? "{}") as Record<string, number>;
      } catch {
        /* reported below */
      }
      const expected = Math.round(0.01 * keys) * 2 + keys / 1000 + 2 * (keys / 1000);
      const decisionMs = (out.loadMs ?? NaN) + (out.decideMs ?? NaN);
      const ok = m.code === 0 && out.actions === expected;
      const note =
        m.code !== 0
          ? `exit ${m.code}: ${m.stderr.trim().split("\n").slice(-3).join(" | ")}`
          : `state load ${fmtS(out.loadMs)} + decide ${fmtS(out.decideMs)} (wall column); state save ${fmtS(out.saveMs)}; ` +
            `${n(out.actions)} actions (expected ${n(expected)}); state file ${(out.stateBytes / 1024 ** 2).toFixed(1)} MB; ` +
            `process total ${fmtS(m.wallMs)} incl. building the synthetic listings (${fmtS(out.genMs)}); ` +
            `RSS after listings/state/plan/save: ${Object.values(out.rssMb ?? {}).join("/")} MB`;
      this.rows.push({ workload: label, tool, objects: keys, bytes: 0, wallMs: decisionMs, userMs: m.userMs, sysMs: m.sysMs, maxRssKb: m.maxRssKb, ok, note });
      log(`${label} · ${tool}: ${note}`);
    }
  }
}

const fmtS = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? "?" : `${(ms / 1000).toFixed(2)} s`);

// ---------------------------------------------------------------- setup

function ensureRunner(o: Options): string | undefined {
  if (o.build || !existsSync(RUNNER)) {
    log("building dist/runner.mjs (npm run build)");
    const r = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0 || !existsSync(RUNNER)) return `npm run build failed: ${(r.stderr || r.stdout || "").trim().split("\n").slice(-3).join(" | ")}`;
  }
  const v = spawnSync(process.execPath, [RUNNER, "--help"], { encoding: "utf8" });
  if (v.error) return `dist/runner.mjs does not start: ${v.error.message}`;
  return undefined;
}

function rcloneVersion(): string | undefined {
  const r = spawnSync("rclone", ["version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split("\n")[0].trim();
}

async function bundle(entry: string, out: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
}

function machine(rclone: string): Machine {
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = /PRETTY_NAME="([^"]+)"/.exec(readFileSync("/etc/os-release", "utf8"));
    if (pretty) osName = `${pretty[1]} (${os.release()})`;
  } catch {
    /* keep uname */
  }
  return {
    cpu: os.cpus()[0]?.model ?? "unknown CPU",
    cores: os.cpus().length,
    memGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    rclone,
    os: osName,
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const sz = o.quick ? QUICK : FULL;
  const ownWork = !o.work;
  const work = o.work ? resolve(o.work) : mkdtempSync(join(os.tmpdir(), "bench-"));
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, "rclone.conf"), "");
  const selected = (w: Workload) => (o.only ? o.only.includes(w) : !(o.quick && w === "large"));

  const runnerProblem = ensureRunner(o);
  const rv = o.rclone ? rcloneVersion() : undefined;
  const env = await startEnv(work);
  const b = new Bench(env, o, sz, o.repeat || (o.quick ? 1 : 3));
  b.runnerProblem = runnerProblem;
  b.rcloneProblem = !o.rclone ? "disabled (--no-rclone)" : rv ? undefined : "rclone not installed (apt-get install -y rclone)";
  b.rcloneVersion = rv ?? "rclone: not installed";
  if (runnerProblem) b.notes.push(`runner rows skipped: ${runnerProblem}`);
  if (b.rcloneProblem) b.notes.push(`rclone rows skipped: ${b.rcloneProblem}`);

  const stop = async () => {
    await env.stop();
    if (ownWork && !o.keep) rmSync(work, { recursive: true, force: true });
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));

  try {
    b.rawScript = join(work, "raw.mjs");
    await bundle(join(ROOT, "bench", "raw.ts"), b.rawScript);
    if (selected("planner")) {
      try {
        b.plannerScript = join(work, "planner.mjs");
        await bundle(join(ROOT, "bench", "planner.ts"), b.plannerScript);
      } catch (e) {
        b.plannerScript = "";
        b.notes.push(`planner not built: ${(e as Error).message.split("\n")[0]}`);
      }
    }
    const t0 = Date.now();
    if (selected("initial-cross")) await b.initial("initial-cross");
    if (selected("initial-same")) await b.initial("initial-same");
    if (selected("noop-copy")) await b.noopCopy();
    if (selected("noop-copy-small")) await b.noopCopySmall();
    if (selected("incremental")) await b.incremental();
    if (selected("noop-bisync")) await b.noopBisync();
    if (selected("large") && sz.large > 0) await b.large();
    if (selected("planner")) await b.planner();
    if (selected("scale") && !runnerProblem) {
      const rcloneEnv = b.rcloneProblem
        ? undefined
        : (endpoint: string): NodeJS.ProcessEnv => {
            const e: NodeJS.ProcessEnv = { ...process.env, RCLONE_CONFIG: join(work, "rclone.conf") };
            delete e.AWS_CA_BUNDLE;
            Object.assign(e, { RCLONE_CONFIG_SYN_TYPE: "s3", RCLONE_CONFIG_SYN_PROVIDER: "Other", RCLONE_CONFIG_SYN_ENDPOINT: endpoint, RCLONE_CONFIG_SYN_ACCESS_KEY_ID: "synthetic", RCLONE_CONFIG_SYN_SECRET_ACCESS_KEY: "synthetic", RCLONE_CONFIG_SYN_FORCE_PATH_STYLE: "true", RCLONE_CONFIG_SYN_LIST_VERSION: "2", RCLONE_CONFIG_SYN_REGION: REGION });
            return e;
          };
      b.rows.push(...(await scaleRows({ runner: RUNNER, work, log, rcloneEnv }, o.quick ? SCALE_QUICK : SCALE_FULL)));
    } else if (selected("sharded") && !runnerProblem) {
      // Also part of "scale"; alone for a quick look at the shard rows.
      b.rows.push(...(await shardedRows({ runner: RUNNER, work, log }, o.quick ? SCALE_QUICK : SCALE_FULL)));
    }
    log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await stop();
  }

  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const notes = [
    ...b.notes,
    "CPU is user+sys of the tool's process (GNU time / getrusage), peak RSS its ru_maxrss; both include process start-up.",
    "Requests are counted by the proxies in front of both endpoints and include retries; \"per object\" divides by the workload's object count.",
    "raw = bench/raw.ts: list + GET→PUT (cross-endpoint) or CopyObject (same endpoint) at concurrency 16 through the same SDK, or list both sides + diff for re-runs; nothing else.",
  ];
  const report = renderReport({ machine: machine(b.rcloneVersion), rows: b.rows, mode: o.quick ? "quick (smoke sizes)" : "full", command, notes });
  console.log(renderTable(b.rows));
  mkdirSync(dirname(resolve(o.out)), { recursive: true });
  writeFileSync(o.out, report);
  writeFileSync(o.out.replace(/\.md$/, "") + ".json", JSON.stringify({ machine: machine(b.rcloneVersion), rows: b.rows }, null, 2) + "\n");
  log(`wrote ${o.out}`);
  const failed = b.rows.filter((r) => !r.skipped && !r.ok);
  if (failed.length) {
    log(`${failed.length} row(s) failed: ${failed.map((r) => `${r.workload}/${r.tool}`).join(", ")}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
