// The benchmark harness in its --quick variant (tiny sizes, no 1 GiB object, 20,000-key planner),
// so that `npm run bench` cannot rot. Wall times are not asserted (shared machine); request
// counts are exact and are.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Row } from "../../bench/lib/report.js";

const ROOT = resolve(import.meta.dirname, "..", "..");
const hasRclone = spawnSync("rclone", ["version"]).status === 0;

describe("bench --quick", () => {
  it("produces the table with exact request counts", { timeout: 120_000 }, () => {
    const work = mkdtempSync(join(tmpdir(), "bench-smoke-"));
    try {
      const out = join(work, "results.md");
      const r = spawnSync(process.execPath, [join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), "bench/main.ts", "--quick", "--work", join(work, "w"), "--out", out], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 110_000,
      });
      expect(r.status, r.stderr.slice(-3000)).toBe(0);
      const md = readFileSync(out, "utf8");
      expect(md).toContain("| workload | tool | wall s | vs rclone-best | vs raw |");
      expect(md).toContain("## Targets (issue 7)");
      expect(md).toMatch(/machine: .+ cores/);
      const { rows } = JSON.parse(readFileSync(join(work, "results.json"), "utf8")) as { rows: Row[] };
      const get = (w: string, tool: string) => rows.find((x) => x.workload.startsWith(w) && x.tool === tool)!;

      for (const w of ["initial-cross", "initial-same", "noop-copy", "incremental", "noop-bisync"]) {
        for (const tool of ["runner", "raw", "rclone-best", "rclone-default"]) {
          const row = get(w, tool);
          expect(row, `${w}/${tool}`).toBeDefined();
          if (tool.startsWith("rclone") && !hasRclone) {
            // Only the rclone rows may be missing, and they say why.
            expect(row.skipped).toMatch(/rclone not installed/);
            continue;
          }
          expect(row.skipped, `${w}/${tool}`).toBeUndefined();
          expect(row.ok, `${w}/${tool}: ${row.note}`).toBe(true);
          expect(row.counts!.LIST, `${w}/${tool}`).toBeGreaterThan(0);
        }
      }
      if (!hasRclone) console.warn("rclone is not installed: the rclone rows were skipped (CI installs it)");
      expect(md).toContain(hasRclone ? "| rclone-best |" : "skipped: rclone not installed");

      // The raw limit does exactly the minimum.
      expect(get("initial-cross", "raw").counts).toMatchObject({ GET: 20, PUT: 20, HEAD: 0, LIST: 1 });
      expect(get("initial-same", "raw").counts).toMatchObject({ COPY: 20, GET: 0, PUT: 0 });
      expect(get("noop-copy", "raw").counts).toMatchObject({ LIST: 2, GET: 0, PUT: 0 });
      expect(get("incremental", "raw").counts).toMatchObject({ GET: 5, PUT: 5 });

      // The runner's request-count targets (issue 7), which are exact.
      const c = (w: string) => get(w, "runner").counts!;
      expect(c("initial-cross")).toMatchObject({ GET: 20, PUT: 20, HEAD: 0, COPY: 0 });
      expect(c("initial-same")).toMatchObject({ COPY: 20, GET: 0, PUT: 0, HEAD: 0 });
      for (const w of ["noop-copy", "noop-bisync"]) {
        expect(c(w)).toMatchObject({ GET: 0, HEAD: 0, PUT: 0, COPY: 0 });
        expect(c(w).LIST).toBeLessThanOrEqual(2 * Math.ceil(50 / 1000) + 2);
      }
      expect(c("incremental")).toMatchObject({ GET: 5, PUT: 5, HEAD: 0 });

      // The planner ran the runner's own decision code and found exactly the synthetic changes.
      const planner = get("planner", "runner");
      expect(planner.ok, planner.note).toBe(true);
      expect(planner.note).toMatch(/460 actions \(expected 460\)/);
      expect(planner.maxRssKb).toBeGreaterThan(10_000);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
