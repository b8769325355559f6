// Runner CLI conventions (issue 15), through the BUILT dist/runner.mjs against real s3rver processes
// behind fault proxies: --version and --help, did-you-mean for flags, keys named by check and
// --dry-run, config JSON errors with line and column, connection errors naming the endpoint, a bad
// state.dir (exit 2, never a hang), relative paths against the config's folder, SIGTERM/SIGINT
// stopping a run cleanly, and the maxBytesPerSecond bandwidth limit.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestsOf, startFaultEnv, startRunner, waitFor, type FaultEnv } from "../faults/support.js";
import { contents, del, get, keys, put, RUNNER, runRunner } from "./harness.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

let fx: FaultEnv;
beforeAll(async () => {
  fx = await startFaultEnv({
    a: ["names-a", "dry-a", "bi-a", "sig-a", "rel-a", "bw-a", "bwe-a"],
    b: ["names-b", "dry-b", "bi-b", "sig-b", "rel-b", "bw-b", "bwe-b"],
  });
});
afterAll(async () => fx?.stop());

const copyJob = (name: string, mode: string, a: string, b: string, extra: Record<string, unknown> = {}) => ({ name, mode, source: { endpoint: "a", bucket: a }, targets: [{ endpoint: "b", bucket: b }], ...extra });

/** A free TCP port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function runIn(cwd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [RUNNER, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

describe("--version and --help", () => {
  it("--version prints the package version, from the bundle and from the source under tsx", async () => {
    const r = await runRunner(["--version"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`bucket-replication ${VERSION}\n`);
    const tsx = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), join(ROOT, "runner/cli.ts"), "--version"], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      c.stdout.on("data", (d) => (out += d));
      c.on("close", () => resolve(out));
    });
    expect(tsx).toBe(`bucket-replication ${VERSION}\n`);
  });

  it("--help and <command> --help list every flag with a description, the exit codes and the docs", async () => {
    const main = await runRunner(["--help"]);
    expect(main.code).toBe(0);
    expect(main.stdout).toMatch(/^ {2}run +replicate/m);
    expect(main.stdout).toMatch(/^ {2}check +compare/m);
    expect(main.stdout).toMatch(/--version/);
    const flags = { run: ["--config FILE", "--job NAME", "--json", "--dry-run", "--resync", "--force", "--schedule CRON", "--help"], check: ["--config FILE", "--job NAME", "--json", "--help"] };
    for (const [cmd, list] of Object.entries(flags)) {
      const r = await runRunner([cmd, "--help"]);
      expect(r.code, r.stderr).toBe(0);
      for (const f of list) expect(r.stdout, `${cmd} ${f}`).toMatch(new RegExp(`${f.replace(/[-]/g, "\\-")} +\\S.{10,}`));
      for (const code of ["0", "1", "2", "3", "130", "143"]) expect(r.stdout, `exit code ${code}`).toMatch(new RegExp(`^ {2}${code} +\\S`, "m"));
      expect(r.stdout).toContain("docs/runner.md");
    }
    // check has no run-only flags.
    const check = await runRunner(["check", "-h"]);
    expect(check.stdout).not.toContain("--dry-run");
  });

  it("a mistyped flag is exit 2 with a did-you-mean; run-only flags on check, missing values and commands too", async () => {
    const cases: [string[], RegExp][] = [
      [["run", "--dryrun", "--config", "x.json"], /unknown option "--dryrun"; did you mean --dry-run\?/],
      [["run", "--config", "x.json", "--jsn"], /unknown option "--jsn"; did you mean --json\?/],
      [["check", "--config", "x.json", "--dry-run"], /--dry-run applies to run only/],
      [["run", "--config"], /--config needs a value \(FILE\)/],
      [["run", "--json=yes", "--config", "x.json"], /--json takes no value/],
      [["rnu", "--config", "x.json"], /unknown command "rnu": use run, check or reshard; did you mean run\?/],
      [["run", "--json"], /--config FILE is required/],
    ];
    for (const [args, msg] of cases) {
      const r = await runRunner(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(msg);
      expect(r.stderr).toMatch(/--help/);
    }
  });
});

describe("keys named in human output", () => {
  it("check names the first 20 keys per kind and counts the rest", async () => {
    const { a: A, b: B } = fx.clients;
    for (let i = 0; i < 23; i++) await put(A, "names-a", `miss-${String(i).padStart(2, "0")}`, "m");
    await put(A, "names-a", "diff", "on a");
    await put(B, "names-b", "diff", "on b, longer");
    await put(B, "names-b", "extra-1", "x");
    const cfg = fx.config({ endpoints: fx.endpoints(), state: { dir: join(fx.env.dir, "state-names") }, jobs: [copyJob("names", "sync", "names-a", "names-b")] });
    const r = await runRunner(["check", "--config", cfg]);
    expect(r.code, r.stderr).toBe(1);
    for (let i = 0; i < 20; i++) expect(r.stdout).toContain(`missing: "miss-${String(i).padStart(2, "0")}"`);
    expect(r.stdout).not.toContain('"miss-20"');
    expect(r.stdout).toContain("... and 3 more missing");
    expect(r.stdout).toContain('different: "diff"');
    expect(r.stdout).toContain('extra: "extra-1"');
    // --json still lists every key as an event.
    const j = await runRunner(["check", "--config", cfg, "--json"]);
    expect(j.lines.filter((l) => l.type === "missing")).toHaveLength(23);
  });

  it("run --dry-run names the keys to copy per target, to delete per side and the conflicts, with 'and K more'", async () => {
    const { a: A, b: B } = fx.clients;
    for (let i = 0; i < 25; i++) await put(A, "dry-a", `new-${String(i).padStart(2, "0")}`, "n");
    await put(B, "dry-b", "stale", "s");
    const cfg = fx.config({ endpoints: fx.endpoints(), state: { dir: join(fx.env.dir, "state-dry-names") }, jobs: [copyJob("dryn", "sync", "dry-a", "dry-b", { maxDeletePercent: 100 })] });
    const r = await runRunner(["run", "--config", cfg, "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}to copy to b\/dry-b\/ \(25\):$/m);
    expect(r.stdout).toMatch(/^ {4}"new-00"$/m);
    expect(r.stdout).toMatch(/^ {4}"new-19"$/m);
    expect(r.stdout).not.toContain('"new-20"');
    expect(r.stdout).toMatch(/^ {4}\.\.\. and 5 more \(--json lists every key\)$/m);
    expect(r.stdout).toMatch(/^ {2}to delete on b\/dry-b\/ \(1\):\n {4}"stale"$/m);
    expect(await keys(B, "dry-b")).toEqual(["stale"]);

    // bisync: both directions and the conflicts with their resolution.
    await put(A, "bi-a", "only-a", "a");
    await put(B, "bi-b", "only-b", "b");
    await put(A, "bi-a", "both", "a version");
    await put(B, "bi-b", "both", "b version!");
    const bcfg = fx.config({ endpoints: fx.endpoints(), state: { dir: join(fx.env.dir, "state-bi-names") }, jobs: [copyJob("bin", "bisync", "bi-a", "bi-b", { conflict: "keep-both" })] });
    const b = await runRunner(["run", "--config", bcfg, "--dry-run"]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^ {2}to copy to b\/bi-b\/ \(1\):\n {4}"only-a"$/m);
    expect(b.stdout).toMatch(/^ {2}to copy to a\/bi-a\/ \(1\):\n {4}"only-b"$/m);
    expect(b.stdout).toMatch(/^ {2}conflicts \(keep-both\) \(1\):\n {4}"both" \(both kept as \.conflict\)$/m);
    const j = await runRunner(["run", "--config", bcfg, "--dry-run", "--json"]);
    expect(j.lines.filter((l) => l.type === "would-copy").map((l) => l.key).sort()).toEqual(["only-a", "only-b"]);
  });
});

describe("config errors", () => {
  it("a JSON syntax error names the file, line and column, shows the line with a caret, exit 2", async () => {
    const p = join(fx.env.dir, "broken.json");
    writeFileSync(p, '{\n  "endpoints": {},\n  "state": {"dir": "/tmp/x"}\n  "jobs": []\n}\n');
    const r = await runRunner(["run", "--config", p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: --config: ${p}:4:3: not valid JSON: Expected ',' or '}' after property value`);
    expect(r.stderr).toContain('     4 |   "jobs": []\n       |   ^');
    const j = await runRunner(["run", "--config", p, "--json"]);
    expect(j.code).toBe(2);
    expect(j.lines[0]).toMatchObject({ type: "error", field: "--config", exitCode: 2 });
    expect(j.lines[0].message).toContain(":4:3:");
    // The end of the file: the last line.
    writeFileSync(p, '{\n  "endpoints": {\n');
    const e = await runRunner(["check", "--config", p]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/broken\.json:3:1: not valid JSON/);
  });

  it("a server that is down: the error names the endpoint entry and URL and what to check (closed port, TLS to plain http)", async () => {
    const port = await closedPort();
    const endpoints = fx.endpoints({ a: { endpoint: `http://127.0.0.1:${port}` } });
    const cfg = fx.config({ endpoints, retries: 1, state: { dir: join(fx.env.dir, "state-down") }, jobs: [copyJob("down", "copy", "names-a", "names-b")] });
    const r = await runRunner(["run", "--config", cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot connect to endpoint "a" (http://127.0.0.1:${port}): connection refused (ECONNREFUSED); check that the server is running and that endpoints.a.endpoint has the right host and port`);
    expect(r.stderr).not.toMatch(/Error: connect ECONNREFUSED/);
    // https to a plain-http server: the TLS handshake fails.
    const tls = fx.config({ endpoints: fx.endpoints({ b: { endpoint: fx.proxies.b.endpoint.replace("http:", "https:") } }), retries: 1, state: { dir: join(fx.env.dir, "state-tls") }, jobs: [copyJob("tls", "copy", "names-a", "names-b")] });
    const t = await runRunner(["check", "--config", tls]);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(new RegExp(`cannot connect to endpoint "b" \\(https://127\\.0\\.0\\.1:${fx.proxies.b.port}\\): (TLS handshake failed|the connection was reset during the TLS handshake) \\(\\w+\\); check that endpoints\\.b\\.endpoint uses the scheme`));
  });
});

describe("state.dir", () => {
  const cfgWith = (state: unknown, extra: Record<string, unknown> = {}) => fx.config({ endpoints: fx.endpoints(), state, jobs: [copyJob("sd", "copy", "names-a", "names-b")], ...extra });

  it("/proc/nope is exit 2 naming state.dir within seconds (it used to spin at 100% CPU), for run, --dry-run and check", async () => {
    for (const args of [["run"], ["run", "--dry-run"], ["check"]]) {
      fx.proxies.a.reset();
      const r = await runIn(fx.env.dir, [...args, "--config", cfgWith({ dir: "/proc/nope" })], 15_000);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.ms).toBeLessThan(10_000);
      expect(r.stderr).toMatch(/^error: state\.dir: cannot use "\/proc\/nope": it cannot be created.*; set state\.dir to a writable directory/m);
      expect(fx.proxies.a.total()).toBe(0);
    }
  });

  it("a file, a file as a parent, and (as a non-root user) a read-only directory are exit 2 naming state.dir", async () => {
    const file = join(fx.env.dir, "a-file");
    writeFileSync(file, "x");
    for (const dir of [file, join(file, "sub")]) {
      const r = await runRunner(["run", "--config", cfgWith({ dir })]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`error: state.dir: cannot use "${dir}": ${file} is a file, not a directory; set state.dir`);
    }
    const spool = await runRunner(["run", "--config", cfgWith({ dir: join(fx.env.dir, "state-sp") }, { spoolDir: join(file, "spool") })]);
    expect(spool.code).toBe(2);
    expect(spool.stderr).toMatch(/error: spoolDir: cannot use .*is a file, not a directory; set spoolDir/);
  });

  it.skipIf(process.getuid?.() === 0)("a directory the runner's user cannot write is exit 2 naming state.dir", async () => {
    const ro = join(fx.env.dir, "read-only");
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    const r = await runRunner(["run", "--config", cfgWith({ dir: join(ro, "state") })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: state\.dir: cannot use .*permission denied/);
  });

  it("a relative state.dir and spoolDir resolve against the config file's folder, not the working directory", async () => {
    const { a: A, b: B } = fx.clients;
    await put(A, "rel-a", "k", "relative");
    const folder = join(fx.env.dir, "conf-folder");
    mkdirSync(folder);
    const cfg = join(folder, "runner.json");
    writeFileSync(cfg, JSON.stringify({ endpoints: fx.endpoints(), state: { dir: "state" }, spoolDir: "spool", jobs: [copyJob("rel", "copy", "rel-a", "rel-b")] }));
    const elsewhere = mkdtempSync(join(fx.env.dir, "cwd-"));
    // A dry run creates no state directory.
    const dry = await runIn(elsewhere, ["run", "--config", cfg, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(existsSync(join(folder, "state"))).toBe(false);
    const r = await runIn(elsewhere, ["run", "--config", cfg]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(folder, "state"))).toEqual(["rel.state.gz"]);
    expect(readdirSync(join(folder, "spool"))).toEqual([]);
    expect(readdirSync(elsewhere)).toEqual([]);
    expect((await get(B, "rel-b", "k")).text).toBe("relative");
  });
});

describe("SIGTERM / SIGINT", () => {
  for (const [sig, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    it(`${sig} stops a run with transfers in flight within seconds: exit ${code}, state unchanged, lock released, spool removed, no delete; the next run completes`, async () => {
      const { a: A, b: B } = fx.clients;
      const bucketA = "sig-a";
      const bucketB = "sig-b";
      const prefix = `${sig}/`;
      for (const k of ["k0", "k1", "k2"]) await put(A, bucketA, prefix + k, `first ${k}`);
      const stateDir = join(fx.env.dir, `state-${sig}`);
      const spoolDir = join(fx.env.dir, `spool-${sig}`);
      const job = { name: `sig-${sig}`, mode: "sync", source: { endpoint: "a", bucket: bucketA, prefix }, targets: [{ endpoint: "b", bucket: bucketB, prefix }], maxDeletePercent: 100 };
      const cfg = fx.config({ endpoints: fx.endpoints(), state: { dir: stateDir }, spoolDir, jobs: [job] });
      const first = await runRunner(["run", "--config", cfg, "--json"]);
      expect(first.code, first.stderr).toBe(0);
      const statePath = join(stateDir, `${job.name}.state.gz`);
      const state = readFileSync(statePath);

      // Next run: k0 is to be deleted on B, and new objects to be copied whose PUTs never get an answer.
      await del(A, bucketA, prefix + "k0");
      const bodies: Record<string, Buffer> = {};
      for (let i = 0; i < 6; i++) await put(A, bucketA, `${prefix}new${i}`, (bodies[`new${i}`] = randomBytes(200_000)));
      fx.proxies.b.reset();
      fx.proxies.b.setFaults([{ kinds: "PUT", key: /new/, always: true, fault: { type: "stall" } }]);
      try {
        const run = startRunner(["run", "--config", cfg, "--json"]);
        await waitFor(() => fx.proxies.b.counts().PUT >= 3, 20_000, "PUTs in flight");
        const t0 = Date.now();
        run.child.kill(sig);
        const r = await run.done;
        const ms = Date.now() - t0;
        expect(r.code, r.stdout + r.stderr).toBe(code);
        expect(ms).toBeLessThan(3000);
        expect(r.summaries[0]).toMatchObject({ ok: false, exitCode: code, interrupted: sig, stateWritten: false, deleted: 0 });
        expect(r.lines.some((l) => l.type === "error" && /in-flight transfers aborted, nothing deleted, state not written/.test(String(l.message)))).toBe(true);
      } finally {
        fx.proxies.b.setFaults([]);
      }
      expect(readFileSync(statePath).equals(state)).toBe(true);
      expect(readdirSync(stateDir)).toEqual([`${job.name}.state.gz`]);
      expect(readdirSync(spoolDir)).toEqual([]);
      expect(requestsOf(fx.proxies.b, ["DELETE", "DELETE_MULTI"])).toEqual([]);
      expect(await keys(B, bucketB)).toContain(prefix + "k0");

      const next = await runRunner(["run", "--config", cfg, "--json"]);
      expect(next.code, next.stderr).toBe(0);
      expect(next.summaries[0]).toMatchObject({ copied: 6, deleted: 1, errors: 0 });
      const b = await contents(B, bucketB);
      expect(Object.keys(b).filter((k) => k.startsWith(prefix)).sort()).toEqual([...["k1", "k2"], ...Object.keys(bodies)].map((k) => prefix + k).sort());
      for (const [k, v] of Object.entries(bodies)) expect((await get(B, bucketB, prefix + k)).body.equals(v), k).toBe(true);
    });
  }
});



describe("maxBytesPerSecond", () => {
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

  it("a job limit of 1M holds a 2 MiB copy to about 2 s, bytes intact; without it the copy is fast", async () => {
    const { a: A, b: B } = fx.clients;
    const big = randomBytes(2 * 1024 * 1024);
    await put(A, "bw-a", "fast/big", big);
    await put(A, "bw-a", "slow/big", big);
    const job = (name: string, prefix: string, extra: Record<string, unknown> = {}) => ({ name, mode: "copy", source: { endpoint: "a", bucket: "bw-a", prefix }, targets: [{ endpoint: "b", bucket: "bw-b", prefix }], ...extra });
    const cfg = fx.config({ endpoints: fx.endpoints(), state: { dir: join(fx.env.dir, "state-bw") }, jobs: [job("bw-fast", "fast/"), job("bw-slow", "slow/", { maxBytesPerSecond: "1M" })] });
    const r = await runRunner(["run", "--config", cfg, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const [fast, slow] = r.summaries;
    expect(fast).toMatchObject({ job: "bw-fast", copied: 1, bytes: big.length });
    expect(slow).toMatchObject({ job: "bw-slow", copied: 1, bytes: big.length });
    expect(fast.seconds).toBeLessThan(1.2);
    expect(slow.seconds).toBeGreaterThanOrEqual(1.8);
    expect(slow.seconds).toBeLessThan(6);
    for (const k of ["fast/big", "slow/big"]) expect(sha((await get(B, "bw-b", k)).body), k).toBe(sha(big));
  });

  it("an endpoint limit is shared by parallel transfers, on the SDK path too (directHttp: false)", async () => {
    const { a: A, b: B } = fx.clients;
    const bodies = [randomBytes(1024 * 1024), randomBytes(1024 * 1024)];
    await put(A, "bwe-a", "one", bodies[0]);
    await put(A, "bwe-a", "two", bodies[1]);
    const cfg = fx.config({ endpoints: fx.endpoints({ b: { maxBytesPerSecond: 1048576 } }), directHttp: false, transfers: 8, state: { dir: join(fx.env.dir, "state-bwe") }, jobs: [copyJob("bwe", "copy", "bwe-a", "bwe-b")] });
    const r = await runRunner(["run", "--config", cfg, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.summaries[0]).toMatchObject({ copied: 2, bytes: 2 * 1024 * 1024 });
    expect(r.summaries[0].seconds).toBeGreaterThanOrEqual(1.8);
    expect(sha((await get(B, "bwe-b", "one")).body)).toBe(sha(bodies[0]));
    expect(sha((await get(B, "bwe-b", "two")).body)).toBe(sha(bodies[1]));
  });

  it("a bad value is exit 2 naming the field and the accepted forms", async () => {
    const cases: [(c: Record<string, any>) => void, string, RegExp][] = [
      [(c) => (c.jobs[0].maxBytesPerSecond = "10X"), "jobs[0].maxBytesPerSecond", /is not a bandwidth: "10X"; write bytes per second as a number .* "10M"/],
      [(c) => (c.jobs[0].maxBytesPerSecond = 0), "jobs[0].maxBytesPerSecond", /must be a positive whole number/],
      [(c) => (c.jobs[0].maxBytesPerSecond = 1.5), "jobs[0].maxBytesPerSecond", /must be a positive whole number/],
      [(c) => (c.endpoints.b.maxBytesPerSecond = 100), "endpoints.b.maxBytesPerSecond", /must be at least 1K/],
      [(c) => (c.endpoints.a.maxBytesPerSecond = true), "endpoints.a.maxBytesPerSecond", /must be a number or a string/],
    ];
    for (const [mutate, field, msg] of cases) {
      const c: Record<string, any> = { endpoints: fx.endpoints(), state: { dir: join(fx.env.dir, "state-bwbad") }, jobs: [copyJob("bwbad", "copy", "bwe-a", "bwe-b")] };
      mutate(c);
      const r = await runRunner(["run", "--config", fx.config(c), "--json"]);
      expect(r.code, field).toBe(2);
      expect(r.lines[0], field).toMatchObject({ type: "error", field });
      expect(String(r.lines[0].message), field).toMatch(msg);
    }
    expect(existsSync(join(fx.env.dir, "state-bwbad"))).toBe(false);
  });
});
