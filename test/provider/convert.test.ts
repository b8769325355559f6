// Flat (multi-language) args → TypeScript args: per bucket provider, link kind, runner platform and
// network variant, the conversion gives exactly the rich args a TypeScript user would write, and
// planTopology plans both the same. Problems only the flat form can have are reported under the
// flat field names, and so are planner problems about re-shaped fields.
import { describe, expect, it } from "vitest";
import { planTopology, TopologyError } from "../../components/plan/index.js";
import type { ReplicationTopologyArgs } from "../../components/plan/types.js";
import type { BucketArgs, LinkArgs, RunnerArgs, TopologyArgs } from "../../components/provider/args.js";
import { flatError, flatPath, toTopologyArgs } from "../../components/provider/convert.js";

const buckets: Record<string, BucketArgs> = {
  a: { provider: "aws", bucket: "conv-a", region: "us-east-1", accountId: "111111111111", kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/k1", create: false },
  b: { provider: "aws", bucket: "conv-b", region: "eu-west-1" },
  o: { provider: "oci", bucket: "conv-o", region: "eu-frankfurt-1", namespace: "axaxnpcrorw5", compartmentId: "ocid1.compartment.oc1..aaaa", create: true },
  s: {
    provider: "s3",
    bucket: "conv-s",
    endpoint: "https://sos-ch-gva-2.exo.io",
    region: "ch-gva-2",
    nativeReplication: "s3-api",
    replicationRole: "0f3e8c1a-1111-2222-3333-444455556666",
    credentials: { accessKeyId: "AKIDCONVERT", secretAccessKey: "convert-secret" },
    insecure: false,
  },
  ali: { provider: "alicloud", bucket: "conv-ali", region: "cn-hangzhou", versioning: true, kmsKeyId: "key-1", create: true },
  lin: { provider: "linode", bucket: "conv-lin", region: "us-east", endpoint: "https://us-east-1.linodeobjects.com", create: false },
};

describe("toTopologyArgs: buckets", () => {
  it.each(Object.entries(buckets))("%s: the same fields, nothing added", (id, spec) => {
    const rich = toTopologyArgs({ buckets: { [id]: spec }, links: [] });
    expect(rich.buckets[id]).toEqual(spec);
  });

  it("drops unset and null fields (how some languages send an unset optional)", () => {
    const flat = { buckets: { a: { provider: "aws", bucket: "x", region: "us-east-1", create: null, accountId: undefined } }, links: [] } as unknown as TopologyArgs;
    expect(toTopologyArgs(flat).buckets.a).toEqual({ provider: "aws", bucket: "x", region: "us-east-1" });
  });

  it("a field of another provider reaches the planner, which names it", () => {
    const flat: TopologyArgs = { buckets: { a: { provider: "aws", bucket: "conv-a", region: "us-east-1", namespace: "ns" } }, links: [] };
    expect(() => planTopology(toTopologyArgs(flat))).toThrow(/buckets\.a\.namespace: unknown field for/);
  });
});

describe("toTopologyArgs: links", () => {
  const cases: Array<[string, LinkArgs, ReplicationTopologyArgs["links"][number]]> = [
    ["one-to-one", { kind: "one-to-one", from: "a", to: "b", prefix: "p/", deletes: true, mechanism: "native", replicationTime: true, metrics: true, storageClass: "STANDARD_IA", backfill: false }, { kind: "one-to-one", from: "a", to: "b", prefix: "p/", deletes: true, mechanism: "native", replicationTime: true, metrics: true, storageClass: "STANDARD_IA", backfill: false }],
    ["bidirectional", { kind: "bidirectional", between: ["a", "b"], conflict: "keep-both" }, { kind: "bidirectional", between: ["a", "b"], conflict: "keep-both" }],
    ["fan-out", { kind: "fan-out", from: "a", targets: ["b", "lin"], mechanism: "runner" }, { kind: "fan-out", from: "a", to: ["b", "lin"], mechanism: "runner" }],
    ["fan-in", { kind: "fan-in", sources: ["a", "b"], to: "lin", targetPrefixes: { a: "from-a/", b: "from-b/" } }, { kind: "fan-in", from: ["a", "b"], to: "lin", targetPrefixes: { a: "from-a/", b: "from-b/" } }],
  ];
  it.each(cases)("%s", (_kind, flat, rich) => {
    expect(toTopologyArgs({ buckets, links: [flat] }).links[0]).toEqual(rich);
  });

  it("plans the same edges as the TypeScript args", () => {
    const bs: Record<string, BucketArgs> = {
      x: { provider: "aws", bucket: "conv-x", region: "us-east-1" },
      y: { provider: "aws", bucket: "conv-y", region: "eu-west-1" },
      l1: { provider: "linode", bucket: "conv-l1", region: "us-east" },
      l2: { provider: "linode", bucket: "conv-l2", region: "us-east" },
    };
    const flat: TopologyArgs = {
      buckets: bs,
      links: [
        { kind: "one-to-one", from: "x", to: "y", deletes: true },
        { kind: "fan-out", from: "x", targets: ["l1"] },
        { kind: "fan-in", sources: ["x", "y"], to: "l2", targetPrefixes: { x: "x/", y: "y/" } },
      ],
      runner: { platform: "aws-ec2", region: "us-east-1" },
    };
    const rich: ReplicationTopologyArgs = {
      buckets: bs as ReplicationTopologyArgs["buckets"],
      links: [
        { kind: "one-to-one", from: "x", to: "y", deletes: true },
        { kind: "fan-out", from: "x", to: ["l1"] },
        { kind: "fan-in", from: ["x", "y"], to: "l2", targetPrefixes: { x: "x/", y: "y/" } },
      ],
      runner: { platform: "aws-ec2", region: "us-east-1" },
    };
    expect(toTopologyArgs(flat)).toEqual(rich);
    const plan = planTopology(toTopologyArgs(flat));
    expect(plan).toEqual(planTopology(rich));
    expect(plan.edges.map((e) => `${e.from}->${e.to}:${e.mechanism}`)).toEqual(["x->y:aws-native", "x->l1:runner", "x->l2:runner", "y->l2:runner"]);
  });

  it("a fan-out link given `to` instead of `targets`: the field and the fix", () => {
    const flat: TopologyArgs = { buckets, links: [{ kind: "fan-out", from: "a", to: "b" }] };
    expect(() => toTopologyArgs(flat)).toThrow(TopologyError);
    expect(() => toTopologyArgs(flat)).toThrow(/links\[0\]\.to: a fan-out link names its destinations in targets \(a list\), not to\. Fix: write targets: \["b", \.\.\.\]/);
  });

  it("a fan-in link given `from` instead of `sources`: the field and the fix", () => {
    expect(() => toTopologyArgs({ buckets, links: [{ kind: "fan-in", from: "a", to: "b" }] })).toThrow(/links\[0\]\.from: a fan-in link names its sources in sources \(a list\), not from\. Fix: write sources: \["a", \.\.\.\]/);
  });

  it("targets on a one-to-one link is left to the planner, which names it", () => {
    const flat: TopologyArgs = { buckets, links: [{ kind: "one-to-one", from: "a", to: "b", targets: ["o"] }] };
    expect(() => planTopology(toTopologyArgs(flat))).toThrow(/links\[0\]\.targets: unknown field for/);
  });

  it("planner errors about re-shaped fields name the flat field", () => {
    const flat: TopologyArgs = { buckets: { a: buckets.a, b: buckets.b }, links: [{ kind: "fan-out", from: "a", targets: ["b", "nope"] }, { kind: "fan-in", sources: ["nope2"], to: "b" }] };
    let err: unknown;
    try {
      planTopology(toTopologyArgs(flat));
    } catch (e) {
      err = flatError(e, flat);
    }
    expect(err).toBeInstanceOf(TopologyError);
    const paths = (err as TopologyError).issues.map((i) => i.path);
    expect(paths.some((p) => p.startsWith("links[0].targets"))).toBe(true);
    expect(paths.some((p) => p.startsWith("links[1].sources"))).toBe(true);
    expect(paths.some((p) => /^links\[0\]\.to|^links\[1\]\.from/.test(p))).toBe(false);
  });

  it("flatPath leaves every other path alone", () => {
    const flat: TopologyArgs = { buckets, links: [{ kind: "one-to-one", from: "a", to: "b" }, { kind: "fan-out", from: "a", targets: ["b"] }] };
    expect(flatPath("links[0].to", flat)).toBe("links[0].to");
    expect(flatPath("links[1].from", flat)).toBe("links[1].from");
    expect(flatPath("links[1].to[0]", flat)).toBe("links[1].targets[0]");
    expect(flatPath("links[1].toX", flat)).toBe("links[1].toX");
    expect(flatPath("buckets.a.region", flat)).toBe("buckets.a.region");
  });
});

describe("toTopologyArgs: runner", () => {
  const runners: Array<[string, RunnerArgs]> = [
    ["aws-ec2", { platform: "aws-ec2", region: "us-east-1", instanceType: "t3.medium", shards: 4, schedule: "*/5 * * * *", transfers: 8, alarmTopic: "arn:aws:sns:us-east-1:111111111111:alarms", logRetentionDays: 14, bundlePath: "dist/runner.mjs" }],
    ["oci-compute", { platform: "oci-compute", region: "eu-frankfurt-1", shape: "VM.Standard.E5.Flex", ocpus: 2, memoryInGbs: 8, compartmentId: "ocid1.compartment.oc1..aaaa", tenancyId: "ocid1.tenancy.oc1..aaaa", vaultId: "ocid1.vault.oc1..v", vaultKeyId: "ocid1.key.oc1..k" }],
    ["kubernetes", { platform: "kubernetes", region: "us-east-1", namespace: "sync", image: "node:22-slim", memory: 1024, serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::111111111111:role/r" }, stateBucket: { provider: "aws", bucket: "conv-state", region: "us-east-1", create: false } }],
    ["aws-ecs", { platform: "aws-ecs", region: "us-east-1", cpu: 1024, memory: 2048, image: "node:22-slim" }],
  ];
  it.each(runners)("%s: the same fields", (_p, runner) => {
    expect(toTopologyArgs({ buckets, links: [], runner }).runner).toEqual(runner);
  });

  it.each([
    ["existing subnets", { subnetIds: ["subnet-1", "subnet-2"] }],
    ["created, with a CIDR", { create: true, cidr: "10.42.0.0/16" }],
    ["created by default", {}],
  ])("network: %s", (_n, network) => {
    expect(toTopologyArgs({ buckets, links: [], runner: { platform: "aws-ec2", region: "us-east-1", network } }).runner?.network).toEqual(network);
  });

  it("network: subnets and create together go to the planner, which names the field", () => {
    const flat: TopologyArgs = { buckets: { a: buckets.a, lin: buckets.lin }, links: [{ kind: "one-to-one", from: "a", to: "lin" }], runner: { platform: "aws-ec2", region: "us-east-1", network: { subnetIds: ["subnet-1"], create: true } } };
    expect(() => planTopology(toTopologyArgs(flat))).toThrow(/runner\.network\.create/);
  });

  it("unset network fields (null) are dropped, so the union's branches stay apart", () => {
    const flat = { buckets, links: [], runner: { platform: "aws-ec2", region: "us-east-1", network: { subnetIds: ["subnet-1"], create: null, cidr: null } } } as unknown as TopologyArgs;
    expect(toTopologyArgs(flat).runner?.network).toEqual({ subnetIds: ["subnet-1"] });
  });
});
