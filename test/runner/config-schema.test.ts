// schema/runner-config.schema.json (the JSON Schema editors use for the runner config file) against
// the runner's own validator: the committed file is exactly what scripts/build-schema.ts generates
// from the types and the validator's tables; every config the docs show and the components generate
// passes both; known-bad configs fail both, with the validator's message naming the field.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planRunnerConfig, runnerConfigFromPlan } from "../../components/deploy/runner-config.js";
import { planTopology } from "../../components/plan/index.js";
import type { ReplicationTopologyArgs } from "../../components/plan/types.js";
import { CONFIG_KEYS, NUMBER_RULES, validateConfig } from "../../runner/config/validate.js";
import { schemaText, SCHEMA_FILE } from "../../scripts/build-schema.js";
import { awsToOciFanOut, mixed, ociBidirectional } from "../deploy/fixtures.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const committed = readFileSync(SCHEMA_FILE, "utf8");
const schema = JSON.parse(committed);
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const check = ajv.compile(schema);
const schemaErrors = (cfg: unknown) => (check(cfg) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

/** Every JSON block in docs/*.md and README.md that is a whole runner config (has endpoints and jobs). */
function documentedConfigs(): [string, unknown][] {
  const files = [join(root, "README.md"), ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(root, "docs", f))];
  const out: [string, unknown][] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/```json\n([\s\S]*?)```/g)) {
      let v: any;
      try {
        v = JSON.parse(m[1]);
      } catch {
        continue; // an excerpt ({…}), not a whole file
      }
      if (v && typeof v === "object" && v.endpoints && v.jobs) out.push([`${file.slice(root.length)} block at ${m.index}`, v]);
    }
  }
  return out;
}

/** Runner configs the components generate: the deploy fixtures and the committed stacks' plans. */
function generatedConfigs(): [string, unknown][] {
  const out: [string, unknown][] = [];
  const stateEndpoint = { region: "us-east-1" };
  for (const [name, { args, plan }] of [["oci bidirectional", ociBidirectional()], ["aws→oci fan-out", awsToOciFanOut("aws-ec2")], ["mixed", mixed()]] as const) {
    for (const state of [{ dir: "/var/lib/bucket-replication" }, { endpoint: "state", bucket: "artifacts", prefix: "state/" }]) {
      out.push([`${name}, state ${JSON.stringify(state)}`, JSON.parse(JSON.stringify(runnerConfigFromPlan(args, plan, { state, stateEndpoint, transfers: 16 })))]);
    }
  }
  for (const f of readdirSync(join(root, "stacks")).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
    const args = parse(readFileSync(join(root, "stacks", f), "utf8")).config["bucket-replication:topology"] as ReplicationTopologyArgs;
    const p = planRunnerConfig(args, planTopology(args), { state: { endpoint: "state", bucket: "artifacts", prefix: "state/" }, stateEndpoint });
    if (p.served.length > 0) out.push([`stacks/${f}`, JSON.parse(JSON.stringify(p.config))]);
  }
  return out;
}

const base = () => ({
  $schema: "./node_modules/bucket-replication/schema/runner-config.schema.json",
  endpoints: {
    a: { endpoint: "https://s3.a.example.com", region: "eu-west-2", forcePathStyle: true, credentials: { env: "A" } },
    sw: { type: "swift", authUrl: "https://swift.example.com/v3", authVersion: 3, credentials: { file: "/etc/r/sw.json" }, projectName: "p", interface: "internal" },
  },
  state: { dir: "/var/lib/replication" },
  transfers: 16,
  retries: 6,
  listConcurrency: 16,
  jobs: [{ name: "a-to-sw", mode: "copy", source: { endpoint: "a", bucket: "b1" }, targets: [{ endpoint: "sw", bucket: "c1", prefix: "x/" }], maxDeletePercent: 50 }],
});

describe("schema/runner-config.schema.json", () => {
  it("is exactly what `npm run schema` generates from runner/config (types, CONFIG_KEYS, NUMBER_RULES)", () => {
    expect(committed).toBe(schemaText());
  });

  it("lists, for each object, exactly the fields the validator allows", () => {
    for (const [name, keys] of Object.entries(CONFIG_KEYS)) {
      expect(Object.keys(schema.definitions[name].properties).sort(), name).toEqual([...keys].sort());
      expect(schema.definitions[name].additionalProperties, name).toBe(false);
    }
    expect(schema.definitions.RunnerConfig.properties.transfers).toMatchObject({ type: "integer", exclusiveMinimum: 0, maximum: NUMBER_RULES.RunnerConfig.transfers.max });
    expect(schema.definitions.JobConfig.properties.mode.enum).toEqual(["copy", "sync", "bisync"]);
    // Doc comments of the types become hover text in editors.
    expect(schema.definitions.RunnerConfig.properties.spoolDir.description).toMatch(/temporary files/);
  });

  const good: [string, unknown][] = [["a config with $schema, an S3 and a Swift endpoint", base()], ...documentedConfigs(), ...generatedConfigs()];
  it("finds the documented and generated configs it checks", () => {
    expect(good.filter(([n]) => n.includes("docs/runner.md")).length).toBeGreaterThan(0);
    expect(good.filter(([n]) => n.startsWith("stacks/")).length).toBeGreaterThan(0);
    expect(good.length).toBeGreaterThan(8);
  });
  it.each(good)("accepted by the schema and by validateConfig: %s", (_name, cfg) => {
    expect(schemaErrors(cfg)).toEqual([]);
    expect(() => validateConfig(cfg)).not.toThrow();
  });

  // [what, change, the validator's message, where the schema complains]
  const bad: [string, (c: any) => void, RegExp, string][] = [
    ["an unknown top-level field", (c) => (c.transfer = 4), /^transfer: unknown field; did you mean "transfers"\?$/, ""],
    ["an unknown endpoint field", (c) => (c.endpoints.a.forcePathStile = true), /^endpoints\.a\.forcePathStile: unknown field; did you mean "forcePathStyle"\?$/, "/endpoints/a"],
    ["endpoint on a swift endpoint", (c) => (c.endpoints.sw.endpoint = "https://x"), /^endpoints\.sw\.endpoint: unknown field for a swift endpoint; a swift endpoint has "authUrl"/, "/endpoints/sw"],
    ["a swift endpoint without authUrl", (c) => delete c.endpoints.sw.authUrl, /^endpoints\.sw\.authUrl: /, "/endpoints/sw"],
    ["an unknown mode", (c) => (c.jobs[0].mode = "mirror"), /^jobs\[0\]\.mode: /, "/jobs/0/mode"],
    ["transfers as a string", (c) => (c.transfers = "16"), /^transfers: must be a positive integer greater than 0, got the string "16"$/, "/transfers"],
    ["transfers 0", (c) => (c.transfers = 0), /^transfers: must be a positive integer greater than 0, got 0$/, "/transfers"],
    ["transfers 2000", (c) => (c.transfers = 2000), /^transfers: must be at most 1024, got 2000$/, "/transfers"],
    ["retries 21", (c) => (c.retries = 21), /^retries: must be an integer between 1 and 20, got 21$/, "/retries"],
    ["listConcurrency 1.5", (c) => (c.listConcurrency = 1.5), /^listConcurrency: must be an integer between 1 and 256, got 1.5$/, "/listConcurrency"],
    ["maxDeletePercent 101", (c) => (c.jobs[0].maxDeletePercent = 101), /^jobs\[0\]\.maxDeletePercent: must be a number between 0 and 100, got 101$/, "/jobs/0/maxDeletePercent"],
    ["no jobs", (c) => delete c.jobs, /^jobs: is required/, ""],
    ["a location without bucket", (c) => delete c.jobs[0].source.bucket, /^jobs\[0\]\.source\.bucket: /, "/jobs/0/source"],
    ["credentials with two sources", (c) => (c.endpoints.a.credentials = { env: "A", file: "/f" }), /^endpoints\.a\.credentials/, "/endpoints/a/credentials"],
    ["$schema not a string", (c) => (c.$schema = 1), /^\$schema: /, "/$schema"],
    ["a bandwidth with an unknown unit", (c) => (c.jobs[0].maxBytesPerSecond = "10X"), /^jobs\[0\]\.maxBytesPerSecond: is not a bandwidth/, "/jobs/0/maxBytesPerSecond"],
    ["a bandwidth below 1K", (c) => (c.endpoints.a.maxBytesPerSecond = 100), /^endpoints\.a\.maxBytesPerSecond: must be at least 1K/, "/endpoints/a/maxBytesPerSecond"],
  ];
  it.each([["a number", 1048576], ["a unit string", "10M"], ["a binary unit", "1.5GiB"]])("a bandwidth as %s is accepted by both", (_what, rate) => {
    const cfg = base();
    (cfg.jobs[0] as Record<string, unknown>).maxBytesPerSecond = rate;
    expect(schemaErrors(cfg)).toEqual([]);
    expect(() => validateConfig(cfg)).not.toThrow();
  });
  it.each(bad)("rejected by both: %s", (_what, change, message, path) => {
    const cfg = base();
    change(cfg);
    expect(() => validateConfig(cfg)).toThrow(message);
    const errors = schemaErrors(cfg);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.some((e) => e.startsWith(`${path} `) || e.startsWith(`${path}/`))).toBe(true);
  });
});
