// What ReplicationTopology hands to each provider module: the parent component, the user's args,
// the computed plan, and the buckets as Pulumi references. Each module owns one concern
// (AWS native, OCI native, S3-API native, runner deployment) and creates its children with
// `{ parent: ctx.parent }`.
import type * as pulumi from "@pulumi/pulumi";
import type { ReplicationPlan, ReplicationTopologyArgs } from "./plan/types.js";

export interface TopologyContext {
  /** The ReplicationTopology component: parent of every child resource. */
  parent: pulumi.ComponentResource;
  /** The component's name; children are named `${name}-...` so names stay unique per topology. */
  name: string;
  args: ReplicationTopologyArgs;
  plan: ReplicationPlan;
}

/** A bucket as the other modules see it, whether created here or referenced by name. */
export interface BucketRef {
  id: string;
  provider: "aws" | "oci" | "s3" | "alicloud" | "linode";
  /** The bucket's name as an Output (known at preview for referenced buckets). */
  name: pulumi.Output<string>;
  /** AWS only: arn:aws:s3:::name. */
  arn?: pulumi.Output<string>;
  /** The created resource, when this topology created the bucket (for dependsOn). */
  resource?: pulumi.Resource;
  /** Settings a native rule must wait for besides the bucket itself (OSS: versioning, encryption). */
  dependsOn?: pulumi.Resource[];
}
