// The built runner's V8 code cache (runner/shell.ts): written by a `run` or `check` that exits 0,
// accepted by the next start (the file is then left as it is), never required. A corrupted cache,
// a directory others may write to, "off", no HOME, a failed run: each runs exactly as without a
// cache, and writes only where it should.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureOutput } from "../support/leak-check.js";
import { startSyntheticS3, type SyntheticServer } from "../support/synthetic-s3.js";
import { RUNNER } from "./harness.js";

let synth: SyntheticServer;
let work: string;
let config: string;
beforeAll(async () => {
  synth = await startSyntheticS3({ buckets: { a: { keys: 3000 }, b: { keys: 3000 } } });
  work = mkdtempSync(join(tmpdir(), "code-cache-"));
  config = join(work, "config.json");
  const ep = { endpoint: synth.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "AKIDSYNTH", secretAccessKey: "synthetic-secret" } };
  writeFileSync(config, JSON.stringify({ endpoints: { s: ep }, state: { dir: join(work, "state") }, spoolDir: join(work, "spool"), jobs: [{ name: "cc", mode: "copy", source: { endpoint: "s", bucket: "a" }, targets: [{ endpoint: "s", bucket: "b" }] }] }));
});
afterAll(async () => {
  await synth?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The built runner with exactly this environment (plus PATH). Not spawnSync: the synthetic
 *  server runs in this process and must answer meanwhile. */
async function runner(args: string[], env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [RUNNER, ...args], { env: { PATH: process.env.PATH, ...env } as NodeJS.ProcessEnv });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const r = { status: code, stdout, stderr };
  captureOutput(`runner ${args.join(" ")} (code cache)`, r.stdout, r.stderr);
  const summary = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.type === "summary");
  return { code: r.status, stderr: r.stderr, summary };
}

const check = (env: Record<string, string | undefined>) => runner(["check", "--config", config, "--json"], env);
const files = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe("the built runner's code cache", () => {
  it("a check that exits 0 writes one cache file (0600 in a 0700 directory); the next start accepts it and leaves it as it is; the results are the same", async () => {
    const dir = join(work, "c1");
    const env = { REPLICATION_RUNNER_CODE_CACHE: dir };
    expect((await runner(["--version"], env)).code).toBe(0);
    expect(files(dir)).toEqual([]); // --version compiles little: it never writes the cache
    const first = await check(env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.summary?.inSync).toBe(true);
    const [name] = files(dir);
    expect(files(dir)).toHaveLength(1);
    expect(name).toMatch(/^runner-[0-9a-f]{16}-v\d+\.\d+\.\d+-[0-9a-z]+\.v8cache$/);
    const f = join(dir, name);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(f).size).toBeGreaterThan(50_000); // the functions of a whole check, not just the top level
    const before = statSync(f);
    const second = await check(env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.summary?.inSync).toBe(true);
    expect((second.summary?.targets as unknown[])?.length).toBe(1);
    const after = statSync(f);
    // Accepted: not written again (a rejected cache is replaced, a new file by rename).
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(files(dir)).toEqual([name]);
  });

  it("a damaged cache (bytes flipped, or cut short) is not used: the run is the same, and the cache is written again", async () => {
    const dir = join(work, "c2");
    const env = { REPLICATION_RUNNER_CODE_CACHE: dir };
    expect((await check(env)).code).toBe(0);
    const f = join(dir, files(dir)[0]);
    const bytes = readFileSync(f);
    for (let i = 64; i < bytes.length; i += 97) bytes[i] ^= 0x5a;
    writeFileSync(f, bytes);
    const r = await check(env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary?.inSync).toBe(true);
    expect(r.stderr).toBe("");
    expect(readFileSync(f).equals(bytes)).toBe(false);
    writeFileSync(f, readFileSync(f).subarray(0, 40_000));
    const cut = await check(env);
    expect(cut.code, cut.stderr).toBe(0);
    expect(statSync(f).size).toBeGreaterThan(50_000);
    // And the rewritten one is accepted.
    const st = statSync(f);
    expect((await check(env)).code).toBe(0);
    expect(statSync(f).mtimeMs).toBe(st.mtimeMs);
  });

  it("a directory others may write to is not used; nor is any with REPLICATION_RUNNER_CODE_CACHE=off; without HOME the runner still runs", async () => {
    const open = join(work, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect((await check({ REPLICATION_RUNNER_CODE_CACHE: open })).code).toBe(0);
    expect(files(open)).toEqual([]);

    const home = join(work, "home");
    mkdirSync(home);
    expect((await check({ HOME: home, REPLICATION_RUNNER_CODE_CACHE: "off" })).code).toBe(0);
    expect(files(home)).toEqual([]);
    // The default: ~/.cache/bucket-replication, or $XDG_CACHE_HOME/bucket-replication.
    expect((await check({ HOME: home })).code).toBe(0);
    expect(files(join(home, ".cache", "bucket-replication"))).toHaveLength(1);
    const xdg = join(work, "xdg");
    expect((await check({ HOME: home, XDG_CACHE_HOME: xdg })).code).toBe(0);
    expect(files(join(xdg, "bucket-replication"))).toHaveLength(1);

    const none = await check({});
    expect(none.code, none.stderr).toBe(0);
    expect(none.summary?.inSync).toBe(true);
  });

  it("a run that fails writes no cache", async () => {
    const dir = join(work, "c3");
    const bad = join(work, "bad.json");
    writeFileSync(bad, JSON.stringify({ endpoints: { s: { endpoint: "http://127.0.0.1:1", region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "AKIDSYNTH", secretAccessKey: "synthetic-secret" } } }, state: { dir: join(work, "state-bad") }, jobs: [{ name: "cc", mode: "copy", source: { endpoint: "s", bucket: "a" }, targets: [{ endpoint: "s", bucket: "b" }] }], retries: 0 }));
    const r = await runner(["run", "--config", bad, "--json"], { REPLICATION_RUNNER_CODE_CACHE: dir });
    expect(r.code).not.toBe(0);
    expect(files(dir)).toEqual([]);
  });
});
