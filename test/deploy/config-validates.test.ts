// The one contract between the two halves: every runner config the components generate must pass the
// runner's own validator. Fed with the hand-built fixture plans, with the planner's plan of every
// committed stack file (stacks/Pulumi.*.yaml) and the demo topology, and with randomized topologies.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateConfig } from "../../runner/config/validate.js";
import { planRunnerConfig, runnerConfigFromPlan } from "../../components/deploy/runner-config.js";
import { planTopology } from "../../components/plan/index.js";
import type { BucketSpec, LinkSpec, PlannedEdge, ReplicationPlan, ReplicationTopologyArgs } from "../../components/plan/types.js";
import { awsToOciFanOut, mixed, ociBidirectional } from "./fixtures.js";

const bucketState = { endpoint: "state", bucket: "runner-artifacts", prefix: "state/" };
const stateEndpoint = { region: "us-east-1" };

function topologyFiles(): { file: string; args: ReplicationTopologyArgs }[] {
  const files: string[] = [];
  if (existsSync("stacks")) {
    for (const f of readdirSync("stacks")) if (/^Pulumi\..+\.ya?ml$/.test(f)) files.push(join("stacks", f));
  }
  if (existsSync("demo/topology.yaml")) files.push("demo/topology.yaml");
  const out: { file: string; args: ReplicationTopologyArgs }[] = [];
  for (const file of files) {
    const doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    const topo = doc?.config?.["bucket-replication:topology"] as ReplicationTopologyArgs | undefined;
    if (topo?.buckets && topo.links) out.push({ file, args: topo });
  }
  return out;
}

describe("generated runner configs pass validateConfig", () => {
  it.each([
    ["oci bidirectional", ociBidirectional()],
    ["aws→oci fan-out", awsToOciFanOut("aws-ec2")],
    ["mixed", mixed()],
  ])("%s", (_name, { args, plan }) => {
    for (const state of [{ dir: "/var/lib/bucket-replication" }, bucketState]) {
      const cfg = runnerConfigFromPlan(args, plan, { state, stateEndpoint, transfers: 16 });
      const normalized = validateConfig(JSON.parse(JSON.stringify(cfg)));
      expect(normalized.jobs.map((j) => j.name)).toEqual(cfg.jobs.map((j) => j.name));
    }
  });

  const files = topologyFiles();
  it("finds the demo topology (and any committed stacks)", () => {
    expect(files.map((f) => f.file)).toContain("demo/topology.yaml");
  });
  it.each(files.map((f) => [f.file, f.args] as const))("%s: the planner's runner edges", (_file, args) => {
    const plan = planTopology(args);
    const p = planRunnerConfig(args, plan, { state: bucketState, stateEndpoint });
    if (p.served.length === 0) return; // nothing for the runner in this topology (or planner not in yet)
    validateConfig(JSON.parse(JSON.stringify(p.config)));
  });

  it("randomized topologies (seeded) always validate", () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const kinds: BucketSpec[] = [
      { provider: "aws", bucket: "", region: "us-east-1" },
      { provider: "aws", bucket: "", region: "eu-west-1" },
      { provider: "oci", bucket: "", region: "uk-london-1", namespace: "ns", compartmentId: "c" },
      { provider: "oci", bucket: "", region: "eu-zurich-1", namespace: "ns", compartmentId: "c" },
      { provider: "s3", bucket: "", endpoint: "https://s3.example.com:9000", credentials: { accessKeyId: "k", secretAccessKey: "s" } },
    ];
    for (let round = 0; round < 200; round++) {
      const n = 2 + rnd(5);
      const buckets: Record<string, BucketSpec> = {};
      for (let i = 0; i < n; i++) buckets[`b${i}`] = { ...kinds[rnd(kinds.length)], bucket: `bucket-${round}-${i}` } as BucketSpec;
      const ids = Object.keys(buckets);
      const links: LinkSpec[] = [];
      const edges: PlannedEdge[] = [];
      // Every bucket is used by at most one link, so links never overlap (the planner rejects that).
      const pool = [...ids];
      const take = () => pool.splice(rnd(pool.length), 1)[0];
      while (pool.length >= 2) {
        const kind = (["one-to-one", "bidirectional", "fan-out", "fan-in"] as const)[rnd(4)];
        const link = links.length;
        const deletes = rnd(2) === 0;
        const prefix = rnd(2) === 0 ? "" : "p/";
        const e = (from: string, to: string, extra: Partial<PlannedEdge> = {}): PlannedEdge => ({
          from, to, link, mechanism: rnd(4) === 0 ? "aws-native" : "runner", reason: "test", kind, deletes,
          sourcePrefix: prefix, targetPrefix: prefix, ...extra,
        });
        if (kind === "one-to-one") {
          const [a, b] = [take(), take()];
          links.push({ kind, from: a, to: b, deletes, prefix });
          edges.push(e(a, b));
        } else if (kind === "bidirectional") {
          const [a, b] = [take(), take()];
          links.push({ kind, between: [a, b], deletes, prefix, conflict: "newer" });
          edges.push(e(a, b, { mechanism: "runner", conflict: "newer" }), e(b, a, { mechanism: "runner", conflict: "newer" }));
        } else if (kind === "fan-out") {
          const a = take();
          const tos = [take()];
          while (pool.length && rnd(2)) tos.push(take());
          links.push({ kind, from: a, to: tos, deletes, prefix });
          for (const t of tos) edges.push(e(a, t));
        } else {
          const to = take();
          const froms = [take()];
          while (pool.length && rnd(2)) froms.push(take());
          const targetPrefixes = Object.fromEntries(froms.map((f) => [f, `from-${f}/`]));
          links.push({ kind, from: froms, to, deletes, prefix, targetPrefixes });
          for (const f of froms) edges.push(e(f, to, { targetPrefix: targetPrefixes[f] }));
        }
      }
      const args: ReplicationTopologyArgs = { buckets, links };
      const plan: ReplicationPlan = { edges };
      const p = planRunnerConfig(args, plan, { state: bucketState, stateEndpoint });
      if (p.served.length === 0) continue;
      const cfg = validateConfig(JSON.parse(JSON.stringify(p.config)));
      // Every served edge is covered by exactly one job location pair.
      const pairs = cfg.jobs.flatMap((j) =>
        j.targets.flatMap((t) => {
          const fwd = `${j.source.bucket}->${t.bucket}`;
          return j.mode === "bisync" ? [fwd, `${t.bucket}->${j.source.bucket}`] : [fwd];
        }),
      );
      const want = p.served.map((x) => `${buckets[x.from].bucket}->${buckets[x.to].bucket}`);
      expect(pairs.sort()).toEqual(want.sort());
    }
  });
});
