// Bad input (issue 8): a table of malformed topologies. Each one fails through planTopology with an
// Error naming the location and the fix, and through the real `npm run plan` process on a temp stack
// file with exit code 2 and one line on stderr (no stack trace, nothing on stdout).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planTopology } from "../../components/plan/index.js";
import { type CliRun, pool, runPlanProcess, tempDir, writeStack } from "./cli-helpers.js";
import { COMPARTMENT, NS } from "./helpers.js";

const a = { provider: "aws", bucket: "bucket-a", region: "us-east-1" };
const b = { provider: "aws", bucket: "bucket-b", region: "eu-west-1" };
const c = { provider: "aws", bucket: "bucket-c", region: "eu-central-1" };
const lon = { provider: "oci", bucket: "test-bucket-london", region: "uk-london-1", namespace: NS, compartmentId: COMPARTMENT };
const zrh = { provider: "oci", bucket: "test-bucket-zurich", region: "eu-zurich-1", namespace: NS, compartmentId: COMPARTMENT };
const abc = { a, b, c };
const link = (l: object) => ({ buckets: abc, links: [l] });

interface Case {
  name: string;
  topology: unknown;
  /** The location the message must name, e.g. "links[0].to". */
  where: string;
  /** What the message must say. */
  says: RegExp;
}

const cases: Case[] = [
  { name: "unknown bucket id", topology: link({ kind: "one-to-one", from: "a", to: "d" }), where: "links[0].to", says: /unknown bucket id "d"/ },
  { name: "self-link", topology: link({ kind: "one-to-one", from: "b", to: "b" }), where: "links[0].to", says: /from and to are both "b" \(a self-link\)\. Fix: point links\[0\]\.to at a bucket other than "b"/ },
  { name: "same edge from two links", topology: { buckets: abc, links: [{ kind: "one-to-one", from: "a", to: "b" }, { kind: "fan-out", from: "a", to: ["c", "b"] }] }, where: "links[1].to", says: /a→b is already produced by links\[0\]\.to \(a one-to-one link\)\. Fix: keep one link for a→b: remove "b" from links\[1\]\.to, or remove links\[0\]/ },
  { name: "empty fan-out target list", topology: link({ kind: "fan-out", from: "a", to: [] }), where: "links[0].to", says: /empty list/ },
  { name: "fan-in with deletes and no targetPrefixes", topology: link({ kind: "fan-in", from: ["a", "b"], to: "c", deletes: true }), where: "links[0].targetPrefixes", says: /delete the other's objects/ },
  { name: "one-way deletes over another writer's prefix", topology: { buckets: abc, links: [{ kind: "one-to-one", from: "a", to: "c", deletes: true }, { kind: "one-to-one", from: "b", to: "c", prefix: "b/" }] }, where: "links[0].deletes", says: /overlaps "b\/"/ },
  { name: "missing OCI compartmentId", topology: { buckets: { lon: { ...lon, compartmentId: undefined } }, links: [] }, where: "buckets.lon.compartmentId", says: /missing/ },
  { name: "unknown kind", topology: link({ kind: "many-to-many", from: "a", to: "b" }), where: "links[0].kind", says: /unknown kind/ },
  { name: "typo in a link key", topology: link({ kind: "one-to-one", from: "a", to: "b", delets: true }), where: "links[0].delets", says: /did you mean "deletes"/ },
  { name: "between with three buckets", topology: link({ kind: "bidirectional", between: ["a", "b", "c"] }), where: "links[0].between", says: /exactly 2/ },
  { name: "targetPrefixes key not a source", topology: link({ kind: "fan-in", from: ["a", "b"], to: "c", targetPrefixes: { c: "c/" } }), where: "links[0].targetPrefixes.c", says: /not one of this link's sources/ },
  { name: "conflict on a one-way link", topology: link({ kind: "fan-out", from: "a", to: ["b"], conflict: "newer" }), where: "links[0].conflict", says: /only to bidirectional/ },
  { name: "prefix with a leading slash", topology: link({ kind: "one-to-one", from: "a", to: "b", prefix: "/data/" }), where: "links[0].prefix", says: /starts with "\/"/ },
  { name: "region in the wrong format", topology: { buckets: { a: { ...a, region: "Frankfurt" } }, links: [] }, where: "buckets.a.region", says: /"Frankfurt" is not a known AWS region/ },
  { name: "region typo", topology: { buckets: { lon: { ...lon, region: "eu-fronkfurt-1" } }, links: [] }, where: "buckets.lon.region", says: /not a known OCI region\. Fix: did you mean "eu-frankfurt-1"\?/ },
  { name: "invalid S3 bucket name", topology: { buckets: { a: { ...a, bucket: "My_Bucket" } }, links: [] }, where: "buckets.a.bucket", says: /not a valid S3 bucket name/ },
  { name: "endpoint that is not a URL", topology: { buckets: { l: { provider: "s3", bucket: "media", endpoint: "linodeobjects" } }, links: [] }, where: "buckets.l.endpoint", says: /not a URL/ },
  { name: "plain http to a remote endpoint", topology: { buckets: { l: { provider: "s3", bucket: "media", endpoint: "http://203.0.113.7:9000" } }, links: [] }, where: "buckets.l.endpoint", says: /plain http/ },
  { name: "unquoted numeric accountId", topology: { buckets: { a: { ...a, accountId: 123456789012 } }, links: [] }, where: "buckets.a.accountId", says: /12-digit string/ },
  { name: "unknown provider", topology: { buckets: { g: { provider: "gcs", bucket: "bucket-g" } }, links: [] }, where: "buckets.g.provider", says: /unknown provider "gcs"/ },
  { name: "native forced where impossible", topology: { buckets: { lon, zrh }, links: [{ kind: "fan-out", from: "lon", to: ["zrh"], mechanism: "native" }], runner: { platform: "oci-compute", region: "uk-london-1", compartmentId: COMPARTMENT, tenancyId: "ocid1.tenancy.oc1..aaaa" } }, where: "links[0].mechanism", says: /"native" is impossible for lon→zrh: OCI replication always propagates deletes/ },
  { name: "deletes as a string", topology: link({ kind: "one-to-one", from: "a", to: "b", deletes: "yes" }), where: "links[0].deletes", says: /true or false/ },
  { name: "links not a list", topology: { buckets: abc, links: { kind: "one-to-one" } }, where: "links", says: /must be a list/ },
  { name: "buckets missing", topology: { links: [] }, where: "buckets", says: /missing/ },
  { name: "runner schedule not cron", topology: { buckets: abc, links: [], runner: { platform: "aws-ec2", region: "us-east-1", schedule: "hourly" } }, where: "runner.schedule", says: /"hourly" is not a schedule the runner deployment accepts: expected 5 fields, got 1/ },
  { name: "runner schedule the converter rejects", topology: { buckets: abc, links: [], runner: { platform: "aws-ec2", region: "us-east-1", schedule: "*/75 * * * *" } }, where: "runner.schedule", says: /steps cannot be greater/ },
  { name: "runner field of the other platform", topology: { buckets: abc, links: [], runner: { platform: "oci-compute", region: "uk-london-1", instanceType: "t3.small" } }, where: "runner.instanceType", says: /only to platform aws-ec2/ },
];

describe("bad topologies through planTopology", () => {
  it("has at least 15 cases", () => expect(cases.length).toBeGreaterThanOrEqual(15));

  it.each(cases)("$name → one clear Error naming $where", ({ topology, where, says }) => {
    let message = "";
    expect(() => {
      try {
        planTopology(topology as never);
      } catch (e) {
        message = (e as Error).message;
        throw e;
      }
    }).toThrow(Error);
    expect(message).toContain(`${where}:`);
    expect(message).toMatch(says);
    expect(message).toMatch(/Fix: /);
    expect(message).not.toContain("\n");
  });
});

describe("bad stack files through npm run plan (real process)", () => {
  let dir = "";
  const runs = new Map<string, CliRun>();
  const extra: Record<string, () => string[]> = {
    "missing stack file": () => ["--dir", dir, "--stack", "nosuch"],
    "invalid YAML": () => {
      writeFileSync(join(dir, "Pulumi.broken.yaml"), "config:\n  bucket-replication:topology: {buckets: [\n");
      return ["--stack-file", join(dir, "Pulumi.broken.yaml")];
    },
    "no topology key": () => {
      writeFileSync(join(dir, "Pulumi.empty.yaml"), "config:\n  topology:\n    buckets: {}\n    links: []\n");
      return ["--stack-file", join(dir, "Pulumi.empty.yaml")];
    },
    "unknown option": () => ["--stack", "dev", "--fromat", "markdown"],
  };

  beforeAll(async () => {
    dir = tempDir();
    const jobs: [string, string[]][] = cases.map((k, i) => {
      writeStack(dir, `bad${i}`, k.topology);
      return [k.name, ["--dir", dir, "--stack", `bad${i}`]];
    });
    for (const [name, argv] of Object.entries(extra)) jobs.push([name, argv()]);
    const results = await pool(jobs, 2, ([, argv]) => runPlanProcess(argv));
    jobs.forEach(([name], i) => runs.set(name, results[i]));
  }, 120_000);

  afterAll(() => runs.clear());

  it.each(cases)("$name → exit 2, one line naming $where", ({ name, where, says }) => {
    const run = runs.get(name)!;
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^plan: Invalid replication topology: /);
    expect(lines[0]).toContain(`${where}:`);
    expect(lines[0]).toMatch(says);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ["missing stack file", /^plan: no stack file .*Pulumi\.nosuch\.yaml \(stacks: bad0, bad1, /],
    ["invalid YAML", /^plan: Pulumi\.broken\.yaml is not valid YAML: /],
    ["no topology key", /^plan: Pulumi\.empty\.yaml has no bucket-replication:topology in config \(found topology\)\. Fix: /],
    ["unknown option", /^plan: unknown argument "--fromat"\. usage: /],
  ])("%s → exit 2 with one line", (name, says) => {
    const run = runs.get(name)!;
    expect(run.code).toBe(2);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(says);
  });
});
