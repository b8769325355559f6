// validateConfig: a valid config passes; each malformed one fails with ONE line naming the field.
import { mkdtempSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, validateConfig } from "../../runner/config/validate.js";
import { resolveCredentials, CredentialsError } from "../../runner/config/credentials.js";
import { runRunner } from "./harness.js";

const SECRET = "TopSecretValue123";
function base(): any {
  return {
    endpoints: {
      london: { endpoint: "http://127.0.0.1:4568", region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "AKIDLONDON", secretAccessKey: SECRET } },
      zurich: { endpoint: "https://s3.zurich.example.com", region: "eu-central-2", credentials: { env: "ZURICH" } },
    },
    state: { dir: "/var/lib/replication" },
    transfers: 16,
    jobs: [
      {
        name: "london-zurich",
        mode: "bisync",
        source: { endpoint: "london", bucket: "b1", prefix: "" },
        targets: [{ endpoint: "zurich", bucket: "b2", prefix: "" }],
        deletes: true,
        conflict: "newer",
        maxDeletePercent: 50,
        include: ["**"],
        exclude: [],
      },
    ],
  };
}

type Case = [name: string, mutate: (c: any) => void, field: string, message: RegExp];
const cases: Case[] = [
  ["not an object", (c) => Object.keys(c).forEach((k) => delete c[k]), "endpoints", /required/],
  ["missing endpoints", (c) => delete c.endpoints, "endpoints", /required/],
  ["endpoints not object", (c) => (c.endpoints = []), "endpoints", /must be an object/],
  ["empty endpoints", (c) => (c.endpoints = {}), "endpoints", /at least one/],
  ["bad endpoint url", (c) => (c.endpoints.london.endpoint = "not a url"), "endpoints.london.endpoint", /not a valid URL/],
  ["ftp endpoint", (c) => (c.endpoints.london.endpoint = "ftp://x"), "endpoints.london.endpoint", /http\(s\)/],
  ["plain http to remote", (c) => (c.endpoints.zurich.endpoint = "http://s3.zurich.example.com"), "endpoints.zurich.endpoint", /https.*insecure/],
  ["region missing for AWS", (c) => { delete c.endpoints.zurich.endpoint; delete c.endpoints.zurich.region; }, "endpoints.zurich.region", /required when endpoint is absent/],
  ["forcePathStyle wrong type", (c) => (c.endpoints.london.forcePathStyle = "yes"), "endpoints.london.forcePathStyle", /true or false/],
  ["endpoint typo key", (c) => (c.endpoints.london.endpiont = "x"), "endpoints.london.endpiont", /did you mean "endpoint"/],
  ["credentials missing secret", (c) => delete c.endpoints.london.credentials.secretAccessKey, "endpoints.london.credentials.secretAccessKey", /required/],
  ["credentials bad env", (c) => (c.endpoints.zurich.credentials = { env: "bad-name" }), "endpoints.zurich.credentials.env", /prefix/],
  ["credentials unknown key", (c) => (c.endpoints.zurich.credentials = { profile: "x" }), "endpoints.zurich.credentials.profile", /unknown field/],
  ["missing state", (c) => delete c.state, "state", /required/],
  ["state neither dir nor bucket", (c) => (c.state = {}), "state", /dir/],
  ["state unknown endpoint", (c) => (c.state = { endpoint: "paris", bucket: "s" }), "state.endpoint", /unknown endpoint "paris"/],
  ["state overlaps replicated area", (c) => (c.state = { endpoint: "london", bucket: "b1", prefix: ".state/" }), "state.prefix", /overlaps jobs\[0\].source/],
  ["transfers negative", (c) => (c.transfers = -1), "transfers", /positive integer/],
  ["transfers fractional", (c) => (c.transfers = 2.5), "transfers", /positive integer/],
  ["transfers string", (c) => (c.transfers = "16"), "transfers", /positive integer/],
  ["bad cron", (c) => (c.schedule = "every minute"), "schedule", /not a valid cron/],
  ["top-level typo", (c) => (c.jbos = []), "jbos", /did you mean "jobs"/],
  ["missing jobs", (c) => delete c.jobs, "jobs", /required/],
  ["empty jobs", (c) => (c.jobs = []), "jobs", /at least one/],
  ["job typo key", (c) => (c.jobs[0].delets = true), "jobs[0].delets", /did you mean "deletes"/],
  ["job missing name", (c) => delete c.jobs[0].name, "jobs[0].name", /required/],
  ["job bad name", (c) => (c.jobs[0].name = "a/b"), "jobs[0].name", /letters, digits/],
  ["unknown mode", (c) => (c.jobs[0].mode = "mirror"), "jobs[0].mode", /"copy", "sync" or "bisync"/],
  ["unknown endpoint reference", (c) => (c.jobs[0].targets[0].endpoint = "zurik"), "jobs[0].targets[0].endpoint", /unknown endpoint "zurik".*did you mean "zurich"/],
  ["missing bucket", (c) => delete c.jobs[0].source.bucket, "jobs[0].source.bucket", /required/],
  ["bucket with slash", (c) => (c.jobs[0].source.bucket = "b1/photos"), "jobs[0].source.bucket", /bare bucket name/],
  ["targets empty", (c) => (c.jobs[0].targets = []), "jobs[0].targets", /at least one/],
  ["bisync two targets", (c) => c.jobs[0].targets.push({ endpoint: "zurich", bucket: "b3" }), "jobs[0].targets", /exactly one target/],
  ["maxDeletePercent > 100", (c) => (c.jobs[0].maxDeletePercent = 150), "jobs[0].maxDeletePercent", /between 0 and 100/],
  ["maxDeletePercent negative", (c) => (c.jobs[0].maxDeletePercent = -5), "jobs[0].maxDeletePercent", /between 0 and 100/],
  ["bad conflict", (c) => (c.jobs[0].conflict = "older"), "jobs[0].conflict", /"newer" or "keep-both"/],
  ["bad glob", (c) => (c.jobs[0].include = ["photos/[abc"]), "jobs[0].include[0]", /not a valid glob/],
  ["bad exclude glob", (c) => (c.jobs[0].exclude = ["{a,b"]), "jobs[0].exclude[0]", /not a valid glob/],
  ["include not array", (c) => (c.jobs[0].include = "**"), "jobs[0].include", /array/],
  ["copy with deletes", (c) => { c.jobs[0].mode = "copy"; delete c.jobs[0].conflict; }, "jobs[0].deletes", /copy never deletes/],
  ["duplicate job names", (c) => c.jobs.push({ ...c.jobs[0], source: { endpoint: "london", bucket: "c1" }, targets: [{ endpoint: "zurich", bucket: "c2" }] }), "jobs[1].name", /duplicate job name/],
  ["source overlaps target in one job", (c) => { c.jobs[0].targets[0] = { endpoint: "london", bucket: "b1", prefix: "copy/" }; }, "jobs[0].targets[0].prefix", /overlaps jobs\[0\].source/],
  [
    "overlapping targets between jobs with deletes",
    (c) => c.jobs.push({ name: "other", mode: "copy", source: { endpoint: "london", bucket: "z" }, targets: [{ endpoint: "zurich", bucket: "b2", prefix: "in/" }] }),
    "jobs[1].targets[0].prefix",
    /overlaps jobs\[0\].targets\[0\] of job "london-zurich"/,
  ],
];

describe("validateConfig", () => {
  it("accepts the issue's example and normalizes prefixes", () => {
    const c = validateConfig(base());
    expect(c.jobs[0].source.prefix).toBe("");
    expect(c.jobs[0].mode).toBe("bisync");
  });
  it("accepts fan-in: two sync jobs into one target under different prefixes", () => {
    const c = base();
    c.jobs = [
      { name: "a", mode: "sync", source: { endpoint: "london", bucket: "s1" }, targets: [{ endpoint: "zurich", bucket: "t", prefix: "from-a/" }] },
      { name: "b", mode: "sync", source: { endpoint: "london", bucket: "s2" }, targets: [{ endpoint: "zurich", bucket: "t", prefix: "from-b/" }] },
    ];
    expect(() => validateConfig(c)).not.toThrow();
  });
  it("accepts http to a non-loopback host only with insecure: true", () => {
    const c = base();
    c.endpoints.zurich.endpoint = "http://minio.internal:9000";
    c.endpoints.zurich.insecure = true;
    expect(() => validateConfig(c)).not.toThrow();
  });
  it.each(cases)("%s", (_name, mutate, field, message) => {
    const c = base();
    mutate(c);
    let err: unknown;
    try {
      validateConfig(c);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.field).toBe(field);
    expect(ce.message.startsWith(field + ":")).toBe(true);
    expect(ce.message).toMatch(message);
    expect(ce.message).not.toContain("\n");
    expect(ce.message).not.toContain(SECRET);
  });
  it(`has at least 25 malformed cases (${cases.length})`, () => expect(cases.length).toBeGreaterThanOrEqual(25));
});

describe("credentials", () => {
  it("reads PREFIX_ACCESS_KEY_ID / PREFIX_SECRET_ACCESS_KEY and names the endpoint when missing", () => {
    expect(resolveCredentials("zurich", { env: "Z" }, { Z_ACCESS_KEY_ID: "id", Z_SECRET_ACCESS_KEY: "s" })).toEqual({ accessKeyId: "id", secretAccessKey: "s" });
    expect(() => resolveCredentials("zurich", { env: "Z" }, {})).toThrow(CredentialsError);
    expect(() => resolveCredentials("zurich", { env: "Z" }, {})).toThrow(/endpoints\.zurich\.credentials: environment variable Z_ACCESS_KEY_ID and Z_SECRET_ACCESS_KEY are not set/);
    expect(resolveCredentials("x", undefined)).toBeUndefined();
  });
  it("reads a JSON credentials file and never echoes its content", () => {
    const d = mkdtempSync(join(tmpdir(), "creds-"));
    writeFileSync(join(d, "ok.json"), JSON.stringify({ accessKeyId: "id", secretAccessKey: SECRET }));
    writeFileSync(join(d, "bad.json"), `{"accessKeyId": "id", "secretAccessKey": "${SECRET}"`);
    expect(resolveCredentials("e", { file: join(d, "ok.json") })).toEqual({ accessKeyId: "id", secretAccessKey: SECRET });
    expect(() => resolveCredentials("e", { file: join(d, "bad.json") })).toThrow(/not valid JSON/);
    try {
      resolveCredentials("e", { file: join(d, "bad.json") });
    } catch (e) {
      expect((e as Error).message).not.toContain(SECRET);
    }
    expect(() => resolveCredentials("e", { file: join(d, "missing.json") })).toThrow(/cannot read credentials file .*ENOENT/);
  });
});

describe("CLI usage and config errors (built runner)", () => {
  const d = mkdtempSync(join(tmpdir(), "cli-"));
  const write = (name: string, c: unknown) => {
    const p = join(d, name);
    writeFileSync(p, typeof c === "string" ? c : JSON.stringify(c));
    return p;
  };
  it("exit 2 with one line naming the field; no stack trace, nothing written", async () => {
    const c = base();
    c.jobs[0].mode = "mirror";
    c.state = { dir: join(d, "state-never") };
    const r = await runRunner(["run", "--config", write("bad.json", c)]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: jobs\[0\]\.mode: must be "copy", "sync" or "bisync"/)]);
    expect(r.stderr).not.toMatch(/\bat .*\.(m?js|ts):\d+/);
    expect(existsSync(join(d, "state-never"))).toBe(false);
  });
  it("exit 2 for invalid JSON, a missing file, unknown flags, unknown job and bad --schedule", async () => {
    expect((await runRunner(["run", "--config", write("x.json", "{ not json")])).code).toBe(2);
    const missing = await runRunner(["run", "--config", join(d, "nope.json")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--config: cannot read .*ENOENT/);
    const good = write("good.json", { ...base(), state: { dir: join(d, "st") } });
    expect((await runRunner(["run", "--config", good, "--frobnicate"])).code).toBe(2);
    expect((await runRunner(["sink", "--config", good])).code).toBe(2);
    const nojob = await runRunner(["run", "--config", good, "--job", "nope"]);
    expect(nojob.code).toBe(2);
    expect(nojob.stderr).toMatch(/--job: no job named "nope"; jobs in the config: london-zurich/);
    const sched = await runRunner(["run", "--config", good, "--schedule", "61 * * * *"]);
    expect(sched.code).toBe(2);
    expect(sched.stderr).toMatch(/--schedule: is not a valid cron/);
    const creds = await runRunner(["run", "--config", good, "--json"], { env: { ZURICH_ACCESS_KEY_ID: "", ZURICH_SECRET_ACCESS_KEY: "" } });
    expect(creds.code).toBe(2);
    expect(creds.lines[0]).toMatchObject({ type: "error", field: "endpoints.zurich.credentials" });
    expect(creds.stdout).not.toContain(SECRET);
    expect(readdirSync(d).filter((f) => f.startsWith("st"))).toEqual([]);
  });
});

describe("bucket identity includes the account (endpoint URL + credentials)", () => {
  const twoAccounts = (credsB: unknown, url = "http://127.0.0.1:8080"): any => ({
    endpoints: {
      a: { endpoint: url, credentials: { accessKeyId: "test:tester", secretAccessKey: SECRET } },
      b: { endpoint: url, credentials: credsB },
    },
    state: { dir: "/var/lib/replication" },
    jobs: [{ name: "j", mode: "sync", source: { endpoint: "a", bucket: "shared" }, targets: [{ endpoint: "b", bucket: "shared" }] }],
  });
  it("the same bucket name under two access keys on one endpoint URL validates (two accounts, two buckets)", () => {
    expect(() => validateConfig(twoAccounts({ accessKeyId: "test2:tester2", secretAccessKey: "other" }))).not.toThrow();
    expect(() => validateConfig(twoAccounts({ env: "B" }))).not.toThrow();
  });
  it("the same access key is still one account: overlaps are rejected", () => {
    expect(() => validateConfig(twoAccounts({ accessKeyId: "test:tester", secretAccessKey: "rotated" }))).toThrow(/jobs\[0\]\.targets\[0\]\.prefix: overlaps jobs\[0\]\.source/);
    // The URL is normalized as before (case, default port).
    const c = twoAccounts({ accessKeyId: "test:tester", secretAccessKey: SECRET }, "https://S3.example.com");
    c.endpoints.b.endpoint = "https://s3.example.com:443/";
    expect(() => validateConfig(c)).toThrow(/overlaps/);
  });
  it("AWS bucket names are global: different credentials still overlap", () => {
    const c = twoAccounts({ accessKeyId: "AKIDOTHER", secretAccessKey: "x" });
    for (const e of Object.values(c.endpoints) as any[]) {
      delete e.endpoint;
      e.region = "eu-west-1";
    }
    expect(() => validateConfig(c)).toThrow(/overlaps/);
  });
  it("the runner checks again with the resolved keys: two env prefixes holding the same key overlap (exit 2)", async () => {
    const d = mkdtempSync(join(tmpdir(), "acct-"));
    const cfg = twoAccounts({ env: "ACCT_B" });
    cfg.endpoints.a.credentials = { env: "ACCT_A" };
    cfg.state = { dir: join(d, "state") };
    writeFileSync(join(d, "c.json"), JSON.stringify(cfg));
    expect(() => validateConfig(cfg)).not.toThrow();
    const keys = { ACCESS_KEY_ID: "test:tester", SECRET_ACCESS_KEY: SECRET };
    const env = Object.fromEntries(["ACCT_A", "ACCT_B"].flatMap((p) => Object.entries(keys).map(([k, v]) => [`${p}_${k}`, v])));
    const r = await runRunner(["run", "--config", join(d, "c.json")], { env });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/jobs\[0\]\.targets\[0\]\.prefix: overlaps jobs\[0\]\.source/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });
});
