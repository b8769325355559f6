// Runner deployment for the plan's runner edges: the runner config generated from the plan
// (runner-config.ts), rendered onto a private VM (bootstrap.ts) on AWS EC2 (aws.ts) or OCI Compute
// (oci.ts), with least-privilege credentials, logs and alarms.
import * as pulumi from "@pulumi/pulumi";
import type { BucketRef, TopologyContext } from "../context.js";
import { makeCore } from "./core.js";
import { DEFAULT_SCHEDULE, scheduleGaps, ScheduleError } from "./schedule.js";
import { deployAwsRunner } from "./aws.js";
import { deployOciRunner } from "./oci.js";

export interface RunnerDeployment {
  instanceId: pulumi.Output<string>;
  logGroup: pulumi.Output<string>;
  /** "from->to" per served edge. */
  edges: string[];
  /** Whether a NAT gateway was created (an endpoint outside the runner's cloud region is reached). */
  natGateway?: boolean;
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
        `Add runner: { platform: "aws-ec2" | "oci-compute", region: "<region>" } to the topology ` +
        `(stack config bucket-replication:topology.runner), or make those links native-capable.`,
      ctx.parent,
    );
  }
  if (spec.platform !== "aws-ec2" && spec.platform !== "oci-compute") {
    throw new pulumi.ResourceError(`runner.platform must be "aws-ec2" or "oci-compute", got ${JSON.stringify(spec.platform)}`, ctx.parent);
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
  return spec.platform === "aws-ec2" ? deployAwsRunner(core) : deployOciRunner(core);
}
