import * as pulumi from "@pulumi/pulumi";
import { planTopology } from "./plan/index.js";
import type { ReplicationPlan, ReplicationTopologyArgs } from "./plan/types.js";
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
    const plan = planOrThrow(name, args);
    super("bucket-replication:index:ReplicationTopology", name, {}, opts);
    this.plan = plan;
    const ctx: TopologyContext = { parent: this, name, args, plan: this.plan };
    const buckets = declareBuckets(ctx);
    deployAwsNative(ctx, buckets);
    deployOciNative(ctx, buckets);
    deployS3ApiNative(ctx, buckets);
    deployAlicloudNative(ctx, buckets);
    this.runner = deployRunner(ctx, buckets);
    this.registerOutputs({
      plan: this.plan,
      runnerInstanceId: this.runner?.instanceId,
      runnerLogGroup: this.runner?.logGroup,
      runnerEdges: this.runner?.edges,
      runnerAwsPolicy: this.runner?.awsPolicy,
    });
  }
}

/** The plan, or a ResourceError naming the component and carrying the planner's message. */
function planOrThrow(name: string, args: ReplicationTopologyArgs): ReplicationPlan {
  try {
    return planTopology(args);
  } catch (e) {
    // No resource exists yet, so the message names the component itself. The message already
    // says where and how to fix it; a stack trace would only hide it.
    throw new pulumi.ResourceError(`ReplicationTopology "${name}": ${(e as Error).message}`, undefined, true);
  }
}
