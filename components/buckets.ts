// Declares (create: true, the default) or references (create: false) every aws/oci bucket of the
// topology. Owned by the native-replication issue; the runner deployment consumes the refs.
import * as pulumi from "@pulumi/pulumi";
import type { BucketRef, TopologyContext } from "./context.js";

export function declareBuckets(ctx: TopologyContext): Record<string, BucketRef> {
  const refs: Record<string, BucketRef> = {};
  for (const [id, spec] of Object.entries(ctx.args.buckets)) {
    refs[id] = {
      id,
      provider: spec.provider,
      name: pulumi.output(spec.bucket),
      arn: spec.provider === "aws" ? pulumi.output(`arn:aws:s3:::${spec.bucket}`) : undefined,
    };
  }
  return refs;
}
