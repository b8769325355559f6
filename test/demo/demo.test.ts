// `npm start` end to end: the demo runs as a child process exactly as a user runs it, against real
// s3rver processes in a temp dir. Its claims are then checked independently: the sites are started
// again on the demo's data directories and listed here.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startSites, type Site } from "../../local/sites.js";
import { listAll, localClient, getText } from "../../demo/s3.js";
import type { DemoSummary } from "../../demo/main.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");

function runDemo(args: string[]): { code: number; stdout: string; stderr: string; seconds: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [TSX, join(ROOT, "demo", "main.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 110_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - started) / 1000 };
}

// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

const SIZE = String.raw`\d+(?:\.\d+)? (?:B|KiB|MiB|GiB|TiB)`;
const RUN_TIME = String.raw`(?:<0\.1 s|\d+\.\d s|-)`;
/** A verification row ends with: objects, bytes (source / target), in sync, run 1, run 2, check. */
const ROW_TAIL = new RegExp(String.raw`(\d+) / (\d+)\s+(${SIZE}) / (${SIZE})\s+(yes|NO)\s+${RUN_TIME}\s+${RUN_TIME}\s+\d+\.\d+ s$`);

/**
 * The end of a demo's output: the conflict copies of London's edit printed for both sides, and the
 * verification table with its objects, bytes and time columns, one row per verified edge, all in sync.
 */
function expectFinalReport(stdout: string, summary: DemoSummary): void {
  const out = plain(stdout);
  const copies = Object.values(summary.conflicts.copies);
  expect(copies).toHaveLength(2);
  const listed = out.slice(out.indexOf("Conflict copies"));
  for (const keys of copies) {
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(key).toMatch(/^shared\/forecast\.csv\.conflict/);
      expect(listed).toContain(key);
    }
  }
  expect(out).toMatch(/oci-london:test-bucket-london: shared\/forecast\.csv\.conflict\S+/);
  expect(out).toMatch(/oci-zurich:test-bucket-zurich: shared\/forecast\.csv\.conflict\S+/);

  const table = out.slice(out.indexOf("Verification"));
  const header = table.split("\n").find((l) => /\blink\b.*\bkind\b/.test(l)) ?? "";
  expect(header.trim().split(/\s{2,}/)).toEqual(["link", "kind", "edge", "objects", "bytes", "in sync", "run 1", "run 2", "check"]);
  const rows = table.split("\n").filter((l) => /[→⇄]/.test(l) && /\d+ \/ \d+/.test(l));
  expect(rows).toHaveLength(summary.links.length);
  // Links are numbered as in the stack config, the plan and its errors: links[0], links[1], ...
  expect(rows.map((r) => /links\[(\d+)\]/.exec(r)?.[1])).toEqual(summary.links.map((l) => String(l.link)));
  const planned = out.slice(0, out.indexOf("Verification"));
  for (let i = 0; i < 4; i++) expect(planned).toMatch(new RegExp(`^  (\\x1b\\[[0-9;]*m)*links\\[${i}\\]`, "m"));
  expect(out).not.toMatch(/\blink \d\b/);
  for (const row of rows) {
    const m = ROW_TAIL.exec(row.trimEnd());
    expect(m, `row with objects, bytes and times: ${row}`).not.toBeNull();
    const [, srcObjects, dstObjects, srcBytes, dstBytes, inSync] = m!;
    expect(inSync).toBe("yes");
    expect(dstObjects).toBe(srcObjects);
    expect(dstBytes).toBe(srcBytes);
  }
  expect(out).toContain(`All ${summary.plan.length} edges of 4 links are in sync.`);
}

describe("npm start (demo/main.ts)", () => {
  let tmp: string;
  let dir: string;
  let summaryFile: string;
  let result: ReturnType<typeof runDemo>;
  let summary: DemoSummary;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "demo-test-"));
    dir = join(tmp, "work");
    summaryFile = join(tmp, "summary.json");
    result = runDemo(["--dir", dir, "--json-summary", summaryFile]);
    if (result.code !== 0) console.error(result.stdout, result.stderr);
    summary = JSON.parse(readFileSync(summaryFile, "utf8")) as DemoSummary;
  }, 120_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("exits 0 and reports success", () => {
    expect(result.code).toBe(0);
    expect(summary.ok).toBe(true);
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|Error/);
  });

  it("ran the real runner twice and its check", () => {
    expect(summary.runs.map((r) => [r.name, r.exitCode])).toEqual([
      ["first run", 0],
      ["second run", 0],
    ]);
    expect(summary.check.exitCode).toBe(0);
    // The per-job summary lines of both runs were read (they feed the table's run 1 / run 2 times).
    const jobs = new Set(summary.links.map((l) => l.job));
    for (const r of summary.runs) expect(new Set(r.jobs.map((j) => j.job)), r.name).toEqual(jobs);
    const second = summary.runs[1].jobs;
    expect(second.find((j) => j.mode === "bisync")?.conflicts).toBe(1);
    expect(summary.converged).toMatchObject({ copied: 0, deleted: 0, conflicts: 0, exitCode: 0 });
  });

  it("plans every link of the committed topology and verifies every edge in sync", () => {
    const doc = parse(readFileSync(join(ROOT, "demo", "topology.yaml"), "utf8"));
    const topo = doc.config["bucket-replication:topology"];
    const kinds = topo.links.map((l: { kind: string }) => l.kind).sort();
    expect(kinds).toEqual(["bidirectional", "fan-in", "fan-out", "one-to-one"]);
    // Every planned edge is served locally (a bidirectional pair is one bisync job, one row).
    const expectedRows = summary.plan.length - summary.plan.filter((e) => e.kind === "bidirectional").length / 2;
    expect(summary.links).toHaveLength(expectedRows);
    expect(new Set(summary.links.map((l) => l.kind))).toEqual(new Set(kinds));
    for (const l of summary.links) {
      expect(l.inSync, `${l.from} → ${l.to}`).toBe(true);
      expect(l.source.objects, `${l.from} has objects`).toBeGreaterThan(0);
      expect(l.target.missing + l.target.different).toBe(0);
    }
    // The plan shows native mechanisms where the clouds have them, and the runner elsewhere.
    expect(summary.plan.some((e) => e.mechanism !== "runner")).toBe(true);
    expect(summary.plan.some((e) => e.mechanism === "runner")).toBe(true);
    expect(summary.story.filter((s) => !s.ok)).toEqual([]);
  });

  it("prints the plan, says every edge runs on the runner locally, and a verification table all in sync", () => {
    const out = plain(result.stdout);
    expect(out).toMatch(/every edge runs on the sync runner/);
    for (const e of summary.plan) expect(out).toContain(e.reason);
    expectFinalReport(result.stdout, summary);
  });

  describe("checked independently on the demo's data", () => {
    let sites: Record<string, Site>;
    const bucketsOf = (site: string) => summary.sites[site].buckets;

    beforeAll(async () => {
      sites = await startSites(Object.fromEntries(Object.keys(summary.sites).map((s) => [s, { dir: join(dir, "sites", s) }])));
    }, 60_000);
    afterAll(async () => {
      if (sites) await Promise.all(Object.values(sites).map((s) => s.stop()));
    });

    it("the conflict copy of London's edit exists on both sides of London ⇄ Zurich; Zurich's newer edit won", async () => {
      for (const [site, bucket] of [
        ["oci-london", "test-bucket-london"],
        ["oci-zurich", "test-bucket-zurich"],
      ]) {
        expect(bucketsOf(site)).toContain(bucket);
        const client = localClient(sites[site].endpoint);
        const keys = (await listAll(client, bucket)).map((o) => o.key);
        const copies = keys.filter((k) => k.startsWith("shared/forecast.csv.conflict"));
        expect(copies.length, `${site} conflict copies`).toBeGreaterThan(0);
        expect(await getText(client, bucket, copies[0])).toContain("2019Q2,1410000"); // London's version
        expect(await getText(client, bucket, "shared/forecast.csv")).toContain("2019Q4,1610000"); // Zurich's
        expect(keys).not.toContain("source-a/custsales-2019-01.csv"); // deleted in London
        expect(keys).toContain("source-a/custsales-2019-06.csv"); // new in London
        expect(keys).toContain("source-b/custsales-2019-08.csv"); // new in Zurich
      }
      const london = await listAll(localClient(sites["oci-london"].endpoint), "test-bucket-london");
      const zurich = await listAll(localClient(sites["oci-zurich"].endpoint), "test-bucket-zurich");
      expect(london.map((o) => [o.key, o.size])).toEqual(zurich.map((o) => [o.key, o.size]));
    });

    it("fan-in landed under per-source prefixes in the audit bucket", async () => {
      const audit = await listAll(localClient(sites["oci-london"].endpoint), "acme-audit-london");
      const fra = await listAll(localClient(sites["aws-frankfurt"].endpoint), "acme-logs-frankfurt");
      const osa = await listAll(localClient(sites["linode-osaka"].endpoint), "acme-logs-osaka");
      expect(fra.length).toBeGreaterThan(0);
      expect(osa.length).toBeGreaterThan(0);
      const expected = [...fra.map((o) => [`frankfurt/${o.key}`, o.size]), ...osa.map((o) => [`osaka/${o.key}`, o.size])].sort();
      expect(audit.map((o) => [o.key, o.size]).sort()).toEqual(expected);
      expect(summary.fanIn.prefixes).toEqual({ "frankfurt/": fra.length, "osaka/": osa.length });
    });

    it("fan-out and one-to-one targets hold the sources' objects", async () => {
      const fra = await listAll(localClient(sites["aws-frankfurt"].endpoint), "acme-assets-frankfurt");
      for (const [site, bucket] of [
        ["aws-virginia", "acme-assets-virginia"],
        ["linode-osaka", "acme-assets-osaka"],
      ]) {
        const t = await listAll(localClient(sites[site].endpoint), bucket);
        expect(t.map((o) => [o.key, o.size])).toEqual(fra.map((o) => [o.key, o.size]));
      }
      const bl = await listAll(localClient(sites["oci-london"].endpoint), "acme-backups-london");
      const bz = await listAll(localClient(sites["oci-zurich"].endpoint), "acme-backups-zurich");
      expect(bz.map((o) => o.key)).toEqual(bl.map((o) => o.key));
      expect(bz.map((o) => o.key)).not.toContain("db/2025-03-01.dump");
    });
  });

  // A re-run over the first run's directory (after the independent checks above are done with it):
  // the demo must start clean and end in the same state. With --keep, `ok` in the summary is exactly
  // the condition for exit 0 without --keep; the exit code itself is Ctrl-C's 130.
  it("re-run over the used directory with --keep: all in sync again; endpoints stay up for any S3 client, printed with the local keys, and stop on Ctrl-C", async () => {
    const keepSummary = join(tmp, "keep-summary.json");
    const child = spawn(process.execPath, [TSX, join(ROOT, "demo", "main.ts"), "--dir", dir, "--keep", "--json-summary", keepSummary], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so "Ctrl-C" below reaches every process in it, as a terminal's does.
      detached: true,
    });
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // the group is gone already
      }
    };
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (out.includes("Press Ctrl-C")) {
            clearInterval(timer);
            resolve();
          }
        }, 100);
        void exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`demo exited (${code}) before keeping the endpoints:\n${out}`));
        });
      });
      const kept = JSON.parse(readFileSync(keepSummary, "utf8")) as DemoSummary;
      expect(kept.ok).toBe(true);
      expect(kept.dir).toBe(summary.dir);
      expect(kept.runs.map((r) => [r.name, r.exitCode])).toEqual([["first run", 0], ["second run", 0]]);
      expect(kept.runs[1].jobs.find((j) => j.mode === "bisync")?.conflicts).toBe(1); // the seed was fresh again
      expect(kept.links.map((l) => [l.from, l.to, l.inSync])).toEqual(summary.links.map((l) => [l.from, l.to, true]));
      expect(kept.links.map((l) => [l.source.objects, l.target.objects])).toEqual(summary.links.map((l) => [l.source.objects, l.target.objects]));
      expect(kept.story.filter((x) => !x.ok)).toEqual([]);
      expectFinalReport(out, kept);
      const london = kept.sites["oci-london"].endpoint;
      expect(out).toContain(london);
      expect(out).toMatch(/access key S3RVER, secret key S3RVER/);
      expect(out).toContain(`aws --endpoint-url ${london} s3 ls s3://test-bucket-london`);
      // Any S3 client works against the kept endpoint.
      const keys = (await listAll(localClient(london), "test-bucket-london")).map((o) => o.key);
      expect(keys).toContain("shared/forecast.csv");
      group("SIGINT"); // Ctrl-C
      expect(await exited).toBe(130);
      await expect(listAll(localClient(london), "test-bucket-london")).rejects.toThrow();
    } finally {
      group("SIGKILL"); // on failure: leave no server behind
    }
  }, 90_000);

  it("refuses to wipe a directory it did not create", () => {
    const foreign = join(tmp, "foreign");
    mkdirSync(foreign, { recursive: true });
    writeFileSync(join(foreign, "precious.txt"), "do not delete");
    const r = runDemo(["--dir", foreign]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/refusing to wipe/);
    expect(readFileSync(join(foreign, "precious.txt"), "utf8")).toBe("do not delete");
  });
});
