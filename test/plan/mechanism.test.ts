// Mechanism rules: one test per planner rule (issue 2, plus s3-native and the provider details).
import { describe, expect, it } from "vitest";
import type { LinkSpec } from "../../components/plan/types.js";
import { aws, expectPlanError, oci, plan, s3, sos } from "./helpers.js";

const one = (from: string, to: string, extra: Partial<LinkSpec> = {}): LinkSpec => ({ kind: "one-to-one", from, to, ...extra }) as LinkSpec;

describe("aws → aws", () => {
  it("is aws-native in any region and account", () => {
    const { edges } = plan(
      { a: aws("bucket-a", "us-east-1", { accountId: "111111111111" }), b: aws("bucket-b", "ap-southeast-2", { accountId: "222222222222" }) },
      [one("a", "b")],
    );
    expect(edges[0].mechanism).toBe("aws-native");
    expect(edges[0].reason).toMatch(/Cross-Region Replication.*across accounts/);
  });

  it("same region is Same-Region Replication", () => {
    const { edges } = plan({ a: aws("bucket-a"), b: aws("bucket-b") }, [one("a", "b")]);
    expect(edges[0].mechanism).toBe("aws-native");
    expect(edges[0].reason).toMatch(/Same-Region Replication/);
  });

  it("supports a prefix filter natively", () => {
    const { edges } = plan({ a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1") }, [one("a", "b", { prefix: "logs/" })]);
    expect(edges[0].mechanism).toBe("aws-native");
    expect(edges[0].reason).toContain('under "logs/"');
  });

  it("with deletes: the reason says deletes are replicated delete markers", () => {
    const { edges } = plan({ a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1") }, [one("a", "b", { deletes: true })]);
    expect(edges[0].mechanism).toBe("aws-native");
    expect(edges[0].reason).toMatch(/delete markers/i);
    expect(edges[0].reason).toMatch(/not permanent deletes of a version/);
  });

  it("bidirectional is aws-native both ways, with no loop", () => {
    const { edges } = plan({ a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1") }, [{ kind: "bidirectional", between: ["a", "b"] }]);
    expect(edges.map((e) => e.mechanism)).toEqual(["aws-native", "aws-native"]);
    expect(edges[0].reason).toMatch(/replica modification sync/);
    expect(edges[0].conflict).toBe("newer");
  });

  it("bidirectional with conflict: keep-both needs the runner (native makes no conflict copies)", () => {
    const { edges } = plan({ a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1") }, [{ kind: "bidirectional", between: ["a", "b"], conflict: "keep-both" }]);
    expect(edges.map((e) => e.mechanism)).toEqual(["runner", "runner"]);
    expect(edges[0].reason).toMatch(/no conflict copies/);
  });

  it("accountId on one bucket only of a native edge is rejected: cross-account cannot be decided", () => {
    const acct = { accountId: "123456789012" };
    // destination without accountId
    expectPlanError({ buckets: { a: aws("bucket-a", "us-east-1", acct), b: aws("bucket-b", "eu-west-1") }, links: [one("a", "b")] },
      "buckets.b.accountId", /missing, while buckets\.a\.accountId is "123456789012" and links\[0\] replicates a→b with S3 Replication; .*cannot tell whether the edge crosses accounts/,
      /set accountId on both buckets \(buckets\.b\.accountId: the 12-digit account that owns "bucket-b"\), or on neither \(remove buckets\.a\.accountId\)/);
    // source without accountId; a bidirectional pair reports the bucket once
    const m = expectPlanError({ buckets: { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1", acct) }, links: [{ kind: "bidirectional", between: ["a", "b"] }] },
      "buckets.a.accountId", /buckets\.b\.accountId is "123456789012"/, /remove buckets\.b\.accountId/);
    expect(m).not.toMatch(/more problem/);
    // only native edges need it: the runner does not care, and both-or-neither is fine
    expect(plan({ a: aws("bucket-a", "us-east-1", acct), b: aws("bucket-b", "eu-west-1") }, [one("a", "b", { mechanism: "runner" })]).edges[0].mechanism).toBe("runner");
    expect(plan({ a: aws("bucket-a", "us-east-1", acct), b: aws("bucket-b", "eu-west-1", { accountId: "210987654321" }) }, [one("a", "b")]).edges[0].reason).toMatch(/across accounts/);
  });

  it("fan-out and fan-in without targetPrefixes stay native", () => {
    const buckets = { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1"), c: aws("bucket-c", "eu-central-1") };
    const out = plan(buckets, [{ kind: "fan-out", from: "a", to: ["b", "c"] }]);
    const inn = plan(buckets, [{ kind: "fan-in", from: ["a", "b"], to: "c" }]);
    expect([...out.edges, ...inn.edges].map((e) => e.mechanism)).toEqual(["aws-native", "aws-native", "aws-native", "aws-native"]);
  });

  it("fan-in with targetPrefixes needs key rewriting, so those edges use the runner", () => {
    const { edges } = plan(
      { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1"), c: aws("bucket-c", "eu-central-1") },
      [{ kind: "fan-in", from: ["a", "b"], to: "c", targetPrefixes: { a: "from-a/" } }],
    );
    expect(edges.map((e) => e.mechanism)).toEqual(["runner", "aws-native"]);
    expect(edges[0].reason).toMatch(/keeps keys unchanged.*targetPrefixes/);
  });
});

describe("oci → oci", () => {
  const two = { lon: oci("test-bucket-london", "uk-london-1"), zrh: oci("test-bucket-zurich", "eu-zurich-1") };

  it("same namespace, one-to-one, deletes wanted: oci-native", () => {
    const { edges } = plan(two, [one("lon", "zrh", { deletes: true })]);
    expect(edges[0].mechanism).toBe("oci-native");
    expect(edges[0].reason).toMatch(/read-only/);
  });

  it("bidirectional: runner, because the native target becomes read-only", () => {
    const { edges } = plan(two, [{ kind: "bidirectional", between: ["lon", "zrh"] }]);
    expect(edges.map((e) => e.mechanism)).toEqual(["runner", "runner"]);
    expect(edges[0].reason).toBe("OCI replication makes the destination read-only, so a bidirectional link needs the runner.");
    expect(edges[0].conflict).toBe("newer");
  });

  it("fan-out: runner (one policy, so one target, per source)", () => {
    const { edges } = plan({ ...two, fra: oci("b-fra", "eu-frankfurt-1") }, [{ kind: "fan-out", from: "lon", to: ["zrh", "fra"], deletes: true }]);
    expect(edges.map((e) => e.mechanism)).toEqual(["runner", "runner"]);
    expect(edges[0].reason).toMatch(/one replication policy per source bucket/);
  });

  it("fan-in: runner (one source per destination)", () => {
    const { edges } = plan({ ...two, fra: oci("b-fra", "eu-frankfurt-1") }, [{ kind: "fan-in", from: ["lon", "fra"], to: "zrh", deletes: true, targetPrefixes: { lon: "lon/", fra: "fra/" } }]);
    expect(edges.map((e) => e.mechanism)).toEqual(["runner", "runner"]);
    expect(edges[0].reason).toMatch(/one replication source per destination/);
  });

  it("a bucket that would be both a native source and a native destination: the later link uses the runner", () => {
    const { edges } = plan({ ...two, fra: oci("b-fra", "eu-frankfurt-1") }, [one("lon", "zrh", { deletes: true }), one("zrh", "fra", { deletes: true })]);
    expect(edges.map((e) => e.mechanism)).toEqual(["oci-native", "runner"]);
    expect(edges[1].reason).toMatch(/zrh is the read-only destination of links\[0\].*both source and destination/);
  });

  it("a target that is already another link's native source: the later link uses the runner (and native is refused)", () => {
    const three = { ...two, fra: oci("b-fra", "eu-frankfurt-1") };
    const links = [one("zrh", "fra", { deletes: true }), one("lon", "zrh", { deletes: true })];
    const { edges } = plan(three, links);
    expect(edges.map((e) => `${e.from}>${e.to}:${e.mechanism}`)).toEqual(["zrh>fra:oci-native", "lon>zrh:runner"]);
    expect(edges[1].reason).toBe(
      "zrh is the source of links[0]'s OCI replication, and OCI forbids a bucket that is both source and destination, so the runner copies.");
    expectPlanError({ buckets: three, links: [links[0], one("lon", "zrh", { deletes: true, mechanism: "native" })] },
      "links[1].mechanism", /"native" is impossible for lon→zrh: zrh is the source of links\[0\]'s OCI replication/, /let the runner serve this edge/);
  });

  it("a source with a native policy already: the second one-to-one from it uses the runner", () => {
    const { edges } = plan({ ...two, fra: oci("b-fra", "eu-frankfurt-1") }, [one("lon", "zrh", { deletes: true }), one("lon", "fra", { deletes: true })]);
    expect(edges.map((e) => e.mechanism)).toEqual(["oci-native", "runner"]);
    expect(edges[1].reason).toMatch(/one replication policy per source bucket and links\[0\]/);
  });

  it("a native destination that another edge also writes into is rejected (it would be read-only, and deletes overlap)", () => {
    expectPlanError(
      { buckets: { ...two, a: aws("bucket-a") }, links: [one("lon", "zrh", { deletes: true }), one("a", "zrh", { prefix: "aws/" })] },
      "links[0].deletes",
      /lon→zrh deletes under "" of zrh, which overlaps "aws\/" where links\[1\] \(a→zrh\) also writes/,
      /deletes: false/,
    );
  });

  it("different namespaces: runner (same tenancy only)", () => {
    const { edges } = plan({ lon: two.lon, zrh: oci("test-bucket-zurich", "eu-zurich-1", { namespace: "othertenancy" }) }, [one("lon", "zrh", { deletes: true })]);
    expect(edges[0].mechanism).toBe("runner");
    expect(edges[0].reason).toMatch(/one tenancy.*namespace "axaxnpcrorw5".*"othertenancy"/);
  });

  it("deletes not wanted (the one-to-one default): runner, because OCI always propagates deletes", () => {
    const { edges } = plan(two, [one("lon", "zrh")]);
    expect(edges[0].mechanism).toBe("runner");
    expect(edges[0].reason).toMatch(/always propagates deletes.*deletes: false/);
  });

  it("a prefix: runner, because OCI replication has no prefix filter", () => {
    const { edges } = plan(two, [one("lon", "zrh", { deletes: true, prefix: "data/" })]);
    expect(edges[0].mechanism).toBe("runner");
    expect(edges[0].reason).toMatch(/no prefix filter/);
  });
});

describe("s3 endpoints", () => {
  it("an s3 bucket without native replication (Linode): runner", () => {
    const { edges } = plan({ a: s3("bucket-a"), b: s3("bucket-b", "https://us-east-1.linodeobjects.com") }, [one("a", "b")]);
    expect(edges[0].mechanism).toBe("runner");
    expect(edges[0].reason).toMatch(/a and b have no native replication/);
  });

  it("s3-api buckets on the same service (Exoscale SOS, across zones): s3-native, with prefix and deletes", () => {
    const { edges } = plan({ a: sos("bucket-a", "ch-dk-2"), b: sos("bucket-b", "at-vie-1") }, [one("a", "b", { prefix: "p/", deletes: true })]);
    expect(edges[0].mechanism).toBe("s3-native");
    expect(edges[0].reason).toMatch(/same service exo\.io.*PutBucketReplication.*under "p\/".*delete markers/);
  });

  it("s3-api bidirectional and fan-out are native (replicated once, no loop)", () => {
    const buckets = { a: sos("bucket-a"), b: sos("bucket-b", "at-vie-1"), c: sos("bucket-c", "de-fra-1") };
    const bi = plan(buckets, [{ kind: "bidirectional", between: ["a", "b"] }]);
    const out = plan(buckets, [{ kind: "fan-out", from: "a", to: ["b", "c"] }]);
    expect([...bi.edges, ...out.edges].map((e) => e.mechanism)).toEqual(["s3-native", "s3-native", "s3-native", "s3-native"]);
    expect(bi.edges[0].reason).toMatch(/no loop/);
  });

  it("backfill: true on an s3-native link is rejected: PutBucketReplication copies only new writes", () => {
    const buckets = { a: sos("bucket-a"), b: sos("bucket-b", "at-vie-1"), l: s3("bucket-l") };
    expectPlanError({ buckets, links: [one("a", "l"), { kind: "bidirectional", between: ["a", "b"], backfill: true }] },
      "links[1].backfill", /true, but a→b uses S3-API replication \(s3-native\), which copies only new writes/,
      /set links\[1\]\.backfill: false and copy the existing objects once with the runner .* or set links\[1\]\.mechanism: "runner", which copies what already exists/);
    // reported once per link, not per edge
    expect(expectPlanError({ buckets, links: [{ kind: "bidirectional", between: ["a", "b"], backfill: true }] }, "links[0].backfill", /a→b uses S3-API/)).not.toMatch(/more problem/);
    // the same link through the runner, with backfill: false, or on an edge that is not s3-native is fine
    expect(plan(buckets, [one("a", "b", { backfill: true, mechanism: "runner" })]).edges[0].mechanism).toBe("runner");
    expect(plan(buckets, [one("a", "b", { backfill: false })]).edges[0].mechanism).toBe("s3-native");
    expect(plan(buckets, [one("a", "l", { backfill: true })]).edges[0].mechanism).toBe("runner");
  });

  it("s3-api buckets on different services: runner", () => {
    const { edges } = plan({ a: sos("bucket-a"), b: s3("bucket-b", "https://s3.example.net", { nativeReplication: "s3-api" }) }, [one("a", "b")]);
    expect(edges[0].mechanism).toBe("runner");
    expect(edges[0].reason).toMatch(/different services/);
  });

  it("s3-api fan-in with targetPrefixes needs key rewriting: runner", () => {
    const { edges } = plan({ a: sos("bucket-a"), b: sos("bucket-b", "at-vie-1"), c: sos("bucket-c", "de-fra-1") },
      [{ kind: "fan-in", from: ["a", "b"], to: "c", targetPrefixes: { a: "a/", b: "b/" } }]);
    expect(edges.map((e) => e.mechanism)).toEqual(["runner", "runner"]);
    expect(edges[0].reason).toMatch(/keeps keys unchanged/);
  });

  it("an s3 bucket with an aws bucket: runner (crosses providers)", () => {
    const { edges } = plan({ a: sos("bucket-a"), b: aws("bucket-b") }, [one("a", "b")]);
    expect(edges[0].mechanism).toBe("runner");
    expect(edges[0].reason).toMatch(/stays within one provider/);
  });
});

describe("cross-provider and mechanism overrides", () => {
  it("aws ↔ oci: runner, in both directions", () => {
    const { edges } = plan({ a: aws("bucket-a"), o: oci("bucket-o") }, [{ kind: "bidirectional", between: ["a", "o"] }]);
    expect(edges.map((e) => e.mechanism)).toEqual(["runner", "runner"]);
    expect(edges[0].reason).toBe("Native replication stays within one provider, so the runner copies from AWS S3 to OCI Object Storage.");
    expect(edges[1].reason).toMatch(/from OCI Object Storage to AWS S3/);
  });

  it('mechanism: "runner" forces the runner where native would work, and says so', () => {
    const { edges } = plan({ a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1") }, [one("a", "b", { mechanism: "runner" })]);
    expect(edges[0].mechanism).toBe("runner");
    expect(edges[0].reason).toMatch(/links\[0\] sets mechanism: "runner", overriding aws-native/);
  });

  it('mechanism: "native" where native works is accepted', () => {
    const { edges } = plan({ a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1") }, [one("a", "b", { mechanism: "native" })]);
    expect(edges[0].mechanism).toBe("aws-native");
  });

  it('mechanism: "native" where it is impossible throws and says why', () => {
    expectPlanError(
      { buckets: { lon: oci("b-lon"), zrh: oci("b-zrh", "eu-zurich-1") }, links: [{ kind: "bidirectional", between: ["lon", "zrh"], mechanism: "native" }] },
      "links[0].mechanism",
      /"native" is impossible for lon→zrh: OCI replication makes the destination read-only/,
      /"auto" or "runner"/,
    );
  });

  it('mechanism: "native" on a cross-provider link throws', () => {
    expectPlanError(
      { buckets: { a: aws("bucket-a"), l: s3("bucket-l") }, links: [{ kind: "one-to-one", from: "a", to: "l" }, { kind: "one-to-one", from: "l", to: "a", mechanism: "native", prefix: "x/" }] },
      "links[1].mechanism",
      /stays within one provider/,
    );
  });
});
