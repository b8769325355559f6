// AWS S3 native replication for the plan's aws-native edges.
//
// Per bucket on either end of a native edge: an `aws.s3.BucketVersioning` (Enabled).
// Per source bucket: one IAM role trusted by s3.amazonaws.com with an exact-ARN policy, and exactly
// one `aws.s3.BucketReplicationConfig` holding one rule per outgoing edge (two configs on one bucket
// would overwrite each other forever). The config depends on the versioning of its source and of
// every destination, and on the role policy.
// Per cross-account destination: one bucket policy granting every source role that writes to it.
// Per source with backfill: an S3 Batch Replication job (see batch-replication.ts) and its role.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { BucketRef, TopologyContext } from "../context.js";
import type { AwsBucketSpec, LinkOptions, PlannedEdge } from "../plan/types.js";
import {
  batchReplicationPolicy,
  destinationGrantStatements,
  isCrossAccount,
  replicationRolePolicy,
  serviceTrustPolicy,
  type PolicyStatement,
} from "./policies.js";
import { DEFAULT_TIMEOUT_MINUTES, S3BatchReplication } from "./batch-replication.js";

export interface AwsNativeResult {
  /** Replication config resource per source bucket id. */
  replicationConfigs: Record<string, aws.s3.BucketReplicationConfig>;
  /** Replication role per source bucket id. */
  roles: Record<string, aws.iam.Role>;
  /** Versioning per bucket id (sources and destinations). */
  versionings: Record<string, aws.s3.BucketVersioning>;
  /** Bucket policy per cross-account destination bucket id. */
  destinationPolicies: Record<string, aws.s3.BucketPolicy>;
  /** Batch Replication job per backfilled source bucket id. */
  backfills: Record<string, S3BatchReplication>;
}

/** RTC and metrics event threshold, the only value S3 accepts. */
const REPLICATION_MINUTES = 15;

function awsSpec(ctx: TopologyContext, id: string, edge: PlannedEdge): AwsBucketSpec {
  const spec = ctx.args.buckets[id];
  if (!spec || spec.provider !== "aws") {
    throw new pulumi.ResourceError(
      `edge ${edge.from} -> ${edge.to} is aws-native but bucket "${id}" is not an AWS bucket`,
      ctx.parent,
    );
  }
  return spec;
}

function linkOf(ctx: TopologyContext, edge: PlannedEdge): LinkOptions {
  return ctx.args.links[edge.link] ?? {};
}

// Default backfill (the plan shows the same decision): components/plan/review.ts.
export { wantsBackfill } from "../plan/review.js";
import { wantsBackfill } from "../plan/review.js";

/** How long `pulumi up` waits for a backfill job: config `bucket-replication:backfillTimeoutMinutes`, default 60. */
export function backfillTimeoutMinutes(): number {
  const v = new pulumi.Config("bucket-replication").getNumber("backfillTimeoutMinutes");
  if (v === undefined) return DEFAULT_TIMEOUT_MINUTES;
  if (!(v > 0)) throw new Error(`config bucket-replication:backfillTimeoutMinutes must be a positive number of minutes, got ${v}`);
  return v;
}

/** Builds the rule of one edge (exported for tests; plain data apart from nothing). */
export function replicationRule(
  edge: PlannedEdge,
  link: LinkOptions,
  src: AwsBucketSpec,
  dst: AwsBucketSpec,
  opts: { id: string; priority: number; bidirectional: boolean },
): aws.types.input.s3.BucketReplicationConfigRule {
  const prefix = edge.sourcePrefix ?? link.prefix ?? "";
  const deletes = edge.deletes ?? link.deletes ?? false;
  const crossAccount = isCrossAccount(src, dst);
  const kms = !!(src.kmsKeyArn || dst.kmsKeyArn);
  const metrics = !!(link.metrics || link.replicationTime);
  const destination: aws.types.input.s3.BucketReplicationConfigRuleDestination = {
    bucket: `arn:aws:s3:::${dst.bucket}`,
    ...(link.storageClass ? { storageClass: link.storageClass } : {}),
    ...(crossAccount ? { account: dst.accountId, accessControlTranslation: { owner: "Destination" } } : {}),
    ...(dst.kmsKeyArn ? { encryptionConfiguration: { replicaKmsKeyId: dst.kmsKeyArn } } : {}),
    ...(metrics ? { metrics: { status: "Enabled", eventThreshold: { minutes: REPLICATION_MINUTES } } } : {}),
    ...(link.replicationTime ? { replicationTime: { status: "Enabled", time: { minutes: REPLICATION_MINUTES } } } : {}),
  };
  const criteria: aws.types.input.s3.BucketReplicationConfigRuleSourceSelectionCriteria = {
    ...(opts.bidirectional ? { replicaModifications: { status: "Enabled" } } : {}),
    ...(kms ? { sseKmsEncryptedObjects: { status: "Enabled" } } : {}),
  };
  return {
    id: opts.id,
    priority: opts.priority,
    status: "Enabled",
    // V2 schema: with `filter` present, `deleteMarkerReplication` must be present too.
    filter: prefix ? { prefix } : {},
    deleteMarkerReplication: { status: deletes ? "Enabled" : "Disabled" },
    destination,
    ...(Object.keys(criteria).length ? { sourceSelectionCriteria: criteria } : {}),
  };
}

function validateEdge(ctx: TopologyContext, edge: PlannedEdge, link: LinkOptions, src: AwsBucketSpec, dst: AwsBucketSpec) {
  const fail = (msg: string) => {
    throw new pulumi.ResourceError(`edge ${edge.from} -> ${edge.to}: ${msg}`, ctx.parent);
  };
  if (edge.from === edge.to) fail("a bucket cannot replicate to itself");
  const sp = edge.sourcePrefix ?? link.prefix ?? "";
  const tp = edge.targetPrefix ?? sp;
  if (sp !== tp) fail(`S3 replication does not rewrite keys (source prefix "${sp}", target prefix "${tp}"); use the runner`);
  if (src.kmsKeyArn && !dst.kmsKeyArn) {
    fail(`source bucket uses SSE-KMS; set kmsKeyArn on "${edge.to}" (the key its replicas are encrypted with, in ${dst.region})`);
  }
}

export function deployAwsNative(ctx: TopologyContext, buckets: Record<string, BucketRef>): AwsNativeResult {
  const result: AwsNativeResult = { replicationConfigs: {}, roles: {}, versionings: {}, destinationPolicies: {}, backfills: {} };
  const edges = ctx.plan.edges.filter((e) => e.mechanism === "aws-native");
  if (edges.length === 0) return result;
  const parent = ctx.parent;
  const specOpts = (spec: AwsBucketSpec, extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions => ({
    parent,
    ...(spec.pulumiProvider ? { provider: spec.pulumiProvider } : {}),
    ...extra,
  });

  // Versioning on both ends of every native edge.
  const ends = [...new Set(edges.flatMap((e) => [e.from, e.to]))];
  for (const id of ends) {
    const spec = awsSpec(ctx, id, edges.find((e) => e.from === id || e.to === id)!);
    const ref = buckets[id];
    result.versionings[id] = new aws.s3.BucketVersioning(
      `${ctx.name}-${id}-versioning`,
      {
        bucket: ref?.name ?? spec.bucket,
        region: spec.region,
        versioningConfiguration: { status: "Enabled" },
      },
      specOpts(spec, ref?.resource ? { dependsOn: [ref.resource] } : undefined),
    );
  }

  const bySource = new Map<string, PlannedEdge[]>();
  for (const e of edges) bySource.set(e.from, [...(bySource.get(e.from) ?? []), e]);
  const pairs = new Set(edges.map((e) => `${e.from}\u0000${e.to}`));

  // Cross-account grants, collected per destination bucket (a bucket has one policy).
  const grants = new Map<string, { spec: AwsBucketSpec; roleArns: pulumi.Output<string>[] }>();

  // 1. Per source: validation, the replication role and its exact-ARN policy.
  const sources = [...bySource].map(([srcId, out]) => {
    const src = awsSpec(ctx, srcId, out[0]);
    const dests = out.map((e) => ({ edge: e, link: linkOf(ctx, e), spec: awsSpec(ctx, e.to, e) }));
    for (const d of dests) validateEdge(ctx, d.edge, d.link, src, d.spec);
    const role = new aws.iam.Role(
      `${ctx.name}-${srcId}-replication`,
      {
        description: `S3 replication from ${src.bucket}`,
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy("s3.amazonaws.com")),
      },
      // The role lives in the source's account: the source bucket's provider.
      specOpts(src),
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${ctx.name}-${srcId}-replication`,
      {
        role: role.id,
        policy: JSON.stringify(
          replicationRolePolicy(
            src,
            dests.map((d) => ({ spec: d.spec, crossAccount: isCrossAccount(src, d.spec) })),
          ),
        ),
      },
      specOpts(src),
    );
    result.roles[srcId] = role;
    for (const d of dests) {
      if (!isCrossAccount(src, d.spec)) continue;
      const g = grants.get(d.edge.to) ?? { spec: d.spec, roleArns: [] };
      if (!g.roleArns.includes(role.arn)) g.roleArns.push(role.arn);
      grants.set(d.edge.to, g);
    }
    return { srcId, src, dests, role, rolePolicy };
  });

  // 2. Per cross-account destination: one bucket policy granting every source role that writes to it
  //    (S3 checks the destination's versioning through it when the configuration is put).
  for (const [dstId, g] of grants) {
    const statements = pulumi
      .all(g.roleArns)
      .apply((arns) => arns.flatMap((arn, i): PolicyStatement[] => destinationGrantStatements(g.spec, arn, i + 1)));
    const ref = buckets[dstId];
    result.destinationPolicies[dstId] = new aws.s3.BucketPolicy(
      `${ctx.name}-${dstId}-replication-grant`,
      {
        bucket: ref?.name ?? g.spec.bucket,
        region: g.spec.region,
        policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }),
      },
      specOpts(g.spec, ref?.resource ? { dependsOn: [ref.resource] } : undefined),
    );
  }

  // 3. Per source: exactly one replication configuration, one rule per outgoing edge.
  for (const { srcId, src, dests, role, rolePolicy } of sources) {
    const usedIds = new Set<string>();
    const rules = dests.map((d, i) => {
      let id = `to-${d.edge.to}`;
      if (usedIds.has(id)) id = `${id}-link${d.edge.link}-${i}`;
      usedIds.add(id);
      return replicationRule(d.edge, d.link, src, d.spec, {
        id: id.slice(0, 255),
        // Unique per config; the first edge of the plan gets the highest priority.
        priority: dests.length - i,
        bidirectional: d.edge.kind === "bidirectional" || pairs.has(`${d.edge.to}\u0000${srcId}`),
      });
    });
    const destIds = [...new Set(dests.map((d) => d.edge.to))];
    result.replicationConfigs[srcId] = new aws.s3.BucketReplicationConfig(
      `${ctx.name}-${srcId}-replication`,
      { bucket: buckets[srcId]?.name ?? src.bucket, region: src.region, role: role.arn, rules },
      specOpts(src, {
        dependsOn: [
          result.versionings[srcId],
          ...destIds.map((id) => result.versionings[id]),
          rolePolicy,
          ...destIds.map((id) => result.destinationPolicies[id]).filter((p): p is aws.s3.BucketPolicy => !!p),
        ],
      }),
    );
  }

  // Backfill: one Batch Replication job per source, after its configuration (and grants) exist.
  for (const [srcId, out] of bySource) {
    const src = awsSpec(ctx, srcId, out[0]);
    if (!out.some((e) => wantsBackfill(linkOf(ctx, e), src))) continue;
    const batchRole = new aws.iam.Role(
      `${ctx.name}-${srcId}-backfill`,
      {
        description: `S3 Batch Replication of existing objects in ${src.bucket}`,
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy("batchoperations.s3.amazonaws.com")),
      },
      specOpts(src),
    );
    const batchPolicy = new aws.iam.RolePolicy(
      `${ctx.name}-${srcId}-backfill`,
      { role: batchRole.id, policy: JSON.stringify(batchReplicationPolicy(src)) },
      specOpts(src),
    );
    const destinations = [...new Set(out.map((e) => (ctx.args.buckets[e.to] as AwsBucketSpec).bucket))].sort();
    const prefixes = [...new Set(out.map((e) => e.sourcePrefix ?? linkOf(ctx, e).prefix ?? ""))].sort();
    const accountId: pulumi.Input<string> =
      src.accountId ?? aws.getCallerIdentityOutput({}, { parent, ...(src.pulumiProvider ? { provider: src.pulumiProvider } : {}) }).accountId;
    // The job's idempotency token is computed by the provider from these inputs (batch-replication.ts).
    result.backfills[srcId] = new S3BatchReplication(
      `${ctx.name}-${srcId}-backfill`,
      {
        accountId,
        region: src.region,
        sourceBucket: src.bucket,
        roleArn: batchRole.arn,
        destinations,
        prefixes,
        owner: `${pulumi.getProject()}/${pulumi.getStack()}/${ctx.name}/${srcId}`,
        timeoutMinutes: backfillTimeoutMinutes(),
      },
      {
        parent,
        dependsOn: [
          result.replicationConfigs[srcId],
          batchPolicy,
          ...out.map((e) => result.destinationPolicies[e.to]).filter((p): p is aws.s3.BucketPolicy => !!p),
        ],
      },
    );
  }

  return result;
}
