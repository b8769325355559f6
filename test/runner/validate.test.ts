// validateConfig: a valid config passes; each malformed one fails with ONE line naming the field.
import { mkdtempSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, validateConfig } from "../../runner/config/validate.js";
import { resolveCredentials, resolveSwiftAuth, CredentialsError } from "../../runner/config/credentials.js";
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
  ["maxBytesPerSecond without a unit it knows", (c) => (c.jobs[0].maxBytesPerSecond = "10 MB/s"), "jobs[0].maxBytesPerSecond", /is not a bandwidth: "10 MB\/s"; .*"10M"/],
  ["maxBytesPerSecond below 1 KiB/s", (c) => (c.endpoints.london.maxBytesPerSecond = "0.5K"), "endpoints.london.maxBytesPerSecond", /at least 1K/],
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
  it("normalizes maxBytesPerSecond: a number of bytes, or 1024-based K/M/G (KiB/MiB/GiB)", () => {
    const c = base();
    c.jobs[0].maxBytesPerSecond = "10M";
    c.endpoints.london.maxBytesPerSecond = "1.5KiB";
    c.endpoints.zurich.maxBytesPerSecond = 5000;
    const v = validateConfig(c);
    expect(v.jobs[0].maxBytesPerSecond).toBe(10 * 1024 * 1024);
    expect(v.endpoints.london.maxBytesPerSecond).toBe(1536);
    expect(v.endpoints.zurich.maxBytesPerSecond).toBe(5000);
    expect(validateConfig(base()).jobs[0].maxBytesPerSecond).toBeUndefined();
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

describe("swift endpoints (type: \"swift\")", () => {
  const v1 = () => ({ type: "swift", authUrl: "https://swift.example.com/auth/v1.0", authVersion: 1, user: "acct:user", key: SECRET });
  const v3 = () => ({ type: "swift", authUrl: "https://keystone.example.com:5000/v3", authVersion: 3, username: "u", password: SECRET, projectName: "p", region: "RegionOne" });
  const cfg = (ep: Record<string, unknown>): any => {
    const c = base();
    c.endpoints.sw = ep;
    return c;
  };
  const fails = (ep: Record<string, unknown>, field: string, re: RegExp) => {
    let err: unknown;
    try {
      validateConfig(cfg(ep));
    } catch (e) {
      err = e;
    }
    expect(err, `${field} should fail`).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe(field);
    expect((err as ConfigError).message).toMatch(re);
    expect((err as ConfigError).message).not.toContain(SECRET);
    expect((err as ConfigError).message).not.toMatch(/[\r\n]/);
  };

  it("accepts v1, v3 password, v3 application credential and env/file credentials", () => {
    expect(validateConfig(cfg(v1())).endpoints.sw).toEqual(v1());
    expect(validateConfig(cfg(v3())).endpoints.sw).toEqual(v3());
    const app = { type: "swift", authUrl: "https://k.example.com", authVersion: 3, applicationCredentialId: "id1", applicationCredentialSecret: SECRET, interface: "internal" };
    expect(validateConfig(cfg(app)).endpoints.sw).toEqual(app);
    expect(validateConfig(cfg({ type: "swift", authUrl: "https://s/auth/v1.0", authVersion: 1, credentials: { env: "SW" } })).endpoints.sw).toMatchObject({ credentials: { env: "SW" } });
    expect(validateConfig(cfg({ type: "swift", authUrl: "https://k", authVersion: 3, username: "u", projectName: "p", credentials: { file: "/etc/sw.json" } })).endpoints.sw).toMatchObject({ credentials: { file: "/etc/sw.json" } });
    expect(validateConfig(cfg({ type: "s3", endpoint: "https://s3.example.com" })).endpoints.sw).toEqual({ type: "s3", endpoint: "https://s3.example.com" });
  });

  const cases: [string, (e: any) => void, string, RegExp][] = [
    ["unknown type", (e) => (e.type = "swfit"), "endpoints.sw.type", /did you mean "swift"/],
    ["missing authUrl", (e) => delete e.authUrl, "endpoints.sw.authUrl", /required.*auth URL/],
    ["bad authUrl", (e) => (e.authUrl = "nope"), "endpoints.sw.authUrl", /not a valid URL/],
    ["plain http authUrl", (e) => (e.authUrl = "http://swift.example.com/auth/v1.0"), "endpoints.sw.authUrl", /https.*insecure/],
    ["credentials in authUrl", (e) => (e.authUrl = "https://u:p@swift.example.com/"), "endpoints.sw.authUrl", /must not contain credentials/],
    ["missing authVersion", (e) => delete e.authVersion, "endpoints.sw.authVersion", /1 .*or 3/],
    ["authVersion 2", (e) => (e.authVersion = 2), "endpoints.sw.authVersion", /must be 1 or 3/],
    ["authVersion as string", (e) => (e.authVersion = "3"), "endpoints.sw.authVersion", /must be 1 or 3 \(a number\)/],
    ["S3 endpoint field", (e) => (e.endpoint = "https://x"), "endpoints.sw.endpoint", /authUrl/],
    ["typo", (e) => (e.usr = "x"), "endpoints.sw.usr", /did you mean "user"/],
    ["v1 without user", (e) => delete e.user, "endpoints.sw.user", /required with authVersion 1/],
    ["v1 without key", (e) => delete e.key, "endpoints.sw.key", /required with authVersion 1.*credentials/],
    ["v1 empty key", (e) => (e.key = ""), "endpoints.sw.key", /non-empty string/],
    ["v1 key as number", (e) => (e.key = 12345678), "endpoints.sw.key", /non-empty string/],
    ["v1 with a v3 field", (e) => (e.projectName = "p"), "endpoints.sw.projectName", /authVersion 3.*only/],
    ["v1 key and credentials", (e) => (e.credentials = { env: "SW" }), "endpoints.sw.key", /one place only/],
    ["inline credentials object", (e) => (e.credentials = { accessKeyId: "a", secretAccessKey: SECRET }), "endpoints.sw.credentials", /env.*file.*inline secrets go in the endpoint/],
    ["bad env prefix", (e) => { delete e.key; e.credentials = { env: "bad-name" }; }, "endpoints.sw.credentials.env", /PREFIX_USER and PREFIX_KEY/],
  ];
  for (const [name, mutate, field, re] of cases) {
    it(`v1: ${name} → ${field}`, () => {
      const e = v1();
      mutate(e);
      fails(e, field, re);
    });
  }

  const cases3: [string, (e: any) => void, string, RegExp][] = [
    ["v3 with user", (e) => (e.user = "x"), "endpoints.sw.user", /authVersion 1 only.*"username"/],
    ["v3 without username", (e) => delete e.username, "endpoints.sw.username", /required with authVersion 3/],
    ["v3 without password", (e) => delete e.password, "endpoints.sw.password", /required with username/],
    ["v3 without projectName", (e) => delete e.projectName, "endpoints.sw.projectName", /required.*Keystone project/],
    ["v3 password + application credential", (e) => (e.applicationCredentialId = "id"), "endpoints.sw.username", /cannot be combined with an application credential/],
    ["v3 app secret without id", (e) => { delete e.username; delete e.password; delete e.projectName; e.applicationCredentialSecret = SECRET; }, "endpoints.sw.applicationCredentialId", /required with applicationCredentialSecret/],
    ["v3 app id without secret", (e) => { delete e.username; delete e.password; delete e.projectName; e.applicationCredentialId = "id"; }, "endpoints.sw.applicationCredentialSecret", /required with applicationCredentialId/],
    ["v3 bad interface", (e) => (e.interface = "private"), "endpoints.sw.interface", /"public", "internal" or "admin"/],
    ["v3 region not a string", (e) => (e.region = 1), "endpoints.sw.region", /must be a string/],
    ["segmentContainer with /", (e) => (e.segmentContainer = "a/b"), "endpoints.sw.segmentContainer", /without "\/"/],
  ];
  for (const [name, mutate, field, re] of cases3) {
    it(`v3: ${name} → ${field}`, () => {
      const e = v3();
      mutate(e);
      fails(e, field, re);
    });
  }

  it("resolves env and file credentials; errors name the endpoint and variable, never the secret", () => {
    const ep1 = { type: "swift" as const, authUrl: "https://s/auth/v1.0", authVersion: 1 as const, credentials: { env: "SW" } };
    expect(resolveSwiftAuth("sw", ep1, { SW_USER: "a:u", SW_KEY: SECRET })).toEqual({ version: 1, authUrl: "https://s/auth/v1.0", user: "a:u", key: SECRET });
    expect(() => resolveSwiftAuth("sw", ep1, { SW_USER: "a:u" })).toThrow(/endpoints\.sw\.credentials: environment variable SW_KEY is not set/);
    const ep3 = { type: "swift" as const, authUrl: "https://k", authVersion: 3 as const, username: "u", projectName: "p", credentials: { env: "K" } };
    expect(resolveSwiftAuth("sw", ep3, { K_PASSWORD: SECRET })).toMatchObject({ version: 3, username: "u", password: SECRET, projectName: "p", userDomainName: "Default", projectDomainName: "Default" });
    expect(resolveSwiftAuth("sw", { ...ep3, username: undefined, projectName: undefined }, { K_APPLICATION_CREDENTIAL_ID: "id", K_APPLICATION_CREDENTIAL_SECRET: SECRET })).toMatchObject({ applicationCredentialId: "id", applicationCredentialSecret: SECRET });
    const dir = mkdtempSync(join(tmpdir(), "swcred-"));
    const f = join(dir, "c.json");
    writeFileSync(f, JSON.stringify({ user: "a:u" }));
    let msg = "";
    try {
      resolveSwiftAuth("sw", { ...ep1, credentials: { file: f } }, {});
    } catch (e) {
      expect(e).toBeInstanceOf(CredentialsError);
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/"key" is missing/);
    writeFileSync(f, `{"user":"a:u","key":"${SECRET}"`);
    expect(() => resolveSwiftAuth("sw", { ...ep1, credentials: { file: f } }, {})).toThrow(/not a JSON object/);
    try {
      resolveSwiftAuth("sw", { ...ep1, credentials: { file: f } }, {});
    } catch (e) {
      expect((e as Error).message).not.toContain(SECRET);
    }
  });

  it("the state may be in a swift container (state.endpoint naming a swift endpoint; bucket = container); SLO sizes validated", async () => {
    const c = cfg(v1());
    c.state = { endpoint: "sw", bucket: "state", prefix: "runner/" };
    expect(validateConfig(c).state).toEqual({ endpoint: "sw", bucket: "state", prefix: "runner/" });
    const big = cfg({ ...v1(), largeObjectThresholdMiB: 6000 });
    expect(() => validateConfig(big)).toThrow(/endpoints\.sw\.largeObjectThresholdMiB/);
    let err: unknown;
    try {
      validateConfig(cfg({ ...v1(), segmentSizeMiB: 0 }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe("endpoints.sw.segmentSizeMiB");
    expect(validateConfig(cfg({ ...v1(), largeObjectThresholdMiB: 100, segmentSizeMiB: 10 })).endpoints.sw).toMatchObject({ largeObjectThresholdMiB: 100, segmentSizeMiB: 10 });
  });

  it("the runner resolves a swift endpoint's credentials at start: a missing env variable is exit 2 naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "swcfg-"));
    const c = cfg({ type: "swift", authUrl: "https://s/auth/v1.0", authVersion: 1, credentials: { env: "NO_SUCH_SWIFT_PREFIX" } });
    c.jobs[0].targets[0] = { endpoint: "sw", bucket: "c1" };
    const p = join(dir, "config.json");
    writeFileSync(p, JSON.stringify(c));
    const r = await runRunner(["run", "--config", p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NO_SUCH_SWIFT_PREFIX_USER is not set/);
  });
});
