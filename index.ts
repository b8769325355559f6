// The Pulumi program: the stack config object `topology` (same shape as ReplicationTopologyArgs)
// becomes one ReplicationTopology. Plan it offline first with `npm run plan -- --stack <name>`.
// It is a consumer of the package like any user's program: it imports "bucket-replication", which
// resolves through package.json "exports" (a package importing itself by name). The
// "bucket-replication-source" condition, set in Pulumi.yaml's nodeargs and tsconfig.json, picks the
// TypeScript sources of this checkout instead of the built lib/, so no build step comes first.
import * as pulumi from "@pulumi/pulumi";
import { ReplicationTopology, type BucketSpec, type ReplicationTopologyArgs } from "bucket-replication";

const config = new pulumi.Config();
const topologyConfig = config.requireObject<ReplicationTopologyArgs>("topology");

/** Only wrap real values, so a missing key still reaches the planner's validation as missing. */
function secretIfSet(v: pulumi.Input<string>): pulumi.Input<string> {
  return typeof v === "string" && v !== "" ? pulumi.secret(v) : v;
}

/** S3 credentials set with `pulumi config set --secret --path` stay secrets in every output. */
function withSecretCredentials(args: ReplicationTopologyArgs): ReplicationTopologyArgs {
  if (!args || typeof args !== "object" || !args.buckets || typeof args.buckets !== "object") return args;
  const buckets: Record<string, BucketSpec> = {};
  for (const [id, spec] of Object.entries(args.buckets)) {
    buckets[id] =
      spec && spec.provider === "s3" && spec.credentials && typeof spec.credentials === "object"
        ? {
            ...spec,
            credentials: {
              ...spec.credentials,
              accessKeyId: secretIfSet(spec.credentials.accessKeyId),
              secretAccessKey: secretIfSet(spec.credentials.secretAccessKey),
            },
          }
        : spec;
  }
  return { ...args, buckets };
}

const topology = new ReplicationTopology("replication", withSecretCredentials(topologyConfig));

/** Per directed edge: from, to, link, mechanism and the reason (a plain value, known at preview). */
export const plan = topology.plan;
export const runnerInstanceId = topology.runner?.instanceId;
export const runnerLogGroup = topology.runner?.logGroup;
export const runnerEdges = topology.runner?.edges;
/** kubernetes with IRSA: the IAM policy the annotated role needs. */
export const runnerAwsPolicy = topology.runner?.awsPolicy;
