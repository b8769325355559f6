// Planner rules for the seeds' other providers (issue 17): Alibaba Cloud OSS native replication
// where OSS gives exactly the asked semantics, the runner otherwise; Linode always the runner.
import { describe, expect, it } from "vitest";
import type { AlicloudBucketSpec, LinkSpec, LinodeBucketSpec } from "../../components/plan/types.js";
import { linodeS3Endpoint, ossS3Endpoint } from "../../components/plan/endpoints.js";
import { planRunnerConfig } from "../../components/deploy/runner-config.js";
import { validateConfig } from "../../runner/config/validate.js";
import { aws, expectPlanError, plan } from "./helpers.js";

const oss = (bucket: string, region = "cn-hangzhou", extra: Partial<AlicloudBucketSpec> = {}): AlicloudBucketSpec => ({ provider: "alicloud", bucket, region, ...extra });
const linode = (bucket: string, region = "us-east", extra: Partial<LinodeBucketSpec> = {}): LinodeBucketSpec => ({ provider: "linode", bucket, region, ...extra });
const one = (from: string, to: string, extra: Partial<LinkSpec> = {}): LinkSpec => ({ kind: "one-to-one", from, to, ...extra }) as LinkSpec;

describe("alicloud → alicloud", () => {
  it("cross-region is alicloud-native; deletes: true means action ALL", () => {
    const { edges } = plan({ a: oss("oss-a"), b: oss("oss-b", "cn-beijing") }, [one("a", "b", { deletes: true })]);
    expect(edges[0].mechanism).toBe("alicloud-native");
    expect(edges[0].reason).toMatch(/Cross-Region Replication from cn-hangzhou to cn-beijing/);
    expect(edges[0].reason).toMatch(/action ALL/);
    expect(edges[0].reason).not.toMatch(/oss_acc/);
  });

  it("same region is Same-Region Replication; deletes: false means action PUT", () => {
    const { edges } = plan({ a: oss("oss-a"), b: oss("oss-b") }, [one("a", "b")]);
    expect(edges[0].mechanism).toBe("alicloud-native");
    expect(edges[0].reason).toMatch(/Same-Region Replication in cn-hangzhou/);
    expect(edges[0].reason).toMatch(/not replicated \(action PUT\)/);
  });

  it("a prefix is a native prefix filter", () => {
    const { edges } = plan({ a: oss("oss-a"), b: oss("oss-b", "eu-central-1") }, [one("a", "b", { prefix: "logs/" })]);
    expect(edges[0].mechanism).toBe("alicloud-native");
    expect(edges[0].reason).toContain('under "logs/"');
  });

  it("mainland China ↔ abroad replicates over transfer acceleration (said in the reason); Hong Kong ↔ abroad does not", () => {
    const { edges } = plan({ a: oss("oss-a"), b: oss("oss-b", "eu-central-1"), c: oss("oss-c", "cn-hongkong") }, [one("a", "b"), one("c", "b")]);
    expect(edges.map((e) => e.mechanism)).toEqual(["alicloud-native", "alicloud-native"]);
    expect(edges[0].reason).toMatch(/transfer-acceleration link \(oss_acc\)/);
    expect(edges[1].reason).not.toMatch(/oss_acc/);
  });

  it("versioning must match on both buckets, else the runner, naming both and the fix", () => {
    const { edges } = plan({ a: oss("oss-a", "cn-hangzhou", { versioning: true }), b: oss("oss-b", "cn-beijing") }, [one("a", "b")]);
    expect(edges[0].mechanism).toBe("runner");
    expect(edges[0].reason).toMatch(/both buckets versioned or both unversioned, and a is versioned while b is not.*set versioning the same on both/);
    const both = plan({ a: oss("oss-a", "cn-hangzhou", { versioning: true }), b: oss("oss-b", "cn-beijing", { versioning: true }) }, [one("a", "b", { deletes: true })]);
    expect(both.edges[0].mechanism).toBe("alicloud-native");
    expect(both.edges[0].reason).toMatch(/as delete markers/);
  });

  it("bidirectional needs the runner: OSS rules are one-way and resolve no conflicts", () => {
    const { edges } = plan({ a: oss("oss-a"), b: oss("oss-b", "cn-beijing") }, [{ kind: "bidirectional", between: ["a", "b"] }]);
    expect(edges.map((e) => e.mechanism)).toEqual(["runner", "runner"]);
    expect(edges[0].reason).toMatch(/one-way and resolve no conflicts/);
  });

  it("fan-in with targetPrefixes needs the runner (OSS keeps keys); without, it is native", () => {
    const buckets = { a: oss("oss-a"), b: oss("oss-b", "cn-shanghai"), c: oss("oss-c", "cn-beijing") };
    const rewritten = plan(buckets, [{ kind: "fan-in", from: ["a", "b"], to: "c", targetPrefixes: { a: "from-a/", b: "from-b/" } }]);
    expect(rewritten.edges.map((e) => e.mechanism)).toEqual(["runner", "runner"]);
    expect(rewritten.edges[0].reason).toMatch(/OSS replication keeps keys unchanged/);
    const plain = plan(buckets, [{ kind: "fan-in", from: ["a", "b"], to: "c" }]);
    expect(plain.edges.map((e) => e.mechanism)).toEqual(["alicloud-native", "alicloud-native"]);
  });

  it("fan-out: at most 100 rules per source bucket, the rest use the runner", () => {
    const buckets: Record<string, AlicloudBucketSpec> = { src: oss("oss-src") };
    const to: string[] = [];
    for (let i = 0; i < 102; i++) {
      buckets[`t${i}`] = oss(`oss-t${i}`, "cn-beijing");
      to.push(`t${i}`);
    }
    const { edges } = plan(buckets, [{ kind: "fan-out", from: "src", to }]);
    expect(edges.filter((e) => e.mechanism === "alicloud-native")).toHaveLength(100);
    expect(edges.slice(100).map((e) => e.mechanism)).toEqual(["runner", "runner"]);
    expect(edges[100].reason).toMatch(/100 replication rules per source bucket/);
  });

  it("mechanism: runner forces the runner; native where impossible is an error naming why", () => {
    const { edges } = plan({ a: oss("oss-a"), b: oss("oss-b", "cn-beijing") }, [one("a", "b", { mechanism: "runner" })]);
    expect(edges[0].mechanism).toBe("runner");
    expectPlanError({ buckets: { a: oss("oss-a"), b: oss("oss-b", "cn-beijing") }, links: [{ kind: "bidirectional", between: ["a", "b"], mechanism: "native" }] },
      "links[0].mechanism", /"native" is impossible for a→b: OSS replication rules are one-way/);
  });

  it("OSS ↔ another provider is the runner", () => {
    const { edges } = plan({ a: oss("oss-a"), b: aws("aws-b") }, [one("a", "b")]);
    expect(edges[0].mechanism).toBe("runner");
    expect(edges[0].reason).toMatch(/from Alibaba Cloud OSS to AWS S3/);
  });
});

describe("linode", () => {
  it("linode → linode always uses the runner, with the reason", () => {
    const { edges } = plan({ a: linode("lin-a"), b: linode("lin-b", "eu-central") }, [one("a", "b")]);
    expect(edges[0].mechanism).toBe("runner");
    expect(edges[0].reason).toMatch(/Linode Object Storage has no bucket replication/);
    expectPlanError({ buckets: { a: linode("lin-a"), b: linode("lin-b", "eu-central") }, links: [one("a", "b", { mechanism: "native" })] },
      "links[0].mechanism", /no bucket replication/);
  });

  it("endpoints: the cluster's S3 endpoint, or the override", () => {
    expect(linodeS3Endpoint({ region: "us-east" })).toBe("https://us-east-1.linodeobjects.com");
    expect(linodeS3Endpoint({ region: "se-sto-1" })).toBe("https://se-sto-1.linodeobjects.com");
    expect(linodeS3Endpoint({ region: "us-east", endpoint: "https://us-iad-10.linodeobjects.com" })).toBe("https://us-iad-10.linodeobjects.com");
    expect(ossS3Endpoint({ region: "eu-central-1" })).toBe("https://s3.oss-eu-central-1.aliyuncs.com");
  });
});

describe("validation of alicloud and linode buckets", () => {
  const link = [one("a", "b")];
  it("OSS bucket names (no dots, no uppercase) and region ids", () => {
    expectPlanError({ buckets: { a: oss("my.bucket"), b: oss("oss-b") }, links: link }, "buckets.a.bucket", /not a valid OSS bucket name/);
    expectPlanError({ buckets: { a: oss("oss-a", "oss-cn-hangzhou"), b: oss("oss-b") }, links: link }, "buckets.a.region", /not an Alibaba Cloud region id/, /drop the "oss-" prefix: "cn-hangzhou"/);
    expectPlanError({ buckets: { a: oss("oss-a", "cn-hangzhou", { versioning: "yes" as never }), b: oss("oss-b") }, links: link }, "buckets.a.versioning", /must be true or false/);
    expectPlanError({ buckets: { a: oss("oss-a", "cn-hangzhou", { kmsKeyId: "bad key!" }), b: oss("oss-b") }, links: link }, "buckets.a.kmsKeyId", /not a KMS key id/);
    expectPlanError({ buckets: { a: { provider: "alicloud", bucket: "oss-a" } as never, b: oss("oss-b") }, links: link }, "buckets.a.region", /missing/);
  });

  it("fields of another provider are named as such", () => {
    expectPlanError({ buckets: { a: oss("oss-a", "cn-hangzhou", { namespace: "x" } as never), b: oss("oss-b") }, links: link }, "buckets.a.namespace", /unknown field for an "alicloud" bucket/, /belongs to "oci" buckets/);
    expectPlanError({ buckets: { a: linode("lin-a", "us-east", { credentials: {} } as never), b: linode("lin-b") }, links: link }, "buckets.a.credentials", /unknown field for an "linode" bucket/, /belongs to "s3" buckets/);
  });

  it("known regions with did-you-mean (escape hatch: extraRegions)", () => {
    expectPlanError({ buckets: { a: oss("oss-a", "cn-hangzou"), b: oss("oss-b") }, links: link }, "buckets.a.region", /not a known Alibaba Cloud OSS region/, /did you mean "cn-hangzhou"\?/);
    expectPlanError({ buckets: { a: linode("lin-a", "us-eest"), b: linode("lin-b") }, links: link }, "buckets.a.region", /not a known Linode Object Storage region/, /did you mean "us-east"\?/);
    // a legacy cluster id and a second-generation region are both known
    expect(plan({ a: linode("lin-a", "us-east-1"), b: linode("lin-b", "de-fra-2") }, link).edges[0].mechanism).toBe("runner");
    expect(linodeS3Endpoint({ region: "de-fra-2" })).toBe("https://de-fra-2-1.linodeobjects.com");
  });

  it("linode regions and endpoint overrides", () => {
    expectPlanError({ buckets: { a: linode("lin-a", "Newark"), b: linode("lin-b") }, links: link }, "buckets.a.region", /not a Linode Object Storage region/);
    expectPlanError({ buckets: { a: linode("lin-a", "us-east", { endpoint: "http://us-east-1.linodeobjects.com" }), b: linode("lin-b") }, links: link }, "buckets.a.endpoint", /plain http/);
    expectPlanError({ buckets: { a: linode("LinA"), b: linode("lin-b") }, links: link }, "buckets.a.bucket", /not a valid S3 bucket name/);
  });

  it("the same bucket twice: OSS names are global, Linode names per region", () => {
    expectPlanError({ buckets: { a: oss("oss-a"), b: oss("oss-a", "cn-beijing") }, links: link }, "buckets.b.bucket", /names the same bucket as buckets\.a/);
    expectPlanError({ buckets: { a: linode("lin-a", "us-east"), b: linode("lin-a", "us-east-1") }, links: link }, "buckets.b.bucket", /names the same bucket as buckets\.a/);
    expect(plan({ a: linode("lin-a", "us-east"), b: linode("lin-a", "eu-central") }, link).edges[0].mechanism).toBe("runner");
  });
});

describe("runner config for OSS and Linode edges", () => {
  it("OSS through s3.oss-<region>.aliyuncs.com virtual-hosted, Linode through the cluster endpoint; the runner's validator accepts it", () => {
    const args = {
      buckets: { a: oss("oss-a"), b: aws("aws-b"), c: linode("lin-c"), d: linode("lin-d", "eu-central") },
      links: [one("a", "b"), one("c", "d", { deletes: true })],
    };
    const p = plan(args.buckets, args.links);
    const { config, endpointOf } = planRunnerConfig(args, p, { state: { dir: "/var/lib/bucket-replication" }, staticKeys: (_id, s) => s.provider !== "aws" });
    const ep = (id: string) => config.endpoints[endpointOf[id]];
    expect(ep("a")).toMatchObject({ endpoint: "https://s3.oss-cn-hangzhou.aliyuncs.com", region: "cn-hangzhou", forcePathStyle: false });
    expect(ep("a").credentials).toEqual({ file: `/run/bucket-replication/credentials/${endpointOf.a}.json` });
    expect(ep("c")).toMatchObject({ endpoint: "https://us-east-1.linodeobjects.com", region: "us-east-1", forcePathStyle: true });
    expect(ep("d")).toMatchObject({ endpoint: "https://eu-central-1.linodeobjects.com", region: "eu-central-1" });
    // Static keys from a credentials file per endpoint entry (the deployment writes the one limited
    // Linode key into each Linode entry's file).
    expect(ep("c").credentials).toEqual({ file: `/run/bucket-replication/credentials/${endpointOf.c}.json` });
    expect(ep("d").credentials).toEqual({ file: `/run/bucket-replication/credentials/${endpointOf.d}.json` });
    expect(endpointOf.c).not.toBe(endpointOf.d);
    expect(() => validateConfig(JSON.parse(JSON.stringify(config)))).not.toThrow();
  });
});
