// The runner on Kubernetes, through the provider the user passes (runner.kubernetesProvider): a
// namespace (Pod Security "restricted"), the runner config in a ConfigMap, the static keys in a
// Secret mounted as the credentials files the config names, a ServiceAccount (IRSA annotations
// optional), and a batch/v1 CronJob whose Job is Indexed with completions = parallelism = shards:
// pod k runs `run --shard auto/N` and the runner reads k from JOB_COMPLETION_INDEX. Pods run as uid
// 1000 with a read-only root filesystem, no privilege escalation, no capabilities, seccomp
// RuntimeDefault, no host networking, memory request = limit = the job's memory figure. A
// NetworkPolicy allows no ingress and egress only to DNS and the endpoints' ports.
//
// The bundle: with runner.image (built from deploy/container/Dockerfile) it is in the image. Without,
// the pod runs the official Node image, and an init container puts the bundle in place from a
// ConfigMap holding it gzip-compressed (about 290 KB of the ConfigMap's 1 MiB for the 0.62 MB bundle),
// verified by its sha256 (deploy/container/fetch-bundle.sh). No object storage, network or
// credentials are involved in getting the code into the pod.
//
// The state lives in runner.stateBucket (an existing bucket of its own), never on the pod's disk.
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { BucketSpec } from "../plan/types.js";
import {
  awsRunnerUser,
  configJson,
  dnsName,
  endpointPorts,
  IRSA_ANNOTATION,
  keyPayloads,
  ociBucketsFor,
  ociRunnerUser,
  ociTenancy,
  sha256,
  STATE_PREFIX,
  type Core,
} from "./core.js";
import {
  BUNDLE_DIR,
  BUNDLE_PATH,
  containerMemoryMiB,
  CREDENTIALS_DIR,
  DEFAULT_RUNNER_IMAGE,
  fetchBundleScript,
  NODE_OPTIONS,
  RUNNER_UID,
  runCommand,
  shardArgs,
  shardCount,
  WORK_DIR,
} from "./container.js";
import { awsBucketStatements, policyDocument, s3Statements } from "./policy.js";
import { kubernetesCron } from "./schedule.js";
import { alicloudRunnerUser, linodeRunnerKey } from "./static-keys.js";
import type { RunnerDeployment } from "./index.js";

/** A ConfigMap holds at most 1 MiB; leave room for the script and the object's metadata. */
export const MAX_BUNDLE_CONFIGMAP_BYTES = 1000 * 1024;
/** Where the config ConfigMap is mounted. */
export const CONFIG_DIR = "/config";
const BOOTSTRAP_DIR = "/bootstrap";

export function deployKubernetesRunner(core: Core): RunnerDeployment {
  const { spec, name: n, ctx } = core;
  const sb = spec.stateBucket;
  if (!sb || (sb.provider !== "aws" && sb.provider !== "oci" && sb.provider !== "s3")) {
    throw new pulumi.ResourceError(
      "runner.stateBucket is required for platform kubernetes: an existing bucket of its own (provider aws, oci or s3) for the runner's state, " +
        "e.g. stateBucket: { provider: aws, bucket: my-runner-state, region: eu-west-1 }",
      ctx.parent,
    );
  }
  for (const [id, b] of Object.entries(ctx.args.buckets)) {
    if (b.provider === sb.provider && b.bucket === sb.bucket) {
      throw new pulumi.ResourceError(`runner.stateBucket.bucket: "${sb.bucket}" is also buckets.${id}, a replicated bucket; use a bucket of its own for the runner's state`, ctx.parent);
    }
  }
  const o: pulumi.CustomResourceOptions = { ...core.opts, provider: spec.kubernetesProvider };
  const shards = shardCount(spec);
  const irsa = !!spec.serviceAccountAnnotations?.[IRSA_ANNOTATION];
  const instance = dnsName(ctx.name);
  const labels = {
    "app.kubernetes.io/name": "bucket-replication-runner",
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/managed-by": "pulumi",
  };
  const stateSpec: BucketSpec = sb;
  const stateAccess = { read: new Set([STATE_PREFIX]), write: new Set([STATE_PREFIX]), delete: new Set([STATE_PREFIX]) };

  // ---- namespace (created with the restricted Pod Security level, which the pod spec satisfies)
  let namespace: pulumi.Output<string>;
  if (spec.namespace) namespace = pulumi.output(spec.namespace);
  else {
    const ns = new k8s.core.v1.Namespace(`${n}-ns`, {
      metadata: {
        name: dnsName(`${ctx.name}-runner`),
        labels: { ...labels, "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" },
      },
    }, o);
    namespace = ns.metadata.name;
  }

  // ---- the config (no secrets: credentials are file references into the Secret's mount)
  const plan = core.configFor(stateSpec);
  const config = configJson(plan.config);
  const configSha = sha256(config);
  const configMap = new k8s.core.v1.ConfigMap(`${n}-config`, {
    metadata: { name: dnsName(`${n}-config`), namespace, labels },
    data: { "runner.json": config },
  }, o);

  // ---- static keys → one Secret, one file per endpoint entry (the paths the config names)
  const entries = core.keyEntries(stateSpec);
  const awsStateStatements = sb.provider === "aws" ? s3Statements(sb.bucket, stateAccess) : [];
  const payloads = keyPayloads(core, entries, {
    alicloud: () => alicloudRunnerUser(core),
    linode: () => linodeRunnerKey(core),
    oci: () =>
      ociRunnerUser(core, ociTenancy(core), [
        ...ociBucketsFor(core),
        ...(sb.provider === "oci" ? [{ bucket: sb.bucket, compartmentId: sb.compartmentId, access: stateAccess }] : []),
      ]).payload,
    aws: () => awsRunnerUser(core, undefined, awsStateStatements),
  });
  let secret: k8s.core.v1.Secret | undefined;
  if (Object.keys(payloads).length) {
    const stringData: Record<string, pulumi.Output<string>> = {};
    for (const [entry, payload] of Object.entries(payloads)) stringData[`${entry}.json`] = pulumi.secret(payload);
    secret = new k8s.core.v1.Secret(`${n}-keys`, {
      metadata: { name: dnsName(`${n}-keys`), namespace, labels },
      type: "Opaque",
      stringData,
    }, o);
  }
  // With IRSA, the policy the annotated role needs (exact buckets, the state prefix): exported.
  const awsPolicy = irsa ? policyDocument([...awsBucketStatements(ctx.args, core.access), ...awsStateStatements]) : undefined;

  // ---- the bundle: in the image, or gzip-compressed in a ConfigMap for the init container
  let bundleMap: k8s.core.v1.ConfigMap | undefined;
  if (!spec.image) {
    const gz = gzipSync(readFileSync(core.bundle.path), { level: 9 });
    if (gz.length > MAX_BUNDLE_CONFIGMAP_BYTES) {
      throw new pulumi.ResourceError(
        `runner: the bundle ${core.bundle.path} is ${gz.length} bytes gzip-compressed, more than a ConfigMap holds (${MAX_BUNDLE_CONFIGMAP_BYTES}); ` +
          `build an image from deploy/container/Dockerfile and set runner.image`,
        ctx.parent,
      );
    }
    bundleMap = new k8s.core.v1.ConfigMap(`${n}-bundle`, {
      metadata: { name: dnsName(`${n}-bundle`), namespace, labels, annotations: { "bucket-replication/bundle-sha256": core.bundle.sha256 } },
      binaryData: { "runner.mjs.gz": gz.toString("base64") },
      data: { "fetch-bundle.sh": fetchBundleScript() },
    }, o);
  }

  // ---- identity
  const sa = new k8s.core.v1.ServiceAccount(`${n}-sa`, {
    metadata: { name: dnsName(`${n}`), namespace, labels, annotations: spec.serviceAccountAnnotations },
    automountServiceAccountToken: irsa,
  }, o);

  // ---- network: no ingress; egress to DNS and to the endpoints' ports only
  const ports = [443, ...endpointPorts(plan.config)];
  new k8s.networking.v1.NetworkPolicy(`${n}-netpol`, {
    metadata: { name: dnsName(`${n}-egress`), namespace, labels },
    spec: {
      podSelector: { matchLabels: labels },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [
        { ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
        { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }], ports: ports.map((port) => ({ protocol: "TCP", port })) },
      ],
    },
  }, o);

  // ---- the CronJob
  const memory = `${containerMemoryMiB(spec)}Mi`;
  const containerSecurity = {
    runAsNonRoot: true,
    runAsUser: RUNNER_UID,
    runAsGroup: RUNNER_UID,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
  const volumes: k8s.types.input.core.v1.Volume[] = [
    { name: "config", configMap: { name: configMap.metadata.name, defaultMode: 0o444 } },
    { name: "work", emptyDir: {} },
    // On the node's disk, not tmpfs: a memory-backed emptyDir counts against the memory limit.
    { name: "tmp", emptyDir: {} },
  ];
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [
    { name: "config", mountPath: CONFIG_DIR, readOnly: true },
    { name: "work", mountPath: WORK_DIR },
    { name: "tmp", mountPath: "/tmp" },
  ];
  if (secret) {
    volumes.push({ name: "keys", secret: { secretName: secret.metadata.name, defaultMode: 0o440 } });
    mounts.push({ name: "keys", mountPath: CREDENTIALS_DIR, readOnly: true });
  }
  const initContainers: k8s.types.input.core.v1.Container[] = [];
  if (bundleMap) {
    volumes.push({ name: "bootstrap", configMap: { name: bundleMap.metadata.name, defaultMode: 0o444 } }, { name: "runner", emptyDir: {} });
    mounts.push({ name: "runner", mountPath: BUNDLE_DIR, readOnly: true });
    initContainers.push({
      name: "fetch-bundle",
      image: DEFAULT_RUNNER_IMAGE,
      command: ["/bin/sh", `${BOOTSTRAP_DIR}/fetch-bundle.sh`, `${BOOTSTRAP_DIR}/runner.mjs.gz`, BUNDLE_PATH, core.bundle.sha256],
      securityContext: containerSecurity,
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "64Mi" } },
      volumeMounts: [
        { name: "bootstrap", mountPath: BOOTSTRAP_DIR, readOnly: true },
        { name: "runner", mountPath: BUNDLE_DIR },
      ],
    });
  }
  const cronJob = new k8s.batch.v1.CronJob(`${n}-cronjob`, {
    metadata: { name: dnsName(n, 52), namespace, labels },
    spec: {
      schedule: kubernetesCron(core.schedule),
      timeZone: "Etc/UTC",
      // A run still going when the next one is due: skip the new one (one run per job at a time).
      concurrencyPolicy: "Forbid",
      // A run the controller could not start within this window (controller down, Forbid) is skipped, not piled up.
      startingDeadlineSeconds: Math.max(10, Math.min(300, Math.floor(core.gaps.shortest / 2))),
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          completionMode: "Indexed",
          completions: shards,
          parallelism: shards,
          // Each shard is retried on its own (twice); a delete guard abort (exit 3) needs a human:
          // that shard fails at once, and the other shards go on (they never delete on its behalf).
          backoffLimitPerIndex: 2,
          podFailurePolicy: { rules: [{ action: "FailIndex", onExitCodes: { containerName: "runner", operator: "In", values: [3] } }] },
          template: {
            metadata: { labels, annotations: { "bucket-replication/config-sha256": configSha, "bucket-replication/bundle-sha256": core.bundle.sha256 } },
            spec: {
              restartPolicy: "Never",
              serviceAccountName: sa.metadata.name,
              automountServiceAccountToken: irsa,
              enableServiceLinks: false,
              hostNetwork: false,
              hostPID: false,
              hostIPC: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: RUNNER_UID,
                runAsGroup: RUNNER_UID,
                fsGroup: RUNNER_UID,
                seccompProfile: { type: "RuntimeDefault" },
              },
              initContainers,
              containers: [{
                name: "runner",
                image: spec.image ?? DEFAULT_RUNNER_IMAGE,
                command: runCommand(ctx.name, "kubernetes", `${CONFIG_DIR}/runner.json`, shardArgs("auto", shards)),
                env: [
                  { name: "NODE_OPTIONS", value: NODE_OPTIONS },
                  { name: "HOME", value: WORK_DIR },
                  { name: "TMPDIR", value: "/tmp" },
                  { name: "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED", value: "true" },
                ],
                resources: { requests: { cpu: "250m", memory }, limits: { memory } },
                securityContext: containerSecurity,
                volumeMounts: mounts,
              }],
              volumes,
            },
          },
        },
      },
    },
  }, o);

  return {
    instanceId: cronJob.metadata.name,
    logGroup: pulumi.interpolate`kubectl logs -n ${namespace} -l app.kubernetes.io/instance=${instance} -c runner`,
    edges: core.edges,
    awsPolicy,
  };
}
