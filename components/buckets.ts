// Declares (create: true, the default) or references (create: false) every aws/oci bucket of the
// topology. Owned by the native-replication issue; the runner deployment consumes the refs.
//
// Created AWS buckets get, each in its own region (v7 per-resource `region`): a public access block
// with all four switches on and default encryption (SSE-KMS with the bucket's key and an S3 Bucket
// Key, or SSE-S3). Created OCI buckets are `NoPublicAccess`. Referenced buckets are left as they are;
// their names and ARNs are known at preview.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as oci from "@pulumi/oci";
import * as alicloud from "@pulumi/alicloud";
import * as linode from "@pulumi/linode";
import type { BucketRef, TopologyContext } from "./context.js";
import type { AlicloudBucketSpec, AwsBucketSpec, LinodeBucketSpec, OciBucketSpec } from "./plan/types.js";
import { linodeRegion } from "./plan/endpoints.js";
import { ociProviderFor } from "./oci/provider.js";
import { alicloudProviderFor } from "./alicloud/provider.js";

/** `arn:aws:s3:::name` — S3 bucket ARNs carry neither region nor account. */
export function s3BucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

function declareAws(ctx: TopologyContext, id: string, spec: AwsBucketSpec): BucketRef {
  if (spec.create === false) {
    return { id, provider: "aws", name: pulumi.output(spec.bucket), arn: pulumi.output(s3BucketArn(spec.bucket)) };
  }
  const opts: pulumi.CustomResourceOptions = { parent: ctx.parent, provider: spec.pulumiProvider };
  const bucket = new aws.s3.Bucket(`${ctx.name}-${id}`, { bucket: spec.bucket, region: spec.region }, opts);
  new aws.s3.BucketPublicAccessBlock(
    `${ctx.name}-${id}-public-access`,
    {
      bucket: bucket.bucket,
      region: spec.region,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${ctx.name}-${id}-encryption`,
    {
      bucket: bucket.bucket,
      region: spec.region,
      rules: [
        spec.kmsKeyArn
          ? {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: spec.kmsKeyArn },
              bucketKeyEnabled: true,
            }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ],
    },
    opts,
  );
  return {
    id,
    provider: "aws",
    // The name is known at preview (we set it); the ARN is derived so that it is too.
    name: bucket.bucket,
    arn: bucket.bucket.apply(s3BucketArn),
    resource: bucket,
  };
}

function declareOci(ctx: TopologyContext, id: string, spec: OciBucketSpec): BucketRef {
  if (spec.create === false) return { id, provider: "oci", name: pulumi.output(spec.bucket) };
  const bucket = new oci.objectstorage.Bucket(
    `${ctx.name}-${id}`,
    {
      name: spec.bucket,
      namespace: spec.namespace,
      compartmentId: spec.compartmentId,
      accessType: "NoPublicAccess",
    },
    { parent: ctx.parent, provider: ociProviderFor(ctx, spec) },
  );
  return { id, provider: "oci", name: bucket.name, resource: bucket };
}

/** Created OSS buckets: private ACL, public access blocked, server-side encryption (SSE-KMS with the
 *  bucket's key, or SSE-OSS AES256), versioning when asked for. */
function declareAlicloud(ctx: TopologyContext, id: string, spec: AlicloudBucketSpec): BucketRef {
  if (spec.create === false) return { id, provider: "alicloud", name: pulumi.output(spec.bucket) };
  const opts: pulumi.CustomResourceOptions = { parent: ctx.parent, provider: alicloudProviderFor(ctx, spec) };
  const n = `${ctx.name}-${id}`;
  const bucket = new alicloud.oss.Bucket(n, { bucket: spec.bucket }, opts);
  const settings: pulumi.Resource[] = [
    new alicloud.oss.BucketAcl(`${n}-acl`, { bucket: bucket.bucket, acl: "private" }, opts),
    new alicloud.oss.BucketPublicAccessBlock(`${n}-public-access`, { bucket: bucket.bucket, blockPublicAccess: true }, opts),
    new alicloud.oss.BucketServerSideEncryption(
      `${n}-encryption`,
      spec.kmsKeyId ? { bucket: bucket.bucket, sseAlgorithm: "KMS", kmsMasterKeyId: spec.kmsKeyId } : { bucket: bucket.bucket, sseAlgorithm: "AES256" },
      opts,
    ),
  ];
  if (spec.versioning === true) settings.push(new alicloud.oss.BucketVersioning(`${n}-versioning`, { bucket: bucket.bucket, status: "Enabled" }, opts));
  return { id, provider: "alicloud", name: bucket.bucket, resource: bucket, dependsOn: settings };
}

/** Created Linode buckets: private ACL, no CORS, in the spec's region. */
function declareLinode(ctx: TopologyContext, id: string, spec: LinodeBucketSpec): BucketRef {
  if (spec.create === false) return { id, provider: "linode", name: pulumi.output(spec.bucket) };
  const bucket = new linode.ObjectStorageBucket(
    `${ctx.name}-${id}`,
    // A legacy cluster id (us-east-1) is given as the region it belongs to: `cluster` is deprecated.
    { label: spec.bucket, region: linodeRegion(spec.region), acl: "private", corsEnabled: false },
    { parent: ctx.parent, provider: spec.pulumiProvider },
  );
  return { id, provider: "linode", name: bucket.label, resource: bucket };
}

export function declareBuckets(ctx: TopologyContext): Record<string, BucketRef> {
  const refs: Record<string, BucketRef> = {};
  for (const [id, spec] of Object.entries(ctx.args.buckets)) {
    if (spec.provider === "aws") refs[id] = declareAws(ctx, id, spec);
    else if (spec.provider === "oci") refs[id] = declareOci(ctx, id, spec);
    else if (spec.provider === "alicloud") refs[id] = declareAlicloud(ctx, id, spec);
    else if (spec.provider === "linode") refs[id] = declareLinode(ctx, id, spec);
    else refs[id] = { id, provider: "s3", name: pulumi.output(spec.bucket) };
  }
  return refs;
}


