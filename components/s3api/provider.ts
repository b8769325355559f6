// Dynamic providers for S3-API native replication (Exoscale SOS and other endpoints that implement
// PutBucketReplication): bucket versioning and the bucket's replication configuration.
//
// Dynamic providers are serialized with their closures, so this module keeps to plain functions:
// the SDK is loaded inside them (nodeRequire), and credentials arrive only as (secret) inputs of each call,
// never through module state or closures.
import type * as pulumi from "@pulumi/pulumi";
import { nodeRequire } from "./node-require.js";

type S3Sdk = typeof import("@aws-sdk/client-s3");
const s3Sdk = (): S3Sdk => nodeRequire("@aws-sdk/client-s3");

export interface S3ApiConnection {
  endpoint: string;
  /** Signing region (Exoscale: the zone, e.g. ch-dk-2). */
  region: string;
  /** Absent: the SDK's default credential chain on the deploying host. */
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface S3ApiRule {
  id: string;
  priority: number;
  /** "" = the whole bucket. */
  prefix: string;
  deleteMarkerReplication: boolean;
  /** In the provider's own format: Exoscale takes the destination bucket's name (not an ARN). */
  destinationBucket: string;
}

export interface S3ApiReplicationInputs extends S3ApiConnection {
  bucket: string;
  /** In the provider's own format: Exoscale takes the IAM role's UUID. */
  role: string;
  rules: S3ApiRule[];
}

export interface S3ApiVersioningInputs extends S3ApiConnection {
  bucket: string;
}

/** The PutBucketReplication request (pure; the SDK serializes it to the ReplicationConfiguration XML). */
export function putReplicationRequest(inputs: S3ApiReplicationInputs) {
  return {
    Bucket: inputs.bucket,
    ReplicationConfiguration: {
      Role: inputs.role,
      Rules: inputs.rules.map((r) => ({
        ID: r.id,
        Priority: r.priority,
        Status: "Enabled" as const,
        Filter: { Prefix: r.prefix },
        DeleteMarkerReplication: { Status: r.deleteMarkerReplication ? ("Enabled" as const) : ("Disabled" as const) },
        Destination: { Bucket: r.destinationBucket },
      })),
    },
  };
}

export async function s3ApiClient(c: S3ApiConnection) {
  const { S3Client } = s3Sdk();
  return new S3Client({
    endpoint: c.endpoint,
    region: c.region,
    forcePathStyle: true,
    ...(c.accessKeyId && c.secretAccessKey
      ? { credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } }
      : {}),
  });
}

function errorName(e: unknown): string {
  const err = e as { name?: string; Code?: string };
  return err?.Code ?? err?.name ?? "Error";
}

/** A clear error naming the call, the endpoint and the bucket; never the credentials. */
export function describeS3ApiError(op: string, c: S3ApiConnection & { bucket: string }, e: unknown): Error {
  const name = errorName(e);
  const msg = (e as Error)?.message ?? String(e);
  const hint =
    name === "NotImplemented"
      ? `: ${c.endpoint} does not implement ${op}. Set nativeReplication: "none" on the bucket so the runner serves the edge`
      : "";
  return new Error(`${op} on ${c.endpoint} bucket ${c.bucket} failed: ${name}: ${msg}${hint}`);
}

/** Errors that mean "there is no replication configuration to delete". */
export const ABSENT_ON_DELETE = ["NoSuchBucket", "NoSuchReplicationConfiguration", "ReplicationConfigurationNotFoundError", "NotImplemented"];

export async function putReplication(inputs: S3ApiReplicationInputs): Promise<void> {
  const { PutBucketReplicationCommand } = s3Sdk();
  const client = await s3ApiClient(inputs);
  try {
    // PUT replaces the whole configuration: create and update are the same idempotent call.
    await client.send(new PutBucketReplicationCommand(putReplicationRequest(inputs)));
  } catch (e) {
    throw describeS3ApiError("PutBucketReplication", inputs, e);
  } finally {
    client.destroy();
  }
}

export async function deleteReplication(inputs: S3ApiReplicationInputs): Promise<"deleted" | "absent"> {
  const { DeleteBucketReplicationCommand } = s3Sdk();
  const client = await s3ApiClient(inputs);
  try {
    await client.send(new DeleteBucketReplicationCommand({ Bucket: inputs.bucket }));
    return "deleted";
  } catch (e) {
    if (ABSENT_ON_DELETE.includes(errorName(e))) return "absent";
    throw describeS3ApiError("DeleteBucketReplication", inputs, e);
  } finally {
    client.destroy();
  }
}

export async function enableVersioning(inputs: S3ApiVersioningInputs): Promise<void> {
  const { PutBucketVersioningCommand } = s3Sdk();
  const client = await s3ApiClient(inputs);
  try {
    await client.send(
      new PutBucketVersioningCommand({ Bucket: inputs.bucket, VersioningConfiguration: { Status: "Enabled" } }),
    );
  } catch (e) {
    throw describeS3ApiError("PutBucketVersioning", inputs, e);
  } finally {
    client.destroy();
  }
}

function changedKeys<T extends object>(olds: T, news: T, keys: (keyof T)[]): string[] {
  return keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k])).map(String);
}

export const s3ApiReplicationProvider: pulumi.dynamic.ResourceProvider<S3ApiReplicationInputs, S3ApiReplicationInputs> = {
  async create(inputs) {
    await putReplication(inputs);
    return { id: `${inputs.endpoint}/${inputs.bucket}`, outs: inputs };
  },
  async diff(_id, olds, news) {
    const replaces = changedKeys(olds, news, ["endpoint", "bucket"]);
    const changes = replaces.length > 0 || changedKeys(olds, news, ["region", "role", "rules", "accessKeyId", "secretAccessKey"]).length > 0;
    // Delete the old bucket's configuration only after the new one is in place.
    return { changes, replaces, deleteBeforeReplace: false };
  },
  async update(_id, _olds, news) {
    await putReplication(news);
    return { outs: news };
  },
  async delete(_id, props) {
    await deleteReplication(props);
  },
};

export const s3ApiVersioningProvider: pulumi.dynamic.ResourceProvider<S3ApiVersioningInputs, S3ApiVersioningInputs> = {
  async create(inputs) {
    await enableVersioning(inputs);
    return { id: `${inputs.endpoint}/${inputs.bucket}`, outs: inputs };
  },
  async diff(_id, olds, news) {
    const replaces = changedKeys(olds, news, ["endpoint", "bucket"]);
    const changes = replaces.length > 0 || changedKeys(olds, news, ["region", "accessKeyId", "secretAccessKey"]).length > 0;
    return { changes, replaces, deleteBeforeReplace: false };
  },
  async update(_id, _olds, news) {
    await enableVersioning(news);
    return { outs: news };
  },
  async delete() {
    // Versioning cannot be turned off, only suspended, and suspending it under a bucket that may
    // still replicate (or hold versions a user relies on) is not ours to decide: leave it enabled.
  },
};
