// Runner deployment for the plan's runner edges: the runner config generated from the plan
// (runner-config.ts), rendered onto a private VM (bootstrap.ts) on AWS EC2 (aws.ts) or OCI Compute
// (oci.ts), or run as containers on Kubernetes (kubernetes.ts) or ECS Fargate (ecs.ts), with
// least-privilege credentials, logs and alarms; `runner.shards` processes per job on each.
import * as pulumi from "@pulumi/pulumi";
import type { BucketRef, TopologyContext } from "../context.js";
import { makeCore } from "./core.js";
import { DEFAULT_SCHEDULE, scheduleGaps, ScheduleError } from "./schedule.js";
import { deployAwsRunner } from "./aws.js";
import { deployOciRunner } from "./oci.js";
import { deployKubernetesRunner } from "./kubernetes.js";
import { deployEcsRunner } from "./ecs.js";

export interface RunnerDeployment {
  /** The VM's id (aws-ec2, oci-compute), the CronJob's name (kubernetes), the task definition's ARN (aws-ecs). */
  instanceId: pulumi.Output<string>;
  /** Where the logs are: the log group (CloudWatch, OCI Logging) or the kubectl command (kubernetes). */
  logGroup: pulumi.Output<string>;
  /** "from->to" per served edge. */
  edges: string[];
  /** Whether a NAT gateway was created (an endpoint outside the runner's cloud region is reached). */
  natGateway?: boolean;
  /** kubernetes with IRSA: the IAM policy (JSON) the annotated role needs: exactly the served AWS
   *  buckets and prefixes, and the state prefix of an AWS state bucket. */
  awsPolicy?: string;
}

export { runnerConfigFromPlan, planRunnerConfig } from "./runner-config.js";
export type { RunnerConfigOptions } from "./runner-config.js";

export function deployRunner(ctx: TopologyContext, buckets: Record<string, BucketRef>): RunnerDeployment | undefined {
  const served = ctx.plan.edges.filter((e) => e.mechanism === "runner");
  if (served.length === 0) return undefined;
  const spec = ctx.args.runner;
  if (!spec) {
    const list = served.map((e) => `${e.from}->${e.to} (${e.reason})`).join("; ");
    throw new pulumi.ResourceError(
      `runner: ${served.length} edge(s) need the sync runner but the topology has no \`runner\` spec: ${list}. ` +
        `Add runner: { platform: "aws-ec2" | "oci-compute" | "kubernetes" | "aws-ecs", region: "<region>" } to the topology ` +
        `(stack config bucket-replication:topology.runner), or make those links native-capable.`,
      ctx.parent,
    );
  }
  if (!["aws-ec2", "oci-compute", "kubernetes", "aws-ecs"].includes(spec.platform)) {
    throw new pulumi.ResourceError(`runner.platform must be "aws-ec2", "oci-compute", "kubernetes" or "aws-ecs", got ${JSON.stringify(spec.platform)}`, ctx.parent);
  }
  const shards = spec.shards ?? 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > 256) {
    throw new pulumi.ResourceError(`runner.shards must be a whole number from 1 to 256, got ${JSON.stringify(spec.shards)}; set shards: 1 (the default) or e.g. shards: 4`, ctx.parent);
  }
  if (!spec.region) throw new pulumi.ResourceError(`runner.region is required (the ${spec.platform} region the runner lives in)`, ctx.parent);
  let gaps: { shortest: number; longest: number };
  try {
    gaps = scheduleGaps(spec.schedule ?? DEFAULT_SCHEDULE);
  } catch (e) {
    if (e instanceof ScheduleError) throw new pulumi.ResourceError(e.message, ctx.parent);
    throw e;
  }
  const core = makeCore(ctx, spec, served, gaps, buckets);
  switch (spec.platform) {
    case "aws-ec2":
      return deployAwsRunner(core);
    case "oci-compute":
      return deployOciRunner(core);
    case "kubernetes":
      return deployKubernetesRunner(core);
    case "aws-ecs":
      return deployEcsRunner(core);
  }
}
