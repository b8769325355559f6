// AWS S3 native replication for the plan's aws-native edges (issue 4 fills this in).
import type { BucketRef, TopologyContext } from "../context.js";

export interface AwsNativeResult {
  /** Replication config resource per source bucket id. */
  replicationConfigs: Record<string, unknown>;
}

export function deployAwsNative(_ctx: TopologyContext, _buckets: Record<string, BucketRef>): AwsNativeResult {
  return { replicationConfigs: {} };
}
