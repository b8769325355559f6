// What both platforms share: the plan-derived facts (edges, access, endpoints), the bundle on disk,
// the static keys the runner needs and where they come from, and small helpers.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as oci from "@pulumi/oci";
import type { BucketRef, TopologyContext } from "../context.js";
import { BUNDLE_IN_PACKAGE, isCheckout, PACKAGE_NAME, packageRoot } from "../package.js";
import type { BucketSpec, PlannedEdge, RunnerSpec } from "../plan/types.js";
import type { RunnerConfig } from "../../runner/config/types.js";
import { CREDENTIALS_DIR, planRunnerConfig, STATE_BUCKET_ID, type RunnerConfigPlan } from "./runner-config.js";
import { accessFromEdges, awsBucketStatements, ociBucketStatements, ociBuckets, policyDocument, type BucketAccess, type IamStatement } from "./policy.js";
import { DEFAULT_SCHEDULE, scheduleGaps } from "./schedule.js";

export const STATE_PREFIX = "state/";

export interface Core {
  ctx: TopologyContext;
  /** The topology's buckets (created or referenced); may lack entries in unit tests. */
  buckets: Record<string, BucketRef>;
  spec: RunnerSpec;
  /** `${ctx.name}-runner` */
  name: string;
  opts: pulumi.CustomResourceOptions;
  schedule: string;
  gaps: { shortest: number; longest: number };
  served: PlannedEdge[];
  edges: string[];
  access: Map<string, BucketAccess>;
  bundle: { path: string; sha256: string };
  /** The runner config for a given state bucket (its name is often an Output, hence a function). */
  configFor(stateBucket: BucketSpec): RunnerConfigPlan;
  /** Endpoint entries that read a key file, and the bucket ids behind each. */
  keyEntries(stateBucket: BucketSpec): Record<string, string[]>;
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Lowercase, [a-z0-9-], for cloud resource names with strict alphabets. */
export function dnsName(s: string, max = 63): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/-+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, max)
      .replace(/-$/, "") || "runner"
  );
}

/**
 * The runner bundle to upload: runner.bundlePath when set (relative to the working directory, like
 * every path a user types), else the one inside the bucket-replication package, found relative to
 * the package (never the working directory), so an installed package needs no build step.
 * `packageDir` is for tests: where the package is (default: the package this module belongs to).
 */
export function loadBundle(ctx: TopologyContext, spec: RunnerSpec, packageDir: string | undefined = packageRoot()): { path: string; sha256: string } {
  if (spec.bundlePath !== undefined) {
    const path = resolve(spec.bundlePath);
    if (!existsSync(path)) {
      throw new pulumi.ResourceError(
        `runner.bundlePath: the runner bundle ${path} does not exist. Point runner.bundlePath at a built runner bundle ` +
          `(dist/runner.mjs of a bucket-replication build), or remove runner.bundlePath to upload the bundle that ships in the ${PACKAGE_NAME} package.`,
        ctx.parent,
      );
    }
    return { path, sha256: sha256(readFileSync(path)) };
  }
  const path = packageDir ? join(packageDir, BUNDLE_IN_PACKAGE) : undefined;
  if (!path || !existsSync(path)) {
    const where = path ? `the runner bundle that ships in the ${PACKAGE_NAME} package (${path}) is missing` : `the ${PACKAGE_NAME} package directory could not be found from ${fileURLToPath(import.meta.url)} (was the package bundled into another file?)`;
    const fix =
      packageDir && isCheckout(packageDir)
        ? `this is a checkout of the repository: build it with \`npm run build\` (it writes ${BUNDLE_IN_PACKAGE})`
        : `reinstall ${PACKAGE_NAME} (\`npm install ${PACKAGE_NAME}\`; an install from a git URL builds it through the package's prepack script)`;
    throw new pulumi.ResourceError(
      `runner: ${where}. Fix: ${fix}, or set runner.bundlePath to a built runner bundle. The component uploads the bundle to the artifacts bucket under a key carrying its sha256.`,
      ctx.parent,
    );
  }
  return { path, sha256: sha256(readFileSync(path)) };
}

/** IRSA: the ServiceAccount annotation that gives a pod an AWS role (EKS). */
export const IRSA_ANNOTATION = "eks.amazonaws.com/role-arn";

/** Whether the runner reaches AWS buckets with its own AWS identity (instance role, task role, IRSA)
 *  rather than a static key. */
export function usesAwsIdentity(spec: RunnerSpec): boolean {
  if (spec.platform === "aws-ec2" || spec.platform === "aws-ecs") return true;
  return spec.platform === "kubernetes" && !!spec.serviceAccountAnnotations?.[IRSA_ANNOTATION];
}

/** The cloud of the state bucket: the artifacts bucket the VM/ECS platforms create, or kubernetes'
 *  runner.stateBucket. */
export function stateProvider(spec: RunnerSpec): BucketSpec["provider"] {
  if (spec.platform === "kubernetes") return spec.stateBucket?.provider ?? "aws";
  return spec.platform === "oci-compute" ? "oci" : "aws";
}

export function makeCore(ctx: TopologyContext, spec: RunnerSpec, served: PlannedEdge[], gaps: Core["gaps"], buckets: Record<string, BucketRef> = {}): Core {
  const staticKeys = usesAwsIdentity(spec) ? (_id: string, s: BucketSpec) => s.provider !== "aws" : () => true;
  const served_ = new Set(served);
  const configFor = (stateBucket: BucketSpec) =>
    planRunnerConfig(ctx.args, ctx.plan, {
      state: { dir: "/var/lib/bucket-replication" },
      stateBucket: { spec: stateBucket, prefix: STATE_PREFIX },
      // Listing pages ahead, decisions and the next state spool here: the state directory is on
      // the instance's disk (the unit's PrivateTmp may be tmpfs, i.e. memory).
      spoolDir: "/var/lib/bucket-replication/spool",
      transfers: spec.transfers,
      staticKeys,
      edges: (e) => served_.has(e),
    });
  return {
    ctx,
    buckets,
    spec,
    name: `${ctx.name}-runner`,
    opts: { parent: ctx.parent },
    schedule: spec.schedule ?? DEFAULT_SCHEDULE,
    gaps,
    served,
    edges: served.map((e) => `${e.from}->${e.to}`),
    access: accessFromEdges(ctx.args, served),
    bundle: loadBundle(ctx, spec),
    configFor,
    keyEntries(stateBucket) {
      const p = configFor(stateBucket);
      const out: Record<string, string[]> = {};
      for (const [name, ep] of Object.entries(p.config.endpoints)) {
        const c = ep.credentials;
        if (c && "file" in c && c.file.startsWith(`${CREDENTIALS_DIR}/`)) out[name] = p.bucketsOf[name] ?? [];
      }
      return out;
    },
  };
}

export function configJson(config: RunnerConfig): string {
  return JSON.stringify(config, null, 2) + "\n";
}

export { scheduleGaps };

// ---------------------------------------------------------------- static keys and where they come from

/** The runner's own OCI identity for the S3-compatible endpoint (Customer Secret Keys belong to a
 *  user): a dedicated user in a dedicated group, whose policy names exactly the buckets it serves. */
export function ociRunnerUser(
  core: Core,
  tenancyId: string,
  buckets: { bucket: string; compartmentId: string; access: BucketAccess }[],
): { payload: pulumi.Output<string>; user: oci.identity.User; policy: oci.identity.Policy } {
  const n = core.name;
  const user = new oci.identity.User(`${n}-oci-user`, {
    compartmentId: tenancyId,
    name: dnsName(`${n}-s3`),
    description: `bucket-replication runner (${core.ctx.name}): S3-compatible access to the replicated buckets only`,
  }, core.opts);
  const group = new oci.identity.Group(`${n}-oci-group`, {
    compartmentId: tenancyId,
    name: dnsName(`${n}-s3`),
    description: `bucket-replication runner (${core.ctx.name})`,
  }, core.opts);
  new oci.identity.UserGroupMembership(`${n}-oci-membership`, { groupId: group.id, userId: user.id }, core.opts);
  const policy = new oci.identity.Policy(`${n}-oci-user-policy`, {
    compartmentId: tenancyId,
    name: dnsName(`${n}-s3`),
    description: `bucket-replication runner (${core.ctx.name}): exact buckets only`,
    statements: group.id.apply((gid) => ociBucketStatements(`group id ${gid}`, buckets)),
  }, core.opts);
  // @pulumi/oci does not mark `key` secret (unlike aws.iam.AccessKey's `secret`): without
  // additionalSecretOutputs the secret key would sit in the Pulumi state in plain text.
  const key = new oci.identity.CustomerSecretKey(`${n}-oci-key`, {
    userId: user.id,
    displayName: `${n} (bucket-replication)`,
  }, { ...core.opts, dependsOn: [policy], additionalSecretOutputs: ["key"] });
  // Everything derived from the key is a secret too (pulumi.all of a secret is secret in a real
  // engine; pulumi.secret makes it explicit and holds under mocks as well).
  const payload = pulumi.secret(
    pulumi.all([key.id, key.key]).apply(([accessKeyId, secretAccessKey]) => JSON.stringify({ accessKeyId, secretAccessKey })),
  );
  return { payload, user, policy };
}

/** An AWS IAM user whose only permissions are the AWS buckets the runner serves (runner outside AWS). */
export function awsRunnerUser(core: Core, provider?: aws.Provider, extra: IamStatement[] = []): pulumi.Output<string> {
  const n = core.name;
  const o = { ...core.opts, provider };
  const user = new aws.iam.User(`${n}-aws-user`, { name: dnsName(`${n}`, 64), tags: { "bucket-replication": core.ctx.name } }, o);
  new aws.iam.UserPolicy(`${n}-aws-user-policy`, {
    user: user.name,
    policy: policyDocument([...awsBucketStatements(core.ctx.args, core.access), ...extra]),
  }, o);
  const key = new aws.iam.AccessKey(`${n}-aws-key`, { user: user.name }, o);
  return pulumi.secret(
    pulumi.all([key.id, key.secret]).apply(([accessKeyId, secretAccessKey]) => JSON.stringify({ accessKeyId, secretAccessKey })),
  );
}

/** Keys of an `s3` bucket, from the stack inputs (Pulumi secrets). */
export function s3Payload(core: Core, bucketId: string): pulumi.Output<string> {
  const spec = bucketId === STATE_BUCKET_ID ? core.spec.stateBucket : core.ctx.args.buckets[bucketId];
  if (spec?.provider !== "s3" || !spec.credentials) {
    throw new pulumi.ResourceError(
      `runner: bucket "${bucketId}" (provider s3) has no credentials; set buckets.${bucketId}.credentials {accessKeyId, secretAccessKey} (as Pulumi secrets) so the runner can reach it`,
      core.ctx.parent,
    );
  }
  return pulumi.secret(
    pulumi.all([spec.credentials.accessKeyId, spec.credentials.secretAccessKey]).apply(([accessKeyId, secretAccessKey]) =>
      JSON.stringify({ accessKeyId, secretAccessKey }),
    ),
  );
}

export function ociTenancy(core: Core): string {
  // The same sources, in the same order, as the OCI provider's own tenancy setting: the stack config
  // `oci:tenancyOcid`, else the TF_VAR_tenancy_ocid environment variable (what the workflows set).
  const t = core.spec.tenancyId ?? new pulumi.Config("oci").get("tenancyOcid") ?? process.env.TF_VAR_tenancy_ocid;
  if (!t) {
    throw new pulumi.ResourceError(
      `runner: OCI identity resources (runner user, dynamic group, policies) live in the tenancy; set runner.tenancyId, the oci:tenancyOcid config or the TF_VAR_tenancy_ocid environment variable`,
      core.ctx.parent,
    );
  }
  return t;
}

/** For each key entry: where its key comes from. */
export function keyPayloads(
  core: Core,
  entries: Record<string, string[]>,
  make: { oci: () => pulumi.Output<string>; aws: () => pulumi.Output<string>; alicloud: () => pulumi.Output<string>; linode: () => pulumi.Output<string> },
): Record<string, pulumi.Output<string>> {
  const out: Record<string, pulumi.Output<string>> = {};
  // One key per provider account, shared by its entries (e.g. two OSS regions, two Linode clusters).
  const shared: Partial<Record<"oci" | "aws" | "alicloud" | "linode", pulumi.Output<string>>> = {};
  for (const [entry, ids] of Object.entries(entries)) {
    const id = ids.find((x) => x !== STATE_BUCKET_ID) ?? ids[0];
    const provider = id === STATE_BUCKET_ID ? stateProvider(core.spec) : core.ctx.args.buckets[id].provider;
    if (provider === "s3") out[entry] = s3Payload(core, id);
    else out[entry] = shared[provider] ??= make[provider]();
  }
  return out;
}

export function ociBucketsFor(core: Core) {
  return ociBuckets(core.ctx.args, core.access).map((b) => ({ bucket: b.spec.bucket, compartmentId: b.spec.compartmentId, access: b.access }));
}

// Egress ports beyond 443: pure, next to the config it reads (the plan shows the same ports).
export { endpointPorts } from "./runner-config.js";

/** Split an IPv4 CIDR (prefix ≤ 24) into its /24 blocks number 0 and 1. */
export function subnetCidrs(cidr: string): { public: string; private: string } {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m || Number(m[5]) > 23) throw new Error(`runner.network.cidr must be an IPv4 CIDR of /23 or larger, got ${JSON.stringify(cidr)}`);
  const base = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8)) >>> 0;
  const mask = (0xffffffff << (32 - Number(m[5]))) >>> 0;
  const net = (base & mask) >>> 0;
  const block = (i: number) => {
    const a = (net + i * 256) >>> 0;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`;
  };
  return { public: block(0), private: block(1) };
}
