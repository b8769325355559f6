// Renderers of a plan for people: an aligned markdown table of edges, a Mermaid flowchart (GitHub
// renders it in PR comments) and one markdown document with both. Pure string functions.
import type { BucketSpec, PlannedEdge, ReplicationPlan, ReplicationTopologyArgs } from "./types.js";
import { linodeS3Endpoint } from "./endpoints.js";

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

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows].map((r) => r.map(cell));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => [...r[i]].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c + " ".repeat(widths[i] - [...c].length)).join(" | ")} |`;
  return [line(all[0]), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...all.slice(1).map(line)].join("\n");
}

/** One row per directed edge: from, to, link, kind, mechanism, deletes, prefixes, reason. */
export function renderPlanTable(args: ReplicationTopologyArgs, plan: ReplicationPlan): string {
  const rows = plan.edges.map((e) => [
    e.from,
    e.to,
    `links[${e.link}]`,
    e.kind ?? args.links[e.link]?.kind ?? "",
    e.mechanism,
    e.deletes === undefined ? "" : e.deletes ? "yes" : "no",
    prefixesOf(e),
    e.reason,
  ]);
  return table(["from", "to", "link", "kind", "mechanism", "deletes", "prefixes", "reason"], rows);
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

/** One row per bucket: id, provider, bucket name, where it lives. */
export function renderBucketTable(args: ReplicationTopologyArgs): string {
  return table(["id", "provider", "bucket", "where"], Object.entries(args.buckets).map(([id, s]) => [id, s.provider, s.bucket, whereOf(s)]));
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
  if (args.runner) {
    const r = args.runner;
    runner = ` The runner serves ${runnerEdges} edge${runnerEdges === 1 ? "" : "s"} from ${r.platform} in ${r.region}, schedule \`${r.schedule ?? "*/15 * * * *"}\`${r.schedule ? "" : " (default)"}.`;
  } else if (runnerEdges) {
    runner = ` No \`runner\` section: the ${runnerEdges} runner edge${runnerEdges === 1 ? "" : "s"} get no deployment from this stack.`;
  }
  return head + runner;
}

/** Summary, edge table and the Mermaid diagram as plain terminal text. */
export function renderPlanText(args: ReplicationTopologyArgs, plan: ReplicationPlan, title?: string): string {
  return [
    `Replication plan${title ? ` for ${title}` : ""}: ${summary(args, plan)}`,
    "",
    renderPlanTable(args, plan),
    "",
    "Mermaid diagram (GitHub renders it in markdown; or paste it into https://mermaid.live):",
    "",
    "```mermaid",
    renderMermaid(args, plan),
    "```",
    "",
  ].join("\n");
}

/** The whole plan as one markdown document (for PR comments). */
export function renderPlanMarkdown(args: ReplicationTopologyArgs, plan: ReplicationPlan, title?: string): string {
  return [
    `# Replication plan${title ? `: ${title}` : ""}`,
    "",
    summary(args, plan),
    "",
    "## Topology",
    "",
    "```mermaid",
    renderMermaid(args, plan),
    "```",
    "",
    "## Edges",
    "",
    renderPlanTable(args, plan),
    "",
    "## Buckets",
    "",
    renderBucketTable(args),
    "",
  ].join("\n");
}
