import * as pulumi from "@pulumi/pulumi";
import { planTopology } from "./plan/index.js";
import type { ReplicationPlan, ReplicationTopologyArgs } from "./plan/types.js";
import type { PlanSettings } from "./plan/settings.js";
import type { TopologyContext } from "./context.js";
import { declareBuckets } from "./buckets.js";
import { deployAwsNative } from "./aws/replication.js";
import { deployOciNative } from "./oci/replication.js";
import { deployS3ApiNative } from "./s3api/replication.js";
import { deployAlicloudNative } from "./alicloud/replication.js";
import { deployRunner, type RunnerDeployment } from "./deploy/index.js";

/**
 * A set of buckets and the links between them. For every directed edge the plan picks native
 * replication where the provider supports exactly those semantics, otherwise the sync runner,
 * and this component creates the resources for each.
 */
export class ReplicationTopology extends pulumi.ComponentResource {
  /** Plain value, computed at construction: the edges, their mechanisms and the reasons. */
  public readonly plan: ReplicationPlan;
  public readonly runner?: RunnerDeployment;

  constructor(name: string, args: ReplicationTopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    // Plan before super(): an invalid topology throws before anything registers, not even this
    // component, so a failed `pulumi up` leaves no half-created resource behind.
    const plan = planOrThrow(`ReplicationTopology "${name}"`, args);
    super("bucket-replication:index:ReplicationTopology", name, {}, opts);
    this.plan = plan;
    this.runner = deployTopology(this, name, args, plan);
    this.registerOutputs({
      plan: this.plan,
      runnerInstanceId: this.runner?.instanceId,
      runnerLogGroup: this.runner?.logGroup,
      runnerEdges: this.runner?.edges,
      runnerAwsPolicy: this.runner?.awsPolicy,
    });
  }
}

/**
 * The settings the deployment reads besides the topology, so that the planner checks them exactly as
 * `npm run plan` does (scripts/plan.ts reads the same keys from the stack file). `complete`: every
 * value is visible here, secrets included, so nothing is left as a reminder.
 */
export function deploySettings(): PlanSettings {
  const br = new pulumi.Config("bucket-replication");
  const settings: PlanSettings = { complete: true };
  const tenancy = new pulumi.Config("oci").get("tenancyOcid") ?? process.env.TF_VAR_tenancy_ocid;
  if (tenancy) settings.ociTenancyOcid = tenancy;
  // A list in the stack file; a string (JSON list or comma list) when set on the command line.
  const raw = br.get("extraRegions");
  if (raw !== undefined) {
    let extra: unknown;
    try {
      extra = JSON.parse(raw);
    } catch {
      extra = raw.split(",").map((x) => x.trim()).filter(Boolean);
    }
    settings.extraRegions = Array.isArray(extra) ? extra.map(String) : [String(extra)];
  }
  const timeout = br.get("backfillTimeoutMinutes");
  if (timeout !== undefined) settings.backfillTimeoutMinutes = Number(timeout);
  return settings;
}

/**
 * The resources of a planned topology, as children of `parent`: the buckets, every native rule and
 * the runner deployment. Shared by ReplicationTopology and the multi-language Topology component
 * (components/provider/topology.ts), so both create exactly the same resources for the same args.
 */
export function deployTopology(
  parent: pulumi.ComponentResource,
  name: string,
  args: ReplicationTopologyArgs,
  plan: ReplicationPlan,
): RunnerDeployment | undefined {
  const ctx: TopologyContext = { parent, name, args, plan };
  const buckets = declareBuckets(ctx);
  deployAwsNative(ctx, buckets);
  deployOciNative(ctx, buckets);
  deployS3ApiNative(ctx, buckets);
  deployAlicloudNative(ctx, buckets);
  return deployRunner(ctx, buckets);
}

/**
 * The plan, or a ResourceError naming the component (`label`) and carrying the planner's message.
 * `mapError` lets the multi-language component report paths under its own field names.
 */
export function planOrThrow(label: string, args: ReplicationTopologyArgs, mapError: (e: unknown) => unknown = (e) => e): ReplicationPlan {
  try {
    return planTopology(args, deploySettings());
  } catch (e) {
    // No resource exists yet, so the message names the component itself. The message already
    // says where and how to fix it; a stack trace would only hide it.
    throw new pulumi.ResourceError(`${label}: ${(mapError(e) as Error).message}`, undefined, true);
  }
}
