// A real one-node OpenStack Swift with its S3 layer (s3api + tempauth) on loopback, for tests that
// need a server that checks SigV4 signatures and has Swift's own quirks (s3rver checks neither).
//
// Needs the Debian 12 packages swift-proxy swift-account swift-container swift-object python3-swift
// memcached (.ci/run installs them). Everything lives in one temp directory: the config files, the
// one-replica rings (built with swift-ring-builder, one device on 127.0.0.1), the storage device
// (a plain directory, `mount_check = false`) and the logs. No root-level mounts, nothing in
// /etc/swift is read or written (`swift_dir` points at the temp directory). Each server runs in the
// foreground with `workers = 0`, so stop() is one SIGTERM per process.
//
// Two tempauth accounts: in tempauth the S3 access key is `account:user` and the secret is the
// user's key. Swift's native API (for seeding what S3 cannot express, e.g. raw UTF-8 metadata)
// is at `nativeAuthUrl` (GET with X-Auth-User/X-Auth-Key → X-Auth-Token, X-Storage-Url).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export const SWIFT_PACKAGES = ["swift-proxy", "swift-account", "swift-container", "swift-object", "python3-swift", "memcached"] as const;
const BINARIES = ["swift-proxy-server", "swift-account-server", "swift-container-server", "swift-object-server", "swift-ring-builder", "memcached"];

export interface SwiftAccount {
  /** S3 access key (`account:user`) and secret (the tempauth key). */
  accessKeyId: string;
  secretAccessKey: string;
  /** tempauth names for the native API. */
  account: string;
  user: string;
}

export interface Swift {
  /** S3 endpoint, e.g. http://127.0.0.1:38211 */
  endpoint: string;
  accounts: SwiftAccount[];
  /** Native (v1) auth URL: GET with X-Auth-User: account:user and X-Auth-Key. */
  nativeAuthUrl: string;
  /** Milliseconds from start to ready. */
  startupMs: number;
  dir: string;
  /** Native API: a token and storage URL for an account. */
  nativeAuth(a: SwiftAccount): Promise<{ token: string; storageUrl: string }>;
  /** Last lines of every server's log (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

/** Why Swift cannot be started here (a missing binary), or undefined when it can. */
export function swiftUnavailable(): string | undefined {
  const missing = BINARIES.filter((b) => spawnSync("sh", ["-c", `command -v ${b}`]).status !== 0);
  if (missing.length === 0) return undefined;
  return `OpenStack Swift is not installed (missing ${missing.join(", ")}); install it with: apt-get install ${SWIFT_PACKAGES.join(" ")}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function distinctPorts(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await freePort());
  return [...out];
}

const ACCOUNTS: SwiftAccount[] = [
  { account: "test", user: "tester", accessKeyId: "test:tester", secretAccessKey: "testing" },
  { account: "test2", user: "tester2", accessKeyId: "test2:tester2", secretAccessKey: "testing2" },
];

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

async function waitHealthy(url: string, deadline: number, procs: { name: string; child: ChildProcess }[], logs: () => string): Promise<void> {
  for (;;) {
    const dead = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) throw new Error(`swift: ${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode}) during start-up:\n${logs()}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`swift: ${url} not healthy after start-up timeout:\n${logs()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startSwift(opts: { timeoutMs?: number } = {}): Promise<Swift> {
  const why = swiftUnavailable();
  if (why) throw new Error(why);
  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "swift-"));
  const devices = join(dir, "srv");
  mkdirSync(join(devices, "d1"), { recursive: true });
  mkdirSync(join(dir, "run"));
  mkdirSync(join(dir, "log"));
  const [proxyPort, accountPort, containerPort, objectPort, memcachePort] = await distinctPorts(5);
  const user = userInfo().username;
  const common = (port: number) => `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = ${user}
swift_dir = ${dir}
devices = ${devices}
mount_check = false
log_level = INFO
log_udp_host = 127.0.0.1
log_udp_port = 9
`;
  writeFileSync(
    join(dir, "swift.conf"),
    `[swift-hash]
swift_hash_path_suffix = replication-test
swift_hash_path_prefix = replication-test

[storage-policy:0]
name = Policy-0
default = yes
`,
  );
  writeFileSync(join(dir, "account-server.conf"), `${common(accountPort)}\n[pipeline:main]\npipeline = healthcheck account-server\n\n[app:account-server]\nuse = egg:swift#account\n\n[filter:healthcheck]\nuse = egg:swift#healthcheck\n`);
  writeFileSync(join(dir, "container-server.conf"), `${common(containerPort)}\n[pipeline:main]\npipeline = healthcheck container-server\n\n[app:container-server]\nuse = egg:swift#container\n\n[filter:healthcheck]\nuse = egg:swift#healthcheck\n`);
  writeFileSync(join(dir, "object-server.conf"), `${common(objectPort)}\n[pipeline:main]\npipeline = healthcheck object-server\n\n[app:object-server]\nuse = egg:swift#object\n\n[filter:healthcheck]\nuse = egg:swift#healthcheck\n`);
  const users = ACCOUNTS.map((a) => `user_${a.account}_${a.user} = ${a.secretAccessKey} .admin`).join("\n");
  writeFileSync(
    join(dir, "proxy-server.conf"),
    `${common(proxyPort)}
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
${users}

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcachePort}

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes

[filter:symlink]
use = egg:swift#symlink
`,
  );
  // One-replica rings, one device each, 2^6 partitions (tiny: fast to build and to serve).
  for (const [ring, port] of [["account", accountPort], ["container", containerPort], ["object", objectPort]] as const) {
    const b = join(dir, `${ring}.builder`);
    for (const args of [[b, "create", "6", "1", "1"], [b, "add", `r1z1-127.0.0.1:${port}/d1`, "100"], [b, "rebalance"]]) {
      const r = spawnSync("swift-ring-builder", args, { encoding: "utf8" });
      // rebalance exits 1 with a warning ("balance ... above"), which is fine for one device.
      if (r.status !== 0 && !(args[1] === "rebalance" && r.status === 1)) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`swift-ring-builder ${args.slice(1).join(" ")} failed (${r.status}): ${r.stderr || r.stdout}`);
      }
    }
  }
  const procs: { name: string; child: ChildProcess; log: string }[] = [];
  const launch = (name: string, cmd: string, args: string[]) => {
    const log = join(dir, "log", `${name}.log`);
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1" } });
    const append = (d: Buffer) => writeFileSync(log, d, { flag: "a" });
    child.stdout!.on("data", append);
    child.stderr!.on("data", append);
    procs.push({ name, child, log });
  };
  const logs = () =>
    procs
      .map((p) => {
        let text = "";
        try {
          text = readFileSync(p.log, "utf8");
        } catch {
          // no output yet
        }
        return `--- ${p.name}\n${text.split("\n").slice(-30).join("\n")}`;
      })
      .join("\n");
  const stop = async () => {
    await Promise.all(procs.map((p) => stopChild(p.child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    launch("memcached", "memcached", ["-l", "127.0.0.1", "-p", String(memcachePort), "-U", "0", "-m", "16", ...(process.getuid?.() === 0 ? ["-u", "root"] : [])]);
    for (const s of ["account", "container", "object", "proxy"]) launch(s, `swift-${s}-server`, [join(dir, `${s}-server.conf`), "--verbose"]);
    const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
    for (const port of [accountPort, containerPort, objectPort, proxyPort]) await waitHealthy(`http://127.0.0.1:${port}/healthcheck`, deadline, procs, logs);
  } catch (e) {
    await stop();
    throw e;
  }
  const nativeAuthUrl = `http://127.0.0.1:${proxyPort}/auth/v1.0`;
  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    accounts: ACCOUNTS.map((a) => ({ ...a })),
    nativeAuthUrl,
    startupMs: Date.now() - t0,
    dir,
    async nativeAuth(a) {
      const r = await fetch(nativeAuthUrl, { headers: { "X-Auth-User": `${a.account}:${a.user}`, "X-Auth-Key": a.secretAccessKey } });
      await r.arrayBuffer();
      if (!r.ok) throw new Error(`swift native auth for ${a.account}:${a.user} failed: HTTP ${r.status}`);
      return { token: r.headers.get("x-auth-token")!, storageUrl: r.headers.get("x-storage-url")! };
    },
    logs,
    stop,
  };
}
