// The container image pieces shipped in deploy/container: the init step's script (fetch-bundle.sh)
// run for real under bash and under dash (POSIX sh, as busybox would) against a local HTTP server,
// and the Dockerfile checked the way a linter would (hadolint is not installed here) and built where
// a Docker engine exists.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchBundleScript } from "../../components/deploy/container.js";

const SCRIPT = "deploy/container/fetch-bundle.sh";
const DOCKERFILE = "deploy/container/Dockerfile";
const BODY = Buffer.from("// runner bundle\n" + "x".repeat(100_000) + "\n");
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

let server: Server;
let base = "";
const hits: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? "");
    if (req.url === "/runner.mjs") res.end(BODY);
    else if (req.url === "/runner.mjs.gz") res.end(gzipSync(BODY));
    else if (req.url === "/empty") res.end();
    else {
      res.statusCode = 404;
      res.end("no");
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "fetch-bundle-"));
  dirs.push(d);
  return d;
}

/** Run the script (async: the HTTP server lives in this process). */
function run(shell: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(shell, [SCRIPT, ...args], { env: { PATH: process.env.PATH!, ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const shells = ["bash", ...(spawnSync("dash", ["-c", "true"]).status === 0 ? ["dash"] : [])];

describe.each(shells)("fetch-bundle.sh under %s", (shell) => {
  it("a good sha256: exit 0, the file in place, byte for byte, and nothing else left", async () => {
    const dir = tmp();
    const dest = join(dir, "sub", "runner.mjs");
    const r = await run(shell, [`${base}/runner.mjs`, dest, sha(BODY)]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(dest).equals(BODY)).toBe(true);
    expect(readdirSync(join(dir, "sub"))).toEqual(["runner.mjs"]);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ status: "ok", sha256: sha(BODY) });
  });

  it("a wrong sha256: non-zero, no file, no temporary file", async () => {
    const dir = tmp();
    const dest = join(dir, "runner.mjs");
    const r = await run(shell, [`${base}/runner.mjs`, dest, sha("something else")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("sha256 mismatch");
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a .gz source is decompressed and the sha256 is the content's", async () => {
    const dir = tmp();
    const dest = join(dir, "runner.mjs");
    const r = await run(shell, [`${base}/runner.mjs.gz`, dest, sha(BODY)]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(dest).equals(BODY)).toBe(true);
    // a file path (a mounted ConfigMap key) works the same way
    const src = join(dir, "bundle.gz");
    writeFileSync(src, gzipSync(BODY));
    const dest2 = join(dir, "copy.mjs");
    expect((await run(shell, [src, dest2, sha(BODY)])).code).toBe(0);
    expect(readFileSync(dest2).equals(BODY)).toBe(true);
  });

  it("a download that keeps failing: retried, then non-zero and nothing left", async () => {
    const dir = tmp();
    const before = hits.filter((h) => h === "/missing").length;
    const r = await run(shell, [`${base}/missing`, join(dir, "runner.mjs"), sha(BODY)], { FETCH_BUNDLE_ATTEMPTS: "2" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("download failed after 2 attempts");
    expect(hits.filter((h) => h === "/missing").length - before).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
    const empty = await run(shell, [`${base}/empty`, join(dir, "runner.mjs"), sha("")]);
    expect(empty.code).not.toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses a malformed sha256 and wrong usage", async () => {
    const dir = tmp();
    expect((await run(shell, [`${base}/runner.mjs`, join(dir, "r"), "ABC"])).code).toBe(1);
    expect((await run(shell, [`${base}/runner.mjs`, join(dir, "r")])).code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });
});

it("the components embed the shipped script", () => {
  expect(fetchBundleScript()).toBe(readFileSync(SCRIPT, "utf8"));
});

describe("Dockerfile", () => {
  const text = readFileSync(DOCKERFILE, "utf8");
  const instructions = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const of = (kw: string) => instructions.filter((l) => l.toUpperCase().startsWith(`${kw} `));

  it("pins an official Node base image by tag (never latest)", () => {
    const from = of("FROM");
    expect(from).toHaveLength(1);
    expect(from[0]).toMatch(/^FROM node:22\.\d+\.\d+-[a-z0-9.-]+$/);
    expect(from[0]).not.toMatch(/:latest\b/);
  });

  it("runs as a non-root user, with the bundle's ENTRYPOINT in exec form", () => {
    const users = of("USER");
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).toMatch(/^USER 1000(:1000)?$/);
    expect(instructions.findIndex((l) => l.startsWith("USER"))).toBeGreaterThan(instructions.findIndex((l) => l.startsWith("COPY")));
    expect(of("ENTRYPOINT")).toEqual(['ENTRYPOINT ["node", "/runner/runner.mjs"]']);
    expect(of("COPY")).toEqual(["COPY dist/runner.mjs /runner/runner.mjs"]);
  });

  it("carries no secret and adds nothing from the network", () => {
    for (const l of [...of("ENV"), ...of("ARG"), ...of("LABEL")]) expect(l).not.toMatch(/SECRET|PASSWORD|TOKEN|ACCESS_KEY|credentials/i);
    expect(of("ADD")).toEqual([]);
    expect(text).not.toMatch(/curl|wget|npm install/);
  });

  const engine = spawnSync("docker", ["info"], { encoding: "utf8" });
  const haveEngine = engine.status === 0;
  it.skipIf(!haveEngine)(`docker build succeeds (skipped here: ${haveEngine ? "" : "no Docker engine reachable: `docker info` failed"})`, () => {
    expect(existsSync("dist/runner.mjs")).toBe(true);
    const tag = `bucket-replication-runner-test:${process.pid}`;
    const b = spawnSync("docker", ["build", "-f", DOCKERFILE, "-t", tag, "."], { encoding: "utf8", timeout: 600_000 });
    expect(b.status, b.stderr).toBe(0);
    const user = spawnSync("docker", ["run", "--rm", "--entrypoint", "id", tag, "-u"], { encoding: "utf8" });
    expect(user.stdout.trim()).toBe("1000");
    spawnSync("docker", ["rmi", tag]);
  });
});

describe("the containers' run wrapper (runCommand) under dash", () => {
  const stubDir = mkdtempSync(join(tmpdir(), "wrapper-"));
  dirs.push(stubDir);
  const log = join(stubDir, "node-args");
  // A stand-in for node: records its arguments, sleeps when asked (to receive SIGTERM), exits with $RC.
  writeFileSync(join(stubDir, "node"), `#!/bin/sh\necho "$*" > ${JSON.stringify(log)}\ns=\ntrap 'kill $s 2>/dev/null; echo TERM >> ${JSON.stringify(log)}; exit 143' TERM\nif [ -n "\${SLEEP:-}" ]; then sleep "$SLEEP" & s=$!; wait $s; fi\nexit "\${RC:-0}"\n`, { mode: 0o755 });

  async function wrap(shard: string[], env: Record<string, string> = {}, signalAfterMs?: number) {
    const { runCommand } = await import("../../components/deploy/container.js");
    const [sh, c, script, ...args] = runCommand("orders", "kubernetes", "/config/runner.json", shard);
    expect([sh, c]).toEqual(["/bin/sh", "-c"]);
    return new Promise<{ code: number | null; line: any; args: string }>((resolve) => {
      const p = spawn("dash", ["-c", script, ...args], { env: { PATH: `${stubDir}:${process.env.PATH}`, ...env } });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      if (signalAfterMs !== undefined) setTimeout(() => p.kill("SIGTERM"), signalAfterMs);
      p.on("close", (code) => resolve({ code, line: JSON.parse(out.trim().split("\n").pop()!), args: readFileSync(log, "utf8") }));
    });
  }

  it.skipIf(!shells.includes("dash"))("runs the runner with the config and shard, prints the run line with the shard, exits with the runner's status", async () => {
    const ok = await wrap(["--shard", "auto/3"], { JOB_COMPLETION_INDEX: "2" });
    expect(ok.code).toBe(0);
    expect(ok.args.trim()).toBe("/runner/runner.mjs run --config /config/runner.json --shard auto/3");
    expect(ok.line).toMatchObject({ event: "bucket-replication-run", topology: "orders", platform: "kubernetes", shard: "2/3", status: "ok", exitCode: 0 });
    const failed = await wrap(["--shard", "1/4"], { RC: "3" });
    expect(failed.code).toBe(3);
    expect(failed.line).toMatchObject({ shard: "1/4", status: "failed", exitCode: 3 });
    const single = await wrap([]);
    expect(single.args.trim()).toBe("/runner/runner.mjs run --config /config/runner.json");
    expect(single.line.shard).toBe("0/1");
  });

  it.skipIf(!shells.includes("dash"))("forwards SIGTERM to the runner and reports its exit", async () => {
    const r = await wrap(["--shard", "0/2"], { SLEEP: "20" }, 500);
    expect(r.args).toContain("TERM");
    expect(r.code).toBe(143);
    expect(r.line).toMatchObject({ shard: "0/2", status: "failed", exitCode: 143 });
  });
});
