// Runner deployment for the plan's runner edges (issue 5 fills this in).
import type * as pulumi from "@pulumi/pulumi";
import type { BucketRef, TopologyContext } from "../context.js";

export interface RunnerDeployment {
  instanceId: pulumi.Output<string>;
  logGroup: pulumi.Output<string>;
  /** "from->to" per served edge. */
  edges: string[];
}

export function deployRunner(_ctx: TopologyContext, _buckets: Record<string, BucketRef>): RunnerDeployment | undefined {
  return undefined;
}
