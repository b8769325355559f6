// Planner: links → directed edges → mechanism + reason, with validation. Pure (no Pulumi calls):
// the only imports are types and the planner's own modules.
import { Problems, TopologyError, prefixesOverlap, q } from "./errors.js";
import { type Edge, edgeName, expandLink } from "./expand.js";
import { applyOciExclusivity, applyOssRuleLimit, nativeFeasibility } from "./mechanism.js";
import { readiness } from "./readiness.js";
import { BACKFILL_TIMEOUT_KEY, type PlanSettings } from "./settings.js";
import type { LinkSpec, PlannedEdge, ReplicationPlan, ReplicationTopologyArgs } from "./types.js";
import { shapeProblems } from "./validate.js";
import { isPlainObject } from "./errors.js";

export { TopologyError } from "./errors.js";
export type { Issue } from "./errors.js";
export type { PlanSettings } from "./settings.js";

/**
 * Validates a topology and decides the mechanism of every directed edge.
 * Edges come in link order: one-to-one → 1, bidirectional → 2 (A→B, B→A), fan-out → one per
 * target, fan-in → one per source. Throws a TopologyError (an Error) listing every problem, each
 * naming the link index or bucket, the field and the fix, when the topology is invalid.
 *
 * `settings` are the values outside the topology that the deployment reads (OCI tenancy, extra
 * regions, the backfill timeout). The deployment and `npm run plan` pass them, and then the rules
 * on what `pulumi preview` needs run too (a runner section for runner edges, the OCI tenancy, ...).
 * Without them only the topology itself is checked.
 */
export function planTopology(args: ReplicationTopologyArgs, settings?: PlanSettings): ReplicationPlan {
  // Every rule adds to one list, so one error reports them all: the later stages run on the links
  // whose own fields and buckets passed the shape checks (a link with a problem has no edges to
  // judge), unless the topology has no usable buckets map or links list at all.
  const p = shapeProblems(args, settings?.extraRegions);
  const shapeOk = p.size === 0;
  if (!shapeOk && !(isPlainObject(args) && isPlainObject(args.buckets) && Array.isArray(args.links))) p.check();
  const sound = (i: number): boolean => shapeOk || soundLink(p, args.links[i], i);
  const edges = args.links.flatMap((link, i) => (sound(i) ? expandLink(link, i) : []));
  validateEdges(p, edges);

  const forcedRunner = edges.map((e) => args.links[e.link].mechanism === "runner");
  const feas = edges.map((e) => nativeFeasibility(e, args.links[e.link], args.buckets));
  applyOciExclusivity(edges, feas, forcedRunner);
  applyOssRuleLimit(edges, feas, forcedRunner);

  const planned: PlannedEdge[] = edges.map((e, i) => {
    const link = args.links[e.link];
    const f = feas[i];
    let mechanism: PlannedEdge["mechanism"];
    let reason: string;
    if (forcedRunner[i]) {
      mechanism = "runner";
      reason = `links[${e.link}] sets mechanism: "runner"${f.ok ? `, overriding ${f.mechanism} replication` : `; native would not work anyway: ${f.reason}`}`;
    } else if (f.ok) {
      mechanism = f.mechanism;
      reason = f.reason;
    } else {
      if (link.mechanism === "native" && !p.has(`links[${e.link}].mechanism`))
        p.add(`links[${e.link}].mechanism`, `"native" is impossible for ${edgeName(e)}: ${f.reason}`, 'remove mechanism (or set it to "auto" or "runner") to let the runner serve this edge');
      mechanism = "runner";
      reason = f.reason;
    }
    checkNativeRequirements(p, args, e, mechanism);
    if (!/[.!?]$/.test(reason)) reason += ".";
    const edge: PlannedEdge = {
      from: e.from, to: e.to, link: e.link, mechanism, reason,
      kind: e.kind, deletes: e.deletes, sourcePrefix: e.sourcePrefix, targetPrefix: e.targetPrefix,
    };
    if (link.kind === "bidirectional") edge.conflict = link.conflict ?? "newer";
    return edge;
  });
  // The settings rules read the whole topology (runner section, every bucket): only on a sound shape.
  if (settings && shapeOk) {
    const t = settings.backfillTimeoutMinutes;
    if (t !== undefined && !(typeof t === "number" && t > 0))
      p.add(BACKFILL_TIMEOUT_KEY, `must be a positive number of minutes, got ${q(t)}`, `set it to e.g. 120, or remove it (default 60)`);
    for (const i of readiness(args, { edges: planned }, settings).problems) p.add(i.path, i.what, i.fix);
  }
  p.check();
  // Both directions of a bidirectional pair always share a mechanism (the rules are symmetric).
  for (let i = 0; i + 1 < planned.length; i++) {
    const [a, b] = [planned[i], planned[i + 1]];
    if (a.kind === "bidirectional" && a.link === b.link && a.mechanism !== b.mechanism)
      throw new TopologyError([`links[${a.link}]: internal planner error, the two directions got ${a.mechanism} and ${b.mechanism}. Fix: set mechanism: "runner" on the link and report this.`]);
  }
  return { edges: planned };
}

/**
 * What a native edge needs beyond feasibility, reported once per location:
 * - aws-native: accountId on both buckets or on neither. With one, cross-account (which needs
 *   destination.account, replica ownership and a destination bucket policy) cannot be decided.
 * - s3-native: no backfill. PutBucketReplication copies only new writes, and S3-API services such
 *   as Exoscale SOS have no batch replication for existing objects.
 */
function checkNativeRequirements(p: Problems, args: ReplicationTopologyArgs, e: Edge, mechanism: PlannedEdge["mechanism"]): void {
  const link = args.links[e.link];
  const [a, b] = [args.buckets[e.from], args.buckets[e.to]];
  if (mechanism === "aws-native" && a.provider === "aws" && b.provider === "aws" && !a.accountId !== !b.accountId) {
    const [setId, missingId] = a.accountId ? [e.from, e.to] : [e.to, e.from];
    const set = args.buckets[setId] as { accountId: string };
    const path = `buckets.${missingId}.accountId`;
    if (!p.has(path))
      p.add(path,
        `missing, while buckets.${setId}.accountId is ${q(set.accountId)} and links[${e.link}] replicates ${edgeName(e)} with S3 Replication; ` +
          "with only one account id the planner cannot tell whether the edge crosses accounts (cross-account needs destination.account, replica ownership and a bucket policy on the destination)",
        `set accountId on both buckets (buckets.${missingId}.accountId: the 12-digit account that owns ${q(args.buckets[missingId].bucket)}), or on neither (remove buckets.${setId}.accountId) when both are in the stack's account`);
  }
  // SSE-KMS: the replicas need a key in the destination's region (components/aws/replication.ts).
  if (mechanism === "aws-native" && a.provider === "aws" && b.provider === "aws" && a.kmsKeyArn && !b.kmsKeyArn) {
    const path = `buckets.${e.to}.kmsKeyArn`;
    if (!p.has(path))
      p.add(path,
        `missing, while ${e.from} uses SSE-KMS (buckets.${e.from}.kmsKeyArn) and links[${e.link}] replicates ${edgeName(e)} with S3 Replication, which must encrypt the replicas with a key in ${b.region}`,
        `set buckets.${e.to}.kmsKeyArn to a KMS key ARN in ${b.region}, or set links[${e.link}].mechanism: "runner"`);
  }
  if (mechanism === "s3-native" && link.backfill === true) {
    const path = `links[${e.link}].backfill`;
    if (!p.has(path))
      p.add(path,
        `true, but ${edgeName(e)} uses S3-API replication (s3-native), which copies only new writes: PutBucketReplication has no backfill and the service no batch replication`,
        `set ${path}: false and copy the existing objects once with the runner (a copy job) before linking, or set links[${e.link}].mechanism: "runner", which copies what already exists`);
  }
}

/** The field of a link that produces this edge: the list entry or id that names the other bucket. */
function edgeField(e: Edge): string {
  const field = e.kind === "fan-in" ? "from" : e.kind === "bidirectional" ? "between" : "to";
  return `links[${e.link}].${field}`;
}

/** How to stop a link from producing this edge. */
function dropEdge(e: Edge): string {
  switch (e.kind) {
    case "fan-out":
      return `remove ${q(e.to)} from links[${e.link}].to`;
    case "fan-in":
      return `remove ${q(e.from)} from links[${e.link}].from`;
    case "bidirectional":
      return `remove links[${e.link}] (a bidirectional link always makes both directions)`;
    default:
      return `remove links[${e.link}]`;
  }
}

/** Rules across links: no directed edge twice, and no deleting edge over another writer's keys. */
function validateEdges(p: Problems, edges: Edge[]): void {
  const seen = new Map<string, Edge>();
  for (const e of edges) {
    const key = `${e.from}\u0000${e.to}`;
    const first = seen.get(key);
    if (first && first.link !== e.link)
      p.add(edgeField(e), `the edge ${edgeName(e)} is already produced by ${edgeField(first)} (a ${first.kind} link)`,
        `keep one link for ${edgeName(e)}: ${dropEdge(e)}, or ${dropEdge(first)}`);
    else if (!first) seen.set(key, e);
  }

  // The seed-000 data loss: a one-way sync with deletes makes its target prefix equal to its
  // source, so it deletes whatever another edge wrote under an overlapping prefix.
  const reported = new Set<string>();
  for (const e of edges) {
    if (e.kind === "bidirectional" || !e.deletes) continue;
    for (const o of edges) {
      if (o === e || o.to !== e.to || !prefixesOverlap(e.targetPrefix, o.targetPrefix)) continue;
      if (o.link === e.link && e.kind === "fan-in") continue; // reported by the fan-in targetPrefixes rule
      const pair = [edges.indexOf(e), edges.indexOf(o)].sort().join(",");
      if (reported.has(pair)) continue;
      reported.add(pair);
      const theirs = e.targetPrefix === o.targetPrefix ? "where" : `which overlaps ${q(o.targetPrefix)} where`;
      const fix = e.kind === "fan-in"
        ? `give each writer its own prefix in ${e.to} (targetPrefixes on links[${e.link}], or a prefix on links[${o.link}]), or set links[${e.link}].deletes: false`
        : `give each writer its own prefix in ${e.to} (prefix / targetPrefixes), or set links[${e.link}].deletes: false`;
      p.add(`links[${e.link}].deletes`,
        `${edgeName(e)} deletes under ${q(e.targetPrefix)} of ${e.to}, ${theirs} links[${o.link}] (${edgeName(o)}${o.kind === "bidirectional" ? ", bidirectional" : ""}) also writes; each sync would delete the other's objects`,
        fix);
    }
  }
}

/** A link without shape problems whose buckets have none either: its edges can be judged. */
function soundLink(p: Problems, link: LinkSpec, i: number): boolean {
  const bad = (prefix: string) => p.issues.some((x) => x.path === prefix || x.path.startsWith(`${prefix}.`) || x.path.startsWith(`${prefix}[`));
  if (bad(`links[${i}]`)) return false;
  const ids = link.kind === "bidirectional" ? link.between : link.kind === "fan-out" ? [link.from, ...link.to] : link.kind === "fan-in" ? [...link.from, link.to] : [link.from, link.to];
  return ids.every((id) => !bad(`buckets.${id}`));
}
