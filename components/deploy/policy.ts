// Least-privilege access for the runner, computed from the served edges. Pure (no Pulumi runtime).
// Per bucket: which prefixes it reads, writes and deletes; then IAM statements naming exact bucket
// ARNs and prefixes (AWS) or OCI policy statements naming exact bucket names.
import type { BucketSpec, PlannedEdge, ReplicationTopologyArgs } from "../plan/types.js";

export interface BucketAccess {
  read: Set<string>;
  write: Set<string>;
  delete: Set<string>;
}

function linkDeletes(args: ReplicationTopologyArgs, e: PlannedEdge): boolean {
  if (e.deletes !== undefined) return e.deletes;
  const link = args.links[e.link];
  if (link?.deletes !== undefined) return link.deletes;
  return (e.kind ?? link?.kind) === "bidirectional";
}

function prefixes(args: ReplicationTopologyArgs, e: PlannedEdge): { source: string; target: string } {
  const link = args.links[e.link];
  const source = e.sourcePrefix ?? link?.prefix ?? "";
  let target = e.targetPrefix ?? source;
  if (e.targetPrefix === undefined && link?.kind === "fan-in" && link.targetPrefixes?.[e.from] !== undefined) target = link.targetPrefixes[e.from];
  return { source, target };
}

/** What the runner does in each bucket: the source of an edge is read; its target is read (listing,
 *  equality checks) and written, and deleted in when the edge propagates deletes. A bidirectional
 *  pair therefore reads, writes (and deletes) on both sides. */
export function accessFromEdges(args: ReplicationTopologyArgs, served: PlannedEdge[]): Map<string, BucketAccess> {
  const out = new Map<string, BucketAccess>();
  const get = (id: string) => {
    let a = out.get(id);
    if (!a) out.set(id, (a = { read: new Set(), write: new Set(), delete: new Set() }));
    return a;
  };
  for (const e of served) {
    const { source, target } = prefixes(args, e);
    get(e.from).read.add(source);
    const t = get(e.to);
    t.read.add(target);
    t.write.add(target);
    if (linkDeletes(args, e)) t.delete.add(target);
  }
  return out;
}

/** Drop prefixes covered by a shorter one ("" covers everything). */
export function minimalPrefixes(ps: Iterable<string>): string[] {
  const sorted = [...new Set(ps)].sort((a, b) => a.length - b.length || a.localeCompare(b));
  const out: string[] = [];
  for (const p of sorted) if (!out.some((q) => p.startsWith(q))) out.push(p);
  return out.sort();
}

export interface IamStatement {
  Sid?: string;
  Effect: "Allow";
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

function sid(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, "");
}

/** IAM statements for one AWS bucket: ListBucket limited to the prefixes, object actions on
 *  `bucket/prefix*` only, KMS on the bucket's key when it has one. */
export function s3Statements(bucket: string, access: BucketAccess, kmsKeyArn?: string): IamStatement[] {
  const arn = `arn:aws:s3:::${bucket}`;
  const objects = (ps: Iterable<string>) => minimalPrefixes(ps).map((p) => `${arn}/${p}*`);
  const listPrefixes = minimalPrefixes([...access.read, ...access.write]);
  const st: IamStatement[] = [];
  const list: IamStatement = { Sid: sid(`List${bucket}`), Effect: "Allow", Action: ["s3:ListBucket"], Resource: arn };
  if (!listPrefixes.includes("")) list.Condition = { StringLike: { "s3:prefix": listPrefixes.map((p) => `${p}*`) } };
  st.push(list);
  if (access.read.size || access.write.size) {
    st.push({ Sid: sid(`Read${bucket}`), Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectTagging"], Resource: objects([...access.read, ...access.write]) });
  }
  if (access.write.size) {
    st.push({
      Sid: sid(`Write${bucket}`),
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      Resource: objects(access.write),
    });
  }
  if (access.delete.size) {
    st.push({ Sid: sid(`Delete${bucket}`), Effect: "Allow", Action: ["s3:DeleteObject"], Resource: objects(access.delete) });
  }
  if (kmsKeyArn) {
    const actions = ["kms:Decrypt"];
    if (access.write.size) actions.push("kms:GenerateDataKey", "kms:Encrypt");
    st.push({ Sid: sid(`Kms${bucket}`), Effect: "Allow", Action: actions, Resource: kmsKeyArn });
  }
  return st;
}

/** IAM statements for every AWS bucket the runner touches. */
export function awsBucketStatements(args: ReplicationTopologyArgs, access: Map<string, BucketAccess>): IamStatement[] {
  const out: IamStatement[] = [];
  for (const [id, a] of access) {
    const spec = args.buckets[id];
    if (spec?.provider !== "aws") continue;
    out.push(...s3Statements(spec.bucket, a, spec.kmsKeyArn));
  }
  return out;
}

export function policyDocument(statements: IamStatement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

function ociQuote(s: string): string {
  if (/['\n]/.test(s)) throw new Error(`OCI policy value must not contain quotes or line breaks: ${JSON.stringify(s)}`);
  return `'${s}'`;
}

/** OCI policy statements for a principal ("group id ocid1..." or "dynamic-group id ocid1..."):
 *  bucket metadata read and object permissions on exactly the named buckets. Prefixes are enforced
 *  by the runner config only (documented).
 *
 *  OCI authorizes AbortMultipartUpload with OBJECT_DELETE (OCI's policy reference: it is covered by
 *  `manage objects`, not `use`, and its permission is OBJECT_DELETE; there is no separate
 *  multipart-abort permission). A target without delete propagation therefore gets OBJECT_DELETE
 *  only together with `request.operation = 'AbortMultipartUpload'`, so the runner can clean up a
 *  failed multipart upload but never delete an object. */
export function ociBucketStatements(
  principal: string,
  buckets: { bucket: string; compartmentId: string; access: BucketAccess }[],
): string[] {
  const out: string[] = [];
  for (const b of buckets) {
    const where = `target.bucket.name = ${ociQuote(b.bucket)}`;
    const perms = ["OBJECT_INSPECT", "OBJECT_READ"];
    if (b.access.write.size) perms.push("OBJECT_CREATE", "OBJECT_OVERWRITE");
    if (b.access.delete.size) perms.push("OBJECT_DELETE");
    out.push(`Allow ${principal} to read buckets in compartment id ${b.compartmentId} where ${where}`);
    out.push(
      `Allow ${principal} to manage objects in compartment id ${b.compartmentId} where all {${where}, any {${perms
        .map((p) => `request.permission = '${p}'`)
        .join(", ")}}}`,
    );
    if (b.access.write.size && !b.access.delete.size) {
      out.push(
        `Allow ${principal} to manage objects in compartment id ${b.compartmentId} where all {${where}, request.permission = 'OBJECT_DELETE', request.operation = 'AbortMultipartUpload'}`,
      );
    }
  }
  return out;
}

/** The OCI buckets of a topology the runner touches, with their access. */
export function ociBuckets(
  args: ReplicationTopologyArgs,
  access: Map<string, BucketAccess>,
): { id: string; spec: Extract<BucketSpec, { provider: "oci" }>; access: BucketAccess }[] {
  const out: { id: string; spec: Extract<BucketSpec, { provider: "oci" }>; access: BucketAccess }[] = [];
  for (const [id, a] of access) {
    const spec = args.buckets[id];
    if (spec?.provider === "oci") out.push({ id, spec, access: a });
  }
  return out;
}
