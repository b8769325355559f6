export { planTopology } from "./plan/index.js";
export { ReplicationTopology } from "./topology.js";
export type * from "./plan/types.js";
