// Credentials never appear in the runner's output (issue 8). The built runner is run against real
// s3rver processes in every output mode and on every path: success (copies, deletes, conflicts,
// dry-run, check), refused credentials, unreachable endpoint, config errors, credentials read from
// inline / env / file. Every byte of stdout and stderr is grepped for the distinctive test secrets.
//
// s3rver checks the access key id but not the signature, so the key id "S3RVER" with a distinctive
// secret is a SUCCESSFUL endpoint: the secret goes through the whole happy path (signing every
// request) and must still never be printed. A distinctive unknown key id makes a refusing endpoint.
// The fault suite (test/faults) greps every runner output it produces the same way.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { del, put, runRunner, startEnv, writeConfig, type Env, type RunResult } from "../runner/harness.js";

const SECRET_A = "SECRET-inline-a-3f9d2c77e1";
const SECRET_B = "SECRET-env-b-8a41b9d0cc";
const SECRET_FILE = "SECRET-file-5b7e11aa09";
const TOKEN = "SESSION-TOKEN-e4c2a9f3d8";
const BAD_KEY_ID = "AKIALEAKTESTBADKEY01";
const BAD_SECRET = "SECRET-refused-72c1d5e0bb";
const ALL = [SECRET_A, SECRET_B, SECRET_FILE, TOKEN, BAD_SECRET];

let env: Env;
const outputs: { label: string; text: string }[] = [];

beforeAll(async () => {
  env = await startEnv({ a: ["src", "bi"], b: ["dst", "bi", "filed"] });
});
afterAll(async () => env?.stop());

function endpoints(): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "creds-"));
  const file = join(dir, "b.json");
  writeFileSync(file, JSON.stringify({ accessKeyId: "S3RVER", secretAccessKey: SECRET_FILE }), { mode: 0o600 });
  return {
    a: { endpoint: env.sites.a.endpoint, credentials: { accessKeyId: "S3RVER", secretAccessKey: SECRET_A } },
    b: { endpoint: env.sites.b.endpoint, credentials: { env: "LEAKB" } },
    bfile: { endpoint: env.sites.b.endpoint, credentials: { file } },
    refused: { endpoint: env.sites.b.endpoint, credentials: { accessKeyId: BAD_KEY_ID, secretAccessKey: BAD_SECRET } },
    down: { endpoint: "http://127.0.0.1:9", credentials: { accessKeyId: "S3RVER", secretAccessKey: SECRET_A } },
  };
}
const ENV = { LEAKB_ACCESS_KEY_ID: "S3RVER", LEAKB_SECRET_ACCESS_KEY: SECRET_B, LEAKB_SESSION_TOKEN: TOKEN };

async function runAll(label: string, args: string[]): Promise<RunResult> {
  const r = await runRunner(args, { env: ENV, timeoutMs: 60_000 });
  outputs.push({ label, text: r.stdout + r.stderr });
  return r;
}

describe("no credential in any runner output", () => {
  it("success paths, failure paths and config errors, in human and --json output", async () => {
    for (let i = 0; i < 5; i++) await put(env.clients.a, "src", `k${i}`, `v${i}`);
    await put(env.clients.b, "dst", "stale", "x");
    await put(env.clients.a, "bi", "c", "A side");
    await put(env.clients.b, "bi", "c", "B side");
    const job = (name: string, mode: string, src: string, dst: string, sb = "src", db = "dst") => ({ name, mode, source: { endpoint: src, bucket: sb }, targets: [{ endpoint: dst, bucket: db }] });
    const good = writeConfig(env, {
      endpoints: endpoints(),
      state: { dir: join(env.dir, "state") },
      jobs: [job("to-b", "sync", "a", "b"), job("to-bfile", "copy", "a", "bfile", "src", "filed"), job("bi", "bisync", "a", "b", "bi", "bi")],
    });
    const refused = writeConfig(env, { endpoints: endpoints(), state: { dir: join(env.dir, "state2") }, jobs: [job("r", "sync", "a", "refused")] });
    const down = writeConfig(env, { endpoints: endpoints(), requestTimeoutSeconds: 2, retries: 1, state: { dir: join(env.dir, "state3") }, jobs: [job("d", "copy", "down", "b")] });
    const badCfg = endpoints() as any;
    badCfg.a.credentials.secretAccesKey = SECRET_A; // a typo next to the secret
    const invalid = writeConfig(env, { endpoints: badCfg, state: { dir: join(env.dir, "state4") }, jobs: [job("x", "copy", "a", "b")] });

    for (const json of [[], ["--json"]]) {
      const dry = await runAll(`dry-run ${json}`, ["run", "--config", good, "--dry-run", "--force", ...json]);
      expect(dry.code, dry.stderr).toBe(0);
      const ok = await runAll(`run ${json}`, ["run", "--config", good, "--force", ...json]);
      expect(ok.code, ok.stderr).toBe(0);
      expect((await runAll(`check ${json}`, ["check", "--config", good, ...json])).code).toBe(0);
      const r = await runAll(`refused ${json}`, ["run", "--config", refused, ...json]);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/access denied/);
      if (json.length) {
        // Connection refused, retried: slow (SDK and runner backoff), so only once.
        const d = await runAll(`down ${json}`, ["run", "--config", down, ...json]);
        expect(d.code).toBe(1);
      }
      const v = await runAll(`invalid ${json}`, ["run", "--config", invalid, ...json]);
      expect(v.code).toBe(2);
      const e = await runAll(`second run ${json}`, ["run", "--config", good, ...json]);
      expect(e.code).toBe(0);
      await put(env.clients.b, "dst", "stale", "x");
    }
    // The runs really did work with those secrets: copies, a delete and a conflict happened.
    const first = outputs.find((o) => o.label === "run ")!.text;
    expect(first).toMatch(/to-b \(sync\): ok: copied 5 .*deleted 1/);
    expect(first).toMatch(/to-bfile \(copy\): ok: copied 5/);
    expect(first).toMatch(/bi \(bisync\): ok: .*conflicts 1/);
    expect(outputs.find((o) => o.label === "run --json")!.text).toMatch(/"type":"delete"/);
    await del(env.clients.b, "dst", "stale");
  });

  it("grep: none of the secrets appears anywhere in that output", () => {
    expect(outputs.length).toBeGreaterThanOrEqual(13);
    for (const { label, text } of outputs) for (const s of ALL) expect(text.includes(s), `${label} prints ${s}:\n${text.slice(0, 1500)}`).toBe(false);
  });

  it("the grep can fail: a secret in the config file itself is found by the same check", async () => {
    // Sanity of the check above: the config file does contain SECRET_A (so its absence from the output is meaningful).
    const { readFileSync } = await import("node:fs");
    const cfgText = readFileSync(writeConfig(env, { endpoints: endpoints() }), "utf8");
    expect(cfgText.includes(SECRET_A)).toBe(true);
  });
});
