// The runner on ECS Fargate: a task definition (awsvpc, read-only root filesystem, uid 1000, no
// capabilities) in private subnets without a public IP; one EventBridge Scheduler schedule per shard,
// each running the task with its own `--shard K/N` (a container override of the command); a task role
// scoped to the exact buckets and prefixes and its own artifacts/state; an execution role that can
// read only this task's secrets and write only its log group; static keys from Secrets Manager through
// the container definition's `secrets` (never in `environment`); CloudWatch Logs, and the failure and
// staleness alarms of aws-ec2 on the run line every shard prints.
//
// The bundle: with runner.image (built from deploy/container/Dockerfile) it is in the image; else the
// official Node image runs it, and an init container (the official AWS CLI image) fetches it by its
// sha256-named key from the artifacts bucket with the task role, verifies the sha256
// (deploy/container/fetch-bundle.sh) and puts it on a task volume. The config comes the same way.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { BucketSpec } from "../plan/types.js";
import { METRIC_NAMESPACE } from "./bootstrap.js";
import { configJson, dnsName, endpointPorts, sha256, STATE_PREFIX, type Core } from "./core.js";
import {
  AWS_CLI_IMAGE,
  BUNDLE_DIR,
  BUNDLE_PATH,
  DEFAULT_RUNNER_IMAGE,
  envPrefixes,
  fargateSize,
  fetchBundleScript,
  NODE_OPTIONS,
  RUNNER_UID,
  runCommand,
  shardArgs,
  shardCount,
  WORK_DIR,
  withEnvCredentials,
} from "./container.js";
import { stalePeriodSeconds } from "./aws.js";
import { awsArtifactsBucket, awsKeySecrets, awsRunnerNetwork, awsRunnerOptions } from "./aws-shared.js";
import { awsBucketStatements, policyDocument, type IamStatement } from "./policy.js";
import { awsSchedulerCron, ScheduleError } from "./schedule.js";
import type { RunnerDeployment } from "./index.js";

const CONFIG_PATH = `${BUNDLE_DIR}/runner.json`;
const RUNNER_CONTAINER = "runner";

/** An image in a private ECR repository: the execution role needs to pull exactly it. */
function ecrRepository(image: string): { region: string; account: string; repo: string } | undefined {
  const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/.exec(image);
  return m ? { account: m[1], region: m[2], repo: m[3] } : undefined;
}

export function deployEcsRunner(core: Core): RunnerDeployment {
  const { spec, name: n, ctx } = core;
  const region = spec.region;
  const shards = shardCount(spec);
  let schedule: string;
  let size: { cpu: number; memory: number };
  try {
    schedule = awsSchedulerCron(core.schedule);
    size = fargateSize(spec);
  } catch (e) {
    // ScheduleError (names runner.schedule) or the Fargate size error (names runner.memory/cpu).
    if (e instanceof ScheduleError || e instanceof Error) throw new pulumi.ResourceError(e.message, ctx.parent);
    throw e;
  }
  const { provider, o } = awsRunnerOptions(core, region);
  const tags = { "bucket-replication": ctx.name };

  // ---- artifacts bucket: bundle, config, runner state
  const artifacts = awsArtifactsBucket(core, o);
  const stateSpec = (bucket: string): BucketSpec => ({ provider: "aws", bucket, region });
  const structural = core.configFor(stateSpec("artifacts"));
  const extraPorts = endpointPorts(structural.config);

  // ---- static keys → Secrets Manager; the container gets them as PREFIX_ACCESS_KEY_ID/_SECRET_ACCESS_KEY
  const entries = core.keyEntries(stateSpec("artifacts"));
  const prefixes = envPrefixes(Object.keys(entries));
  const { secrets, unique: uniqueSecrets } = awsKeySecrets(core, entries, o);

  // ---- logs
  const logGroup = new aws.cloudwatch.LogGroup(`${n}-logs`, {
    name: `/bucket-replication/${ctx.name}`,
    retentionInDays: spec.logRetentionDays ?? 30,
    tags,
  }, o);

  // ---- network: private subnets only. Fargate pulls the images (Docker Hub, public ECR) through a
  // NAT, so a created network always has one; its EIP is the only public address, on the NAT.
  const net = awsRunnerNetwork(core, o, provider, { region, network: spec.network, defaultCidr: "10.44.0.0/16", nat: true, vpcTags: tags });
  const subnetIds = net.subnetIds;
  const vpcId = net.vpcId;
  const networkDeps = net.deps;
  const natGateway = net.nat;
  const sg = new aws.ec2.SecurityGroup(`${n}-sg`, {
    vpcId,
    description: "bucket-replication runner tasks: no ingress; egress HTTPS (and the endpoints' explicit ports) only",
    ingress: [],
    egress: [443, ...extraPorts].map((port) => ({
      protocol: "tcp",
      fromPort: port,
      toPort: port,
      cidrBlocks: ["0.0.0.0/0"],
      description: port === 443 ? "HTTPS to object storage, image registries and AWS APIs" : `endpoint port ${port}`,
    })),
    tags,
  }, o);

  // ---- roles
  const trust = (service: string) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }] });
  // Task role: what the runner (and the init container's S3 fetch) does.
  const taskRole = new aws.iam.Role(`${n}-task-role`, { assumeRolePolicy: trust("ecs-tasks.amazonaws.com"), tags }, o);
  const taskPolicy = new aws.iam.RolePolicy(`${n}-task-policy`, {
    role: taskRole.id,
    policy: artifacts.bucket.apply((bucket) =>
      policyDocument([
        ...awsBucketStatements(ctx.args, core.access),
        { Sid: "ArtifactsList", Effect: "Allow", Action: ["s3:ListBucket"], Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { "s3:prefix": [`${STATE_PREFIX}*`] } } },
        { Sid: "ArtifactsRead", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${bucket}/runner/*`, `arn:aws:s3:::${bucket}/config/*`] },
        {
          Sid: "State",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
          Resource: `arn:aws:s3:::${bucket}/${STATE_PREFIX}*`,
        },
      ]),
    ),
  }, o);
  // Execution role: the ECS agent's — pull the image, write this log group, read this task's secrets.
  const image = spec.image ?? DEFAULT_RUNNER_IMAGE;
  const ecr = spec.image ? ecrRepository(spec.image) : undefined;
  const executionRole = new aws.iam.Role(`${n}-execution-role`, { assumeRolePolicy: trust("ecs-tasks.amazonaws.com"), tags }, o);
  const executionPolicy = new aws.iam.RolePolicy(`${n}-execution-policy`, {
    role: executionRole.id,
    policy: pulumi.all([logGroup.arn, pulumi.all(uniqueSecrets.map((s) => s.arn))]).apply(([logArn, arns]) => {
      const st: IamStatement[] = [
        { Sid: "Logs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logArn.replace(/:\*$/, "")}:*`] },
      ];
      if (arns.length) st.push({ Sid: "Keys", Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: arns });
      if (ecr) {
        // GetAuthorizationToken has no resource-level permission; the pull itself names the repository.
        st.push({ Sid: "EcrToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" });
        st.push({
          Sid: "EcrPull",
          Effect: "Allow",
          Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
          Resource: `arn:aws:ecr:${ecr.region}:${ecr.account}:repository/${ecr.repo}`,
        });
      }
      return policyDocument(st);
    }),
  }, o);

  // ---- bundle + config objects (keys carry their sha256)
  const bundleKey = `runner/${core.bundle.sha256}/runner.mjs`;
  const bundleObject = new aws.s3.BucketObjectv2(`${n}-bundle`, {
    bucket: artifacts.id,
    key: bundleKey,
    source: new pulumi.asset.FileAsset(core.bundle.path),
    contentType: "text/javascript",
  }, o);
  const config = artifacts.bucket.apply((b) => configJson(withEnvCredentials(core.configFor(stateSpec(b)).config, prefixes)));
  const configSha = config.apply(sha256);
  const configObject = new aws.s3.BucketObjectv2(`${n}-config`, {
    bucket: artifacts.id,
    key: configSha.apply((s) => `config/${s}.json`),
    content: config,
    contentType: "application/json",
  }, o);

  // ---- task definition
  const cluster = new aws.ecs.Cluster(`${n}-cluster`, { name: dnsName(n), tags }, o);
  const logOptions = (prefix: string) => ({
    logDriver: "awslogs",
    options: { "awslogs-group": logGroup.name, "awslogs-region": region, "awslogs-stream-prefix": prefix },
  });
  const secretRefs = Object.entries(secrets).map(([entry, s]) => ({ prefix: prefixes[entry], arn: s.arn }));
  const containerDefinitions = pulumi
    .all([artifacts.bucket, configSha, logGroup.name, pulumi.all(secretRefs.map((r) => r.arn))])
    .apply(([bucket, cSha, lg, arns]) => {
      const log = (prefix: string) => ({ ...logOptions(prefix), options: { ...logOptions(prefix).options, "awslogs-group": lg } });
      const fetch = (key: string, dest: string, sum: string) => `sh -c "$FETCH_BUNDLE_SH" fetch-bundle 's3://${bucket}/${key}' '${dest}' '${sum}'`;
      const init = [
        `mkdir -p ${WORK_DIR}/tmp ${WORK_DIR}/.init`,
        ...(spec.image ? [] : [fetch(bundleKey, BUNDLE_PATH, core.bundle.sha256)]),
        fetch(`config/${cSha}.json`, CONFIG_PATH, cSha),
        `chown -R ${RUNNER_UID}:${RUNNER_UID} ${WORK_DIR}`,
        `chmod 0700 ${WORK_DIR}`,
      ].join(" && ");
      // Static keys: JSON keys of the Secrets Manager secret, resolved by the agent at task start.
      const keyEnv = secretRefs.flatMap((r, i) => [
        { name: `${r.prefix}_ACCESS_KEY_ID`, valueFrom: `${arns[i]}:accessKeyId::` },
        { name: `${r.prefix}_SECRET_ACCESS_KEY`, valueFrom: `${arns[i]}:secretAccessKey::` },
      ]);
      return JSON.stringify([
        {
          name: "fetch",
          image: AWS_CLI_IMAGE,
          essential: false,
          // root only to hand the task volumes to uid 1000.
          user: "0",
          readonlyRootFilesystem: true,
          entryPoint: ["/bin/sh", "-c"],
          command: [init],
          environment: [
            { name: "FETCH_BUNDLE_SH", value: fetchBundleScript() },
            { name: "HOME", value: `${WORK_DIR}/.init` },
            { name: "TMPDIR", value: `${WORK_DIR}/tmp` },
            { name: "AWS_REGION", value: region },
          ],
          mountPoints: [
            { sourceVolume: "runner", containerPath: BUNDLE_DIR, readOnly: false },
            { sourceVolume: "work", containerPath: WORK_DIR, readOnly: false },
          ],
          // Fargate can add no capability back after dropping ALL: drop every default one but the
          // three the hand-over needs (chown, and writing into the volumes as their owner).
          linuxParameters: {
            capabilities: { drop: ["AUDIT_WRITE", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"] },
          },
          logConfiguration: log("fetch"),
        },
        {
          name: RUNNER_CONTAINER,
          image,
          essential: true,
          user: `${RUNNER_UID}:${RUNNER_UID}`,
          readonlyRootFilesystem: true,
          entryPoint: ["/bin/sh", "-c"],
          // The unsharded command; each schedule overrides it with its own --shard K/N.
          command: runCommand(ctx.name, "aws-ecs", CONFIG_PATH, []).slice(2),
          dependsOn: [{ containerName: "fetch", condition: "SUCCESS" }],
          environment: [
            { name: "NODE_OPTIONS", value: NODE_OPTIONS },
            { name: "HOME", value: WORK_DIR },
            { name: "TMPDIR", value: `${WORK_DIR}/tmp` },
            { name: "AWS_REGION", value: region },
            { name: "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED", value: "true" },
          ],
          secrets: keyEnv,
          mountPoints: [
            { sourceVolume: "runner", containerPath: BUNDLE_DIR, readOnly: true },
            { sourceVolume: "work", containerPath: WORK_DIR, readOnly: false },
          ],
          linuxParameters: { capabilities: { drop: ["ALL"] }, initProcessEnabled: true },
          logConfiguration: log("runner"),
        },
      ]);
    });
  const taskDefinition = new aws.ecs.TaskDefinition(`${n}-task`, {
    family: dnsName(n),
    requiresCompatibilities: ["FARGATE"],
    networkMode: "awsvpc",
    cpu: String(size.cpu),
    memory: String(size.memory),
    executionRoleArn: executionRole.arn,
    taskRoleArn: taskRole.arn,
    runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
    volumes: [{ name: "runner" }, { name: "work" }],
    containerDefinitions,
    tags,
  }, { ...o, dependsOn: [taskPolicy, executionPolicy, bundleObject, configObject] });

  // ---- one schedule per shard (EventBridge Scheduler runs the task; ECS gives no shard index)
  const schedulerRole = new aws.iam.Role(`${n}-scheduler-role`, { assumeRolePolicy: trust("scheduler.amazonaws.com"), tags }, o);
  const schedulerPolicy = new aws.iam.RolePolicy(`${n}-scheduler-policy`, {
    role: schedulerRole.id,
    policy: pulumi.all([taskDefinition.arn, cluster.arn, taskRole.arn, executionRole.arn]).apply(([td, clusterArn, tr, er]) =>
      policyDocument([
        {
          Sid: "RunTask",
          Effect: "Allow",
          Action: ["ecs:RunTask"],
          // Any revision of this family (a new revision does not race the schedule's update).
          Resource: [td.replace(/:\d+$/, ":*")],
          Condition: { ArnEquals: { "ecs:cluster": clusterArn } },
        },
        { Sid: "PassRoles", Effect: "Allow", Action: ["iam:PassRole"], Resource: [tr, er] },
      ]),
    ),
  }, o);
  const schedules: aws.scheduler.Schedule[] = [];
  for (let k = 0; k < shards; k++) {
    const command = runCommand(ctx.name, "aws-ecs", CONFIG_PATH, shards === 1 ? [] : shardArgs(k, shards)).slice(2);
    schedules.push(new aws.scheduler.Schedule(shards === 1 ? `${n}-schedule` : `${n}-schedule-${k}`, {
      name: dnsName(shards === 1 ? n : `${n}-shard-${k}`, 64),
      description: `bucket-replication runner (${ctx.name})${shards === 1 ? "" : `, shard ${k}/${shards}`}: cron "${core.schedule}" UTC`,
      scheduleExpression: schedule,
      scheduleExpressionTimezone: "Etc/UTC",
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: cluster.arn,
        roleArn: schedulerRole.arn,
        ecsParameters: {
          taskDefinitionArn: taskDefinition.arn,
          launchType: "FARGATE",
          platformVersion: "LATEST",
          taskCount: 1,
          networkConfiguration: { subnets: subnetIds, securityGroups: [sg.id], assignPublicIp: false },
          tags: { "bucket-replication": ctx.name, shard: `${k}/${shards}` },
        },
        input: JSON.stringify({ containerOverrides: [{ name: RUNNER_CONTAINER, command }] }),
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: Math.max(60, Math.min(86400, Math.floor(core.gaps.shortest / 2))) },
      },
    }, { ...o, dependsOn: [schedulerPolicy, ...networkDeps] }));
  }

  // ---- run metrics from the run line (every shard prints one), and the aws-ec2 alarms
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
    alarmDescription: `bucket-replication runner (${ctx.name}): fewer successful runs than shards (${shards}) within 3 schedule periods (schedule "${core.schedule}")`,
    namespace: METRIC_NAMESPACE,
    metricName: "RunSucceeded",
    dimensions: { Topology: ctx.name },
    statistic: "Sum",
    period: stalePeriodSeconds(core.gaps.longest),
    evaluationPeriods: 1,
    threshold: shards,
    comparisonOperator: "LessThanThreshold",
    treatMissingData: "breaching",
    alarmActions: actions,
    okActions: actions,
  }, o);

  return { instanceId: taskDefinition.arn, logGroup: logGroup.name, edges: core.edges, natGateway };
}
