// Planner: links → directed edges → mechanism + reason, with validation. Pure (no Pulumi calls).
// Issue 2 fills this in.
import type { ReplicationPlan, ReplicationTopologyArgs } from "./types.js";

export function planTopology(_args: ReplicationTopologyArgs): ReplicationPlan {
  return { edges: [] };
}
