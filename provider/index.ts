// The component provider's entry: what `pulumi package add` runs (PulumiPlugin.yaml at the repository
// root points here). Pulumi's plugin runner loads this module, finds the exported ComponentResource
// classes and serves them with componentProviderHost; the package name (`bucket-replication`) and
// version come from this folder's package.json, the schema from the TypeScript types of each
// constructor's `args` (this folder's tsconfig.json). Export only components whose args the schema
// inference accepts: ReplicationTopology (rich TypeScript unions) stays a TypeScript-only API.
export { Topology } from "../components/provider/topology.js";
