// The runner section for the container platforms and shards: what each platform accepts, and an
// error naming the field and the fix for everything else.
import { describe, expect, it } from "vitest";
import { planTopology } from "../../components/plan/index.js";
import { expectPlanError } from "./helpers.js";

const ok = {
  buckets: {
    a: { provider: "aws", bucket: "rp-a", region: "us-east-1" },
    b: { provider: "oci", bucket: "rp-b", region: "uk-london-1", namespace: "ns1", compartmentId: "ocid1.compartment.oc1..b" },
  },
  links: [{ kind: "one-to-one", from: "a", to: "b" }],
};
const state = { provider: "aws", bucket: "rp-runner-state", region: "us-east-1" };
/** The planner on an untyped topology (as stack config gives it). */
const accept = (args: unknown) => planTopology(args as never);

describe("runner platforms kubernetes and aws-ecs", () => {
  it("accepts complete container runner sections", () => {
    expect(() => accept({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1", shards: 4, stateBucket: state, namespace: "replication",
      image: "registry.example.com/runner:1.2.3", memory: 1024, serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/r" } } })).not.toThrow();
    expect(() => accept({ ...ok, runner: { platform: "aws-ecs", region: "us-east-1", shards: 2, cpu: 1024, memory: 2048, network: { subnetIds: ["subnet-1"] },
      alarmTopic: "arn:aws:sns:us-east-1:123456789012:ops", logRetentionDays: 14 } })).not.toThrow();
    expect(() => accept({ ...ok, runner: { platform: "aws-ec2", region: "us-east-1", shards: 3 } })).not.toThrow();
  });

  it("names the platforms and guesses a typo", () => {
    expectPlanError({ ...ok, runner: { platform: "kubernets", region: "us-east-1" } }, "runner.platform", /unknown platform "kubernets"/, /did you mean "kubernetes"\?.*"aws-ecs"/);
  });

  it("shards: a whole number from 1 to 256", () => {
    for (const shards of [0, 257, 1.5, "4"])
      expectPlanError({ ...ok, runner: { platform: "aws-ec2", region: "us-east-1", shards } }, "runner.shards", /whole number from 1 to 256/, /shards: 4/);
  });

  it("kubernetes needs a state bucket of its own, in aws, oci or s3, that exists", () => {
    expectPlanError({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1" } }, "runner.stateBucket", /missing.*kubernetes/, /existing bucket/);
    expectPlanError({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1", stateBucket: { provider: "linode", bucket: "x", region: "us-east" } } },
      "runner.stateBucket.provider", /unsupported provider "linode"/, /aws, oci or s3/);
    expectPlanError({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1", stateBucket: { ...state, bucket: "rp-a" } } },
      "runner.stateBucket.bucket", /also buckets\.a/, /bucket of its own/);
    expectPlanError({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1", stateBucket: { ...state, create: true } } }, "runner.stateBucket.create", /does not create/);
    expectPlanError({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1", stateBucket: { provider: "s3", bucket: "state", endpoint: "https://minio.example" } } },
      "runner.stateBucket.credentials", /static keys/);
    expectPlanError({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1", stateBucket: { provider: "aws", bucket: "state" } } }, "runner.stateBucket.region", /missing/);
  });

  it("platform-only fields name the platforms they belong to", () => {
    expectPlanError({ ...ok, runner: { platform: "aws-ec2", region: "us-east-1", image: "node:22" } }, "runner.image", /only to platform kubernetes or aws-ecs/);
    expectPlanError({ ...ok, runner: { platform: "aws-ecs", region: "us-east-1", namespace: "x" } }, "runner.namespace", /only to platform kubernetes/);
    expectPlanError({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1", stateBucket: state, cpu: 512 } }, "runner.cpu", /only to platform aws-ecs/);
    expectPlanError({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1", stateBucket: state, network: { create: true } } }, "runner.network", /only to platform aws-ec2, oci-compute or aws-ecs/, /NetworkPolicy/);
    expectPlanError({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1", stateBucket: state, alarmTopic: "arn:aws:sns:us-east-1:123456789012:x" } }, "runner.alarmTopic", /only to platform/, /Jobs/);
    expectPlanError({ ...ok, runner: { platform: "aws-ecs", region: "us-east-1", instanceType: "t3.small" } }, "runner.instanceType", /only to platform aws-ec2/, /memory/);
    expectPlanError({ ...ok, runner: { platform: "aws-ecs", region: "us-east-1", stateBucket: state } }, "runner.stateBucket", /only to platform kubernetes/, /artifacts bucket/);
    expectPlanError({ ...ok, runner: { platform: "kubernetes", region: "eu-west-1", stateBucket: state, compartmentId: "ocid1.compartment.oc1..b" } }, "runner.compartmentId", /only to platform oci-compute/);
  });

  it("values: image pinned, memory and cpu in range, a namespace name, string annotations", () => {
    const k = { platform: "kubernetes", region: "eu-west-1", stateBucket: state };
    expectPlanError({ ...ok, runner: { ...k, image: "registry.example.com/runner" } }, "runner.image", /no tag or digest/, /pin it/);
    expectPlanError({ ...ok, runner: { ...k, image: "bad image" } }, "runner.image", /not a container image reference/);
    expectPlanError({ ...ok, runner: { ...k, memory: 100 } }, "runner.memory", /256 to 30720/);
    expectPlanError({ ...ok, runner: { platform: "aws-ecs", region: "us-east-1", cpu: 300 } }, "runner.cpu", /Fargate CPU size/, /256, 512, 1024, 2048, 4096/);
    expectPlanError({ ...ok, runner: { ...k, namespace: "Bad_NS" } }, "runner.namespace", /not a Kubernetes namespace name/);
    expectPlanError({ ...ok, runner: { ...k, serviceAccountAnnotations: { a: 1 } } }, "runner.serviceAccountAnnotations", /map of string to string/);
    expectPlanError({ ...ok, runner: { ...k, kubernetesProvider: "default" } }, "runner.kubernetesProvider", /provider resource/);
  });
});
