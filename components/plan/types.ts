// The topology model: what a user declares (buckets + links) and what the planner decides
// (directed edges, each with a mechanism and the reason for it). Pure types: nothing here may
// import Pulumi at runtime, so the planner runs in milliseconds without an engine.
import type * as pulumi from "@pulumi/pulumi";

export type AwsBucketSpec = {
  provider: "aws";
  bucket: string;
  region: string;
  accountId?: string;
  kmsKeyArn?: string;
  /** Create the bucket (default true). `false` references an existing bucket by name. */
  create?: boolean;
  /** AWS provider for the resources placed on this bucket (bucket, versioning, bucket policy), e.g.
   *  one that assumes a role in the destination account of a cross-account link. Default: the stack's. */
  pulumiProvider?: pulumi.ProviderResource;
};

export type OciBucketSpec = {
  provider: "oci";
  bucket: string;
  region: string;
  namespace: string;
  compartmentId: string;
  create?: boolean;
  /** OCI provider for this bucket's region. Default: the stack's provider when its `oci:region` is
   *  this region, otherwise one created for this region with the stack's `oci:` credentials. */
  pulumiProvider?: pulumi.ProviderResource;
};

export type S3BucketSpec = {
  provider: "s3";
  bucket: string;
  endpoint: string;
  region?: string;
  /** "s3-api": the endpoint implements PutBucketReplication (Exoscale SOS). Default "none". */
  nativeReplication?: "none" | "s3-api";
  /** s3-api replication from this bucket: the role in the provider's own format (Exoscale: the IAM
   *  role UUID the replication assumes). Required when this bucket is the source of an s3-native edge. */
  replicationRole?: string;
  credentials?: { accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> };
  /** Allow a plain-http endpoint that is not loopback (default false: such an endpoint is rejected). */
  insecure?: boolean;
};

/** An Alibaba Cloud OSS bucket. Native replication (`alicloud.oss.BucketReplication`) between OSS
 *  buckets of the stack's Alibaba Cloud account; the runner reaches OSS through its S3-compatible
 *  endpoint `https://s3.oss-<region>.aliyuncs.com` (virtual-hosted style) with a RAM user's keys. */
export type AlicloudBucketSpec = {
  provider: "alicloud";
  bucket: string;
  /** Region id, e.g. cn-hangzhou, eu-central-1, ap-southeast-1. */
  region: string;
  create?: boolean;
  /** Versioning of the bucket. Created buckets: turned on when true (default false). Referenced
   *  buckets (`create: false`): the state it is in, which OSS replication needs to know (both
   *  buckets of a native rule versioned, or both unversioned). Default false. */
  versioning?: boolean;
  /** A KMS key id: created buckets encrypt with SSE-KMS under it (default SSE-OSS, AES256); native
   *  rules from or to this bucket replicate SSE-KMS objects with a scoped RAM role. */
  kmsKeyId?: string;
  /** Alibaba Cloud provider for this bucket's region. Default: the stack's provider when its
   *  `alicloud:region` is this region, otherwise one created for the region. */
  pulumiProvider?: pulumi.ProviderResource;
};

/** A Linode (Akamai) Object Storage bucket. No native replication: always the runner, through the
 *  region's S3 endpoint with a limited access key the component creates. */
export type LinodeBucketSpec = {
  provider: "linode";
  bucket: string;
  /** Object Storage region, e.g. us-east, eu-central, se-sto (a legacy cluster id such as
   *  us-east-1 is accepted too). */
  region: string;
  /** S3 endpoint (default https://<region>-1.linodeobjects.com, or https://<cluster>.linodeobjects.com). */
  endpoint?: string;
  create?: boolean;
  /** Linode provider (token) for the bucket and the runner's key. Default: the stack's. */
  pulumiProvider?: pulumi.ProviderResource;
};

export type BucketSpec = AwsBucketSpec | OciBucketSpec | S3BucketSpec | AlicloudBucketSpec | LinodeBucketSpec;

export interface LinkOptions {
  /** Only keys under this prefix replicate. */
  prefix?: string;
  /** Propagate deletes. Default false for one-to-one/fan-out/fan-in, true for bidirectional. */
  deletes?: boolean;
  /** Default "auto". "native" where impossible is an error; "runner" forces the runner. */
  mechanism?: "auto" | "native" | "runner";
  // ---- native-replication options (AWS S3 rules; ignored where the mechanism has no equivalent)
  /** S3 Replication Time Control (15-minute SLA). Turns on replication metrics too. */
  replicationTime?: boolean;
  /** S3 replication metrics (CloudWatch), event threshold 15 minutes. */
  metrics?: boolean;
  /** S3 storage class of the replicas (e.g. "STANDARD_IA", "GLACIER_IR"). Default: the source's. */
  storageClass?: string;
  /** Copy objects that existed before native replication was set up. Default: true when the source
   *  bucket is referenced (`create: false`, it may hold data), false when this topology creates it. */
  backfill?: boolean;
}

export type LinkSpec =
  | ({ kind: "one-to-one"; from: string; to: string } & LinkOptions)
  | ({ kind: "bidirectional"; between: [string, string]; conflict?: "newer" | "keep-both" } & LinkOptions)
  | ({ kind: "fan-out"; from: string; to: string[] } & LinkOptions)
  | ({ kind: "fan-in"; from: string[]; to: string; targetPrefixes?: Record<string, string> } & LinkOptions);

export type LinkKind = LinkSpec["kind"];

/** Where and how the sync runner is deployed for the plan's runner edges (see components/deploy). */
export type RunnerPlatform = "aws-ec2" | "oci-compute" | "kubernetes" | "aws-ecs";

export interface RunnerSpec {
  platform: RunnerPlatform;
  /** Region the runner lives in (AWS region or OCI region identifier; kubernetes: the cluster's
   *  region, used as a label only). */
  region: string;
  /** Key-range shards per job (default 1, at most 256): one runner process per shard, each with
   *  `--shard K/N` (VMs: one systemd service + timer per shard; kubernetes: an Indexed Job with
   *  completions = parallelism = shards; aws-ecs: one scheduled task per shard). */
  shards?: number;
  /** Cron expression (5 fields, UTC). Default every 15 minutes: "*\/15 * * * *". */
  schedule?: string;
  /** Existing private subnets, or create a network (the default). */
  network?: { subnetIds: string[] } | { create?: true; cidr?: string };
  /** aws-ec2: instance type (default t3.small). */
  instanceType?: string;
  /** oci-compute: shape (default VM.Standard.E5.Flex) and its size. */
  shape?: string;
  ocpus?: number;
  memoryInGbs?: number;
  /** oci-compute: compartment for the runner's resources. */
  compartmentId?: string;
  /** Parallel transfers per job (default 16). */
  transfers?: number;
  /** Alarm notifications: an SNS topic ARN (aws) or an ONS topic OCID (oci). */
  alarmTopic?: string;
  // ---- optional, added by the runner deployment (components/deploy)
  /** The runner bundle to upload, relative to the working directory (default: the one that ships in the bucket-replication package). */
  bundlePath?: string;
  /** oci: tenancy OCID for identity resources (default: the oci:tenancyOcid config). */
  tenancyId?: string;
  /** oci-compute: an existing OCI Vault and AES key for the runner's secrets (default: create both). */
  vaultId?: string;
  vaultKeyId?: string;
  /** Log retention in days (CloudWatch Logs / OCI Logging; default 30). */
  logRetentionDays?: number;
  // ---- container platforms (kubernetes, aws-ecs)
  /** Container image. Default: the official Node image (DEFAULT_RUNNER_IMAGE, pinned by tag), with
   *  the bundle put in place by an init step that verifies its sha256. An image you build from
   *  deploy/container/Dockerfile (the bundle at /runner/runner.mjs) skips the init step. */
  image?: string;
  /** Memory of the runner container in MiB (request = limit; aws-ecs: the task's memory). Default:
   *  the job's memory figure (components/deploy/memory.ts), rounded up to a Fargate size on aws-ecs. */
  memory?: number;
  /** aws-ecs: task CPU units (256, 512, 1024, 2048, 4096; default 512). */
  cpu?: number;
  /** kubernetes: the provider (cluster and credentials) the runner's resources are created with.
   *  Default: the stack's default Kubernetes provider (ambient kubeconfig). */
  kubernetesProvider?: pulumi.ProviderResource;
  /** kubernetes: an existing namespace to deploy into (default: a namespace `<topology>-runner`
   *  is created). */
  namespace?: string;
  /** kubernetes: annotations of the runner's ServiceAccount, e.g. `eks.amazonaws.com/role-arn` (IRSA):
   *  then AWS buckets are reached with the pod's web identity instead of a static key, and the role
   *  must carry the policy the deployment exports (`awsPolicy`). */
  serviceAccountAnnotations?: Record<string, string>;
  /** kubernetes (required there): an existing bucket for the runner's state (provider aws, oci or s3;
   *  not one of the replicated buckets). The runner keeps its per-job, per-shard state and locks
   *  under `state/` in it. */
  stateBucket?: BucketSpec;
}

export interface ReplicationTopologyArgs {
  buckets: Record<string, BucketSpec>;
  links: LinkSpec[];
  runner?: RunnerSpec;
}

export type Mechanism = "aws-native" | "oci-native" | "s3-native" | "alicloud-native" | "runner";

export interface PlannedEdge {
  /** Bucket ids (keys of `buckets`). */
  from: string;
  to: string;
  /** Index of the link in `links` that produced this edge. */
  link: number;
  mechanism: Mechanism;
  /** Why this mechanism: names the provider constraint when native was not possible. */
  reason: string;
  // ---- optional detail (added by the planner; consumers may rely on it being set by planTopology)
  kind?: LinkKind;
  /** Whether deletes propagate along this edge. */
  deletes?: boolean;
  /** Keys under this prefix of `from` replicate ("" = all). */
  sourcePrefix?: string;
  /** ...and land under this prefix of `to` (differs from sourcePrefix only for fan-in targetPrefixes). */
  targetPrefix?: string;
  /** For bidirectional edges: the conflict policy of the pair. */
  conflict?: "newer" | "keep-both";
}

export interface ReplicationPlan {
  edges: PlannedEdge[];
}
