// S3-API native replication (PutBucketReplication, e.g. Exoscale SOS) for s3-native edges.
//
// Per bucket on either end of an s3-native edge: an `S3ApiBucketVersioning` (PutBucketVersioning
// Enabled, against that bucket's own endpoint). Per source bucket: one `S3ApiReplication` holding one
// rule per outgoing edge, in the provider's own format (Role = the source spec's `replicationRole`,
// Exoscale's IAM role UUID; Destination.Bucket = the destination bucket's name), depending on the
// versioning of its source and every destination.
import * as pulumi from "@pulumi/pulumi";
import type { BucketRef, TopologyContext } from "../context.js";
import type { PlannedEdge, S3BucketSpec } from "../plan/types.js";
import {
  s3ApiReplicationProvider,
  s3ApiVersioningProvider,
  type S3ApiConnection,
  type S3ApiReplicationInputs,
  type S3ApiRule,
  type S3ApiVersioningInputs,
} from "./provider.js";

type Inputs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

const SECRET_OUTPUTS = ["accessKeyId", "secretAccessKey"];

export class S3ApiBucketVersioning extends pulumi.dynamic.Resource {
  constructor(name: string, args: Inputs<S3ApiVersioningInputs>, opts?: pulumi.CustomResourceOptions) {
    super(s3ApiVersioningProvider, name, args, { ...opts, additionalSecretOutputs: SECRET_OUTPUTS }, "bucket-replication", "S3ApiBucketVersioning");
  }
}

export class S3ApiReplication extends pulumi.dynamic.Resource {
  constructor(name: string, args: Inputs<S3ApiReplicationInputs>, opts?: pulumi.CustomResourceOptions) {
    super(s3ApiReplicationProvider, name, args, { ...opts, additionalSecretOutputs: SECRET_OUTPUTS }, "bucket-replication", "S3ApiReplication");
  }
}

export interface S3ApiNativeResult {
  /** Replication resource per source bucket id. */
  replications: Record<string, S3ApiReplication>;
  /** Versioning resource per bucket id. */
  versionings: Record<string, S3ApiBucketVersioning>;
}

/** Endpoint, signing region and credentials of a bucket; credentials become secrets. */
function connection(spec: S3BucketSpec): Inputs<S3ApiConnection> {
  return {
    endpoint: spec.endpoint,
    region: spec.region ?? "us-east-1",
    ...(spec.credentials
      ? {
          accessKeyId: pulumi.secret(spec.credentials.accessKeyId),
          secretAccessKey: pulumi.secret(spec.credentials.secretAccessKey),
        }
      : {}),
  };
}

export function deployS3ApiNative(ctx: TopologyContext, _buckets: Record<string, BucketRef>): S3ApiNativeResult {
  const result: S3ApiNativeResult = { replications: {}, versionings: {} };
  const edges = ctx.plan.edges.filter((e) => e.mechanism === "s3-native");
  if (edges.length === 0) return result;
  const parent = ctx.parent;
  const spec = (id: string, e: PlannedEdge): S3BucketSpec => {
    const s = ctx.args.buckets[id];
    if (s?.provider !== "s3" || s.nativeReplication !== "s3-api") {
      throw new pulumi.ResourceError(`edge ${e.from} -> ${e.to} is s3-native but "${id}" is not an s3 bucket with nativeReplication: "s3-api"`, parent);
    }
    return s;
  };

  for (const id of [...new Set(edges.flatMap((e) => [e.from, e.to]))]) {
    const s = spec(id, edges.find((e) => e.from === id || e.to === id)!);
    result.versionings[id] = new S3ApiBucketVersioning(`${ctx.name}-${id}-versioning`, { ...connection(s), bucket: s.bucket }, { parent });
  }

  const bySource = new Map<string, PlannedEdge[]>();
  for (const e of edges) bySource.set(e.from, [...(bySource.get(e.from) ?? []), e]);
  for (const [srcId, out] of bySource) {
    const src = spec(srcId, out[0]);
    if (!src.replicationRole) {
      throw new pulumi.ResourceError(
        `bucket "${srcId}" is the source of s3-native replication: set its replicationRole (the provider's role id, e.g. the Exoscale IAM role UUID allowed get-object on ${src.bucket} and put-object*/delete-object* on the destinations)`,
        parent,
      );
    }
    const usedIds = new Set<string>();
    const rules: S3ApiRule[] = out.map((e, i) => {
      const link = ctx.args.links[e.link] ?? {};
      const sp = e.sourcePrefix ?? link.prefix ?? "";
      if ((e.targetPrefix ?? sp) !== sp) {
        throw new pulumi.ResourceError(`edge ${e.from} -> ${e.to}: S3-API replication does not rewrite keys; use the runner`, parent);
      }
      let id = `to-${e.to}`;
      if (usedIds.has(id)) id = `${id}-link${e.link}-${i}`;
      usedIds.add(id);
      return {
        id,
        priority: out.length - i,
        prefix: sp,
        deleteMarkerReplication: e.deletes ?? link.deletes ?? false,
        destinationBucket: spec(e.to, e).bucket,
      };
    });
    const destIds = [...new Set(out.map((e) => e.to))];
    result.replications[srcId] = new S3ApiReplication(
      `${ctx.name}-${srcId}-replication`,
      { ...connection(src), bucket: src.bucket, role: src.replicationRole, rules },
      { parent, dependsOn: [result.versionings[srcId], ...destIds.map((id) => result.versionings[id])] },
    );
  }
  return result;
}
