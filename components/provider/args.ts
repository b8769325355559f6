// The topology args as every Pulumi language sees them (through the component provider and the SDKs
// `pulumi package add` generates from its schema). Pulumi's schema inference
// (@pulumi/pulumi/provider/experimental) accepts interfaces, string/number/boolean, arrays,
// Record<string, T>, pulumi.Input<T>, and enums written as `as const` objects; it rejects unions,
// intersections and tuples. So each concept is one flat interface whose fields are optional where
// they belong to some providers/kinds/platforms only, and the TypeScript args (plan/types.ts) stay
// the rich unions. components/provider/convert.ts turns these into those, and the one planner
// (planTopology) validates both: a field that does not belong to the chosen provider, kind or
// platform is reported by it, with the fix.
//
// Everything the planner decides with (ids, regions, kinds, endpoints) is a plain value: the plan is
// made when the component is constructed, before any output is known. Only secrets are Inputs.
import type * as pulumi from "@pulumi/pulumi";

// Enums: `as const` objects (the form the schema inference turns into schema enums) whose values
// are exactly the strings the TypeScript args use. Member names become the enum names in the SDKs.

/** Where a bucket lives. */
export const BucketProvider = {
  /** Amazon S3. */
  Aws: "aws",
  /** OCI Object Storage. */
  Oci: "oci",
  /** Any S3-compatible endpoint (MinIO, Ceph, Exoscale SOS, R2, ...). */
  S3: "s3",
  /** Alibaba Cloud OSS. */
  Alicloud: "alicloud",
  /** Linode (Akamai) Object Storage. */
  Linode: "linode",
} as const;
export type BucketProvider = (typeof BucketProvider)[keyof typeof BucketProvider];

/** Native replication an s3 endpoint offers. */
export const NativeReplication = {
  /** None: links from this bucket use the runner. */
  None: "none",
  /** The endpoint implements PutBucketReplication (Exoscale SOS). */
  S3Api: "s3-api",
} as const;
export type NativeReplication = (typeof NativeReplication)[keyof typeof NativeReplication];

/** The shape of a link. */
export const LinkKind = {
  /** `from` → `to`. */
  OneToOne: "one-to-one",
  /** Both ways between the two buckets of `between`. */
  Bidirectional: "bidirectional",
  /** `from` → every bucket of `targets`. */
  FanOut: "fan-out",
  /** Every bucket of `sources` → `to`. */
  FanIn: "fan-in",
} as const;
export type LinkKind = (typeof LinkKind)[keyof typeof LinkKind];

/** How a link's edges replicate. */
export const LinkMechanism = {
  /** Native replication where the providers support exactly the link's semantics, else the runner. */
  Auto: "auto",
  /** Native replication; an error where it is impossible. */
  Native: "native",
  /** Always the sync runner. */
  Runner: "runner",
} as const;
export type LinkMechanism = (typeof LinkMechanism)[keyof typeof LinkMechanism];

/** Bidirectional links: which version survives when both sides changed a key. */
export const ConflictPolicy = {
  /** The newer version wins. */
  Newer: "newer",
  /** Both versions are kept (the loser under a conflict name). */
  KeepBoth: "keep-both",
} as const;
export type ConflictPolicy = (typeof ConflictPolicy)[keyof typeof ConflictPolicy];

/** Where the sync runner runs. */
export const RunnerPlatform = {
  /** An EC2 instance with a systemd timer per shard. */
  AwsEc2: "aws-ec2",
  /** An OCI compute instance with a systemd timer per shard. */
  OciCompute: "oci-compute",
  /** An Indexed CronJob in a Kubernetes cluster. */
  Kubernetes: "kubernetes",
  /** Fargate tasks started by EventBridge Scheduler, one schedule per shard. */
  AwsEcs: "aws-ecs",
} as const;
export type RunnerPlatform = (typeof RunnerPlatform)[keyof typeof RunnerPlatform];

/** Keys of an S3-compatible endpoint. Inputs: pass secrets (e.g. from config.requireSecret). */
export interface S3CredentialsArgs {
  accessKeyId: pulumi.Input<string>;
  secretAccessKey: pulumi.Input<string>;
}

/** A bucket. `provider` decides which of the other fields apply; the planner rejects the rest. */
export interface BucketArgs {
  provider: BucketProvider;
  /** The bucket's name at its provider. */
  bucket: string;
  /** Region (required for aws, oci, alicloud and linode; optional for s3). */
  region?: string;
  /** Create the bucket (default true). `false` references an existing bucket by name. aws, oci, alicloud, linode. */
  create?: boolean;
  /** aws: the account id of the bucket (cross-account links). */
  accountId?: string;
  /** aws: KMS key ARN the bucket encrypts with (SSE-KMS). */
  kmsKeyArn?: string;
  /** oci (required): the Object Storage namespace. */
  namespace?: string;
  /** oci (required): the compartment OCID. */
  compartmentId?: string;
  /** s3 (required): the endpoint URL; linode: overrides the region's endpoint. */
  endpoint?: string;
  /** s3: native replication of the endpoint (default none). */
  nativeReplication?: NativeReplication;
  /** s3 with nativeReplication s3-api, as the source of a native edge: the provider's replication role (Exoscale: IAM role UUID). */
  replicationRole?: string;
  /** s3: the keys the runner uses (default: from the runner's environment). */
  credentials?: S3CredentialsArgs;
  /** s3: allow a plain-http endpoint that is not loopback (default false). */
  insecure?: boolean;
  /** alicloud: the bucket is (create: false) or becomes (create: true) versioned. Default false. */
  versioning?: boolean;
  /** alicloud: a KMS key id for SSE-KMS. */
  kmsKeyId?: string;
}

/** A link between buckets (ids are keys of `buckets`). `kind` decides which endpoint fields apply. */
export interface LinkArgs {
  kind: LinkKind;
  /** one-to-one, fan-out: the source bucket. */
  from?: string;
  /** one-to-one, fan-in: the destination bucket. */
  to?: string;
  /** fan-out: the destination buckets (the TypeScript args' `to` list). */
  targets?: string[];
  /** fan-in: the source buckets (the TypeScript args' `from` list). */
  sources?: string[];
  /** bidirectional: exactly two buckets. */
  between?: string[];
  /** bidirectional: conflict policy (default newer). */
  conflict?: ConflictPolicy;
  /** fan-in: per source bucket id, the prefix its keys land under in `to`. */
  targetPrefixes?: Record<string, string>;
  /** Only keys under this prefix replicate. */
  prefix?: string;
  /** Propagate deletes. Default false for one-to-one/fan-out/fan-in, true for bidirectional. */
  deletes?: boolean;
  /** Default auto. */
  mechanism?: LinkMechanism;
  /** AWS native: S3 Replication Time Control (turns on metrics too). */
  replicationTime?: boolean;
  /** AWS native: replication metrics. */
  metrics?: boolean;
  /** AWS native: storage class of the replicas. */
  storageClass?: string;
  /** Copy objects that existed before native replication was set up (default: true for referenced sources). */
  backfill?: boolean;
}

/** The runner's network: existing private subnets (`subnetIds`), or a created one (`create`, `cidr`). Not both. */
export interface RunnerNetworkArgs {
  /** Existing private subnets. */
  subnetIds?: string[];
  /** Create a network (the default when `network` is absent). */
  create?: boolean;
  /** CIDR of the created network, /16 to /23 (default 10.42.0.0/16). */
  cidr?: string;
}

/** Where and how the sync runner is deployed. `platform` decides which fields apply. */
export interface RunnerArgs {
  platform: RunnerPlatform;
  /** Region the runner lives in (kubernetes: the cluster's region, a label only). */
  region: string;
  /** Key-range shards per job (default 1, at most 256). */
  shards?: number;
  /** Cron expression (5 fields, UTC). Default every 15 minutes. */
  schedule?: string;
  /** aws-ec2, oci-compute, aws-ecs: the network (default: create one). */
  network?: RunnerNetworkArgs;
  /** aws-ec2: instance type (default t3.small). */
  instanceType?: string;
  /** oci-compute: shape (default VM.Standard.E5.Flex). */
  shape?: string;
  /** oci-compute: OCPUs of the shape. */
  ocpus?: number;
  /** oci-compute: memory of the shape. */
  memoryInGbs?: number;
  /** oci-compute: compartment for the runner's resources. */
  compartmentId?: string;
  /** Parallel transfers per job (default 16). */
  transfers?: number;
  /** Alarm notifications: an SNS topic ARN (aws) or an ONS topic OCID (oci). */
  alarmTopic?: string;
  /** The runner bundle to upload (default: the one in this package). */
  bundlePath?: string;
  /** oci: tenancy OCID (default: the oci:tenancyOcid config). */
  tenancyId?: string;
  /** oci-compute: an existing OCI Vault for the runner's secrets. */
  vaultId?: string;
  /** oci-compute: an existing AES key in that vault. */
  vaultKeyId?: string;
  /** Log retention in days (default 30). Not on kubernetes. */
  logRetentionDays?: number;
  /** kubernetes, aws-ecs: the container image (default: the official Node image plus a verified bundle). */
  image?: string;
  /** kubernetes, aws-ecs: container memory in MiB. */
  memory?: number;
  /** aws-ecs: task CPU units (256, 512, 1024, 2048, 4096; default 512). */
  cpu?: number;
  /** kubernetes: an existing namespace (default: `<name>-runner` is created). */
  namespace?: string;
  /** kubernetes: annotations of the runner's ServiceAccount (e.g. eks.amazonaws.com/role-arn). */
  serviceAccountAnnotations?: Record<string, string>;
  /** kubernetes (required there): an existing aws, oci or s3 bucket for the runner's state. */
  stateBucket?: BucketArgs;
}

/** The args of the Topology component: the same topology as ReplicationTopologyArgs, flat. */
export interface TopologyArgs {
  /** The buckets, by id. */
  buckets: Record<string, BucketArgs>;
  /** The links between them. */
  links: LinkArgs[];
  /** The sync runner, required when an edge needs it. */
  runner?: RunnerArgs;
}

/** One directed edge of the plan. */
export interface TopologyEdge {
  from: string;
  to: string;
  /** Index of the link in `links` that produced this edge. */
  link: number;
  /** aws-native, oci-native, s3-native, alicloud-native or runner. */
  mechanism: string;
  /** Why this mechanism. */
  reason: string;
  /** The kind of the link (one-to-one, bidirectional, fan-out, fan-in). */
  kind?: string;
  /** Whether deletes propagate along this edge. */
  deletes?: boolean;
  /** Keys under this prefix of `from` replicate ("" = all) ... */
  sourcePrefix?: string;
  /** ... and land under this prefix of `to`. */
  targetPrefix?: string;
  /** Bidirectional edges: the conflict policy of the pair. */
  conflict?: string;
}

/** The plan: every directed edge with its mechanism and the reason. */
export interface TopologyPlan {
  edges: TopologyEdge[];
}
