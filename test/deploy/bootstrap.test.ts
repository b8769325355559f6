// Renders the user data and the files it installs to disk, then checks them the way the VM would:
// bash -n on every script, systemd-analyze verify on the units (offline: ExecStart= paths point at
// the rendered scripts under a temp root, so verify can check they exist and are executable).
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BOOTSTRAP_MAX_BACKOFF, renderBootstrap, restartPolicy, type BootstrapInput } from "../../components/deploy/bootstrap.js";
import { CREDENTIALS_DIR } from "../../components/deploy/runner-config.js";
import { TEST_SECRET } from "./fixtures.js";

const sha = (c: string) => c.repeat(64);
const base = (platform: BootstrapInput["platform"]): BootstrapInput => ({
  platform,
  name: "replication",
  schedule: "*/10 * * * *",
  region: platform === "aws-ec2" ? "us-east-1" : "uk-london-1",
  artifactsBucket: "replication-runner-artifacts",
  namespace: platform === "oci-compute" ? "ns1" : undefined,
  compartmentId: platform === "oci-compute" ? "ocid1.compartment.oc1..lon" : undefined,
  logGroup: platform === "aws-ec2" ? "/bucket-replication/replication" : undefined,
  bundle: { key: `runner/${sha("a")}/runner.mjs`, sha256: sha("a") },
  config: { key: `config/${sha("b")}.json`, sha256: sha("b") },
  secrets:
    platform === "aws-ec2"
      ? { "oci-uk-london-1": "arn:aws:secretsmanager:us-east-1:123456789012:secret:replication-runner-oci-AbCdEf" }
      : { "aws-us-east-1": "ocid1.vaultsecret.oc1.uk-london-1.aaaa" },
});

const haveSystemd = spawnSync("systemd-analyze", ["--version"]).status === 0;
const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function writeAll(input: BootstrapInput) {
  const root = mkdtempSync(join(tmpdir(), "bootstrap-"));
  roots.push(root);
  const r = renderBootstrap({ ...input, root });
  for (const [path, f] of Object.entries(r.files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
    chmodSync(path, parseInt(f.mode, 8));
  }
  // The bundle the service runs must exist for verify too.
  mkdirSync(dirname(r.paths.bundle), { recursive: true });
  writeFileSync(r.paths.bundle, "");
  const userData = join(root, "user-data.sh");
  writeFileSync(userData, r.userData);
  return { root, r, userData };
}

describe.each(["aws-ec2", "oci-compute"] as const)("bootstrap on %s", (platform) => {
  it("user data and every script pass bash -n", () => {
    const { r, userData } = writeAll(base(platform));
    execFileSync("bash", ["-n", userData]);
    const scripts = Object.entries(r.files).filter(([, f]) => f.content.startsWith("#!/bin/bash"));
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const [path] of scripts) execFileSync("bash", ["-n", path]);
  });

  it("bash -n catches a broken script (the check can fail)", () => {
    const root = mkdtempSync(join(tmpdir(), "bootstrap-"));
    roots.push(root);
    writeFileSync(join(root, "bad.sh"), "if then fi\n");
    expect(() => execFileSync("bash", ["-n", join(root, "bad.sh")], { stdio: "pipe" })).toThrow();
  });

  it("installs the schedule in the timer, oneshot + restart limits in the service", () => {
    const { r } = writeAll(base(platform));
    const timer = r.files[r.paths.timer].content;
    expect(timer).toContain("OnCalendar=*-*-* *:00/10:00 UTC");
    expect(timer).toContain('cron "*/10 * * * *"');
    const service = r.files[r.paths.service].content;
    expect(service).toMatch(/^Type=oneshot$/m);
    expect(service).toMatch(/^Restart=on-failure$/m);
    expect(service).toMatch(/^StartLimitBurst=3$/m);
    expect(service).toMatch(/^RestartPreventExitStatus=3$/m);
    expect(service).toMatch(/^RuntimeDirectory=bucket-replication bucket-replication\/credentials$/m);
    // The user data writes the same units it was rendered with.
    expect(r.userData).toContain(timer.trim());
    expect(r.userData).toContain(`--config '/etc/bucket-replication/config.json'`.replace("/etc", `${r.paths.config.slice(0, -"/etc/bucket-replication/config.json".length)}/etc`));
  });

  it("never carries a secret value, only secret references", () => {
    const input = base(platform);
    const { r } = writeAll(input);
    const all = r.userData + Object.values(r.files).map((f) => f.content).join("\n");
    expect(all).not.toContain(TEST_SECRET);
    const ref = Object.values(input.secrets)[0];
    expect(r.files[r.paths.fetchCredentials].content).toContain(ref);
    expect(r.files[r.paths.fetchCredentials].content).toContain("/run/bucket-replication/credentials/");
  });

  it.skipIf(!haveSystemd)("systemd-analyze verify accepts the units", () => {
    const { r } = writeAll(base(platform));
    const units = Object.keys(r.files).filter((p) => /\.(service|timer)$/.test(p));
    const res = spawnSync("systemd-analyze", ["verify", "--man=no", ...units], { encoding: "utf8" });
    const problems = (res.stderr + res.stdout)
      .split("\n")
      // The test runner is not PID 1 / has no such user: not about our units.
      .filter((l) => l.trim() && !/Failed to connect to bus|Cannot find user|Failed to resolve user|Running in a container|\/run\/systemd\/system/.test(l));
    expect(problems, problems.join("\n")).toEqual([]);
    expect(res.status, res.stderr).toBe(0);
  });
});

/** The user data without the bodies of its heredocs: the commands it runs itself. */
function userDataCommands(userData: string): string {
  return userData.replace(/<<'BUCKET_REPLICATION_EOF'\n[\s\S]*?\nBUCKET_REPLICATION_EOF\n/g, "<<heredoc\n");
}

/** A directory of stub commands that log their calls; `fail` makes one fail its first N calls. */
function stubs(root: string, scripts: Record<string, string>): { bin: string; calls: () => string[] } {
  const bin = join(root, "stub-bin");
  mkdirSync(bin, { recursive: true });
  const log = join(root, "calls.log");
  writeFileSync(log, "");
  for (const [name, body] of Object.entries(scripts)) {
    const path = name.startsWith("/") ? name : join(bin, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `#!/bin/bash\necho "${name.split("/").pop()} $*" >> ${JSON.stringify(log)}\n${body}\n`);
    chmodSync(path, 0o755);
  }
  return { bin, calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

describe.each(["aws-ec2", "oci-compute"] as const)("bootstrap convergence on %s", (platform) => {
  it("the user data only writes files and starts the bootstrap unit: no network step that could give up", () => {
    const { r } = writeAll(base(platform));
    const cmds = userDataCommands(r.userData);
    expect(cmds.split("\n").filter((l) => !l.startsWith("#")).join("\n")).not.toMatch(/\bdnf\b|aws s3|oci os|retry|sleep/);
    expect(cmds).toContain("systemctl enable bucket-replication-bootstrap.service");
    expect(cmds).toContain("systemctl start --no-block bucket-replication-bootstrap.service");
    // every file the bootstrap needs is written by the user data
    for (const path of [r.paths.bootstrap, r.paths.bootstrapService, r.paths.service, r.paths.timer]) expect(r.userData).toContain(`cat > '${path}'`);
  });

  it("the bootstrap unit restarts without a start limit until it has completed once, also after a reboot", () => {
    const { r } = writeAll(base(platform));
    const unit = r.files[r.paths.bootstrapService].content;
    expect(unit).toMatch(/^StartLimitIntervalSec=0$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^TimeoutStartSec=infinity$/m);
    expect(unit).toContain(`ConditionPathExists=!${r.paths.bootstrapDone}`);
    expect(unit).toMatch(/^WantedBy=multi-user\.target$/m);
    expect(unit).toContain(`ExecStart=${r.paths.bootstrap}`);
  });

  it.skipIf(platform === "aws-ec2" && !existsSync("/usr/bin/node"))(
    "keeps retrying the artifact fetch with capped backoff (past the old 30 attempts, through a corrupt download) and then enables the schedule",
    () => {
      const bundle = "console.log('runner');\n";
      const config = '{"jobs":[]}\n';
      const sum = (c: string) => createHash("sha256").update(c).digest("hex");
      const input: BootstrapInput = {
        ...base(platform),
        bundle: { key: `runner/${sum(bundle)}/runner.mjs`, sha256: sum(bundle) },
        config: { key: `config/${sum(config)}.json`, sha256: sum(config) },
      };
      const { root, r } = writeAll(input);
      rmSync(r.paths.bundle);
      mkdirSync(dirname(r.paths.config), { recursive: true }); // the user data creates it on the VM
      mkdirSync(dirname(r.paths.bootstrapDone), { recursive: true }); // /var/lib exists on the VM
      const store = join(root, "store");
      mkdirSync(join(store, "runner", sum(bundle)), { recursive: true });
      mkdirSync(join(store, "config"), { recursive: true });
      writeFileSync(join(store, input.bundle.key), bundle);
      writeFileSync(join(store, input.config.key), config);
      const FAILURES = 35; // the old user data gave up after 30
      const counter = join(root, "fetches");
      // The object-store CLI: denied FAILURES times (the identity's policy not there yet), then one
      // corrupt download, then the real object.
      const fetchBody = (keyArg: string, destArg: string) => `
n=$(( $(cat ${JSON.stringify(counter)} 2>/dev/null || echo 0) + 1 )); echo $n > ${JSON.stringify(counter)}
args=("$@"); key=""; dest=""
for ((i = 0; i < \${#args[@]}; i++)); do
  case "\${args[i]}" in ${keyArg}) key=\${args[i+1]};; ${destArg}) dest=\${args[i+1]};; esac
done
[ "$n" -le ${FAILURES} ] && { echo "NotAuthorizedOrNotFound" >&2; exit 1; }
[ "$n" -eq ${FAILURES + 1} ] && { echo corrupt > "$dest"; exit 0; }
cp ${JSON.stringify(store)}/"$key" "$dest"`;
      const cli: Record<string, string> =
        platform === "oci-compute"
          ? { oci: fetchBody("--name", "--file") }
          : {
              aws: `set -- "$3" "$4" "$5" "$6" "$7"; k="\${4#s3://*/}"; set -- --key "$k" --dest "$5"; ${fetchBody("--key", "--dest")}`,
              [r.paths.cwAgentCtl]: "exit 0",
            };
      const { bin, calls } = stubs(root, { dnf: "exit 0", systemctl: "exit 0", sleep: "exit 0", ...cli });
      const res = spawnSync("bash", [r.paths.bootstrap], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, timeout: 20_000 });
      expect(res.status, `${res.status} ${res.error}\n${res.stderr.slice(-3000)}\n${res.stdout.slice(-3000)}`).toBe(0);
      expect(readFileSync(r.paths.bundle, "utf8")).toBe(bundle);
      expect(readFileSync(r.paths.config, "utf8")).toBe(config);
      expect(existsSync(r.paths.bootstrapDone)).toBe(true);
      const log = calls();
      // backoff 10 s doubling, capped; never a give-up
      const sleeps = log.filter((l) => l.startsWith("sleep ")).map((l) => Number(l.split(" ")[1]));
      expect(sleeps.length).toBe(FAILURES + 1);
      expect(sleeps.slice(0, 6)).toEqual([10, 20, 40, 80, 160, BOOTSTRAP_MAX_BACKOFF]);
      expect(Math.max(...sleeps)).toBe(BOOTSTRAP_MAX_BACKOFF);
      expect(res.stdout).toContain('"step":"bundle","status":"retry-36"');
      expect(res.stdout).toContain('"step":"done","status":"ok"');
      // the schedule is enabled only after both artifacts are in place
      const enable = log.findIndex((l) => l === "systemctl enable --now bucket-replication.timer");
      const lastFetch = log.map((l) => /^(oci|aws) /.test(l)).lastIndexOf(true);
      expect(enable).toBeGreaterThan(lastFetch);
      expect(log).toContain("systemctl start --no-block bucket-replication.service");
      if (platform === "oci-compute") {
        // the heartbeat starts before the first fetch: the metric stream exists even if the fetch never succeeds
        const hb = log.findIndex((l) => l === "systemctl enable --now bucket-replication-heartbeat.timer");
        expect(hb).toBeGreaterThanOrEqual(0);
        expect(hb).toBeLessThan(log.findIndex((l) => l.startsWith("oci ")));
      } else {
        expect(log.findIndex((l) => l.startsWith("amazon-cloudwatch-agent-ctl "))).toBeLessThan(log.findIndex((l) => l.startsWith("aws ")));
      }
    },
  );

  it("a credentials-fetch failure (ExecStartPre) still writes the failed-run line the alarms are built on", () => {
    const { root, r } = writeAll(base(platform));
    const creds = join(root, "run-credentials");
    // CREDENTIALS_DIR is absolute (/run/...): point the rendered script at a temp dir instead.
    const script = join(root, "fetch-credentials");
    writeFileSync(script, r.files[r.paths.fetchCredentials].content.split(CREDENTIALS_DIR).join(creds));
    const { bin, calls } = stubs(root, { sleep: "exit 0", oci: '[ "$1" = monitoring ] && exit 0; exit 1', aws: "exit 1" });
    const res = spawnSync("bash", [script], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, timeout: 30_000 });
    expect(res.status).not.toBe(0);
    const lines = res.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    // the line the CloudWatch metric filter { $.event = "bucket-replication-run" && $.status = "failed" } counts
    expect(lines).toContainEqual(expect.objectContaining({ event: "bucket-replication-run", topology: "replication", status: "failed", stage: "credentials" }));
    if (platform === "oci-compute") {
      const post = calls().find((l) => l.startsWith("oci monitoring metric-data post"));
      expect(post).toBeDefined();
      expect(post).toContain('"name":"run_failed"');
      expect(post).toContain('"value":1');
    }
    // and a successful fetch writes no failure line
    const ok = stubs(join(root, "ok"), { sleep: "exit 0", oci: 'echo eyJrIjoxfQ==; exit 0', aws: 'echo \'{"k":1}\'; exit 0' });
    const res2 = spawnSync("bash", [script], { encoding: "utf8", env: { ...process.env, PATH: `${ok.bin}:${process.env.PATH}` }, timeout: 30_000 });
    expect(res2.status, res2.stdout + res2.stderr).toBe(0);
    expect(res2.stdout).not.toContain("bucket-replication-run");
  });
});

it.skipIf(!haveSystemd)("systemd-analyze verify rejects a broken unit (the check can fail)", () => {
  const root = mkdtempSync(join(tmpdir(), "bootstrap-"));
  roots.push(root);
  const unit = join(root, "broken.service");
  writeFileSync(unit, "[Service]\nType=oneshot\nExecStart=/nonexistent/binary\n");
  const res = spawnSync("systemd-analyze", ["verify", "--man=no", unit], { encoding: "utf8" });
  expect(res.status).not.toBe(0);
});

describe("restart policy", () => {
  it("never lets the start limit block the next scheduled run", () => {
    for (const cron of ["* * * * *", "*/15 * * * *", "0 * * * *", "0 3 * * *"]) {
      const r = restartPolicy(cron);
      const gap = { "* * * * *": 60, "*/15 * * * *": 900, "0 * * * *": 3600, "0 3 * * *": 86400 }[cron]!;
      expect(r.intervalSec).toBeLessThan(gap);
      // two retries fit inside the window, so a third failure in a row stops the burst
      expect(2 * r.restartSec).toBeLessThan(r.intervalSec);
    }
  });
});

it("rejects an unsupported schedule naming runner.schedule", () => {
  expect(() => renderBootstrap({ ...base("aws-ec2"), schedule: "0 0 L * *" })).toThrow(/runner\.schedule/);
});
