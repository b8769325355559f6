// S3-API native replication (PutBucketReplication, e.g. Exoscale SOS) for s3-native edges (issue 4).
import type { BucketRef, TopologyContext } from "../context.js";

export interface S3ApiNativeResult {
  replications: Record<string, unknown>;
}

export function deployS3ApiNative(_ctx: TopologyContext, _buckets: Record<string, BucketRef>): S3ApiNativeResult {
  return { replications: {} };
}
