// Static keys the component creates for providers whose buckets the runner reaches over an S3 API
// with access keys: a RAM user for Alibaba Cloud OSS, a limited access key for Linode. Each names
// exactly the buckets the runner serves; the secret half goes only into the runner's secret store
// (the caller puts the payload into Secrets Manager or OCI Vault).
import * as pulumi from "@pulumi/pulumi";
import * as alicloud from "@pulumi/alicloud";
import * as linode from "@pulumi/linode";
import type { AlicloudBucketSpec, LinodeBucketSpec } from "../plan/types.js";
import { linodeRegion } from "../plan/endpoints.js";
import { alicloudProviderFor } from "../alicloud/provider.js";
import { ossRunnerStatements, ramPolicyDocument } from "../alicloud/policies.js";
import { dnsName, type Core } from "./core.js";

/** The served buckets of one provider, with the runner's access and the bucket's name as an Output
 *  (so a key for a bucket this topology creates waits for the bucket). */
function served<S extends AlicloudBucketSpec | LinodeBucketSpec>(core: Core, provider: S["provider"]) {
  const out: { id: string; spec: S; name: pulumi.Output<string>; write: boolean; delete: boolean; access: NonNullable<ReturnType<Core["access"]["get"]>> }[] = [];
  for (const [id, access] of core.access) {
    const spec = core.ctx.args.buckets[id];
    if (spec?.provider !== provider) continue;
    out.push({ id, spec: spec as S, name: core.buckets[id]?.name ?? pulumi.output(spec.bucket), write: access.write.size > 0, delete: access.delete.size > 0, access });
  }
  return out;
}

function payloadOf(accessKeyId: pulumi.Input<string>, secretAccessKey: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(pulumi.all([accessKeyId, secretAccessKey]).apply(([a, s]) => JSON.stringify({ accessKeyId: a, secretAccessKey: s })));
}

/** A RAM user whose only policy lists, reads, writes and deletes the served OSS buckets' prefixes
 *  (deletes only where an edge propagates them), and its access key. */
export function alicloudRunnerUser(core: Core): pulumi.Output<string> {
  const buckets = served<AlicloudBucketSpec>(core, "alicloud");
  if (buckets.length === 0) throw new pulumi.ResourceError("runner: an OSS key was requested but the runner serves no alicloud bucket", core.ctx.parent);
  const n = core.name;
  // RAM is global to the account: the provider of the first served bucket's region is as good as any.
  const o = { ...core.opts, provider: alicloudProviderFor(core.ctx, buckets[0].spec) };
  const user = new alicloud.ram.User(`${n}-oss-user`, {
    name: dnsName(`${n}-oss`, 64),
    displayName: dnsName(`${n}-oss`, 64),
    comments: `bucket-replication runner (${core.ctx.name}): S3-compatible access to the replicated OSS buckets only`,
  }, o);
  const policy = new alicloud.ram.Policy(`${n}-oss-policy`, {
    policyName: dnsName(`${n}-oss`, 64),
    policyDocument: ramPolicyDocument(ossRunnerStatements(buckets.map((b) => ({ bucket: b.spec.bucket, access: b.access, kmsKeyId: b.spec.kmsKeyId })))),
    description: `bucket-replication runner (${core.ctx.name}): exact buckets and prefixes only`,
  }, o);
  const attachment = new alicloud.ram.UserPolicyAttachment(`${n}-oss-policy-attachment`, {
    policyName: policy.policyName,
    policyType: "Custom",
    userName: user.name,
  }, o);
  // `secret` is a secret output of the provider; without a pgpKey it is returned (not written to a file).
  const key = new alicloud.ram.AccessKey(`${n}-oss-key`, { userName: user.name }, { ...o, dependsOn: [attachment], additionalSecretOutputs: ["secret"] });
  return payloadOf(key.id, key.secret);
}

/** One Limited Access Key whose bucketAccesses name exactly the served Linode buckets: read_only on
 *  buckets the runner only reads (sources), read_write where it writes (targets, bidirectional). */
export function linodeRunnerKey(core: Core): pulumi.Output<string> {
  const buckets = served<LinodeBucketSpec>(core, "linode");
  if (buckets.length === 0) throw new pulumi.ResourceError("runner: a Linode key was requested but the runner serves no linode bucket", core.ctx.parent);
  const providers = [...new Set(buckets.map((b) => b.spec.pulumiProvider))];
  if (providers.length > 1)
    throw new pulumi.ResourceError(
      `runner: the linode buckets ${buckets.map((b) => b.id).join(", ")} use different pulumiProvider values, but one Linode access key serves them all; give them the same provider (one Linode account)`,
      core.ctx.parent,
    );
  const key = new linode.ObjectStorageKey(`${core.name}-linode-key`, {
    label: `${core.name} (bucket-replication runner)`.slice(0, 50),
    bucketAccesses: buckets.map((b) => ({
      bucketName: b.name,
      region: linodeRegion(b.spec.region),
      permissions: b.write ? "read_write" : "read_only",
    })),
  }, { ...core.opts, provider: providers[0], additionalSecretOutputs: ["secretKey"] });
  return payloadOf(key.accessKey, key.secretKey);
}
