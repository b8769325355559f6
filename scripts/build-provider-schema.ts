// Writes provider/schema.json: the Pulumi package schema of the component provider, exactly as
// `pulumi package add` infers it (ComponentProvider.getSchema() of @pulumi/pulumi, reading the
// TypeScript types of Topology's args through provider/tsconfig.json). Committed so a change to the
// multi-language API shows up in review; test/provider/provider.test.ts fails when it drifts.
//
//   npm run schema:provider
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/index.js";
import { Topology } from "../components/provider/topology.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const PROVIDER_DIR = join(root, "provider");
export const PROVIDER_SCHEMA_FILE = join(PROVIDER_DIR, "schema.json");

/** The provider as Pulumi's plugin runner builds it: name from provider/package.json, its components. */
export function componentProvider(): ComponentProvider {
  const name = (JSON.parse(readFileSync(join(PROVIDER_DIR, "package.json"), "utf8")) as { name: string }).name;
  return new ComponentProvider({ name, dirname: PROVIDER_DIR, components: [Topology] });
}

/** The schema as committed: pretty JSON with a final newline. */
export function formatSchema(schema: string): string {
  return `${JSON.stringify(JSON.parse(schema), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const schema = formatSchema(await componentProvider().getSchema());
  writeFileSync(PROVIDER_SCHEMA_FILE, schema);
  console.log(`wrote ${PROVIDER_SCHEMA_FILE} (${schema.length} bytes)`);
}
