// Topologies and hand-built plans shared by the deploy tests (planTopology may not exist yet, so the
// plans here spell out the edges the planner is expected to produce).
import type { PlannedEdge, ReplicationPlan, ReplicationTopologyArgs } from "../../components/plan/types.js";

export const TEST_SECRET = "TEST-SECRET-do-not-leak-4f1c9a";
export const TEST_ACCESS_KEY = "AKIATESTACCESSKEY0001";

/** OCI↔OCI bidirectional: London and Zurich buckets, as in seed 000. */
export function ociBidirectional(): { args: ReplicationTopologyArgs; plan: ReplicationPlan } {
  const args: ReplicationTopologyArgs = {
    buckets: {
      london: { provider: "oci", bucket: "test-bucket-london", region: "uk-london-1", namespace: "ns1", compartmentId: "ocid1.compartment.oc1..lon" },
      zurich: { provider: "oci", bucket: "test-bucket-zurich", region: "eu-zurich-1", namespace: "ns1", compartmentId: "ocid1.compartment.oc1..zrh" },
    },
    links: [{ kind: "bidirectional", between: ["london", "zurich"], conflict: "newer" }],
    runner: { platform: "oci-compute", region: "uk-london-1", compartmentId: "ocid1.compartment.oc1..lon", schedule: "*/10 * * * *" },
  };
  const edge = (from: string, to: string): PlannedEdge => ({
    from, to, link: 0, mechanism: "runner", reason: "OCI native replication is one-way (the destination becomes read-only)",
    kind: "bidirectional", deletes: true, sourcePrefix: "", targetPrefix: "", conflict: "newer",
  });
  return { args, plan: { edges: [edge("london", "zurich"), edge("zurich", "london")] } };
}

/** AWS → OCI fan-out: one AWS source, two OCI targets (cross-cloud: runner only). */
export function awsToOciFanOut(platform: "aws-ec2" | "oci-compute"): { args: ReplicationTopologyArgs; plan: ReplicationPlan } {
  const args: ReplicationTopologyArgs = {
    buckets: {
      src: { provider: "aws", bucket: "orders-us", region: "us-east-1" },
      lon: { provider: "oci", bucket: "orders-lon", region: "uk-london-1", namespace: "ns1", compartmentId: "ocid1.compartment.oc1..lon" },
      fra: { provider: "oci", bucket: "orders-fra", region: "eu-frankfurt-1", namespace: "ns1", compartmentId: "ocid1.compartment.oc1..fra" },
    },
    links: [{ kind: "fan-out", from: "src", to: ["lon", "fra"], prefix: "exports/" }],
    runner:
      platform === "aws-ec2"
        ? { platform, region: "us-east-1", schedule: "0 * * * *", alarmTopic: "arn:aws:sns:us-east-1:123456789012:ops" }
        : { platform, region: "uk-london-1", compartmentId: "ocid1.compartment.oc1..lon", schedule: "0 * * * *", alarmTopic: "ocid1.onstopic.oc1..ops" },
  };
  const edge = (to: string): PlannedEdge => ({
    from: "src", to, link: 0, mechanism: "runner", reason: "cross-cloud: no native replication between AWS and OCI",
    kind: "fan-out", deletes: false, sourcePrefix: "exports/", targetPrefix: "exports/",
  });
  return { args, plan: { edges: [edge("lon"), edge("fra")] } };
}

/** A mixed bag: one-to-one with deletes, fan-in with target prefixes, an s3 endpoint with keys, a native edge. */
export function mixed(): { args: ReplicationTopologyArgs; plan: ReplicationPlan } {
  const args: ReplicationTopologyArgs = {
    buckets: {
      a: { provider: "aws", bucket: "bucket-a", region: "us-east-1" },
      b: { provider: "aws", bucket: "bucket-b", region: "eu-west-1" },
      c: { provider: "s3", bucket: "bucket-c", endpoint: "https://sos-ch-gva-2.exo.io", region: "ch-gva-2", credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } },
      d: { provider: "s3", bucket: "bucket-d", endpoint: "https://sos-ch-gva-2.exo.io", region: "ch-gva-2", credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } },
      sink: { provider: "aws", bucket: "bucket-sink", region: "us-east-1" },
    },
    links: [
      { kind: "one-to-one", from: "a", to: "b", deletes: true },
      { kind: "one-to-one", from: "c", to: "a", prefix: "in/" },
      { kind: "fan-in", from: ["c", "d"], to: "sink", targetPrefixes: { c: "from-c/", d: "from-d/" } },
    ],
    runner: { platform: "aws-ec2", region: "us-east-1" },
  };
  const plan: ReplicationPlan = {
    edges: [
      { from: "a", to: "b", link: 0, mechanism: "aws-native", reason: "same provider", kind: "one-to-one", deletes: true, sourcePrefix: "", targetPrefix: "" },
      { from: "c", to: "a", link: 1, mechanism: "runner", reason: "cross-provider", kind: "one-to-one", deletes: false, sourcePrefix: "in/", targetPrefix: "in/" },
      { from: "c", to: "sink", link: 2, mechanism: "runner", reason: "fan-in with prefixes", kind: "fan-in", deletes: false, sourcePrefix: "", targetPrefix: "from-c/" },
      { from: "d", to: "sink", link: 2, mechanism: "runner", reason: "fan-in with prefixes", kind: "fan-in", deletes: false, sourcePrefix: "", targetPrefix: "from-d/" },
    ],
  };
  return { args, plan };
}
