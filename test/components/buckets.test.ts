// declareBuckets under Pulumi mocks: created vs referenced, regions, providers, no public access.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { ofType, settle, testParent } from "./native-harness.js";
import type { ReplicationTopologyArgs } from "../../components/plan/types.js";

let declareBuckets: typeof import("../../components/buckets.js").declareBuckets;
beforeAll(async () => {
  ({ declareBuckets } = await import("../../components/buckets.js"));
});

const outputValue = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply((v) => r(v)));

describe("declareBuckets", () => {
  it("creates aws/oci buckets with create (default), references the rest by name with known ARNs", async () => {
    pulumi.runtime.setConfig("oci:region", "eu-frankfurt-1");
    const name = "bk";
    const args: ReplicationTopologyArgs = {
      buckets: {
        a: { provider: "aws", bucket: "new-a", region: "eu-west-1" },
        r: { provider: "aws", bucket: "old-r", region: "us-east-1", create: false },
        o: { provider: "oci", bucket: "new-o", region: "eu-frankfurt-1", namespace: "ns", compartmentId: "ocid1.compartment.oc1..c" },
        p: { provider: "oci", bucket: "new-p", region: "us-ashburn-1", namespace: "ns", compartmentId: "ocid1.compartment.oc1..c" },
        q: { provider: "oci", bucket: "old-q", region: "us-ashburn-1", namespace: "ns", compartmentId: "ocid1.compartment.oc1..c", create: false },
        s: { provider: "s3", bucket: "lin", endpoint: "https://us-east-1.linodeobjects.com" },
      },
      links: [],
    };
    const ctx = { parent: testParent(name), name, args, plan: { edges: [] } };
    const refs = declareBuckets(ctx);
    const rs = await settle(name);

    expect(ofType(rs, "aws:s3/bucket:Bucket").map((b) => [b.name, b.inputs.bucket, b.inputs.region])).toEqual([[`${name}-a`, "new-a", "eu-west-1"]]);
    expect(await outputValue(refs.a.arn!)).toBe("arn:aws:s3:::new-a");
    expect(refs.a.resource).toBeDefined();
    expect(await outputValue(refs.r.name)).toBe("old-r");
    expect(await outputValue(refs.r.arn!)).toBe("arn:aws:s3:::old-r");
    expect(refs.r.resource).toBeUndefined();
    expect(refs.q.resource).toBeUndefined();
    expect(refs.s).toMatchObject({ provider: "s3" });
    expect(await outputValue(refs.s.name)).toBe("lin");

    const pab = ofType(rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    expect(pab.map((p) => [p.inputs.bucket, p.inputs.region, p.inputs.blockPublicAcls, p.inputs.blockPublicPolicy, p.inputs.ignorePublicAcls, p.inputs.restrictPublicBuckets]))
      .toEqual([["new-a", "eu-west-1", true, true, true, true]]);
    expect(ofType(rs, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")).toHaveLength(1);

    const ociBuckets = ofType(rs, "oci:ObjectStorage/bucket:Bucket");
    expect(ociBuckets.map((b) => [b.inputs.name, b.inputs.accessType])).toEqual([["new-o", "NoPublicAccess"], ["new-p", "NoPublicAccess"]]);
    // The stack's region uses the default provider; another region gets its own provider.
    expect(ociBuckets.find((b) => b.inputs.name === "new-o")!.provider).toBeUndefined();
    expect(ociBuckets.find((b) => b.inputs.name === "new-p")!.provider).toBe(`${name}-oci-us-ashburn-1`);
    const providers = ofType(rs, "pulumi:providers:oci");
    expect(providers.map((p) => p.inputs.region)).toEqual(["us-ashburn-1"]);
  });

  it("no bucket anywhere is public", async () => {
    const name = "bk2";
    const args: ReplicationTopologyArgs = {
      buckets: {
        a: { provider: "aws", bucket: "k-a", region: "eu-west-1", kmsKeyArn: "arn:aws:kms:eu-west-1:1:key/k" },
        o: { provider: "oci", bucket: "k-o", region: "eu-frankfurt-1", namespace: "ns", compartmentId: "ocid1.compartment.oc1..c" },
      },
      links: [],
    };
    const ctx = { parent: testParent(name), name, args, plan: { edges: [] } };
    declareBuckets(ctx);
    const rs = await settle(name);
    for (const b of ofType(rs, "aws:s3/bucket:Bucket")) {
      expect(b.inputs.acl).toBeUndefined();
      expect(b.inputs.policy).toBeUndefined();
    }
    for (const b of ofType(rs, "oci:ObjectStorage/bucket:Bucket")) expect(b.inputs.accessType).toBe("NoPublicAccess");
    expect(ofType(rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).toHaveLength(ofType(rs, "aws:s3/bucket:Bucket").length);
  });
});
