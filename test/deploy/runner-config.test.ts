import { describe, expect, it } from "vitest";
import { planRunnerConfig, runnerConfigFromPlan } from "../../components/deploy/runner-config.js";
import type { ReplicationPlan, ReplicationTopologyArgs } from "../../components/plan/types.js";
import { awsToOciFanOut, mixed, ociBidirectional } from "./fixtures.js";

const state = { dir: "/var/lib/bucket-replication" };

describe("runnerConfigFromPlan", () => {
  it("turns an OCI bidirectional pair into one bisync job with deletes and conflict", () => {
    const { args, plan } = ociBidirectional();
    const cfg = runnerConfigFromPlan(args, plan, { state, transfers: 8 });
    expect(cfg.jobs).toHaveLength(1);
    const [job] = cfg.jobs;
    expect(job).toMatchObject({ name: "london-and-zurich", mode: "bisync", deletes: true, conflict: "newer" });
    expect(job.source).toEqual({ endpoint: "oci-uk-london-1", bucket: "test-bucket-london" });
    expect(job.targets).toEqual([{ endpoint: "oci-eu-zurich-1", bucket: "test-bucket-zurich" }]);
    expect(cfg.endpoints["oci-uk-london-1"]).toEqual({
      endpoint: "https://ns1.compat.objectstorage.uk-london-1.oraclecloud.com",
      region: "uk-london-1",
      forcePathStyle: true,
      credentials: { file: "/run/bucket-replication/credentials/oci-uk-london-1.json" },
    });
    expect(cfg.transfers).toBe(8);
    expect(cfg.schedule).toBeUndefined();
  });

  it("names the bisync job after the link's order even when the plan lists the reverse edge first", () => {
    const { args, plan } = ociBidirectional();
    const cfg = runnerConfigFromPlan(args, { edges: [...plan.edges].reverse() }, { state });
    expect(cfg.jobs.map((j) => j.name)).toEqual(["london-and-zurich"]);
    expect(cfg.jobs[0].source.bucket).toBe("test-bucket-london");
  });

  it("merges a fan-out into one copy job with two targets and maps the prefix", () => {
    const { args, plan } = awsToOciFanOut("aws-ec2");
    const cfg = runnerConfigFromPlan(args, plan, { state, schedule: "0 * * * *" });
    expect(cfg.jobs).toHaveLength(1);
    expect(cfg.jobs[0]).toEqual({
      name: "src-to-lon-and-fra",
      mode: "copy",
      source: { endpoint: "aws-us-east-1", bucket: "orders-us", prefix: "exports/" },
      targets: [
        { endpoint: "oci-uk-london-1", bucket: "orders-lon", prefix: "exports/" },
        { endpoint: "oci-eu-frankfurt-1", bucket: "orders-fra", prefix: "exports/" },
      ],
    });
    expect(cfg.endpoints["aws-us-east-1"]).toEqual({ region: "us-east-1" });
    expect(cfg.schedule).toBe("0 * * * *");
  });

  it("keeps fan-out edges with different options as separate jobs", () => {
    const { args, plan } = awsToOciFanOut("aws-ec2");
    plan.edges[1] = { ...plan.edges[1], deletes: true };
    const cfg = runnerConfigFromPlan(args, plan, { state });
    expect(cfg.jobs.map((j) => [j.name, j.mode, j.targets.length])).toEqual([
      ["src-to-lon", "copy", 1],
      ["src-to-fra", "sync", 1],
    ]);
  });

  it("skips native edges, keeps fan-in edges apart with their target prefixes, dedupes endpoints", () => {
    const { args, plan } = mixed();
    const p = planRunnerConfig(args, plan, { state });
    expect(p.edges).toEqual(["c->a", "c->sink", "d->sink"]);
    expect(p.config.jobs.map((j) => j.name)).toEqual(["c-to-a", "c-to-sink", "d-to-sink"]);
    expect(p.config.jobs[0].source.prefix).toBe("in/");
    expect(p.config.jobs[1].targets[0].prefix).toBe("from-c/");
    expect(p.config.jobs[2].targets[0].prefix).toBe("from-d/");
    expect(p.config.jobs[1].source.prefix).toBeUndefined();
    // c and d share URL, region and the same access key → one entry; a and sink share aws-us-east-1.
    expect(Object.keys(p.config.endpoints).sort()).toEqual(["aws-us-east-1", "sos-ch-gva-2.exo.io"]);
    expect(p.bucketsOf["sos-ch-gva-2.exo.io"]).toEqual(["c", "d"]);
    expect(p.bucketsOf["aws-us-east-1"]).toEqual(["a", "sink"]);
    expect(p.endpointOf.b).toBeUndefined();
  });

  it("gives s3 buckets with different keys on one URL separate, readable entries", () => {
    const { args, plan } = mixed();
    const d = args.buckets.d;
    if (d.provider !== "s3") throw new Error("fixture");
    d.credentials = { accessKeyId: "OTHERKEY", secretAccessKey: "x" };
    const p = planRunnerConfig(args, plan, { state });
    expect(p.endpointOf.c).toBe("sos-ch-gva-2.exo.io");
    expect(p.endpointOf.d).toBe("sos-ch-gva-2.exo.io-2");
    expect(p.config.endpoints["sos-ch-gva-2.exo.io-2"].credentials).toEqual({
      file: "/run/bucket-replication/credentials/sos-ch-gva-2.exo.io-2.json",
    });
  });

  it("honours endpointFor, credentialsFor, the edge filter and a state endpoint", () => {
    const { args, plan } = mixed();
    const p = planRunnerConfig(args, plan, {
      state: { endpoint: "state", bucket: "runner-state", prefix: "state/" },
      stateEndpoint: { region: "us-east-1" },
      endpointFor: (_id, spec) => (spec.provider === "aws" ? { region: spec.region } : { endpoint: "http://127.0.0.1:4568", forcePathStyle: true }),
      credentialsFor: (_id, spec) => (spec.provider === "aws" ? undefined : { env: "SITE" }),
      edges: (e) => e.mechanism === "runner" && e.to === "sink",
    });
    expect(p.edges).toEqual(["c->sink", "d->sink"]);
    expect(p.config.endpoints["127.0.0.1-4568"]).toEqual({ endpoint: "http://127.0.0.1:4568", forcePathStyle: true, credentials: { env: "SITE" } });
    // The state bucket's endpoint is the same as the sink's: one entry, and state points at it.
    expect(p.config.state).toEqual({ endpoint: "aws-us-east-1", bucket: "runner-state", prefix: "state/" });
    expect(Object.keys(p.config.endpoints)).toHaveLength(2);
  });

  it("keeps job names unique when bucket ids would collide after sanitising", () => {
    const args: ReplicationTopologyArgs = {
      buckets: {
        "x y": { provider: "aws", bucket: "b1", region: "us-east-1" },
        "x-y": { provider: "aws", bucket: "b2", region: "us-east-1" },
        z: { provider: "aws", bucket: "b3", region: "us-east-1" },
      },
      links: [
        { kind: "one-to-one", from: "x y", to: "z", mechanism: "runner" },
        { kind: "one-to-one", from: "x-y", to: "z", mechanism: "runner" },
      ],
    };
    const plan: ReplicationPlan = {
      edges: [
        { from: "x y", to: "z", link: 0, mechanism: "runner", reason: "forced" },
        { from: "x-y", to: "z", link: 1, mechanism: "runner", reason: "forced" },
      ],
    };
    const cfg = runnerConfigFromPlan(args, plan, { state });
    expect(cfg.jobs.map((j) => j.name)).toEqual(["x-y-to-z", "x-y-to-z-2"]);
    // No kind/deletes on the edges: fall back to the link (one-to-one default: no deletes → copy).
    expect(cfg.jobs.map((j) => j.mode)).toEqual(["copy", "copy"]);
  });

  it("rejects an edge naming an unknown bucket", () => {
    const { args, plan } = ociBidirectional();
    plan.edges[0] = { ...plan.edges[0], to: "nowhere" };
    expect(() => runnerConfigFromPlan(args, plan, { state })).toThrow(/unknown bucket "nowhere"/);
  });
});

describe("stateBucket and staticKeys (what the deployment passes)", () => {
  it("puts the state on the bucket's endpoint entry, shared with buckets reached the same way", () => {
    const { args, plan } = ociBidirectional();
    const p = planRunnerConfig(args, plan, {
      state: { dir: "/unused" },
      stateBucket: { spec: { provider: "oci", bucket: "runner-artifacts", region: "uk-london-1", namespace: "ns1", compartmentId: "c" }, prefix: "state/" },
      staticKeys: () => true,
    });
    expect(p.config.state).toEqual({ endpoint: "oci-uk-london-1", bucket: "runner-artifacts", prefix: "state/" });
    expect(p.bucketsOf["oci-uk-london-1"]).toEqual(["london", "(runner-state)"]);
    expect(Object.keys(p.config.endpoints)).toEqual(["oci-uk-london-1", "oci-eu-zurich-1"]);
  });

  it("gives aws buckets a key file when the runner is outside AWS", () => {
    const { args, plan } = awsToOciFanOut("oci-compute");
    const p = planRunnerConfig(args, plan, { state: { dir: "/x" }, staticKeys: () => true });
    expect(p.config.endpoints["aws-us-east-1"].credentials).toEqual({ file: "/run/bucket-replication/credentials/aws-us-east-1.json" });
    const q = planRunnerConfig(args, plan, { state: { dir: "/x" } });
    expect(q.config.endpoints["aws-us-east-1"].credentials).toBeUndefined();
  });
});
