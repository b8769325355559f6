// What the runner VM runs: the user-data script, the systemd units (bootstrap, service + timer,
// heartbeat on OCI) and the helper scripts it installs. Pure string rendering (no Pulumi), so a test
// can write everything to disk and check it with `bash -n` and `systemd-analyze verify`. Nothing here
// ever holds a secret: static keys are fetched from the secret store at each run by ExecStartPre,
// through the instance's own identity, into a 0600 file on tmpfs that systemd removes when the run
// ends (RuntimeDirectory=).
//
// The user data itself needs no network: it writes every file and starts bucket-replication-
// bootstrap.service, which installs Node, fetches the bundle and config and enables the schedule,
// retrying every network step with backoff for as long as it takes (the instance's identity policy
// can appear minutes after the VM boots: on OCI the dynamic group names the instance, so it exists
// only once the instance does). systemd restarts the unit without a start limit until it has
// completed once, across reboots.
import { cronToOnCalendar, longestGapSeconds, shortestGapSeconds } from "./schedule.js";
import { CREDENTIALS_DIR } from "./runner-config.js";
import { RUNNER_NODE_OPTIONS } from "./memory.js";

export const UNIT = "bucket-replication";
export const SERVICE_USER = "bucket-replication";
/** Namespace of the runner's metrics (CloudWatch metric filters, OCI custom metrics). */
export const METRIC_NAMESPACE = "bucket_replication";
/** Exit status of the runner when a delete guard aborts a job: retrying cannot help. */
export const EXIT_DELETE_GUARD = 3;

/** An object in the artifacts bucket, verified by sha256 after download. */
export interface ArtifactRef {
  key: string;
  sha256: string;
}

export interface BootstrapInput {
  platform: "aws-ec2" | "oci-compute";
  /** Topology name (log lines, metric dimension). */
  name: string;
  /** Cron (5 fields, UTC). */
  schedule: string;
  region: string;
  /** The artifacts bucket (AWS bucket name or OCI bucket name). */
  artifactsBucket: string;
  /** oci-compute: the namespace of the artifacts bucket and the compartment for custom metrics. */
  namespace?: string;
  compartmentId?: string;
  bundle: ArtifactRef;
  config: ArtifactRef;
  /** Static credentials: endpoint entry name → secret (AWS Secrets Manager ARN or OCI Vault secret OCID). */
  secrets: Record<string, string>;
  /** aws-ec2: the CloudWatch Logs group the agent ships the runner log to. */
  logGroup?: string;
  /** Root under which paths are rendered ("" on the VM; a temp dir in tests). */
  root?: string;
  /** Key-range shards (default 1). With N > 1, one service + timer pair per shard
   *  (bucket-replication-shard-K.service/.timer) runs `run --shard K/N`; 1 renders the single
   *  bucket-replication.service/.timer as before shards existed. */
  shards?: number;
}

/** One systemd service + timer pair: the single pair (shards = 1) or shard K of N. */
export interface ShardUnit {
  /** Unit name without suffix, e.g. bucket-replication or bucket-replication-shard-2. */
  unit: string;
  shard?: { k: number; n: number };
}

export function shardUnits(shards = 1): ShardUnit[] {
  if (!Number.isInteger(shards) || shards < 1 || shards > 256) throw new Error(`runner.shards must be a whole number from 1 to 256, got ${shards}`);
  if (shards === 1) return [{ unit: UNIT }];
  return Array.from({ length: shards }, (_, k) => ({ unit: `${UNIT}-shard-${k}`, shard: { k, n: shards } }));
}

/** Where each shard records its last successful run (the single pair: lastSuccess itself). */
function lastSuccessOf(p: Paths, u: ShardUnit): string {
  return u.shard ? `${p.lastSuccess}-${u.shard.k}` : p.lastSuccess;
}

export interface Rendered {
  /** The complete user-data script (bash). */
  userData: string;
  /** Every file the user data installs: absolute path on the VM (without root) → content and mode. */
  files: Record<string, { content: string; mode: string }>;
  /** Paths used (with root applied). */
  paths: Paths;
  onCalendar: string[];
}

export interface Paths {
  home: string;
  bin: string;
  bundle: string;
  config: string;
  run: string;
  fetchCredentials: string;
  heartbeat: string;
  logDir: string;
  logFile: string;
  stateDir: string;
  lastSuccess: string;
  service: string;
  timer: string;
  heartbeatService: string;
  heartbeatTimer: string;
  bootstrap: string;
  bootstrapService: string;
  /** Exists once the bootstrap has completed (the unit's ConditionPathExists=!). */
  bootstrapDone: string;
  bootstrapLog: string;
  cwAgentConfig: string;
  cwAgentCtl: string;
}

export function paths(root = ""): Paths {
  const home = `${root}/opt/${UNIT}`;
  return {
    home,
    bin: `${home}/bin`,
    bundle: `${home}/runner.mjs`,
    config: `${root}/etc/${UNIT}/config.json`,
    run: `${home}/bin/run`,
    fetchCredentials: `${home}/bin/fetch-credentials`,
    heartbeat: `${home}/bin/heartbeat`,
    logDir: `${root}/var/log/${UNIT}`,
    logFile: `${root}/var/log/${UNIT}/runner.log`,
    stateDir: `${root}/var/lib/${UNIT}`,
    lastSuccess: `${root}/var/lib/${UNIT}/last-success`,
    service: `${root}/etc/systemd/system/${UNIT}.service`,
    timer: `${root}/etc/systemd/system/${UNIT}.timer`,
    heartbeatService: `${root}/etc/systemd/system/${UNIT}-heartbeat.service`,
    heartbeatTimer: `${root}/etc/systemd/system/${UNIT}-heartbeat.timer`,
    bootstrap: `${home}/bin/bootstrap`,
    bootstrapService: `${root}/etc/systemd/system/${UNIT}-bootstrap.service`,
    bootstrapDone: `${root}/var/lib/${UNIT}-bootstrap.done`,
    bootstrapLog: `${root}/var/log/${UNIT}-bootstrap.log`,
    cwAgentConfig: `${root}/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json`,
    cwAgentCtl: `${root}/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl`,
  };
}

/** Single-quote for bash. */
export function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function assertSafeValue(what: string, v: string): void {
  // Values spliced into unit files and scripts: no newlines, no NUL.
  if (/[\n\r\0]/.test(v)) throw new Error(`${what} must not contain line breaks: ${JSON.stringify(v)}`);
}

/** Restart policy sized to the schedule: up to 2 retries per scheduled run, and the start-rate
 *  limit can never block the next scheduled run (its window is shorter than the shortest gap). */
export function restartPolicy(schedule: string): { restartSec: number; burst: number; intervalSec: number } {
  const gap = shortestGapSeconds(schedule);
  const restartSec = Math.max(10, Math.min(300, Math.floor(gap / 4)));
  return { restartSec, burst: 3, intervalSec: Math.ceil(restartSec * 3.5) };
}

function serviceUnit(i: BootstrapInput, p: Paths, u: ShardUnit = { unit: UNIT }): string {
  const r = restartPolicy(i.schedule);
  // Shards run side by side: each gets its own runtime directory (systemd removes a unit's
  // RuntimeDirectory= when that unit stops, whoever else uses it), bound onto /run/${UNIT} in the
  // unit's own mount namespace, so the config's credentials path holds for each of them.
  const runtime = u.shard
    ? `RuntimeDirectory=${u.unit} ${u.unit}/credentials
RuntimeDirectoryMode=0700
BindPaths=/run/${u.unit}:/run/${UNIT}`
    : `RuntimeDirectory=${UNIT} ${UNIT}/credentials
RuntimeDirectoryMode=0700`;
  return `[Unit]
Description=bucket-replication sync runner (topology ${i.name}${u.shard ? `, shard ${u.shard.k}/${u.shard.n}` : ""})
Wants=network-online.target
After=network-online.target
# At most ${r.burst} starts in ${r.intervalSec}s: one scheduled run plus two retries; the window is
# shorter than the shortest gap between scheduled runs, so it never blocks the next one.
StartLimitIntervalSec=${r.intervalSec}
StartLimitBurst=${r.burst}

[Service]
# oneshot: while a run is active the unit is "activating", so the timer cannot start a second one.
Type=oneshot
User=${SERVICE_USER}
Group=${SERVICE_USER}
# /run/${UNIT} (tmpfs, 0700) exists only while a run is active: the fetched keys die with the run.
${runtime}
StateDirectory=${UNIT}
UMask=0077
Environment=HOME=${p.stateDir}
Environment=AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
Environment="NODE_OPTIONS=${RUNNER_NODE_OPTIONS}"
ExecStartPre=${p.fetchCredentials}
ExecStart=${p.run}${u.shard ? ` ${u.shard.k}/${u.shard.n}` : ""}
Restart=on-failure
RestartSec=${r.restartSec}
# A delete guard abort (exit ${EXIT_DELETE_GUARD}) needs a human; retrying would only repeat it.
RestartPreventExitStatus=${EXIT_DELETE_GUARD}
TimeoutStartSec=infinity
StandardOutput=append:${p.logFile}
StandardError=inherit
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes
CapabilityBoundingSet=
`;
}

function timerUnit(i: BootstrapInput, onCalendar: string[], u: ShardUnit = { unit: UNIT }): string {
  return `[Unit]
Description=bucket-replication schedule (cron "${i.schedule}", UTC${u.shard ? `, shard ${u.shard.k}/${u.shard.n}` : ""})

[Timer]
${onCalendar.map((c) => `OnCalendar=${c}`).join("\n")}
# A run missed while the VM was off starts at boot.
Persistent=true
AccuracySec=1s
Unit=${u.unit}.service

[Install]
WantedBy=timers.target
`;
}

function heartbeatUnits(p: Paths): { service: string; timer: string } {
  return {
    service: `[Unit]
Description=bucket-replication heartbeat (minutes since the last successful run)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
User=${SERVICE_USER}
Group=${SERVICE_USER}
ExecStart=${p.heartbeat}
StandardOutput=append:${p.logFile}
StandardError=inherit
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
`,
    timer: `[Unit]
Description=bucket-replication heartbeat every 5 minutes

[Timer]
OnBootSec=2min
OnUnitActiveSec=5min
AccuracySec=1s
Unit=${UNIT}-heartbeat.service

[Install]
WantedBy=timers.target
`,
  };
}

function ociMetricJson(i: BootstrapInput, metric: string, valueExpr: string): string {
  // Rendered inside a bash double-quoted string: $(...) and $VAR expand, quotes are escaped.
  const dims = JSON.stringify({ topology: i.name }).replace(/"/g, '\\"');
  return (
    `[{\\"namespace\\":\\"${METRIC_NAMESPACE}\\",\\"compartmentId\\":\\"${i.compartmentId}\\",\\"name\\":\\"${metric}\\",` +
    `\\"dimensions\\":${dims},\\"datapoints\\":[{\\"timestamp\\":\\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\\",\\"value\\":${valueExpr}}]}]`
  );
}

function ociPost(i: BootstrapInput, metric: string, valueExpr: string): string {
  return (
    `oci monitoring metric-data post --auth instance_principal ` +
    `--endpoint ${sh(`https://telemetry-ingestion.${i.region}.oraclecloud.com`)} ` +
    `--metric-data "${ociMetricJson(i, metric, valueExpr)}" >/dev/null 2>&1 || echo '{"event":"bucket-replication-metric","status":"post-failed"}'`
  );
}

/** The start of the JSON line every run ends with (the failed-run metric and alarm are built on it). */
function runLineHead(i: BootstrapInput): string {
  return `{"event":"bucket-replication-run","topology":${JSON.stringify(i.name)},"platform":"${i.platform}"`;
}

function runScript(i: BootstrapInput, p: Paths): string {
  const head = runLineHead(i);
  const oci = i.platform === "oci-compute";
  const sharded = (i.shards ?? 1) > 1;
  const body = sharded
    ? `# The shard (K/N) is the first argument: each shard's unit passes its own.
shard=\${1:-}
case $shard in [0-9]*/[0-9]*) ;; *) echo "usage: run K/N" >&2; exit 2 ;; esac
start=$(date +%s)
/usr/bin/node ${sh(p.bundle)} run --config ${sh(p.config)} --shard "$shard"
rc=$?
if [ "$rc" -eq 0 ]; then status=ok; date +%s > ${sh(p.lastSuccess)}-"\${shard%%/*}"; else status=failed; fi
printf '%s,"shard":"%s","status":"%s","exitCode":%d,"seconds":%d}\\n' ${sh(head)} "$shard" "$status" "$rc" "$(( $(date +%s) - start ))"`
    : `start=$(date +%s)
/usr/bin/node ${sh(p.bundle)} run --config ${sh(p.config)}
rc=$?
if [ "$rc" -eq 0 ]; then status=ok; date +%s > ${sh(p.lastSuccess)}; else status=failed; fi
printf '%s,"status":"%s","exitCode":%d,"seconds":%d}\\n' ${sh(head)} "$status" "$rc" "$(( $(date +%s) - start ))"`;
  return `#!/bin/bash
# ExecStart of ${sharded ? `${UNIT}-shard-K.service (run K/N)` : `${UNIT}.service`}: one pass of the runner over every job, then one JSON line that the
# log pipeline turns into the run metrics (CloudWatch metric filters on AWS; custom metrics on OCI).
set -uo pipefail
${body}
${
  oci
    ? `if [ "$rc" -eq 0 ]; then succeeded=1; failed=0; else succeeded=0; failed=1; fi
${ociPost(i, "run_succeeded", "$succeeded")}
${ociPost(i, "run_failed", "$failed")}
`
    : ""
}exit "$rc"
`;
}

function heartbeatScript(i: BootstrapInput, p: Paths): string {
  const units = shardUnits(i.shards);
  const last = units.length === 1
    ? `last=$(cat ${sh(p.lastSuccess)} 2>/dev/null || echo "$(( $(date +%s) - $(cut -d. -f1 /proc/uptime) ))")`
    : `# With shards, the oldest of the shards' last successes: one shard that stops succeeding is enough.
boot=$(( $(date +%s) - $(cut -d. -f1 /proc/uptime) ))
last=$(for f in ${units.map((u) => sh(lastSuccessOf(p, u))).join(" ")}; do cat "$f" 2>/dev/null || echo "$boot"; done | sort -n | head -n 1)`;
  return `#!/bin/bash
# Posts minutes since the last successful run (or since boot before the first one), so an alarm can
# fire when runs stop succeeding, and an absence alarm when the VM stops reporting at all.
set -uo pipefail
${last}
minutes=$(( ( $(date +%s) - last ) / 60 ))
${ociPost(i, "minutes_since_success", "$minutes")}
`;
}

function fetchCredentialsScript(i: BootstrapInput, p: Paths): string {
  const lines: string[] = [];
  for (const [endpoint, secret] of Object.entries(i.secrets)) {
    assertSafeValue("secret reference", secret);
    const file = `${CREDENTIALS_DIR}/${endpoint}.json`;
    if (i.platform === "aws-ec2") {
      lines.push(
        `fetch ${sh(file)} aws secretsmanager get-secret-value --region ${sh(i.region)} --secret-id ${sh(secret)} --query SecretString --output text`,
      );
    } else {
      lines.push(
        `fetch ${sh(file)} sh -c ${sh(`oci secrets secret-bundle get --auth instance_principal --secret-id '${secret}' --stage CURRENT --query 'data."secret-bundle-content".content' --raw-output | base64 -d`)}`,
      );
    }
  }
  const oci = i.platform === "oci-compute";
  return `#!/bin/bash
# ExecStartPre of ${UNIT}.service: fetch each static key from the secret store through the instance's
# own identity (${oci ? "instance principal" : "instance role"}) into a 0600 file under ${CREDENTIALS_DIR}
# (tmpfs; removed by systemd when the run ends). Never prints a secret: stdout goes to the file only.
# If it fails, ExecStart never runs: the EXIT trap then writes the failed-run line itself${oci ? " (and posts run_failed)" : ""},
# so the failed-run alarm fires for a credentials failure too.
set -euo pipefail
umask 077
report_failure() {
  local rc=$?
  [ "$rc" -eq 0 ] && return 0
  printf '%s,"status":"failed","exitCode":%d,"stage":"credentials"}\\n' ${sh(runLineHead(i))} "$rc"
${oci ? `  ${ociPost(i, "run_failed", "1")}
` : ""}  return "$rc"
}
trap report_failure EXIT
mkdir -p ${sh(CREDENTIALS_DIR)}
fetch() {
  local file=$1; shift
  local tmp="$file.tmp"
  for attempt in 1 2 3 4 5; do
    if "$@" > "$tmp" 2>/dev/null && [ -s "$tmp" ]; then
      chmod 600 "$tmp" && mv -f "$tmp" "$file"
      return 0
    fi
    rm -f "$tmp"
    sleep $(( attempt * 5 ))
  done
  echo "{\\"event\\":\\"bucket-replication-credentials\\",\\"status\\":\\"failed\\",\\"file\\":\\"$file\\"}"
  return 1
}
${lines.length ? lines.join("\n") : "# No static keys: every endpoint is reached with the instance's own identity."}
`;
}

function cwAgentConfig(i: BootstrapInput, p: Paths): string {
  return JSON.stringify(
    {
      agent: { run_as_user: "root" },
      logs: {
        logs_collected: {
          files: {
            collect_list: [
              {
                file_path: p.logFile,
                log_group_name: i.logGroup,
                log_stream_name: "{instance_id}",
                retention_in_days: -1,
              },
              {
                file_path: p.bootstrapLog,
                log_group_name: i.logGroup,
                log_stream_name: "{instance_id}-bootstrap",
                retention_in_days: -1,
              },
            ],
          },
        },
      },
    },
    null,
    2,
  );
}

function fetchArtifactCommand(i: BootstrapInput, ref: ArtifactRef, dest: string): string {
  if (i.platform === "aws-ec2") {
    return `aws s3 cp --only-show-errors --region ${sh(i.region)} ${sh(`s3://${i.artifactsBucket}/${ref.key}`)} ${sh(dest)}`;
  }
  return (
    `oci os object get --auth instance_principal --region ${sh(i.region)} --namespace ${sh(i.namespace ?? "")} ` +
    `--bucket-name ${sh(i.artifactsBucket)} --name ${sh(ref.key)} --file ${sh(dest)}`
  );
}

function heredoc(path: string, content: string, mode: string, owner = "root:root"): string {
  const tag = "BUCKET_REPLICATION_EOF";
  if (content.includes(tag)) throw new Error(`file ${path} contains the heredoc terminator`);
  return `install -d -m 0755 "$(dirname ${sh(path)})"
cat > ${sh(path)} <<'${tag}'
${content.replace(/\n$/, "")}
${tag}
chmod ${mode} ${sh(path)}
chown ${owner} ${sh(path)}
`;
}

/** Longest pause between two attempts of a bootstrap step (seconds). */
export const BOOTSTRAP_MAX_BACKOFF = 300;

function bootstrapUnit(p: Paths): string {
  return `[Unit]
Description=bucket-replication bootstrap (install Node, fetch the runner bundle and config, enable the schedule)
Wants=network-online.target
After=network-online.target
# Done once: after that the marker exists and the unit is skipped (also at later boots).
ConditionPathExists=!${p.bootstrapDone}
# No start limit: however often it fails, systemd keeps restarting it until it has completed.
StartLimitIntervalSec=0

[Service]
Type=oneshot
ExecStart=${p.bootstrap}
Restart=on-failure
RestartSec=60
TimeoutStartSec=infinity
StandardOutput=append:${p.bootstrapLog}
StandardError=inherit

[Install]
WantedBy=multi-user.target
`;
}

function bootstrapScript(i: BootstrapInput, p: Paths, packages: string): string {
  const oci = i.platform === "oci-compute";
  const units = shardUnits(i.shards);
  const step = (name: string, ref: ArtifactRef, dest: string) =>
    `retry ${name} fetch_artifact ${sh(dest)} ${sh(ref.sha256)} ${fetchArtifactCommand(i, ref, `${dest}.download`)}`;
  return `#!/bin/bash
# ExecStart of ${UNIT}-bootstrap.service (root). Every network step retries with backoff (10 s doubling
# to ${BOOTSTRAP_MAX_BACKOFF} s) and never gives up: the ${oci ? "instance principal's dynamic group and policy" : "instance role's policy"} may take
# minutes to exist and propagate, on the first deploy and after every replacement. Idempotent: if it
# dies anyway, systemd starts it again.
set -euo pipefail
log() { printf '{"event":"bucket-replication-bootstrap","topology":"%s","step":"%s","status":"%s"}\\n' ${sh(i.name)} "$1" "$2"; }
retry() {
  local step=$1; shift
  local delay=10 n=0
  until "$@"; do
    n=$((n + 1))
    log "$step" "retry-$n"
    sleep "$delay"
    delay=$(( delay * 2 > ${BOOTSTRAP_MAX_BACKOFF} ? ${BOOTSTRAP_MAX_BACKOFF} : delay * 2 ))
  done
  log "$step" ok
}
# fetch_artifact DEST SHA256 COMMAND...: COMMAND downloads to DEST.download; installed only if the sha256 matches.
fetch_artifact() {
  local dest=$1 sum=$2; shift 2
  rm -f "$dest.download"
  "$@" && echo "$sum  $dest.download" | sha256sum -c --quiet - && mv -f "$dest.download" "$dest" && chmod 0644 "$dest"
}

log start ok
retry packages bash -c ${sh(packages)}
${
  oci
    ? `# The heartbeat (minutes since the last success, or since boot) from now on: the metric stream the
# stale and silent alarms watch exists even if the rest of this never completes.
systemctl enable --now ${UNIT}-heartbeat.timer
systemctl start --no-block ${UNIT}-heartbeat.service`
    : `# Ship the logs (this bootstrap's included) from now on.
retry cloudwatch-agent ${sh(p.cwAgentCtl)} -a fetch-config -m ec2 -s -c ${sh(`file:${p.cwAgentConfig}`)}`
}
# The bundle and config keys carry their sha256; a changed bundle or config replaces the instance.
${step("bundle", i.bundle, p.bundle)}
${step("config", i.config, p.config)}
${units.map((u) => `systemctl enable --now ${u.unit}.timer`).join("\n")}
# First run now rather than at the next calendar event.
${units.map((u) => `systemctl start --no-block ${u.unit}.service`).join("\n")}
touch ${sh(p.bootstrapDone)}
log done ok
`;
}

/** Render the user data and every file it installs. Throws on an unsupported schedule. */
export function renderBootstrap(i: BootstrapInput): Rendered {
  for (const [k, v] of Object.entries({ name: i.name, region: i.region, bucket: i.artifactsBucket, key: i.bundle.key, config: i.config.key })) {
    assertSafeValue(k, v);
  }
  if (!/^[A-Za-z0-9._-]+$/.test(i.name)) throw new Error(`runner name must be letters, digits, ".", "_" or "-": ${JSON.stringify(i.name)}`);
  for (const ref of [i.bundle, i.config]) if (!/^[0-9a-f]{64}$/.test(ref.sha256)) throw new Error(`artifact ${ref.key}: sha256 must be 64 hex digits`);
  const { onCalendar } = cronToOnCalendar(i.schedule);
  const p = paths(i.root ?? "");
  const oci = i.platform === "oci-compute";
  if (oci && (!i.namespace || !i.compartmentId)) throw new Error("oci-compute bootstrap needs namespace and compartmentId");
  if (!oci && !i.logGroup) throw new Error("aws-ec2 bootstrap needs logGroup");

  const packages = oci
    ? `dnf -y module enable nodejs:20 && dnf -y install nodejs
dnf -y install oraclelinux-developer-release-el9 && dnf -y install python39-oci-cli`
    : `dnf -y install nodejs20 amazon-cloudwatch-agent
[ -x /usr/bin/node ] || ln -sf /usr/bin/node-20 /usr/bin/node`;

  const files: Rendered["files"] = {};
  for (const u of shardUnits(i.shards)) {
    const unitPath = (ext: string) => (u.shard ? `${p.service.slice(0, -`${UNIT}.service`.length)}${u.unit}.${ext}` : ext === "service" ? p.service : p.timer);
    files[unitPath("service")] = { content: serviceUnit(i, p, u), mode: "0644" };
    files[unitPath("timer")] = { content: timerUnit(i, onCalendar, u), mode: "0644" };
  }
  Object.assign(files, {
    [p.run]: { content: runScript(i, p), mode: "0755" },
    [p.fetchCredentials]: { content: fetchCredentialsScript(i, p), mode: "0755" },
    [p.bootstrap]: { content: bootstrapScript(i, p, packages), mode: "0755" },
    [p.bootstrapService]: { content: bootstrapUnit(p), mode: "0644" },
  });
  if (oci) {
    const hb = heartbeatUnits(p);
    files[p.heartbeat] = { content: heartbeatScript(i, p), mode: "0755" };
    files[p.heartbeatService] = { content: hb.service, mode: "0644" };
    files[p.heartbeatTimer] = { content: hb.timer, mode: "0644" };
  } else {
    files[p.cwAgentConfig] = { content: cwAgentConfig(i, p) + "\n", mode: "0644" };
  }

  // No network step here: everything that can fail for a while (packages, the instance identity's
  // policy) is in the bootstrap unit, which retries until it completes.
  const userData = `#!/bin/bash
# bucket-replication runner bootstrap (${i.platform}, topology ${i.name}). Generated; no secrets in here.
# Writes the runner's systemd units and scripts, then starts ${UNIT}-bootstrap.service, which installs
# Node, fetches the runner bundle and its config from the artifacts bucket through the
# ${oci ? "instance principal" : "instance role"}, verifies their sha256 and enables the schedule, retrying until it has.
set -euo pipefail
exec > >(tee -a ${sh(p.bootstrapLog)}) 2>&1

getent group ${SERVICE_USER} >/dev/null || groupadd --system ${SERVICE_USER}
getent passwd ${SERVICE_USER} >/dev/null || useradd --system --gid ${SERVICE_USER} --home-dir ${sh(p.stateDir)} --shell /sbin/nologin ${SERVICE_USER}
install -d -m 0755 ${sh(p.home)} ${sh(p.bin)} "$(dirname ${sh(p.config)})"
install -d -m 0750 -o ${SERVICE_USER} -g ${SERVICE_USER} ${sh(p.logDir)}
install -d -m 0700 -o ${SERVICE_USER} -g ${SERVICE_USER} ${sh(p.stateDir)}

${Object.entries(files)
  .map(([path, f]) => heredoc(path, f.content, f.mode))
  .join("\n")}
cat > /etc/logrotate.d/${UNIT} <<'BUCKET_REPLICATION_EOF'
${p.logFile} {
  weekly
  rotate 8
  compress
  missingok
  notifempty
  copytruncate
}
BUCKET_REPLICATION_EOF

${oci ? "# Logs: the Oracle Cloud Agent's Custom Logs Monitoring plugin tails the runner and bootstrap logs (unified agent configuration).\n" : ""}systemctl daemon-reload
systemctl enable ${UNIT}-bootstrap.service
systemctl start --no-block ${UNIT}-bootstrap.service
echo "bucket-replication: ${UNIT}-bootstrap.service started"
`;
  return { userData, files, paths: p, onCalendar };
}
