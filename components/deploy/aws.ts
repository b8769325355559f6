// The runner on AWS EC2: private network (NAT only when an endpoint outside AWS-in-this-region must be
// reached), Amazon Linux 2023 with IMDSv2, encrypted root, SSM and no SSH; an instance role scoped to
// exact buckets and prefixes; static keys in Secrets Manager; logs + alarms in CloudWatch.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { BucketSpec } from "../plan/types.js";
import { renderBootstrap, METRIC_NAMESPACE } from "./bootstrap.js";
import { configJson, endpointPorts, sha256, STATE_PREFIX, type Core } from "./core.js";
import { awsArtifactsBucket, awsKeySecrets, awsRunnerNetwork, awsRunnerOptions } from "./aws-shared.js";
import { awsBucketStatements, policyDocument, type IamStatement } from "./policy.js";
import { outsideEndpoints } from "./runner-config.js";
import type { RunnerDeployment } from "./index.js";

export const AL2023_AMI_PARAMETER = {
  x86_64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
  arm64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
};

/** CloudWatch: period × evaluationPeriods ≤ 7 days (≤ 1 day when the period is under an hour). */
export function stalePeriodSeconds(longestGap: number): number {
  const p = Math.ceil((3 * longestGap) / 60) * 60;
  return Math.min(Math.max(p, 300), 604800);
}

export function deployAwsRunner(core: Core): RunnerDeployment {
  const { spec, name: n, ctx } = core;
  const region = spec.region;
  const { provider, o } = awsRunnerOptions(core, region);
  const artifacts = awsArtifactsBucket(core, o);
  const stateSpec = (bucket: string): BucketSpec => ({ provider: "aws", bucket, region });

  // ---- which endpoints leave "AWS S3 in this region" → NAT needed
  const structural = core.configFor(stateSpec("artifacts"));
  const needsNat = outsideEndpoints("aws-ec2", region, structural.config).length > 0;
  const extraPorts = endpointPorts(structural.config);

  // ---- static keys → Secrets Manager (values are Pulumi secrets; only ARNs reach the VM)
  const { secrets, unique: uniqueSecrets } = awsKeySecrets(core, core.keyEntries(stateSpec("artifacts")), o);

  // ---- logs
  const logGroup = new aws.cloudwatch.LogGroup(`${n}-logs`, {
    name: `/bucket-replication/${ctx.name}`,
    retentionInDays: spec.logRetentionDays ?? 30,
  }, o);

  // ---- network
  const net = awsRunnerNetwork(core, o, provider, {
    region,
    network: spec.network,
    defaultCidr: "10.42.0.0/16",
    nat: needsNat,
    // No NAT: SSM, CloudWatch Logs and Secrets Manager through interface endpoints.
    withoutNat: (vpc, priv, cidr) => {
      const epSg = new aws.ec2.SecurityGroup(`${n}-endpoints-sg`, {
        vpcId: vpc.id,
        description: "Interface endpoints: HTTPS from the runner VPC",
        ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: [cidr], description: "HTTPS from the VPC" }],
        egress: [],
      }, o);
      return ["ssm", "ssmmessages", "ec2messages", "logs", "secretsmanager"].map((svc) => new aws.ec2.VpcEndpoint(`${n}-${svc}-endpoint`, {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${region}.${svc}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: [priv.id],
        securityGroupIds: [epSg.id],
      }, o));
    },
  });
  const subnetId = net.subnetIds[0];
  const vpcId = net.vpcId;
  const networkDeps = net.deps;
  const sg = new aws.ec2.SecurityGroup(`${n}-sg`, {
    vpcId,
    description: "bucket-replication runner: no ingress; egress HTTPS (and the endpoints' explicit ports) only",
    ingress: [],
    egress: [443, ...extraPorts].map((port) => ({
      protocol: "tcp",
      fromPort: port,
      toPort: port,
      cidrBlocks: ["0.0.0.0/0"],
      description: port === 443 ? "HTTPS to object storage and AWS APIs" : `endpoint port ${port}`,
    })),
  }, o);

  // ---- instance role: exact buckets and prefixes, its own artifacts/state, its own secrets and log group
  const role = new aws.iam.Role(`${n}-role`, {
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    }),
    tags: { "bucket-replication": ctx.name },
  }, o);
  new aws.iam.RolePolicyAttachment(`${n}-ssm`, { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" }, o);
  const secretArns = uniqueSecrets.map((s) => s.arn);
  const policy = pulumi.all([artifacts.bucket, logGroup.arn, pulumi.all(secretArns)]).apply(([bucket, logArn, arns]) => {
    const st: IamStatement[] = [
      ...awsBucketStatements(ctx.args, core.access),
      { Sid: "ArtifactsList", Effect: "Allow", Action: ["s3:ListBucket"], Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { "s3:prefix": [`${STATE_PREFIX}*`] } } },
      { Sid: "ArtifactsRead", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${bucket}/runner/*`, `arn:aws:s3:::${bucket}/config/*`] },
      {
        Sid: "State",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
        Resource: `arn:aws:s3:::${bucket}/${STATE_PREFIX}*`,
      },
      { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], Resource: [logArn, `${logArn.replace(/:\*$/, "")}:*`] },
    ];
    if (arns.length) st.push({ Sid: "Keys", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: arns });
    return policyDocument(st);
  });
  const rolePolicy = new aws.iam.RolePolicy(`${n}-policy`, { role: role.id, policy }, o);
  const profile = new aws.iam.InstanceProfile(`${n}-profile`, { role: role.name }, o);

  // ---- bundle + config objects (keys carry their sha256)
  const bundleKey = `runner/${core.bundle.sha256}/runner.mjs`;
  const bundleObject = new aws.s3.BucketObjectv2(`${n}-bundle`, {
    bucket: artifacts.id,
    key: bundleKey,
    source: new pulumi.asset.FileAsset(core.bundle.path),
    contentType: "text/javascript",
  }, o);
  const config = artifacts.bucket.apply((b) => configJson(core.configFor(stateSpec(b)).config));
  const configSha = config.apply(sha256);
  const configKey = configSha.apply((s) => `config/${s}.json`);
  const configObject = new aws.s3.BucketObjectv2(`${n}-config`, {
    bucket: artifacts.id,
    key: configKey,
    content: config,
    contentType: "application/json",
  }, o);

  // ---- user data (no secrets: bucket/keys/ARNs only)
  const userData = pulumi
    .all([artifacts.bucket, configSha, logGroup.name, pulumi.all(Object.fromEntries(Object.entries(secrets).map(([k, s]) => [k, s.arn])))])
    .apply(([bucket, cSha, lg, secretRefs]) =>
      renderBootstrap({
        platform: "aws-ec2",
        name: ctx.name,
        schedule: core.schedule,
        shards: spec.shards,
        region,
        artifactsBucket: bucket,
        bundle: { key: bundleKey, sha256: core.bundle.sha256 },
        config: { key: `config/${cSha}.json`, sha256: cSha },
        secrets: secretRefs as Record<string, string>,
        logGroup: lg,
      }).userData,
    );

  // ---- instance
  const arch = /^[a-z]+\d+[a-z]*g[a-z]*\./.test(spec.instanceType ?? "") ? "arm64" : "x86_64";
  const ami = aws.ssm.getParameterOutput({ name: AL2023_AMI_PARAMETER[arch] }, { parent: ctx.parent, provider }).value;
  const instance = new aws.ec2.Instance(`${n}-instance`, {
    ami,
    instanceType: spec.instanceType ?? "t3.small",
    subnetId,
    vpcSecurityGroupIds: [sg.id],
    associatePublicIpAddress: false,
    iamInstanceProfile: profile.name,
    metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
    rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: 20, deleteOnTermination: true },
    userData,
    userDataReplaceOnChange: true,
    tags: { Name: n, "bucket-replication": ctx.name },
  }, { ...o, deleteBeforeReplace: true, dependsOn: [rolePolicy, bundleObject, configObject, ...networkDeps] });

  // ---- run metrics from the runner's JSON summary line, and the two alarms
  const dims = { Topology: "$.topology" };
  for (const [metric, status] of [["RunSucceeded", "ok"], ["RunFailed", "failed"]] as const) {
    new aws.cloudwatch.LogMetricFilter(`${n}-${metric}`, {
      logGroupName: logGroup.name,
      pattern: `{ $.event = "bucket-replication-run" && $.status = "${status}" }`,
      metricTransformation: { name: metric, namespace: METRIC_NAMESPACE, value: "1", dimensions: dims, unit: "Count" },
    }, o);
  }
  const actions = spec.alarmTopic ? [spec.alarmTopic] : [];
  new aws.cloudwatch.MetricAlarm(`${n}-failed`, {
    alarmDescription: `bucket-replication runner (${ctx.name}): a run failed (see log group /bucket-replication/${ctx.name})`,
    namespace: METRIC_NAMESPACE,
    metricName: "RunFailed",
    dimensions: { Topology: ctx.name },
    statistic: "Sum",
    period: 300,
    evaluationPeriods: 1,
    threshold: 0,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
    alarmActions: actions,
    okActions: actions,
  }, o);
  new aws.cloudwatch.MetricAlarm(`${n}-stale`, {
    alarmDescription: `bucket-replication runner (${ctx.name}): no successful run within 3 schedule periods (schedule "${core.schedule}")`,
    namespace: METRIC_NAMESPACE,
    metricName: "RunSucceeded",
    dimensions: { Topology: ctx.name },
    statistic: "Sum",
    period: stalePeriodSeconds(core.gaps.longest),
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: "LessThanThreshold",
    treatMissingData: "breaching",
    alarmActions: actions,
    okActions: actions,
  }, o);

  return { instanceId: instance.id, logGroup: logGroup.name, edges: core.edges, natGateway: needsNat };
}
