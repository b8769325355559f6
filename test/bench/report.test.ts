import { describe, expect, it } from "vitest";
import { KINDS, type Kind } from "../support/proxy.js";
import { checkTargets, perObject, renderReport, renderTable, type Row } from "../../bench/lib/report.js";

const counts = (c: Partial<Record<Kind, number>>) => ({ ...Object.fromEntries(KINDS.map((k) => [k, 0])), ...c }) as Record<Kind, number>;
const row = (r: Partial<Row> & Pick<Row, "workload" | "tool">): Row => ({
  objects: 100,
  bytes: 0,
  wallMs: 1000,
  userMs: 100,
  sysMs: 50,
  maxRssKb: 50 * 1024,
  ok: true,
  note: "",
  counts: counts({}),
  ...r,
});

describe("bench report", () => {
  it("perObject shows only non-zero kinds, per object", () => {
    expect(perObject(counts({ GET: 100, PUT: 100, LIST: 1 }), 100)).toBe("LIST 0.010, GET 1, PUT 1");
    expect(perObject(counts({ HEAD: 250 }), 100)).toBe("HEAD 2.5");
    expect(perObject(counts({}), 100)).toBe("none");
  });

  it("renders ratios against rclone-best and raw of the same workload", () => {
    const rows = [
      row({ workload: "w", tool: "runner", wallMs: 1500 }),
      row({ workload: "w", tool: "rclone-best", wallMs: 3000 }),
      row({ workload: "w", tool: "raw", wallMs: 1000 }),
      row({ workload: "w", tool: "rclone-default", skipped: "rclone not installed" }),
    ];
    const t = renderTable(rows);
    expect(t).toContain("| w | runner | 1.50 | 0.50× | 1.50× |");
    expect(t).toContain("| w | raw | 1.00 | 0.33× | 1.00× |");
    expect(t).toContain("| w | rclone-default | – | – | – | – | – | – | – | skipped: rclone not installed |");
    // CPU ms per object: (100 + 50) / 100.
    expect(t).toMatch(/\| w \| runner .*\| 1\.50 \| 50 \| ok \|/);
  });

  it("checks the issue-7 targets and reports misses", () => {
    const rows = [
      row({ workload: "initial-cross (100)", tool: "runner", wallMs: 1100, counts: counts({ GET: 100, PUT: 100, LIST: 1 }) }),
      row({ workload: "initial-cross (100)", tool: "rclone-best", wallMs: 2000 }),
      row({ workload: "initial-cross (100)", tool: "raw", wallMs: 1000 }),
      row({ workload: "noop-copy (100)", tool: "runner", wallMs: 600, counts: counts({ LIST: 2, HEAD: 1 }) }),
      row({ workload: "noop-copy (100)", tool: "rclone-default", wallMs: 1000 }),
      row({ workload: "incremental", tool: "runner", note: "changed 3", counts: counts({ GET: 3, PUT: 3, LIST: 2 }) }),
      row({ workload: "large", tool: "runner", objects: 1, maxRssKb: 300 * 1024 }),
      row({ workload: "planner", tool: "runner", wallMs: 4000, maxRssKb: 900 * 1024 }),
    ];
    const met = Object.fromEntries(checkTargets(rows).map((t) => [`${t.workload.split(" ")[0]}: ${t.target}`, t.met]));
    expect(met["initial-cross: ≤ 1 GET + 1 PUT per object, 0 HEAD"]).toBe(true);
    expect(met["initial-cross: wall ≤ rclone best"]).toBe(true);
    expect(met["initial-cross: wall ≤ 1.15 × raw"]).toBe(true);
    expect(met["noop-copy: 0 GET/HEAD/PUT/COPY"]).toBe(false);
    expect(met["noop-copy: LIST pages ≤ 2·ceil(N/1000)+2 = 4"]).toBe(true);
    expect(met["noop-copy: wall ≤ 0.5 × rclone defaults"]).toBe(false);
    expect(met["incremental: transfers only the changed objects"]).toBe(true);
    expect(met["large: peak runner RSS ≤ 200 MB"]).toBe(false);
    expect(met["planner: decision ≤ 10 s"]).toBe(true);
    expect(met["planner: peak RSS ≤ 1.5 GB"]).toBe(true);
  });

  it("renders a report with the machine", () => {
    const md = renderReport({
      machine: { cpu: "Test CPU", cores: 2, memGb: 4, node: "v20", rclone: "rclone v1.60", os: "Debian", date: "2026-01-01T00:00:00Z" },
      rows: [row({ workload: "w", tool: "runner" })],
      mode: "full",
      command: "npm run bench",
      notes: ["a note"],
    });
    expect(md).toContain("- machine: Test CPU, 2 cores, 4 GB RAM, Debian");
    expect(md).toContain("- a note");
    expect(md).toContain("## Targets (issue 7)");
  });
});
