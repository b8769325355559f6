// OCI Object Storage native replication for the plan's oci-native edges.
//
// Per edge: an `oci.objectstorage.ReplicationPolicy` on the source bucket, created with a provider
// for the source's region. Per compartment touched by an edge: an `oci.identity.Policy` letting the
// Object Storage service of every region involved (`objectstorage-<region>`) manage object-family
// there. The replication policy depends on the identity policies, both buckets and the backfill,
// so `pulumi destroy` removes it first (the destination becomes writable again) and only then the
// identity policies and buckets.
//
// OCI limits (checked here too, the planner should never send these): no prefix filter, deletes
// always propagate, one policy per source bucket, one source per destination, a destination cannot
// also be a source.
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as oci from "@pulumi/oci";
import * as command from "@pulumi/command";
import type { BucketRef, TopologyContext } from "../context.js";
import type { OciBucketSpec, PlannedEdge } from "../plan/types.js";
import { ociProviderFor } from "./provider.js";
import { OCI_BACKFILL_SCRIPT } from "./backfill-script.js";
import { wantsBackfill } from "../aws/replication.js";

export interface OciNativeResult {
  /** Replication policy per source bucket id. */
  replicationPolicies: Record<string, oci.objectstorage.ReplicationPolicy>;
  /** IAM policy per compartment OCID. */
  identityPolicies: Record<string, oci.identity.Policy>;
  /** One-shot backfill per source bucket id (when backfill applies). */
  backfills: Record<string, command.local.Command>;
}

/** The IAM statements letting Object Storage in `regions` replicate within `compartmentId`. */
export function replicationStatements(compartmentId: string, regions: string[]): string[] {
  const where = compartmentId.startsWith("ocid1.tenancy.") ? "tenancy" : `compartment id ${compartmentId}`;
  return [...new Set(regions)].sort().map((r) => `Allow service objectstorage-${r} to manage object-family in ${where}`);
}

/** OCI policy names: letters, digits, `-`, `_`, `.`; ≤ 100 chars. */
function policyName(ctx: TopologyContext, compartmentId: string): string {
  const h = createHash("sha256").update(compartmentId).digest("hex").slice(0, 10);
  return `${ctx.name}-objectstorage-replication-${h}`.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 100);
}

export function validateOciEdges(ctx: TopologyContext, edges: PlannedEdge[]): void {
  const fail = (e: PlannedEdge, msg: string) => {
    throw new pulumi.ResourceError(`edge ${e.from} -> ${e.to} (oci-native): ${msg}`, ctx.parent);
  };
  const sources = new Set(edges.map((e) => e.from));
  const seenFrom = new Set<string>();
  const seenTo = new Set<string>();
  for (const e of edges) {
    const link = ctx.args.links[e.link] ?? {};
    for (const id of [e.from, e.to]) {
      if (ctx.args.buckets[id]?.provider !== "oci") fail(e, `bucket "${id}" is not an OCI bucket`);
    }
    if ((e.sourcePrefix ?? link.prefix ?? "") !== "" || (e.targetPrefix ?? "") !== "") {
      fail(e, "OCI replication policies have no prefix filter; use the runner");
    }
    if (e.deletes === false) fail(e, "OCI replication always propagates deletes; use the runner for deletes: false");
    if (seenFrom.has(e.from)) fail(e, `bucket "${e.from}" already replicates elsewhere (one replication policy per source bucket)`);
    if (seenTo.has(e.to)) fail(e, `bucket "${e.to}" already has a replication source (one source per destination)`);
    if (sources.has(e.to)) fail(e, `bucket "${e.to}" is a replication source, so it cannot also be a destination`);
    if (e.from === e.to) fail(e, "a bucket cannot replicate to itself");
    seenFrom.add(e.from);
    seenTo.add(e.to);
  }
}

export function deployOciNative(ctx: TopologyContext, buckets: Record<string, BucketRef>): OciNativeResult {
  const result: OciNativeResult = { replicationPolicies: {}, identityPolicies: {}, backfills: {} };
  const edges = ctx.plan.edges.filter((e) => e.mechanism === "oci-native");
  if (edges.length === 0) return result;
  validateOciEdges(ctx, edges);
  const parent = ctx.parent;
  const spec = (id: string) => ctx.args.buckets[id] as OciBucketSpec;

  // IAM: per compartment, the Object Storage service of every region of an edge touching it.
  const regionsByCompartment = new Map<string, string[]>();
  for (const e of edges) {
    const regions = [spec(e.from).region, spec(e.to).region];
    for (const c of [spec(e.from).compartmentId, spec(e.to).compartmentId]) {
      regionsByCompartment.set(c, [...(regionsByCompartment.get(c) ?? []), ...regions]);
    }
  }
  for (const [compartmentId, regions] of regionsByCompartment) {
    const name = policyName(ctx, compartmentId);
    result.identityPolicies[compartmentId] = new oci.identity.Policy(
      name,
      {
        compartmentId,
        name,
        description: `Lets Object Storage replicate buckets of ${ctx.name} (bucket-replication)`,
        statements: replicationStatements(compartmentId, regions),
      },
      // IAM lives in the home region: the stack's default OCI provider.
      { parent },
    );
  }

  for (const e of edges) {
    const src = spec(e.from);
    const dst = spec(e.to);
    const iam = [...new Set([src.compartmentId, dst.compartmentId])].map((c) => result.identityPolicies[c]);
    const bucketDeps = [buckets[e.from]?.resource, buckets[e.to]?.resource].filter((r): r is pulumi.Resource => !!r);

    let backfill: command.local.Command | undefined;
    if (wantsBackfill(ctx.args.links[e.link] ?? {}, src)) {
      backfill = new command.local.Command(
        `${ctx.name}-${e.from}-backfill`,
        {
          create: `node -e '${OCI_BACKFILL_SCRIPT.replace(/'/g, `'\\''`)}'`,
          environment: {
            SRC_NAMESPACE: src.namespace,
            SRC_BUCKET: src.bucket,
            SRC_REGION: src.region,
            DST_NAMESPACE: dst.namespace,
            DST_BUCKET: dst.bucket,
            DST_REGION: dst.region,
          },
          triggers: [src.namespace, src.bucket, dst.namespace, dst.bucket, dst.region],
        },
        // Cross-region CopyObject needs the same service permission as replication.
        { parent, dependsOn: [...iam, ...bucketDeps] },
      );
      result.backfills[e.from] = backfill;
    }

    result.replicationPolicies[e.from] = new oci.objectstorage.ReplicationPolicy(
      `${ctx.name}-${e.from}-replication`,
      {
        bucket: buckets[e.from]?.name ?? src.bucket,
        namespace: src.namespace,
        destinationBucketName: buckets[e.to]?.name ?? dst.bucket,
        destinationRegionName: dst.region,
        name: `${ctx.name}-${e.from}-to-${e.to}`.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 255),
      },
      {
        parent,
        provider: ociProviderFor(ctx, src),
        dependsOn: [...iam, ...bucketDeps, ...(backfill ? [backfill] : [])],
        // Every property forces replacement; the new policy must not coexist with the old one
        // (one policy per source bucket).
        deleteBeforeReplace: true,
      },
    );
  }
  return result;
}
