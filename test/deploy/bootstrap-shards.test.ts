// runner.shards on the VMs: one service + timer pair per shard, each running `run K/N`, with its own
// runtime directory bound onto /run/bucket-replication (a shard that finishes must not remove the
// credentials of one still running). Rendered to disk and checked like the VM would: bash -n, and
// systemd-analyze verify where systemd is installed; the run script is executed with a stub node.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderBootstrap, type BootstrapInput } from "../../components/deploy/bootstrap.js";

const sha = (c: string) => c.repeat(64);
const input = (platform: BootstrapInput["platform"], shards?: number): BootstrapInput => ({
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
  secrets: {},
  shards,
});

const haveSystemd = spawnSync("systemd-analyze", ["--version"]).status === 0;
const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function writeAll(i: BootstrapInput) {
  const root = mkdtempSync(join(tmpdir(), "shards-"));
  roots.push(root);
  const r = renderBootstrap({ ...i, root });
  for (const [path, f] of Object.entries(r.files)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
    chmodSync(path, parseInt(f.mode, 8));
  }
  mkdirSync(dirname(r.paths.bundle), { recursive: true });
  writeFileSync(r.paths.bundle, "");
  return { root, r };
}

describe.each(["aws-ec2", "oci-compute"] as const)("%s with shards", (platform) => {
  it("shards = 1 (or unset) renders the single pair exactly as before shards existed", () => {
    const a = renderBootstrap(input(platform));
    const b = renderBootstrap(input(platform, 1));
    expect(b.userData).toBe(a.userData);
    const units = Object.keys(a.files).filter((p) => /\.(service|timer)$/.test(p)).map((p) => p.split("/").pop()).sort();
    expect(units.filter((u) => !/heartbeat|bootstrap/.test(u!))).toEqual(["bucket-replication.service", "bucket-replication.timer"]);
    expect(a.files[a.paths.run].content).not.toContain("--shard");
  });

  it("shards = 3: three service + timer pairs, each its own shard, runtime directory and schedule", () => {
    const r = renderBootstrap(input(platform, 3));
    const unitFiles = Object.keys(r.files).filter((p) => /bucket-replication(-shard-\d+)?\.(service|timer)$/.test(p)).map((p) => p.split("/").pop()).sort();
    expect(unitFiles).toEqual([0, 1, 2].flatMap((k) => [`bucket-replication-shard-${k}.service`, `bucket-replication-shard-${k}.timer`]));
    for (let k = 0; k < 3; k++) {
      const svc = r.files[`/etc/systemd/system/bucket-replication-shard-${k}.service`].content;
      const timer = r.files[`/etc/systemd/system/bucket-replication-shard-${k}.timer`].content;
      expect(svc).toContain(`ExecStart=/opt/bucket-replication/bin/run ${k}/3`);
      expect(svc).toContain(`RuntimeDirectory=bucket-replication-shard-${k} bucket-replication-shard-${k}/credentials`);
      expect(svc).toContain(`BindPaths=/run/bucket-replication-shard-${k}:/run/bucket-replication`);
      expect(svc).toContain("Type=oneshot");
      expect(svc).toContain('Environment="NODE_OPTIONS=--max-old-space-size=192 --max-semi-space-size=32"');
      expect(timer).toContain("OnCalendar=*-*-* *:00/10:00 UTC");
      expect(timer).toContain(`Unit=bucket-replication-shard-${k}.service`);
      expect(r.userData).toContain(`systemctl enable --now bucket-replication-shard-${k}.timer`);
    }
    expect(r.userData).not.toContain("systemctl enable --now bucket-replication.timer");
  });

  it("every script passes bash -n", () => {
    const { r } = writeAll(input(platform, 3));
    for (const [path, f] of Object.entries(r.files)) {
      if (!f.content.startsWith("#!/bin/bash")) continue;
      const res = spawnSync("bash", ["-n", path], { encoding: "utf8" });
      expect(res.status, `${path}: ${res.stderr}`).toBe(0);
    }
  });

  it("the run script passes --shard K/N, records the shard's success and prints the shard in the run line", () => {
    const { root, r } = writeAll(input(platform, 3));
    const bin = join(root, "stub-bin");
    mkdirSync(bin);
    const calls = join(root, "node-calls");
    // /usr/bin/node is hard-wired: run a copy of the script with the stub's path instead.
    writeFileSync(join(bin, "node"), `#!/bin/bash\necho "$*" >> ${JSON.stringify(calls)}\n[ "\${FAIL:-0}" = 1 ] && exit 1\nexit 0\n`);
    chmodSync(join(bin, "node"), 0o755);
    writeFileSync(join(bin, "oci"), "#!/bin/bash\nexit 0\n");
    chmodSync(join(bin, "oci"), 0o755);
    const script = join(root, "run-copy");
    writeFileSync(script, r.files[r.paths.run].content.split("/usr/bin/node").join(join(bin, "node")));
    mkdirSync(dirname(r.paths.lastSuccess), { recursive: true });
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const ok = spawnSync("bash", [script, "2/3"], { encoding: "utf8", env });
    expect(ok.status, ok.stderr).toBe(0);
    expect(readFileSync(calls, "utf8")).toContain("run --config");
    expect(readFileSync(calls, "utf8").trim().endsWith("--shard 2/3")).toBe(true);
    expect(Number(readFileSync(`${r.paths.lastSuccess}-2`, "utf8"))).toBeGreaterThan(0);
    const line = JSON.parse(ok.stdout.split("\n").find((l) => l.startsWith('{"event":"bucket-replication-run"'))!);
    expect(line).toMatchObject({ shard: "2/3", status: "ok", exitCode: 0 });
    const failed = spawnSync("bash", [script, "1/3"], { encoding: "utf8", env: { ...env, FAIL: "1" } });
    expect(failed.status).toBe(1);
    expect(JSON.parse(failed.stdout.split("\n").find((l) => l.startsWith('{"event":"bucket-replication-run"'))!)).toMatchObject({ shard: "1/3", status: "failed" });
    expect(spawnSync("bash", [script], { encoding: "utf8", env }).status).toBe(2);
  });

  it.skipIf(!haveSystemd)("systemd-analyze verify accepts the shard units", () => {
    const { r } = writeAll(input(platform, 3));
    const units = Object.keys(r.files).filter((p) => /\.(service|timer)$/.test(p));
    const res = spawnSync("systemd-analyze", ["verify", "--man=no", ...units], { encoding: "utf8" });
    const problems = (res.stderr + res.stdout)
      .split("\n")
      .filter((l) => l.trim() && !/Failed to connect to bus|Cannot find user|Failed to resolve user|Running in a container|\/run\/systemd\/system/.test(l));
    expect(problems, problems.join("\n")).toEqual([]);
    expect(res.status, res.stderr).toBe(0);
  });
});

it("the OCI heartbeat reports the oldest of the shards' last successes", () => {
  const r = renderBootstrap({ ...input("oci-compute", 2), root: "" });
  const hb = r.files[r.paths.heartbeat].content;
  expect(hb).toContain("'/var/lib/bucket-replication/last-success-0' '/var/lib/bucket-replication/last-success-1'");
  expect(hb).toContain("sort -n | head -n 1");
});
