// Rules on settings the deployment needs beyond the topology's shape: what `pulumi preview` would
// stop on (components/deploy, components/s3api). Pure: the settings come in as PlanSettings.
import type { Issue } from "./errors.js";
import { TENANCY_FIX, type PlanSettings } from "./settings.js";
import type { ReplicationPlan, ReplicationTopologyArgs } from "./types.js";

export interface Readiness {
  /** Preview would fail on these, whatever else is set. */
  problems: Issue[];
  /** Preview fails on these unless they are set where the offline plan cannot see them (secrets set
   *  with `pulumi config set --secret`, values kept out of the committed stack file). */
  reminders: Issue[];
}

/** Which buckets the runner reaches with a static key it holds (components/deploy/core.ts: on
 *  aws-ec2 every non-aws bucket, on oci-compute every bucket). */
export function runnerBuckets(args: ReplicationTopologyArgs, plan: ReplicationPlan): string[] {
  const ids = new Set<string>();
  for (const e of plan.edges) if (e.mechanism === "runner") ids.add(e.from).add(e.to);
  return Object.keys(args.buckets).filter((id) => ids.has(id));
}

/** Whether the deployment creates OCI identity resources, which live in the tenancy: the runner on
 *  OCI Compute (dynamic group, policies), or a runner anywhere that reaches an OCI bucket (its OCI
 *  user, group, policy and Customer Secret Key). */
export function needsOciTenancy(args: ReplicationTopologyArgs, plan: ReplicationPlan): string | undefined {
  const runner = args.runner;
  if (!runner || !plan.edges.some((e) => e.mechanism === "runner")) return undefined;
  if (runner.platform === "oci-compute") return "the runner runs on OCI Compute (its dynamic group and policies live in the tenancy)";
  const oci = runnerBuckets(args, plan).filter((id) => args.buckets[id].provider === "oci");
  if (oci.length)
    return `the ${runner.platform} runner reaches the OCI bucket${oci.length > 1 ? "s" : ""} ${oci.join(", ")} with its own OCI user and Customer Secret Key, which live in the tenancy`;
  return undefined;
}

export function readiness(args: ReplicationTopologyArgs, plan: ReplicationPlan, settings: PlanSettings): Readiness {
  const problems: Issue[] = [];
  const reminders: Issue[] = [];
  const runnerEdges = plan.edges.filter((e) => e.mechanism === "runner");
  const runner = args.runner;

  if (runnerEdges.length && !runner) {
    problems.push({
      path: "runner",
      what: `missing, while ${runnerEdges.length} edge${runnerEdges.length === 1 ? "" : "s"} need the sync runner (${runnerEdges.map((e) => `links[${e.link}] ${e.from}→${e.to}`).join(", ")})`,
      fix: 'add runner: { platform: aws-ec2 | oci-compute, region: <region> } to the topology, or change those links so that native replication serves them',
    });
  }

  const why = needsOciTenancy(args, plan);
  if (why && !runner?.tenancyId && !settings.ociTenancyOcid)
    problems.push({ path: "runner.tenancyId", what: `no OCI tenancy is set, and ${why}`, fix: TENANCY_FIX });

  if (runner?.platform === "oci-compute" && runnerEdges.length && !runner.compartmentId)
    problems.push({
      path: "runner.compartmentId",
      what: "missing (required for platform oci-compute: the compartment of the runner's VCN, VM, artifacts bucket, vault and logs)",
      fix: "set runner.compartmentId to a compartment OCID (ocid1.compartment.oc1..<id>)",
    });

  // Values usually kept out of the committed stack file.
  if (runner) {
    for (const id of runnerBuckets(args, plan)) {
      const spec = args.buckets[id];
      if (spec.provider === "s3" && !spec.credentials)
        reminders.push({
          path: `buckets.${id}.credentials`,
          what: `not set, and the runner reaches ${id} (${spec.endpoint}) with these keys`,
          fix: `pulumi config set --secret --path 'topology.buckets.${id}.credentials.accessKeyId' <key id> (and secretAccessKey)`,
        });
    }
  }
  const s3Sources = new Set(plan.edges.filter((e) => e.mechanism === "s3-native").map((e) => e.from));
  for (const id of s3Sources) {
    const spec = args.buckets[id];
    if (spec.provider === "s3" && !spec.replicationRole)
      reminders.push({
        path: `buckets.${id}.replicationRole`,
        what: `not set, and ${id} is the source of S3-API replication, which runs as that role`,
        fix: `pulumi config set --path 'topology.buckets.${id}.replicationRole' <role id> (Exoscale: the IAM role UUID)`,
      });
  }

  if (settings.complete) return { problems: [...problems, ...reminders], reminders: [] };
  return { problems, reminders };
}
