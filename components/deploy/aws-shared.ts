// What the two AWS runner platforms (aws-ec2: aws.ts, aws-ecs: ecs.ts) create alike: the provider
// for the runner's region, the private artifacts bucket (bundle, config, runner state), the static
// keys in Secrets Manager, and the private network (a private subnet with an S3 gateway endpoint,
// and a NAT in a public subnet of its own when the runner must reach beyond AWS S3 in its region).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { RunnerSpec } from "../plan/types.js";
import { alicloudRunnerUser, linodeRunnerKey } from "./static-keys.js";
import { dnsName, keyPayloads, ociBucketsFor, ociRunnerUser, ociTenancy, subnetCidrs, type Core } from "./core.js";

/** The provider for the runner's region: the stack's own when its aws:region is that region. */
export function awsRunnerOptions(core: Core, region: string): { provider?: aws.Provider; o: pulumi.CustomResourceOptions } {
  const defaultRegion = new pulumi.Config("aws").get("region") ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const provider = defaultRegion === region ? undefined : new aws.Provider(`${core.name}-aws`, { region: region as aws.Region }, core.opts);
  return { provider, o: { ...core.opts, provider } };
}

/** The artifacts bucket: public access blocked, SSE-S3; `state/` in it survives the runner's replacement. */
export function awsArtifactsBucket(core: Core, o: pulumi.CustomResourceOptions): aws.s3.Bucket {
  const n = core.name;
  const artifacts = new aws.s3.Bucket(`${n}-artifacts`, { bucketPrefix: `${dnsName(n, 36)}-`, forceDestroy: true, tags: { "bucket-replication": core.ctx.name } }, o);
  new aws.s3.BucketPublicAccessBlock(`${n}-artifacts-pab`, {
    bucket: artifacts.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  }, o);
  new aws.s3.BucketServerSideEncryptionConfiguration(`${n}-artifacts-sse`, {
    bucket: artifacts.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
  }, o);
  return artifacts;
}

/** The static keys of the endpoint entries in Secrets Manager: one secret per key (entries sharing
 *  a key, e.g. two OCI regions of one tenancy, share it). AWS buckets use the runner's own role. */
export function awsKeySecrets(core: Core, entries: Record<string, string[]>, o: pulumi.CustomResourceOptions): { secrets: Record<string, aws.secretsmanager.Secret>; unique: aws.secretsmanager.Secret[] } {
  const n = core.name;
  const ctx = core.ctx;
  const payloads = keyPayloads(core, entries, {
    alicloud: () => alicloudRunnerUser(core),
    linode: () => linodeRunnerKey(core),
    oci: () => ociRunnerUser(core, ociTenancy(core), ociBucketsFor(core)).payload,
    aws: () => {
      throw new pulumi.ResourceError("runner: unexpected static AWS key for a runner on AWS", ctx.parent);
    },
  });
  const secrets: Record<string, aws.secretsmanager.Secret> = {};
  const bySource = new Map<pulumi.Output<string>, aws.secretsmanager.Secret>();
  for (const [entry, payload] of Object.entries(payloads)) {
    let secret = bySource.get(payload);
    if (!secret) {
      secret = new aws.secretsmanager.Secret(`${n}-key-${entry}`, {
        namePrefix: `bucket-replication/${ctx.name}/${entry}-`,
        description: `bucket-replication runner (${ctx.name}): S3 keys for endpoint ${entry}`,
        recoveryWindowInDays: 7,
      }, o);
      new aws.secretsmanager.SecretVersion(`${n}-key-${entry}`, { secretId: secret.id, secretString: pulumi.secret(payload) }, o);
      bySource.set(payload, secret);
    }
    secrets[entry] = secret;
  }
  return { secrets, unique: [...bySource.values()] };
}

export interface AwsNetwork {
  subnetIds: pulumi.Input<string>[];
  vpcId: pulumi.Input<string>;
  /** What the runner must wait for (routes, endpoints). */
  deps: pulumi.Resource[];
  /** Whether a NAT gateway was created. */
  nat: boolean;
}

/**
 * The runner's network: the user's existing private subnets, or a created VPC with one private
 * subnet (no public IPs), an S3 gateway endpoint, and, when `nat`, a NAT gateway in a public subnet
 * of its own (its EIP is the only public address). Without a NAT, `withoutNat` adds what the runner
 * needs instead (aws-ec2: interface endpoints for SSM, logs and Secrets Manager).
 */
export function awsRunnerNetwork(
  core: Core,
  o: pulumi.CustomResourceOptions,
  provider: aws.Provider | undefined,
  opts: { region: string; network: RunnerSpec["network"]; defaultCidr: string; nat: boolean; vpcTags?: Record<string, string>; withoutNat?: (vpc: aws.ec2.Vpc, subnet: aws.ec2.Subnet, cidr: string) => pulumi.Resource[] },
): AwsNetwork {
  const n = core.name;
  const ctx = core.ctx;
  const network = opts.network;
  if (network && "subnetIds" in network) {
    if (!network.subnetIds.length) throw new pulumi.ResourceError("runner.network.subnetIds must list at least one private subnet", ctx.parent);
    return { subnetIds: network.subnetIds, vpcId: aws.ec2.getSubnetOutput({ id: network.subnetIds[0] }, { parent: ctx.parent, provider }).vpcId, deps: [], nat: false };
  }
  const cidr = network?.cidr ?? opts.defaultCidr;
  let blocks: { public: string; private: string };
  try {
    blocks = subnetCidrs(cidr);
  } catch (e) {
    throw new pulumi.ResourceError((e as Error).message, ctx.parent);
  }
  const deps: pulumi.Resource[] = [];
  const az = aws.getAvailabilityZonesOutput({ state: "available" }, { parent: ctx.parent, provider }).names[0];
  const vpc = new aws.ec2.Vpc(`${n}-vpc`, { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: n, ...opts.vpcTags } }, o);
  const priv = new aws.ec2.Subnet(`${n}-private`, {
    vpcId: vpc.id,
    cidrBlock: blocks.private,
    availabilityZone: az,
    mapPublicIpOnLaunch: false,
    tags: { Name: `${n}-private` },
  }, o);
  const privRt = new aws.ec2.RouteTable(`${n}-private-rt`, { vpcId: vpc.id, tags: { Name: `${n}-private` } }, o);
  deps.push(new aws.ec2.RouteTableAssociation(`${n}-private-rta`, { subnetId: priv.id, routeTableId: privRt.id }, o));
  deps.push(new aws.ec2.VpcEndpoint(`${n}-s3-endpoint`, {
    vpcId: vpc.id,
    serviceName: `com.amazonaws.${opts.region}.s3`,
    vpcEndpointType: "Gateway",
    routeTableIds: [privRt.id],
    tags: { Name: `${n}-s3` },
  }, o));
  if (opts.nat) {
    // The NAT's own subnet is public (route to the IGW); the runner's subnet only routes to the NAT.
    const igw = new aws.ec2.InternetGateway(`${n}-igw`, { vpcId: vpc.id, tags: { Name: n } }, o);
    const pub = new aws.ec2.Subnet(`${n}-nat-public`, {
      vpcId: vpc.id,
      cidrBlock: blocks.public,
      availabilityZone: az,
      mapPublicIpOnLaunch: false,
      tags: { Name: `${n}-nat-public` },
    }, o);
    const pubRt = new aws.ec2.RouteTable(`${n}-nat-public-rt`, {
      vpcId: vpc.id,
      routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      tags: { Name: `${n}-nat-public` },
    }, o);
    new aws.ec2.RouteTableAssociation(`${n}-nat-public-rta`, { subnetId: pub.id, routeTableId: pubRt.id }, o);
    const eip = new aws.ec2.Eip(`${n}-nat-eip`, { domain: "vpc", tags: { Name: `${n}-nat` } }, o);
    const nat = new aws.ec2.NatGateway(`${n}-nat`, { subnetId: pub.id, allocationId: eip.id, tags: { Name: n } }, { ...o, dependsOn: [igw] });
    deps.push(new aws.ec2.Route(`${n}-private-default`, { routeTableId: privRt.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id }, o));
  } else if (opts.withoutNat) {
    deps.push(...opts.withoutNat(vpc, priv, cidr));
  }
  return { subnetIds: [priv.id], vpcId: vpc.id, deps, nat: opts.nat };
}
