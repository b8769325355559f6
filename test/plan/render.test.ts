// Renderers: the edge table, the Mermaid flowchart and the markdown document.
import { describe, expect, it } from "vitest";
import { planTopology } from "../../components/plan/index.js";
import { prefixesOf, renderMermaid, renderPlanMarkdown, renderPlanTable } from "../../components/plan/render.js";
import type { ReplicationTopologyArgs } from "../../components/plan/types.js";
import { aws, oci, s3 } from "./helpers.js";

const args: ReplicationTopologyArgs = {
  buckets: {
    london: oci("test-bucket-london", "uk-london-1"),
    zurich: oci("test-bucket-zurich", "eu-zurich-1"),
    us: aws("bucket-us"),
    eu: aws("bucket-eu", "eu-west-1"),
    osaka: s3("bucket-osaka", "https://jp-osa-1.linodeobjects.com"),
    archive: aws("bucket-archive", "eu-central-1"),
  },
  links: [
    { kind: "bidirectional", between: ["london", "zurich"] },
    { kind: "one-to-one", from: "us", to: "eu", prefix: "a|b/" },
    { kind: "fan-in", from: ["osaka", "us"], to: "archive", targetPrefixes: { osaka: "osaka/", us: "us/" }, deletes: true },
  ],
};
const plan = planTopology(args);

describe("renderPlanTable", () => {
  it("has a header and one aligned row per edge with every column", () => {
    const lines = renderPlanTable(args, plan).split("\n");
    expect(lines[0]).toMatch(/^\| from +\| to +\| link +\| kind +\| mechanism +\| deletes +\| conflict +\| prefixes +\| reason +\|$/);
    expect(lines[1]).toMatch(/^\| -+ \| -+ \|/);
    expect(lines).toHaveLength(2 + plan.edges.length);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1); // aligned
    expect(lines[2]).toMatch(/^\| london +\| zurich +\| links\[0\] \| bidirectional \| runner +\| yes +\| newer +\| \(all\) +\| OCI replication makes the destination read-only/);
  });

  it("escapes pipes and shows prefix rewriting", () => {
    const table = renderPlanTable(args, plan);
    expect(table).toContain("a\\|b/");
    expect(table).toMatch(/\| osaka +\| archive +\| links\[2\] \| fan-in +\| runner +\| yes +\| - +\| \(all\) → osaka\/ /);
  });

  it("prefixesOf", () => {
    expect(prefixesOf({ ...plan.edges[0], sourcePrefix: "", targetPrefix: "" })).toBe("(all)");
    expect(prefixesOf({ ...plan.edges[0], sourcePrefix: "in/", targetPrefix: "from-a/" })).toBe("in/ → from-a/");
  });
});

describe("renderMermaid", () => {
  const m = renderMermaid(args, plan);
  it("is a flowchart LR with a node per bucket grouped by provider", () => {
    expect(m.split("\n")[0]).toBe("flowchart LR");
    for (const id of Object.keys(args.buckets)) expect(m).toMatch(new RegExp(`b\\d\\[\\("${id}<br/>`));
    expect(m).toContain('subgraph oci["OCI Object Storage"]');
    expect(m).toContain('subgraph aws["AWS S3"]');
    expect(m).toContain('subgraph s3["S3-compatible"]');
  });

  it("draws a bidirectional pair as one <-> arrow and labels every edge with its mechanism", () => {
    expect(m).toContain('b0 <-.->|"runner, deletes"| b1');
    expect(m).toContain('b2 -->|"aws-native, a|b/"| b3');
    expect(m).toContain('b4 -.->|"runner, deletes, (all) → osaka/"| b5');
    // 1 pair line + 1 one-to-one + 2 fan-in lines
    expect(m.split("\n").filter((l) => /\|"/.test(l))).toHaveLength(4);
  });

  it("draws native bidirectional pairs solid", () => {
    const a2: ReplicationTopologyArgs = { buckets: { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1") }, links: [{ kind: "bidirectional", between: ["a", "b"] }] };
    expect(renderMermaid(a2, planTopology(a2))).toContain('b0 <-->|"aws-native, deletes"| b1');
  });

  it("escapes quotes and angle brackets in labels", () => {
    const a3: ReplicationTopologyArgs = { buckets: { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1") }, links: [{ kind: "one-to-one", from: "a", to: "b", prefix: 'x"<y>/' }] };
    const out = renderMermaid(a3, planTopology(a3));
    expect(out).toContain("x#quot;#lt;y#gt;/");
    expect(out).not.toContain('x"<y>');
  });
});

describe("renderPlanMarkdown", () => {
  it("is one document: title, summary, mermaid block, edge table, bucket table", () => {
    const md = renderPlanMarkdown(args, plan, "stack test");
    expect(md.startsWith("# Replication plan: stack test\n")).toBe(true);
    expect(md).toMatch(/5 directed edges from 3 links between 6 buckets: 4 runner, 1 aws-native\./);
    expect(md).toMatch(/No `runner` section: the 4 runner edges get no deployment/);
    expect(md).toContain("```mermaid\nflowchart LR\n");
    expect(md).toContain(renderPlanTable(args, plan, true));
    expect(md).toMatch(/## Buckets\n\n\| id \| provider \| bucket \| where \| lifecycle \| versioning \| backfill \|\n\| --- \|/);
    expect(md.indexOf("## Topology")).toBeLessThan(md.indexOf("## Edges"));
  });
});
