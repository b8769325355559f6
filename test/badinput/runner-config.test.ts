// Bad input (issue 8): malformed runner configs given to the BUILT runner (`node dist/runner.mjs run
// --config FILE`). Each one exits 2 with ONE line on stderr that names the field, never a stack
// trace, and never a write: the endpoints point at a counting proxy in front of a real s3rver, which
// must see no request at all, the state directory is never created and the buckets are unchanged.
// (test/runner/validate.test.ts checks validateConfig's messages in-process; this is the CLI end to
// end. Topology/stack bad input is covered by test/plan/bad-topology.test.ts through planTopology
// and `npm run plan`.)
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pLimit from "p-limit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3RVER_CREDENTIALS, startSite, type Site } from "../../local/sites.js";
import { startProxy, type Proxy } from "../support/proxy.js";
import { keys, put, runRunner, type RunResult } from "../runner/harness.js";
import { S3Client } from "@aws-sdk/client-s3";

const SECRET = "BADINPUT-secret-c0ffee-91a7";

let dir: string;
let site: Site;
let proxy: Proxy;
let client: S3Client;
let before: Record<string, string[]>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "badinput-"));
  site = await startSite({ dir: join(dir, "site"), buckets: ["src", "dst"] });
  proxy = await startProxy({ target: site.endpoint });
  client = new S3Client({ endpoint: site.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } });
  await put(client, "src", "a.txt", "a");
  await put(client, "dst", "stale.txt", "would be deleted by a sync");
  before = { src: await keys(client, "src"), dst: await keys(client, "dst") };
});
afterAll(async () => {
  client?.destroy();
  await proxy?.stop();
  await site?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const stateDir = () => join(dir, "state-never");

/** A valid config: a sync that WOULD copy a.txt and delete stale.txt if it ran. */
function base(): any {
  return {
    endpoints: {
      one: { endpoint: proxy.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: SECRET } },
      two: { endpoint: proxy.endpoint, region: "us-east-1", credentials: { ...S3RVER_CREDENTIALS } },
    },
    state: { dir: stateDir() },
    transfers: 4,
    jobs: [{ name: "j", mode: "sync", source: { endpoint: "one", bucket: "src" }, targets: [{ endpoint: "two", bucket: "dst" }] }],
  };
}

type Mutate = (c: any) => void;
interface Case {
  name: string;
  /** A mutation of the valid config, or the raw file content. */
  config: Mutate | string;
  field: string;
  says: RegExp;
  env?: NodeJS.ProcessEnv;
}

const cases: Case[] = [
  { name: "bad JSON", config: '{ "endpoints": { ', field: "--config", says: /not valid JSON/ },
  { name: "empty file", config: "", field: "--config", says: /is empty; it must hold a JSON object/ },
  { name: "JSON null", config: "null", field: "config", says: /must be a JSON object/ },
  { name: "top level is an array", config: "[]", field: "config", says: /must be a JSON object.*array/ },
  { name: "unknown top-level key", config: (c) => (c.transfer = 4), field: "transfer", says: /unknown field.*did you mean "transfers"/ },
  { name: "missing endpoints", config: (c) => delete c.endpoints, field: "endpoints", says: /required/ },
  { name: "missing state", config: (c) => delete c.state, field: "state", says: /required/ },
  { name: "missing jobs", config: (c) => delete c.jobs, field: "jobs", says: /required/ },
  { name: "jobs not a list", config: (c) => (c.jobs = { name: "j" }), field: "jobs", says: /array|list/ },
  { name: "job missing mode", config: (c) => delete c.jobs[0].mode, field: "jobs[0].mode", says: /required/ },
  { name: "unknown mode", config: (c) => (c.jobs[0].mode = "mirror"), field: "jobs[0].mode", says: /"copy", "sync" or "bisync"/ },
  { name: "missing source", config: (c) => delete c.jobs[0].source, field: "jobs[0].source", says: /must be an object/ },
  { name: "targets not a list", config: (c) => (c.jobs[0].targets = { endpoint: "two", bucket: "dst" }), field: "jobs[0].targets", says: /array|list/ },
  { name: "unknown endpoint reference", config: (c) => (c.jobs[0].source.endpoint = "onee"), field: "jobs[0].source.endpoint", says: /unknown endpoint "onee".*did you mean "one"/ },
  { name: "bucket is a number", config: (c) => (c.jobs[0].targets[0].bucket = 42), field: "jobs[0].targets[0].bucket", says: /string/ },
  { name: "prefix is a number", config: (c) => (c.jobs[0].source.prefix = 7), field: "jobs[0].source.prefix", says: /string/ },
  { name: "negative transfers", config: (c) => (c.transfers = -4), field: "transfers", says: /positive integer/ },
  { name: "zero transfers", config: (c) => (c.transfers = 0), field: "transfers", says: /positive integer/ },
  { name: "transfers as a string", config: (c) => (c.transfers = "4"), field: "transfers", says: /positive integer/ },
  { name: "bad cron", config: (c) => (c.schedule = "*/15 * * *  banana"), field: "schedule", says: /cron/ },
  { name: "cron out of range", config: (c) => (c.schedule = "0 25 * * *"), field: "schedule", says: /cron/ },
  { name: "bad include glob", config: (c) => (c.jobs[0].include = ["logs/[2024"]), field: "jobs[0].include[0]", says: /not a valid glob/ },
  { name: "bad exclude glob", config: (c) => (c.jobs[0].exclude = ["{a,b"]), field: "jobs[0].exclude[0]", says: /not a valid glob/ },
  { name: "glob not a string", config: (c) => (c.jobs[0].include = [5]), field: "jobs[0].include[0]", says: /string/ },
  { name: "state overlaps the target", config: (c) => (c.state = { endpoint: "two", bucket: "dst", prefix: ".state/" }), field: "state.prefix", says: /overlaps jobs\[0\]\.targets\[0\]/ },
  { name: "state overlaps the source", config: (c) => (c.state = { endpoint: "one", bucket: "src" }), field: "state.prefix", says: /overlaps jobs\[0\]\.source/ },
  { name: "state dir is not a string", config: (c) => (c.state = { dir: 5 }), field: "state.dir", says: /string/ },
  { name: "http to a non-loopback host without insecure", config: (c) => (c.endpoints.two.endpoint = "http://s3.example.com:9000"), field: "endpoints.two.endpoint", says: /https.*insecure/ },
  { name: "insecure not a boolean", config: (c) => (c.endpoints.two.insecure = "yes"), field: "endpoints.two.insecure", says: /true or false/ },
  { name: "endpoint not a URL", config: (c) => (c.endpoints.two.endpoint = "s3 example com"), field: "endpoints.two.endpoint", says: /not a valid URL/ },
  { name: "unknown endpoint key", config: (c) => (c.endpoints.two.regoin = "x"), field: "endpoints.two.regoin", says: /did you mean "region"/ },
  { name: "credentials typo next to a secret", config: (c) => (c.endpoints.one.credentials = { accessKeyId: "k", secretAccesKey: SECRET }), field: "endpoints.one.credentials.secretAccesKey", says: /unknown field/ },
  { name: "credentials env not set", config: (c) => (c.endpoints.two.credentials = { env: "BADINPUT_NOPE" }), field: "endpoints.two.credentials", says: /BADINPUT_NOPE_ACCESS_KEY_ID/ },
  { name: "credentials file missing", config: (c) => (c.endpoints.two.credentials = { file: "/nonexistent/creds.json" }), field: "endpoints.two.credentials", says: /cannot read/ },
  { name: "bisync with two targets", config: (c) => { c.jobs[0].mode = "bisync"; c.jobs[0].targets.push({ endpoint: "two", bucket: "other" }); }, field: "jobs[0].targets", says: /exactly one target/ },
  { name: "sync with deletes: false", config: (c) => (c.jobs[0].deletes = false), field: "jobs[0].deletes", says: /sync always deletes/ },
  { name: "maxDeletePercent over 100", config: (c) => (c.jobs[0].maxDeletePercent = 101), field: "jobs[0].maxDeletePercent", says: /between 0 and 100/ },
  { name: "negative retries", config: (c) => (c.retries = -1), field: "retries", says: /retries/ },
  { name: "part size below 5 MiB", config: (c) => (c.partSizeMiB = 1), field: "partSizeMiB", says: /5/ },
  { name: "zero lock TTL", config: (c) => (c.lockTtlSeconds = 0), field: "lockTtlSeconds", says: /lockTtlSeconds|greater|positive/ },
  { name: "job name with a slash", config: (c) => (c.jobs[0].name = "../evil"), field: "jobs[0].name", says: /letters, digits/ },
  { name: "duplicate job names", config: (c) => c.jobs.push({ ...c.jobs[0], source: { endpoint: "one", bucket: "s2" }, targets: [{ endpoint: "two", bucket: "t2" }] }), field: "jobs[1].name", says: /duplicate/ },
  { name: "a job copying into its own source", config: (c) => (c.jobs[0].targets[0] = { endpoint: "one", bucket: "src", prefix: "backup/" }), field: "jobs[0].targets[0].prefix", says: /overlaps jobs\[0\]\.source/ },
];

const results = new Map<string, RunResult>();
/** The --json output is checked on these cases (every process costs ~0.3 s of a shared core). */
const JSON_CASES = new Set(["bad JSON", "unknown mode", "bad cron", "state overlaps the target", "credentials typo next to a secret", "credentials env not set"]);
let requestsDuringCases = -1;

function writeCase(i: number, c: Case): string {
  const p = join(dir, `case-${i}.json`);
  if (typeof c.config === "string") writeFileSync(p, c.config);
  else {
    const cfg = base();
    c.config(cfg);
    writeFileSync(p, JSON.stringify(cfg, null, 2));
  }
  return p;
}

describe("malformed runner configs through the built runner", () => {
  beforeAll(async () => {
    // Run them all up front, two at a time (two cores).
    const limit = pLimit(2);
    await Promise.all(
      cases.flatMap((c, i) => {
        const p = writeCase(i, c);
        const runs = [limit(async () => results.set(`${c.name}`, await runRunner(["run", "--config", p], { env: c.env })))];
        if (JSON_CASES.has(c.name)) runs.push(limit(async () => results.set(`${c.name} --json`, await runRunner(["run", "--config", p, "--json"], { env: c.env }))));
        return runs;
      }),
    );
    requestsDuringCases = proxy.total();
  }, 120_000);

  it(`has at least 25 cases (${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(25));

  it("the base config is valid: with its endpoints it WOULD write (so the cases below can fail)", async () => {
    const okState = join(dir, "state-ok");
    const cfg = base();
    cfg.state = { dir: okState };
    const p = join(dir, "ok.json");
    writeFileSync(p, JSON.stringify(cfg));
    const r = await runRunner(["run", "--config", p, "--dry-run", "--force", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.filter((l) => l.type === "would-delete").map((l) => l.key)).toEqual(["stale.txt"]);
    expect(r.lines.filter((l) => l.type === "would-copy").map((l) => l.key)).toEqual(["a.txt"]);
  });

  it.each(cases)("$name → exit 2, one line naming $field", ({ name, field, says }) => {
    const r = results.get(name)!;
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trimEnd().split("\n");
    // A JSON syntax error adds the offending line of the file and a caret under the column.
    if (lines.length === 3 && field === "--config") expect(lines.slice(1).join("\n"), r.stderr).toMatch(/^ +\d+ \| .*\n +\| *\^$/);
    else expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0].startsWith(`error: ${field}: `), lines[0]).toBe(true);
    expect(lines[0]).toMatch(says);
    expect(r.stdout).toBe("");
    const outs = [r.stdout, r.stderr];
    const j = results.get(`${name} --json`);
    if (j) {
      expect(j.code).toBe(2);
      expect(j.stderr).toBe("");
      expect(j.lines).toHaveLength(1);
      expect(j.lines[0]).toMatchObject({ type: "error", field, exitCode: 2 });
      outs.push(j.stdout);
    }
    for (const out of outs) {
      expect(out).not.toMatch(/\n\s+at |\bat .*\.m?js:\d+|Error:/); // no stack trace, no raw exception
      expect(out).not.toContain(SECRET);
    }
  });

  it("never a write: no request reached the server, no state directory, buckets unchanged", async () => {
    expect(results.size).toBe(cases.length + JSON_CASES.size);
    expect(requestsDuringCases).toBe(0);
    expect(existsSync(stateDir())).toBe(false);
    expect({ src: await keys(client, "src"), dst: await keys(client, "dst") }).toEqual(before);
  });
});
