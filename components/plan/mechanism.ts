// Mechanism rules: can this directed edge use the providers' native replication, and why (not)?
// Static rules per edge first, then the OCI exclusivity rules that depend on the other edges.
import { q } from "./errors.js";
import type { Edge } from "./expand.js";
import { edgeName } from "./expand.js";
import type { AlicloudBucketSpec, AwsBucketSpec, BucketSpec, LinkSpec, OciBucketSpec, S3BucketSpec } from "./types.js";

export type NativeMechanism = "aws-native" | "oci-native" | "s3-native" | "alicloud-native";
export type Feasibility = { ok: true; mechanism: NativeMechanism; reason: string } | { ok: false; reason: string };

const no = (reason: string): Feasibility => ({ ok: false, reason });

function host(spec: S3BucketSpec): string {
  try {
    return new URL(spec.endpoint).host.toLowerCase();
  } catch {
    return spec.endpoint;
  }
}

/** The service an S3 endpoint belongs to: its registrable domain (sos-ch-dk-2.exo.io → exo.io),
 *  or the whole host:port for IPs, localhost and single-label hosts. */
export function s3Service(spec: S3BucketSpec): string {
  const h = host(spec);
  const [name, port] = h.startsWith("[") ? [h, ""] : h.split(":");
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name) || name.startsWith("[") || !name.includes(".") || name.endsWith("localhost")) return h;
  return [name.split(".").slice(-2).join("."), port].filter(Boolean).join(":");
}

function where(spec: BucketSpec): string {
  if (spec.provider === "aws") return "AWS S3";
  if (spec.provider === "oci") return "OCI Object Storage";
  if (spec.provider === "alicloud") return "Alibaba Cloud OSS";
  if (spec.provider === "linode") return "Linode Object Storage";
  return `the S3 endpoint ${host(spec)}`;
}

function under(prefix: string): string {
  return prefix ? ` under ${q(prefix)}` : "";
}

function rewrite(e: Edge, service: string): string {
  return `${service} keeps keys unchanged, so mapping ${q(e.sourcePrefix)} of ${e.from} to ${q(e.targetPrefix)} of ${e.to} (targetPrefixes) needs the runner`;
}

function fanCount(link: LinkSpec): { targets: number; sources: number } {
  if (link.kind === "fan-out") return { targets: link.to.length, sources: 1 };
  if (link.kind === "fan-in") return { targets: 1, sources: link.from.length };
  return { targets: 1, sources: 1 };
}

function aws(e: Edge, link: LinkSpec, a: AwsBucketSpec, b: AwsBucketSpec): Feasibility {
  if (e.targetPrefix !== e.sourcePrefix) return no(rewrite(e, "S3 Replication"));
  if (link.kind === "bidirectional" && link.conflict === "keep-both")
    return no("S3 Replication makes no conflict copies, so conflict: keep-both needs the runner");
  const flavour = a.region === b.region ? "Same-Region Replication" : "Cross-Region Replication";
  const accounts = a.accountId && b.accountId && a.accountId !== b.accountId ? " across accounts" : "";
  const dels = e.deletes
    ? " Deletes mean delete markers here: S3 replicates them (delete-marker replication), not permanent deletes of a version."
    : " Delete markers are not replicated (deletes: false).";
  if (link.kind === "bidirectional")
    return { ok: true, mechanism: "aws-native", reason: `Both buckets are in AWS S3, so ${flavour} runs each way${under(e.sourcePrefix)}${accounts} with replica modification sync; replicas are not replicated again, so there is no loop.${dels}` };
  return { ok: true, mechanism: "aws-native", reason: `Both buckets are in AWS S3, so S3 ${flavour} copies new writes${under(e.sourcePrefix)}${accounts}.${dels}` };
}

function oci(e: Edge, link: LinkSpec, a: OciBucketSpec, b: OciBucketSpec): Feasibility {
  const { targets, sources } = fanCount(link);
  if (link.kind === "bidirectional") return no("OCI replication makes the destination read-only, so a bidirectional link needs the runner");
  if (targets > 1) return no(`OCI allows one replication policy per source bucket, so a fan-out to ${targets} targets needs the runner`);
  if (sources > 1) return no(`OCI allows one replication source per destination bucket, so a fan-in from ${sources} sources needs the runner`);
  if (a.namespace !== b.namespace)
    return no(`OCI replicates only within one tenancy, and ${e.from} is in namespace ${q(a.namespace)} while ${e.to} is in ${q(b.namespace)}, so the runner copies`);
  if (e.targetPrefix !== e.sourcePrefix) return no(rewrite(e, "OCI replication"));
  if (e.sourcePrefix) return no(`OCI replication has no prefix filter, so a link limited to ${q(e.sourcePrefix)} needs the runner`);
  if (!e.deletes)
    return no(`OCI replication always propagates deletes, but this link has deletes: false, so the runner copies without deleting (set deletes: true for native replication)`);
  return { ok: true, mechanism: "oci-native", reason: `Both buckets are in OCI namespace ${q(a.namespace)}, so OCI bucket replication copies every write and delete (${e.to} becomes read-only).` };
}

function s3(e: Edge, link: LinkSpec, a: S3BucketSpec, b: S3BucketSpec): Feasibility {
  const lacking = [[e.from, a], [e.to, b]].filter(([, s]) => (s as S3BucketSpec).nativeReplication !== "s3-api").map(([id]) => id as string);
  if (lacking.length)
    return no(`${lacking.join(" and ")} ${lacking.length > 1 ? "have" : "has"} no native replication (nativeReplication is not "s3-api"), so the runner copies over the S3 API`);
  const [sa, sb] = [s3Service(a), s3Service(b)];
  if (sa !== sb)
    return no(`${e.from} (${host(a)}) and ${e.to} (${host(b)}) are different services, and S3-API replication only reaches buckets of the same service, so the runner copies`);
  if (e.targetPrefix !== e.sourcePrefix) return no(rewrite(e, "S3-API replication"));
  if (link.kind === "bidirectional" && link.conflict === "keep-both")
    return no("S3-API replication makes no conflict copies, so conflict: keep-both needs the runner");
  const on = host(a) === host(b) ? `the same endpoint ${host(a)}` : `the same service ${sa}`;
  const dels = e.deletes ? " Deletes replicate as delete markers." : " Delete markers are not replicated (deletes: false).";
  const dir = link.kind === "bidirectional" ? " in both directions; writes replicate once, so there is no loop." : ".";
  return { ok: true, mechanism: "s3-native", reason: `Both buckets are on ${on} with S3-API replication (PutBucketReplication; versioning on both, one organization)${under(e.sourcePrefix)}${dir}${dels}` };
}

/** OSS regions in mainland China (Hong Kong is outside: it replicates with regions abroad directly). */
export function ossMainland(region: string): boolean {
  return region.startsWith("cn-") && region !== "cn-hongkong";
}

/** OSS limits per source bucket (PutBucketReplication): rules per bucket, prefixes per rule. */
export const OSS_MAX_RULES_PER_BUCKET = 100;
export const OSS_MAX_PREFIX_LENGTH = 1023;

function alicloud(e: Edge, link: LinkSpec, a: AlicloudBucketSpec, b: AlicloudBucketSpec): Feasibility {
  // OSS rules are one-way, with no replica-modification sync and no conflict rule: with a rule each
  // way, concurrent edits end as whichever replication lands last, not the later LastModified, and
  // nothing is kept as a conflict copy. `newer` and `keep-both` both promise more than that.
  if (link.kind === "bidirectional")
    return no(`OSS replication rules are one-way and resolve no conflicts (the replica that lands last wins, no conflict copy is kept), so a bidirectional link with conflict: ${link.conflict ?? "newer"} needs the runner`);
  if (e.targetPrefix !== e.sourcePrefix) return no(rewrite(e, "OSS replication"));
  if (e.sourcePrefix.length > OSS_MAX_PREFIX_LENGTH)
    return no(`OSS replication prefixes have at most ${OSS_MAX_PREFIX_LENGTH + 1} characters and ${q(e.sourcePrefix.slice(0, 24) + "…")} has ${e.sourcePrefix.length}, so the runner copies`);
  const [va, vb] = [a.versioning === true, b.versioning === true];
  if (va !== vb) {
    const [on, off] = va ? [e.from, e.to] : [e.to, e.from];
    return no(`OSS replication needs both buckets versioned or both unversioned, and ${on} is versioned while ${off} is not, so the runner copies (set versioning the same on both for native replication)`);
  }
  if (a.kmsKeyId && !b.kmsKeyId)
    return no(`${e.from} encrypts with SSE-KMS, and OSS replicates SSE-KMS objects only into a KMS key of the destination, which ${e.to} does not name, so the runner copies (set buckets.${e.to}.kmsKeyId for native replication)`);
  const same = a.region === b.region;
  const flavour = same ? `Same-Region Replication in ${a.region}` : `Cross-Region Replication from ${a.region} to ${b.region}`;
  const accel = !same && ossMainland(a.region) !== ossMainland(b.region)
    ? " Between mainland China and other regions OSS replicates over the transfer-acceleration link (oss_acc), billed per GB."
    : "";
  const dels = e.deletes
    ? ` Deletes replicate (action ALL: PUT, DELETE, ABORT)${vb ? " as delete markers" : ""}.`
    : " Deletes are not replicated (action PUT).";
  const kms = a.kmsKeyId ? ` SSE-KMS objects are re-encrypted with ${e.to}'s key under a RAM role scoped to both buckets and keys.` : "";
  return { ok: true, mechanism: "alicloud-native", reason: `Both buckets are in Alibaba Cloud OSS, so OSS ${flavour} copies every write${under(e.sourcePrefix)}.${dels}${accel}${kms}` };
}

/** Static feasibility of native replication for one edge (ignoring the other edges). */
export function nativeFeasibility(e: Edge, link: LinkSpec, buckets: Record<string, BucketSpec>): Feasibility {
  const a = buckets[e.from];
  const b = buckets[e.to];
  if (a.provider === "aws" && b.provider === "aws") return aws(e, link, a, b);
  if (a.provider === "oci" && b.provider === "oci") return oci(e, link, a, b);
  if (a.provider === "s3" && b.provider === "s3") return s3(e, link, a, b);
  if (a.provider === "alicloud" && b.provider === "alicloud") return alicloud(e, link, a, b);
  if (a.provider === "linode" && b.provider === "linode")
    return no("Linode Object Storage has no bucket replication, so the runner copies over the cluster's S3 endpoint");
  return no(`Native replication stays within one provider, so the runner copies from ${where(a)} to ${where(b)}`);
}

/** OSS allows at most 100 replication rules per source bucket: later edges from a full bucket use the runner. */
export function applyOssRuleLimit(edges: Edge[], feas: Feasibility[], forcedRunner: boolean[]): void {
  const count = new Map<string, number>();
  for (let i = 0; i < edges.length; i++) {
    const f = feas[i];
    if (!f.ok || f.mechanism !== "alicloud-native" || forcedRunner[i]) continue;
    const n = (count.get(edges[i].from) ?? 0) + 1;
    count.set(edges[i].from, n);
    if (n > OSS_MAX_RULES_PER_BUCKET)
      feas[i] = no(`OSS allows ${OSS_MAX_RULES_PER_BUCKET} replication rules per source bucket and ${edges[i].from} already has ${OSS_MAX_RULES_PER_BUCKET} native edges, so the runner copies`);
  }
}

/**
 * OCI exclusivity: a source has one policy, and no bucket may be both a native source and a native
 * destination (the destination is read-only).
 * Earlier links win. `forcedRunner[i]` edges never take a native role but still count as writers.
 */
export function applyOciExclusivity(edges: Edge[], feas: Feasibility[], forcedRunner: boolean[]): void {
  const isOci = (i: number): boolean => {
    const f = feas[i];
    return f.ok && f.mechanism === "oci-native" && !forcedRunner[i];
  };
  // A native destination is read-only, so no other edge may write into it. Candidates always sync the
  // whole bucket with deletes, so another writer is already rejected by the overlap rule (validateEdges).
  const nativeSource = new Map<string, Edge>();
  const nativeDest = new Map<string, Edge>();
  for (let i = 0; i < edges.length; i++) {
    if (!isOci(i)) continue;
    const e = edges[i];
    const bySource = nativeSource.get(e.from);
    const destIsSource = nativeSource.get(e.to);
    const sourceIsDest = nativeDest.get(e.from);
    if (bySource) feas[i] = no(`OCI allows one replication policy per source bucket and links[${bySource.link}] (${edgeName(bySource)}) already uses ${e.from}'s, so the runner copies`);
    else if (sourceIsDest)
      feas[i] = no(`${e.from} is the read-only destination of links[${sourceIsDest.link}]'s OCI replication, and OCI forbids a bucket that is both source and destination, so the runner copies`);
    else if (destIsSource)
      feas[i] = no(`${e.to} is the source of links[${destIsSource.link}]'s OCI replication, and OCI forbids a bucket that is both source and destination, so the runner copies`);
    else {
      nativeSource.set(e.from, e);
      nativeDest.set(e.to, e);
    }
  }
}
