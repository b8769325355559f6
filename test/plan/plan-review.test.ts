// Issue 15 through the real `npm run plan` process: the plan fails where `pulumi preview` would
// (cron, regions, OCI tenancy), lists every problem on its own line, and shows what a reviewer needs
// (conflict policy, created/referenced buckets, versioning, backfill and its time limit, runner jobs,
// resources with the cost-relevant ones flagged), in text and PR-comment-sized markdown.
import { beforeAll, describe, expect, it } from "vitest";
import { type CliRun, pool, runPlanProcess, tempDir, writeStack } from "./cli-helpers.js";
import { COMPARTMENT, NS } from "./helpers.js";

const TENANCY = "ocid1.tenancy.oc1..aaaaaaaatenancyfortests";
const a = { provider: "aws", bucket: "bucket-a", region: "us-east-1" };
const lon = { provider: "oci", bucket: "bucket-lon", region: "uk-london-1", namespace: NS, compartmentId: COMPARTMENT };
const awsToOci = { buckets: { a, lon }, links: [{ kind: "one-to-one", from: "a", to: "lon" }], runner: { platform: "aws-ec2", region: "us-east-1" } };
const backfilled = {
  buckets: {
    src: { provider: "aws", bucket: "existing-src", region: "us-east-1", create: false },
    dst: { provider: "aws", bucket: "new-dst", region: "eu-west-1" },
  },
  links: [{ kind: "one-to-one", from: "src", to: "dst" }],
};

interface Case {
  topology: unknown;
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  args?: string[];
}
const cases: Record<string, Case> = {
  "no tenancy": { topology: awsToOci },
  "tenancy in the env": { topology: awsToOci, env: { TF_VAR_tenancy_ocid: TENANCY } },
  "tenancy in the stack": { topology: awsToOci, config: { "oci:tenancyOcid": TENANCY } },
  "tenancy as a secret": { topology: awsToOci, config: { "oci:tenancyOcid": { secure: "v1:AAAAciphertext" } } },
  "cron backwards": { topology: { buckets: { a }, links: [], runner: { platform: "aws-ec2", region: "us-east-1", schedule: "30-10 * * * *" } } },
  "cron month name": { topology: { buckets: { a }, links: [], runner: { platform: "aws-ec2", region: "us-east-1", schedule: "0 0 * FOO *" } } },
  "cron @hourly": { topology: { buckets: { a }, links: [], runner: { platform: "aws-ec2", region: "us-east-1", schedule: "@hourly" } } },
  "many problems": { topology: { buckets: { a, lon: { ...lon, region: "eu-fronkfurt-1" } }, links: [{ kind: "fanout", from: "a", to: ["lon"] }], runner: { platform: "ec2", region: "us-east-1" } } },
  "new region, no hatch": { topology: { buckets: { lon: { ...lon, region: "eu-newcity-1" } }, links: [] } },
  "new region, extraRegions": { topology: { buckets: { lon: { ...lon, region: "eu-newcity-1" } }, links: [] }, config: { "bucket-replication:extraRegions": ["eu-newcity-1"] } },
  "backfill default": { topology: backfilled },
  "backfill 120 minutes": { topology: backfilled, config: { "bucket-replication:backfillTimeoutMinutes": 120 } },
  "backfill markdown": { topology: backfilled, args: ["--format", "markdown"] },
};
const stacks = ["dev", "prod"].flatMap((s) => [[s, "text"], [s, "markdown"]] as const);

const runs = new Map<string, CliRun>();
beforeAll(async () => {
  const dir = tempDir();
  const jobs: [string, string[], Record<string, string>][] = Object.entries(cases).map(([name, c], i) => {
    writeStack(dir, `c${i}`, c.topology, c.config);
    return [name, ["--dir", dir, "--stack", `c${i}`, ...(c.args ?? [])], c.env ?? {}];
  });
  for (const [s, f] of stacks) jobs.push([`${s} ${f}`, ["--stack", s, "--format", f], {}]);
  const results = await pool(jobs, 2, ([, argv, env]) => runPlanProcess(argv, env));
  jobs.forEach(([name], i) => runs.set(name, results[i]));
}, 120_000);

const ok = (name: string): string => {
  const run = runs.get(name)!;
  expect(run.stderr, name).toBe("");
  expect(run.code, name).toBe(0);
  return run.stdout;
};
const fails = (name: string): string[] => {
  const run = runs.get(name)!;
  expect(run.code, name).toBe(2);
  expect(run.stdout).toBe("");
  expect(run.stderr).not.toMatch(/\n\s+at /);
  return run.stderr.trimEnd().split("\n");
};

describe("the plan fails where pulumi preview would", () => {
  it("an aws-ec2 runner serving an OCI bucket without a tenancy: exit 2 naming runner.tenancyId and the three ways to set it", () => {
    expect(fails("no tenancy")).toEqual([
      expect.stringMatching(/^plan: Invalid replication topology: runner\.tenancyId: no OCI tenancy is set, and the aws-ec2 runner reaches the OCI bucket lon .*Fix: set runner\.tenancyId, or the stack config oci:tenancyOcid .*, or the TF_VAR_tenancy_ocid environment variable\.$/),
    ]);
  });

  it("the tenancy from TF_VAR_tenancy_ocid, from oci:tenancyOcid, or as a secure value is enough", () => {
    for (const name of ["tenancy in the env", "tenancy in the stack", "tenancy as a secret"]) expect(ok(name)).toMatch(/^Replication plan for stack c\d+: 1 directed edge /);
    expect(ok("tenancy as a secret")).not.toContain("ciphertext");
  });

  it("cron expressions the deployment's converter rejects are rejected; @hourly is accepted", () => {
    expect(fails("cron backwards")).toEqual([expect.stringMatching(/^plan: Invalid replication topology: runner\.schedule: "30-10 \* \* \* \*" is not a schedule the runner deployment accepts: minute range "30-10" runs backwards\. Fix: /)]);
    expect(fails("cron month name")[0]).toMatch(/runner\.schedule: "0 0 \* FOO \*" .*month has an unsupported value "FOO"/);
    expect(ok("cron @hourly")).toContain("No edge needs the runner, so the runner section deploys nothing.");
  });

  it("every problem on its own line, each with its field, message and fix", () => {
    expect(fails("many problems")).toEqual([
      "plan: Invalid replication topology (3 problems):",
      '  buckets.lon.region: "eu-fronkfurt-1" is not a known OCI region. Fix: did you mean "eu-frankfurt-1"? Otherwise use the OCI region identifier; if it is a region that opened recently, add it to the stack config bucket-replication:extraRegions (a list of region names).',
      '  links[0].kind: unknown kind "fanout". Fix: did you mean "fan-out"? use one of one-to-one, bidirectional, fan-out, fan-in.',
      '  runner.platform: unknown platform "ec2". Fix: use "aws-ec2", "oci-compute", "kubernetes" or "aws-ecs".',
    ]);
  });

  it("a region newer than the table: rejected, accepted once listed in bucket-replication:extraRegions", () => {
    expect(fails("new region, no hatch")[0]).toMatch(/buckets\.lon\.region: "eu-newcity-1" is not a known OCI region\. Fix: use the OCI region identifier, .*bucket-replication:extraRegions/);
    expect(ok("new region, extraRegions")).toMatch(/OCI eu-newcity-1/);
  });
});

describe("what a reviewer sees", () => {
  it("dev (text): conflict policy, bisync job, created buckets, versioning turned on, resources with costs flagged", () => {
    const out = ok("dev text");
    expect(out).toMatch(/\| london +\| zurich +\| links\[0\] \| bidirectional \| runner +\| yes +\| keep-both \|/);
    expect(out).toMatch(/\| reports-us +\| reports-eu +\| links\[1\] \| fan-out +\| aws-native \| yes +\| - +\| published\/ +\|/);
    expect(out).toMatch(/\| london +\| oci +\| test-bucket-london +\| .* \| created +\| unchanged +\|/);
    expect(out).toMatch(/\| reports-us \| aws +\| .* \| created +\| turned on: S3 Replication needs it on both ends \|/);
    expect(out).toMatch(/Runner jobs \(1\):\n\n\| job +\| mode +\| source \| targets \| conflict +\| edges +\|\n.*\n\| london-and-zurich \| bisync \| london +\| zurich +\| keep-both \| links\[0\] \(london→zurich, zurich→london\) \|/);
    expect(out).toMatch(/\| runner on oci-compute \(uk-london-1\) \| \$ +\| 1 +\| oci:Core\/instance:Instance +\| runner VM, VM\.Standard\.E5\.Flex, 1 OCPU, 16 GB/);
    // zurich is outside the runner's region: the OCI runner gets a NAT gateway, flagged.
    expect(out).toMatch(/\| \$ +\| 1 +\| oci:Core\/natGateway:NatGateway/);
    expect(out).toMatch(/Cost-relevant:\n(- .*\n)*- runner on oci-compute \(uk-london-1\): vault for the runner's keys\./);
  });

  it("prod (text): the aws-ec2 runner's NAT gateway and instance are flagged; reminders for what the stack file cannot show", () => {
    const out = ok("prod text");
    expect(out).toMatch(/\| \$ +\| 1 +\| aws:ec2\/natGateway:NatGateway +\| NAT gateway \(endpoints outside AWS S3 in this region\)/);
    expect(out).toMatch(/\| \$ +\| 1 +\| aws:ec2\/instance:Instance +\| runner VM, t3\.medium/);
    expect(out).toMatch(/Not visible offline, and `pulumi preview` stops without it:\n- buckets\.osaka\.credentials: not set/);
    expect(out).toMatch(/- buckets\.sos-gva\.replicationRole: not set/);
    expect(out).toMatch(/\| sos-gva +\| s3 +\| .* \| referenced \(s3 buckets are never created\) \| turned on on an existing bucket/);
  });

  it("backfill: the S3 Batch Replication job and the 60-minute wait (or the configured one)", () => {
    const out = ok("backfill default");
    expect(out).toMatch(/\| src +\| aws +\| existing-src \| AWS us-east-1 \| referenced \(create: false\) \| turned on on an existing bucket .* \| into dst \(see Backfill\) \|/);
    expect(out).toContain("- src → dst: S3 Batch Replication job copying the objects that already exist (billed per job and per object). `pulumi up` waits up to 60 minutes for it and fails after that (config bucket-replication:backfillTimeoutMinutes).");
    expect(out).toMatch(/\| \$ +\| 1 +\| bucket-replication:index:S3BatchReplication +\| backfill job/);
    expect(ok("backfill 120 minutes")).toContain("`pulumi up` waits up to 120 minutes");
  });

  it("markdown is PR-comment sized: costs up front, compact tables, the resource list collapsed", () => {
    for (const s of ["dev", "prod"]) {
      const md = ok(`${s} markdown`);
      expect(md.length, s).toBeLessThan(20_000);
      expect(md).toMatch(/\*\*Costs money:\*\*\n\n- /);
      expect(md).toMatch(/## Resources\n\n<details>\n<summary>\d+ resources `pulumi up` creates \(\$ = costs money on its own\)<\/summary>\n\n\| for \| \$ \| count \| what \| type \|/);
      expect(md).toContain("\n</details>\n");
      expect(md).toMatch(/\| from \| to \| link \| kind \| mechanism \| deletes \| conflict \| prefixes \| reason \|/);
    }
    expect(ok("backfill markdown")).toContain("### Backfill\n\n- src → dst: S3 Batch Replication job");
  });
});
