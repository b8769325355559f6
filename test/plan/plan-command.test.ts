// `npm run plan` on every committed stack file: text (table + Mermaid) and markdown, to stdout and --out.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadStackTopology, parseArgs, planStack, runPlanCli } from "../../scripts/plan.js";
import { type CliRun, ROOT, pool, runPlanProcess, tempDir } from "./cli-helpers.js";

const STACKS = join(ROOT, "stacks");
const stacks = readdirSync(STACKS).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s).sort();

function runInProcess(argv: string[]): CliRun {
  let stdout = "";
  let stderr = "";
  const code = runPlanCli(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

describe("committed stacks", () => {
  it("includes dev and prod", () => expect(stacks).toEqual(expect.arrayContaining(["dev", "prod"])));

  const text = new Map<string, CliRun>();
  const markdown = new Map<string, CliRun>();
  beforeAll(async () => {
    const jobs = stacks.flatMap((s) => [[s, "text"], [s, "markdown"]] as const);
    const runs = await pool([...jobs], 2, ([s, f]) => runPlanProcess(["--stack", s, "--format", f]));
    jobs.forEach(([s, f], i) => (f === "text" ? text : markdown).set(s, runs[i]));
  }, 60_000);

  it.each(stacks)("%s: npm run plan prints the edge table and a Mermaid flowchart", (stack) => {
    const run = text.get(stack)!;
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const { plan } = planStack(parseArgs(["--stack", stack]));
    expect(plan.edges.length).toBeGreaterThan(0);
    expect(run.stdout).toMatch(new RegExp(`^Replication plan for stack ${stack}: ${plan.edges.length} directed edges`));
    expect(run.stdout).toMatch(/\| from +\| to +\| link +\| kind +\| mechanism +\| deletes +\| conflict +\| prefixes +\| reason +\|/);
    for (const e of plan.edges) expect(run.stdout).toContain(e.reason.replace(/\|/g, "\\|"));
    expect(run.stdout).toContain("```mermaid\nflowchart LR\n");
  });

  it.each(stacks)("%s: --format markdown is one markdown document", (stack) => {
    const run = markdown.get(stack)!;
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith(`# Replication plan: stack ${stack}\n`)).toBe(true);
    for (const h of ["## Topology", "## Edges", "## Buckets"]) expect(run.stdout).toContain(`\n${h}\n`);
    expect(run.stdout).toContain("```mermaid\nflowchart LR\n");
  });
});

describe("what the committed stacks plan", () => {
  it("dev: London↔Zurich on the runner (seed 000), the AWS fan-out native", () => {
    const { plan } = planStack(parseArgs(["--stack", "dev"]));
    const m = Object.fromEntries(plan.edges.map((e) => [`${e.from}>${e.to}`, e.mechanism]));
    expect(m).toEqual({
      "london>zurich": "runner", "zurich>london": "runner",
      "reports-us>reports-eu": "aws-native", "reports-us>reports-ap": "aws-native",
    });
  });

  it("prod: every mechanism, and a fan-in into per-source prefixes on the runner", () => {
    const { args, plan } = planStack(parseArgs(["--stack", "prod"]));
    expect(new Set(plan.edges.map((e) => e.mechanism))).toEqual(new Set(["aws-native", "oci-native", "s3-native", "runner"]));
    const fanIn = plan.edges.filter((e) => e.kind === "fan-in");
    expect(fanIn.length).toBeGreaterThanOrEqual(3);
    expect(new Set(fanIn.map((e) => args.buckets[e.from].provider))).toEqual(new Set(["aws", "oci", "s3"]));
    expect(new Set(fanIn.map((e) => e.targetPrefix)).size).toBe(fanIn.length);
    expect(fanIn.every((e) => e.mechanism === "runner")).toBe(true);
    expect(args.runner?.platform).toBeDefined();
  });
});

describe("options", () => {
  it("--out writes the markdown document to a file", () => {
    const out = join(tempDir(), "plan.md");
    const run = runInProcess(["--stack", "dev", "--format", "markdown", "--out", out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Wrote the plan of stack dev \(4 edges\) to /);
    expect(readFileSync(out, "utf8")).toBe(planStack(parseArgs(["--stack", "dev", "--format", "markdown"])).output);
  });

  it("secure: values in a stack file are planned as set, never decrypted or printed", () => {
    const dir = tempDir();
    const yaml = [
      "config:",
      "  bucket-replication:topology:",
      "    buckets:",
      "      a: { provider: aws, bucket: bucket-a, region: us-east-1 }",
      "      l:",
      "        provider: s3",
      "        bucket: bucket-l",
      "        endpoint: https://eu-central-1.linodeobjects.com",
      "        credentials:",
      "          accessKeyId: { secure: v1:AAAAsecretciphertextAAAA }",
      "          secretAccessKey: { secure: v1:BBBBsecretciphertextBBBB }",
      "    links: [{ kind: one-to-one, from: a, to: l }]",
      "    runner: { platform: aws-ec2, region: us-east-1 }",
    ].join("\n");
    writeFileSync(join(dir, "Pulumi.sec.yaml"), yaml);
    const run = runInProcess(["--dir", dir, "--stack", "sec"]);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/secretciphertext|\[secret\]/);
    const topology = loadStackTopology(join(dir, "Pulumi.sec.yaml")) as { buckets: Record<string, { credentials?: unknown }> };
    expect(topology.buckets.l.credentials).toEqual({ accessKeyId: "[secret]", secretAccessKey: "[secret]" });
  });

  it("usage errors exit 2: no stack, both stack and file, a bad format, a path as stack name", () => {
    for (const argv of [[], ["--stack", "dev", "--stack-file", "x.yaml"], ["--stack", "dev", "--format", "html"], ["--stack", "../etc/passwd"]]) {
      const run = runInProcess(argv);
      expect(run.code, argv.join(" ")).toBe(2);
      expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    }
  });

  it("--help exits 0 with the usage", () => {
    const run = runInProcess(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run plan -- --stack <name>/);
  });
});

