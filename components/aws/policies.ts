// IAM documents for S3 native replication, as plain data (no Pulumi): every resource is an exact
// bucket, `bucket/*` or KMS key ARN. Tested by walking every statement.
import type { AwsBucketSpec } from "../plan/types.js";

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;
export const objectsArn = (bucket: string) => `arn:aws:s3:::${bucket}/*`;

export const SOURCE_BUCKET_ACTIONS = ["s3:GetReplicationConfiguration", "s3:ListBucket"];
export const SOURCE_OBJECT_ACTIONS = [
  "s3:GetObjectVersionForReplication",
  "s3:GetObjectVersionAcl",
  "s3:GetObjectVersionTagging",
];
export const DESTINATION_OBJECT_ACTIONS = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"];
/** Needed with `accessControlTranslation.owner = "Destination"` (cross-account). */
export const OWNER_OVERRIDE_ACTION = "s3:ObjectOwnerOverrideToBucketOwner";

/** Trust policy of a role assumed by an AWS service principal. */
export function serviceTrustPolicy(service: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  };
}

export interface ReplicationDestination {
  spec: AwsBucketSpec;
  crossAccount: boolean;
}

/** True when both accounts are known and differ. */
export function isCrossAccount(src: AwsBucketSpec, dst: AwsBucketSpec): boolean {
  return !!src.accountId && !!dst.accountId && src.accountId !== dst.accountId;
}

/** KMS is used through S3 only, from the bucket's region, for that bucket's objects. */
function kmsCondition(spec: AwsBucketSpec): PolicyStatement["Condition"] {
  return {
    StringEquals: { "kms:ViaService": `s3.${spec.region}.amazonaws.com` },
    // Per-object context, or the bucket ARN when the bucket uses an S3 Bucket Key.
    StringLike: { "kms:EncryptionContext:aws:s3:arn": [bucketArn(spec.bucket), objectsArn(spec.bucket)] },
  };
}

/** The permissions policy of the replication role of `src` (one role per source bucket). */
export function replicationRolePolicy(src: AwsBucketSpec, dests: ReplicationDestination[]): PolicyDocument {
  const statements: PolicyStatement[] = [
    { Sid: "SourceBucket", Effect: "Allow", Action: SOURCE_BUCKET_ACTIONS, Resource: bucketArn(src.bucket) },
    { Sid: "SourceObjects", Effect: "Allow", Action: SOURCE_OBJECT_ACTIONS, Resource: objectsArn(src.bucket) },
  ];
  const destArns = [...new Set(dests.map((d) => objectsArn(d.spec.bucket)))];
  statements.push({ Sid: "DestinationObjects", Effect: "Allow", Action: DESTINATION_OBJECT_ACTIONS, Resource: destArns });
  const overrideArns = [...new Set(dests.filter((d) => d.crossAccount).map((d) => objectsArn(d.spec.bucket)))];
  if (overrideArns.length) {
    statements.push({ Sid: "DestinationOwnerOverride", Effect: "Allow", Action: [OWNER_OVERRIDE_ACTION], Resource: overrideArns });
  }
  if (src.kmsKeyArn) {
    statements.push({
      Sid: "DecryptSource",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: src.kmsKeyArn,
      Condition: kmsCondition(src),
    });
  }
  const seen = new Set<string>();
  for (const d of dests) {
    if (!d.spec.kmsKeyArn || seen.has(d.spec.bucket)) continue;
    seen.add(d.spec.bucket);
    statements.push({
      Sid: `EncryptReplicas${seen.size}`,
      Effect: "Allow",
      Action: ["kms:Encrypt"],
      Resource: d.spec.kmsKeyArn,
      Condition: kmsCondition(d.spec),
    });
  }
  return { Version: "2012-10-17", Statement: statements };
}

/** Destination bucket policy statements granting a cross-account source role the replicate actions. */
export function destinationGrantStatements(dst: AwsBucketSpec, roleArn: string, index: number): PolicyStatement[] {
  return [
    {
      Sid: `ReplicateFromSource${index}`,
      Effect: "Allow",
      Principal: { AWS: roleArn },
      Action: [...DESTINATION_OBJECT_ACTIONS, OWNER_OVERRIDE_ACTION],
      Resource: objectsArn(dst.bucket),
    },
    {
      Sid: `VersioningForSource${index}`,
      Effect: "Allow",
      Principal: { AWS: roleArn },
      Action: ["s3:GetBucketVersioning", "s3:PutBucketVersioning"],
      Resource: bucketArn(dst.bucket),
    },
  ];
}

/** The S3 Batch Operations role policy for Batch Replication with an S3-generated manifest and no report. */
export function batchReplicationPolicy(src: AwsBucketSpec): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "InitiateReplication", Effect: "Allow", Action: ["s3:InitiateReplication"], Resource: objectsArn(src.bucket) },
      {
        Sid: "GenerateManifest",
        Effect: "Allow",
        Action: ["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"],
        Resource: bucketArn(src.bucket),
      },
    ],
  };
}
