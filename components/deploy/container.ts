// What the container platforms (kubernetes.ts, ecs.ts) share: the image, where things live in the
// container, the shard arguments, the run wrapper that prints the run line, the init step's script,
// the memory figure, and credentials as environment variables (ECS). Pure (no Pulumi runtime).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RunnerConfig } from "../../runner/config/types.js";
import type { RunnerSpec } from "../plan/types.js";
import { RUNNER_NODE_OPTIONS, runnerMemoryMiB } from "./memory.js";
import { CREDENTIALS_DIR } from "./runner-config.js";

/** The official Node image (Docker Hub), pinned by tag: the default runner image. Alpine, because
 *  the init step needs sh, wget, gunzip and sha256sum, which busybox provides. */
export const DEFAULT_RUNNER_IMAGE = "node:22.20.0-alpine3.22";
/** The init container on aws-ecs: the official AWS CLI image, pinned (fetches from S3 with the
 *  task role). */
export const AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.27.0";
/** uid/gid of the official Node images' `node` user (and of deploy/container/Dockerfile's USER). */
export const RUNNER_UID = 1000;
/** The bundle inside the container (an init step puts it there, or a built image has it). */
export const BUNDLE_DIR = "/runner";
export const BUNDLE_PATH = `${BUNDLE_DIR}/runner.mjs`;
/** The runner's working directory (spool): the same path as on the VMs, on a writable volume. */
export const WORK_DIR = "/var/lib/bucket-replication";
export { CREDENTIALS_DIR };

/** Shards per job (runner.shards, default 1). */
export function shardCount(spec: RunnerSpec): number {
  return spec.shards ?? 1;
}

/** The `--shard` argument for shard k of n; none with one shard (the unsharded run, exactly as
 *  before shards existed: same state object, same lock). `k = "auto"` reads the index from
 *  JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX. */
export function shardArgs(k: number | "auto", n: number): string[] {
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`runner.shards must be a whole number from 1 to 256, got ${n}`);
  if (n === 1) return [];
  if (k !== "auto" && !(Number.isInteger(k) && k >= 0 && k < n)) throw new Error(`shard index ${k} is outside 0..${n - 1}`);
  return ["--shard", `${k}/${n}`];
}

/** The memory of the runner container in MiB: runner.memory, else the job's memory figure. */
export function containerMemoryMiB(spec: RunnerSpec): number {
  return spec.memory ?? runnerMemoryMiB({ transfers: spec.transfers });
}

/** Fargate's valid memory sizes (MiB) per CPU size. */
export function fargateMemoryChoices(cpu: number): number[] {
  const range = (lo: number, hi: number, step: number) => Array.from({ length: (hi - lo) / step + 1 }, (_, i) => lo + i * step);
  switch (cpu) {
    case 256:
      return [512, 1024, 2048];
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
  }
  throw new Error(`runner.cpu must be one of 256, 512, 1024, 2048, 4096 (Fargate CPU units), got ${cpu}`);
}

/** The Fargate task size: runner.cpu (default 512) and the smallest valid memory ≥ the figure. */
export function fargateSize(spec: RunnerSpec): { cpu: number; memory: number } {
  const cpu = spec.cpu ?? 512;
  const want = containerMemoryMiB(spec);
  const memory = fargateMemoryChoices(cpu).find((m) => m >= want);
  if (memory === undefined) {
    throw new Error(
      `runner.memory ${want} MiB is more than Fargate gives ${cpu} CPU units (at most ${fargateMemoryChoices(cpu).at(-1)} MiB); raise runner.cpu or lower runner.memory/transfers`,
    );
  }
  return { cpu, memory };
}

/** NODE_OPTIONS for the container: the same heap limits as on the VMs. */
export const NODE_OPTIONS = RUNNER_NODE_OPTIONS;

/** The head of the JSON line every run ends with (the VM platforms print the same line; on aws-ecs
 *  CloudWatch metric filters turn it into the run metrics and alarms). */
export function runLineHead(topology: string, platform: string): string {
  return `{"event":"bucket-replication-run","topology":${JSON.stringify(topology)},"platform":"${platform}"`;
}

function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The container's command: a POSIX sh wrapper that runs the runner once, forwards SIGTERM to it
 * (sh as PID 1 would otherwise ignore it until the kill), then prints the run line with the shard
 * and exit status, and exits with the runner's status.
 */
export function runCommand(topology: string, platform: string, configPath: string, shard: string[]): string[] {
  // $1 is the config path, then the shard flag and its value (if any): `run --config "$@"`.
  const script = `node ${BUNDLE_PATH} run --config "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
start=$(date +%s)
wait "$pid"; rc=$?
# wait returns early when the trap runs: wait again until the runner has really exited.
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done
shard="\${3:-0/1}"
case $shard in auto/*) shard="\${JOB_COMPLETION_INDEX:-\${AWS_BATCH_JOB_ARRAY_INDEX:-?}}/\${shard#auto/}" ;; esac
if [ "$rc" -eq 0 ]; then status=ok; else status=failed; fi
printf '%s,"shard":"%s","status":"%s","exitCode":%d,"seconds":%d}\\n' ${sq(runLineHead(topology, platform))} "$shard" "$status" "$rc" "$(( $(date +%s) - start ))"
exit "$rc"`;
  return ["/bin/sh", "-c", script, "bucket-replication", configPath, ...shard];
}

/** deploy/container/fetch-bundle.sh, the init step (shipped in the package next to the Dockerfile). */
export function fetchBundleScript(): string {
  return readFileSync(fileURLToPath(new URL("../../deploy/container/fetch-bundle.sh", import.meta.url)), "utf8");
}

/** An environment-variable prefix per static-key endpoint entry: BR_<NAME> (uppercase, [A-Z0-9_]),
 *  made unique. */
export function envPrefixes(entries: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const taken = new Set<string>();
  for (const e of entries) {
    const base = `BR_${e.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_+|_+$/g, "")}`;
    let p = base;
    for (let n = 2; taken.has(p); n++) p = `${base}_${n}`;
    taken.add(p);
    out[e] = p;
  }
  return out;
}

/** The config with each static-key endpoint reading its keys from environment variables
 *  (PREFIX_ACCESS_KEY_ID / PREFIX_SECRET_ACCESS_KEY) instead of a credentials file. */
export function withEnvCredentials(config: RunnerConfig, prefixes: Record<string, string>): RunnerConfig {
  const endpoints: RunnerConfig["endpoints"] = {};
  for (const [name, ep] of Object.entries(config.endpoints)) {
    const c = ep.credentials;
    if (prefixes[name] && c && "file" in c && c.file.startsWith(`${CREDENTIALS_DIR}/`)) endpoints[name] = { ...ep, credentials: { env: prefixes[name] } } as typeof ep;
    else endpoints[name] = ep;
  }
  return { ...config, endpoints };
}
