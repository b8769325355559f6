// deployRunner under Pulumi mocks, for topologies that need a runner on each platform. Every
// resource the component registers is captured with its resolved inputs and checked: no public IP
// for the runner, private subnet, IMDSv2, exact-bucket policies, no secret in user data or the
// uploaded config, the schedule in the installed timer, the config accepted by validateConfig.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReplicationPlan, ReplicationTopologyArgs } from "../../components/plan/types.js";
import { validateConfig } from "../../runner/config/validate.js";
import { plannedResources } from "../../components/plan/review.js";
import { providerCall } from "../support/pulumi-calls.js";
import { awsToOciFanOut, mixed, ociBidirectional, TEST_ACCESS_KEY, TEST_SECRET } from "./fixtures.js";

interface Res {
  type: string;
  name: string;
  inputs: Record<string, any>;
  raw: Record<string, any>;
}
const resources: Res[] = [];
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Resolved inputs with Pulumi secret wrappers replaced by their values (and a marker kept). */
function unwrap(v: any): any {
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === "object") {
    if (v[SECRET_SIG] !== undefined) return unwrap(v.value);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}
function isSecretWrapped(v: any): boolean {
  return !!v && typeof v === "object" && v[SECRET_SIG] !== undefined;
}

pulumi.runtime.setMocks(
  {
    newResource(args) {
      const state: Record<string, any> = unwrap(args.inputs);
      const id = `${args.name}_id`;
      switch (args.type) {
        case "aws:s3/bucket:Bucket":
          state.bucket = `${args.inputs.bucketPrefix ?? args.name}abc123`;
          state.arn = `arn:aws:s3:::${state.bucket}`;
          break;
        case "aws:cloudwatch/logGroup:LogGroup":
          state.arn = `arn:aws:logs:us-east-1:123456789012:log-group:${args.inputs.name}`;
          break;
        case "aws:secretsmanager/secret:Secret":
          state.arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${args.name}-AbCdEf`;
          break;
        case "aws:iam/accessKey:AccessKey":
          state.secret = TEST_SECRET;
          break;
        case "oci:Identity/customerSecretKey:CustomerSecretKey":
          state.key = TEST_SECRET;
          break;
        case "oci:Kms/vault:Vault":
          state.managementEndpoint = "https://mgmt.example";
          break;
        case "oci:Ons/notificationTopic:NotificationTopic":
          state.topicId = "ocid1.onstopic.oc1..created";
          break;
      }
      resources.push({ type: args.type, name: args.name, inputs: unwrap(args.inputs), raw: args.inputs });
      return { id: args.type.startsWith("oci:") ? `ocid1.${args.name}` : id, state };
    },
    call(args) {
      return providerCall(args.token, args.inputs) ?? args.inputs;
    },
  },
  "project",
  "stack",
  false,
);

let deployRunner: typeof import("../../components/deploy/index.js").deployRunner;
const bundleDir = mkdtempSync(join(tmpdir(), "bundle-"));
const bundlePath = join(bundleDir, "runner.mjs");
writeFileSync(bundlePath, "console.log('runner');\n");

beforeAll(async () => {
  ({ deployRunner } = await import("../../components/deploy/index.js"));
});

/** Resource options as the component passed them (a transformation on the parent sees every child). */
const recordedOpts: { type: string; name: string; opts: pulumi.ResourceOptions }[] = [];
class Parent extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:Topology", name, {}, {
      transformations: [
        (a) => {
          recordedOpts.push({ type: a.type, name: a.name, opts: a.opts });
          return undefined;
        },
      ],
    });
  }
}
const optsOf = (type: string, name?: string) => {
  const r = recordedOpts.filter((o) => o.type === type && (name === undefined || o.name === name));
  if (r.length !== 1) throw new Error(`${r.length} recorded ${type} ${name ?? ""}`);
  return r[0].opts as pulumi.CustomResourceOptions;
};

/** Every string in a raw input that is NOT inside a Pulumi secret wrapper. */
function plainStrings(v: any, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => plainStrings(x, out));
  else if (v && typeof v === "object" && v[SECRET_SIG] === undefined) Object.values(v).forEach((x) => plainStrings(x, out));
  return out;
}
/** No resource input carries the test secret outside a Pulumi secret. */
function checkNoPlainSecret(mine: Res[]) {
  for (const r of mine) for (const s of plainStrings(r.raw)) expect(s.includes(TEST_SECRET), `${r.type} ${r.name} has the secret in plain text`).toBe(false);
}

async function settle(): Promise<void> {
  let n = -1;
  while (n !== resources.length) {
    n = resources.length;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function deploy(name: string, args: ReplicationTopologyArgs, plan: ReplicationPlan, bundle = bundlePath) {
  const start = resources.length;
  args.runner = { ...args.runner!, bundlePath: bundle, tenancyId: "ocid1.tenancy.oc1..t" };
  const parent = new Parent(name);
  const d = deployRunner({ parent, name, args, plan }, {});
  if (!d) throw new Error("no deployment");
  const instanceId = await new Promise<string>((r) => d.instanceId.apply(r));
  await settle();
  const mine = resources.slice(start);
  const of = (type: string) => mine.filter((r) => r.type === type);
  checkInventory(args, plan, mine);
  return { d, instanceId, mine, of };
}

/** The plan's resource list (what `npm run plan` shows a reviewer) names exactly what was registered. */
function checkInventory(args: ReplicationTopologyArgs, plan: ReplicationPlan, mine: Res[]) {
  const group = plannedResources(args, plan).groups.find((g) => g.name.startsWith("runner on"));
  expect(group, "the plan lists the runner's resources").toBeDefined();
  const planned: Record<string, number> = {};
  for (const r of group!.resources) planned[r.type] = (planned[r.type] ?? 0) + r.count;
  const registered: Record<string, number> = {};
  // The test's own parent component and providers are not resources of the deployment.
  for (const r of mine) if (!r.type.startsWith("pulumi:providers:") && r.type !== "test:index:Topology") registered[r.type] = (registered[r.type] ?? 0) + 1;
  expect(planned).toEqual(registered);
}

const known = new Set<string>();
function topologyBuckets(args: ReplicationTopologyArgs): string[] {
  return Object.values(args.buckets).map((b) => b.bucket);
}

/** Every S3 resource in every IAM policy document names one exact bucket (ours), never `*`. */
function checkAwsPolicies(docs: string[], allowed: string[]) {
  let s3Statements = 0;
  for (const doc of docs) {
    const policy = JSON.parse(doc) as { Statement: { Action: string[]; Resource: string | string[] }[] };
    for (const st of policy.Statement) {
      const resources = ([] as string[]).concat(st.Resource);
      for (const r of resources) expect(r, `statement ${JSON.stringify(st)}`).not.toBe("*");
      if (!st.Action.some((a) => a.startsWith("s3:"))) continue;
      s3Statements++;
      for (const r of resources) {
        const m = /^arn:aws:s3:::([^/*]+)(?:\/([^*]*)\*)?$/.exec(r);
        expect(m, `S3 resource ${r}`).not.toBeNull();
        expect(allowed, `bucket of ${r}`).toContain(m![1]);
      }
    }
  }
  expect(s3Statements).toBeGreaterThan(0);
}

function checkOciPolicies(statements: string[], allowed: string[]) {
  let bucketStatements = 0;
  for (const s of statements) {
    if (!/\b(objects|buckets)\b/.test(s)) continue;
    bucketStatements++;
    const m = /target\.bucket\.name = '([^']+)'/.exec(s);
    expect(m, s).not.toBeNull();
    expect(allowed).toContain(m![1]);
    expect(s).not.toMatch(/\*/);
  }
  expect(bucketStatements).toBeGreaterThan(0);
}

describe("runner on oci-compute: OCI↔OCI bidirectional", () => {
  it("deploys a private, scoped, observable runner", async () => {
    const { args, plan } = ociBidirectional();
    const { d, of } = await deploy("bidi", args, plan);
    expect(d.edges).toEqual(["london->zurich", "zurich->london"]);
    // no public IP, private subnet
    const [instance] = of("oci:Core/instance:Instance");
    expect(instance.inputs.createVnicDetails.assignPublicIp).toBe("false");
    expect(instance.inputs.instanceOptions.areLegacyImdsEndpointsDisabled).toBe(true);
    const [subnet] = of("oci:Core/subnet:Subnet");
    expect(subnet.inputs.prohibitPublicIpOnVnic).toBe(true);
    expect(of("oci:Core/internetGateway:InternetGateway")).toHaveLength(0);
    const [sl] = of("oci:Core/securityList:SecurityList");
    expect(sl.inputs.ingressSecurityRules ?? []).toEqual([]);
    for (const r of sl.inputs.egressSecurityRules) expect(r.tcpOptions).toEqual({ min: 443, max: 443 });
    // Zurich is another region: the service gateway cannot reach it → NAT
    expect(of("oci:Core/natGateway:NatGateway")).toHaveLength(1);
    expect(of("oci:Core/serviceGateway:ServiceGateway")).toHaveLength(1);
    // policies name exact buckets
    const statements = of("oci:Identity/policy:Policy").flatMap((p) => p.inputs.statements as string[]);
    checkOciPolicies(statements, [...topologyBuckets(args), "bidi-runner-artifacts"]);
    expect(of("oci:Identity/dynamicGroup:DynamicGroup")[0].inputs.matchingRule).toBe(`ALL {instance.id = 'ocid1.bidi-runner-instance'}`);
    // user data: no secret; schedule installed; secret references only
    const userData = Buffer.from(instance.inputs.metadata.user_data, "base64").toString();
    expect(userData).not.toContain(TEST_SECRET);
    expect(userData).toContain("OnCalendar=*-*-* *:00/10:00 UTC");
    expect(userData).toContain("oci secrets secret-bundle get --auth instance_principal");
    // the secret itself went to the Vault
    const secrets = of("oci:Vault/secret:Secret");
    expect(secrets.length).toBeGreaterThan(0);
    expect(Buffer.from(secrets[0].inputs.secretContent.content, "base64").toString()).toContain(TEST_SECRET);
    expect(isSecretWrapped(secrets[0].raw.secretContent) || isSecretWrapped(secrets[0].raw.secretContent?.content)).toBe(true);
    // the uploaded config: one bisync job, state in the artifacts bucket, validates
    const configObj = of("oci:ObjectStorage/storageObject:StorageObject").find((o) => String(o.inputs.object).startsWith("config/"))!;
    expect(configObj.inputs.content).not.toContain(TEST_SECRET);
    const cfg = validateConfig(JSON.parse(configObj.inputs.content));
    expect(cfg.jobs.map((j) => [j.name, j.mode])).toEqual([["london-and-zurich", "bisync"]]);
    expect(cfg.state).toMatchObject({ bucket: "bidi-runner-artifacts", prefix: "state/" });
    // alarms to a (created) topic, logs shipped by the unified agent
    expect(of("oci:Monitoring/alarm:Alarm").map((a) => a.name).sort()).toEqual(["bidi-runner-failed", "bidi-runner-silent", "bidi-runner-stale"]);
    const alarms = Object.fromEntries(of("oci:Monitoring/alarm:Alarm").map((a) => [a.name.replace("bidi-runner-", ""), a.inputs]));
    expect(alarms.failed.query).toBe('run_failed[5m]{topology = "bidi"}.sum() > 0');
    expect(alarms.stale.query).toBe('minutes_since_success[5m]{topology = "bidi"}.max() > 30');
    // absence over 5 minutes, with an explicit detection window (OCI's maximum; the default is 2 h)
    expect(alarms.silent.query).toBe('minutes_since_success[5m]{topology = "bidi"}.groupBy(topology).absent(72h)');
    expect(Object.values(alarms).every((a: any) => a.destinations[0] === "ocid1.onstopic.oc1..created")).toBe(true);
    const [agent] = of("oci:Logging/unifiedAgentConfiguration:UnifiedAgentConfiguration");
    expect(agent.inputs.serviceConfiguration.sources[0].paths).toEqual(["/var/log/bucket-replication/runner.log", "/var/log/bucket-replication-bootstrap.log"]);
    // the VNIC is in a network security group: egress 443 only (OSN, and anywhere through the NAT), no ingress
    const [nsg] = of("oci:Core/networkSecurityGroup:NetworkSecurityGroup");
    expect(nsg.inputs.vcnId).toBe("ocid1.bidi-runner-vcn");
    expect(instance.inputs.createVnicDetails.nsgIds).toEqual(["ocid1.bidi-runner-nsg"]);
    const rules = of("oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule");
    expect(rules.map((r) => [r.inputs.direction, r.inputs.destinationType, r.inputs.destination, r.inputs.tcpOptions.destinationPortRange.min, r.inputs.tcpOptions.destinationPortRange.max]).sort()).toEqual([
      ["EGRESS", "CIDR_BLOCK", "0.0.0.0/0", 443, 443],
      ["EGRESS", "SERVICE_CIDR_BLOCK", "all-lhr-services-in-oracle-services-network", 443, 443],
    ]);
    expect(rules.every((r) => r.inputs.networkSecurityGroupId === "ocid1.bidi-runner-nsg" && r.inputs.protocol === "6")).toBe(true);
    // replacement: a new bundle or config (in the user data) replaces the VM, the old one first
    const instanceOpts = optsOf("oci:Core/instance:Instance", "bidi-runner-instance");
    expect(instanceOpts.replaceOnChanges).toEqual(["metadata"]);
    expect(instanceOpts.deleteBeforeReplace).toBe(true);
    // the dynamic group names exactly this instance; the bootstrap retries until it is in effect
    expect(userData).toContain("systemctl start --no-block bucket-replication-bootstrap.service");
  });

  it("on an existing subnet: no network resources, the VNIC gets an NSG with egress to 443 and the endpoints' ports only", async () => {
    const args: ReplicationTopologyArgs = {
      buckets: {
        london: { provider: "oci", bucket: "nsg-london", region: "uk-london-1", namespace: "ns1", compartmentId: "ocid1.compartment.oc1..lon" },
        c: { provider: "s3", bucket: "nsg-c", endpoint: "https://sos-ch-gva-2.exo.io:8443", region: "ch-gva-2", credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } },
      },
      links: [{ kind: "one-to-one", from: "c", to: "london" }],
      runner: { platform: "oci-compute", region: "uk-london-1", compartmentId: "ocid1.compartment.oc1..lon", network: { subnetIds: ["ocid1.subnet.oc1..existing"] } },
    };
    const plan: ReplicationPlan = {
      edges: [{ from: "c", to: "london", link: 0, mechanism: "runner", reason: "cross-provider", kind: "one-to-one", deletes: false, sourcePrefix: "", targetPrefix: "" }],
    };
    const { of } = await deploy("nsg", args, plan);
    for (const t of ["vcn:Vcn", "subnet:Subnet", "securityList:SecurityList", "serviceGateway:ServiceGateway", "natGateway:NatGateway", "routeTable:RouteTable"]) {
      expect(of(`oci:Core/${t}`), t).toHaveLength(0);
    }
    const [instance] = of("oci:Core/instance:Instance");
    expect(instance.inputs.createVnicDetails).toMatchObject({ subnetId: "ocid1.subnet.oc1..existing", assignPublicIp: "false", nsgIds: ["ocid1.nsg-runner-nsg"] });
    const [nsg] = of("oci:Core/networkSecurityGroup:NetworkSecurityGroup");
    expect(nsg.inputs).toMatchObject({ vcnId: "ocid1.vcn.oc1..existing", compartmentId: "ocid1.compartment.oc1..lon" });
    const rules = of("oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule");
    expect(rules.map((r) => r.inputs.direction)).toEqual(["EGRESS", "EGRESS"]);
    expect(rules.map((r) => [r.inputs.destination, r.inputs.tcpOptions.destinationPortRange]).sort((a, b) => a[1].min - b[1].min)).toEqual([
      ["0.0.0.0/0", { min: 443, max: 443 }],
      ["0.0.0.0/0", { min: 8443, max: 8443 }],
    ]);
    expect(rules.some((r) => r.inputs.source !== undefined || r.inputs.direction === "INGRESS")).toBe(false);
    // the NSG rules exist before the VM boots
    const deps = (optsOf("oci:Core/instance:Instance", "nsg-runner-instance").dependsOn as pulumi.Resource[]).map((d) => (d as any).__name);
    expect(deps).toEqual(expect.arrayContaining(rules.map((r) => r.name)));
  });

  it("keeps the Customer Secret Key a secret in the state, and everything derived from it", async () => {
    const { args, plan } = ociBidirectional();
    const { mine, of } = await deploy("keysecret", args, plan);
    // @pulumi/oci does not mark `key` secret by itself: the component must ask for it.
    expect(optsOf("oci:Identity/customerSecretKey:CustomerSecretKey", "keysecret-runner-oci-key").additionalSecretOutputs).toEqual(["key"]);
    // the key reaches the Vault, wrapped as a secret; nowhere is it plain
    const secrets = of("oci:Vault/secret:Secret");
    expect(secrets.some((s) => Buffer.from(s.inputs.secretContent.content, "base64").toString().includes(TEST_SECRET))).toBe(true);
    checkNoPlainSecret(mine);
  });

  it("needs no NAT when both buckets are in the runner's region", async () => {
    const { args, plan } = ociBidirectional();
    const z = args.buckets.zurich;
    if (z.provider !== "oci") throw new Error("fixture");
    z.region = "uk-london-1";
    const { of, d } = await deploy("samereg", args, plan);
    expect(of("oci:Core/natGateway:NatGateway")).toHaveLength(0);
    expect(d.natGateway).toBe(false);
    const rt = of("oci:Core/routeTable:RouteTable")[0];
    expect(rt.inputs.routeRules.map((r: any) => r.destinationType)).toEqual(["SERVICE_CIDR_BLOCK"]);
  });
});

describe.each(["aws-ec2", "oci-compute"] as const)("runner on %s: AWS→OCI fan-out", (platform) => {
  it("deploys with every security property", async () => {
    const { args, plan } = awsToOciFanOut(platform);
    const name = `fan-${platform}`;
    const { d, of, mine } = await deploy(name, args, plan);
    expect(d.edges).toEqual(["src->lon", "src->fra"]);
    let userData: string;
    let config: string;
    if (platform === "aws-ec2") {
      const [instance] = of("aws:ec2/instance:Instance");
      expect(instance.inputs.associatePublicIpAddress).toBe(false);
      expect(instance.inputs.metadataOptions.httpTokens).toBe("required");
      expect(instance.inputs.rootBlockDevice.encrypted).toBe(true);
      expect(instance.inputs.userDataReplaceOnChange).toBe(true);
      expect(instance.inputs.keyName).toBeUndefined();
      expect(instance.inputs.ami).toBe("ami-0123456789abcdef0");
      // the runner subnet routes only to the NAT (never an internet gateway)
      const runnerSubnet = of("aws:ec2/subnet:Subnet").find((s) => `${s.name}_id` === instance.inputs.subnetId)!;
      expect(runnerSubnet.inputs.mapPublicIpOnLaunch).toBe(false);
      const assoc = of("aws:ec2/routeTableAssociation:RouteTableAssociation").find((a) => a.inputs.subnetId === instance.inputs.subnetId)!;
      const rtId = assoc.inputs.routeTableId;
      const rt = of("aws:ec2/routeTable:RouteTable").find((r) => `${r.name}_id` === rtId)!;
      expect(rt.inputs.routes ?? []).toEqual([]);
      const routes = of("aws:ec2/route:Route").filter((r) => r.inputs.routeTableId === rtId);
      expect(routes.every((r) => r.inputs.natGatewayId && !r.inputs.gatewayId)).toBe(true);
      // OCI endpoints are outside AWS → NAT (its EIP is the only public address, on the NAT)
      expect(of("aws:ec2/natGateway:NatGateway")).toHaveLength(1);
      expect(of("aws:ec2/eip:Eip")).toHaveLength(1);
      expect(of("aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => e.inputs.serviceName)).toContain("com.amazonaws.us-east-1.s3");
      // security group: no ingress, egress 443 only
      const sg = of("aws:ec2/securityGroup:SecurityGroup").find((s) => s.name === `${name}-runner-sg`)!;
      expect(sg.inputs.ingress ?? []).toEqual([]);
      expect(sg.inputs.egress.map((e: any) => [e.fromPort, e.toPort])).toEqual([[443, 443]]);
      // role: exact buckets and prefixes; SSM managed policy
      const docs = [...of("aws:iam/rolePolicy:RolePolicy"), ...of("aws:iam/userPolicy:UserPolicy")].map((p) => p.inputs.policy as string);
      const artifacts = `${name}-runner-abc123`;
      expect(of("aws:s3/bucket:Bucket")[0].inputs.bucketPrefix).toBe(`${name}-runner-`);
      checkAwsPolicies(docs, [...topologyBuckets(args), artifacts]);
      const doc = JSON.parse(docs[0]);
      const list = doc.Statement.find((s: any) => s.Resource === "arn:aws:s3:::orders-us");
      expect(list.Condition.StringLike["s3:prefix"]).toEqual(["exports/*"]);
      expect(doc.Statement.find((s: any) => s.Sid === "Keys").Resource).toEqual([expect.stringMatching(/^arn:aws:secretsmanager:/)]);
      expect(of("aws:iam/rolePolicyAttachment:RolePolicyAttachment")[0].inputs.policyArn).toBe("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");
      // the OCI key (for the S3-compatible endpoint) is in Secrets Manager, not on the VM
      const versions = of("aws:secretsmanager/secretVersion:SecretVersion");
      expect(versions.map((v) => JSON.parse(v.inputs.secretString).secretAccessKey)).toEqual([TEST_SECRET]);
      expect(versions.every((v) => isSecretWrapped(v.raw.secretString))).toBe(true);
      const ociPolicies = of("oci:Identity/policy:Policy").flatMap((p) => p.inputs.statements as string[]);
      checkOciPolicies(ociPolicies, topologyBuckets(args));
      // alarms
      const stale = of("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.name.endsWith("stale"))!;
      expect(stale.inputs.treatMissingData).toBe("breaching");
      expect(stale.inputs.period).toBe(3 * 3600);
      expect(stale.inputs.alarmActions).toEqual(["arn:aws:sns:us-east-1:123456789012:ops"]);
      const failed = of("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.name === `${name}-runner-failed`)!;
      expect(failed.inputs).toMatchObject({
        namespace: "bucket_replication",
        metricName: "RunFailed",
        dimensions: { Topology: name },
        statistic: "Sum",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        alarmActions: ["arn:aws:sns:us-east-1:123456789012:ops"],
      });
      const filters = of("aws:cloudwatch/logMetricFilter:LogMetricFilter");
      expect(filters).toHaveLength(2);
      // RunFailed counts the failed-run line (also written when the credentials fetch fails)
      expect(filters.find((f) => f.inputs.metricTransformation.name === "RunFailed")!.inputs.pattern).toBe('{ $.event = "bucket-replication-run" && $.status = "failed" }');
      expect(optsOf("aws:ec2/instance:Instance", `${name}-runner-instance`).deleteBeforeReplace).toBe(true);
      userData = instance.inputs.userData;
      config = of("aws:s3/bucketObjectv2:BucketObjectv2").find((o) => String(o.inputs.key).startsWith("config/"))!.inputs.content;
      expect(userData).toContain("aws secretsmanager get-secret-value");
    } else {
      const [instance] = of("oci:Core/instance:Instance");
      expect(instance.inputs.createVnicDetails.assignPublicIp).toBe("false");
      expect(of("oci:Core/subnet:Subnet")[0].inputs.prohibitPublicIpOnVnic).toBe(true);
      expect(of("oci:Core/natGateway:NatGateway")).toHaveLength(1); // AWS + Frankfurt are outside
      const statements = of("oci:Identity/policy:Policy").flatMap((p) => p.inputs.statements as string[]);
      checkOciPolicies(statements, [...topologyBuckets(args), `${name}-runner-artifacts`]);
      // an AWS user scoped to the source bucket; its key goes to the Vault
      const docs = of("aws:iam/userPolicy:UserPolicy").map((p) => p.inputs.policy as string);
      checkAwsPolicies(docs, topologyBuckets(args));
      expect(JSON.stringify(docs)).not.toContain("s3:PutObject"); // the AWS side is only a source
      expect(of("oci:Monitoring/alarm:Alarm").every((a) => a.inputs.destinations[0] === "ocid1.onstopic.oc1..ops")).toBe(true);
      userData = Buffer.from(instance.inputs.metadata.user_data, "base64").toString();
      config = of("oci:ObjectStorage/storageObject:StorageObject").find((o) => String(o.inputs.object).startsWith("config/"))!.inputs.content;
    }
    expect(userData).not.toContain(TEST_SECRET);
    expect(userData).toContain("OnCalendar=*-*-* *:00:00 UTC");
    expect(config).not.toContain(TEST_SECRET);
    const cfg = validateConfig(JSON.parse(config));
    expect(cfg.jobs).toHaveLength(1);
    expect(cfg.jobs[0]).toMatchObject({ name: "src-to-lon-and-fra", mode: "copy" });
    // no resource input anywhere outside the secret stores carries the secret in plain text
    const secretHolders = new Set(["aws:secretsmanager/secretVersion:SecretVersion", "oci:Vault/secret:Secret"]);
    for (const r of mine) if (!secretHolders.has(r.type)) expect(JSON.stringify(r.inputs), r.type).not.toContain(TEST_SECRET);
    // and where it is stored, it is a Pulumi secret (the OCI key on both platforms: additionalSecretOutputs)
    checkNoPlainSecret(mine);
    expect(optsOf("oci:Identity/customerSecretKey:CustomerSecretKey", `${name}-runner-oci-key`).additionalSecretOutputs).toEqual(["key"]);
  });
});

describe.each(["aws-ec2", "oci-compute"] as const)("runner on %s: a new bundle rolls out", (platform) => {
  it("changes the bundle object key and the user data (so the instance is replaced)", async () => {
    const render = async (tag: string, content: string) => {
      const dir = mkdtempSync(join(tmpdir(), "bundle-"));
      const path = join(dir, "runner.mjs");
      writeFileSync(path, content);
      const { args, plan } = awsToOciFanOut(platform);
      const { of } = await deploy(`roll-${platform}-${tag}`, args, plan, path);
      if (platform === "aws-ec2") {
        const obj = of("aws:s3/bucketObjectv2:BucketObjectv2").find((o) => String(o.inputs.key).startsWith("runner/"))!;
        return { key: obj.inputs.key as string, source: obj.inputs.source.path as string, userData: of("aws:ec2/instance:Instance")[0].inputs.userData as string };
      }
      const obj = of("oci:ObjectStorage/storageObject:StorageObject").find((o) => String(o.inputs.object).startsWith("runner/"))!;
      return {
        key: obj.inputs.object as string,
        source: obj.inputs.source as string,
        userData: Buffer.from(of("oci:Core/instance:Instance")[0].inputs.metadata.user_data, "base64").toString(),
      };
    };
    const v1 = await render("v1", "console.log('runner v1');\n");
    const v2 = await render("v2", "console.log('runner v2');\n");
    const sha = (c: string) => createHash("sha256").update(c).digest("hex");
    expect(v1.key).toBe(`runner/${sha("console.log('runner v1');\n")}/runner.mjs`);
    expect(v2.key).toBe(`runner/${sha("console.log('runner v2');\n")}/runner.mjs`);
    expect(v1.source).not.toBe(v2.source);
    // the user data names the new key and checksum (the names of the two test stacks differ, so compare the bundle lines)
    const bundleLine = (u: string) => u.split("\n").find((l) => l.startsWith("retry bundle "))!;
    expect(bundleLine(v1.userData)).toContain(v1.key);
    expect(bundleLine(v2.userData)).toContain(v2.key);
    expect(bundleLine(v1.userData)).not.toBe(bundleLine(v2.userData));
    // and a change of user data replaces the instance
    if (platform === "aws-ec2") {
      expect(optsOf("aws:ec2/instance:Instance", "roll-aws-ec2-v2-runner-instance").deleteBeforeReplace).toBe(true);
    } else {
      expect(optsOf("oci:Core/instance:Instance", "roll-oci-compute-v2-runner-instance").replaceOnChanges).toEqual(["metadata"]);
    }
  });
});

describe("s3 endpoint keys and an AWS-only runner", () => {
  it("stores s3 keys in Secrets Manager, opens the endpoint's explicit port, and uses interface endpoints when no NAT is needed", async () => {
    const { args, plan } = mixed();
    const c = args.buckets.c;
    if (c.provider !== "s3") throw new Error("fixture");
    c.endpoint = "https://sos-ch-gva-2.exo.io:8443";
    const d1 = args.buckets.d;
    if (d1.provider === "s3") d1.endpoint = c.endpoint;
    const { of } = await deploy("mixed", args, plan);
    const sg = of("aws:ec2/securityGroup:SecurityGroup").find((s) => s.name === "mixed-runner-sg")!;
    expect(sg.inputs.egress.map((e: any) => e.fromPort)).toEqual([443, 8443]);
    const versions = of("aws:secretsmanager/secretVersion:SecretVersion");
    expect(versions).toHaveLength(1);
    expect(JSON.parse(versions[0].inputs.secretString)).toEqual({ accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET });
    expect(of("aws:ec2/instance:Instance")[0].inputs.userData).not.toContain(TEST_SECRET);

    const only: ReplicationTopologyArgs = {
      buckets: {
        a: { provider: "aws", bucket: "only-a", region: "us-east-1" },
        b: { provider: "aws", bucket: "only-b", region: "us-east-1" },
      },
      links: [{ kind: "one-to-one", from: "a", to: "b", mechanism: "runner", deletes: true, prefix: "logs/" }],
      runner: { platform: "aws-ec2", region: "us-east-1" },
    };
    const r = await deploy("awsonly", only, {
      edges: [{ from: "a", to: "b", link: 0, mechanism: "runner", reason: "forced", kind: "one-to-one", deletes: true, sourcePrefix: "logs/", targetPrefix: "logs/" }],
    });
    expect(r.of("aws:ec2/natGateway:NatGateway")).toHaveLength(0);
    expect(r.of("aws:ec2/internetGateway:InternetGateway")).toHaveLength(0);
    expect(r.of("aws:ec2/vpcEndpoint:VpcEndpoint").map((e) => e.inputs.serviceName.split(".").pop()).sort()).toEqual(
      ["ec2messages", "logs", "s3", "secretsmanager", "ssm", "ssmmessages"],
    );
    expect(r.of("aws:secretsmanager/secret:Secret")).toHaveLength(0);
    const doc = JSON.parse(r.of("aws:iam/rolePolicy:RolePolicy")[0].inputs.policy);
    expect(doc.Statement.find((s: any) => s.Sid === "Deleteonlyb").Resource).toEqual(["arn:aws:s3:::only-b/logs/*"]);
    expect(doc.Statement.find((s: any) => s.Sid === "Listonlya").Condition.StringLike["s3:prefix"]).toEqual(["logs/*"]);
    expect(doc.Statement.some((s: any) => s.Sid === "Deleteonlya")).toBe(false);
  });
});

describe("errors", () => {
  it("returns undefined without runner edges", () => {
    const { args } = ociBidirectional();
    expect(deployRunner({ parent: new Parent("none"), name: "none", args, plan: { edges: [] } }, {})).toBeUndefined();
  });

  it("names `runner` and the fix when runner edges have no runner spec", () => {
    const { args, plan } = ociBidirectional();
    delete args.runner;
    expect(() => deployRunner({ parent: new Parent("nospec"), name: "nospec", args, plan }, {})).toThrow(/no `runner` spec.*london->zurich.*platform/);
    try {
      deployRunner({ parent: new Parent("nospec2"), name: "nospec2", args, plan }, {});
    } catch (e) {
      expect(pulumi.ResourceError.isInstance(e)).toBe(true);
    }
  });

  it("rejects an unsupported schedule naming runner.schedule", () => {
    const { args, plan } = ociBidirectional();
    args.runner!.schedule = "0 0 L * *";
    expect(() => deployRunner({ parent: new Parent("badcron"), name: "badcron", args, plan }, {})).toThrow(/runner\.schedule/);
  });

  it("a runner.bundlePath that does not exist is named, with the way back to the packaged bundle", () => {
    const { args, plan } = awsToOciFanOut("aws-ec2");
    args.runner!.bundlePath = join(bundleDir, "missing.mjs");
    expect(() => deployRunner({ parent: new Parent("nobundle"), name: "nobundle", args, plan }, {})).toThrow(
      /^runner\.bundlePath: the runner bundle .*missing\.mjs does not exist\..*remove runner\.bundlePath to upload the bundle that ships in the bucket-replication package/,
    );
  });

  it("without bundlePath the package's own bundle is used; a missing one says reinstall (installed) or npm run build (checkout)", async () => {
    const { loadBundle } = await import("../../components/deploy/core.js");
    const ctx = { parent: new Parent("pkgbundle") } as Parameters<typeof loadBundle>[0];
    const spec = { platform: "aws-ec2" } as Parameters<typeof loadBundle>[1];
    // The package this module belongs to (the checkout): its dist/runner.mjs, built by the global setup.
    const own = loadBundle(ctx, spec);
    expect(own.path).toBe(fileURLToPath(new URL("../../dist/runner.mjs", import.meta.url)));
    expect(own.sha256).toBe(createHash("sha256").update(readFileSync(own.path)).digest("hex"));
    // An installed package without its bundle: no build script to point at.
    const installed = mkdtempSync(join(tmpdir(), "installed-"));
    expect(() => loadBundle(ctx, spec, installed)).toThrow(
      /^runner: the runner bundle that ships in the bucket-replication package \(.*dist\/runner\.mjs\) is missing\. Fix: reinstall bucket-replication .*or set runner\.bundlePath/,
    );
    expect(() => loadBundle(ctx, spec, installed)).not.toThrow(/npm run build/);
    // A checkout: the build command.
    const checkout = mkdtempSync(join(tmpdir(), "checkout-"));
    mkdirSync(join(checkout, "scripts"));
    writeFileSync(join(checkout, "scripts", "build-runner.mjs"), "");
    expect(() => loadBundle(ctx, spec, checkout)).toThrow(/this is a checkout of the repository: build it with `npm run build`/);
  });
});

describe("through ReplicationTopology (the dev stack)", () => {
  it("plans the OCI pair to the runner and deploys it on OCI, next to the native AWS edges", async () => {
    const { parse } = await import("yaml");
    const { readFileSync } = await import("node:fs");
    const { ReplicationTopology } = await import("../../components/topology.js");
    const doc = parse(readFileSync("stacks/Pulumi.dev.yaml", "utf8"));
    const args = doc.config["bucket-replication:topology"] as ReplicationTopologyArgs;
    args.runner = { ...args.runner!, bundlePath, tenancyId: "ocid1.tenancy.oc1..t" };
    const start = resources.length;
    const topo = new ReplicationTopology("dev", args);
    expect(topo.runner?.edges).toEqual(["london->zurich", "zurich->london"]);
    await new Promise<string>((r) => topo.runner!.instanceId.apply(r));
    await settle();
    const mine = resources.slice(start);
    const instance = mine.find((r) => r.type === "oci:Core/instance:Instance")!;
    expect(instance.name).toBe("dev-runner-instance");
    const cfgObj = mine.find((r) => r.type === "oci:ObjectStorage/storageObject:StorageObject" && String(r.inputs.object).startsWith("config/"))!;
    const cfg = validateConfig(JSON.parse(cfgObj.inputs.content));
    expect(cfg.jobs.map((j) => [j.name, j.mode, j.conflict])).toEqual([["london-and-zurich", "bisync", "keep-both"]]);
    // the AWS fan-out stays native: the runner serves no AWS bucket
    expect(JSON.stringify(cfg)).not.toContain("acme-dev-reports");
  });
});
