// One validator for the plan and the deployment (issue 15): each rule that `pulumi preview` would
// stop on is caught by planTopology, with the field and the fix, and every problem is listed at once.
import { describe, expect, it } from "vitest";
import { cronToOnCalendar, scheduleGaps } from "../../components/deploy/schedule.js";
import { TopologyError, planTopology } from "../../components/plan/index.js";
import { readiness } from "../../components/plan/readiness.js";
import type { PlanSettings } from "../../components/plan/settings.js";
import type { ReplicationTopologyArgs } from "../../components/plan/types.js";
import { COMPARTMENT, aws, expectPlanError, oci, planError, s3, sos } from "./helpers.js";

const TENANCY = "ocid1.tenancy.oc1..aaaaaaaatenancy";
const deploy: PlanSettings = { ociTenancyOcid: TENANCY, complete: true };

function converterAccepts(expr: string): boolean {
  try {
    cronToOnCalendar(expr);
    scheduleGaps(expr);
    return true;
  } catch {
    return false;
  }
}
function planAccepts(schedule: string): boolean {
  try {
    planTopology({ buckets: {}, links: [], runner: { platform: "aws-ec2", region: "us-east-1", schedule } });
    return true;
  } catch {
    return false;
  }
}

describe("runner.schedule goes through the deployment's cron converter", () => {
  it.each([
    ["0 0 * FOO *", /month has an unsupported value "FOO"/],
    ["30-10 * * * *", /minute range "30-10" runs backwards/],
    ["*/75 * * * *", /steps cannot be greater than maximum value/],
    ["0 0 31 2 *", /never runs/],
    ["@reboot", /macro @reboot is not supported/],
    ["0 0 * * * *", /expected 5 fields, got 6/],
  ])("%s is rejected, with the converter's reason", (schedule, why) => {
    expectPlanError({ buckets: {}, links: [], runner: { platform: "aws-ec2", region: "us-east-1", schedule } }, "runner.schedule", why, /@hourly/);
  });

  it.each(["@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight", "*/15 * * * *", "0 9-17/2 * * MON-FRI", "5 4 1,15 JAN *"])(
    "%s is accepted by both",
    (schedule) => {
      expect(converterAccepts(schedule)).toBe(true);
      expect(planAccepts(schedule)).toBe(true);
    },
  );

  it("the plan and the converter agree on every expression of a mixed list", () => {
    const list = ["@hourly", "@HOURLY", "@every 5m", "0 0 * FOO *", "30-10 * * * *", "*/75 * * * *", "*/59 * * * *", "0 0 L * *", "0 0 ? * *",
      "0 0 * * 7", "0 0 * * 8", "0 24 * * *", "0 0 0 * *", "1-5/2 * * * *", "* * * * *", "0 0 1 1-12/3 *", "0 0 29 2 *"];
    for (const expr of list) expect(planAccepts(expr), expr).toBe(converterAccepts(expr));
  });
});

describe("region names", () => {
  it("a typo gets a did-you-mean, for buckets and the runner", () => {
    expectPlanError({ buckets: { o: oci("b-o", "eu-fronkfurt-1") }, links: [] }, "buckets.o.region", /"eu-fronkfurt-1" is not a known OCI region/, /did you mean "eu-frankfurt-1"\?/);
    expectPlanError({ buckets: { a: aws("bucket-a", "us-est-1") }, links: [] }, "buckets.a.region", /not a known AWS region/, /did you mean "us-east-1"\?/);
    expectPlanError({ buckets: {}, links: [], runner: { platform: "oci-compute", region: "uk-londn-1" } }, "runner.region", /not a known OCI region/, /did you mean "uk-london-1"\?/);
  });

  it("a region of the other provider says so", () => {
    expectPlanError({ buckets: { a: aws("bucket-a", "eu-frankfurt-1") }, links: [] }, "buckets.a.region", /"eu-frankfurt-1" is an OCI region, not an AWS region/);
    expectPlanError({ buckets: {}, links: [], runner: { platform: "aws-ec2", region: "uk-london-1" } }, "runner.region", /is an OCI region, not an AWS region/);
  });

  it("GovCloud, China, sovereign and government realms are known", () => {
    for (const r of ["us-gov-west-1", "cn-north-1", "cn-northwest-1", "eusc-de-east-1", "ap-southeast-7", "mx-central-1"]) expect(planTopology({ buckets: { a: aws("bucket-a", r) }, links: [] }).edges).toEqual([]);
    for (const r of ["us-gov-ashburn-1", "uk-gov-london-1", "eu-frankfurt-2", "ap-batam-1", "sa-valparaiso-1"]) expect(planTopology({ buckets: { o: oci("b-o", r) }, links: [] }).edges).toEqual([]);
  });

  it("the escape hatch: bucket-replication:extraRegions accepts a region opened after the list was written", () => {
    const args: ReplicationTopologyArgs = { buckets: { o: oci("b-o", "eu-newcity-1") }, links: [] };
    expectPlanError(args, "buckets.o.region", /not a known OCI region/, /bucket-replication:extraRegions/);
    expect(planTopology(args, { extraRegions: ["eu-newcity-1"] }).edges).toEqual([]);
  });

  it("s3 buckets name whatever their service documents", () => {
    expect(planTopology({ buckets: { l: s3("bucket-l", undefined, { region: "jp-osa-1" }), r: s3("bucket-r", "https://acc.r2.cloudflarestorage.com", { region: "auto" }) }, links: [] }).edges).toEqual([]);
  });
});

describe("settings preview needs (checked when the deployment's settings are passed)", () => {
  const awsToOci = (runner: ReplicationTopologyArgs["runner"]): ReplicationTopologyArgs => ({
    buckets: { a: aws("bucket-a"), o: oci("b-o") },
    links: [{ kind: "one-to-one", from: "a", to: "o" }],
    runner,
  });

  it("an aws-ec2 runner serving an OCI bucket needs the OCI tenancy", () => {
    const args = awsToOci({ platform: "aws-ec2", region: "us-east-1" });
    expect(planErrorWith(args, {})).toMatch(
      /^Invalid replication topology: runner\.tenancyId: no OCI tenancy is set, and the aws-ec2 runner reaches the OCI bucket o with its own OCI user .*\. Fix: set runner\.tenancyId, or the stack config oci:tenancyOcid .*TF_VAR_tenancy_ocid environment variable\.$/);
    // Without settings (what-if planning), the rule does not run.
    expect(planTopology(args).edges).toHaveLength(1);
  });

  it("any of runner.tenancyId, oci:tenancyOcid / TF_VAR_tenancy_ocid satisfies it", () => {
    expect(planTopology(awsToOci({ platform: "aws-ec2", region: "us-east-1", tenancyId: TENANCY }), {}).edges).toHaveLength(1);
    expect(planTopology(awsToOci({ platform: "aws-ec2", region: "us-east-1" }), { ociTenancyOcid: TENANCY }).edges).toHaveLength(1);
  });

  it("an oci-compute runner needs the tenancy and its compartment", () => {
    const args = awsToOci({ platform: "oci-compute", region: "uk-london-1" });
    const msg = planErrorWith(args, {});
    expect(msg).toMatch(/runner\.tenancyId: no OCI tenancy is set, and the runner runs on OCI Compute/);
    expect(msg).toMatch(/runner\.compartmentId: missing \(required for platform oci-compute/);
    expect(planTopology({ ...args, runner: { ...args.runner!, compartmentId: COMPARTMENT } }, deploy).edges).toHaveLength(1);
  });

  it("an aws-ec2 runner serving only AWS and s3 buckets needs no tenancy", () => {
    const args: ReplicationTopologyArgs = { buckets: { a: aws("bucket-a"), l: s3("bucket-l", undefined, { credentials: { accessKeyId: "k", secretAccessKey: "s" } }) }, links: [{ kind: "one-to-one", from: "a", to: "l" }], runner: { platform: "aws-ec2", region: "us-east-1" } };
    expect(planTopology(args, { complete: true }).edges).toHaveLength(1);
  });

  it("runner edges without a runner section", () => {
    const args: ReplicationTopologyArgs = { buckets: { a: aws("bucket-a"), o: oci("b-o") }, links: [{ kind: "one-to-one", from: "a", to: "o" }] };
    expect(planTopology(args).edges).toHaveLength(1); // what-if planning without settings
    expect(planErrorWith(args, deploy)).toMatch(/^Invalid replication topology: runner: missing, while 1 edge need the sync runner \(links\[0\] a→o\)\. Fix: add runner: /);
  });

  it("SSE-KMS on a native source needs a key on the destination", () => {
    expectPlanError({ buckets: { a: aws("bucket-a", "us-east-1", { kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/abcd" }), b: aws("bucket-b", "eu-west-1") }, links: [{ kind: "one-to-one", from: "a", to: "b" }] },
      "buckets.b.kmsKeyArn", /a uses SSE-KMS .* with a key in eu-west-1/, /KMS key ARN in eu-west-1, or set links\[0\]\.mechanism: "runner"/);
  });

  it("credentials and replication roles are reminders offline and problems in the deployment", () => {
    const args: ReplicationTopologyArgs = {
      buckets: { a: aws("bucket-a"), l: s3("bucket-l"), g: sos("bucket-g"), v: sos("bucket-v", "at-vie-1") },
      links: [{ kind: "one-to-one", from: "l", to: "a" }, { kind: "one-to-one", from: "g", to: "v" }],
      runner: { platform: "aws-ec2", region: "us-east-1" },
    };
    const plan = planTopology(args, { complete: false });
    expect(readiness(args, plan, {}).reminders.map((r) => r.path)).toEqual(["buckets.l.credentials", "buckets.g.replicationRole"]);
    const msg = planErrorWith(args, { complete: true });
    expect(msg.split("\n")).toEqual([
      "Invalid replication topology (2 problems):",
      expect.stringMatching(/^  buckets\.l\.credentials: not set, and the runner reaches l \(https:\/\/eu-central-1\.linodeobjects\.com\) with these keys\. Fix: pulumi config set --secret --path 'topology\.buckets\.l\.credentials\.accessKeyId'/),
      expect.stringMatching(/^  buckets\.g\.replicationRole: not set, and g is the source of S3-API replication.*Fix: pulumi config set --path 'topology\.buckets\.g\.replicationRole'/),
    ]);
  });

  it("bucket-replication:backfillTimeoutMinutes must be positive", () => {
    expect(planErrorWith({ buckets: {}, links: [] }, { backfillTimeoutMinutes: 0 })).toMatch(/bucket-replication:backfillTimeoutMinutes: must be a positive number of minutes, got 0/);
  });
});

describe("every problem at once", () => {
  it("the issue's example: a bad kind and a bad platform, both explained with their own fix", () => {
    const msg = planError({ buckets: { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1") }, links: [{ kind: "fanout", from: "a", to: ["b"] }], runner: { platform: "ec2", region: "us-east-1" } });
    expect(msg.split("\n")).toEqual([
      "Invalid replication topology (2 problems):",
      '  links[0].kind: unknown kind "fanout". Fix: did you mean "fan-out"? use one of one-to-one, bidirectional, fan-out, fan-in.',
      '  runner.platform: unknown platform "ec2". Fix: use "aws-ec2", "oci-compute", "kubernetes" or "aws-ecs".',
    ]);
  });

  it("problems of later stages come together: an overlap, a forced native edge and a missing tenancy", () => {
    const args: ReplicationTopologyArgs = {
      buckets: { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1"), c: aws("bucket-c", "eu-central-1"), o: oci("b-o") },
      links: [
        { kind: "one-to-one", from: "a", to: "c", deletes: true },
        { kind: "one-to-one", from: "b", to: "c" },
        { kind: "one-to-one", from: "a", to: "o", mechanism: "native" },
      ],
      runner: { platform: "aws-ec2", region: "us-east-1" },
    };
    try {
      planTopology(args, {});
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TopologyError);
      expect((e as TopologyError).issues.map((i) => i.path)).toEqual(["links[0].deletes", "links[2].mechanism", "runner.tenancyId"]);
      for (const i of (e as TopologyError).issues) expect(i.fix.length).toBeGreaterThan(10);
    }
  });

  it("a shape problem does not hide the edge problems of the other links: all come in one error", () => {
    const args = {
      buckets: { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1"), c: aws("bucket-c", "eu-central-1"), o: oci("b-o"), z: aws("bucket-z", "eu-fronkfurt-1") },
      links: [
        { kind: "one-to-one", from: "a", to: "c", deletes: true },
        { kind: "one-to-one", from: "b", to: "c" },
        { kind: "one-to-one", from: "a", to: "o", mechanism: "native" },
        { kind: "one-to-one", from: "a", to: "nope" },
        { kind: "one-to-one", from: "a", to: "z" },
      ],
    };
    try {
      planTopology(args as never);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TopologyError);
      const paths = (e as TopologyError).issues.map((i) => i.path);
      // Shape: the unknown bucket id and the region typo. Edges: the overlap and the forced native edge.
      expect(paths).toEqual(expect.arrayContaining(["links[3].to", "buckets.z.region", "links[0].deletes", "links[2].mechanism"]));
      expect(paths).toHaveLength(4);
      expect((e as Error).message).toMatch(/^Invalid replication topology \(4 problems\):/);
    }
  });

  it("without a usable links list only the shape is reported", () => {
    expect(() => planTopology({ buckets: {}, links: "a->b" } as never)).toThrow(/links/);
  });
});

function planErrorWith(args: ReplicationTopologyArgs, settings: PlanSettings): string {
  try {
    planTopology(args, settings);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("planTopology accepted it");
}
