// Validation of the runner config file. Pure: it reads nothing from disk or the environment
// (credentials are resolved later, per endpoint, with their own errors). Every problem is one
// ConfigError whose message is a single line naming the field and the fix.
import { Cron } from "croner";
import picomatch from "picomatch";
import type {
  AnyEndpointConfig,
  CredentialsConfig,
  EndpointConfig,
  SwiftEndpointConfig,
  JobConfig,
  LocationConfig,
  RunnerConfig,
  StateConfig,
} from "./types.js";

export class ConfigError extends Error {
  /** Path of the offending field, e.g. `jobs[0].targets[1].endpoint`. */
  readonly field: string;
  /** Lines to show under the message (the offending line of the file and a caret), if any. */
  excerpt?: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`.replace(/[\r\n]+/g, " "));
    this.name = "ConfigError";
    this.field = field;
  }
}

const TOP_KEYS = [
  "$schema",
  "endpoints",
  "state",
  "transfers",
  "schedule",
  "jobs",
  "lockTtlSeconds",
  "retries",
  "multipartThresholdMiB",
  "partSizeMiB",
  "multipartCopyThresholdMiB",
  "requestTimeoutSeconds",
  "directHttp",
  "listConcurrency",
  "spoolDir",
];
const ENDPOINT_KEYS = ["type", "endpoint", "region", "forcePathStyle", "credentials", "insecure", "maxBytesPerSecond"];
const SWIFT_V1_KEYS = ["user", "key"];
const SWIFT_V3_KEYS = ["username", "password", "userDomainName", "projectName", "projectDomainName", "applicationCredentialId", "applicationCredentialSecret", "region", "interface"];
const SWIFT_KEYS = ["type", "authUrl", "authVersion", ...SWIFT_V1_KEYS, ...SWIFT_V3_KEYS, "credentials", "insecure", "segmentContainer", "largeObjectThresholdMiB", "segmentSizeMiB", "maxBytesPerSecond"];
const ENDPOINT_TYPES = ["s3", "swift"] as const;
const SWIFT_INTERFACES = ["public", "internal", "admin"] as const;
const JOB_KEYS = [
  "name",
  "mode",
  "source",
  "targets",
  "deletes",
  "conflict",
  "maxDeletePercent",
  "include",
  "exclude",
  "maxBytesPerSecond",
];
const LOCATION_KEYS = ["endpoint", "bucket", "prefix"];
const MODES = ["copy", "sync", "bisync"] as const;
const CONFLICTS = ["newer", "keep-both"] as const;

/** The allowed fields of each object in the config file. Also the source of the JSON Schema's
 *  property lists (scripts/build-schema.ts checks them against the types; test/runner/config-schema.test.ts). */
export const CONFIG_KEYS = {
  RunnerConfig: TOP_KEYS,
  EndpointConfig: ENDPOINT_KEYS,
  SwiftEndpointConfig: SWIFT_KEYS,
  JobConfig: JOB_KEYS,
  LocationConfig: LOCATION_KEYS,
} as const;

type NumberRule = { int?: boolean; min: number; max?: number; minExclusive?: boolean };
/** The range of every number in the config file, by object and field: what num() enforces here and
 *  what scripts/build-schema.ts writes into the JSON Schema (minimum, maximum, integer). */
export const NUMBER_RULES = {
  RunnerConfig: {
    transfers: { int: true, min: 0, minExclusive: true, max: 1024 },
    lockTtlSeconds: { min: 0, minExclusive: true },
    retries: { int: true, min: 1, max: 20 },
    multipartThresholdMiB: { min: 5, max: 5 * 1024 },
    partSizeMiB: { min: 5, max: 5 * 1024 },
    // CopyObject copies at most 5 GiB; an UploadPartCopy part must be at least 5 MiB (but the last).
    multipartCopyThresholdMiB: { min: 5, max: 5 * 1024 },
    requestTimeoutSeconds: { min: 0, minExclusive: true },
    listConcurrency: { int: true, min: 1, max: 256 },
  },
  JobConfig: {
    maxDeletePercent: { min: 0, max: 100 },
  },
  SwiftEndpointConfig: {
    // Swift's default max_file_size is 5 GiB: a larger single PUT is refused (413).
    largeObjectThresholdMiB: { min: 0, minExclusive: true, max: 5 * 1024 },
    segmentSizeMiB: { min: 0, minExclusive: true, max: 5 * 1024 },
  },
} satisfies Record<string, Record<string, NumberRule>>;

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** The option closest to `word` by edit distance, if it is close enough to be a likely typo. */
export function closest(word: string, options: readonly string[]): string | undefined {
  let best = "";
  let bestD = Infinity;
  for (const o of options) {
    const d = levenshtein(word, o);
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function didYouMean(word: string, options: readonly string[]): string {
  let best = "";
  let bestD = Infinity;
  for (const o of options) {
    const d = levenshtein(word, o);
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best && bestD <= Math.max(2, Math.floor(best.length / 3)) ? `did you mean "${best}"?` : `allowed: ${options.join(", ")}`;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown, field: string, what: string): Record<string, unknown> {
  if (!isObject(v)) throw new ConfigError(field, `must be ${what}, got ${describe(v)}`);
  return v;
}

function noUnknownKeys(o: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new ConfigError(field ? `${field}.${k}` : k, `unknown field; ${didYouMean(k, allowed)}`);
    }
  }
}

function str(v: unknown, field: string, opts: { optional?: boolean; nonEmpty?: boolean } = {}): string | undefined {
  if (v === undefined) {
    if (opts.optional) return undefined;
    throw new ConfigError(field, "is required");
  }
  if (typeof v !== "string") throw new ConfigError(field, `must be a string, got ${describe(v)}`);
  if (opts.nonEmpty !== false && v.trim() === "") throw new ConfigError(field, "must not be empty");
  return v;
}

function bool(v: unknown, field: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new ConfigError(field, `must be true or false, got ${describe(v)}`);
  return v;
}

function num(
  v: unknown,
  field: string,
  opts: { int?: boolean; min?: number; max?: number; minExclusive?: boolean },
): number | undefined {
  if (v === undefined) return undefined;
  const range =
    opts.max !== undefined
      ? `between ${opts.min} and ${opts.max}`
      : opts.minExclusive
        ? `greater than ${opts.min}`
        : `at least ${opts.min}`;
  const kind = opts.int ? (opts.minExclusive && opts.min === 0 ? "a positive integer" : "an integer") : "a number";
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ConfigError(field, `must be ${kind} ${range}, got ${describe(v)}`);
  if (opts.int && !Number.isInteger(v)) throw new ConfigError(field, `must be ${kind} ${range}, got ${v}`);
  if (opts.min !== undefined && (opts.minExclusive ? v <= opts.min : v < opts.min)) {
    throw new ConfigError(field, `must be ${kind} ${range}, got ${v}`);
  }
  if (opts.max !== undefined && v > opts.max) throw new ConfigError(field, `must be ${kind} ${range}, got ${v}`);
  return v;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** A string identifying the server an endpoint talks to (for overlap checks). */
export function serverIdentity(ep: AnyEndpointConfig): string {
  if (ep.type === "swift") return `swift:${urlIdentity(ep.authUrl)}`;
  if (!ep.endpoint) return "aws"; // AWS bucket names are global
  try {
    return urlIdentity(ep.endpoint);
  } catch {
    return ep.endpoint;
  }
}

function urlIdentity(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === "https:" ? "443" : "80");
    return `${u.protocol}//${u.hostname.toLowerCase()}:${port}${u.pathname.replace(/\/+$/, "")}`;
  } catch {
    return url;
  }
}

/**
 * Which account's buckets a location names: on AWS bucket names are global ("aws"); on an endpoint
 * URL a bucket belongs to an account (Swift, Ceph RGW with tenants, OCI, …: the same bucket name
 * under two accounts is two buckets), so the identity is the server plus the access key ID when it
 * is known (inline, or `resolvedAccessKeyId` once the runner has resolved env/file credentials),
 * else the credential source (`env:PREFIX`, `file:path`, the default chain).
 */
export function bucketNamespace(ep: AnyEndpointConfig, resolvedAccessKeyId?: string): string {
  const server = serverIdentity(ep);
  if (ep.type === "swift") {
    // A Swift account is the v1 user's, the v3 project's or the application credential's.
    const c = ep.credentials;
    const who =
      resolvedAccessKeyId !== undefined
        ? `key:${resolvedAccessKeyId}`
        : ep.user !== undefined
          ? `user:${ep.user}`
          : ep.applicationCredentialId !== undefined
            ? `appcred:${ep.applicationCredentialId}`
            : ep.projectName !== undefined
              ? `project:${ep.projectDomainName ?? "Default"}/${ep.projectName}`
              : !c
                ? "unknown"
                : "env" in c
                  ? `env:${c.env}`
                  : `file:${c.file}`;
    return `${server}|${who}`;
  }
  if (!ep.endpoint) return server;
  const c = ep.credentials;
  const account =
    resolvedAccessKeyId !== undefined
      ? `key:${resolvedAccessKeyId}`
      : !c
        ? "default-chain"
        : "accessKeyId" in c
          ? `key:${c.accessKeyId}`
          : "env" in c
            ? `env:${c.env}`
            : `file:${c.file}`;
  return `${server}|${account}`;
}

function validateCredentials(v: unknown, field: string): CredentialsConfig | undefined {
  if (v === undefined) return undefined;
  const o = obj(v, field, 'an object: inline {"accessKeyId","secretAccessKey"}, {"env":"PREFIX"} or {"file":"path"}');
  if ("env" in o) {
    noUnknownKeys(o, ["env"], field);
    const env = str(o.env, `${field}.env`)!;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env)) {
      throw new ConfigError(`${field}.env`, "must be an environment variable prefix like LONDON (letters, digits, _); the runner reads PREFIX_ACCESS_KEY_ID and PREFIX_SECRET_ACCESS_KEY");
    }
    return { env };
  }
  if ("file" in o) {
    noUnknownKeys(o, ["file"], field);
    return { file: str(o.file, `${field}.file`)! };
  }
  // The AWS SDK tags credential objects it was given with `$source`; ignore such SDK-internal keys.
  noUnknownKeys(Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith("$"))), ["accessKeyId", "secretAccessKey", "sessionToken"], field);
  if (o.accessKeyId === undefined && o.secretAccessKey === undefined) {
    throw new ConfigError(field, 'must be inline {"accessKeyId","secretAccessKey"}, {"env":"PREFIX"} or {"file":"path"}; omit it to use the default credential chain');
  }
  // Never echo a credential value in an error.
  for (const k of ["accessKeyId", "secretAccessKey"] as const) {
    if (typeof o[k] !== "string" || (o[k] as string).trim() === "") {
      throw new ConfigError(`${field}.${k}`, o[k] === undefined ? "is required with inline credentials" : "must be a non-empty string");
    }
  }
  if (o.sessionToken !== undefined && typeof o.sessionToken !== "string") {
    throw new ConfigError(`${field}.sessionToken`, "must be a string");
  }
  return {
    accessKeyId: o.accessKeyId as string,
    secretAccessKey: o.secretAccessKey as string,
    ...(o.sessionToken !== undefined ? { sessionToken: o.sessionToken as string } : {}),
  };
}

const RATE_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
export const MIN_RATE = 1024;
/** The string form of a bandwidth (shared with the JSON Schema, so editors accept what the runner does). */
export const RATE_PATTERN = "^\\s*(\\d+(?:\\.\\d+)?)\\s*(?:([kmgKMG])(?:[iI][bB])?)?\\s*$";

/**
 * A bandwidth limit: a positive integer (bytes per second) or a string with a 1024-based unit,
 * "512K", "10M", "1.5G" (also "KiB", "MiB", "GiB"). At least 1 KiB/s: below that a run looks hung.
 */
export function parseRate(v: unknown, field: string): number | undefined {
  if (v === undefined) return undefined;
  const fix = 'write bytes per second as a number (e.g. 10485760) or a string with a unit: "512K", "10M", "1.5G" (1024-based)';
  let n: number;
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v <= 0) throw new ConfigError(field, `must be a positive whole number of bytes per second, got ${v}; ${fix}`);
    n = v;
  } else if (typeof v === "string") {
    const m = new RegExp(RATE_PATTERN).exec(v);
    if (!m) throw new ConfigError(field, `is not a bandwidth: ${JSON.stringify(v)}; ${fix}`);
    n = Math.round(Number(m[1]) * (m[2] ? RATE_UNITS[m[2].toLowerCase()] : 1));
  } else throw new ConfigError(field, `must be a number or a string, got ${describe(v)}; ${fix}`);
  if (n < MIN_RATE) throw new ConfigError(field, `must be at least 1K (1024 bytes per second), got ${n}; ${fix}`);
  return n;
}

function validateHttpUrl(url: string, field: string, insecure: boolean | undefined, example: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(field, `is not a valid URL (${JSON.stringify(url)}); write it like ${example}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ConfigError(field, `must be an http(s) URL, got protocol ${u.protocol}`);
  if (u.username || u.password) throw new ConfigError(field, "must not contain credentials; put them in the endpoint's credential fields");
  if (u.protocol === "http:" && !LOOPBACK.test(u.hostname) && insecure !== true) {
    throw new ConfigError(field, `uses plain http to non-loopback host ${u.hostname}; use https, or set "insecure": true if you accept unencrypted traffic`);
  }
}

/** A secret given inline: a non-empty string; its value is never echoed. */
function secret(v: unknown, field: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v.trim() === "") throw new ConfigError(field, "must be a non-empty string");
  return v;
}

function validateSwiftEndpoint(o: Record<string, unknown>, field: string): SwiftEndpointConfig {
  for (const k of Object.keys(o)) {
    if (!SWIFT_KEYS.includes(k)) {
      const hint = k === "endpoint" ? 'a swift endpoint has "authUrl" (its auth URL) instead of "endpoint"' : k === "forcePathStyle" ? "applies to S3 endpoints only; remove it" : didYouMean(k, SWIFT_KEYS);
      throw new ConfigError(`${field}.${k}`, `unknown field for a swift endpoint; ${hint}`);
    }
  }
  const insecure = bool(o.insecure, `${field}.insecure`);
  const authUrl = str(o.authUrl, `${field}.authUrl`, { optional: true });
  if (authUrl === undefined) throw new ConfigError(`${field}.authUrl`, 'is required for a swift endpoint: the v1 auth URL (e.g. "https://swift.example.com/auth/v1.0") or the Keystone URL (e.g. "https://keystone.example.com:5000/v3")');
  validateHttpUrl(authUrl, `${field}.authUrl`, insecure, "https://keystone.example.com:5000/v3");
  if (o.authVersion === undefined) throw new ConfigError(`${field}.authVersion`, "is required for a swift endpoint: 1 (X-Auth-User/X-Auth-Key) or 3 (Keystone v3)");
  if (o.authVersion !== 1 && o.authVersion !== 3) throw new ConfigError(`${field}.authVersion`, `must be 1 or 3 (a number), got ${describe(o.authVersion)}`);
  const version = o.authVersion;
  const out: SwiftEndpointConfig = { type: "swift", authUrl, authVersion: version };
  let credentials: SwiftEndpointConfig["credentials"];
  if (o.credentials !== undefined) {
    const c = obj(o.credentials, `${field}.credentials`, '{"env":"PREFIX"} or {"file":"path"}');
    if ("env" in c) {
      noUnknownKeys(c, ["env"], `${field}.credentials`);
      const env = str(c.env, `${field}.credentials.env`)!;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env)) {
        throw new ConfigError(`${field}.credentials.env`, `must be an environment variable prefix like SWIFT (letters, digits, _); the runner reads ${version === 1 ? "PREFIX_USER and PREFIX_KEY" : "PREFIX_PASSWORD (and PREFIX_USERNAME) or PREFIX_APPLICATION_CREDENTIAL_ID and PREFIX_APPLICATION_CREDENTIAL_SECRET"}`);
      }
      credentials = { env };
    } else if ("file" in c) {
      noUnknownKeys(c, ["file"], `${field}.credentials`);
      credentials = { file: str(c.file, `${field}.credentials.file`)! };
    } else {
      throw new ConfigError(`${field}.credentials`, `must be {"env":"PREFIX"} or {"file":"path"} for a swift endpoint; inline secrets go in the endpoint itself (${version === 1 ? '"user", "key"' : '"username", "password" or "applicationCredentialId", "applicationCredentialSecret"'})`);
    }
    out.credentials = credentials;
  }
  if (version === 1) {
    for (const k of SWIFT_V3_KEYS) if (o[k] !== undefined) throw new ConfigError(`${field}.${k}`, `applies to authVersion 3 (Keystone) only; remove it, or set "authVersion": 3`);
    const user = str(o.user, `${field}.user`, { optional: true });
    const key = secret(o.key, `${field}.key`);
    if (credentials) {
      if (key !== undefined) throw new ConfigError(`${field}.key`, "is set together with credentials; give the key in one place only");
    } else {
      if (user === undefined) throw new ConfigError(`${field}.user`, 'is required with authVersion 1 (e.g. "account:user"), unless credentials {env}/{file} supply it');
      if (key === undefined) throw new ConfigError(`${field}.key`, 'is required with authVersion 1, or use credentials {"env":"PREFIX"} (PREFIX_KEY) / {"file":"path"}');
    }
    if (user !== undefined) out.user = user;
    if (key !== undefined) out.key = key;
  } else {
    for (const k of SWIFT_V1_KEYS) if (o[k] !== undefined) throw new ConfigError(`${field}.${k}`, `applies to authVersion 1 only; with Keystone v3 use ${k === "user" ? '"username"' : '"password"'}, or set "authVersion": 1`);
    const username = str(o.username, `${field}.username`, { optional: true });
    const password = secret(o.password, `${field}.password`);
    const appId = str(o.applicationCredentialId, `${field}.applicationCredentialId`, { optional: true });
    const appSecret = secret(o.applicationCredentialSecret, `${field}.applicationCredentialSecret`);
    const projectName = str(o.projectName, `${field}.projectName`, { optional: true });
    const userDomainName = str(o.userDomainName, `${field}.userDomainName`, { optional: true });
    const projectDomainName = str(o.projectDomainName, `${field}.projectDomainName`, { optional: true });
    const app = appId !== undefined || appSecret !== undefined;
    const pw = username !== undefined || password !== undefined || projectName !== undefined || userDomainName !== undefined || projectDomainName !== undefined;
    if (app && pw) {
      const which = ["username", "password", "projectName", "userDomainName", "projectDomainName"].find((k) => o[k] !== undefined)!;
      throw new ConfigError(`${field}.${which}`, "cannot be combined with an application credential (it is already scoped to its project); use either applicationCredentialId/applicationCredentialSecret or username/password/projectName");
    }
    if (app) {
      if (appId === undefined) throw new ConfigError(`${field}.applicationCredentialId`, "is required with applicationCredentialSecret");
      if (appSecret === undefined && !credentials) throw new ConfigError(`${field}.applicationCredentialSecret`, 'is required with applicationCredentialId, or use credentials {"env":"PREFIX"} (PREFIX_APPLICATION_CREDENTIAL_SECRET) / {"file":"path"}');
      if (appSecret !== undefined && credentials) throw new ConfigError(`${field}.applicationCredentialSecret`, "is set together with credentials; give the secret in one place only");
      out.applicationCredentialId = appId;
      if (appSecret !== undefined) out.applicationCredentialSecret = appSecret;
    } else if (!credentials) {
      if (username === undefined) throw new ConfigError(`${field}.username`, 'is required with authVersion 3 (or applicationCredentialId/applicationCredentialSecret, or credentials {"env"}/{"file"})');
      if (password === undefined) throw new ConfigError(`${field}.password`, 'is required with username, or use credentials {"env":"PREFIX"} (PREFIX_PASSWORD) / {"file":"path"}');
    } else if (password !== undefined) {
      throw new ConfigError(`${field}.password`, "is set together with credentials; give the password in one place only");
    }
    if (!app) {
      if (projectName === undefined && !credentials) throw new ConfigError(`${field}.projectName`, "is required with username/password: the Keystone project whose Swift account to use");
      if (username !== undefined) out.username = username;
      if (password !== undefined) out.password = password;
      if (userDomainName !== undefined) out.userDomainName = userDomainName;
      if (projectName !== undefined) out.projectName = projectName;
      if (projectDomainName !== undefined) out.projectDomainName = projectDomainName;
    }
    const region = str(o.region, `${field}.region`, { optional: true });
    if (region !== undefined) out.region = region;
    const iface = str(o.interface, `${field}.interface`, { optional: true });
    if (iface !== undefined) {
      if (!(SWIFT_INTERFACES as readonly string[]).includes(iface)) throw new ConfigError(`${field}.interface`, `must be "public", "internal" or "admin" (the service catalog interface), got ${JSON.stringify(iface)}`);
      out.interface = iface as SwiftEndpointConfig["interface"];
    }
  }
  const seg = str(o.segmentContainer, `${field}.segmentContainer`, { optional: true });
  if (seg !== undefined) {
    if (seg.includes("/")) throw new ConfigError(`${field}.segmentContainer`, `must be a container name without "/", got ${JSON.stringify(seg)}`);
    out.segmentContainer = seg;
  }
  const lot = num(o.largeObjectThresholdMiB, `${field}.largeObjectThresholdMiB`, NUMBER_RULES.SwiftEndpointConfig.largeObjectThresholdMiB);
  if (lot !== undefined) out.largeObjectThresholdMiB = lot;
  const segSize = num(o.segmentSizeMiB, `${field}.segmentSizeMiB`, NUMBER_RULES.SwiftEndpointConfig.segmentSizeMiB);
  if (segSize !== undefined) out.segmentSizeMiB = segSize;
  if (insecure !== undefined) out.insecure = insecure;
  const rate = parseRate(o.maxBytesPerSecond, `${field}.maxBytesPerSecond`);
  if (rate !== undefined) out.maxBytesPerSecond = rate;
  return out;
}

function validateEndpoint(v: unknown, field: string): AnyEndpointConfig {
  const o = obj(v, field, "an object with endpoint, region, forcePathStyle, credentials");
  if (o.type !== undefined) {
    const t = str(o.type, `${field}.type`)!;
    if (!(ENDPOINT_TYPES as readonly string[]).includes(t)) throw new ConfigError(`${field}.type`, `must be "s3" (the default) or "swift", got ${JSON.stringify(t)}; ${didYouMean(t, ENDPOINT_TYPES)}`);
    if (t === "swift") return validateSwiftEndpoint(o, field);
  }
  noUnknownKeys(o, ENDPOINT_KEYS, field);
  const out: EndpointConfig = o.type === "s3" ? { type: "s3" } : {};
  const url = str(o.endpoint, `${field}.endpoint`, { optional: true });
  const insecure = bool(o.insecure, `${field}.insecure`);
  if (url !== undefined) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError(`${field}.endpoint`, `is not a valid URL (${JSON.stringify(url)}); write it like https://s3.example.com`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new ConfigError(`${field}.endpoint`, `must be an http(s) URL, got protocol ${u.protocol}`);
    }
    if (u.username || u.password) {
      throw new ConfigError(`${field}.endpoint`, "must not contain credentials; put them in credentials");
    }
    if (u.protocol === "http:" && !LOOPBACK.test(u.hostname) && insecure !== true) {
      throw new ConfigError(`${field}.endpoint`, `uses plain http to non-loopback host ${u.hostname}; use https, or set "insecure": true if you accept unencrypted traffic`);
    }
    out.endpoint = url;
  }
  const region = str(o.region, `${field}.region`, { optional: true });
  if (region !== undefined) out.region = region;
  if (url === undefined && region === undefined) {
    throw new ConfigError(`${field}.region`, "is required when endpoint is absent (AWS S3); set region, or endpoint for an S3-compatible service");
  }
  const fps = bool(o.forcePathStyle, `${field}.forcePathStyle`);
  if (fps !== undefined) out.forcePathStyle = fps;
  const creds = validateCredentials(o.credentials, `${field}.credentials`);
  if (creds) out.credentials = creds;
  if (insecure !== undefined) out.insecure = insecure;
  const rate = parseRate(o.maxBytesPerSecond, `${field}.maxBytesPerSecond`);
  if (rate !== undefined) out.maxBytesPerSecond = rate;
  return out;
}

function validateLocation(v: unknown, field: string, endpoints: Record<string, AnyEndpointConfig>): LocationConfig {
  const o = obj(v, field, 'an object {"endpoint","bucket","prefix"}');
  noUnknownKeys(o, LOCATION_KEYS, field);
  const endpoint = str(o.endpoint, `${field}.endpoint`)!;
  if (!Object.prototype.hasOwnProperty.call(endpoints, endpoint)) {
    const names = Object.keys(endpoints);
    throw new ConfigError(`${field}.endpoint`, `refers to unknown endpoint "${endpoint}"; ${didYouMean(endpoint, names).replace("allowed:", "defined endpoints:")}`);
  }
  const bucket = str(o.bucket, `${field}.bucket`)!;
  if (bucket.includes("/") || /\s/.test(bucket)) {
    throw new ConfigError(`${field}.bucket`, `must be a bare bucket name without "/" or spaces, got ${JSON.stringify(bucket)}; put key paths in prefix`);
  }
  const prefix = str(o.prefix, `${field}.prefix`, { optional: true, nonEmpty: false });
  return { endpoint, bucket, prefix: prefix ?? "" };
}

function validateGlobs(v: unknown, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ConfigError(field, `must be an array of glob strings, got ${describe(v)}`);
  return v.map((g, i) => {
    if (typeof g !== "string" || g === "") throw new ConfigError(`${field}[${i}]`, `must be a non-empty glob string, got ${describe(g)}`);
    try {
      picomatch.makeRe(g, { dot: true, strictBrackets: true });
    } catch (e) {
      throw new ConfigError(`${field}[${i}]`, `is not a valid glob (${(e as Error).message}): ${JSON.stringify(g)}`);
    }
    return g;
  });
}

export function validateCron(expr: string, field: string): void {
  try {
    const c = new Cron(expr, { paused: true });
    const next = c.nextRun();
    c.stop();
    if (!next) throw new Error("it never fires");
  } catch (e) {
    throw new ConfigError(field, `is not a valid cron expression (${(e as Error).message}): ${JSON.stringify(expr)}; example: "*/15 * * * *" (every 15 minutes)`);
  }
}

function validateJob(v: unknown, field: string, endpoints: Record<string, AnyEndpointConfig>): JobConfig {
  const o = obj(v, field, "an object with name, mode, source, targets");
  noUnknownKeys(o, JOB_KEYS, field);
  const name = str(o.name, `${field}.name`)!;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw new ConfigError(`${field}.name`, `must be letters, digits, ".", "_" or "-" (it names the state and lock files), got ${JSON.stringify(name)}`);
  }
  const mode = str(o.mode, `${field}.mode`)!;
  if (!(MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`${field}.mode`, `must be "copy", "sync" or "bisync", got ${JSON.stringify(mode)}; ${didYouMean(mode, MODES)}`);
  }
  const source = validateLocation(o.source, `${field}.source`, endpoints);
  if (o.targets === undefined) throw new ConfigError(`${field}.targets`, "is required: an array of locations");
  if (!Array.isArray(o.targets)) throw new ConfigError(`${field}.targets`, `must be an array of locations, got ${describe(o.targets)}`);
  if (o.targets.length === 0) throw new ConfigError(`${field}.targets`, "must list at least one target location");
  const targets = o.targets.map((t, i) => validateLocation(t, `${field}.targets[${i}]`, endpoints));
  if (mode === "bisync" && targets.length !== 1) {
    throw new ConfigError(`${field}.targets`, `bisync takes exactly one target, got ${targets.length}; split it into several bisync jobs`);
  }
  const job: JobConfig = { name, mode: mode as JobConfig["mode"], source, targets };
  const deletes = bool(o.deletes, `${field}.deletes`);
  if (deletes !== undefined) {
    if (mode === "copy" && deletes) throw new ConfigError(`${field}.deletes`, 'copy never deletes; use mode "sync" to delete target keys absent from the source');
    if (mode === "sync" && !deletes) throw new ConfigError(`${field}.deletes`, 'sync always deletes; use mode "copy" to never delete');
    job.deletes = deletes;
  }
  const conflict = str(o.conflict, `${field}.conflict`, { optional: true });
  if (conflict !== undefined) {
    if (!(CONFLICTS as readonly string[]).includes(conflict)) {
      throw new ConfigError(`${field}.conflict`, `must be "newer" or "keep-both", got ${JSON.stringify(conflict)}`);
    }
    if (mode !== "bisync") throw new ConfigError(`${field}.conflict`, `applies to bisync only; remove it from this ${mode} job`);
    job.conflict = conflict as JobConfig["conflict"];
  }
  const mdp = num(o.maxDeletePercent, `${field}.maxDeletePercent`, NUMBER_RULES.JobConfig.maxDeletePercent);
  if (mdp !== undefined) job.maxDeletePercent = mdp;
  const include = validateGlobs(o.include, `${field}.include`);
  if (include) {
    if (include.length === 0) throw new ConfigError(`${field}.include`, 'must not be empty (it would match nothing); omit it or use ["**"]');
    job.include = include;
  }
  const exclude = validateGlobs(o.exclude, `${field}.exclude`);
  if (exclude) job.exclude = exclude;
  const rate = parseRate(o.maxBytesPerSecond, `${field}.maxBytesPerSecond`);
  if (rate !== undefined) job.maxBytesPerSecond = rate;
  return job;
}

interface Area {
  server: string;
  bucket: string;
  prefix: string;
  field: string;
  job: string;
  /** Whether the runner may delete here. */
  deletes: boolean;
  /** Whether the runner writes here. */
  writes: boolean;
}

function overlaps(a: { server: string; bucket: string; prefix: string }, b: { server: string; bucket: string; prefix: string }): boolean {
  return a.server === b.server && a.bucket === b.bucket && (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix));
}

function where(a: { bucket: string; prefix: string }): string {
  return `bucket "${a.bucket}" prefix "${a.prefix}"`;
}

/**
 * No two locations of a job overlap; no job deletes where another writes; the state is outside
 * every job. Locations compare by server, account (bucketNamespace), bucket and prefix. Run by
 * validateConfig with what the file says, and again by the runner with the access key IDs its
 * env/file credentials resolved to (`accessKeyIds`: endpoint name → key ID; undefined entry: the
 * default chain), so two credential sources holding the same key are still one account.
 */
export function checkOverlaps(cfg: RunnerConfig, accessKeyIds?: ReadonlyMap<string, string | undefined>): void {
  const ns = (endpoint: string): string => {
    const ep = cfg.endpoints[endpoint];
    if (accessKeyIds?.has(endpoint)) return bucketNamespace({ ...ep, credentials: undefined }, accessKeyIds.get(endpoint));
    return bucketNamespace(ep);
  };
  const areas: Area[] = [];
  cfg.jobs.forEach((j, ji) => {
    const bisyncDeletes = j.mode === "bisync" && j.deletes !== false;
    const locs: [LocationConfig, string, boolean, boolean][] = [
      [j.source, `jobs[${ji}].source`, bisyncDeletes, j.mode === "bisync"],
      ...j.targets.map((t, ti) => [t, `jobs[${ji}].targets[${ti}]`, j.mode === "sync" || bisyncDeletes, true] as [LocationConfig, string, boolean, boolean]),
    ];
    const mine: Area[] = locs.map(([l, field, deletes, writes]) => ({
      server: ns(l.endpoint),
      bucket: l.bucket,
      prefix: l.prefix ?? "",
      field,
      job: j.name,
      deletes,
      writes,
    }));
    // Within a job: no location may overlap another (a copy into its own source recurses).
    for (let x = 0; x < mine.length; x++) {
      for (let y = x + 1; y < mine.length; y++) {
        if (overlaps(mine[x], mine[y])) {
          throw new ConfigError(`${mine[y].field}.prefix`, `overlaps ${mine[x].field} (${where(mine[x])}); give them disjoint buckets or prefixes`);
        }
      }
    }
    areas.push(...mine);
  });
  // Between jobs: a location a job deletes in must not overlap a location another job writes or deletes in.
  for (let x = 0; x < areas.length; x++) {
    for (let y = x + 1; y < areas.length; y++) {
      const a = areas[x];
      const b = areas[y];
      if (a.job === b.job) continue;
      if (!(a.deletes || b.deletes) || !(a.writes || b.writes)) continue;
      if ((a.deletes && (b.writes || b.deletes)) || (b.deletes && (a.writes || a.deletes))) {
        if (overlaps(a, b)) {
          throw new ConfigError(`${b.field}.prefix`, `overlaps ${a.field} of job "${a.job}" (${where(a)}), and one of them deletes keys absent from its source, so the jobs would delete each other's objects; use disjoint prefixes (fan-in: one target prefix per source)`);
        }
      }
    }
  }
  // The state location must not be inside any replicated area (the runner would replicate or delete its own state).
  const st = cfg.state as LocationConfig;
  if ("bucket" in cfg.state) {
    const sa = { server: ns(st.endpoint), bucket: st.bucket, prefix: st.prefix ?? "" };
    for (const a of areas) {
      if (overlaps(sa, a)) {
        throw new ConfigError("state.prefix", `state location (${where(sa)}) overlaps ${a.field} of job "${a.job}" (${where(a)}); keep state in its own bucket or a prefix outside every job`);
      }
    }
  }
}

function validateState(v: unknown, endpoints: Record<string, AnyEndpointConfig>): StateConfig {
  const o = obj(v, "state", 'an object: {"dir": "/var/lib/replication"} or {"endpoint","bucket","prefix"}');
  if ("dir" in o) {
    noUnknownKeys(o, ["dir"], "state");
    return { dir: str(o.dir, "state.dir")! };
  }
  if (!("bucket" in o) && !("endpoint" in o)) {
    noUnknownKeys(o, ["dir", ...LOCATION_KEYS], "state");
    throw new ConfigError("state", 'must be {"dir": "/path"} or {"endpoint","bucket","prefix"}');
  }
  // A swift endpoint's "bucket" is the container (runner/state/swift-store.ts).
  return validateLocation(o, "state", endpoints);
}

/** Validate a parsed config file; returns a normalized copy (prefixes default to ""). */
export function validateConfig(raw: unknown): RunnerConfig {
  const o = obj(raw, "config", "a JSON object with endpoints, state and jobs");
  noUnknownKeys(o, TOP_KEYS, "");
  // "$schema" is for editors (schema/runner-config.schema.json); the runner only checks it is a string.
  str(o.$schema, "$schema", { optional: true });
  if (o.endpoints === undefined) throw new ConfigError("endpoints", "is required: an object of named S3 endpoints");
  const eps = obj(o.endpoints, "endpoints", "an object of named endpoints");
  if (Object.keys(eps).length === 0) throw new ConfigError("endpoints", "must define at least one endpoint");
  const endpoints: Record<string, AnyEndpointConfig> = {};
  for (const [name, ep] of Object.entries(eps)) {
    if (name.trim() === "") throw new ConfigError("endpoints", "endpoint names must not be empty");
    endpoints[name] = validateEndpoint(ep, `endpoints.${name}`);
  }
  if (o.state === undefined) throw new ConfigError("state", 'is required: {"dir": "/var/lib/replication"} or {"endpoint","bucket","prefix"}');
  const state = validateState(o.state, endpoints);
  if (o.jobs === undefined) throw new ConfigError("jobs", "is required: an array of jobs");
  if (!Array.isArray(o.jobs)) throw new ConfigError("jobs", `must be an array of jobs, got ${describe(o.jobs)}`);
  if (o.jobs.length === 0) throw new ConfigError("jobs", "must contain at least one job");
  const jobs = o.jobs.map((j, i) => validateJob(j, `jobs[${i}]`, endpoints));
  const seen = new Map<string, number>();
  jobs.forEach((j, i) => {
    if (seen.has(j.name)) throw new ConfigError(`jobs[${i}].name`, `duplicate job name "${j.name}" (also jobs[${seen.get(j.name)}]); job names must be unique`);
    seen.set(j.name, i);
  });
  const cfg: RunnerConfig = { endpoints, state, jobs };
  const T = NUMBER_RULES.RunnerConfig;
  // Checked in two steps so a zero or fraction reads "a positive integer", a big one "at most 1024".
  const transfers = num(o.transfers, "transfers", { ...T.transfers, max: undefined });
  if (transfers !== undefined) {
    if (transfers > T.transfers.max) throw new ConfigError("transfers", `must be at most ${T.transfers.max}, got ${transfers}`);
    cfg.transfers = transfers;
  }
  const schedule = str(o.schedule, "schedule", { optional: true });
  if (schedule !== undefined) {
    validateCron(schedule, "schedule");
    cfg.schedule = schedule;
  }
  const lock = num(o.lockTtlSeconds, "lockTtlSeconds", T.lockTtlSeconds);
  if (lock !== undefined) cfg.lockTtlSeconds = lock;
  const retries = num(o.retries, "retries", T.retries);
  if (retries !== undefined) cfg.retries = retries;
  const mt = num(o.multipartThresholdMiB, "multipartThresholdMiB", T.multipartThresholdMiB);
  if (mt !== undefined) cfg.multipartThresholdMiB = mt;
  const ps = num(o.partSizeMiB, "partSizeMiB", T.partSizeMiB);
  if (ps !== undefined) cfg.partSizeMiB = ps;
  const mct = num(o.multipartCopyThresholdMiB, "multipartCopyThresholdMiB", T.multipartCopyThresholdMiB);
  if (mct !== undefined) cfg.multipartCopyThresholdMiB = mct;
  const rt = num(o.requestTimeoutSeconds, "requestTimeoutSeconds", T.requestTimeoutSeconds);
  if (rt !== undefined) cfg.requestTimeoutSeconds = rt;
  const direct = bool(o.directHttp, "directHttp");
  if (direct !== undefined) cfg.directHttp = direct;
  const lc = num(o.listConcurrency, "listConcurrency", T.listConcurrency);
  if (lc !== undefined) cfg.listConcurrency = lc;
  const spool = str(o.spoolDir, "spoolDir", { optional: true });
  if (spool !== undefined) {
    if (spool.trim() === "") throw new ConfigError("spoolDir", 'must be a directory path, e.g. "/var/lib/replication/spool"');
    cfg.spoolDir = spool;
  }
  checkOverlaps(cfg);
  return cfg;
}
