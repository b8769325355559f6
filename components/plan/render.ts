// Renderers of a plan for people: what a reviewer must see before `pulumi up`. Per edge the
// mechanism, its reason, the conflict policy, deletes and the prefix mapping; per bucket whether it
// is created or referenced, versioning changes and backfills; the runner jobs; every resource that
// will be created, with the ones that cost money flagged; and a Mermaid flowchart (GitHub renders
// it in PR comments). Links are numbered `links[i]` everywhere, as in the stack config and in the
// validation errors. Pure string functions.
import type { Issue } from "./errors.js";
import { type BucketReview, backfills, plannedResources, reviewBuckets, runnerJobs } from "./review.js";
import type { PlanSettings } from "./settings.js";
import type { BucketSpec, PlannedEdge, ReplicationPlan, ReplicationTopologyArgs } from "./types.js";
import { linodeS3Endpoint } from "./endpoints.js";

/** What the renderers need besides the plan. */
export interface RenderOptions {
  /** The stack's settings (backfill timeout...), as passed to planTopology. */
  settings?: PlanSettings;
  /** Settings the offline plan cannot see (readiness reminders): shown before the details. */
  reminders?: Issue[];
}

const NATIVE = new Set(["aws-native", "oci-native", "s3-native", "alicloud-native"]);

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** "(all)", "logs/", or "logs/ → from-a/" when fan-in targetPrefixes rewrite keys. */
export function prefixesOf(e: PlannedEdge): string {
  const src = e.sourcePrefix ?? "";
  const dst = e.targetPrefix ?? src;
  const show = (p: string) => (p === "" ? "(all)" : p);
  return src === dst ? show(src) : `${show(src)} → ${show(dst)}`;
}

/** A markdown table; aligned for terminals, or `compact` (no padding) for PR comments. */
function table(header: string[], rows: string[][], compact = false): string {
  const all = [header, ...rows].map((r) => r.map(cell));
  if (compact) return [header.map(cell), header.map(() => "---"), ...all.slice(1)].map((r) => `| ${r.join(" | ")} |`).join("\n");
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => [...r[i]].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c + " ".repeat(widths[i] - [...c].length)).join(" | ")} |`;
  return [line(all[0]), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...all.slice(1).map(line)].join("\n");
}

/** How a link is named everywhere: `links[0]` (the index in the stack config's links list). */
export function linkName(index: number): string {
  return `links[${index}]`;
}

/** The conflict policy of an edge: only bidirectional edges have one (one-way edges never conflict). */
export function conflictOf(args: ReplicationTopologyArgs, e: PlannedEdge): string {
  const link = args.links[e.link];
  if ((e.kind ?? link?.kind) !== "bidirectional") return "-";
  return e.conflict ?? (link?.kind === "bidirectional" ? link.conflict : undefined) ?? "newer";
}

/** One row per directed edge: from, to, link, kind, mechanism, deletes, conflict, prefixes, reason. */
export function renderPlanTable(args: ReplicationTopologyArgs, plan: ReplicationPlan, compact = false): string {
  const rows = plan.edges.map((e) => [
    e.from,
    e.to,
    linkName(e.link),
    e.kind ?? args.links[e.link]?.kind ?? "",
    e.mechanism,
    e.deletes === undefined ? "" : e.deletes ? "yes" : "no",
    conflictOf(args, e),
    prefixesOf(e),
    e.reason,
  ]);
  return table(["from", "to", "link", "kind", "mechanism", "deletes", "conflict", "prefixes", "reason"], rows, compact);
}

function whereOf(spec: BucketSpec): string {
  if (spec.provider === "aws") return `AWS ${spec.region}${spec.accountId ? ` (account ${spec.accountId})` : ""}`;
  if (spec.provider === "oci") return `OCI ${spec.region} (namespace ${spec.namespace})`;
  if (spec.provider === "alicloud") return `OSS ${spec.region}${spec.versioning ? " (versioned)" : ""}`;
  if (spec.provider === "linode") return `Linode ${new URL(linodeS3Endpoint(spec)).host}`;
  let host = spec.endpoint;
  try {
    host = new URL(spec.endpoint).host;
  } catch {
    /* shown as written */
  }
  return `S3 ${host}${spec.nativeReplication === "s3-api" ? " (S3-API replication)" : ""}`;
}

function lifecycle(b: BucketReview): string {
  if (b.spec.provider === "s3") return "referenced (s3 buckets are never created)";
  return b.created ? "created" : "referenced (create: false)";
}

function versioningOf(b: BucketReview): string {
  if (!b.versioning) return "unchanged";
  return `turned on${b.created ? "" : " on an existing bucket (it can be suspended later, never turned off)"}: ${b.versioning}`;
}

/** One row per bucket: id, provider, bucket name, where it lives, created or referenced, versioning, backfill. */
export function renderBucketTable(args: ReplicationTopologyArgs, plan: ReplicationPlan = { edges: [] }, settings?: PlanSettings, compact = false): string {
  return table(
    ["id", "provider", "bucket", "where", "lifecycle", "versioning", "backfill"],
    reviewBuckets(args, plan, settings).map((b) => [
      b.id, b.spec.provider, b.spec.bucket, whereOf(b.spec), lifecycle(b), versioningOf(b),
      b.backfill ? `into ${b.backfill.destinations.join(", ")} (see Backfill)` : "-",
    ]),
    compact,
  );
}

/** One line per backfill: what copies the existing objects, and what bounds it. */
export function renderBackfills(args: ReplicationTopologyArgs, plan: ReplicationPlan, settings?: PlanSettings): string {
  const list = backfills(args, plan, settings);
  if (!list.length) return "None: every native edge starts from a bucket this stack creates (or backfill: false). Runner edges copy what already exists on their first run.";
  return list.map((f) => `- ${f.source} → ${f.destinations.join(", ")}: ${f.how}. ${f.limit[0].toUpperCase()}${f.limit.slice(1)}.`).join("\n");
}

/** One row per runner job the deployment generates: name, mode, source, targets, conflict, edges. */
export function renderJobTable(args: ReplicationTopologyArgs, plan: ReplicationPlan, compact = false): string {
  const jobs = runnerJobs(args, plan);
  const idOf = (bucket: string) => Object.keys(args.buckets).find((id) => args.buckets[id].bucket === bucket) ?? bucket;
  const loc = (l: { bucket: string; prefix?: string }) => `${idOf(l.bucket)}${l.prefix ? `/${l.prefix}` : ""}`;
  return table(
    ["job", "mode", "source", "targets", "conflict", "edges"],
    jobs.map((j) => {
      const src = idOf(j.source.bucket);
      const edges = plan.edges.filter((e) => e.mechanism === "runner" && j.targets.some((t) => (e.from === src && e.to === idOf(t.bucket)) || (j.mode === "bisync" && e.to === src && e.from === idOf(t.bucket))));
      return [
        j.name, j.mode, loc(j.source), j.targets.map(loc).join(", "), j.conflict ?? (j.mode === "bisync" ? "newer" : "-"),
        [...new Set(edges.map((e) => linkName(e.link)))].join(", ") + ` (${edges.map((e) => `${e.from}→${e.to}`).join(", ")})`,
      ];
    }),
    compact,
  );
}

/** One row per kind of resource `pulumi up` creates; `$` flags the ones that cost money on their own. */
export function renderResourceTable(args: ReplicationTopologyArgs, plan: ReplicationPlan, settings?: PlanSettings, compact = false): string {
  const rows: string[][] = [];
  for (const g of plannedResources(args, plan, settings).groups)
    for (const r of g.resources)
      rows.push(compact ? [g.name, r.cost ? "$" : "", String(r.count), r.what, `\`${r.type}\``] : [g.name, r.cost ? "$" : "", String(r.count), r.type, r.what, r.cost ?? ""]);
  // The markdown form leaves the cost notes to the "Costs money" list above it.
  return table(compact ? ["for", "$", "count", "what", "type"] : ["for", "$", "count", "type", "what", "what costs money"], rows, compact);
}

/** The cost-relevant resources in one sentence each. */
function costLines(args: ReplicationTopologyArgs, plan: ReplicationPlan, settings?: PlanSettings): string[] {
  const out: string[] = [];
  for (const g of plannedResources(args, plan, settings).groups)
    for (const r of g.resources) if (r.cost) out.push(`${g.name}: ${r.count > 1 ? `${r.count} × ` : ""}${r.what}. ${r.cost[0].toUpperCase()}${r.cost.slice(1)}.`);
  return out;
}

function resourceCount(args: ReplicationTopologyArgs, plan: ReplicationPlan, settings?: PlanSettings): number {
  return plannedResources(args, plan, settings).groups.reduce((n, g) => n + g.resources.reduce((m, r) => m + r.count, 0), 0);
}

function mermaidText(s: string): string {
  return s.replace(/"/g, "#quot;").replace(/[<>]/g, (c) => (c === "<" ? "#lt;" : "#gt;"));
}

function edgeLabel(e: PlannedEdge): string {
  const parts: string[] = [e.mechanism];
  if (e.deletes) parts.push("deletes");
  const p = prefixesOf(e);
  if (p !== "(all)") parts.push(p);
  return mermaidText(parts.join(", "));
}

/**
 * A `flowchart LR` with one node per bucket (grouped by provider) and one arrow per directed edge,
 * labelled by mechanism. Native replication is a solid arrow, the runner a dotted one; the two
 * directions of a bidirectional link with the same mechanism and label are drawn as one `<-->`.
 */
export function renderMermaid(args: ReplicationTopologyArgs, plan: ReplicationPlan): string {
  const ids = Object.keys(args.buckets);
  const node = new Map(ids.map((id, i) => [id, `b${i}`]));
  const lines = ["flowchart LR", "  %% solid arrow: native replication; dotted arrow: the sync runner"];
  const groups: Record<string, string> = { aws: "AWS S3", oci: "OCI Object Storage", s3: "S3-compatible" };
  for (const provider of ["aws", "oci", "s3"]) {
    const members = ids.filter((id) => args.buckets[id].provider === provider);
    if (!members.length) continue;
    lines.push(`  subgraph ${provider}["${groups[provider]}"]`);
    for (const id of members) {
      const spec = args.buckets[id];
      lines.push(`    ${node.get(id)}[("${mermaidText(id)}<br/>${mermaidText(spec.bucket)}<br/>${mermaidText(whereOf(spec).replace(/^(AWS|OCI|S3) /, ""))}")]`);
    }
    lines.push("  end");
  }
  const edges = plan.edges;
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i];
    const next = edges[i + 1];
    const dotted = !NATIVE.has(e.mechanism);
    const label = edgeLabel(e);
    const [from, to] = [node.get(e.from) ?? e.from, node.get(e.to) ?? e.to];
    const pair = e.kind === "bidirectional" && next && next.link === e.link && next.from === e.to && next.to === e.from && edgeLabel(next) === label;
    const arrow = pair ? (dotted ? "<-.->" : "<-->") : dotted ? "-.->" : "-->";
    lines.push(`  ${from} ${arrow}|"${label}"| ${to}`);
    if (pair) i++;
  }
  return lines.join("\n");
}

function summary(args: ReplicationTopologyArgs, plan: ReplicationPlan): string {
  const counts = new Map<string, number>();
  for (const e of plan.edges) counts.set(e.mechanism, (counts.get(e.mechanism) ?? 0) + 1);
  const byMech = [...counts].map(([m, n]) => `${n} ${m}`).join(", ");
  const head = `${plan.edges.length} directed edge${plan.edges.length === 1 ? "" : "s"} from ${args.links.length} link${args.links.length === 1 ? "" : "s"} between ${Object.keys(args.buckets).length} buckets${byMech ? `: ${byMech}` : ""}.`;
  const runnerEdges = counts.get("runner") ?? 0;
  let runner = "";
  if (args.runner && runnerEdges) {
    const r = args.runner;
    const jobs = runnerJobs(args, plan).length;
    runner = ` The runner serves ${runnerEdges} edge${runnerEdges === 1 ? "" : "s"} as ${jobs} job${jobs === 1 ? "" : "s"} from ${r.platform} in ${r.region}, schedule \`${r.schedule ?? "*/15 * * * *"}\`${r.schedule ? "" : " (default)"} UTC.`;
  } else if (args.runner) {
    runner = " No edge needs the runner, so the runner section deploys nothing.";
  } else if (runnerEdges) {
    runner = ` No \`runner\` section: the ${runnerEdges} runner edge${runnerEdges === 1 ? "" : "s"} get no deployment from this stack.`;
  }
  return head + runner;
}

function reminderLines(reminders: Issue[] | undefined): string[] {
  return (reminders ?? []).map((r) => `- ${r.path}: ${r.what}. Set it before \`pulumi preview\`: ${r.fix}.`);
}

/** Everything as plain terminal text: summary, edges, buckets, backfills, runner jobs, resources, diagram. */
export function renderPlanText(args: ReplicationTopologyArgs, plan: ReplicationPlan, title?: string, opts: RenderOptions = {}): string {
  const { settings } = opts;
  const out = [`Replication plan${title ? ` for ${title}` : ""}: ${summary(args, plan)}`, ""];
  const reminders = reminderLines(opts.reminders);
  if (reminders.length) out.push("Not visible offline, and `pulumi preview` stops without it:", ...reminders, "");
  out.push("Edges:", "", renderPlanTable(args, plan), "");
  out.push("Buckets:", "", renderBucketTable(args, plan, settings), "");
  out.push("Backfill of existing objects:", "", renderBackfills(args, plan, settings), "");
  const jobs = runnerJobs(args, plan);
  if (jobs.length) out.push(`Runner jobs (${jobs.length}):`, "", renderJobTable(args, plan), "");
  const costs = costLines(args, plan, settings);
  out.push(`Resources \`pulumi up\` creates (${resourceCount(args, plan, settings)}; $ = costs money on its own):`, "", renderResourceTable(args, plan, settings), "");
  if (costs.length) out.push("Cost-relevant:", ...costs.map((c) => `- ${c}`), "");
  out.push(
    "Mermaid diagram (GitHub renders it in markdown; or paste it into https://mermaid.live):",
    "",
    "```mermaid",
    renderMermaid(args, plan),
    "```",
    "",
  );
  return out.join("\n");
}

/** Collapsed unless short: keeps the PR comment small while nothing is hidden. */
function details(summaryText: string, body: string, openBelowLines = 0): string[] {
  const lines = body.split("\n").length;
  if (lines <= openBelowLines) return [body, ""];
  return ["<details>", `<summary>${summaryText}</summary>`, "", body, "", "</details>", ""];
}

/** The whole plan as one markdown document, sized for a PR comment (long parts collapsed). */
export function renderPlanMarkdown(args: ReplicationTopologyArgs, plan: ReplicationPlan, title?: string, opts: RenderOptions = {}): string {
  const { settings } = opts;
  const out = [`# Replication plan${title ? `: ${title}` : ""}`, "", summary(args, plan), ""];
  const costs = costLines(args, plan, settings);
  if (costs.length) out.push(`**Costs money:**`, "", ...costs.map((c) => `- ${c}`), "");
  const reminders = reminderLines(opts.reminders);
  if (reminders.length) out.push("**Not visible offline, and `pulumi preview` stops without it:**", "", ...reminders, "");
  out.push("## Topology", "", "```mermaid", renderMermaid(args, plan), "```", "");
  out.push("## Edges", "", renderPlanTable(args, plan, true), "");
  out.push("## Buckets", "", renderBucketTable(args, plan, settings, true), "");
  out.push("### Backfill", "", renderBackfills(args, plan, settings), "");
  const jobs = runnerJobs(args, plan);
  if (jobs.length) out.push("## Runner jobs", "", ...details(`${jobs.length} jobs`, renderJobTable(args, plan, true), 12));
  out.push("## Resources", "", ...details(`${resourceCount(args, plan, settings)} resources \`pulumi up\` creates ($ = costs money on its own)`, renderResourceTable(args, plan, settings, true)));
  return out.join("\n");
}
