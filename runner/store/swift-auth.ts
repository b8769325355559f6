// OpenStack Swift authentication for the native Swift access layer (runner/store/swift.ts).
//
// Two protocols:
// - v1 ("TempAuth"/"swauth" style, also served by many Swift proxies in front of Keystone):
//   `GET <authUrl>` with `X-Auth-User` / `X-Auth-Key` → `X-Storage-Url`, `X-Auth-Token` (and, on
//   tempauth, `X-Auth-Token-Expires` in seconds). Verified against the real Swift 2.30 + tempauth of
//   test/support/swift.ts.
// - Keystone v3: `POST <authUrl>/v3/auth/tokens` with password auth (user name + user domain,
//   password, scoped to a project name + project domain) or an application credential (id +
//   secret; already scoped, so no scope is sent). The token is the `X-Subject-Token` response
//   header; the storage URL is the catalog's `object-store` endpoint with the configured interface
//   (default `public`) in the configured region (optional when the catalog has one such endpoint).
//   IMPLEMENTED FROM THE KEYSTONE v3 API REFERENCE AND TESTED ONLY AGAINST FIXTURE RESPONSES: there is
//   no Keystone on the test machine. test/runner/swift-native.test.ts runs a small fake Keystone
//   that checks the request body and answers a realistic token document whose catalog points at
//   the real Swift's storage URL (with a real tempauth token), so everything after authentication
//   is exercised against real Swift.
//
// Tokens are cached until `expires` (minus a minute), and SwiftAuth.invalidate() drops the cached
// token (the storage client does that on a 401 and re-authenticates once). Concurrent callers share
// one authentication in flight. Secrets appear in no error message (secretsOfSwiftAuth lists them
// for the CLI's output scrubber).
import http from "node:http";
import https from "node:https";
import { timeoutError } from "./direct.js";

export type SwiftInterface = "public" | "internal" | "admin";

export type SwiftAuthConfig =
  | { version: 1; authUrl: string; user: string; key: string }
  | {
      version: 3;
      authUrl: string;
      /** Password auth. */
      username?: string;
      password?: string;
      /** Default "Default" (Keystone's default domain). */
      userDomainName?: string;
      projectName?: string;
      projectDomainName?: string;
      /** Application-credential auth (instead of username/password/project). */
      applicationCredentialId?: string;
      applicationCredentialSecret?: string;
      region?: string;
      /** Default "public". */
      interface?: SwiftInterface;
    };

export interface SwiftToken {
  token: string;
  storageUrl: string;
  /** Epoch ms; Infinity when the server did not say. */
  expiresAt: number;
}

/** An error shaped like the S3 layer's (name/Code, $metadata.httpStatusCode): withRetry, isRetryable
 *  and isAuthError of runner/store/s3.ts work on it. */
export type SwiftError = Error & { Code: string; $fault: "client" | "server"; $metadata: { httpStatusCode?: number; requestId?: string } };

export function swiftError(code: string, message: string, status?: number, requestId?: string): SwiftError {
  return Object.assign(new Error(message), {
    name: code,
    Code: code,
    $fault: (status !== undefined && status >= 500 ? "server" : "client") as "client" | "server",
    $metadata: { httpStatusCode: status, requestId },
  });
}

/** Every secret of an auth config (for the output scrubber). */
export function secretsOfSwiftAuth(a: SwiftAuthConfig): string[] {
  const s = a.version === 1 ? [a.key] : [a.password ?? "", a.applicationCredentialSecret ?? ""];
  return s.filter((x) => x.length >= 4);
}

/** Who is authenticating, for messages (never a secret). */
export function swiftPrincipal(a: SwiftAuthConfig): string {
  if (a.version === 1) return `user ${JSON.stringify(a.user)}`;
  if (a.applicationCredentialId) return `application credential ${JSON.stringify(a.applicationCredentialId)}`;
  return `user ${JSON.stringify(a.username ?? "")} (domain ${JSON.stringify(a.userDomainName ?? "Default")}) project ${JSON.stringify(a.projectName ?? "")}`;
}

export interface HttpDeps {
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  requestTimeoutMs: number;
  userAgent: string;
  /** Called once per auth HTTP request. */
  count?: () => void;
}

/** One small request with a fully read body (auth documents are small; capped at 4 MiB). */
export function smallRequest(deps: HttpDeps, method: string, url: URL, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const tls = url.protocol === "https:";
  const mod = tls ? https : http;
  headers["user-agent"] = deps.userAgent;
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  deps.count?.();
  return new Promise((resolve, reject) => {
    const req = mod.request({ host: url.hostname, port: url.port || undefined, method, path: url.pathname + url.search, headers, agent: tls ? deps.httpsAgent : deps.httpAgent });
    req.setTimeout(deps.requestTimeoutMs, () => req.destroy(timeoutError(deps.requestTimeoutMs)));
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let len = 0;
      res.on("data", (c: Buffer) => {
        len += c.length;
        if (len <= 4 * 1024 * 1024) chunks.push(c);
      });
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.end(body);
  });
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function authFailure(a: SwiftAuthConfig, status: number, requestId?: string): SwiftError {
  const which = a.version === 1 ? "user/key" : a.applicationCredentialId ? "applicationCredentialId/applicationCredentialSecret" : "username/password (and their domains, projectName, projectDomainName)";
  if (status === 401 || status === 403) {
    return swiftError("AccessDenied", `swift auth v${a.version} at ${a.authUrl} refused ${swiftPrincipal(a)} (HTTP ${status}); check the endpoint's ${which} credentials`, status, requestId);
  }
  const code = status >= 500 ? (status === 503 ? "ServiceUnavailable" : "InternalError") : status === 429 ? "SlowDown" : `Http${status}`;
  return swiftError(code, `swift auth v${a.version} at ${a.authUrl} failed for ${swiftPrincipal(a)}: HTTP ${status}`, status, requestId);
}

/** `<authUrl>/v3/auth/tokens`, accepting an authUrl that already ends in /v3. */
export function keystoneTokensUrl(authUrl: string): URL {
  const u = new URL(authUrl);
  const base = u.pathname.replace(/\/+$/, "");
  u.pathname = /\/v3$/.test(base) ? `${base}/auth/tokens` : `${base}/v3/auth/tokens`;
  return u;
}

/** The Keystone v3 request body for a config (exported for the fixture tests). */
export function keystoneRequestBody(a: Extract<SwiftAuthConfig, { version: 3 }>): unknown {
  if (a.applicationCredentialId) {
    return { auth: { identity: { methods: ["application_credential"], application_credential: { id: a.applicationCredentialId, secret: a.applicationCredentialSecret } } } };
  }
  return {
    auth: {
      identity: { methods: ["password"], password: { user: { name: a.username, domain: { name: a.userDomainName ?? "Default" }, password: a.password } } },
      scope: { project: { name: a.projectName, domain: { name: a.projectDomainName ?? "Default" } } },
    },
  };
}

interface CatalogEndpoint {
  interface?: string;
  region?: string;
  region_id?: string;
  url?: string;
}

/** The object-store URL of a Keystone v3 token document for an interface and (optional) region. */
export function storageUrlFromCatalog(doc: unknown, iface: SwiftInterface, region: string | undefined, authUrl: string): string {
  const catalog = (doc as { token?: { catalog?: { type?: string; endpoints?: CatalogEndpoint[] }[] } })?.token?.catalog;
  if (!Array.isArray(catalog)) throw swiftError("InvalidAuthResponse", `swift auth v3 at ${authUrl}: the token has no service catalog (is the token scoped to a project?)`);
  const eps = catalog.filter((s) => s?.type === "object-store").flatMap((s) => (Array.isArray(s.endpoints) ? s.endpoints : []));
  if (eps.length === 0) throw swiftError("InvalidAuthResponse", `swift auth v3 at ${authUrl}: the service catalog has no object-store (Swift) service for this project`);
  const ofIface = eps.filter((e) => (e.interface ?? "public") === iface && typeof e.url === "string");
  const regions = [...new Set(ofIface.map((e) => e.region_id ?? e.region ?? ""))];
  const pick = region === undefined ? ofIface : ofIface.filter((e) => e.region_id === region || e.region === region);
  if (pick.length === 0) {
    throw swiftError("InvalidAuthResponse", `swift auth v3 at ${authUrl}: no object-store endpoint with interface "${iface}"${region !== undefined ? ` in region "${region}"` : ""}; the catalog has it in: ${regions.join(", ") || "(no region)"}; set region/interface accordingly`);
  }
  const urls = [...new Set(pick.map((e) => e.url!))];
  if (urls.length > 1) throw swiftError("InvalidAuthResponse", `swift auth v3 at ${authUrl}: several object-store endpoints with interface "${iface}" (regions ${regions.join(", ")}); set region to choose one`);
  return urls[0].replace(/\/+$/, "");
}

const EXPIRY_MARGIN_MS = 60_000;

export class SwiftAuth {
  private cached: SwiftToken | undefined;
  private inflight: Promise<SwiftToken> | undefined;
  /** How many authentications were made (tests, diagnostics). */
  authentications = 0;

  constructor(
    readonly config: SwiftAuthConfig,
    private readonly deps: HttpDeps,
  ) {}

  /** A valid (cached or fresh) token and storage URL. */
  async token(): Promise<SwiftToken> {
    const c = this.cached;
    if (c && c.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return c;
    if (!this.inflight) {
      this.inflight = this.authenticate().finally(() => (this.inflight = undefined));
    }
    return this.inflight;
  }

  /** Drop the cached token if it is still `token` (after a 401 with it): the next token() re-authenticates. */
  invalidate(token?: string): void {
    if (token === undefined || this.cached?.token === token) this.cached = undefined;
  }

  /** Seed the cache with a token obtained elsewhere (e.g. kept from an earlier run). */
  useToken(t: SwiftToken): void {
    this.cached = { ...t, storageUrl: t.storageUrl.replace(/\/+$/, "") };
  }

  private async authenticate(): Promise<SwiftToken> {
    this.authentications++;
    const a = this.config;
    const t = a.version === 1 ? await this.v1(a) : await this.v3(a);
    this.cached = t;
    return t;
  }

  private async v1(a: Extract<SwiftAuthConfig, { version: 1 }>): Promise<SwiftToken> {
    const r = await smallRequest(this.deps, "GET", new URL(a.authUrl), { "x-auth-user": a.user, "x-auth-key": a.key });
    const rid = one(r.headers["x-openstack-request-id"]) ?? one(r.headers["x-trans-id"]);
    if (r.status < 200 || r.status >= 300) throw authFailure(a, r.status, rid);
    const token = one(r.headers["x-auth-token"]) ?? one(r.headers["x-storage-token"]);
    const storageUrl = one(r.headers["x-storage-url"]);
    if (!token || !storageUrl) throw swiftError("InvalidAuthResponse", `swift auth v1 at ${a.authUrl}: the response has no X-Auth-Token or X-Storage-Url (is this a Swift v1 auth URL?)`, r.status, rid);
    const secs = Number(one(r.headers["x-auth-token-expires"]));
    return { token, storageUrl: storageUrl.replace(/\/+$/, ""), expiresAt: Number.isFinite(secs) && secs > 0 ? Date.now() + secs * 1000 : Infinity };
  }

  private async v3(a: Extract<SwiftAuthConfig, { version: 3 }>): Promise<SwiftToken> {
    const url = keystoneTokensUrl(a.authUrl);
    const r = await smallRequest(this.deps, "POST", url, { "content-type": "application/json", accept: "application/json" }, JSON.stringify(keystoneRequestBody(a)));
    const rid = one(r.headers["x-openstack-request-id"]);
    if (r.status < 200 || r.status >= 300) throw authFailure(a, r.status, rid);
    const token = one(r.headers["x-subject-token"]);
    if (!token) throw swiftError("InvalidAuthResponse", `swift auth v3 at ${a.authUrl}: the response has no X-Subject-Token header`, r.status, rid);
    let doc: unknown;
    try {
      doc = JSON.parse(r.body);
    } catch {
      throw swiftError("InvalidAuthResponse", `swift auth v3 at ${a.authUrl}: the token response is not JSON`, r.status, rid);
    }
    const storageUrl = storageUrlFromCatalog(doc, a.interface ?? "public", a.region, a.authUrl);
    const exp = Date.parse((doc as { token?: { expires_at?: string } }).token?.expires_at ?? "");
    return { token, storageUrl, expiresAt: Number.isFinite(exp) ? exp : Infinity };
  }
}
