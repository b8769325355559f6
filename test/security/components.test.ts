// Security walk over EVERYTHING the components create (issue 8), across a broad set of topologies
// built through ReplicationTopology under Pulumi mocks: native AWS (one-to-one, bidirectional,
// fan-out, SSE-KMS, cross-account), native OCI, native S3-API, and runners on both platforms.
//
// - Every policy document (IAM role/user policies, bucket policies, KMS statements: any input that
//   parses as a JSON policy) and every OCI policy statement is collected generically, whatever the
//   resource type, and checked: no "*" resource or action in a statement that touches S3, KMS or
//   object storage; S3 resources name one exact bucket (a trailing "/*" or "/prefix*" after the exact
//   bucket name is the only wildcard: it is how IAM names "the objects of this bucket"); OCI object
//   statements name the exact bucket; no public principal.
// - No public IP (instances, VNICs, subnets), no public bucket, no ingress from the internet.
// - No secret in plain text in any resource input (a Pulumi secret wrapper is fine) or in the
//   topology's outputs.
// The per-component tests (test/components, test/deploy) check their own resources in detail; this
// is the one cross-cutting walk.
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReplicationTopologyArgs } from "../../components/plan/types.js";
import { awsToOciFanOut, mixed, ociBidirectional, TEST_ACCESS_KEY, TEST_SECRET } from "../deploy/fixtures.js";
import { providerCall } from "../support/pulumi-calls.js";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const GENERATED_SECRET = "GENERATED-secret-from-provider-5e1f";
const STACK_SECRET = "STACK-secret-s3-endpoint-key-0b7d";
const SECRETS = [TEST_SECRET, GENERATED_SECRET, STACK_SECRET];

interface Res {
  topology: string;
  type: string;
  name: string;
  raw: Record<string, any>;
}
const resources: Res[] = [];
let current = "";

const unwrap = (v: any): any =>
  Array.isArray(v)
    ? v.map(unwrap)
    : v && typeof v === "object"
      ? v[SECRET_SIG] !== undefined
        ? unwrap(v.value)
        : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]))
      : v;

pulumi.runtime.setMocks(
  {
    newResource(args) {
      const state: Record<string, any> = unwrap(args.inputs);
      switch (args.type) {
        case "aws:s3/bucket:Bucket":
          state.bucket = args.inputs.bucket ?? `${args.inputs.bucketPrefix ?? args.name}abc123`;
          state.arn = `arn:aws:s3:::${state.bucket}`;
          break;
        case "aws:iam/role:Role":
          state.arn = `arn:aws:iam::111111111111:role/${args.name}`;
          break;
        case "aws:ecs/cluster:Cluster":
          state.arn = `arn:aws:ecs:us-east-1:111111111111:cluster/${args.inputs.name}`;
          break;
        case "aws:ecs/taskDefinition:TaskDefinition":
          state.arn = `arn:aws:ecs:us-east-1:111111111111:task-definition/${args.inputs.family}:1`;
          break;
        case "aws:cloudwatch/logGroup:LogGroup":
          state.arn = `arn:aws:logs:us-east-1:111111111111:log-group:${args.inputs.name}`;
          break;
        case "aws:secretsmanager/secret:Secret":
          state.arn = `arn:aws:secretsmanager:us-east-1:111111111111:secret:${args.name}-AbCdEf`;
          break;
        case "aws:iam/accessKey:AccessKey":
          state.secret = GENERATED_SECRET;
          break;
        case "oci:Identity/customerSecretKey:CustomerSecretKey":
          state.key = GENERATED_SECRET;
          break;
        case "oci:Kms/vault:Vault":
          state.managementEndpoint = "https://mgmt.example";
          break;
      }
      resources.push({ topology: current, type: args.type, name: args.name, raw: args.inputs });
      return { id: args.type.startsWith("oci:") ? `ocid1.${args.name}` : `${args.name}_id`, state };
    },
    call(args) {
      return providerCall(args.token, args.inputs, { namespace: "ns1" }) ?? args.inputs;
    },
  },
  "project",
  "stack",
  false,
);

const BUNDLE = fileURLToPath(new URL("../../dist/runner.mjs", import.meta.url));
const runner = (r: ReplicationTopologyArgs["runner"]) => ({ ...r!, bundlePath: BUNDLE, tenancyId: "ocid1.tenancy.oc1..t" });
const NS = "ns1";
const COMP = "ocid1.compartment.oc1..comp";

function stack(name: string): ReplicationTopologyArgs {
  const doc = parse(readFileSync(fileURLToPath(new URL(`../../stacks/Pulumi.${name}.yaml`, import.meta.url)), "utf8"));
  const args = doc.config["bucket-replication:topology"] as ReplicationTopologyArgs;
  // prod's s3 buckets take keys as stack secrets; set them as `pulumi config set --secret` would.
  for (const b of Object.values(args.buckets)) {
    if (b.provider !== "s3") continue;
    (b as any).credentials = { accessKeyId: "AKIASTACKKEY", secretAccessKey: STACK_SECRET };
    if ((b as any).nativeReplication === "s3-api") (b as any).replicationRole ??= "0f3e8c1a-aaaa-bbbb-cccc-000000000001"; // set per stack, not committed
  }
  if (args.runner) args.runner = runner(args.runner);
  return args;
}

const TOPOLOGIES: Record<string, () => ReplicationTopologyArgs> = {
  dev: () => stack("dev"),
  prod: () => stack("prod"),
  "oci-bidirectional-runner": () => ({ ...ociBidirectional().args, runner: runner(ociBidirectional().args.runner) }),
  "aws-to-oci-fanout-on-aws": () => ({ ...awsToOciFanOut("aws-ec2").args, runner: runner(awsToOciFanOut("aws-ec2").args.runner) }),
  "aws-to-oci-fanout-on-oci": () => ({ ...awsToOciFanOut("oci-compute").args, runner: runner(awsToOciFanOut("oci-compute").args.runner) }),
  "mixed-with-s3-keys": () => ({ ...mixed().args, runner: runner(mixed().args.runner) }),
  "aws-to-oci-fanout-on-kubernetes": () => ({
    ...awsToOciFanOut("aws-ec2").args,
    runner: runner({ platform: "kubernetes", region: "eu-west-1", shards: 3, stateBucket: { provider: "aws", bucket: "sec-runner-state", region: "eu-west-1", create: false } }),
  }),
  "mixed-with-s3-keys-on-ecs": () => ({ ...mixed().args, runner: runner({ platform: "aws-ecs", region: "us-east-1", shards: 2 }) }),
  "aws-native-kms-cross-account": () => ({
    buckets: {
      a: { provider: "aws", bucket: "sec-a", region: "us-east-1", kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/aaaa", accountId: "111111111111" },
      b: { provider: "aws", bucket: "sec-b", region: "eu-west-1", kmsKeyArn: "arn:aws:kms:eu-west-1:222222222222:key/bbbb", accountId: "222222222222", create: false },
      c: { provider: "aws", bucket: "sec-c", region: "eu-central-1", accountId: "111111111111" },
      d: { provider: "aws", bucket: "sec-d", region: "ap-southeast-2", accountId: "111111111111", create: false },
    },
    links: [
      { kind: "one-to-one", from: "a", to: "b", deletes: true },
      { kind: "bidirectional", between: ["c", "d"], prefix: "shared/" },
      { kind: "fan-out", from: "c", to: ["a"], prefix: "out/" },
    ],
  }),
  "oci-native-and-runner-fan-in-on-aws": () => ({
    buckets: {
      lon: { provider: "oci", bucket: "sec-lon", region: "uk-london-1", namespace: NS, compartmentId: COMP },
      dr: { provider: "oci", bucket: "sec-dr", region: "uk-cardiff-1", namespace: NS, compartmentId: COMP },
      src: { provider: "aws", bucket: "sec-src", region: "us-east-1" },
      arc: { provider: "oci", bucket: "sec-arc", region: "eu-frankfurt-1", namespace: NS, compartmentId: COMP },
    },
    links: [
      { kind: "one-to-one", from: "lon", to: "dr", deletes: true },
      { kind: "fan-in", from: ["src", "lon"], to: "arc", targetPrefixes: { src: "from-src/", lon: "from-lon/" }, deletes: true },
    ],
    runner: runner({ platform: "aws-ec2", region: "us-east-1" }),
  }),
  "s3-api-native": () => ({
    buckets: {
      g: { provider: "s3", bucket: "sec-g", endpoint: "https://sos-ch-gva-2.exo.io", region: "ch-gva-2", nativeReplication: "s3-api", replicationRole: "0f3e8c1a-1111-2222-3333-444455556666", credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } },
      v: { provider: "s3", bucket: "sec-v", endpoint: "https://sos-ch-gva-2.exo.io", region: "ch-gva-2", nativeReplication: "s3-api", credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } },
    },
    links: [{ kind: "one-to-one", from: "g", to: "v", deletes: true }],
  }),
};

async function settle(): Promise<void> {
  let n = -1;
  let stable = 0;
  while (stable < 4) {
    await new Promise((r) => setTimeout(r, 25));
    if (resources.length === n) stable++;
    else {
      stable = 0;
      n = resources.length;
    }
  }
}

const outputs: Record<string, string> = {};
const bucketNames = new Set<string>();

beforeAll(async () => {
  const { ReplicationTopology } = await import("../../components/topology.js");
  for (const [name, make] of Object.entries(TOPOLOGIES)) {
    current = name;
    const args = make();
    for (const b of Object.values(args.buckets)) bucketNames.add(b.bucket);
    const topo = new ReplicationTopology(name, args);
    await settle();
    // Everything the component exposes, resolved.
    const exposed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(topo)) {
      if (pulumi.Output.isInstance(v)) exposed[k] = await new Promise((r) => (v as pulumi.Output<unknown>).apply(r));
      else if (k === "plan" || k === "runner") exposed[k] = v && typeof v === "object" ? JSON.parse(JSON.stringify(v, (_k, x) => (pulumi.Output.isInstance(x) ? "[output]" : x))) : v;
    }
    if (topo.runner) for (const [k, v] of Object.entries(topo.runner)) if (pulumi.Output.isInstance(v)) exposed[`runner.${k}`] = await new Promise((r) => (v as pulumi.Output<unknown>).apply(r));
    outputs[name] = JSON.stringify(exposed);
  }
}, 120_000);

// ----------------------------------------------------------------------------- collection

/** Every string in a value; secret-wrapped values are reported separately. */
function strings(v: any, out: { plain: string[]; secret: string[] }, inSecret = false): void {
  if (typeof v === "string") (inSecret ? out.secret : out.plain).push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out, inSecret));
  else if (v && typeof v === "object") {
    if (v[SECRET_SIG] !== undefined) strings(v.value, out, true);
    else Object.values(v).forEach((x) => strings(x, out, inSecret));
  }
}

interface PolicyDoc {
  where: string;
  doc: { Statement: any[] };
}
function policyDocs(): PolicyDoc[] {
  const docs: PolicyDoc[] = [];
  for (const r of resources) {
    const s = { plain: [] as string[], secret: [] as string[] };
    strings(r.raw, s);
    for (const str of [...s.plain, ...s.secret]) {
      if (!str.includes("Statement")) continue;
      try {
        const doc = JSON.parse(str);
        if (doc && Array.isArray(doc.Statement)) docs.push({ where: `${r.topology}: ${r.type} ${r.name}`, doc });
      } catch {
        /* not a JSON document (e.g. a script mentioning Statement) */
      }
    }
  }
  return docs;
}
function ociStatements(): { where: string; s: string }[] {
  return resources
    .filter((r) => r.type === "oci:Identity/policy:Policy")
    .flatMap((r) => (unwrap(r.raw).statements as string[]).map((s) => ({ where: `${r.topology}: ${r.name}`, s })));
}

const of = (type: string) => resources.filter((r) => r.type === type).map((r) => ({ ...r, inputs: unwrap(r.raw) as Record<string, any> }));
const arr = (x: unknown): any[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

// ----------------------------------------------------------------------------- checks

describe("the topologies built", () => {
  it("cover every mechanism and every runner platform", () => {
    const types = new Set(resources.map((r) => r.type));
    for (const t of [
      "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
      "aws:s3/bucketPolicy:BucketPolicy",
      "aws:iam/rolePolicy:RolePolicy",
      "oci:ObjectStorage/replicationPolicy:ReplicationPolicy",
      "aws:ec2/instance:Instance",
      "oci:Core/instance:Instance",
      "oci:Identity/policy:Policy",
      "kubernetes:batch/v1:CronJob",
      "aws:ecs/taskDefinition:TaskDefinition",
    ])
      expect(types, t).toContain(t);
    expect(resources.some((r) => r.type.startsWith("pulumi-nodejs:dynamic"))).toBe(true); // s3-api native
    for (const t of Object.keys(TOPOLOGIES)) expect(resources.some((r) => r.topology === t), t).toBe(true);
  });
});

// The planner rejects a runner CIDR the deploy component cannot split (/24 once slipped into prod).
it("the committed prod stack (plus its stack secrets) deploys with its network as written", async () => {
  const { ReplicationTopology } = await import("../../components/topology.js");
  const args = stack("prod");
  expect((args.runner?.network as { cidr?: string } | undefined)?.cidr).toMatch(/\/(1[6-9]|2[0-3])$/);
  current = "prod-as-committed";
  expect(() => new ReplicationTopology("prod-as-committed", args)).not.toThrow();
});

describe("policies name exact resources", () => {
  const S3_ARN = /^arn:aws:s3:::([a-z0-9][a-z0-9.-]*[a-z0-9])(\/[^*]*\*?)?$/;

  it("every IAM/bucket/KMS policy statement: no '*' resource or action where S3 or KMS is concerned; S3 ARNs name one of the topology's buckets", () => {
    const docs = policyDocs();
    expect(docs.length).toBeGreaterThan(20);
    let s3Resources = 0;
    const otherStars: string[] = [];
    for (const { where, doc } of docs) {
      for (const st of doc.Statement) {
        const actions = arr(st.Action).map(String);
        const res = arr(st.Resource).map(String);
        expect(st.NotResource, `${where}: NotResource`).toBeUndefined();
        expect(st.NotAction, `${where}: NotAction`).toBeUndefined();
        const touchesData = actions.some((a) => /^(s3|kms):/.test(a)) || res.some((r) => /^arn:aws:(s3|kms):/.test(r));
        for (const a of actions) expect(a === "*" || /^s3:\*$|^kms:\*$/.test(a), `${where}: action ${a}`).toBe(false);
        // No identity can change IAM or destroy object versions (versioning keeps overwritten data recoverable).
        // (Exception: a cross-account destination's bucket policy grants the source's replication role
        // Get/PutBucketVersioning, as in AWS's documented example; that role is assumable by
        // s3.amazonaws.com only and its own policy does not grant PutBucketVersioning.)
        const versioningGrant = /^VersioningForSource\d+$/.test(String(st.Sid));
        // (Exception: the aws-ecs scheduler's role passes exactly the task's two roles to ECS.)
        const passRole = actions.length === 1 && actions[0] === "iam:PassRole" && res.length > 0 && res.every((r) => /^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/.test(r));
        for (const a of actions) expect((/^iam:/.test(a) && !passRole) || /^s3:DeleteObjectVersion|^s3:PutLifecycleConfiguration/.test(a) || (a === "s3:PutBucketVersioning" && !versioningGrant), `${where}: action ${a}`).toBe(false);
        if (touchesData) for (const r of res) expect(r, `${where}: ${JSON.stringify(st)}`).not.toBe("*");
        else if (res.includes("*")) otherStars.push(`${where}: ${actions.join(",")}`);
        for (const r of res.filter((x) => x.startsWith("arn:aws:s3"))) {
          s3Resources++;
          const m = S3_ARN.exec(r);
          expect(m, `${where}: S3 resource ${r} is not one exact bucket (or its objects)`).not.toBeNull();
          expect(bucketNames.has(m![1]) || /artifacts|runner/.test(m![1]), `${where}: ${r} is not a bucket of the topology or the runner's own`).toBe(true);
        }
        for (const r of res.filter((x) => x.startsWith("arn:aws:kms"))) expect(r, where).toMatch(/^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/);
        // No public principal in resource policies.
        const principals = JSON.stringify(st.Principal ?? {});
        expect(principals === '"*"' || principals.includes('"AWS":"*"'), `${where}: public principal`).toBe(false);
      }
    }
    expect(s3Resources).toBeGreaterThan(30);
    // Whatever else uses "*" (e.g. CloudWatch PutMetricData, which has no resource-level permissions) is listed here.
    for (const s of otherStars) expect(s, "a '*' resource outside S3/KMS").toMatch(/cloudwatch:PutMetricData|ec2:Describe|logs:/);
  });

  it("every OCI policy statement on objects or buckets names the exact bucket; no wildcard, no tenancy-wide object access", () => {
    const sts = ociStatements();
    expect(sts.length).toBeGreaterThan(5);
    let scoped = 0;
    for (const { where, s } of sts) {
      expect(s, where).not.toMatch(/\*|all-resources|any-user/i);
      if (!/\b(objects|buckets|object-family)\b/.test(s)) continue;
      if (/^allow service objectstorage-[a-z0-9-]+ to manage object-family in compartment id ocid1\./i.test(s)) continue; // native replication's service grant (OCI's required form)
      scoped++;
      expect(s, where).toMatch(/where .*target\.bucket\.name *= *'[^']+'/);
      const names = [...s.matchAll(/target\.bucket\.name *= *'([^']+)'/g)].map((m) => m[1]);
      for (const n of names) expect(bucketNames.has(n) || /artifacts|runner/.test(n), `${where}: ${n}`).toBe(true);
    }
    expect(scoped).toBeGreaterThan(3);
  });
});

describe("nothing is public", () => {
  it("no instance, VNIC or subnet gets a public IP; the only public address is a NAT gateway's egress EIP", () => {
    const ec2 = of("aws:ec2/instance:Instance");
    expect(ec2.length).toBeGreaterThan(0);
    for (const i of ec2) expect(i.inputs.associatePublicIpAddress, i.name).not.toBe(true);
    for (const s of of("aws:ec2/subnet:Subnet")) if (s.inputs.mapPublicIpOnLaunch) throw new Error(`${s.name} maps public IPs on launch`);
    const instSubnets = new Set(ec2.map((i) => i.inputs.subnetId));
    for (const s of of("aws:ec2/subnet:Subnet")) if (/pub/.test(s.name)) expect(instSubnets.has(`${s.name}_id`), `${s.name}: an instance in a public subnet`).toBe(false);
    for (const e of of("aws:ec2/eip:Eip")) expect(of("aws:ec2/natGateway:NatGateway").some((n) => n.inputs.allocationId === `${e.name}_id`), `${e.name} belongs to a NAT gateway`).toBe(true);
    const oci = of("oci:Core/instance:Instance");
    expect(oci.length).toBeGreaterThan(0);
    for (const i of oci) expect(String(i.inputs.createVnicDetails?.assignPublicIp), i.name).toBe("false"); // the OCI provider types it as a string
    for (const s of of("oci:Core/subnet:Subnet")) expect(String(s.inputs.prohibitPublicIpOnVnic), s.name).toBe("true");
  });

  it("containers: no public IP for a Fargate task, no host networking and no exposed Service for a pod", () => {
    const schedules = of("aws:scheduler/schedule:Schedule");
    expect(schedules.length).toBeGreaterThan(0);
    for (const s of schedules) expect(s.inputs.target.ecsParameters.networkConfiguration.assignPublicIp, s.name).toBe(false);
    const cronJobs = of("kubernetes:batch/v1:CronJob");
    expect(cronJobs.length).toBeGreaterThan(0);
    for (const c of cronJobs) {
      const pod = c.inputs.spec.jobTemplate.spec.template.spec;
      expect(pod.hostNetwork, c.name).not.toBe(true);
      expect(pod.hostPID || pod.hostIPC, c.name).toBeFalsy();
      for (const ctr of [...pod.containers, ...(pod.initContainers ?? [])]) {
        expect(ctr.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
        expect(ctr.ports ?? [], `${c.name}: ${ctr.name} ports`).toEqual([]);
      }
    }
    for (const svc of of("kubernetes:core/v1:Service")) expect(svc.inputs.spec?.type ?? "ClusterIP", svc.name).toBe("ClusterIP");
    for (const np of of("kubernetes:networking.k8s.io/v1:NetworkPolicy")) expect(np.inputs.spec.ingress, np.name).toEqual([]);
  });

  it("no ingress from the internet", () => {
    for (const sg of of("aws:ec2/securityGroup:SecurityGroup"))
      for (const rule of arr(sg.inputs.ingress)) {
        expect(arr(rule.cidrBlocks), sg.name).not.toContain("0.0.0.0/0");
        expect(arr(rule.ipv6CidrBlocks), sg.name).not.toContain("::/0");
      }
    expect(of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.cidrIpv4 === "0.0.0.0/0")).toEqual([]);
    for (const sl of of("oci:Core/securityList:SecurityList")) for (const rule of arr(sl.inputs.ingressSecurityRules)) expect(rule.source, sl.name).not.toBe("0.0.0.0/0");
  });

  it("every bucket created is private: S3 public access fully blocked, OCI NoPublicAccess, no public ACL", () => {
    const created = of("aws:s3/bucket:Bucket");
    expect(created.length).toBeGreaterThan(0);
    const pabs = of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    for (const b of created) {
      const pab = pabs.find((p) => p.inputs.bucket === `${b.name}_id` || p.inputs.bucket === b.inputs.bucket || p.name.startsWith(b.name));
      expect(pab, `${b.topology}: public access block for ${b.name}`).toBeDefined();
      expect(pab!.inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
      expect(b.inputs.acl ?? "private", b.name).toBe("private");
    }
    for (const a of of("aws:s3/bucketAclV2:BucketAclV2")) expect(a.inputs.acl, a.name).toBe("private");
    const ociBuckets = of("oci:ObjectStorage/bucket:Bucket");
    expect(ociBuckets.length).toBeGreaterThan(0);
    for (const b of ociBuckets) expect(b.inputs.accessType, b.name).toBe("NoPublicAccess");
    expect(of("oci:ObjectStorage/preauthrequest:Preauthrequest")).toEqual([]);
  });
});

describe("no secret in plain text", () => {
  it("no resource input carries a test secret outside a Pulumi secret", () => {
    let wrapped = 0;
    for (const r of resources) {
      const s = { plain: [] as string[], secret: [] as string[] };
      strings(r.raw, s);
      for (const str of s.plain) for (const sec of SECRETS) expect(str.includes(sec), `${r.topology}: ${r.type} ${r.name} has a secret in plain text`).toBe(false);
      if (s.secret.some((x) => SECRETS.some((sec) => x.includes(sec)))) wrapped++;
    }
    expect(wrapped, "the secrets do reach the resources that store them, as Pulumi secrets").toBeGreaterThan(0);
  });

  it("the topology's outputs (plan, runner) carry no secret", () => {
    expect(Object.keys(outputs)).toHaveLength(Object.keys(TOPOLOGIES).length);
    for (const [name, text] of Object.entries(outputs)) for (const sec of SECRETS) expect(text.includes(sec), `${name} outputs`).toBe(false);
  });
});
