// ReplicationTopology under Pulumi mocks: it registers with its type token, exposes the plan as a
// plain value, and an invalid topology throws before anything at all registers (not even the
// component). Registrations are counted twice: by the mock monitor (every registerResource) and
// by a resource transformation, which Pulumi runs synchronously in each Resource constructor and
// which every child inherits. Assertions are on the component and its plan only, so other modules
// may add children freely.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReplicationTopologyArgs } from "../../components/plan/types.js";

const registered: { type: string; name: string; custom: boolean }[] = [];

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, custom: args.custom ?? true });
      const state: Record<string, unknown> = { ...args.inputs };
      if (typeof args.inputs.bucket === "string") state.arn = `arn:aws:s3:::${args.inputs.bucket}`;
      else state.arn = `arn:aws:iam::111111111111:role/${args.name}`;
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      // Generic answers for whatever data sources the provider modules look up.
      return { ...args.inputs, accountId: "111111111111", arn: "arn:aws:iam::111111111111:user/test", id: "test-id", json: "{}", namespace: "axaxnpcrorw5" };
    },
  },
  "bucket-replication",
  "test",
  false,
);

let mod: typeof import("../../components/index.js");
beforeAll(async () => {
  mod = await import("../../components/index.js");
});

function resolved<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((r) => o.apply((v) => (r(v), v)));
}

/** Waits until no resource has registered for a few ticks. */
async function settle(): Promise<void> {
  let last = -1;
  for (let stable = 0; stable < 5; ) {
    await new Promise((r) => setTimeout(r, 20));
    if (registered.length === last) stable++;
    else [stable, last] = [0, registered.length];
  }
}

const valid: ReplicationTopologyArgs = {
  buckets: {
    a: { provider: "aws", bucket: "topology-test-a", region: "us-east-1" },
    b: { provider: "aws", bucket: "topology-test-b", region: "eu-west-1" },
  },
  links: [{ kind: "one-to-one", from: "a", to: "b", deletes: true }],
};

/** Names of the resources constructed under a topology that was given `counting` in its options. */
const constructed: string[] = [];
const counting: pulumi.ComponentResourceOptions = {
  transformations: [(a) => (constructed.push(`${a.type}::${a.name}`), undefined)],
};

describe("ReplicationTopology", () => {
  it("registers as bucket-replication:index:ReplicationTopology and exposes the plan as a plain value", async () => {
    const topology = new mod.ReplicationTopology("replication", valid, counting);
    expect(pulumi.Output.isInstance(topology.plan)).toBe(false);
    expect(topology.plan).toEqual(mod.planTopology(valid));
    expect(topology.plan.edges.map((e) => `${e.from}>${e.to}:${e.mechanism}`)).toEqual(["a>b:aws-native"]);
    const urn = await resolved(topology.urn);
    expect(urn).toMatch(/::bucket-replication:index:ReplicationTopology::replication$/);
    await settle();
    expect(registered).toContainEqual({ type: "bucket-replication:index:ReplicationTopology", name: "replication", custom: false });
    // Both counters see a valid topology: the component first, then its children.
    expect(constructed[0]).toBe("bucket-replication:index:ReplicationTopology::replication");
    expect(constructed.length).toBeGreaterThan(1);
    expect(registered.filter((r) => r.custom).length).toBeGreaterThan(0);
  });

  it("an invalid topology throws the planner's message, naming the component, and nothing at all registers", async () => {
    await settle();
    const [registeredBefore, constructedBefore] = [registered.length, constructed.length];
    const bad = { ...valid, links: [{ kind: "fan-in", from: ["a"], to: "zz" }] } as unknown as ReplicationTopologyArgs;
    let error: unknown;
    try {
      new mod.ReplicationTopology("broken", bad, counting);
    } catch (e) {
      error = e;
    }
    // Not constructed (the transformation never ran) and not registered (the monitor saw nothing),
    // the component included.
    expect(constructed.slice(constructedBefore)).toEqual([]);
    await settle();
    expect(registered.slice(registeredBefore)).toEqual([]);
    expect(error).toBeInstanceOf(pulumi.ResourceError);
    expect((error as Error).message).toMatch(/^ReplicationTopology "broken": Invalid replication topology: links\[0\]\.to: unknown bucket id "zz".*Fix: /);
  });

  it("rejects exactly what npm run plan rejects (one validator): cron, regions, the OCI tenancy, several problems at once", async () => {
    const { planTopology } = await import("../../components/plan/index.js");
    const saved = process.env.TF_VAR_tenancy_ocid;
    delete process.env.TF_VAR_tenancy_ocid;
    try {
      const oci = { provider: "oci", bucket: "topology-test-o", region: "uk-london-1", namespace: "axaxnpcrorw5", compartmentId: "ocid1.compartment.oc1..aaaa" } as const;
      const bad: Record<string, ReplicationTopologyArgs> = {
        cron: { ...valid, runner: { platform: "aws-ec2", region: "us-east-1", schedule: "*/75 * * * *" } },
        region: { ...valid, buckets: { ...valid.buckets, o: { ...oci, region: "eu-fronkfurt-1" } } },
        tenancy: { buckets: { a: valid.buckets.a, o: oci }, links: [{ kind: "one-to-one", from: "a", to: "o" }], runner: { platform: "aws-ec2", region: "us-east-1" } },
        several: { ...valid, buckets: { ...valid.buckets, o: { ...oci, region: "eu-fronkfurt-1" } }, runner: { platform: "aws-ec2", region: "us-est-1", schedule: "0 0 * FOO *" } },
      };
      for (const [name, args] of Object.entries(bad)) {
        let planned = "";
        try {
          planTopology(args, {});
        } catch (e) {
          planned = (e as Error).message;
        }
        expect(planned, name).toMatch(/^Invalid replication topology/);
        expect(() => new mod.ReplicationTopology(`one-${name}`, args)).toThrow(`ReplicationTopology "one-${name}": ${planned}`);
      }
      // @hourly: accepted by the plan and by the deployment.
      const hourly: ReplicationTopologyArgs = { ...valid, runner: { platform: "aws-ec2", region: "us-east-1", schedule: "@hourly" } };
      expect(planTopology(hourly, {}).edges).toHaveLength(1);
      expect(new mod.ReplicationTopology("one-hourly", hourly).plan.edges).toHaveLength(1);
      await settle();
    } finally {
      if (saved !== undefined) process.env.TF_VAR_tenancy_ocid = saved;
    }
  });
});
