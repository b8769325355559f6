// AWS S3 native replication under Pulumi mocks: resource types, inputs and dependsOn per topology kind.
import { beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT, byName, captureOpts, ofType, settle, testParent, type Recorded } from "./native-harness.js";
import type { PlannedEdge, ReplicationTopologyArgs } from "../../components/plan/types.js";

let declareBuckets: typeof import("../../components/buckets.js").declareBuckets;
let deployAwsNative: typeof import("../../components/aws/replication.js").deployAwsNative;
let ReplicationTopology: typeof import("../../components/topology.js").ReplicationTopology;
let createJobRequest: typeof import("../../components/aws/batch-replication.js").createJobRequest;
let awsSdk: typeof import("@pulumi/aws");

beforeAll(async () => {
  ({ declareBuckets } = await import("../../components/buckets.js"));
  ({ deployAwsNative } = await import("../../components/aws/replication.js"));
  ({ ReplicationTopology } = await import("../../components/topology.js"));
  ({ createJobRequest } = await import("../../components/aws/batch-replication.js"));
  awsSdk = await import("@pulumi/aws");
});

const VERSIONING = "aws:s3/bucketVersioning:BucketVersioning";
const REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";
const BATCH = "pulumi-nodejs:dynamic/bucket-replication:S3BatchReplication";

const KEY_A = "arn:aws:kms:eu-west-1:111111111111:key/aaaa";
const KEY_B = "arn:aws:kms:us-east-1:111111111111:key/bbbb";

function aws(bucket: string, region: string, extra: Record<string, unknown> = {}) {
  return { provider: "aws" as const, bucket, region, ...extra };
}

/** Run the AWS module on a hand-built plan (plain data), as ReplicationTopology would. */
async function runPlan(name: string, args: ReplicationTopologyArgs, edges: PlannedEdge[]): Promise<Recorded[]> {
  const parent = testParent(name);
  const ctx = { parent, name, args, plan: { edges } };
  deployAwsNative(ctx, declareBuckets(ctx));
  return settle(name);
}

function edge(from: string, to: string, link: number, extra: Partial<PlannedEdge> = {}): PlannedEdge {
  return { from, to, link, mechanism: "aws-native", reason: "test", kind: "one-to-one", deletes: false, sourcePrefix: "", targetPrefix: "", ...extra };
}

/** Every statement of every IAM/bucket policy: S3 resources must be exact declared ARNs, no wildcard buckets. */
function assertExactResources(rs: Recorded[], bucketNames: string[], keys: string[] = []) {
  const allowed = new Set(bucketNames.flatMap((b) => [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`]));
  let checked = 0;
  for (const r of [...ofType(rs, ROLE_POLICY), ...ofType(rs, BUCKET_POLICY)]) {
    const doc = JSON.parse(r.inputs.policy);
    for (const st of doc.Statement) {
      const resources = ([] as string[]).concat(st.Resource);
      expect(resources.length, `${r.name} ${st.Sid}`).toBeGreaterThan(0);
      for (const res of resources) {
        checked++;
        expect(res, `${r.name} ${st.Sid}`).not.toBe("*");
        if (res.startsWith("arn:aws:s3")) expect(allowed.has(res), `${r.name}: ${res}`).toBe(true);
        else expect(keys, `${r.name}: ${res}`).toContain(res);
      }
      for (const a of ([] as string[]).concat(st.Action)) expect(a, `${r.name}: action ${a}`).not.toMatch(/\*/);
    }
  }
  expect(checked).toBeGreaterThan(0);
}

function rolePolicyOf(rs: Recorded[], name: string, src: string) {
  return JSON.parse(byName(rs, `${name}-${src}-replication`) && rs.find((r) => r.type === ROLE_POLICY && r.name === `${name}-${src}-replication`)!.inputs.policy);
}

function statement(doc: any, sid: string) {
  const st = doc.Statement.find((s: any) => s.Sid === sid);
  expect(st, sid).toBeDefined();
  return st;
}

function config(rs: Recorded[], name: string, src: string): Recorded {
  return rs.find((r) => r.type === REPLICATION && r.name === `${name}-${src}-replication`)!;
}

describe("one-to-one", () => {
  let rs: Recorded[];
  const name = "o2o";
  beforeAll(async () => {
    rs = await runPlan(
      name,
      { buckets: { a: aws("bkt-a", "eu-west-1"), b: aws("bkt-b", "us-east-1") }, links: [{ kind: "one-to-one", from: "a", to: "b" }] },
      [edge("a", "b", 0)],
    );
  });

  it("creates each bucket in its own region with public access blocked and encryption on", () => {
    const buckets = ofType(rs, "aws:s3/bucket:Bucket");
    expect(buckets.map((b) => [b.inputs.bucket, b.inputs.region]).sort()).toEqual([["bkt-a", "eu-west-1"], ["bkt-b", "us-east-1"]]);
    const pabs = ofType(rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    expect(pabs).toHaveLength(2);
    for (const p of pabs) {
      expect(p.inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    }
    const sse = ofType(rs, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    expect(sse.map((s) => s.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm)).toEqual(["AES256", "AES256"]);
  });

  it("enables versioning on source and destination, in their regions", () => {
    const v = ofType(rs, VERSIONING);
    expect(v.map((x) => [x.inputs.bucket, x.inputs.region, x.inputs.versioningConfiguration.status]).sort()).toEqual([
      ["bkt-a", "eu-west-1", "Enabled"],
      ["bkt-b", "us-east-1", "Enabled"],
    ]);
  });

  it("puts exactly one replication config on the source, depending on both versionings and the role policy", () => {
    const configs = ofType(rs, REPLICATION);
    expect(configs).toHaveLength(1);
    const c = configs[0];
    expect(c.inputs.bucket).toBe("bkt-a");
    expect(c.inputs.region).toBe("eu-west-1");
    expect(c.inputs.role).toBe(`arn:aws:iam::${ACCOUNT}:role/${name}-a-replication`);
    expect(c.dependsOn).toEqual(expect.arrayContaining([`${name}-a-versioning`, `${name}-b-versioning`, `${name}-a-replication`]));
    expect(c.inputs.rules).toHaveLength(1);
    const rule = c.inputs.rules[0];
    expect(rule).toMatchObject({ status: "Enabled", filter: {}, deleteMarkerReplication: { status: "Disabled" }, destination: { bucket: "arn:aws:s3:::bkt-b" } });
    expect(rule.sourceSelectionCriteria).toBeUndefined();
    expect(rule.destination.account).toBeUndefined();
  });

  it("trusts s3.amazonaws.com and grants exactly the replication actions on exact ARNs", () => {
    const role = rs.find((r) => r.type === ROLE && r.name === `${name}-a-replication`)!;
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    const doc = rolePolicyOf(rs, name, "a");
    expect(statement(doc, "SourceBucket")).toMatchObject({ Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: "arn:aws:s3:::bkt-a" });
    expect(statement(doc, "SourceObjects")).toMatchObject({
      Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
      Resource: "arn:aws:s3:::bkt-a/*",
    });
    expect(statement(doc, "DestinationObjects")).toMatchObject({
      Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
      Resource: ["arn:aws:s3:::bkt-b/*"],
    });
    expect(doc.Statement).toHaveLength(3);
    assertExactResources(rs, ["bkt-a", "bkt-b"]);
  });

  it("creates no backfill for buckets it created (they are empty)", () => {
    expect(ofType(rs, BATCH)).toHaveLength(0);
  });
});

describe("bidirectional with deletes and prefix", () => {
  let rs: Recorded[];
  const name = "bidi";
  beforeAll(async () => {
    rs = await runPlan(
      name,
      {
        buckets: { a: aws("bkt-a", "eu-west-1"), b: aws("bkt-b", "us-east-1") },
        links: [{ kind: "bidirectional", between: ["a", "b"], prefix: "data/", deletes: true }],
      },
      [
        edge("a", "b", 0, { kind: "bidirectional", deletes: true, sourcePrefix: "data/", targetPrefix: "data/" }),
        edge("b", "a", 0, { kind: "bidirectional", deletes: true, sourcePrefix: "data/", targetPrefix: "data/" }),
      ],
    );
  });

  it("one config per direction, each with replica modifications, delete markers and the prefix", () => {
    const configs = ofType(rs, REPLICATION);
    expect(configs.map((c) => c.inputs.bucket).sort()).toEqual(["bkt-a", "bkt-b"]);
    for (const c of configs) {
      const [rule] = c.inputs.rules;
      expect(rule.filter).toEqual({ prefix: "data/" });
      expect(rule.deleteMarkerReplication).toEqual({ status: "Enabled" });
      expect(rule.sourceSelectionCriteria).toEqual({ replicaModifications: { status: "Enabled" } });
    }
    expect(config(rs, name, "a").dependsOn).toEqual(expect.arrayContaining([`${name}-a-versioning`, `${name}-b-versioning`]));
    expect(config(rs, name, "b").dependsOn).toEqual(expect.arrayContaining([`${name}-a-versioning`, `${name}-b-versioning`]));
  });

  it("one versioning per bucket even though both are source and destination", () => {
    expect(ofType(rs, VERSIONING)).toHaveLength(2);
    expect(ofType(rs, ROLE).filter((r) => r.name.endsWith("-replication"))).toHaveLength(2);
    assertExactResources(rs, ["bkt-a", "bkt-b"]);
  });
});

describe("fan-out", () => {
  let rs: Recorded[];
  const name = "fanout";
  beforeAll(async () => {
    rs = await runPlan(
      name,
      {
        buckets: { src: aws("bkt-src", "eu-west-1"), d1: aws("bkt-d1", "us-east-1"), d2: aws("bkt-d2", "us-west-2"), d3: aws("bkt-d3", "eu-central-1") },
        links: [{ kind: "fan-out", from: "src", to: ["d1", "d2", "d3"], deletes: true }],
      },
      ["d1", "d2", "d3"].map((d) => edge("src", d, 0, { kind: "fan-out", deletes: true })),
    );
  });

  it("groups every outgoing edge into ONE config with one rule per destination and unique priorities", () => {
    const configs = ofType(rs, REPLICATION);
    expect(configs).toHaveLength(1);
    const rules = configs[0].inputs.rules;
    expect(rules.map((r: any) => r.destination.bucket)).toEqual(["arn:aws:s3:::bkt-d1", "arn:aws:s3:::bkt-d2", "arn:aws:s3:::bkt-d3"]);
    expect(new Set(rules.map((r: any) => r.priority)).size).toBe(3);
    expect(new Set(rules.map((r: any) => r.id)).size).toBe(3);
    for (const r of rules) expect(r.deleteMarkerReplication).toEqual({ status: "Enabled" });
  });

  it("depends on the versioning of the source and of every destination", () => {
    expect(configs(rs)[0].dependsOn).toEqual(
      expect.arrayContaining(["src", "d1", "d2", "d3"].map((b) => `${name}-${b}-versioning`)),
    );
    expect(ofType(rs, VERSIONING)).toHaveLength(4);
  });

  it("grants replicate actions on every destination and nothing else", () => {
    const doc = rolePolicyOf(rs, name, "src");
    expect(statement(doc, "DestinationObjects").Resource).toEqual(["arn:aws:s3:::bkt-d1/*", "arn:aws:s3:::bkt-d2/*", "arn:aws:s3:::bkt-d3/*"]);
    assertExactResources(rs, ["bkt-src", "bkt-d1", "bkt-d2", "bkt-d3"]);
  });
});

function configs(rs: Recorded[]) {
  return ofType(rs, REPLICATION);
}

describe("fan-in", () => {
  let rs: Recorded[];
  const name = "fanin";
  beforeAll(async () => {
    rs = await runPlan(
      name,
      {
        buckets: { s1: aws("bkt-s1", "eu-west-1"), s2: aws("bkt-s2", "us-east-1"), t: aws("bkt-t", "us-west-2") },
        links: [{ kind: "fan-in", from: ["s1", "s2"], to: "t", prefix: "logs/" }],
      },
      ["s1", "s2"].map((s) => edge(s, "t", 0, { kind: "fan-in", sourcePrefix: "logs/", targetPrefix: "logs/" })),
    );
  });

  it("one config per source, each to the shared target, target versioned once", () => {
    const cs = configs(rs);
    expect(cs.map((c) => c.inputs.bucket).sort()).toEqual(["bkt-s1", "bkt-s2"]);
    for (const c of cs) {
      expect(c.inputs.rules).toHaveLength(1);
      expect(c.inputs.rules[0].filter).toEqual({ prefix: "logs/" });
      expect(c.inputs.rules[0].deleteMarkerReplication).toEqual({ status: "Disabled" });
      expect(c.dependsOn).toContain(`${name}-t-versioning`);
    }
    expect(ofType(rs, VERSIONING).filter((v) => v.inputs.bucket === "bkt-t")).toHaveLength(1);
    assertExactResources(rs, ["bkt-s1", "bkt-s2", "bkt-t"]);
  });

  it("rejects per-source target prefixes: S3 does not rewrite keys", async () => {
    const parent = testParent("fanin-bad");
    const args: ReplicationTopologyArgs = { buckets: { s1: aws("x1", "eu-west-1"), t: aws("xt", "eu-west-1") }, links: [{ kind: "fan-in", from: ["s1"], to: "t" }] };
    const ctx = { parent, name: "fanin-bad", args, plan: { edges: [edge("s1", "t", 0, { sourcePrefix: "", targetPrefix: "s1/" })] } };
    expect(() => deployAwsNative(ctx, declareBuckets(ctx))).toThrow(/does not rewrite keys/);
  });
});

describe("SSE-KMS", () => {
  let rs: Recorded[];
  const name = "kms";
  beforeAll(async () => {
    rs = await runPlan(
      name,
      {
        buckets: { a: aws("bkt-a", "eu-west-1", { kmsKeyArn: KEY_A }), b: aws("bkt-b", "us-east-1", { kmsKeyArn: KEY_B }) },
        links: [{ kind: "one-to-one", from: "a", to: "b" }],
      },
      [edge("a", "b", 0)],
    );
  });

  it("default encryption uses each bucket's key with a bucket key", () => {
    const sse = ofType(rs, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
    expect(sse.map((s) => s.inputs.rules[0]).sort((x: any, y: any) => x.applyServerSideEncryptionByDefault.kmsMasterKeyId.localeCompare(y.applyServerSideEncryptionByDefault.kmsMasterKeyId))).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_A }, bucketKeyEnabled: true },
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_B }, bucketKeyEnabled: true },
    ]);
  });

  it("replicates SSE-KMS objects, re-encrypting with the destination key", () => {
    const [rule] = configs(rs)[0].inputs.rules;
    expect(rule.sourceSelectionCriteria).toEqual({ sseKmsEncryptedObjects: { status: "Enabled" } });
    expect(rule.destination.encryptionConfiguration).toEqual({ replicaKmsKeyId: KEY_B });
  });

  it("grants kms:Decrypt on the source key and kms:Encrypt on the destination key, via S3 in their regions only", () => {
    const doc = rolePolicyOf(rs, name, "a");
    const dec = statement(doc, "DecryptSource");
    expect(dec).toMatchObject({ Action: ["kms:Decrypt"], Resource: KEY_A });
    expect(dec.Condition.StringEquals).toEqual({ "kms:ViaService": "s3.eu-west-1.amazonaws.com" });
    expect(dec.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"]).toEqual(["arn:aws:s3:::bkt-a", "arn:aws:s3:::bkt-a/*"]);
    const enc = doc.Statement.find((s: any) => s.Action.includes("kms:Encrypt"));
    expect(enc).toMatchObject({ Resource: KEY_B, Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } } });
    assertExactResources(rs, ["bkt-a", "bkt-b"], [KEY_A, KEY_B]);
  });

  it("refuses a KMS source whose destination has no key", () => {
    const parent = testParent("kms-bad");
    const args: ReplicationTopologyArgs = {
      buckets: { a: aws("y-a", "eu-west-1", { kmsKeyArn: KEY_A }), b: aws("y-b", "us-east-1") },
      links: [{ kind: "one-to-one", from: "a", to: "b" }],
    };
    const ctx = { parent, name: "kms-bad", args, plan: { edges: [edge("a", "b", 0)] } };
    expect(() => deployAwsNative(ctx, declareBuckets(ctx))).toThrow(/set kmsKeyArn on "b"/);
  });
});

describe("cross-account", () => {
  let rs: Recorded[];
  const name = "xacct";
  beforeAll(async () => {
    rs = await runPlan(
      name,
      {
        buckets: {
          a: aws("bkt-a", "eu-west-1", { accountId: "111111111111" }),
          b: aws("bkt-b", "us-east-1", { accountId: "222222222222", create: false }),
        },
        links: [{ kind: "one-to-one", from: "a", to: "b" }],
      },
      [edge("a", "b", 0)],
    );
  });

  it("sets destination.account and hands object ownership to the destination", () => {
    const [rule] = configs(rs)[0].inputs.rules;
    expect(rule.destination).toMatchObject({ account: "222222222222", accessControlTranslation: { owner: "Destination" } });
  });

  it("adds a destination bucket policy granting the source role, and the config waits for it", () => {
    const [bp] = ofType(rs, BUCKET_POLICY);
    expect(bp.inputs.bucket).toBe("bkt-b");
    expect(bp.inputs.region).toBe("us-east-1");
    const doc = JSON.parse(bp.inputs.policy);
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/${name}-a-replication`;
    const objects = doc.Statement.find((s: any) => s.Resource === "arn:aws:s3:::bkt-b/*");
    expect(objects.Principal).toEqual({ AWS: roleArn });
    expect(objects.Action).toEqual(expect.arrayContaining(["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"]));
    expect(configs(rs)[0].dependsOn).toContain(`${name}-b-replication-grant`);
    const role = rolePolicyOf(rs, name, "a");
    expect(statement(role, "DestinationOwnerOverride")).toMatchObject({ Action: ["s3:ObjectOwnerOverrideToBucketOwner"], Resource: ["arn:aws:s3:::bkt-b/*"] });
    assertExactResources(rs, ["bkt-a", "bkt-b"]);
  });

  it("does not create the referenced destination bucket, but versions it", () => {
    expect(ofType(rs, "aws:s3/bucket:Bucket").map((b) => b.inputs.bucket)).toEqual(["bkt-a"]);
    expect(ofType(rs, VERSIONING).map((v) => v.inputs.bucket).sort()).toEqual(["bkt-a", "bkt-b"]);
  });
});

describe("RTC, metrics, storage class and backfill", () => {
  let rs: Recorded[];
  const name = "rtc";
  beforeAll(async () => {
    rs = await runPlan(
      name,
      {
        buckets: { a: aws("bkt-a", "eu-west-1", { create: false }), b: aws("bkt-b", "us-east-1"), c: aws("bkt-c", "us-east-1") },
        links: [
          { kind: "one-to-one", from: "a", to: "b", replicationTime: true, storageClass: "STANDARD_IA" },
          { kind: "one-to-one", from: "a", to: "c", metrics: true, backfill: false },
        ],
      },
      [edge("a", "b", 0), edge("a", "c", 1)],
    );
  });

  it("RTC turns metrics on; metrics alone has no RTC; storage class passes through", () => {
    const [c] = configs(rs);
    const [rb, rc] = c.inputs.rules;
    expect(rb.destination).toMatchObject({
      storageClass: "STANDARD_IA",
      replicationTime: { status: "Enabled", time: { minutes: 15 } },
      metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
    });
    expect(rc.destination.metrics).toEqual({ status: "Enabled", eventThreshold: { minutes: 15 } });
    expect(rc.destination.replicationTime).toBeUndefined();
    expect(rc.destination.storageClass).toBeUndefined();
    expect(rb.priority).not.toBe(rc.priority);
  });

  it("backfills a referenced source with one Batch Replication job after the config exists", () => {
    const jobs = ofType(rs, BATCH);
    expect(jobs).toHaveLength(1);
    const job = jobs[0];
    expect(job.name).toBe(`${name}-a-backfill`);
    expect(job.inputs).toMatchObject({
      accountId: ACCOUNT, region: "eu-west-1", sourceBucket: "bkt-a", destinations: ["bkt-b", "bkt-c"], prefixes: [""],
      owner: `bucket-replication/test/${name}/a`, timeoutMinutes: 60,
    });
    expect(job.inputs.roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/${name}-a-backfill`);
    // The token is computed inside the provider from the inputs, never passed in.
    expect(job.inputs.clientRequestToken).toBeUndefined();
    expect(job.dependsOn).toEqual(expect.arrayContaining([`${name}-a-replication`]));
    expect(JSON.stringify(job.inputs)).not.toMatch(/secret/i);
    const role = rs.find((r) => r.type === ROLE && r.name === `${name}-a-backfill`)!;
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal).toEqual({ Service: "batchoperations.s3.amazonaws.com" });
    const pol = JSON.parse(rs.find((r) => r.type === ROLE_POLICY && r.name === `${name}-a-backfill`)!.inputs.policy);
    expect(pol.Statement).toEqual([
      expect.objectContaining({ Action: ["s3:InitiateReplication"], Resource: "arn:aws:s3:::bkt-a/*" }),
      expect.objectContaining({ Action: ["s3:GetReplicationConfiguration", "s3:PutInventoryConfiguration"], Resource: "arn:aws:s3:::bkt-a" }),
    ]);
    assertExactResources(rs, ["bkt-a", "bkt-b", "bkt-c"]);
  });

  it("the CreateJob request replicates never-replicated, failed and already-replicated objects, with the token", () => {
    const req = createJobRequest(
      {
        accountId: ACCOUNT, region: "eu-west-1", sourceBucket: "bkt-a", roleArn: "arn:aws:iam::1:role/r",
        destinations: ["bkt-b"], prefixes: [""], owner: "p/s/t/a",
      },
      "t".repeat(58),
    );
    expect(req).toMatchObject({
      AccountId: ACCOUNT,
      ConfirmationRequired: false,
      ClientRequestToken: "t".repeat(58),
      Operation: { S3ReplicateObject: {} },
      Report: { Enabled: false },
      ManifestGenerator: {
        S3JobManifestGenerator: {
          SourceBucket: "arn:aws:s3:::bkt-a",
          EnableManifestOutput: false,
          Filter: { EligibleForReplication: true, ObjectReplicationStatuses: ["NONE", "FAILED", "COMPLETED"] },
        },
      },
    });
    expect(req.Description.startsWith(`[bucket-replication ${"t".repeat(58)}]`)).toBe(true);
  });
});

describe("a source with its own pulumiProvider", () => {
  it("creates the replication role, its policy, the batch role and its policy with the source's provider", async () => {
    const name = "srcprov";
    const parent = testParent(name);
    const srcProvider = new awsSdk.Provider(`${name}-src-provider`, { region: "eu-west-1" }, { parent });
    const dstProvider = new awsSdk.Provider(`${name}-dst-provider`, { region: "us-east-1" }, { parent });
    const args: ReplicationTopologyArgs = {
      buckets: {
        a: aws("p-a", "eu-west-1", { accountId: "333333333333", create: false, pulumiProvider: srcProvider }),
        b: aws("p-b", "us-east-1", { accountId: "444444444444", create: false, pulumiProvider: dstProvider }),
      },
      links: [{ kind: "one-to-one", from: "a", to: "b" }],
    };
    const ctx = { parent, name, args, plan: { edges: [edge("a", "b", 0)] } };
    deployAwsNative(ctx, declareBuckets(ctx));
    const rs = await settle(name);
    for (const type of [ROLE, ROLE_POLICY]) {
      const found = ofType(rs, type);
      expect(found.map((r) => r.name).sort()).toEqual([`${name}-a-backfill`, `${name}-a-replication`]);
      for (const r of found) expect(r.provider, `${type} ${r.name}`).toBe(`${name}-src-provider`);
    }
    expect(config(rs, name, "a").provider).toBe(`${name}-src-provider`);
    // The destination's resources stay with the destination's provider.
    expect(ofType(rs, BUCKET_POLICY).map((r) => r.provider)).toEqual([`${name}-dst-provider`]);
    expect(byName(rs, `${name}-b-versioning`).provider).toBe(`${name}-dst-provider`);
  });
});

describe("through ReplicationTopology and planTopology", () => {
  it("plans aws-native for an AWS bidirectional link and builds the configs", async () => {
    const name = "e2e";
    const topo = new ReplicationTopology(
      name,
      {
        buckets: { a: aws("e2e-a", "eu-west-1"), b: aws("e2e-b", "us-east-1"), c: aws("e2e-c", "us-west-2") },
        links: [
          { kind: "bidirectional", between: ["a", "b"], deletes: true },
          { kind: "one-to-one", from: "a", to: "c", prefix: "p/" },
        ],
      },
      captureOpts,
    );
    expect(topo.plan.edges.map((e) => e.mechanism)).toEqual(["aws-native", "aws-native", "aws-native"]);
    const rs = await settle(name);
    const cs = configs(rs);
    expect(cs.map((c) => c.inputs.bucket).sort()).toEqual(["e2e-a", "e2e-b"]);
    const a = cs.find((c) => c.inputs.bucket === "e2e-a")!;
    expect(a.inputs.rules).toHaveLength(2);
    const toB = a.inputs.rules.find((r: any) => r.destination.bucket === "arn:aws:s3:::e2e-b");
    const toC = a.inputs.rules.find((r: any) => r.destination.bucket === "arn:aws:s3:::e2e-c");
    expect(toB.sourceSelectionCriteria).toEqual({ replicaModifications: { status: "Enabled" } });
    expect(toB.deleteMarkerReplication).toEqual({ status: "Enabled" });
    expect(toC.filter).toEqual({ prefix: "p/" });
    expect(toC.deleteMarkerReplication).toEqual({ status: "Disabled" });
    expect(toC.sourceSelectionCriteria).toBeUndefined();
    expect(a.dependsOn).toEqual(expect.arrayContaining(["a", "b", "c"].map((x) => `${name}-${x}-versioning`)));
    assertExactResources(rs, ["e2e-a", "e2e-b", "e2e-c"]);
  });
});
