// What a reviewer must see besides the edges, derived from the plan exactly as the deployment
// derives it: per bucket (created or referenced, versioning turned on, backfill and its time limit),
// the runner jobs (components/deploy/runner-config.ts, the same function the deployment calls) and
// the resources `pulumi up` creates, with the ones that cost money flagged. Pure: no Pulumi import.
//
// The resource list mirrors components/buckets.ts, components/aws, components/oci, components/s3api
// and components/deploy/{aws,oci,core}.ts; test/deploy/inventory.test.ts checks the runner's part
// against what the deployment registers under mocks, so the two cannot drift apart silently.
import type { JobConfig, RunnerConfig } from "../../runner/config/types.js";
import { CREDENTIALS_DIR, STATE_BUCKET_ID, endpointPorts, outsideEndpoints, planRunnerConfig } from "../deploy/runner-config.js";
import { DEFAULT_BACKFILL_TIMEOUT_MINUTES, type PlanSettings } from "./settings.js";
import type { AwsBucketSpec, BucketSpec, LinkOptions, PlannedEdge, ReplicationPlan, ReplicationTopologyArgs, RunnerSpec } from "./types.js";

/** Default backfill: the source may already hold objects when it was not created by this topology. */
export function wantsBackfill(link: LinkOptions, src: { create?: boolean }): boolean {
  return link.backfill ?? src.create === false;
}

export interface Backfill {
  source: string;
  destinations: string[];
  how: string;
  /** What bounds it (a reviewer needs to know that `pulumi up` blocks on it). */
  limit: string;
}

export interface BucketReview {
  id: string;
  spec: BucketSpec;
  created: boolean;
  /** Versioning the deployment turns on, and why ("aws-native"...); undefined when it leaves it. */
  versioning?: string;
  backfill?: Backfill;
}

const NATIVE_VERSIONING: Partial<Record<PlannedEdge["mechanism"], string>> = {
  "aws-native": "S3 Replication needs it on both ends",
  "s3-native": "S3-API replication needs it on both ends",
};

export function backfills(args: ReplicationTopologyArgs, plan: ReplicationPlan, settings: PlanSettings = {}): Backfill[] {
  const out: Backfill[] = [];
  const minutes = settings.backfillTimeoutMinutes ?? DEFAULT_BACKFILL_TIMEOUT_MINUTES;
  // aws-native: one S3 Batch Replication job per source with any backfilled outgoing edge.
  const awsSources = new Map<string, PlannedEdge[]>();
  for (const e of plan.edges) if (e.mechanism === "aws-native") awsSources.set(e.from, [...(awsSources.get(e.from) ?? []), e]);
  for (const [src, edges] of awsSources) {
    if (!edges.some((e) => wantsBackfill(args.links[e.link] ?? {}, args.buckets[src] as AwsBucketSpec))) continue;
    out.push({
      source: src,
      destinations: [...new Set(edges.map((e) => e.to))],
      how: "S3 Batch Replication job copying the objects that already exist (billed per job and per object)",
      limit: `\`pulumi up\` waits up to ${minutes} minutes for it and fails after that (config bucket-replication:backfillTimeoutMinutes)`,
    });
  }
  // alicloud-native: the rule's own historical object replication, which runs inside OSS.
  for (const e of plan.edges) {
    if (e.mechanism !== "alicloud-native" || !wantsBackfill(args.links[e.link] ?? {}, args.buckets[e.from] as { create?: boolean })) continue;
    out.push({
      source: e.from,
      destinations: [e.to],
      how: "OSS historical object replication of the rule (historicalObjectReplication: enabled), billed as replication traffic; progress in the OSS console or GetBucketReplicationProgress",
      limit: "no limit in `pulumi up`: it returns once the rule exists, and OSS copies the existing objects afterwards",
    });
  }
  // oci-native: a one-shot copy on the deploying host before the replication policy exists.
  for (const e of plan.edges) {
    if (e.mechanism !== "oci-native" || !wantsBackfill(args.links[e.link] ?? {}, args.buckets[e.from] as { create?: boolean })) continue;
    out.push({
      source: e.from,
      destinations: [e.to],
      how: "server-side copy of every existing object with the OCI CLI, run by `pulumi up` on the deploying host before the replication policy exists",
      limit: "no time limit: `pulumi up` waits until every copy's work request ends (up to 5 listing passes)",
    });
  }
  return out;
}

export function reviewBuckets(args: ReplicationTopologyArgs, plan: ReplicationPlan, settings: PlanSettings = {}): BucketReview[] {
  const fills = backfills(args, plan, settings);
  return Object.entries(args.buckets).map(([id, spec]) => {
    const why = [...new Set(plan.edges.filter((e) => e.from === id || e.to === id).map((e) => NATIVE_VERSIONING[e.mechanism]).filter((x): x is string => !!x))];
    const created = spec.provider !== "s3" && spec.create !== false;
    return {
      id,
      spec,
      created,
      versioning: why.length ? why.join("; ") : undefined,
      backfill: fills.find((f) => f.source === id),
    };
  });
}

// ---------------------------------------------------------------- runner

/** The runner config the deployment generates (state bucket and key files as on the VM). */
export function runnerConfigFor(args: ReplicationTopologyArgs, plan: ReplicationPlan): RunnerConfig | undefined {
  const spec = args.runner;
  if (!spec || !plan.edges.some((e) => e.mechanism === "runner")) return undefined;
  return runnerConfigPlan(args, plan, spec).config;
}

/** The runner reaches AWS buckets with its own AWS identity (instance or task role, IRSA), not
 *  with a static key (components/deploy/core.ts usesAwsIdentity). */
function usesAwsIdentity(spec: RunnerSpec): boolean {
  return spec.platform === "aws-ec2" || spec.platform === "aws-ecs" || (spec.platform === "kubernetes" && !!spec.serviceAccountAnnotations?.["eks.amazonaws.com/role-arn"]);
}

function stateSpec(args: ReplicationTopologyArgs, spec: RunnerSpec): BucketSpec {
  if (spec.platform === "aws-ec2" || spec.platform === "aws-ecs") return { provider: "aws", bucket: "artifacts", region: spec.region };
  if (spec.platform === "kubernetes" && spec.stateBucket) return spec.stateBucket;
  const ns = Object.values(args.buckets).find((b) => b.provider === "oci");
  return { provider: "oci", bucket: "artifacts", region: spec.region, namespace: ns?.provider === "oci" ? ns.namespace : "namespace", compartmentId: spec.compartmentId ?? "" };
}

function runnerConfigPlan(args: ReplicationTopologyArgs, plan: ReplicationPlan, spec: RunnerSpec) {
  // The same options as components/deploy/core.ts makeCore.
  return planRunnerConfig(args, plan, {
    state: { dir: "/var/lib/bucket-replication" },
    stateBucket: { spec: stateSpec(args, spec), prefix: "state/" },
    spoolDir: "/var/lib/bucket-replication/spool",
    transfers: spec.transfers,
    staticKeys: usesAwsIdentity(spec) ? (_id, s) => s.provider !== "aws" : () => true,
  });
}

export function runnerJobs(args: ReplicationTopologyArgs, plan: ReplicationPlan): JobConfig[] {
  return runnerConfigFor(args, plan)?.jobs ?? [];
}

// ---------------------------------------------------------------- resources

export interface PlannedResource {
  /** Pulumi type token, e.g. aws:ec2/instance:Instance. */
  type: string;
  count: number;
  /** What it is for, in a few words. */
  what: string;
  /** Set when it costs money on its own (beyond storage and requests of the buckets). */
  cost?: string;
}

export interface ResourceGroup {
  name: string;
  resources: PlannedResource[];
}

class Inventory {
  readonly groups: ResourceGroup[] = [];
  group(name: string): (type: string, count: number, what: string, cost?: string) => void {
    const g: ResourceGroup = { name, resources: [] };
    this.groups.push(g);
    return (type, count, what, cost) => {
      if (count <= 0) return;
      const r = g.resources.find((x) => x.type === type && x.what === what);
      if (r) r.count += count;
      else g.resources.push({ type, count, what, ...(cost ? { cost } : {}) });
    };
  }
}

function bucketResources(inv: Inventory, args: ReplicationTopologyArgs): void {
  const add = inv.group("buckets");
  for (const spec of Object.values(args.buckets)) {
    if (spec.provider === "s3" || spec.create === false) continue;
    if (spec.provider === "aws") {
      add("aws:s3/bucket:Bucket", 1, "bucket");
      add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", 1, "public access blocked");
      add("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", 1, "default encryption");
    } else if (spec.provider === "oci") {
      add("oci:ObjectStorage/bucket:Bucket", 1, "bucket (no public access)");
    } else if (spec.provider === "alicloud") {
      add("alicloud:oss/bucket:Bucket", 1, "OSS bucket");
      add("alicloud:oss/bucketAcl:BucketAcl", 1, "private ACL");
      add("alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock", 1, "public access blocked");
      add("alicloud:oss/bucketServerSideEncryption:BucketServerSideEncryption", 1, "default encryption");
      if (spec.versioning === true) add("alicloud:oss/bucketVersioning:BucketVersioning", 1, "versioning on (versioning: true)", "noncurrent versions are billed as storage");
    } else if (spec.provider === "linode") {
      add("linode:index/objectStorageBucket:ObjectStorageBucket", 1, "Linode bucket (private)");
    }
  }
}

function nativeResources(inv: Inventory, args: ReplicationTopologyArgs, plan: ReplicationPlan, settings: PlanSettings): void {
  const fills = backfills(args, plan, settings);
  const awsEdges = plan.edges.filter((e) => e.mechanism === "aws-native");
  if (awsEdges.length) {
    const add = inv.group("S3 Replication (aws-native)");
    const sources = new Set(awsEdges.map((e) => e.from));
    const crossRegion = awsEdges.some((e) => (args.buckets[e.from] as AwsBucketSpec).region !== (args.buckets[e.to] as AwsBucketSpec).region);
    add("aws:s3/bucketVersioning:BucketVersioning", new Set(awsEdges.flatMap((e) => [e.from, e.to])).size, "versioning on (both ends)",
      "every overwrite and delete keeps a noncurrent version, which is billed as storage until a lifecycle rule expires it");
    add("aws:iam/role:Role", sources.size, "replication role per source");
    add("aws:iam/rolePolicy:RolePolicy", sources.size, "its exact-ARN policy");
    add("aws:s3/bucketReplicationConfig:BucketReplicationConfig", sources.size, "one config per source, one rule per destination",
      crossRegion ? "cross-region replication: inter-region data transfer per GB" : undefined);
    const crossAccountDests = new Set(awsEdges.filter((e) => {
      const [a, b] = [args.buckets[e.from] as AwsBucketSpec, args.buckets[e.to] as AwsBucketSpec];
      return !!a.accountId && !!b.accountId && a.accountId !== b.accountId;
    }).map((e) => e.to));
    add("aws:s3/bucketPolicy:BucketPolicy", crossAccountDests.size, "destination policy for the source roles (cross-account)");
    const rtc = awsEdges.filter((e) => args.links[e.link]?.replicationTime).length;
    const awsFills = fills.filter((f) => sources.has(f.source));
    add("aws:iam/role:Role", awsFills.length, "Batch Replication role per backfilled source");
    add("aws:iam/rolePolicy:RolePolicy", awsFills.length, "its policy");
    add("bucket-replication:index:S3BatchReplication", awsFills.length, "backfill job (S3 Batch Operations)",
      "S3 Batch Operations: a charge per job and per million objects, plus the replication of every existing object");
    if (rtc) add("(rule option)", rtc, "Replication Time Control on a rule", "S3 RTC: a charge per GB replicated, plus replication metrics");
  }
  const ociEdges = plan.edges.filter((e) => e.mechanism === "oci-native");
  if (ociEdges.length) {
    const add = inv.group("OCI replication (oci-native)");
    const compartments = new Set(ociEdges.flatMap((e) => [args.buckets[e.from], args.buckets[e.to]].map((b) => (b.provider === "oci" ? b.compartmentId : ""))));
    add("oci:Identity/policy:Policy", compartments.size, "lets Object Storage replicate, per compartment");
    add("oci:ObjectStorage/replicationPolicy:ReplicationPolicy", ociEdges.length, "replication policy per edge (the destination turns read-only)",
      ociEdges.some((e) => (args.buckets[e.from] as { region: string }).region !== (args.buckets[e.to] as { region: string }).region)
        ? "cross-region: the replica's storage, and outbound data transfer per GB beyond OCI's free allowance" : undefined);
    add("command:local:Command", fills.filter((f) => ociEdges.some((e) => e.from === f.source)).length, "one-shot backfill (oci os object copy)");
  }
  const ossEdges = plan.edges.filter((e) => e.mechanism === "alicloud-native");
  if (ossEdges.length) {
    const add = inv.group("OSS replication (alicloud-native)");
    const region = (id: string) => (args.buckets[id] as { region: string }).region;
    add("alicloud:oss/bucketReplication:BucketReplication", ossEdges.length, "one replication rule per edge",
      ossEdges.some((e) => region(e.from) !== region(e.to)) ? "cross-region replication: OSS replication traffic per GB (oss_acc across the mainland border: transfer acceleration per GB)" : "same-region replication: a charge per GB replicated");
    const kms = ossEdges.filter((e) => (args.buckets[e.from] as { kmsKeyId?: string }).kmsKeyId).length;
    add("alicloud:ram/role:Role", kms, "replication role (SSE-KMS source)");
    add("alicloud:ram/policy:Policy", kms, "its exact-bucket and key policy");
    add("alicloud:ram/rolePolicyAttachment:RolePolicyAttachment", kms, "attachment");
  }
  const s3Edges = plan.edges.filter((e) => e.mechanism === "s3-native");
  if (s3Edges.length) {
    const add = inv.group("S3-API replication (s3-native)");
    add("bucket-replication:index:S3ApiBucketVersioning", new Set(s3Edges.flatMap((e) => [e.from, e.to])).size, "versioning on (both ends)",
      "noncurrent versions are billed as storage");
    add("bucket-replication:index:S3ApiReplication", new Set(s3Edges.map((e) => e.from)).size, "replication configuration per source");
  }
}

/** The static-key payloads of the runner: one OCI user key, one AWS user key, and one per s3 entry
 *  (components/deploy/core.ts keyPayloads). */
function keyPayloads(args: ReplicationTopologyArgs, spec: RunnerSpec, config: RunnerConfig, bucketsOf: Record<string, string[]>): { oci: boolean; aws: boolean; alicloud: boolean; linode: boolean; s3: number } {
  const out = { oci: false, aws: false, alicloud: false, linode: false, s3: 0 };
  for (const [name, ep] of Object.entries(config.endpoints)) {
    const c = ep.credentials;
    if (!(c && "file" in c && c.file.startsWith(`${CREDENTIALS_DIR}/`))) continue;
    const ids = bucketsOf[name] ?? [];
    const id = ids.find((x) => x !== STATE_BUCKET_ID) ?? ids[0];
    const provider = id === STATE_BUCKET_ID ? (spec.platform === "oci-compute" ? "oci" : spec.platform === "kubernetes" ? (spec.stateBucket?.provider ?? "aws") : "aws") : args.buckets[id].provider;
    if (provider === "oci") out.oci = true;
    else if (provider === "aws") out.aws = true;
    else if (provider === "alicloud") out.alicloud = true;
    else if (provider === "linode") out.linode = true;
    else out.s3++;
  }
  return out;
}

function runnerResources(inv: Inventory, args: ReplicationTopologyArgs, plan: ReplicationPlan, spec: RunnerSpec): { needsNat: boolean } {
  const p = runnerConfigPlan(args, plan, spec);
  const config = p.config;
  const createNetwork = spec.platform !== "kubernetes" && !(spec.network && "subnetIds" in spec.network);
  // ECS: a created network always has a NAT (Fargate pulls the images through it).
  const needsNat = createNetwork && (spec.platform === "aws-ecs" || (spec.platform !== "kubernetes" && outsideEndpoints(spec.platform, spec.region, config).length > 0));
  const ports = endpointPorts(config);
  const keys = keyPayloads(args, spec, config, p.bucketsOf);
  const secrets = (keys.oci ? 1 : 0) + (keys.aws ? 1 : 0) + (keys.alicloud ? 1 : 0) + (keys.linode ? 1 : 0) + keys.s3;
  const ociUser = (add: ReturnType<Inventory["group"]>) => {
    if (!keys.oci) return;
    add("oci:Identity/user:User", 1, "runner's OCI user (S3-compatible access)");
    add("oci:Identity/group:Group", 1, "its group");
    add("oci:Identity/userGroupMembership:UserGroupMembership", 1, "membership");
    add("oci:Identity/policy:Policy", 1, "exact-bucket policy");
    add("oci:Identity/customerSecretKey:CustomerSecretKey", 1, "its S3 key (kept secret)");
  };
  // components/deploy/static-keys.ts: the runner's keys for OSS and Linode.
  const otherKeys = (add: ReturnType<Inventory["group"]>) => {
    if (keys.alicloud) {
      add("alicloud:ram/user:User", 1, "runner's RAM user (OSS through its S3 API)");
      add("alicloud:ram/policy:Policy", 1, "exact-bucket and prefix policy");
      add("alicloud:ram/userPolicyAttachment:UserPolicyAttachment", 1, "attachment");
      add("alicloud:ram/accessKey:AccessKey", 1, "its access key (kept secret)");
    }
    if (keys.linode) add("linode:index/objectStorageKey:ObjectStorageKey", 1, "Limited Access Key: exactly the served buckets (kept secret)");
  };
  const shards = spec.shards ?? 1;
  const awsUser = (add: ReturnType<Inventory["group"]>) => {
    if (!keys.aws) return;
    add("aws:iam/user:User", 1, "runner's AWS user (exact buckets)");
    add("aws:iam/userPolicy:UserPolicy", 1, "its policy");
    add("aws:iam/accessKey:AccessKey", 1, "its access key (kept secret)");
  };
  if (spec.platform === "kubernetes") {
    // components/deploy/kubernetes.ts
    const add = inv.group(`runner on kubernetes${spec.namespace ? ` (namespace ${spec.namespace})` : ""}`);
    if (!spec.namespace) add("kubernetes:core/v1:Namespace", 1, "namespace (Pod Security: restricted)");
    add("kubernetes:core/v1:ConfigMap", 1, "runner config (no secrets)");
    if (!spec.image) add("kubernetes:core/v1:ConfigMap", 1, "the runner bundle, gzip (unpacked and sha256-checked by an init container)");
    add("kubernetes:core/v1:Secret", secrets > 0 ? 1 : 0, "static S3 keys, one file per endpoint");
    add("kubernetes:core/v1:ServiceAccount", 1, "service account (token mounted only with IRSA)");
    add("kubernetes:networking.k8s.io/v1:NetworkPolicy", 1, `no ingress; egress to DNS and ${[443, ...ports].join(", ")}`);
    add("kubernetes:batch/v1:CronJob", 1, `CronJob, Indexed Job of ${shards} shard${shards === 1 ? "" : "s"}`, "pods' CPU and memory on the cluster");
    ociUser(add);
    awsUser(add);
    otherKeys(add);
    return { needsNat: false };
  }
  if (spec.platform === "aws-ecs") {
    // components/deploy/ecs.ts
    const add = inv.group(`runner on aws-ecs (${spec.region})`);
    add("aws:s3/bucket:Bucket", 1, "artifacts bucket (bundle, config, runner state)");
    add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", 1, "public access blocked");
    add("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", 1, "default encryption");
    add("aws:s3/bucketObjectv2:BucketObjectv2", 2, "runner bundle and config");
    add("aws:secretsmanager/secret:Secret", secrets, "static S3 keys of non-AWS endpoints", "Secrets Manager: a monthly charge per secret");
    add("aws:secretsmanager/secretVersion:SecretVersion", secrets, "their values");
    ociUser(add);
    otherKeys(add);
    add("aws:cloudwatch/logGroup:LogGroup", 1, `runner logs (${spec.logRetentionDays ?? 30} days)`);
    add("aws:ec2/securityGroup:SecurityGroup", 1, `no ingress; egress to ${[443, ...ports].join(", ")}`);
    add("aws:iam/role:Role", 3, "task role (exact buckets), execution role (its secrets and logs only), scheduler role");
    add("aws:iam/rolePolicy:RolePolicy", 3, "their policies");
    add("aws:ecs/cluster:Cluster", 1, "ECS cluster");
    add("aws:ecs/taskDefinition:TaskDefinition", 1, `Fargate task (${spec.cpu ?? 512} CPU units)`, "Fargate vCPU and memory per second of each run");
    add("aws:scheduler/schedule:Schedule", shards, `EventBridge Scheduler schedule, one per shard`);
    add("aws:cloudwatch/logMetricFilter:LogMetricFilter", 2, "run succeeded/failed metrics");
    add("aws:cloudwatch/metricAlarm:MetricAlarm", 2, "failed-run and stale alarms", "CloudWatch: a monthly charge per alarm");
    if (createNetwork) {
      add("aws:ec2/vpc:Vpc", 1, `VPC ${spec.network && "cidr" in spec.network && spec.network.cidr ? spec.network.cidr : "10.44.0.0/16"}`);
      add("aws:ec2/subnet:Subnet", 2, "private subnet, and the NAT's public subnet");
      add("aws:ec2/routeTable:RouteTable", 2, "private and public route tables");
      add("aws:ec2/routeTableAssociation:RouteTableAssociation", 2, "their associations");
      add("aws:ec2/vpcEndpoint:VpcEndpoint", 1, "S3 gateway endpoint");
      add("aws:ec2/internetGateway:InternetGateway", 1, "internet gateway for the NAT");
      add("aws:ec2/natGateway:NatGateway", 1, "NAT gateway (image pulls, endpoints outside AWS S3 in this region)", "NAT gateway: an hourly charge plus a charge per GB processed");
      add("aws:ec2/eip:Eip", 1, "its public IPv4 address", "public IPv4 address: an hourly charge");
      add("aws:ec2/route:Route", 1, "default route to the NAT");
    }
    return { needsNat };
  }
  if (spec.platform === "aws-ec2") {
    const add = inv.group(`runner on aws-ec2 (${spec.region})`);
    add("aws:ec2/instance:Instance", 1, `runner VM, ${spec.instanceType ?? "t3.small"}, 20 GB gp3, private`, "EC2 instance hours and its EBS volume");
    add("aws:s3/bucket:Bucket", 1, "artifacts bucket (bundle, config, runner state)");
    add("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", 1, "public access blocked");
    add("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", 1, "default encryption");
    add("aws:s3/bucketObjectv2:BucketObjectv2", 2, "runner bundle and config");
    add("aws:secretsmanager/secret:Secret", secrets, "static S3 keys of non-AWS endpoints", "Secrets Manager: a monthly charge per secret");
    add("aws:secretsmanager/secretVersion:SecretVersion", secrets, "their values");
    ociUser(add);
    otherKeys(add);
    add("aws:cloudwatch/logGroup:LogGroup", 1, `runner logs (${spec.logRetentionDays ?? 30} days)`);
    add("aws:cloudwatch/logMetricFilter:LogMetricFilter", 2, "run succeeded/failed metrics");
    add("aws:cloudwatch/metricAlarm:MetricAlarm", 2, "failed-run and stale alarms", "CloudWatch: a monthly charge per alarm");
    add("aws:ec2/securityGroup:SecurityGroup", 1, `no ingress; egress to ${[443, ...ports].join(", ")}`);
    add("aws:iam/role:Role", 1, "instance role (exact buckets and prefixes)");
    add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", 1, "SSM access (no SSH)");
    add("aws:iam/rolePolicy:RolePolicy", 1, "its policy");
    add("aws:iam/instanceProfile:InstanceProfile", 1, "instance profile");
    if (createNetwork) {
      add("aws:ec2/vpc:Vpc", 1, `VPC ${spec.network && "cidr" in spec.network && spec.network.cidr ? spec.network.cidr : "10.42.0.0/16"}`);
      add("aws:ec2/subnet:Subnet", 1, "private subnet");
      add("aws:ec2/routeTable:RouteTable", 1, "private route table");
      add("aws:ec2/routeTableAssociation:RouteTableAssociation", 1, "its association");
      add("aws:ec2/vpcEndpoint:VpcEndpoint", 1, "S3 gateway endpoint");
      if (needsNat) {
        add("aws:ec2/natGateway:NatGateway", 1, "NAT gateway (endpoints outside AWS S3 in this region)", "NAT gateway: an hourly charge plus a charge per GB processed");
        add("aws:ec2/eip:Eip", 1, "its public IPv4 address", "public IPv4 address: an hourly charge");
        add("aws:ec2/internetGateway:InternetGateway", 1, "internet gateway for the NAT");
        add("aws:ec2/subnet:Subnet", 1, "NAT's public subnet");
        add("aws:ec2/routeTable:RouteTable", 1, "NAT's route table");
        add("aws:ec2/routeTableAssociation:RouteTableAssociation", 1, "its association");
        add("aws:ec2/route:Route", 1, "default route to the NAT");
      } else {
        add("aws:ec2/vpcEndpoint:VpcEndpoint", 5, "interface endpoints: ssm, ssmmessages, ec2messages, logs, secretsmanager",
          "interface endpoints: an hourly charge each plus a charge per GB");
        add("aws:ec2/securityGroup:SecurityGroup", 1, "HTTPS to the interface endpoints");
      }
    }
  } else {
    const add = inv.group(`runner on oci-compute (${spec.region})`);
    const shape = spec.shape ?? "VM.Standard.E5.Flex";
    const size = shape.endsWith(".Flex") ? `, ${spec.ocpus ?? 1} OCPU, ${spec.memoryInGbs ?? 8} GB` : "";
    add("oci:Core/instance:Instance", 1, `runner VM, ${shape}${size}, 50 GB boot volume, private`, "compute (OCPU and memory hours) and its boot volume");
    add("oci:ObjectStorage/bucket:Bucket", 1, "artifacts bucket (bundle, config, runner state)");
    add("oci:ObjectStorage/storageObject:StorageObject", 2, "runner bundle and config");
    if (!(spec.vaultId && spec.vaultKeyId)) {
      add("oci:Kms/vault:Vault", 1, "vault for the runner's keys", "OCI Vault: key versions beyond the free allowance are billed");
      add("oci:Kms/key:Key", 1, "AES key of the vault");
    }
    add("oci:Vault/secret:Secret", secrets, "static S3 keys");
    ociUser(add);
    otherKeys(add);
    awsUser(add);
    add("oci:Identity/dynamicGroup:DynamicGroup", 1, "instance principal (this VM only)");
    add("oci:Identity/policy:Policy", 1, "artifacts, its secrets, metrics, logs");
    add("oci:Logging/logGroup:LogGroup", 1, "log group");
    add("oci:Logging/log:Log", 1, "runner log");
    add("oci:Logging/unifiedAgentConfiguration:UnifiedAgentConfiguration", 1, "ships the runner's log files");
    if (!spec.alarmTopic) add("oci:Ons/notificationTopic:NotificationTopic", 1, "alarm topic");
    add("oci:Monitoring/alarm:Alarm", 3, "failed-run, stale and silent alarms");
    let rules = 0;
    if (createNetwork) {
      add("oci:Core/vcn:Vcn", 1, `VCN ${spec.network && "cidr" in spec.network && spec.network.cidr ? spec.network.cidr : "10.43.0.0/16"}`);
      add("oci:Core/serviceGateway:ServiceGateway", 1, "service gateway (OCI services in this region)");
      if (needsNat) add("oci:Core/natGateway:NatGateway", 1, "NAT gateway (endpoints outside OCI in this region)", "outbound data transfer per GB beyond OCI's free allowance");
      add("oci:Core/routeTable:RouteTable", 1, "private route table");
      add("oci:Core/securityList:SecurityList", 1, "egress-only security list");
      add("oci:Core/subnet:Subnet", 1, "private subnet (no public IPs)");
      rules = 1 + (needsNat ? 1 + ports.length : 0);
    } else {
      rules = 1 + ports.length;
    }
    add("oci:Core/networkSecurityGroup:NetworkSecurityGroup", 1, "runner NSG (no ingress)");
    add("oci:Core/networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule", rules, "egress rules");
  }
  return { needsNat };
}

export interface ResourcePlan {
  groups: ResourceGroup[];
  /** Whether the runner gets a NAT gateway (undefined without a runner deployment). */
  natGateway?: boolean;
}

/** Every resource `pulumi up` creates for this plan, grouped, with the cost-relevant ones flagged. */
export function plannedResources(args: ReplicationTopologyArgs, plan: ReplicationPlan, settings: PlanSettings = {}): ResourcePlan {
  const inv = new Inventory();
  bucketResources(inv, args);
  nativeResources(inv, args, plan, settings);
  let natGateway: boolean | undefined;
  if (args.runner && plan.edges.some((e) => e.mechanism === "runner")) natGateway = runnerResources(inv, args, plan, args.runner).needsNat;
  return { groups: inv.groups.filter((g) => g.resources.length), natGateway };
}
