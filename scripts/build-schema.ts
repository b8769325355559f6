// Writes schema/runner-config.schema.json, the JSON Schema of the runner config file (for editors:
// completion, hover docs, checks), from the definitions the runner validates with:
//   - the shapes and doc comments of runner/config/types.ts (RunnerConfig, what validateConfig returns),
//     turned into JSON Schema by ts-json-schema-generator;
//   - the field lists and number ranges of runner/config/validate.ts (CONFIG_KEYS, NUMBER_RULES),
//     checked against the types (a field in one but not the other fails the build) and written into
//     the schema as minimum / maximum / integer.
// The runner's validator stays the authority and checks more than a schema can say (cron syntax,
// globs, jobs naming endpoints that exist, overlapping locations, mode-specific fields), with its
// own messages. test/runner/config-schema.test.ts fails when the committed file is not this output.
//
//   npm run schema
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createGenerator } from "ts-json-schema-generator";
import { CONFIG_KEYS, MIN_RATE, NUMBER_RULES, RATE_PATTERN } from "../runner/config/validate.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SCHEMA_FILE = join(root, "schema", "runner-config.schema.json");
export const SCHEMA_ID = "https://unpkg.com/bucket-replication/schema/runner-config.schema.json";

type Schema = Record<string, any>;

export function generateSchema(): Schema {
  const generated = createGenerator({
    path: join(root, "runner", "config", "types.ts"),
    tsconfig: join(root, "tsconfig.json"),
    type: "RunnerConfig",
    skipTypeCheck: true, // `tsc --noEmit` checks the types; this only reads them
    additionalProperties: false,
    sortProps: true,
    topRef: true,
  }).createSchema("RunnerConfig") as Schema;
  const defs: Record<string, Schema> = generated.definitions;

  // Fields typed `?: undefined` (declared so code reading either endpoint kind type-checks) come out
  // as `{ not: {} }`: dropped, additionalProperties: false already refuses them.
  for (const def of Object.values(defs)) {
    for (const [k, p] of Object.entries<Schema>(def.properties ?? {})) {
      if (p.not && Object.keys(p.not).length === 0) {
        delete def.properties[k];
        def.required = def.required?.filter((r: string) => r !== k);
      }
    }
  }
  for (const [name, keys] of Object.entries(CONFIG_KEYS)) {
    const props = Object.keys(defs[name]?.properties ?? {}).sort();
    const allowed = [...keys].sort();
    if (JSON.stringify(props) !== JSON.stringify(allowed)) {
      throw new Error(
        `${name}: the fields of runner/config/types.ts (${props.join(", ")}) differ from the fields validate.ts allows (${allowed.join(", ")}); make them agree`,
      );
    }
  }
  for (const [name, fields] of Object.entries(NUMBER_RULES)) {
    for (const [field, rule] of Object.entries(fields) as [string, { int?: boolean; min: number; max?: number; minExclusive?: boolean }][]) {
      const p = defs[name]?.properties?.[field];
      if (!p || p.type !== "number") throw new Error(`${name}.${field}: a number in NUMBER_RULES, but not a number in runner/config/types.ts`);
      if (rule.int) p.type = "integer";
      if (rule.minExclusive) p.exclusiveMinimum = rule.min;
      else p.minimum = rule.min;
      if (rule.max !== undefined) p.maximum = rule.max;
    }
  }
  // A bandwidth is a number in the validated config but may be "10M" in the file (parseRate).
  for (const def of Object.values<Schema>(defs)) {
    const p = def.properties?.maxBytesPerSecond;
    if (!p) continue;
    const description = p.description;
    def.properties.maxBytesPerSecond = {
      description,
      anyOf: [{ type: "integer", minimum: MIN_RATE }, { type: "string", pattern: RATE_PATTERN }],
    };
  }
  // Plain JSON, for any editor: not a copy of this package's version or of the generator's settings.
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: SCHEMA_ID,
    title: "bucket-replication runner config",
    description:
      "The config file of the bucket-replication runner (`bucket-replication run --config FILE`). The runner validates it with its own, stricter checks; see docs/runner.md.",
    $ref: "#/definitions/RunnerConfig",
    definitions: defs,
  };
}

export function schemaText(): string {
  return JSON.stringify(generateSchema(), null, 2) + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, schemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
