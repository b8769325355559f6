// Builders for planner tests: small, valid bucket specs and a helper that returns the planner's error.
import { expect } from "vitest";
import { planTopology } from "../../components/plan/index.js";
import type {
  AwsBucketSpec, BucketSpec, LinkSpec, OciBucketSpec, ReplicationPlan, RunnerSpec, S3BucketSpec,
} from "../../components/plan/types.js";

export const NS = "axaxnpcrorw5";
export const COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaa4kq6w3x2rb6uo5yqv7c3j2m6n7d4i2s5l3f6xk3prtqz7hxa";

export const aws = (bucket: string, region = "us-east-1", extra: Partial<AwsBucketSpec> = {}): AwsBucketSpec => ({ provider: "aws", bucket, region, ...extra });
export const oci = (bucket: string, region = "uk-london-1", extra: Partial<OciBucketSpec> = {}): OciBucketSpec => ({
  provider: "oci", bucket, region, namespace: NS, compartmentId: COMPARTMENT, ...extra,
});
export const s3 = (bucket: string, endpoint = "https://eu-central-1.linodeobjects.com", extra: Partial<S3BucketSpec> = {}): S3BucketSpec => ({
  provider: "s3", bucket, endpoint, ...extra,
});
export const sos = (bucket: string, zone = "ch-dk-2"): S3BucketSpec => s3(bucket, `https://sos-${zone}.exo.io`, { region: zone, nativeReplication: "s3-api" });

export function plan(buckets: Record<string, BucketSpec>, links: LinkSpec[], runner?: RunnerSpec): ReplicationPlan {
  return planTopology({ buckets, links, ...(runner ? { runner } : {}) });
}

/** The message of the Error that planTopology throws for `args` (fails the test if it does not throw). */
export function planError(args: unknown): string {
  try {
    planTopology(args as never);
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    const message = (e as Error).message;
    // One problem: one line. Several: a count, then one indented line per problem, each with its fix.
    const lines = message.split("\n");
    if (lines.length > 1) {
      expect(lines[0]).toMatch(/^Invalid replication topology \(\d+ problems\):$/);
      for (const l of lines.slice(1)) expect(l).toMatch(/^  \S+: .+\. Fix: .+$/);
    }
    return message;
  }
  throw new Error(`planTopology accepted an invalid topology: ${JSON.stringify(args)}`);
}

/** Asserts that the error names the location (e.g. `links[3].to`), matches `what`, and carries a fix. */
export function expectPlanError(args: unknown, location: string, what: RegExp, fix?: RegExp): string {
  const message = planError(args);
  expect(message).toContain(`${location}:`);
  expect(message).toMatch(what);
  expect(message).toMatch(/Fix: /);
  if (fix) expect(message.slice(message.indexOf("Fix: "))).toMatch(fix);
  return message;
}
