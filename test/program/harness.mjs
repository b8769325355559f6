// Runs the Pulumi program (index.ts) the way `pulumi up` does, with only the engine replaced.
// The test starts `node <runtime.options.nodeargs from Pulumi.yaml> harness.mjs <language-host
// arguments>` in the project directory, with PULUMI_CONFIG (a JSON object whose values are
// strings, as the language host serialises stack config) and PULUMI_NODEJS_TYPESCRIPT
// (runtime.options.typescript). This file installs pulumi.runtime.setMocks in place of the
// engine's resource monitor, then hands over to the SDK's own language-host entry point
// `@pulumi/pulumi/cmd/run` (the script the language host starts), which resolves package.json
// "main", imports it (through ts-node only when PULUMI_NODEJS_TYPESCRIPT is "true") and registers
// its exports as the stack's outputs. On exit it prints those outputs and the registered resource
// types as one JSON line after the marker below; the exit code is the SDK's own.
// Plain JavaScript on purpose: it must start without any TypeScript loader.
import { createRequire } from "node:module";
import { join } from "node:path";

const MARKER = "@@program-result@@ ";
const require = createRequire(join(process.cwd(), "package.json"));
const pulumi = require("@pulumi/pulumi");

/** Resource types the program registered, in order. */
const registered = [];
let stackOutputs;
/** The value of a language-host flag (`--project p`), which the mock monitor must know up front. */
const flag = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

pulumi.runtime.setMocks(
  {
    newResource(args) {
      registered.push(args.type);
      const state = { ...args.inputs };
      // Every AWS resource has an ARN once created; S3 and IAM ARNs have their own shapes.
      if (args.type === "aws:s3/bucket:Bucket" || args.type === "aws:s3/bucketV2:BucketV2") state.arn = `arn:aws:s3:::${args.inputs.bucket}`;
      else if (args.type === "aws:iam/role:Role") state.arn = `arn:aws:iam::111111111111:role/${args.name}`;
      else if (args.type.startsWith("aws:")) state.arn ??= `arn:aws:${args.type.slice(4).split("/")[0]}:eu-central-1:111111111111:${args.name}`;
      if (args.type === "oci:Identity/customerSecretKey:CustomerSecretKey") state.key = "test-secret";
      if (args.type === "oci:Kms/vault:Vault") state.managementEndpoint = "https://mgmt.example";
      return { id: args.type.startsWith("oci:") ? `ocid1.${args.name}` : `${args.name}-id`, state };
    },
    call(args) {
      switch (args.token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return { accountId: "111111111111", arn: "arn:aws:iam::111111111111:user/test", userId: "AIDTEST", id: "111111111111" };
        case "aws:ssm/getParameter:getParameter":
          return { name: args.inputs.name, value: "ami-0123456789abcdef0", type: "String" };
        case "aws:index/getAvailabilityZones:getAvailabilityZones":
          return { names: ["eu-central-1a", "eu-central-1b"], zoneIds: [] };
        case "aws:ec2/getSubnet:getSubnet":
          return { id: args.inputs.id, vpcId: "vpc-existing" };
        case "oci:Core/getImages:getImages":
          return { images: [{ id: "ocid1.image.oc1..ol9" }] };
        case "oci:Core/getServices:getServices":
          return { services: [{ id: "ocid1.service.oc1..all", cidrBlock: "all-lhr-services-in-oracle-services-network", name: "All LHR Services In Oracle Services Network" }] };
        case "oci:Identity/getAvailabilityDomains:getAvailabilityDomains":
          return { availabilityDomains: [{ name: "Uocm:LHR-AD-1" }] };
        case "oci:ObjectStorage/getNamespace:getNamespace":
          return { namespace: "frxfz3gch4zb" };
      }
      return args.inputs;
    },
  },
  flag("project"),
  flag("stack"),
  process.argv.includes("--dry-run"),
);

// The mock monitor keeps registered outputs to itself and has no shutdown call; capture the
// stack's outputs (the program's exports) and answer the shutdown the SDK signals at exit.
const monitor = pulumi.runtime.getMonitor();
const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
monitor.registerResourceOutputs = (req, callback) => {
  if (req.getUrn().includes("::pulumi:pulumi:Stack::")) stackOutputs = pulumi.runtime.deserializeProperties(req.getOutputs());
  registerOutputs(req, callback);
};
monitor.signalAndWaitForShutdown = (_req, callback) => callback(null, {});

process.on("exit", () => {
  process.stdout.write(`${MARKER}${JSON.stringify({ outputs: stackOutputs ?? null, registered })}\n`);
});

// Exactly what the language host runs next: node <nodeargs> @pulumi/pulumi/cmd/run <args> <program>.
process.argv = [process.argv[0], require.resolve("@pulumi/pulumi/cmd/run"), ...process.argv.slice(2)];
require("@pulumi/pulumi/cmd/run");
