// The container platforms (kubernetes, aws-ecs) and runner.shards under Pulumi mocks: every resource
// the component registers is captured with its inputs and checked: the CronJob (Indexed, completions
// = parallelism = shards, Forbid, UTC), the hardened pod, the NetworkPolicy, the ECS task definition
// (awsvpc, keys only as `secrets` ARNs) and one Scheduler schedule per shard with its own --shard K/N;
// no secret in a ConfigMap, environment, task-definition literal or any plain input; no public IP;
// the generated runner config passes validateConfig; VMs with shards = 3 render 3 timers.
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReplicationPlan, ReplicationTopologyArgs, RunnerSpec } from "../../components/plan/types.js";
import { plannedResources } from "../../components/plan/review.js";
import { validateConfig } from "../../runner/config/validate.js";
import { providerCall } from "../support/pulumi-calls.js";
import { awsToOciFanOut, TEST_SECRET } from "./fixtures.js";

interface Res {
  type: string;
  name: string;
  inputs: Record<string, any>;
  raw: Record<string, any>;
}
const resources: Res[] = [];
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function unwrap(v: any): any {
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === "object") {
    if (v[SECRET_SIG] !== undefined) return unwrap(v.value);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}
const isSecretWrapped = (v: any) => !!v && typeof v === "object" && v[SECRET_SIG] !== undefined;

pulumi.runtime.setMocks(
  {
    newResource(args) {
      const state: Record<string, any> = unwrap(args.inputs);
      switch (args.type) {
        case "aws:s3/bucket:Bucket":
          state.bucket = `${args.inputs.bucketPrefix ?? args.name}abc123`;
          state.arn = `arn:aws:s3:::${state.bucket}`;
          break;
        case "aws:cloudwatch/logGroup:LogGroup":
          state.arn = `arn:aws:logs:us-east-1:123456789012:log-group:${args.inputs.name}`;
          break;
        case "aws:secretsmanager/secret:Secret":
          state.arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${args.name}-AbCdEf`;
          break;
        case "aws:iam/role:Role":
          state.arn = `arn:aws:iam::123456789012:role/${args.name}`;
          break;
        case "aws:ecs/cluster:Cluster":
          state.arn = `arn:aws:ecs:us-east-1:123456789012:cluster/${args.inputs.name}`;
          break;
        case "aws:ecs/taskDefinition:TaskDefinition":
          state.arn = `arn:aws:ecs:us-east-1:123456789012:task-definition/${args.inputs.family}:1`;
          break;
        case "aws:iam/accessKey:AccessKey":
          state.secret = TEST_SECRET;
          break;
        case "oci:Identity/customerSecretKey:CustomerSecretKey":
          state.key = TEST_SECRET;
          break;
      }
      resources.push({ type: args.type, name: args.name, inputs: unwrap(args.inputs), raw: args.inputs });
      return { id: args.type.startsWith("oci:") ? `ocid1.${args.name}` : `${args.name}_id`, state };
    },
    call(args) {
      return providerCall(args.token, args.inputs) ?? args.inputs;
    },
  },
  "project",
  "stack",
  false,
);

let deployRunner: typeof import("../../components/deploy/index.js").deployRunner;
const bundleDir = mkdtempSync(join(tmpdir(), "bundle-"));
const bundlePath = join(bundleDir, "runner.mjs");
const BUNDLE = "console.log('runner');\n".repeat(200);
writeFileSync(bundlePath, BUNDLE);
const sha = (c: string | Buffer) => createHash("sha256").update(c).digest("hex");

beforeAll(async () => {
  ({ deployRunner } = await import("../../components/deploy/index.js"));
});

class Parent extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:Topology", name, {}, {});
  }
}

async function settle(): Promise<void> {
  let n = -1;
  let stable = 0;
  while (stable < 3) {
    await new Promise((r) => setTimeout(r, 30));
    if (resources.length === n) stable++;
    else {
      stable = 0;
      n = resources.length;
    }
  }
}

async function deploy(name: string, args: ReplicationTopologyArgs, plan: ReplicationPlan) {
  const start = resources.length;
  args.runner = { ...args.runner!, bundlePath, tenancyId: "ocid1.tenancy.oc1..t" };
  const d = deployRunner({ parent: new Parent(name), name, args, plan }, {});
  if (!d) throw new Error("no deployment");
  await new Promise<string>((r) => d.instanceId.apply(r));
  await settle();
  const mine = resources.slice(start);
  const of = (type: string) => mine.filter((r) => r.type === type);
  checkInventory(args, plan, mine);
  return { d, mine, of };
}

/** The plan's resource list (what `npm run plan` shows a reviewer) names exactly what was registered. */
function checkInventory(args: ReplicationTopologyArgs, plan: ReplicationPlan, mine: Res[]) {
  const group = plannedResources(args, plan).groups.find((g) => g.name.startsWith("runner on"));
  expect(group, "the plan lists the runner's resources").toBeDefined();
  const planned: Record<string, number> = {};
  for (const r of group!.resources) planned[r.type] = (planned[r.type] ?? 0) + r.count;
  const registered: Record<string, number> = {};
  for (const r of mine) if (!r.type.startsWith("pulumi:providers:") && !r.type.startsWith("test:")) registered[r.type] = (registered[r.type] ?? 0) + 1;
  expect(planned).toEqual(registered);
}

/** Every string in a raw input that is NOT inside a Pulumi secret wrapper. */
function plainStrings(v: any, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => plainStrings(x, out));
  else if (v && typeof v === "object" && v[SECRET_SIG] === undefined) Object.values(v).forEach((x) => plainStrings(x, out));
  return out;
}
function checkNoPlainSecret(mine: Res[]) {
  let strings = 0;
  for (const r of mine)
    for (const s of plainStrings(r.raw)) {
      strings++;
      expect(s.includes(TEST_SECRET), `${r.type} ${r.name} has the secret in plain text`).toBe(false);
    }
  expect(strings).toBeGreaterThan(20);
}

/** AWS → OCI fan-out (exports/ prefix), the runner on a container platform. */
function fanOut(runner: Partial<RunnerSpec>): { args: ReplicationTopologyArgs; plan: ReplicationPlan } {
  const { args, plan } = awsToOciFanOut("aws-ec2");
  args.runner = { platform: "aws-ec2", region: "us-east-1", schedule: "0 * * * *", ...runner } as RunnerSpec;
  return { args, plan };
}
const AWS_STATE = { provider: "aws", bucket: "runner-state-k8s", region: "eu-west-1", create: false } as const;

describe("runner on kubernetes", () => {
  it("an Indexed CronJob with completions = parallelism = shards, a hardened pod, config in a ConfigMap, keys in a Secret", async () => {
    const { args, plan } = fanOut({ platform: "kubernetes", shards: 3, stateBucket: { ...AWS_STATE } });
    const { d, of, mine } = await deploy("k8s", args, plan);
    expect(d.edges).toEqual(["src->lon", "src->fra"]);
    expect(d.awsPolicy).toBeUndefined();

    const [ns] = of("kubernetes:core/v1:Namespace");
    expect(ns.inputs.metadata.name).toBe("k8s-runner");
    expect(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");

    // the config: validates, state in the state bucket, keys as files in the Secret's mount, no secret
    const configMap = of("kubernetes:core/v1:ConfigMap").find((c) => c.inputs.data?.["runner.json"])!;
    const text = configMap.inputs.data["runner.json"] as string;
    expect(text).not.toContain(TEST_SECRET);
    const cfg = validateConfig(JSON.parse(text));
    expect(cfg.jobs.map((j) => [j.name, j.mode])).toEqual([["src-to-lon-and-fra", "copy"]]);
    expect(cfg.state).toMatchObject({ bucket: "runner-state-k8s", prefix: "state/" });
    const files = Object.values(cfg.endpoints).map((e: any) => e.credentials?.file).filter(Boolean).sort();
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f).toMatch(/^\/run\/bucket-replication\/credentials\/[\w.-]+\.json$/);

    // the Secret: one file per credentials entry, each a Pulumi secret; the AWS key covers the state prefix
    const [secret] = of("kubernetes:core/v1:Secret");
    expect(Object.keys(secret.inputs.stringData).map((k) => `/run/bucket-replication/credentials/${k}`).sort()).toEqual(files);
    for (const v of Object.values(secret.raw.stringData)) expect(isSecretWrapped(v) || isSecretWrapped(secret.raw.stringData)).toBe(true);
    expect(Object.values(secret.inputs.stringData).map((v: any) => JSON.parse(v).secretAccessKey)).toContain(TEST_SECRET);
    const awsUserPolicy = JSON.parse(of("aws:iam/userPolicy:UserPolicy")[0].inputs.policy);
    const resourcesOf = awsUserPolicy.Statement.flatMap((s: any) => [].concat(s.Resource));
    expect(resourcesOf).toContain("arn:aws:s3:::runner-state-k8s/state/*");
    expect(resourcesOf).toContain("arn:aws:s3:::orders-us/exports/*");
    expect(resourcesOf.some((r: string) => r === "*" || r.includes("orders-lon"))).toBe(false);

    // the CronJob
    const [cron] = of("kubernetes:batch/v1:CronJob");
    const spec = cron.inputs.spec;
    expect(spec).toMatchObject({ schedule: "0 * * * *", timeZone: "Etc/UTC", concurrencyPolicy: "Forbid", successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 3 });
    expect(spec.startingDeadlineSeconds).toBeGreaterThan(0);
    const job = spec.jobTemplate.spec;
    expect(job).toMatchObject({ completionMode: "Indexed", completions: 3, parallelism: 3, backoffLimitPerIndex: 2 });
    expect(job.podFailurePolicy.rules).toEqual([{ action: "FailIndex", onExitCodes: { containerName: "runner", operator: "In", values: [3] } }]);
    const pod = job.template.spec;
    expect(pod).toMatchObject({ restartPolicy: "Never", hostNetwork: false, hostPID: false, hostIPC: false, automountServiceAccountToken: false });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
    const [runner] = pod.containers;
    expect(runner.name).toBe("runner");
    expect(runner.image).toBe("node:22.20.0-alpine3.22");
    expect(runner.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    // memory request = limit = the job's memory figure (transfers 16, 8 MiB parts, listConcurrency 32)
    expect(runner.resources).toEqual({ requests: { cpu: "250m", memory: "915Mi" }, limits: { memory: "915Mi" } });
    expect(runner.command.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(runner.command.slice(3)).toEqual(["bucket-replication", "/config/runner.json", "--shard", "auto/3"]);
    expect(runner.command[2]).toContain('node /runner/runner.mjs run --config "$@"');
    for (const e of runner.env) expect(`${e.name}=${e.value}`).not.toMatch(/SECRET|ACCESS_KEY|TEST-SECRET/);
    // the heap limits of the memory figure (old space and young generation), as on the VMs
    expect(runner.env).toContainEqual({ name: "NODE_OPTIONS", value: "--max-old-space-size=192 --max-semi-space-size=32" });
    expect(Object.fromEntries(runner.volumeMounts.map((m: any) => [m.mountPath, !!m.readOnly]))).toEqual({
      "/config": true,
      "/var/lib/bucket-replication": false,
      "/tmp": false,
      "/run/bucket-replication/credentials": true,
      "/runner": true,
    });
    // the init container puts the gzip'd bundle from its ConfigMap in place, verified by sha256
    const [init] = pod.initContainers;
    expect(init.command).toEqual(["/bin/sh", "/bootstrap/fetch-bundle.sh", "/bootstrap/runner.mjs.gz", "/runner/runner.mjs", sha(BUNDLE)]);
    expect(init.securityContext.readOnlyRootFilesystem).toBe(true);
    const bundleMap = of("kubernetes:core/v1:ConfigMap").find((c) => c.inputs.binaryData)!;
    expect(gunzipSync(Buffer.from(bundleMap.inputs.binaryData["runner.mjs.gz"], "base64")).toString()).toBe(BUNDLE);
    expect(bundleMap.inputs.data["fetch-bundle.sh"]).toMatch(/^#!\/bin\/sh/);

    // network: no ingress, egress DNS + 443 only; nothing exposed, no host networking anywhere
    const [np] = of("kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(np.inputs.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(np.inputs.spec.ingress).toEqual([]);
    expect(np.inputs.spec.podSelector.matchLabels).toEqual(cron.inputs.spec.jobTemplate.spec.template.metadata.labels);
    expect(np.inputs.spec.egress.flatMap((e: any) => e.ports.map((p: any) => `${p.protocol}/${p.port}`)).sort()).toEqual(["TCP/443", "TCP/53", "UDP/53"]);
    expect(of("kubernetes:core/v1:Service")).toHaveLength(0);
    for (const r of mine) expect(JSON.stringify(r.inputs)).not.toMatch(/"hostNetwork":true|LoadBalancer|NodePort|"privileged":true/);

    // no secret anywhere outside a Pulumi secret; none in any ConfigMap or container env
    checkNoPlainSecret(mine);
    for (const c of of("kubernetes:core/v1:ConfigMap")) expect(JSON.stringify(c.inputs)).not.toContain(TEST_SECRET);
    expect(JSON.stringify(cron.inputs)).not.toContain(TEST_SECRET);
  });

  it("one shard: no --shard flag (the unsharded run); a user-built image skips the init step", async () => {
    const { args, plan } = fanOut({ platform: "kubernetes", stateBucket: { ...AWS_STATE }, image: "registry.example.com/runner:1.2.3", namespace: "replication" });
    const { of } = await deploy("k8s-one", args, plan);
    expect(of("kubernetes:core/v1:Namespace")).toHaveLength(0);
    const [cron] = of("kubernetes:batch/v1:CronJob");
    expect(cron.inputs.metadata.namespace).toBe("replication");
    const job = cron.inputs.spec.jobTemplate.spec;
    expect(job).toMatchObject({ completionMode: "Indexed", completions: 1, parallelism: 1 });
    const pod = job.template.spec;
    expect(pod.initContainers).toEqual([]);
    expect(pod.containers[0].image).toBe("registry.example.com/runner:1.2.3");
    expect(pod.containers[0].command.slice(3)).toEqual(["bucket-replication", "/config/runner.json"]);
    expect(of("kubernetes:core/v1:ConfigMap").filter((c) => c.inputs.binaryData)).toHaveLength(0);
  });

  it("with IRSA: no static AWS key; the role's policy is exported; the token is mounted", async () => {
    const { args, plan } = fanOut({
      platform: "kubernetes",
      shards: 2,
      stateBucket: { ...AWS_STATE },
      serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/runner" },
    });
    const { d, of } = await deploy("k8s-irsa", args, plan);
    expect(of("aws:iam/user:User")).toHaveLength(0);
    const [sa] = of("kubernetes:core/v1:ServiceAccount");
    expect(sa.inputs.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/runner" });
    expect(sa.inputs.automountServiceAccountToken).toBe(true);
    const policy = JSON.parse(d.awsPolicy!);
    const res = policy.Statement.flatMap((s: any) => [].concat(s.Resource));
    expect(res).toEqual(expect.arrayContaining(["arn:aws:s3:::orders-us/exports/*", "arn:aws:s3:::runner-state-k8s/state/*"]));
    const cfg = validateConfig(JSON.parse(of("kubernetes:core/v1:ConfigMap").find((c) => c.inputs.data?.["runner.json"])!.inputs.data["runner.json"]));
    // AWS endpoints: the default chain (web identity); OCI: the key file
    for (const [name, ep] of Object.entries(cfg.endpoints) as [string, any][]) {
      if (name.startsWith("aws-")) expect(ep.credentials, name).toBeUndefined();
      else expect(ep.credentials.file, name).toMatch(/credentials/);
    }
    const [secret] = of("kubernetes:core/v1:Secret");
    expect(Object.keys(secret.inputs.stringData).every((k) => !k.startsWith("aws-"))).toBe(true);
  });

  it("needs a state bucket of its own", () => {
    const { args, plan } = fanOut({ platform: "kubernetes" });
    args.runner!.bundlePath = bundlePath;
    expect(() => deployRunner({ parent: new Parent("k8s-nostate"), name: "k8s-nostate", args, plan }, {})).toThrow(/runner\.stateBucket is required/);
    const same = fanOut({ platform: "kubernetes", stateBucket: { provider: "aws", bucket: "orders-us", region: "us-east-1" } });
    same.args.runner!.bundlePath = bundlePath;
    expect(() => deployRunner({ parent: new Parent("k8s-same"), name: "k8s-same", args: same.args, plan: same.plan }, {})).toThrow(/also buckets\.src/);
  });
});

describe("runner on aws-ecs", () => {
  it("a private Fargate task with keys from Secrets Manager and one schedule per shard", async () => {
    const { args, plan } = fanOut({ platform: "aws-ecs", shards: 3, alarmTopic: "arn:aws:sns:us-east-1:123456789012:ops" });
    const { d, of, mine } = await deploy("ecs", args, plan);
    expect(d.edges).toEqual(["src->lon", "src->fra"]);
    expect(of("aws:ec2/instance:Instance")).toHaveLength(0);

    const [td] = of("aws:ecs/taskDefinition:TaskDefinition");
    expect(td.inputs).toMatchObject({ requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", cpu: "512", memory: "1024" });
    expect(td.inputs.executionRoleArn).toBe("arn:aws:iam::123456789012:role/ecs-runner-execution-role");
    expect(td.inputs.taskRoleArn).toBe("arn:aws:iam::123456789012:role/ecs-runner-task-role");
    expect(isSecretWrapped(td.raw.containerDefinitions)).toBe(false);
    const defs = JSON.parse(td.inputs.containerDefinitions);
    expect(td.inputs.containerDefinitions).not.toContain(TEST_SECRET);
    const runner = defs.find((c: any) => c.name === "runner");
    const fetch = defs.find((c: any) => c.name === "fetch");
    expect(runner).toMatchObject({ essential: true, user: "1000:1000", readonlyRootFilesystem: true, entryPoint: ["/bin/sh", "-c"] });
    expect(runner.dependsOn).toEqual([{ containerName: "fetch", condition: "SUCCESS" }]);
    expect(runner.linuxParameters.capabilities.drop).toEqual(["ALL"]);
    // keys only as secrets (valueFrom ARNs with a JSON key), never in environment
    expect(runner.secrets.length).toBeGreaterThan(0);
    for (const s of runner.secrets) expect(s.valueFrom).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:ecs-runner-key-[\w-]+:(accessKeyId|secretAccessKey)::$/);
    for (const c of defs) for (const e of c.environment) expect(e.name).not.toMatch(/ACCESS_KEY|SECRET_ACCESS/);
    expect(runner.logConfiguration).toEqual({ logDriver: "awslogs", options: { "awslogs-group": "/bucket-replication/ecs", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "runner" } });
    // the init step fetches bundle and config by their sha256-named keys, verifying both
    const bundleSha = sha(BUNDLE);
    expect(fetch.command[0]).toContain(`s3://ecs-runner-abc123/runner/${bundleSha}/runner.mjs' '/runner/runner.mjs' '${bundleSha}'`);
    expect(fetch.command[0]).toMatch(/s3:\/\/ecs-runner-abc123\/config\/[0-9a-f]{64}\.json' '\/runner\/runner\.json' '[0-9a-f]{64}'/);
    expect(fetch.environment.find((e: any) => e.name === "FETCH_BUNDLE_SH").value).toMatch(/sha256 mismatch/);

    // the config in S3: validates, keys from the environment the secrets fill
    const configObj = of("aws:s3/bucketObjectv2:BucketObjectv2").find((o) => String(o.inputs.key).startsWith("config/"))!;
    expect(configObj.inputs.content).not.toContain(TEST_SECRET);
    const cfg = validateConfig(JSON.parse(configObj.inputs.content));
    expect(cfg.state).toMatchObject({ bucket: "ecs-runner-abc123", prefix: "state/" });
    const envs = Object.values(cfg.endpoints).map((e: any) => e.credentials?.env).filter(Boolean);
    expect(envs.length).toBeGreaterThan(0);
    for (const p of envs) expect(runner.secrets.map((s: any) => s.name)).toEqual(expect.arrayContaining([`${p}_ACCESS_KEY_ID`, `${p}_SECRET_ACCESS_KEY`]));

    // one schedule per shard, each with its own --shard K/N; no public IP
    const schedules = of("aws:scheduler/schedule:Schedule");
    expect(schedules).toHaveLength(3);
    schedules.forEach((s, k) => {
      expect(s.inputs.scheduleExpression).toBe("cron(0 * * * ? *)");
      expect(s.inputs.scheduleExpressionTimezone).toBe("Etc/UTC");
      const ecs = s.inputs.target.ecsParameters;
      expect(ecs).toMatchObject({ launchType: "FARGATE", taskCount: 1, taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/ecs-runner:1" });
      expect(ecs.networkConfiguration.assignPublicIp).toBe(false);
      const overrides = JSON.parse(s.inputs.target.input).containerOverrides;
      expect(overrides).toHaveLength(1);
      expect(overrides[0].name).toBe("runner");
      expect(overrides[0].command.slice(1)).toEqual(["bucket-replication", "/runner/runner.json", "--shard", `${k}/3`]);
    });
    // private subnet, NAT egress only, SG without ingress
    for (const s of of("aws:ec2/subnet:Subnet")) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
    const subnets = schedules[0].inputs.target.ecsParameters.networkConfiguration.subnets;
    expect(subnets).toEqual(["ecs-runner-private_id"]);
    const sg = of("aws:ec2/securityGroup:SecurityGroup")[0];
    expect(sg.inputs.ingress).toEqual([]);
    expect(sg.inputs.egress.map((e: any) => e.fromPort)).toEqual([443]);
    expect(of("aws:ec2/natGateway:NatGateway")).toHaveLength(1);

    // roles: the task role names exact buckets; the execution role reads only this task's secrets
    const policies = Object.fromEntries(of("aws:iam/rolePolicy:RolePolicy").map((p) => [p.name, JSON.parse(p.inputs.policy)]));
    const taskRes = policies["ecs-runner-task-policy"].Statement.flatMap((s: any) => [].concat(s.Resource));
    for (const r of taskRes) expect(r).toMatch(/^arn:aws:s3:::(orders-us|ecs-runner-abc123)(\/.*)?$/);
    const exec = policies["ecs-runner-execution-policy"].Statement;
    expect(exec.find((s: any) => s.Sid === "Keys").Resource).toEqual(of("aws:secretsmanager/secret:Secret").map((s) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${s.name}-AbCdEf`));
    expect(exec.flatMap((s: any) => [].concat(s.Resource))).not.toContain("*");
    const sched = policies["ecs-runner-scheduler-policy"].Statement;
    expect(sched.find((s: any) => s.Sid === "RunTask").Resource).toEqual(["arn:aws:ecs:us-east-1:123456789012:task-definition/ecs-runner:*"]);
    expect(sched.find((s: any) => s.Sid === "PassRoles").Resource.sort()).toEqual([td.inputs.executionRoleArn, td.inputs.taskRoleArn].sort());

    // the aws-ec2 alarms on the run line
    const filters = of("aws:cloudwatch/logMetricFilter:LogMetricFilter");
    expect(filters.map((f) => f.inputs.pattern).sort()).toEqual([
      '{ $.event = "bucket-replication-run" && $.status = "failed" }',
      '{ $.event = "bucket-replication-run" && $.status = "ok" }',
    ]);
    const alarms = Object.fromEntries(of("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.name, a.inputs]));
    expect(alarms["ecs-runner-failed"]).toMatchObject({ metricName: "RunFailed", threshold: 0, comparisonOperator: "GreaterThanThreshold", alarmActions: ["arn:aws:sns:us-east-1:123456789012:ops"] });
    expect(alarms["ecs-runner-stale"]).toMatchObject({ metricName: "RunSucceeded", threshold: 3, treatMissingData: "breaching", period: 3 * 3600 });

    // the secret itself only in the secret store, as a Pulumi secret
    const versions = of("aws:secretsmanager/secretVersion:SecretVersion");
    expect(versions.map((v) => JSON.parse(v.inputs.secretString).secretAccessKey)).toEqual([TEST_SECRET]);
    expect(versions.every((v) => isSecretWrapped(v.raw.secretString))).toBe(true);
    checkNoPlainSecret(mine);
  });

  it("one shard: one schedule without --shard; a schedule EventBridge cannot express is refused naming runner.schedule", async () => {
    const { args, plan } = fanOut({ platform: "aws-ecs", network: { subnetIds: ["subnet-a", "subnet-b"] } });
    const { of } = await deploy("ecs-one", args, plan);
    const [s] = of("aws:scheduler/schedule:Schedule");
    expect(JSON.parse(s.inputs.target.input).containerOverrides[0].command.slice(1)).toEqual(["bucket-replication", "/runner/runner.json"]);
    expect(s.inputs.target.ecsParameters.networkConfiguration).toMatchObject({ subnets: ["subnet-a", "subnet-b"], assignPublicIp: false });
    expect(of("aws:ec2/vpc:Vpc")).toHaveLength(0);

    const bad = fanOut({ platform: "aws-ecs", schedule: "0 3 1 * MON" });
    bad.args.runner!.bundlePath = bundlePath;
    expect(() => deployRunner({ parent: new Parent("ecs-bad"), name: "ecs-bad", args: bad.args, plan: bad.plan }, {})).toThrow(/runner\.schedule.*aws-ecs/);
    const big = fanOut({ platform: "aws-ecs", cpu: 256, memory: 4096 });
    big.args.runner!.bundlePath = bundlePath;
    expect(() => deployRunner({ parent: new Parent("ecs-big"), name: "ecs-big", args: big.args, plan: big.plan }, {})).toThrow(/runner\.memory 4096 MiB.*raise runner\.cpu/);
  });
});

describe("runner.shards on the VM platforms", () => {
  it.each(["aws-ec2", "oci-compute"] as const)("%s with shards = 3 renders one service + timer per shard", async (platform) => {
    const { args, plan } = awsToOciFanOut(platform);
    args.runner!.shards = 3;
    const { of } = await deploy(`vm-${platform}`, args, plan);
    const userData = platform === "aws-ec2"
      ? (of("aws:ec2/instance:Instance")[0].inputs.userData as string)
      : Buffer.from(of("oci:Core/instance:Instance")[0].inputs.metadata.user_data, "base64").toString();
    const timers = [...userData.matchAll(/^cat > '[^']*\/(bucket-replication[\w-]*)\.timer'/gm)].map((m) => m[1]);
    expect(timers.filter((t) => t !== "bucket-replication-heartbeat")).toEqual(["bucket-replication-shard-0", "bucket-replication-shard-1", "bucket-replication-shard-2"]);
    for (let k = 0; k < 3; k++) {
      expect(userData).toContain(`ExecStart=/opt/bucket-replication/bin/run ${k}/3`);
      expect(userData).toContain(`Unit=bucket-replication-shard-${k}.service`);
      expect(userData).toContain(`systemctl enable --now bucket-replication-shard-${k}.timer`);
    }
    expect(userData).toContain('run --config \'/etc/bucket-replication/config.json\' --shard "$shard"');
    expect(userData).not.toMatch(/^cat > '[^']*\/bucket-replication\.timer'/m);
  });
});
