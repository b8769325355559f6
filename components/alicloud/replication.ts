// Alibaba Cloud OSS native replication for alicloud-native edges: one `alicloud.oss.BucketReplication`
// (one rule) per edge, since OSS allows one rule per source–destination pair.
//
// - action ALL (PUT, DELETE, ABORT) when the edge propagates deletes, PUT otherwise;
// - historicalObjectReplication "enabled" when a backfill is wanted (default: the source is referenced,
//   so it may hold data), else "disabled" (the provider's own default is "enabled");
// - the link's prefix as the rule's prefix set;
// - transferType oss_acc between mainland China and other regions, internal elsewhere;
// - SSE-KMS sources: a RAM role trusted by oss.aliyuncs.com whose policy names exactly the two
//   buckets and the two keys, as syncRole, with the destination's key for the replicas.
// Every BucketReplication argument forces replacement (Terraform marks them ForceNew), so the rule's
// inputs are derived only from the plan and the specs, never from values that drift.
import * as pulumi from "@pulumi/pulumi";
import * as alicloud from "@pulumi/alicloud";
import type { BucketRef, TopologyContext } from "../context.js";
import { ossMainland } from "../plan/mechanism.js";
import type { AlicloudBucketSpec, PlannedEdge } from "../plan/types.js";
import { alicloudProviderFor } from "./provider.js";
import { OSS_TRUST_POLICY, ossReplicationStatements, ramPolicyDocument } from "./policies.js";

export interface AlicloudNativeResult {
  /** Per edge "from->to". */
  replications: Record<string, alicloud.oss.BucketReplication>;
  /** Per edge "from->to", for SSE-KMS sources only. */
  roles: Record<string, alicloud.ram.Role>;
}

/** RAM names: letters, digits, '-', at most 64 characters. */
function ramName(s: string): string {
  return s.replace(/[^A-Za-z0-9-]+/g, "-").replace(/-+/g, "-").replace(/^-|-$/g, "").slice(0, 64) || "bucket-replication";
}

export function deployAlicloudNative(ctx: TopologyContext, buckets: Record<string, BucketRef>): AlicloudNativeResult {
  const result: AlicloudNativeResult = { replications: {}, roles: {} };
  const edges = ctx.plan.edges.filter((e) => e.mechanism === "alicloud-native");
  const parent = ctx.parent;
  const spec = (id: string, e: PlannedEdge): AlicloudBucketSpec => {
    const s = ctx.args.buckets[id];
    if (s?.provider !== "alicloud") throw new pulumi.ResourceError(`edge ${e.from} -> ${e.to} is alicloud-native but "${id}" is not an alicloud bucket`, parent);
    return s;
  };
  for (const e of edges) {
    const [src, dst] = [spec(e.from, e), spec(e.to, e)];
    const link = ctx.args.links[e.link];
    const name = `${ctx.name}-${e.from}-to-${e.to}`;
    const provider = alicloudProviderFor(ctx, src);
    const deletes = e.deletes ?? false;
    const prefix = e.sourcePrefix ?? "";
    const backfill = link?.backfill ?? src.create === false;
    const deps = [buckets[e.from], buckets[e.to]].flatMap((b) => [b?.resource, ...(b?.dependsOn ?? [])]).filter((r): r is pulumi.Resource => !!r);

    let syncRole: pulumi.Output<string> | undefined;
    if (src.kmsKeyId) {
      const role = new alicloud.ram.Role(`${name}-role`, {
        roleName: ramName(`${name}-oss-replication`),
        assumeRolePolicyDocument: OSS_TRUST_POLICY,
        description: `bucket-replication (${ctx.name}): OSS replication ${src.bucket} -> ${dst.bucket}`,
      }, { parent, provider });
      const policy = new alicloud.ram.Policy(`${name}-policy`, {
        policyName: ramName(`${name}-oss-replication`),
        policyDocument: ramPolicyDocument(ossReplicationStatements(src.bucket, dst.bucket, deletes, { decrypt: src.kmsKeyId, encrypt: dst.kmsKeyId })),
        description: `bucket-replication (${ctx.name}): exactly ${src.bucket} -> ${dst.bucket} and their KMS keys`,
      }, { parent, provider });
      const attachment = new alicloud.ram.RolePolicyAttachment(`${name}-policy-attachment`, {
        policyName: policy.policyName,
        policyType: "Custom",
        roleName: role.roleName,
      }, { parent, provider });
      deps.push(attachment);
      result.roles[`${e.from}->${e.to}`] = role;
      syncRole = role.roleName;
    }

    const accelerated = src.region !== dst.region && ossMainland(src.region) !== ossMainland(dst.region);
    result.replications[`${e.from}->${e.to}`] = new alicloud.oss.BucketReplication(`${name}-replication`, {
      bucket: buckets[e.from].name,
      destination: {
        bucket: buckets[e.to].name,
        location: `oss-${dst.region}`,
        transferType: accelerated ? "oss_acc" : "internal",
      },
      action: deletes ? "ALL" : "PUT",
      historicalObjectReplication: backfill ? "enabled" : "disabled",
      ...(prefix ? { prefixSet: { prefixes: [prefix] } } : {}),
      ...(syncRole
        ? {
            syncRole,
            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
            encryptionConfiguration: { replicaKmsKeyId: dst.kmsKeyId! },
          }
        : {}),
    }, { parent, provider, dependsOn: deps });
  }
  return result;
}
