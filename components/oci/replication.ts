// OCI Object Storage native replication for the plan's oci-native edges (issue 4 fills this in).
import type { BucketRef, TopologyContext } from "../context.js";

export interface OciNativeResult {
  replicationPolicies: Record<string, unknown>;
}

export function deployOciNative(_ctx: TopologyContext, _buckets: Record<string, BucketRef>): OciNativeResult {
  return { replicationPolicies: {} };
}
