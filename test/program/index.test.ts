// The Pulumi program (index.ts) loads and runs the way `pulumi up` runs it. The nodejs language host
// starts `node <runtime.options.nodeargs> @pulumi/pulumi/cmd/run <flags> .` in the project
// directory, with the stack config in PULUMI_CONFIG (a JSON object of strings) and
// PULUMI_NODEJS_TYPESCRIPT=true unless runtime.options.typescript is false. This test does exactly
// that, with the options read from the committed Pulumi.yaml and the config from the committed
// stack files. harness.mjs replaces only the engine (pulumi.runtime.setMocks) and hands over to
// the SDK's own cmd/run. The stack outputs must carry the same plan that planTopology computes.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { planTopology } from "../../components/plan/index.js";
import type { ReplicationTopologyArgs } from "../../components/plan/types.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const harness = fileURLToPath(new URL("./harness.mjs", import.meta.url));
const project = YAML.parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as {
  name: string;
  runtime: string | { name: string; options?: { typescript?: boolean; nodeargs?: string } };
  main?: string;
};
const options = typeof project.runtime === "string" ? {} : (project.runtime.options ?? {});

type StackConfig = Record<string, unknown>;

function stackConfig(stack: string): StackConfig {
  return (YAML.parse(readFileSync(join(root, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: StackConfig }).config;
}

/**
 * What a user sets per stack with `pulumi config set` and does not commit: the role of each s3-api source
 * (`--path topology.buckets.<id>.replicationRole`) and the S3 credentials
 * (`--secret --path topology.buckets.<id>.credentials.*`, which makes the whole key a secret).
 */
function withUncommittedSettings(config: StackConfig): { config: StackConfig; secretKeys: string[] } {
  const topology = structuredClone(config["bucket-replication:topology"]) as ReplicationTopologyArgs;
  let secret = false;
  for (const spec of Object.values(topology.buckets)) {
    if (spec.provider !== "s3") continue;
    if (spec.nativeReplication === "s3-api") spec.replicationRole ??= "0f3e8c1a-1111-2222-3333-444455556666";
    if (!spec.credentials) {
      spec.credentials = { accessKeyId: "AKIDPROGRAMTEST", secretAccessKey: "program-test-secret-key" };
      secret = true;
    }
  }
  return {
    config: { ...config, "bucket-replication:topology": topology },
    secretKeys: secret ? ["bucket-replication:topology"] : [],
  };
}

interface ProgramRun {
  code: number | null;
  stderr: string;
  outputs: Record<string, any> | null;
  registered: string[];
}

/** Runs the program as the language host would for `pulumi up --stack <stack>`. */
function runProgram(stack: string, config: StackConfig, secretKeys: string[]): Promise<ProgramRun> {
  // The language host hands config to the program as strings; objects as their JSON.
  const pulumiConfig = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  const nodeArgs = (options.nodeargs ?? "").split(/\s+/).filter(Boolean);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_CONFIG: JSON.stringify(pulumiConfig),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
    // The tenancy as the workflows pass it (the OCI provider's own TF_VAR_* variables), not as config.
    TF_VAR_tenancy_ocid: "ocid1.tenancy.oc1..aaaaaaaatesttenancy",
  };
  delete env.NODE_OPTIONS; // vitest's own loader flags must not help the child
  if (options.typescript !== false) env.PULUMI_NODEJS_TYPESCRIPT = "true";
    // The language host passes Pulumi.yaml's `main` as the program ("." when absent).
  const args = [...nodeArgs, harness, "--monitor", "mock", "--project", project.name, "--stack", stack, "--pwd", root, project.main ?? "."];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    // After an error in an apply the SDK may wait forever for outputs that never resolve.
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith("@@program-result@@ "));
      const result = line ? JSON.parse(line.slice("@@program-result@@ ".length)) : { outputs: null, registered: [] };
      resolve({ code, stderr: stderr + stdout, outputs: result.outputs, registered: result.registered });
    });
  });
}

describe("the Pulumi program under the language host's loading rules", () => {
  it("Pulumi.yaml loads TypeScript through tsx, not the SDK's ts-node (which is not installed)", () => {
    expect(options.typescript).toBe(false);
    expect(options.nodeargs).toMatch(/(^|\s)--import tsx(\s|$)/);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.type).toBe("module");
    // package.json's main/exports are the library, so Pulumi.yaml names the program itself.
    expect(project.main).toBe("index.ts");
    // `pulumi up` in this repository loads the program through tsx, which `npm ci` installs; package
    // users do not need it, so it is a devDependency.
    expect(pkg.devDependencies).toHaveProperty("tsx");
    expect(pkg.dependencies).not.toHaveProperty("tsx");
  });

  it("index.ts is a consumer of the package: it imports \"bucket-replication\" by name, through package.json exports", () => {
    const source = readFileSync(join(root, "index.ts"), "utf8");
    expect(source).toMatch(/from "bucket-replication";/);
    expect(source).not.toMatch(/from "\.\/components\//);
    expect(options.nodeargs).toMatch(/(^|\s)--conditions=bucket-replication-source(\s|$)/);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.exports["."]["bucket-replication-source"]).toBe("./components/index.ts");
  });

  for (const [stack, mechanisms] of [
    ["dev", { runner: "oci:Core/instance:Instance", "aws-native": "aws:s3/bucketReplicationConfig:BucketReplicationConfig" }],
    ["prod", {
      runner: "aws:ec2/instance:Instance",
      "aws-native": "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
      "oci-native": "oci:ObjectStorage/replicationPolicy:ReplicationPolicy",
    }],
  ] as const) {
    it(`stacks/Pulumi.${stack}.yaml: index.ts runs, exports the plan of planTopology, and creates each mechanism's resources`, async () => {
      const { config, secretKeys } = withUncommittedSettings(stackConfig(stack));
      const run = await runProgram(stack, config, secretKeys);
      expect(run.stderr).not.toMatch(/error:/i);
      expect(run.code).toBe(0);
      const expected = planTopology(config["bucket-replication:topology"] as ReplicationTopologyArgs);
      expect(run.outputs?.plan).toEqual(expected);
      expect(run.outputs?.plan.edges.map((e: any) => `${e.from}>${e.to}:${e.mechanism}`))
        .toEqual(expected.edges.map((e) => `${e.from}>${e.to}:${e.mechanism}`));
      expect(new Set(expected.edges.map((e) => e.mechanism))).toEqual(new Set([...Object.keys(mechanisms), ...(stack === "prod" ? ["s3-native"] : [])]));
      expect(run.outputs?.runnerEdges).toEqual(expected.edges.filter((e) => e.mechanism === "runner").map((e) => `${e.from}->${e.to}`));
      expect(run.registered).toContain("bucket-replication:index:ReplicationTopology");
      for (const type of Object.values(mechanisms)) expect(run.registered).toContain(type);
    }, 120_000);
  }
});
