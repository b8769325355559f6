// Renders the user data and the files it installs to disk, then checks them the way the VM would:
// bash -n on every script, systemd-analyze verify on the units (offline: ExecStart= paths point at
// the rendered scripts under a temp root, so verify can check they exist and are executable).
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderBootstrap, restartPolicy, type BootstrapInput } from "../../components/deploy/bootstrap.js";
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
