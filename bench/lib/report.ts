// Pure rendering of benchmark rows: the markdown results table, the targets of issue 7 checked
// against the measurements, and the machine header. No I/O here (see main.ts).
import { KINDS, type Kind } from "../../test/support/proxy.js";

export type Tool = "runner" | "rclone-best" | "rclone-default" | "raw";
export const TOOLS: Tool[] = ["runner", "rclone-best", "rclone-default", "raw"];

export interface Row {
  workload: string;
  tool: Tool;
  /** Objects the workload is about (for per-object figures). */
  objects: number;
  /** Bytes the workload moves (for throughput), 0 if not relevant. */
  bytes: number;
  wallMs: number;
  userMs: number;
  sysMs: number;
  maxRssKb: number;
  /** Requests by kind, both endpoints together (absent: not an S3 workload). */
  counts?: Record<Kind, number>;
  /** Did the result verify (target equals source)? */
  ok: boolean;
  note: string;
  /** Set when the tool was not run; the row is printed with this reason. */
  skipped?: string;
}

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "–");

export function perObject(counts: Record<Kind, number>, objects: number): string {
  const parts = KINDS.filter((k) => counts[k] > 0).map((k) => {
    const v = counts[k] / Math.max(1, objects);
    const shown = v >= 0.1 ? v.toFixed(2).replace(/\.?0+$/, "") : v.toPrecision(2);
    return `${k} ${shown}`;
  });
  return parts.length ? parts.join(", ") : "none";
}

export function totalRequests(counts: Record<Kind, number> | undefined): number {
  return counts ? Object.values(counts).reduce((a, b) => a + b, 0) : 0;
}

function find(rows: Row[], workload: string, tool: Tool): Row | undefined {
  return rows.find((r) => r.workload === workload && r.tool === tool && !r.skipped);
}

function ratio(row: Row, base: Row | undefined): string {
  if (!base || row.skipped || base.wallMs <= 0) return "–";
  return `${fmt(row.wallMs / base.wallMs)}×`;
}

export function renderTable(rows: Row[]): string {
  const head =
    "| workload | tool | wall s | vs rclone-best | vs raw | requests / object (both endpoints) | requests | CPU ms / object | peak RSS MB | result |\n" +
    "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |";
  const lines = rows.map((r) => {
    if (r.skipped) return `| ${r.workload} | ${r.tool} | – | – | – | – | – | – | – | skipped: ${r.skipped} |`;
    const cpu = (r.userMs + r.sysMs) / Math.max(1, r.objects);
    const req = r.counts ? perObject(r.counts, r.objects) : "n/a";
    const tot = r.counts ? String(totalRequests(r.counts)) : "n/a";
    return (
      `| ${r.workload} | ${r.tool} | ${fmt(r.wallMs / 1000)} | ${ratio(r, find(rows, r.workload, "rclone-best"))} | ` +
      `${ratio(r, find(rows, r.workload, "raw"))} | ${req} | ${tot} | ${fmt(cpu, cpu < 1 ? 3 : 2)} | ` +
      `${fmt(r.maxRssKb / 1024, 0)} | ${r.ok ? "ok" : "FAILED"}${r.note ? `: ${r.note}` : ""} |`
    );
  });
  return [head, ...lines].join("\n");
}

export interface TargetCheck {
  workload: string;
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** The targets of issue 7, checked for the runner rows present. */
export function checkTargets(rows: Row[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const add = (workload: string, target: string, measured: string, met: boolean | undefined) => out.push({ workload, target, measured, met });
  const c = (r: Row, k: Kind) => r.counts?.[k] ?? 0;

  for (const r of rows.filter((x) => x.tool === "runner" && !x.skipped)) {
    const w = r.workload;
    const best = find(rows, w, "rclone-best");
    const def = find(rows, w, "rclone-default");
    const raw = find(rows, w, "raw");
    const n = r.objects;
    if (w.startsWith("initial-cross")) {
      const get = c(r, "GET") / n;
      const put = (c(r, "PUT") + c(r, "MPU_PART")) / n;
      add(w, "≤ 1 GET + 1 PUT per object, 0 HEAD", `GET ${fmt(get, 3)}, PUT ${fmt(put, 3)}, HEAD ${c(r, "HEAD")}`, get <= 1 && put <= 1 && c(r, "HEAD") === 0);
      if (best) add(w, "wall ≤ rclone best", `${fmt(r.wallMs / 1000)} s vs ${fmt(best.wallMs / 1000)} s`, r.wallMs <= best.wallMs);
      if (raw) add(w, "wall ≤ 1.15 × raw", `${fmt(r.wallMs / raw.wallMs)}×`, r.wallMs <= 1.15 * raw.wallMs);
      if (best)
        add(
          w,
          "CPU per object vs rclone best (report)",
          `${fmt((r.userMs + r.sysMs) / n, 3)} vs ${fmt((best.userMs + best.sysMs) / n, 3)} ms`,
          r.userMs + r.sysMs <= best.userMs + best.sysMs,
        );
    } else if (w.startsWith("initial-same")) {
      const copies = c(r, "COPY") + c(r, "MPU_PART_COPY");
      add(w, "1 CopyObject per object, 0 GET/PUT", `COPY ${fmt(copies / n, 3)}, GET ${c(r, "GET")}, PUT ${c(r, "PUT")}`, copies === n && c(r, "GET") === 0 && c(r, "PUT") === 0);
    } else if (w.startsWith("noop")) {
      const transfers = c(r, "GET") + c(r, "HEAD") + c(r, "PUT") + c(r, "COPY");
      const maxList = 2 * Math.ceil(n / 1000) + 2;
      add(w, "0 GET/HEAD/PUT/COPY", String(transfers), transfers === 0);
      add(w, `LIST pages ≤ 2·ceil(N/1000)+2 = ${maxList}`, String(c(r, "LIST")), c(r, "LIST") <= maxList);
      if (def) add(w, "wall ≤ 0.5 × rclone defaults", `${fmt(r.wallMs / def.wallMs)}×`, r.wallMs <= 0.5 * def.wallMs);
      // Issue 12: the small no-op (2,000 objects) faster than rclone's.
      if (w.startsWith("noop-copy-small") && best) add(w, "wall ≤ rclone best (issue 12)", `${fmt(r.wallMs / 1000)} s vs ${fmt(best.wallMs / 1000)} s`, r.wallMs <= best.wallMs);
    } else if (w.startsWith("incremental")) {
      const changed = Number(/changed (\d+)/.exec(r.note)?.[1] ?? NaN);
      add(w, "transfers only the changed objects", `GET ${c(r, "GET")}, PUT ${c(r, "PUT")}, changed ${changed}`, c(r, "GET") === changed && c(r, "PUT") === changed);
      add(w, "no HEAD", String(c(r, "HEAD")), c(r, "HEAD") === 0);
    } else if (w.startsWith("large")) {
      add(w, "peak runner RSS ≤ 200 MB", `${fmt(r.maxRssKb / 1024, 0)} MB`, r.maxRssKb <= 200 * 1024);
      if (best) add(w, "throughput ≥ 0.9 × rclone best", `${fmt(best.wallMs / r.wallMs)}×`, best.wallMs / r.wallMs >= 0.9);
    } else if (w.startsWith("scale-bisync-noop")) {
      const mib = r.maxRssKb / 1024;
      if (n <= 2_000_000) add(w, "peak RSS ≤ 256 MB", `${fmt(mib, 0)} MB`, mib <= 256);
      else if (n <= 10_000_000) add(w, "peak RSS ≤ 384 MB", `${fmt(mib, 0)} MB`, mib <= 384);
      const perM = r.wallMs / 1000 / (n / 1e6);
      add(w, "≤ 10 s per million keys per side", `${fmt(perM, 1)} s`, perM <= 10);
      add(w, "0 GET/HEAD/PUT/COPY", String(c(r, "GET") + c(r, "HEAD") + c(r, "PUT") + c(r, "COPY")), c(r, "GET") + c(r, "HEAD") + c(r, "PUT") + c(r, "COPY") === 0);
    } else if (w.startsWith("scale-copy-noop")) {
      if (best) add(w, "wall ≤ rclone best", `${fmt(r.wallMs / 1000)} s vs ${fmt(best.wallMs / 1000)} s`, r.wallMs <= best.wallMs);
    } else if (w.startsWith("list-latency") && !w.includes("listConcurrency 1,")) {
      // The parallel rows (the default listConcurrency, bench/scale.ts); one stream is the reference.
      const x = Number(/([\d.]+)× faster than it/.exec(r.note)?.[1] ?? NaN);
      add(w, "≥ 8× faster than one stream's floor", `${fmt(x, 1)}×`, x >= 8);
    } else if (w.startsWith("planner")) {
      add(w, "decision ≤ 10 s", `${fmt(r.wallMs / 1000)} s`, r.wallMs <= 10_000);
      add(w, "peak RSS ≤ 1.5 GB", `${fmt(r.maxRssKb / 1024, 0)} MB`, r.maxRssKb <= 1.5 * 1024 * 1024);
    }
    if (!r.ok) add(w, "result verifies", r.note, false);
  }
  return out;
}

export function renderTargets(checks: TargetCheck[]): string {
  if (!checks.length) return "_No runner rows: targets not checked._";
  const head = "| workload | target | measured | met |\n| --- | --- | --- | --- |";
  const lines = checks.map((t) => `| ${t.workload} | ${t.target} | ${t.measured} | ${t.met === undefined ? "–" : t.met ? "yes" : "**no**"} |`);
  return [head, ...lines].join("\n");
}

export interface Machine {
  cpu: string;
  cores: number;
  memGb: number;
  node: string;
  rclone: string;
  os: string;
  date: string;
}

export function renderReport(opts: { machine: Machine; rows: Row[]; mode: string; command: string; notes?: string[] }): string {
  const m = opts.machine;
  return [
    `# Benchmark results`,
    ``,
    `- date: ${m.date}`,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memGb} GB RAM, ${m.os}`,
    `- node ${m.node}; ${m.rclone}`,
    `- mode: ${opts.mode}; command: \`${opts.command}\``,
    `- servers: two s3rver processes on loopback, each behind a counting proxy (requests below are exact);`,
    `  wall times on a shared machine are noisy, request counts are not.`,
    ``,
    renderTable(opts.rows),
    ``,
    `## Targets (issue 7)`,
    ``,
    renderTargets(checkTargets(opts.rows)),
    ...(opts.notes?.length ? ["", "## Notes", "", ...opts.notes.map((n) => `- ${n}`)] : []),
    ``,
  ].join("\n");
}
