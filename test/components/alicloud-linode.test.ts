// Issue 17 under Pulumi mocks: a topology with OSS→OSS edges (a created pair with deletes, a
// referenced source without, an SSE-KMS pair) and a Linode→Linode edge, through ReplicationTopology.
// Asserts the native rules (one BucketReplication per edge with the right action and historical
// replication), private encrypted buckets, a RAM role scoped to exact buckets and keys, one Linode
// key scoped to exactly the served buckets, and that generated secrets reach only the secret store.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReplicationTopologyArgs } from "../../components/plan/types.js";
import { validateConfig } from "../../runner/config/validate.js";
import { plannedResources } from "../../components/plan/review.js";
import { providerCall } from "../support/pulumi-calls.js";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const LINODE_SECRET = "LINODE-generated-secret-9f2a41";
const RAM_SECRET = "RAM-generated-secret-77c0de";

interface Res { type: string; name: string; inputs: Record<string, any>; raw: Record<string, any>; opts?: pulumi.CustomResourceOptions }
const resources: Res[] = [];
const optsByName = new Map<string, pulumi.CustomResourceOptions>();
const nameOf = new Map<pulumi.Resource, string>();

function unwrap(v: any): any {
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === "object") {
    if (v[SECRET_SIG] !== undefined) return unwrap(v.value);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}
function plainStrings(v: any, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => plainStrings(x, out));
  else if (v && typeof v === "object" && v[SECRET_SIG] === undefined) Object.values(v).forEach((x) => plainStrings(x, out));
  return out;
}

pulumi.runtime.setMocks(
  {
    newResource(args) {
      const state: Record<string, any> = unwrap(args.inputs);
      if (args.type === "linode:index/objectStorageKey:ObjectStorageKey") Object.assign(state, { accessKey: "LINODEACCESSKEY", secretKey: LINODE_SECRET });
      if (args.type === "alicloud:ram/accessKey:AccessKey") state.secret = RAM_SECRET;
      if (args.type === "aws:s3/bucket:Bucket") state.bucket = `${args.inputs.bucketPrefix ?? args.name}abc123`;
      if (args.type === "aws:s3/bucket:Bucket") state.arn = `arn:aws:s3:::${state.bucket}`;
      if (args.type === "aws:cloudwatch/logGroup:LogGroup") state.arn = `arn:aws:logs:us-east-1:111111111111:log-group:${args.inputs.name}`;
      if (args.type === "aws:secretsmanager/secret:Secret") state.arn = `arn:aws:secretsmanager:us-east-1:111111111111:secret:${args.name}-AbCdEf`;
      resources.push({ type: args.type, name: args.name, inputs: unwrap(args.inputs), raw: args.inputs });
      return { id: args.type === "alicloud:ram/accessKey:AccessKey" ? "LTAIRAMACCESSKEY" : `${args.name}_id`, state };
    },
    call: (args) => providerCall(args.token, args.inputs) ?? args.inputs,
  },
  "project",
  "stack",
  false,
);

const bundleDir = mkdtempSync(join(tmpdir(), "bundle-"));
const bundlePath = join(bundleDir, "runner.mjs");
writeFileSync(bundlePath, "console.log('runner');\n");

const args: ReplicationTopologyArgs = {
  buckets: {
    // A created pair, with deletes
    hz: { provider: "alicloud", bucket: "acme-hz", region: "cn-hangzhou" },
    bj: { provider: "alicloud", bucket: "acme-bj", region: "cn-beijing" },
    // A referenced source (it may hold data: historical replication), no deletes, a prefix, abroad
    legacy: { provider: "alicloud", bucket: "acme-legacy", region: "cn-shanghai", create: false },
    fra: { provider: "alicloud", bucket: "acme-fra", region: "eu-central-1" },
    // SSE-KMS on both: a RAM role as syncRole
    kms1: { provider: "alicloud", bucket: "acme-kms1", region: "ap-southeast-1", kmsKeyId: "key-sg1a2b3c4d5e" },
    kms2: { provider: "alicloud", bucket: "acme-kms2", region: "ap-southeast-1", kmsKeyId: "key-sg9z8y7x6w5v" },
    // Linode: created buckets, always the runner
    // A referenced OSS pair kept in sync both ways: the runner, with a scoped RAM user
    osa: { provider: "alicloud", bucket: "acme-osa", region: "eu-central-1", create: false },
    osb: { provider: "alicloud", bucket: "acme-osb", region: "eu-west-1", create: false },
    nwk: { provider: "linode", bucket: "acme-newark", region: "us-east" },
    fra2: { provider: "linode", bucket: "acme-frankfurt", region: "eu-central" },
  },
  links: [
    { kind: "one-to-one", from: "hz", to: "bj", deletes: true },
    { kind: "one-to-one", from: "legacy", to: "fra", prefix: "exports/" },
    { kind: "one-to-one", from: "kms1", to: "kms2", deletes: true },
    { kind: "one-to-one", from: "nwk", to: "fra2", deletes: true },
    { kind: "bidirectional", between: ["osa", "osb"], prefix: "shared/" },
  ],
  runner: { platform: "aws-ec2", region: "us-east-1", bundlePath },
};

let topology: import("../../components/topology.js").ReplicationTopology;
const of = (type: string) => resources.filter((r) => r.type === type);
const byName = (name: string) => {
  const r = resources.filter((x) => x.name === name);
  if (r.length !== 1) throw new Error(`${r.length} resources named ${name}`);
  return r[0];
};

beforeAll(async () => {
  const { ReplicationTopology } = await import("../../components/topology.js");
  topology = new ReplicationTopology("t17", args, {
    transformations: [(a) => {
      nameOf.set(a.resource, a.name);
      optsByName.set(a.name, a.opts as pulumi.CustomResourceOptions);
      return undefined;
    }],
  });
  await new Promise<void>((r) => topology.runner!.instanceId.apply(() => r()));
  let n = -1;
  while (n !== resources.length) {
    n = resources.length;
    await new Promise((r) => setTimeout(r, 50));
  }
});

describe("plan", () => {
  it("OSS pairs are alicloud-native, Linode the runner", () => {
    expect(topology.plan.edges.map((e) => `${e.from}->${e.to}:${e.mechanism}`)).toEqual([
      "hz->bj:alicloud-native", "legacy->fra:alicloud-native", "kms1->kms2:alicloud-native", "nwk->fra2:runner",
      "osa->osb:runner", "osb->osa:runner",
    ]);
    expect(topology.runner!.edges).toEqual(["nwk->fra2", "osa->osb", "osb->osa"]);
  });
});

describe("OSS native replication", () => {
  const rule = (from: string, to: string) => byName(`t17-${from}-to-${to}-replication`);

  it("one BucketReplication per native edge", () => {
    expect(of("alicloud:oss/bucketReplication:BucketReplication")).toHaveLength(3);
  });

  it("created pair with deletes: action ALL, no historical replication, internal link", () => {
    const r = rule("hz", "bj");
    expect(r.inputs).toMatchObject({
      bucket: "acme-hz", action: "ALL", historicalObjectReplication: "disabled",
      destination: { bucket: "acme-bj", location: "oss-cn-beijing", transferType: "internal" },
    });
    expect(r.inputs.prefixSet).toBeUndefined();
    expect(r.inputs.syncRole).toBeUndefined();
    // after both buckets and their ACL, public-access block and encryption
    const deps = (optsByName.get(r.name)!.dependsOn as pulumi.Resource[]).map((d) => nameOf.get(d));
    for (const id of ["hz", "bj"]) for (const part of ["", "-acl", "-public-access", "-encryption"]) expect(deps).toContain(`t17-${id}${part}`);
  });

  it("referenced source without deletes: action PUT, historical replication on, its prefix, oss_acc across the mainland border", () => {
    const r = rule("legacy", "fra");
    expect(r.inputs).toMatchObject({
      bucket: "acme-legacy", action: "PUT", historicalObjectReplication: "enabled",
      prefixSet: { prefixes: ["exports/"] },
      destination: { bucket: "acme-fra", location: "oss-eu-central-1", transferType: "oss_acc" },
    });
    // the referenced bucket is not created or changed
    expect(resources.filter((x) => x.name.startsWith("t17-legacy") && x.name !== r.name).map((x) => x.type)).toEqual([]);
  });

  it("SSE-KMS: a RAM role trusted by OSS, scoped to the two buckets and keys, as syncRole", () => {
    const r = rule("kms1", "kms2");
    expect(r.inputs).toMatchObject({
      syncRole: "t17-kms1-to-kms2-oss-replication",
      sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
      encryptionConfiguration: { replicaKmsKeyId: "key-sg9z8y7x6w5v" },
    });
    const role = byName("t17-kms1-to-kms2-role");
    expect(JSON.parse(role.inputs.assumeRolePolicyDocument).Statement[0].Principal).toEqual({ Service: ["oss.aliyuncs.com"] });
    const policy = JSON.parse(byName("t17-kms1-to-kms2-policy").inputs.policyDocument);
    const resourcesOf = policy.Statement.flatMap((s: any) => s.Resource);
    expect(resourcesOf).toEqual([
      "acs:oss:*:*:acme-kms1", "acs:oss:*:*:acme-kms1/*", "acs:oss:*:*:acme-kms2", "acs:oss:*:*:acme-kms2/*",
      "acs:kms:*:*:key/key-sg1a2b3c4d5e", "acs:kms:*:*:key/key-sg9z8y7x6w5v",
    ]);
    expect(policy.Statement[1].Action).toEqual(["oss:ReplicatePut", "oss:ReplicateDelete"]);
    expect(byName("t17-kms1-to-kms2-policy-attachment").inputs).toMatchObject({ policyType: "Custom", roleName: "t17-kms1-to-kms2-oss-replication" });
    // no other rule got a role
    expect(of("alicloud:ram/role:Role")).toHaveLength(1);
  });

  it("created OSS buckets are private and encrypted (SSE-KMS with their key, else AES256)", () => {
    const created = of("alicloud:oss/bucket:Bucket").map((b) => b.inputs.bucket).sort();
    expect(created).toEqual(["acme-bj", "acme-fra", "acme-hz", "acme-kms1", "acme-kms2"]);
    for (const id of ["hz", "bj", "fra", "kms1", "kms2"]) {
      expect(byName(`t17-${id}-acl`).inputs.acl).toBe("private");
      expect(byName(`t17-${id}-public-access`).inputs.blockPublicAccess).toBe(true);
    }
    expect(byName("t17-hz-encryption").inputs).toMatchObject({ sseAlgorithm: "AES256" });
    expect(byName("t17-kms1-encryption").inputs).toMatchObject({ sseAlgorithm: "KMS", kmsMasterKeyId: "key-sg1a2b3c4d5e" });
    expect(of("alicloud:oss/bucketVersioning:BucketVersioning")).toHaveLength(0);
  });
});

describe("Linode", () => {
  it("creates private buckets in their regions", () => {
    const buckets = of("linode:index/objectStorageBucket:ObjectStorageBucket").map((b) => b.inputs);
    expect(buckets).toEqual([
      expect.objectContaining({ label: "acme-newark", region: "us-east", acl: "private", corsEnabled: false }),
      expect.objectContaining({ label: "acme-frankfurt", region: "eu-central", acl: "private", corsEnabled: false }),
    ]);
  });

  it("one limited key naming exactly the served buckets: read-only on the source, read-write on the target", () => {
    const keys = of("linode:index/objectStorageKey:ObjectStorageKey");
    expect(keys).toHaveLength(1);
    expect(keys[0].inputs.bucketAccesses).toEqual([
      { bucketName: "acme-newark", region: "us-east", permissions: "read_only" },
      { bucketName: "acme-frankfurt", region: "eu-central", permissions: "read_write" },
    ]);
  });

  it("the runner reaches both through the cluster endpoints with keys from Secrets Manager", () => {
    const config = JSON.parse(of("aws:s3/bucketObjectv2:BucketObjectv2").find((o) => o.name === "t17-runner-config")!.inputs.content);
    expect(() => validateConfig(config)).not.toThrow();
    const eps = Object.values(config.endpoints) as any[];
    const linodeEps = eps.filter((e) => /linodeobjects\.com$/.test(e.endpoint ?? ""));
    expect(linodeEps.map((e) => e.endpoint).sort()).toEqual(["https://eu-central-1.linodeobjects.com", "https://us-east-1.linodeobjects.com"]);
    for (const e of linodeEps) expect(e.credentials.file).toMatch(/^\/run\/bucket-replication\/credentials\//);
    // both entries' secrets hold the Linode key, as Pulumi secrets
    const versions = of("aws:secretsmanager/secretVersion:SecretVersion");
    const withLinode = versions.filter((v) => JSON.stringify(v.inputs).includes(LINODE_SECRET));
    expect(withLinode.length).toBeGreaterThan(0);
    for (const v of withLinode) expect(v.raw.secretString[SECRET_SIG]).toBeDefined();
    // a NAT gateway: Linode is outside AWS
    expect(topology.runner!.natGateway).toBe(true);
  });
});

describe("OSS through the runner", () => {
  it("a RAM user whose one policy names exactly the served buckets and prefixes; its key only in Secrets Manager", () => {
    expect(of("alicloud:ram/user:User")).toHaveLength(1);
    const doc = JSON.parse(byName("t17-runner-oss-policy").inputs.policyDocument);
    const res = doc.Statement.flatMap((st: any) => st.Resource as string[]);
    for (const r of res) expect(r).toMatch(/^acs:oss:\*:\*:acme-os[ab](\/shared\/\*)?$/);
    const list = doc.Statement.filter((st: any) => st.Action.includes("oss:ListObjects"));
    expect(list.map((st: any) => st.Condition)).toEqual([{ StringLike: { "oss:Prefix": ["shared/*"] } }, { StringLike: { "oss:Prefix": ["shared/*"] } }]);
    expect(doc.Statement.filter((st: any) => st.Action.includes("oss:DeleteObject")).flatMap((st: any) => st.Resource)).toEqual(["acs:oss:*:*:acme-osa/shared/*", "acs:oss:*:*:acme-osb/shared/*"]);
    expect(byName("t17-runner-oss-policy-attachment").inputs).toMatchObject({ policyType: "Custom" });
    const config = JSON.parse(of("aws:s3/bucketObjectv2:BucketObjectv2").find((o) => o.name === "t17-runner-config")!.inputs.content);
    const ossEps = (Object.values(config.endpoints) as any[]).filter((e) => /aliyuncs\.com$/.test(e.endpoint ?? ""));
    expect(ossEps.map((e) => [e.endpoint, e.region, e.forcePathStyle]).sort()).toEqual([
      ["https://s3.oss-eu-central-1.aliyuncs.com", "eu-central-1", false],
      ["https://s3.oss-eu-west-1.aliyuncs.com", "eu-west-1", false],
    ]);
    const withRam = of("aws:secretsmanager/secretVersion:SecretVersion").filter((v) => JSON.stringify(v.inputs).includes(RAM_SECRET));
    expect(withRam.length).toBeGreaterThan(0);
    for (const v of withRam) expect(v.raw.secretString[SECRET_SIG]).toBeDefined();
  });
});

describe("the plan's resource list", () => {
  it("names exactly what the component registered (buckets, OSS rules and roles, the runner with the RAM user and the Linode key)", () => {
    const planned: Record<string, number> = {};
    for (const g of plannedResources(args, topology.plan).groups) for (const r of g.resources) if (r.type.includes(":")) planned[r.type] = (planned[r.type] ?? 0) + r.count;
    const registered: Record<string, number> = {};
    for (const r of resources) if (!r.type.startsWith("pulumi:providers:") && r.type !== "bucket-replication:index:ReplicationTopology") registered[r.type] = (registered[r.type] ?? 0) + 1;
    expect(planned).toEqual(registered);
  });
});

describe("secrets", () => {
  it("the generated Linode secret appears in no plain input (only Pulumi secrets in the secret store)", () => {
    for (const r of resources) {
      for (const s of plainStrings(r.raw)) {
        expect(s.includes(LINODE_SECRET), `${r.type} ${r.name} has the Linode secret in plain text`).toBe(false);
        expect(s.includes(RAM_SECRET), `${r.type} ${r.name} has the RAM secret in plain text`).toBe(false);
      }
      for (const sec of [LINODE_SECRET, RAM_SECRET])
        if (JSON.stringify(r.inputs).includes(sec)) expect(r.type).toBe("aws:secretsmanager/secretVersion:SecretVersion");
    }
    expect(optsByName.get("t17-runner-linode-key")!.additionalSecretOutputs).toContain("secretKey");
  });
});
