// The component provider as `pulumi package add` sees it, without the Pulumi CLI:
//   - ComponentProvider.getSchema() (Pulumi's own schema inference over provider/) lists the Topology
//     component with buckets, links and runner, and equals the committed provider/schema.json;
//   - construct() under mocks creates exactly the resources ReplicationTopology creates for the
//     equivalent TypeScript args (an aws-native edge and a runner edge on aws-ec2, no bundlePath),
//     and an invalid flat topology fails with the planner's message naming the flat field;
//   - Pulumi's plugin runner (cmd/run-plugin) loads provider/ and starts serving (prints its port).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReplicationTopologyArgs } from "../../components/plan/types.js";
import type { TopologyArgs } from "../../components/provider/args.js";
import { providerCall } from "../support/pulumi-calls.js";

interface Reg {
  type: string;
  name: string;
  inputs: Record<string, any>;
}
const registered: Reg[] = [];

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: Record<string, any> = { ...args.inputs };
      if (args.type === "aws:s3/bucket:Bucket") state.arn = `arn:aws:s3:::${args.inputs.bucket ?? args.name}`;
      if (args.type === "aws:iam/role:Role") state.arn = `arn:aws:iam::111111111111:role/${args.name}`;
      // What the runner deployment reads back from its resources (as in test/deploy/deploy.test.ts).
      if (args.type === "aws:secretsmanager/secret:Secret") state.arn = `arn:aws:secretsmanager:us-east-1:111111111111:secret:${args.name}-AbCdEf`;
      if (args.type === "aws:cloudwatch/logGroup:LogGroup") state.arn = `arn:aws:logs:us-east-1:111111111111:log-group:${args.inputs.name}`;
      if (args.type === "aws:iam/accessKey:AccessKey") state.secret = "provider-test-secret";
      return { id: `${args.name}_id`, state };
    },
    call(args) {
      return providerCall(args.token, args.inputs) ?? args.inputs;
    },
  },
  "bucket-replication",
  "test",
  false,
);

type Build = typeof import("../../scripts/build-provider-schema.js");
let build: Build;
let provider: ReturnType<Build["componentProvider"]>;
let schemaText: string;
let mod: typeof import("../../components/index.js");

beforeAll(async () => {
  build = await import("../../scripts/build-provider-schema.js");
  mod = await import("../../components/index.js");
  provider = build.componentProvider();
  schemaText = await provider.getSchema(); // the analyzer builds a TypeScript program: ~20 s
}, 180_000);

/** Waits until no resource has registered for a few ticks. */
async function settle(): Promise<void> {
  let last = -1;
  for (let stable = 0; stable < 5; ) {
    await new Promise((r) => setTimeout(r, 20));
    if (registered.length === last) stable++;
    else [stable, last] = [0, registered.length];
  }
}

function resolved<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((r) => o.apply((v) => (r(v), v)));
}

describe("getSchema", () => {
  it("lists the Topology component with buckets, links and runner, typed", () => {
    const schema = JSON.parse(schemaText);
    expect(schema.name).toBe("bucket-replication");
    const topo = schema.resources["bucket-replication:index:Topology"];
    expect(topo.isComponent).toBe(true);
    expect(Object.keys(topo.inputProperties)).toEqual(["buckets", "links", "runner"]);
    expect(topo.requiredInputs).toEqual(["buckets", "links"]);
    expect(topo.inputProperties.buckets.additionalProperties.$ref).toBe("#/types/bucket-replication:index:BucketArgs");
    expect(topo.inputProperties.links.items.$ref).toBe("#/types/bucket-replication:index:LinkArgs");
    expect(topo.inputProperties.runner.$ref).toBe("#/types/bucket-replication:index:RunnerArgs");
    expect(Object.keys(topo.properties)).toEqual(expect.arrayContaining(["plan", "runnerInstanceId", "runnerLogGroup", "runnerEdges"]));
    // Closed sets are schema enums with exactly the TypeScript strings.
    const values = (t: string) => schema.types[`bucket-replication:index:${t}`].enum.map((e: { value: string }) => e.value);
    expect(values("BucketProvider")).toEqual(["aws", "oci", "s3", "alicloud", "linode"]);
    expect(values("LinkKind")).toEqual(["one-to-one", "bidirectional", "fan-out", "fan-in"]);
    expect(values("RunnerPlatform")).toEqual(["aws-ec2", "oci-compute", "kubernetes", "aws-ecs"]);
    expect(values("ConflictPolicy")).toEqual(["newer", "keep-both"]);
    expect(values("LinkMechanism")).toEqual(["auto", "native", "runner"]);
    // Secrets are Inputs (not plain), so other languages can pass outputs/secrets.
    const creds = schema.types["bucket-replication:index:S3CredentialsArgs"].properties;
    expect(creds.secretAccessKey.plain).toBeUndefined();
    expect(schema.types["bucket-replication:index:BucketArgs"].properties.bucket.plain).toBe(true);
  });

  it("equals the committed provider/schema.json (regenerate: npm run schema:provider)", () => {
    expect(readFileSync(build.PROVIDER_SCHEMA_FILE, "utf8")).toBe(build.formatSchema(schemaText));
  });

  it("carries the package's version", () => {
    const root = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(JSON.parse(schemaText).version).toBe(root.version);
  });
});

// The same topology twice: flat (what Python/YAML/Go/C# pass) and as TypeScript args.
const flat: TopologyArgs = {
  buckets: {
    src: { provider: "aws", bucket: "prov-src", region: "us-east-1" },
    dst: { provider: "aws", bucket: "prov-dst", region: "eu-west-1" },
    lin: { provider: "linode", bucket: "prov-lin", region: "us-east" },
  },
  links: [
    { kind: "one-to-one", from: "src", to: "dst", deletes: true },
    { kind: "fan-out", from: "src", targets: ["lin"] },
  ],
  runner: { platform: "aws-ec2", region: "us-east-1" },
};
const rich: ReplicationTopologyArgs = {
  buckets: flat.buckets as ReplicationTopologyArgs["buckets"],
  links: [
    { kind: "one-to-one", from: "src", to: "dst", deletes: true },
    { kind: "fan-out", from: "src", to: ["lin"] },
  ],
  runner: { platform: "aws-ec2", region: "us-east-1" },
};

/** The resources under a component, with the component's name replaced, in a stable order. */
function under(prefix: string): string[] {
  return registered
    .filter((r) => r.name.startsWith(`${prefix}-`))
    .map((r) => JSON.stringify({ type: r.type, name: r.name, inputs: r.inputs }).replaceAll(prefix, "<topology>"))
    .sort();
}

describe("construct", () => {
  it("creates the same resources as ReplicationTopology, with an aws-native and a runner edge", async () => {
    const res = await provider.construct("flattopo", "bucket-replication:index:Topology", flat as unknown as pulumi.Inputs, {});
    new mod.ReplicationTopology("richtopo", rich);
    await settle();
    const types = registered.map((r) => r.type);
    expect(types).toContain("bucket-replication:index:Topology");
    expect(types).toContain("bucket-replication:index:ReplicationTopology");
    const flatRes = under("flattopo");
    expect(flatRes.length).toBeGreaterThan(10);
    expect(flatRes).toEqual(under("richtopo"));
    expect(flatRes.some((r) => r.includes("aws:s3/bucketReplicationConfig:BucketReplicationConfig"))).toBe(true);
    expect(flatRes.some((r) => r.includes("aws:ec2/instance:Instance"))).toBe(true);

    const plan = await resolved(res.state.plan as pulumi.Output<{ edges: { from: string; to: string; mechanism: string }[] }>);
    expect(plan.edges.map((e) => `${e.from}->${e.to}:${e.mechanism}`)).toEqual(["src->dst:aws-native", "src->lin:runner"]);
    expect(await resolved(res.state.runnerEdges as pulumi.Output<string[]>)).toEqual(["src->lin"]);
    expect(await resolved(res.state.runnerInstanceId as pulumi.Output<string>)).toMatch(/_id$/);
  });

  it("an invalid flat topology fails with the planner's message naming the flat field, and registers nothing", async () => {
    const before = registered.length;
    const bad: TopologyArgs = { ...flat, links: [{ kind: "fan-out", from: "src", targets: ["dst", "nope"] }] };
    await expect(provider.construct("badtopo", "bucket-replication:index:Topology", bad as unknown as pulumi.Inputs, {})).rejects.toThrow(
      /Topology "badtopo": Invalid replication topology: links\[0\]\.targets\[1\]: .*"nope".*Fix: /,
    );
    const wrongField: TopologyArgs = { ...flat, links: [{ kind: "fan-out", from: "src", to: "dst" }] };
    await expect(provider.construct("badtopo2", "bucket-replication:index:Topology", wrongField as unknown as pulumi.Inputs, {})).rejects.toThrow(
      /links\[0\]\.to: a fan-out link names its destinations in targets/,
    );
    await settle();
    expect(registered.length).toBe(before);
  });
});

describe("plugin runner", () => {
  it("Pulumi's run-plugin loads provider/ (index.cjs) and serves: its first stdout line is the port", async () => {
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const runPlugin = createRequire(import.meta.url).resolve("@pulumi/pulumi/cmd/run-plugin");
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // vitest's loader flags must not help the child
    const child = spawn(process.execPath, [runPlugin, "provider"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d) => {
        stdout += d;
        const line = stdout.split("\n")[0];
        if (stdout.includes("\n")) resolve(line.trim());
      });
      child.on("exit", (code) => reject(new Error(`run-plugin exited ${code}: ${stderr}`)));
    });
    child.kill();
    expect(port).toMatch(/^\d+$/);
  }, 120_000);
});
