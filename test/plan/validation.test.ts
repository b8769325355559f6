// Validation rules: each error names where (link index / bucket id and field), what, and the fix,
// and nothing is planned.
import { describe, expect, it } from "vitest";
import { TopologyError, planTopology } from "../../components/plan/index.js";
import { aws, expectPlanError, oci, s3 } from "./helpers.js";

const buckets = { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1"), c: aws("bucket-c", "eu-central-1") };

describe("issue 2 validation rules", () => {
  it("an unknown bucket id names the link, the field and suggests the id", () => {
    expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: "b" }, { kind: "one-to-one", from: "a", to: "cc" }] },
      "links[1].to", /unknown bucket id "cc"/, /did you mean "c"\?/);
  });

  it("a self-link names the field and the fix", () => {
    const m = expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: "a" }] }, "links[0].to",
      /from and to are both "a" \(a self-link\)/, /^Fix: point links\[0\]\.to at a bucket other than "a"; replication needs two buckets\.$/);
    expect(m).not.toMatch(/point to at/);
    expectPlanError({ buckets, links: [{ kind: "fan-out", from: "a", to: ["b", "a"] }] }, "links[0].to", /source "a" as a target/, /remove "a" from to/);
    expectPlanError({ buckets, links: [{ kind: "fan-in", from: ["b", "a"], to: "a" }] }, "links[0].from", /target "a" as a source/, /remove "a" from from/);
    expectPlanError({ buckets, links: [{ kind: "bidirectional", between: ["b", "b"] }] }, "links[0].between", /both entries are "b" \(a self-link\)/,
      /replace one of them in links\[0\]\.between with a bucket other than "b"/);
  });

  it("the same directed edge produced by two links names both fields and how to drop it from either", () => {
    // bidirectional after fan-out
    expectPlanError({ buckets, links: [{ kind: "fan-out", from: "a", to: ["b", "c"] }, { kind: "bidirectional", between: ["c", "a"] }] },
      "links[1].between", /a→c is already produced by links\[0\]\.to \(a fan-out link\)/,
      /keep one link for a→c: remove links\[1\] \(a bidirectional link always makes both directions\), or remove "c" from links\[0\]\.to/);
    // one-to-one after fan-in
    expectPlanError({ buckets, links: [{ kind: "fan-in", from: ["a", "b"], to: "c", targetPrefixes: { a: "a/", b: "b/" } }, { kind: "one-to-one", from: "b", to: "c" }] },
      "links[1].to", /b→c is already produced by links\[0\]\.from \(a fan-in link\)/, /remove links\[1\], or remove "b" from links\[0\]\.from/);
    // fan-in after one-to-one
    expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: "c" }, { kind: "fan-in", from: ["a", "b"], to: "c", targetPrefixes: { a: "a/", b: "b/" } }] },
      "links[1].from", /a→c is already produced by links\[0\]\.to \(a one-to-one link\)/, /remove "a" from links\[1\]\.from, or remove links\[0\]/);
  });

  it("an empty to/from list", () => {
    expectPlanError({ buckets, links: [{ kind: "fan-out", from: "a", to: [] }] }, "links[0].to", /empty list/, /at least one target/);
    expectPlanError({ buckets, links: [{ kind: "fan-in", from: [], to: "a" }] }, "links[0].from", /empty list/, /at least one source/);
  });

  it("overlap: a one-way edge with deletes over a prefix another link writes (seed 000 data loss)", () => {
    expectPlanError(
      { buckets, links: [{ kind: "one-to-one", from: "a", to: "c", deletes: true, prefix: "data/" }, { kind: "one-to-one", from: "b", to: "c", prefix: "data/b/" }] },
      "links[0].deletes", /a→c deletes under "data\/" of c, which overlaps "data\/b\/" where links\[1\] \(b→c\) also writes; each sync would delete the other's objects/,
      /own prefix.*or set links\[0\]\.deletes: false/,
    );
  });

  it("overlap: a bidirectional pair counts as a writer into both of its buckets", () => {
    expectPlanError(
      { buckets, links: [{ kind: "bidirectional", between: ["a", "b"] }, { kind: "one-to-one", from: "c", to: "a", deletes: true }] },
      "links[1].deletes", /c→a deletes under "" of a, where links\[0\] \(b→a, bidirectional\) also writes/,
    );
  });

  it("overlap: disjoint prefixes are fine, and so is a second writer when nobody deletes", () => {
    const ok = planTopology({ buckets, links: [
      { kind: "one-to-one", from: "a", to: "c", deletes: true, prefix: "a/" },
      { kind: "one-to-one", from: "b", to: "c", deletes: true, prefix: "b/" },
    ] });
    expect(ok.edges).toHaveLength(2);
    expect(planTopology({ buckets, links: [{ kind: "fan-in", from: ["a", "b"], to: "c" }] }).edges).toHaveLength(2);
  });

  it("fan-in with deletes and no targetPrefixes (the usual case)", () => {
    expectPlanError({ buckets, links: [{ kind: "fan-in", from: ["a", "b"], to: "c", deletes: true }] },
      "links[0].targetPrefixes", /sources "a" and "b" both land under "" of "c", so each sync would delete the other's objects/,
      /targetPrefixes: \{ a: "a\/", b: "b\/" \}, or set deletes: false/);
  });

  it("fan-in targetPrefixes that nest, with deletes", () => {
    expectPlanError({ buckets, links: [{ kind: "fan-in", from: ["a", "b"], to: "c", deletes: true, targetPrefixes: { a: "in/", b: "in/b/" } }] },
      "links[0].targetPrefixes", /both land under "in\/" and "in\/b\/"/);
  });

  it("a missing required field for the provider", () => {
    expectPlanError({ buckets: { ...buckets, o: { provider: "oci", bucket: "b-o", region: "uk-london-1", namespace: "ns1" } }, links: [] },
      "buckets.o.compartmentId", /missing \(required for "oci" buckets\)/, /ocid1\.compartment/);
    expectPlanError({ buckets: { l: { provider: "s3", bucket: "b-l" } }, links: [] }, "buckets.l.endpoint", /missing/, /https:\/\//);
    expectPlanError({ buckets: { x: { provider: "aws", region: "us-east-1" } }, links: [] }, "buckets.x.bucket", /missing/, /bucket's name/);
  });

  it("nothing is planned: the error is a TopologyError listing every problem", () => {
    try {
      planTopology({ buckets, links: [{ kind: "one-to-one", from: "a", to: "zz" }, { kind: "fan-out", from: "a", to: [] }] } as never);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TopologyError);
      expect((e as TopologyError).problems).toHaveLength(2);
      // Every problem explained, each on its own line with its field and fix.
      const lines = (e as Error).message.split("\n");
      expect(lines[0]).toBe("Invalid replication topology (2 problems):");
      expect(lines[1]).toMatch(/^  links\[0\]\.to: unknown bucket id "zz" as target\. Fix: /);
      expect(lines[2]).toMatch(/^  links\[1\]\.to: empty list\. Fix: list at least one target bucket id\.$/);
      expect((e as TopologyError).issues.map((i) => i.path)).toEqual(["links[0].to", "links[1].to"]);
    }
  });
});

describe("bucket spec validation", () => {
  it("unknown provider, with a suggestion", () => {
    expectPlanError({ buckets: { a: { provider: "AWS", bucket: "bucket-a", region: "us-east-1" } }, links: [] }, "buckets.a.provider", /unknown provider "AWS"/, /did you mean "aws"/);
  });
  it("unknown field (typo) in a bucket", () => {
    expectPlanError({ buckets: { a: { provider: "aws", bucket: "bucket-a", region: "us-east-1", acountId: "123456789012" } }, links: [] },
      "buckets.a.acountId", /unknown field/, /did you mean "accountId"/);
  });
  it("a field of another provider", () => {
    expectPlanError({ buckets: { a: { provider: "aws", bucket: "bucket-a", region: "us-east-1", namespace: "ns" } }, links: [] },
      "buckets.a.namespace", /unknown field/, /belongs to "oci" buckets/);
  });
  it("S3 bucket-name rules", () => {
    expectPlanError({ buckets: { a: aws("Bucket_A") }, links: [] }, "buckets.a.bucket", /not a valid S3 bucket name/, /naming rules/);
    expectPlanError({ buckets: { a: aws("ab") }, links: [] }, "buckets.a.bucket", /3 to 63/);
    expectPlanError({ buckets: { a: aws("192.168.1.1") }, links: [] }, "buckets.a.bucket", /IP address/);
    expectPlanError({ buckets: { a: aws("xn--bucket") }, links: [] }, "buckets.a.bucket", /AWS reserves/);
  });
  it("OCI bucket-name rules", () => {
    expect(planTopology({ buckets: { o: oci("Test_Bucket.London-1") }, links: [] }).edges).toEqual([]);
    expectPlanError({ buckets: { o: oci("test bucket") }, links: [] }, "buckets.o.bucket", /not a valid OCI bucket name/);
  });
  it("region names: known regions only, with a did-you-mean", () => {
    expectPlanError({ buckets: { a: aws("bucket-a", "useast1") }, links: [] }, "buckets.a.region", /"useast1" is not a known AWS region/, /did you mean "us-east-1"\?/);
    expectPlanError({ buckets: { o: oci("b-o", "London") }, links: [] }, "buckets.o.region", /not a known OCI region/, /uk-london-1/);
  });
  it("types: accountId must be a quoted 12-digit string", () => {
    expectPlanError({ buckets: { a: aws("bucket-a", "us-east-1", { accountId: 123456789012 as never }) }, links: [] }, "buckets.a.accountId", /12-digit string, got a number/, /quotes/);
  });
  it("OCI compartment OCID and namespace", () => {
    expectPlanError({ buckets: { o: oci("b-o", "uk-london-1", { compartmentId: "sandbox-london" }) }, links: [] }, "buckets.o.compartmentId", /not a compartment OCID/);
    expectPlanError({ buckets: { o: oci("b-o", "uk-london-1", { namespace: "my namespace" }) }, links: [] }, "buckets.o.namespace", /not an Object Storage namespace/);
  });
  it("endpoint URL: not a URL, a path, plain http to a remote host", () => {
    expectPlanError({ buckets: { l: s3("bucket-l", "eu-central-1.linodeobjects.com") }, links: [] }, "buckets.l.endpoint", /is not a URL/, /scheme/);
    expectPlanError({ buckets: { l: s3("bucket-l", "https://example.com/bucket-l") }, links: [] }, "buckets.l.endpoint", /has a path/, /https:\/\/example\.com/);
    expectPlanError({ buckets: { l: s3("bucket-l", "http://minio.internal:9000") }, links: [] }, "buckets.l.endpoint", /plain http/, /insecure: true/);
    expect(planTopology({ buckets: { l: s3("bucket-l", "http://minio.internal:9000", { insecure: true }), m: s3("bucket-m", "http://127.0.0.1:4568") }, links: [] }).edges).toEqual([]);
  });
  it("credentials: both keys required, values never echoed", () => {
    const msg = expectPlanError({ buckets: { l: s3("bucket-l", undefined, { credentials: { accessKeyId: "AKIA-SECRET-ID" } as never }) }, links: [] },
      "buckets.l.credentials.secretAccessKey", /missing/, /pulumi config set --secret --path/);
    expect(msg).not.toContain("AKIA-SECRET-ID");
  });
  it("two ids for the same physical bucket", () => {
    expectPlanError({ buckets: { a: aws("bucket-a"), a2: aws("bucket-a", "eu-west-1") }, links: [] }, "buckets.a2.bucket", /same bucket as buckets\.a/);
  });
});

describe("link validation", () => {
  it("unknown kind, with a suggestion", () => {
    expectPlanError({ buckets, links: [{ kind: "fanout", from: "a", to: ["b"] }] }, "links[0].kind", /unknown kind "fanout"/, /did you mean "fan-out"/);
  });
  it("unknown link key (typo)", () => {
    expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: "b", delete: true }] }, "links[0].delete", /unknown field for a one-to-one link/, /did you mean "deletes"/);
  });
  it("between must be exactly 2 distinct buckets", () => {
    expectPlanError({ buckets, links: [{ kind: "bidirectional", between: ["a", "b", "c"] }] }, "links[0].between", /exactly 2 bucket ids, got 3/, /one bidirectional link per pair/);
    expectPlanError({ buckets, links: [{ kind: "bidirectional", between: ["a", "a"] }] }, "links[0].between", /self-link/, /a bucket other than "a"/);
  });
  it("targetPrefixes keys must be sources of the link", () => {
    expectPlanError({ buckets, links: [{ kind: "fan-in", from: ["a", "b"], to: "c", targetPrefixes: { a: "a/", bb: "b/" } }] },
      "links[0].targetPrefixes.bb", /not one of this link's sources/, /did you mean "b"/);
  });
  it("conflict only on bidirectional", () => {
    expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: "b", conflict: "newer" }] }, "links[0].conflict", /only to bidirectional links/, /kind: bidirectional/);
  });
  it("prefixes must not start with /", () => {
    expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: "b", prefix: "/logs/" }] }, "links[0].prefix", /starts with "\/"/, /"logs\/"/);
    expectPlanError({ buckets, links: [{ kind: "fan-in", from: ["a", "b"], to: "c", targetPrefixes: { a: "/a/" } }] }, "links[0].targetPrefixes.a", /starts with "\/"/);
  });
  it("a list where one id is expected, and the reverse, point to the right kind", () => {
    expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: ["b", "c"] }] }, "links[0].to", /single target/, /kind: fan-out/);
    expectPlanError({ buckets, links: [{ kind: "fan-out", from: "a", to: "b" }] }, "links[0].to", /takes a list/, /to: \[b\]/);
  });
  it("deletes must be a boolean, mechanism and conflict known values", () => {
    expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: "b", deletes: "yes" }] }, "links[0].deletes", /true or false/);
    expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: "b", mechanism: "rclone" }] }, "links[0].mechanism", /unknown mechanism/, /"auto"/);
    expectPlanError({ buckets, links: [{ kind: "bidirectional", between: ["a", "b"], conflict: "older" }] }, "links[0].conflict", /unknown conflict policy/, /keep-both/);
  });
});

describe("runner section validation", () => {
  const ok = { buckets, links: [] };
  it("platform, region, schedule", () => {
    expectPlanError({ ...ok, runner: { platform: "ec2", region: "us-east-1" } }, "runner.platform", /unknown platform "ec2"/, /aws-ec2/);
    expectPlanError({ ...ok, runner: { platform: "aws-ec2" } }, "runner.region", /missing/);
    expectPlanError({ ...ok, runner: { platform: "aws-ec2", region: "us-east-1", schedule: "every 15 minutes" } }, "runner.schedule", /not a schedule the runner deployment accepts: expected 5 fields, got 3/, /\*\/15/);
    expectPlanError({ ...ok, runner: { platform: "aws-ec2", region: "us-east-1", schedule: "61 * * * *" } }, "runner.schedule", /minute value 61 is outside 0-59/);
  });
  it("platform-specific fields, transfers, alarm topic, unknown keys", () => {
    expectPlanError({ ...ok, runner: { platform: "aws-ec2", region: "us-east-1", shape: "VM.Standard.E5.Flex" } }, "runner.shape", /only to platform oci-compute/);
    expectPlanError({ ...ok, runner: { platform: "aws-ec2", region: "us-east-1", transfers: 0 } }, "runner.transfers", /whole number from 1 to 1024/);
    expectPlanError({ ...ok, runner: { platform: "oci-compute", region: "uk-london-1", alarmTopic: "arn:aws:sns:us-east-1:123456789012:x" } }, "runner.alarmTopic", /ONS topic OCID/);
    expectPlanError({ ...ok, runner: { platform: "aws-ec2", region: "us-east-1", schedul: "0 * * * *" } }, "runner.schedul", /unknown field/, /did you mean "schedule"/);
    // The deploy component splits the network into a private and a NAT half; AWS VPCs are /16 to /28.
    expectPlanError({ ...ok, runner: { platform: "aws-ec2", region: "us-east-1", network: { create: true, cidr: "10.42.0.0/24" } } }, "runner.network.cidr", /\/16 to \/23/, /10\.42\.0\.0\/16/);
    expectPlanError({ ...ok, runner: { platform: "aws-ec2", region: "us-east-1", network: { create: true, cidr: "10.0.0.0/8" } } }, "runner.network.cidr", /\/16 to \/23/);
  });
  it("a complete runner section is accepted", () => {
    expect(planTopology({ ...ok, runner: { platform: "oci-compute", region: "uk-london-1", schedule: "*/10 * * * 1-5", network: { create: true, cidr: "10.0.0.0/23" },
      shape: "VM.Standard.E5.Flex", ocpus: 1, memoryInGbs: 16, compartmentId: "ocid1.compartment.oc1..aaaa", transfers: 16, alarmTopic: "ocid1.onstopic.oc1.uk-london-1.aaaa" } }).edges).toEqual([]);
  });
});

describe("top level", () => {
  it("not an object, missing links, unknown top-level key", () => {
    expectPlanError(null, "topology", /must be an object/, /buckets: \{\.\.\.\}, links: \[\.\.\.\]/);
    expectPlanError({ buckets }, "links", /missing/, /links: \[\]/);
    expectPlanError({ buckets, links: [], link: [] }, "topology.link", /unknown field/, /did you mean "links"/);
  });
});

describe("fields added by the native-replication and runner-deployment modules", () => {
  it("are accepted with the right types", () => {
    expect(planTopology({
      buckets: { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1"), x: s3("bucket-x", "https://sos-ch-dk-2.exo.io", { nativeReplication: "s3-api", replicationRole: "91390068-c386-4d9d-b0f1-951e2baa818e" }) },
      links: [{ kind: "one-to-one", from: "a", to: "b", replicationTime: true, metrics: true, storageClass: "STANDARD_IA", backfill: false }],
      runner: { platform: "oci-compute", region: "uk-london-1", tenancyId: "ocid1.tenancy.oc1..aaaa", vaultId: "ocid1.vault.oc1.uk-london-1.aaaa", vaultKeyId: "ocid1.key.oc1.uk-london-1.aaaa", bundlePath: "dist/runner.mjs", logRetentionDays: 30 },
    }).edges).toHaveLength(1);
  });
  it("are type-checked", () => {
    expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: "b", storageClass: "STANDARD-IA" }] }, "links[0].storageClass", /unknown S3 storage class/, /did you mean "STANDARD_IA"/);
    expectPlanError({ buckets, links: [{ kind: "one-to-one", from: "a", to: "b", backfill: "no" }] }, "links[0].backfill", /true or false/);
    expectPlanError({ buckets, links: [], runner: { platform: "aws-ec2", region: "us-east-1", logRetentionDays: -1 } }, "runner.logRetentionDays", /whole number of days/);
    expectPlanError({ buckets, links: [], runner: { platform: "aws-ec2", region: "us-east-1", vaultId: "ocid1.vault.oc1..x" } }, "runner.vaultId", /only to platform oci-compute/);
  });
});
