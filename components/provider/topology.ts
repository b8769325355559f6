// The topology component for every Pulumi language: flat args (args.ts) that Pulumi's schema
// inference accepts, converted to the TypeScript args (convert.ts) and then planned and deployed by
// exactly the code behind ReplicationTopology (planTopology, deployTopology), so both validate the
// same way and create the same resources. The component provider (provider/index.ts) serves it as
// `bucket-replication:index:Topology`; ReplicationTopology keeps its own token, so the two never
// share a type.
import * as pulumi from "@pulumi/pulumi";
import { deployTopology, planOrThrow } from "../topology.js";
import type { ReplicationPlan, ReplicationTopologyArgs } from "../plan/types.js";
import type { TopologyArgs, TopologyEdge, TopologyPlan } from "./args.js";
import { flatError, toTopologyArgs } from "./convert.js";

export type { TopologyArgs } from "./args.js";

/** The resource type token: `<package>:index:<class>`, as the component provider derives it. */
export const TOPOLOGY_TYPE = "bucket-replication:index:Topology";

/**
 * A set of buckets and the links between them, kept in sync: native replication where the
 * providers support exactly the link's semantics, the bundled sync runner elsewhere. The same
 * component as the TypeScript ReplicationTopology, with args every Pulumi language can express.
 */
export class Topology extends pulumi.ComponentResource {
  /** Every directed edge with its mechanism and the reason (known at preview). */
  public readonly plan: pulumi.Output<TopologyPlan>;
  /** The runner's VM id (aws-ec2, oci-compute), CronJob name (kubernetes) or task definition ARN (aws-ecs); unset without runner edges. */
  public readonly runnerInstanceId: pulumi.Output<string | undefined>;
  /** Where the runner's logs are (log group, or the kubectl command). */
  public readonly runnerLogGroup: pulumi.Output<string | undefined>;
  /** "from->to" per edge the runner serves. */
  public readonly runnerEdges: pulumi.Output<string[]>;
  /** kubernetes with IRSA: the IAM policy (JSON) the annotated role needs. */
  public readonly runnerAwsPolicy: pulumi.Output<string | undefined>;

  constructor(name: string, args: TopologyArgs, opts?: pulumi.ComponentResourceOptions) {
    // As in ReplicationTopology: plan before super(), so an invalid topology registers nothing.
    const { rich, plan } = planFlat(name, args);
    super(TOPOLOGY_TYPE, name, {}, opts);
    const runner = deployTopology(this, name, rich, plan);
    this.plan = pulumi.output(planOutput(plan));
    this.runnerInstanceId = runner ? runner.instanceId : pulumi.output(undefined);
    this.runnerLogGroup = runner ? runner.logGroup : pulumi.output(undefined);
    this.runnerEdges = pulumi.output(runner?.edges ?? []);
    this.runnerAwsPolicy = pulumi.output(runner?.awsPolicy);
    this.registerOutputs({
      plan: this.plan,
      runnerInstanceId: this.runnerInstanceId,
      runnerLogGroup: this.runnerLogGroup,
      runnerEdges: this.runnerEdges,
      runnerAwsPolicy: this.runnerAwsPolicy,
    });
  }
}

/** The TypeScript args and their plan, or a ResourceError whose every path is a flat field name. */
function planFlat(name: string, args: TopologyArgs): { rich: ReplicationTopologyArgs; plan: ReplicationPlan } {
  const label = `Topology "${name}"`;
  let rich: ReplicationTopologyArgs;
  try {
    rich = toTopologyArgs(args);
  } catch (e) {
    throw new pulumi.ResourceError(`${label}: ${(e as Error).message}`, undefined, true);
  }
  return { rich, plan: planOrThrow(label, rich, (e) => flatError(e, args)) };
}

/** The plan as the schema's TopologyPlan: only the fields it declares, unset ones left out. */
export function planOutput(plan: ReplicationPlan): TopologyPlan {
  return {
    edges: plan.edges.map((e) => {
      const edge: TopologyEdge = { from: e.from, to: e.to, link: e.link, mechanism: e.mechanism, reason: e.reason };
      if (e.kind !== undefined) edge.kind = e.kind;
      if (e.deletes !== undefined) edge.deletes = e.deletes;
      if (e.sourcePrefix !== undefined) edge.sourcePrefix = e.sourcePrefix;
      if (e.targetPrefix !== undefined) edge.targetPrefix = e.targetPrefix;
      if (e.conflict !== undefined) edge.conflict = e.conflict;
      return edge;
    }),
  };
}
