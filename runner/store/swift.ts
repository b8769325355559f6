// OpenStack Swift's native object API (not its S3 layer): listing, HEAD/GET/PUT/COPY/DELETE of
// objects, static large objects (SLO) for big PUTs. node:http/https only, keep-alive agents.
// Authentication (v1 and Keystone v3) is in ./swift-auth.ts. The engine uses it through
// runner/store/swift-endpoint.ts (Endpoint.swift) and the dispatch in s3.ts / list.ts.
//
// Listing: `GET <storageUrl>/<container>?format=json&prefix=&delimiter=&marker=&limit=` served as the
// S3 layer's ListPage (runner/store/list.ts). Swift has no truncation flag and no continuation token:
// a page is "truncated" when it holds `limit` entries, and nextContinuationToken is the last name
// (or subdir) of the page, the next page's marker (Swift skips a subdir equal to the marker, so a
// subdir is a valid marker). So a listing whose size is a multiple of the limit ends with one empty
// page. `startAfter` is the marker of the first page. Swift orders names by their UTF-8 bytes, the
// order the engine uses (runner/decide compareKeys).
//
// Listed fields: `bytes` → size, `hash` → etag, `last_modified` → mtime. last_modified has no zone
// and microseconds ("2026-12-03T14:00:18.910820"): it is UTC, kept to the millisecond. Note that
// HEAD/GET's Last-Modified header is the same instant rounded UP to the whole second.
//
// Large-object hash semantics (checked against Swift 2.30 in test/runner/swift-native.test.ts):
// - SLO (static large object): the listing's `hash` is the MD5 of the stored manifest document
//   (HEAD shows it as X-Manifest-Etag), and `slo_etag` (quoted) is the MD5 of the concatenation of
//   the segments' ETag hex strings, which is also the ETag that HEAD/GET return. Neither is the MD5
//   of the content. A listed SLO is returned with `etag = "<slo_etag hex>-slo"` and `largeObject:
//   "slo"`: the suffix makes isPlainMd5 false (like S3's "-N" multipart ETags), so no caller treats
//   it as a content MD5; the value still changes whenever a segment's content changes.
// - DLO (dynamic large object, X-Object-Manifest): a listing cannot tell: it lists the manifest
//   object itself, typically `bytes: 0` and the MD5 of its (empty) body. Only HEAD/GET reveal it
//   (X-Object-Manifest; Content-Length the total; ETag the quoted MD5 of the concatenated segment
//   ETags, computed at request time). head()/get() return such an object with `etag` suffixed
//   `-dlo` and `largeObject: "dlo"`; this module never creates DLOs.
// - Plain objects: `hash` / ETag is the MD5 of the content (a plain MD5, unquoted).
//
// Writes: put() streams a body of known length. Up to `largeObjectThreshold` bytes (default 5 GiB,
// Swift's default max_file_size) it is one PUT with Content-Length, and with `ETag: <md5>` when
// the caller knows the MD5 (Swift then answers 422 to a body with another MD5); otherwise the MD5
// computed while sending is compared with the ETag Swift answers. Larger bodies become an SLO:
// segments are streamed one after another (memory: a chunk or two, never a segment) into the
// segment container (default `<container>_segments`, rclone's convention) under
// `<key>/slo/<unique>/<index>`, each checked against Swift's ETag, then the manifest is PUT with
// `?multipart-manifest=put` (Swift checks each segment's etag and size). On failure the uploaded
// segments are deleted (best effort). Metadata: `metadata` keys → `X-Object-Meta-<key>`; rclone's
// swift backend keeps the modification time as `X-Object-Meta-Mtime` (epoch seconds with a
// fraction), which `mtime` writes (and get()/head() read back as `mtime`). The same names are what
// Swift's s3api shows as `x-amz-meta-*`, so rcloneMetadata (runner/store/s3.ts) maps 1:1.
//
// Overwriting an SLO (put() or copy() onto a name that is an SLO): the old manifest's segment list
// is read (`?multipart-manifest=get&format=raw`) BEFORE the write, and those segments are deleted
// only AFTER the new object is in place (a failed upload leaves the old object whole), except any
// the new manifest references. Whether the destination is an SLO is known without a request when
// this client listed its container (listPage remembers the names listed with `slo_etag`; the engine
// always lists a target before writing it); otherwise one HEAD asks. A DLO's segments are left as
// they are (this module never creates DLOs; a DLO's segment prefix may hold other objects' data).
// Segment cleanup is best effort (retried; a failure leaves orphans, never a broken object).
//
// Not done here (yet): server-side copy of an SLO copies its content into one object
// (so it is limited to max_file_size), it does not share segments. A server-side copy FROM a name with
// a "." or ".." path segment ("a/b/../c") is answered 404 by Swift 2.30 (X-Copy-From is normalized),
// although PUT/GET/HEAD/DELETE of that name work: such names need a streamed copy.
//
// Errors are shaped like the S3 layer's (name/Code, $metadata.httpStatusCode) so withRetry,
// isRetryable and isAuthError (runner/store/s3.ts) apply; 401 after one re-authentication and 403
// are auth errors naming the credentials. Object names are percent-encoded per path segment.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { Readable, Transform } from "node:stream";
import { headerText } from "./headers.js";
import type { ListPage, ListParams, ListedObject } from "./list.js";
import { BodyGuard, type RequestKind, withRetry } from "./s3.js";
import { SwiftAuth, swiftError, swiftPrincipal, type SwiftAuthConfig, type SwiftError, type HttpDeps } from "./swift-auth.js";
import { timeoutError } from "./direct.js";

export { SwiftAuth, swiftError, type SwiftAuthConfig, type SwiftError } from "./swift-auth.js";

const GiB = 1024 ** 3;

export interface SwiftClientOptions {
  auth: SwiftAuthConfig;
  requestTimeoutMs?: number;
  maxSockets?: number;
  userAgent?: string;
  /** Called once per HTTP attempt with its kind (auth requests: "OTHER"). */
  count?: (kind: RequestKind) => void;
  /** PUTs larger than this become SLOs (default 5 GiB). */
  largeObjectThreshold?: number;
  /** SLO segment size (default 1 GiB; grown so a manifest has at most 1000 segments, Swift's default max_manifest_segments). */
  segmentSize?: number;
  /** The container of a container's SLO segments (default `<container>_segments`). */
  segmentContainer?: (container: string) => string;
  /** Called when old SLO segments could not be removed after an overwrite (they are orphans then). */
  onSegmentCleanupFailure?: (container: string, key: string, failed: string[]) => void;
}

export type LargeObjectKind = "slo" | "dlo";

export interface SwiftListedObject extends ListedObject {
  /** Set for an SLO (etag then ends in "-slo" and is not a content MD5). DLOs are not recognisable in a listing. */
  largeObject?: "slo";
  contentType?: string;
}

export interface SwiftListPage extends ListPage {
  objects: SwiftListedObject[];
}

export interface SwiftObjectHeaders {
  contentType?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  cacheControl?: string;
  /** Kept by Swift's object server (its default allowed_headers), as Cache-Control. */
  contentLanguage?: string;
  expires?: string;
}

export interface SwiftHead extends SwiftObjectHeaders {
  size: number;
  /** Unquoted; "<hex>-slo" / "<hex>-dlo" for large objects (not content MD5s). */
  etag: string;
  /** Last-Modified header, epoch ms (whole seconds, rounded up by Swift). */
  lastModified: number;
  /** X-Object-Meta-Mtime as epoch ms, when present and valid (rclone's modification time). */
  mtime?: number;
  /** X-Object-Meta-* with lower-case names without the prefix, values decoded as UTF-8 where valid. */
  metadata: Record<string, string>;
  largeObject?: LargeObjectKind;
}

export interface SwiftGet extends SwiftHead {
  body: Readable;
}

export interface SwiftPutOptions extends SwiftObjectHeaders {
  /** The body's MD5 (hex) if known: sent as ETag on single PUTs (Swift verifies it), checked locally on SLOs. */
  md5?: string;
  metadata?: Record<string, string>;
  /** Modification time (epoch ms) → X-Object-Meta-Mtime (seconds with 3 decimals, as rclone reads it). */
  mtime?: number;
  onBytes?: (n: number) => void;
  /** `If-None-Match: *`: create only (Swift answers 412 PreconditionFailed when the name exists).
   *  Single PUTs only (up to the large-object threshold): an SLO's manifest PUT is not conditional. */
  ifNoneMatch?: boolean;
}

export interface SwiftPutResult {
  /** As SwiftHead.etag: a plain MD5 for single PUTs, "<hex>-slo" for SLOs. */
  etag: string;
  largeObject?: "slo";
  segments: number;
  /** Internal: the new SLO's segment paths (put() removes it before returning). */
  newSegments?: string[];
}

/** Percent-encoding of one path segment (RFC 3986 unreserved kept). */
function enc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `/<container>/<object>` with every segment encoded, "/" kept. */
export function swiftObjectPath(container: string, key: string): string {
  return `/${enc(container)}/${key.split("/").map(enc).join("/")}`;
}

/** Swift's listing time (UTC, no zone, up to microseconds) → epoch ms. */
export function parseSwiftListTime(s: string | undefined): number {
  if (!s) return 0;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(s);
  if (!m) {
    const t = Date.parse(s);
    return Number.isFinite(t) ? t : 0;
  }
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
}

/** "1700000000.123456" → epoch ms (undefined if not a number). */
export function parseMtimeMeta(v: string | undefined): number | undefined {
  if (v === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(v)) return undefined;
  const [s, f = ""] = v.trim().split(".");
  return Number(s) * 1000 + Number(f.slice(0, 3).padEnd(3, "0"));
}

/** Epoch ms → X-Object-Meta-Mtime (seconds with a fraction, what rclone's swift backend writes and reads). */
export function formatMtimeMeta(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function strip(etag: string | undefined): string {
  return (etag ?? "").replace(/^W\//, "").replace(/^"+|"+$/g, "");
}

const CODES: Record<number, string> = {
  400: "BadRequest",
  401: "InvalidToken",
  403: "AccessDenied",
  404: "NotFound",
  408: "RequestTimeout",
  409: "Conflict",
  411: "MissingContentLength",
  412: "PreconditionFailed",
  413: "EntityTooLarge",
  416: "InvalidRange",
  422: "BadDigest",
  429: "SlowDown",
  498: "SlowDown", // Swift's ratelimit middleware
  499: "RequestTimeout", // Swift: the client disconnected / timed out sending
  500: "InternalError",
  503: "ServiceUnavailable",
};

/** A Swift error body (HTML or text) as one short line. */
function bodyText(s: string): string {
  return s.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 200);
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(", ") : v;
}

function readAll(res: http.IncomingMessage, cap = 64 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let len = 0;
    // Already closed (its request destroyed before we read it: a final answer before 100 Continue).
    if (res.destroyed) return reject(Object.assign(new Error("response aborted"), { name: "ERR_STREAM_PREMATURE_CLOSE" }));
    res.on("data", (c: Buffer) => {
      len += c.length;
      if (len <= cap) chunks.push(c);
    });
    res.on("end", () => (len > cap ? reject(swiftError("InvalidResponse", `swift response body larger than ${cap} bytes`)) : resolve(Buffer.concat(chunks).toString("utf8"))));
    res.on("error", reject);
    // A response whose request was destroyed (a final answer before 100 Continue, sendOnce) may
    // close without "end": settle then instead of waiting forever (after "end" this is a no-op).
    res.on("close", () => reject(Object.assign(new Error("response aborted"), { name: "ERR_STREAM_PREMATURE_CLOSE" })));
  });
}

interface SendResult {
  res: http.IncomingMessage;
  /** Whether the streamed body was (partly) sent: a retry then needs a new body. */
  bodyStarted: boolean;
}

export class SwiftClient {
  readonly auth: SwiftAuth;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly count: (kind: RequestKind) => void;
  readonly largeObjectThreshold: number;
  readonly segmentSize: number;
  private readonly segmentContainerOf: (c: string) => string;
  private readonly onCleanupFailure: (container: string, key: string, failed: string[]) => void;
  /** Containers this client listed, and the names it saw listed as SLOs in each (see the header). */
  private readonly listedSlo = new Map<string, Set<string>>();

  constructor(o: SwiftClientOptions) {
    const agentOpts = { keepAlive: true, maxSockets: o.maxSockets ?? 64, keepAliveMsecs: 1000 };
    this.httpAgent = new http.Agent(agentOpts);
    this.httpsAgent = new https.Agent(agentOpts);
    this.timeoutMs = o.requestTimeoutMs ?? 120_000;
    this.userAgent = o.userAgent ?? `replication-runner swift node/${process.versions.node}`;
    this.count = o.count ?? (() => {});
    this.largeObjectThreshold = o.largeObjectThreshold ?? 5 * GiB;
    this.segmentSize = o.segmentSize ?? GiB;
    this.segmentContainerOf = o.segmentContainer ?? ((c) => `${c}_segments`);
    this.onCleanupFailure = o.onSegmentCleanupFailure ?? (() => {});
    const deps: HttpDeps = { httpAgent: this.httpAgent, httpsAgent: this.httpsAgent, requestTimeoutMs: this.timeoutMs, userAgent: this.userAgent, count: () => this.count("OTHER") };
    this.auth = new SwiftAuth(o.auth, deps);
  }

  segmentContainer(container: string): string {
    return this.segmentContainerOf(container);
  }

  /** Close idle keep-alive sockets. */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  // ------------------------------------------------------------ transport

  private sendOnce(method: string, url: URL, headers: Record<string, string>, kind: RequestKind, body?: Readable | string): Promise<SendResult> {
    const tls = url.protocol === "https:";
    const mod = tls ? https : http;
    this.count(kind);
    return new Promise((resolve, reject) => {
      const streamed = body instanceof Readable;
      if (streamed) headers["expect"] = "100-continue";
      const req = mod.request({ host: url.hostname, port: url.port || undefined, method, path: url.pathname + url.search, headers, agent: tls ? this.httpsAgent : this.httpAgent });
      let settled = false;
      let bodyStarted = false;
      let fallback: NodeJS.Timeout | undefined;
      const startBody = () => {
        if (bodyStarted || settled) return;
        bodyStarted = true;
        if (fallback) clearTimeout(fallback);
        (body as Readable).pipe(req);
      };
      req.setTimeout(this.timeoutMs, () => req.destroy(timeoutError(this.timeoutMs)));
      req.on("error", (e) => {
        if (fallback) clearTimeout(fallback);
        if (settled) return;
        settled = true;
        reject(e);
      });
      req.on("response", (res) => {
        if (fallback) clearTimeout(fallback);
        if (settled) {
          res.resume();
          return;
        }
        settled = true;
        if (streamed && !bodyStarted) {
          // A final answer before 100 Continue (e.g. 401): the body was never sent, and this
          // connection cannot be reused with an unsent declared body.
          req.destroy();
        }
        resolve({ res, bodyStarted });
      });
      if (streamed) {
        req.on("continue", startBody);
        // A server or proxy that ignores Expect: send the body after a second anyway (as curl does).
        fallback = setTimeout(startBody, 1000);
        req.flushHeaders();
      } else req.end(body);
    });
  }

  /**
   * One storage request: the storage URL and token from auth; on 401 re-authenticate once and
   * retry (a streamed body is reused only if it was not sent yet: Expect: 100-continue).
   * `path` is encoded, starting with "/" (relative to the storage URL); `query` unencoded values.
   */
  private async storage(method: string, path: string, query: Record<string, string | undefined>, headers: Record<string, string>, kind: RequestKind, body?: Readable | string): Promise<http.IncomingMessage> {
    const qs = Object.entries(query)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => (v === "" ? enc(k) : `${enc(k)}=${enc(v!)}`))
      .join("&");
    for (let attempt = 1; ; attempt++) {
      const t = await this.auth.token();
      const url = new URL(t.storageUrl + path + (qs ? `?${qs}` : ""));
      const h: Record<string, string> = { ...headers, "x-auth-token": t.token, "user-agent": this.userAgent };
      const { res, bodyStarted } = await this.sendOnce(method, url, h, kind, body);
      if (res.statusCode === 401) {
        res.resume();
        this.auth.invalidate(t.token);
        if (attempt === 1 && !bodyStarted) continue;
        if (bodyStarted) throw swiftError("ExpiredToken", `swift ${method} ${decodeURIComponent(path)}: the token expired while the body was being sent; retry the transfer`, 401);
        throw swiftError("InvalidToken", `swift ${method} ${decodeURIComponent(path)}: HTTP 401 with a freshly issued token for ${swiftPrincipal(this.auth.config)}; check the endpoint's credentials and that they may access this account`, 401);
      }
      return res;
    }
  }

  private async fail(res: http.IncomingMessage, method: string, what: string, notFound = "NotFound"): Promise<never> {
    const status = res.statusCode ?? 0;
    let text = "";
    try {
      text = bodyText(await readAll(res, 64 * 1024));
    } catch {
      // the status is enough
    }
    const rid = one(res.headers["x-openstack-request-id"]) ?? one(res.headers["x-trans-id"]);
    const code = status === 404 ? notFound : CODES[status] ?? (status >= 500 ? "InternalError" : `Http${status}`);
    const hint = status === 403 ? `; ${swiftPrincipal(this.auth.config)} may not do this (check the endpoint's credentials and the container's ACLs)` : "";
    throw swiftError(code, `swift ${method} ${what}: HTTP ${status}${text ? ` ${text}` : ""}${hint}`, status, rid);
  }

  // ------------------------------------------------------------ containers

  /** Create a container (201/202: created or already there). */
  async createContainer(container: string): Promise<void> {
    const res = await this.storage("PUT", `/${enc(container)}`, {}, { "content-length": "0" }, "OTHER", "");
    if ((res.statusCode ?? 0) >= 300) return this.fail(res, "PUT", container);
    res.resume();
  }

  /** Delete an (empty) container; 404 is fine. */
  async deleteContainer(container: string): Promise<void> {
    const res = await this.storage("DELETE", `/${enc(container)}`, {}, {}, "OTHER");
    if (res.statusCode === 404) return void res.resume();
    if ((res.statusCode ?? 0) >= 300) return this.fail(res, "DELETE", container);
    res.resume();
  }

  // ------------------------------------------------------------ listing

  /** One listing page as the engine's ListPage (see the header for the mapping). maxKeys: default and at most 10,000 (Swift's container_listing_limit default). */
  async listPage(container: string, params: ListParams): Promise<SwiftListPage> {
    const limit = Math.max(1, Math.min(params.maxKeys ?? 10_000, 10_000));
    const query = {
      format: "json",
      prefix: params.prefix || undefined,
      delimiter: params.delimiter || undefined,
      marker: params.continuationToken ?? (params.startAfter || undefined),
      limit: String(limit),
    };
    const res = await this.storage("GET", `/${enc(container)}`, query, { accept: "application/json" }, "LIST");
    if (res.statusCode === 204) {
      res.resume();
      return { objects: [], commonPrefixes: [], isTruncated: false };
    }
    if (res.statusCode !== 200) return this.fail(res, "GET", `container ${container} listing`, "NoSuchBucket");
    const text = await readAll(res);
    let rows: unknown;
    try {
      rows = JSON.parse(text);
    } catch {
      throw swiftError("InvalidListResponse", `swift listing of ${container}: the response is not JSON`, 200);
    }
    if (!Array.isArray(rows)) throw swiftError("InvalidListResponse", `swift listing of ${container}: the response is not a JSON array`, 200);
    const objects: SwiftListedObject[] = [];
    const commonPrefixes: string[] = [];
    let last: string | undefined;
    let slos = this.listedSlo.get(container);
    if (!slos) this.listedSlo.set(container, (slos = new Set()));
    for (const r of rows as Record<string, unknown>[]) {
      if (typeof r.subdir === "string") {
        commonPrefixes.push(r.subdir);
        last = r.subdir;
        continue;
      }
      if (typeof r.name !== "string") continue;
      last = r.name;
      const o: SwiftListedObject = {
        key: r.name,
        size: typeof r.bytes === "number" ? r.bytes : Number(r.bytes) || 0,
        etag: strip(typeof r.hash === "string" ? r.hash : ""),
        mtime: parseSwiftListTime(typeof r.last_modified === "string" ? r.last_modified : undefined),
      };
      if (typeof r.content_type === "string") o.contentType = r.content_type;
      if (typeof r.slo_etag === "string") {
        o.etag = `${strip(r.slo_etag)}-slo`;
        o.largeObject = "slo";
        slos.add(r.name);
      } else slos.delete(r.name);
      objects.push(o);
    }
    const isTruncated = rows.length >= limit && last !== undefined;
    const page: SwiftListPage = { objects, commonPrefixes, isTruncated };
    if (isTruncated) page.nextContinuationToken = last;
    return page;
  }

  // ------------------------------------------------------------ objects

  private headOf(res: http.IncomingMessage): SwiftHead {
    const h = res.headers;
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(h)) {
      if (name.startsWith("x-object-meta-") && value !== undefined) metadata[name.slice(14)] = metaText(one(value)!);
    }
    const slo = /^true$/i.test(one(h["x-static-large-object"]) ?? "");
    const dlo = !slo && h["x-object-manifest"] !== undefined;
    const etag = strip(one(h["etag"]));
    const out: SwiftHead = {
      size: Number(one(h["content-length"]) ?? 0),
      etag: slo ? `${etag}-slo` : dlo ? `${etag}-dlo` : etag,
      lastModified: Date.parse(one(h["last-modified"]) ?? "") || 0,
      metadata,
    };
    const mt = parseMtimeMeta(metadata["mtime"]);
    if (mt !== undefined) out.mtime = mt;
    if (slo) out.largeObject = "slo";
    else if (dlo) out.largeObject = "dlo";
    const ct = one(h["content-type"]);
    if (ct !== undefined) out.contentType = ct;
    for (const [field, name] of [["contentDisposition", "content-disposition"], ["contentEncoding", "content-encoding"], ["cacheControl", "cache-control"], ["contentLanguage", "content-language"], ["expires", "expires"]] as const) {
      const v = one(h[name]);
      if (v !== undefined) out[field] = headerText(v);
    }
    return out;
  }

  /** HEAD; a missing object is an error named "NotFound" (status 404), as the SDK's HeadObject. */
  async head(container: string, key: string): Promise<SwiftHead> {
    const res = await this.storage("HEAD", swiftObjectPath(container, key), {}, {}, "HEAD");
    if (res.statusCode !== 200) return this.fail(res, "HEAD", `${container}/${key}`);
    res.resume();
    return this.headOf(res);
  }

  /** Streaming GET (of the content: an SLO/DLO is served concatenated). A missing object: "NoSuchKey", 404. */
  async get(container: string, key: string): Promise<SwiftGet> {
    const res = await this.storage("GET", swiftObjectPath(container, key), {}, {}, "GET");
    if (res.statusCode !== 200) return this.fail(res, "GET", `${container}/${key}`, "NoSuchKey");
    return { ...this.headOf(res), body: res };
  }

  private putHeaders(contentLength: number, p: SwiftPutOptions): Record<string, string> {
    const h: Record<string, string> = { "content-length": String(contentLength) };
    if (p.contentType !== undefined) h["content-type"] = p.contentType;
    if (p.contentDisposition !== undefined) h["content-disposition"] = wire(p.contentDisposition);
    if (p.contentEncoding !== undefined) h["content-encoding"] = wire(p.contentEncoding);
    if (p.cacheControl !== undefined) h["cache-control"] = wire(p.cacheControl);
    if (p.contentLanguage !== undefined) h["content-language"] = wire(p.contentLanguage);
    if (p.expires !== undefined) h["expires"] = wire(p.expires);
    for (const [k, v] of Object.entries(p.metadata ?? {})) h[`x-object-meta-${k.toLowerCase()}`] = wire(v);
    if (p.mtime !== undefined && p.mtime > 0) h["x-object-meta-mtime"] = formatMtimeMeta(p.mtime);
    return h;
  }

  /** PUT a streamed body of exactly `contentLength` bytes: one object, or an SLO above the threshold. */
  async put(container: string, key: string, body: Readable, contentLength: number, p: SwiftPutOptions = {}): Promise<SwiftPutResult> {
    // A create-only PUT replaces nothing; otherwise the old SLO's segments, read before the write.
    const old = p.ifNoneMatch ? undefined : await this.oldSegments(container, key);
    let r: SwiftPutResult;
    if (contentLength > this.largeObjectThreshold) r = await this.putSlo(container, key, body, contentLength, p);
    else {
      const md5 = p.md5 && /^[0-9a-f]{32}$/i.test(p.md5) ? p.md5.toLowerCase() : undefined;
      const headers = this.putHeaders(contentLength, p);
      if (p.ifNoneMatch) headers["if-none-match"] = "*";
      r = { etag: await this.putOne(container, key, body, contentLength, headers, md5, p.onBytes), segments: 0 };
    }
    await this.afterWrite(container, key, old, r.newSegments);
    delete r.newSegments;
    return r;
  }

  /**
   * The segments (`/<container>/<name>`) of the SLO stored at `container/key`, or undefined when it
   * is not an SLO (or absent). Known from this client's listing of the container when there was one,
   * else asked with a HEAD.
   */
  private async oldSegments(container: string, key: string): Promise<string[] | undefined> {
    const listed = this.listedSlo.get(container);
    if (listed ? !listed.has(key) : (await this.headOrUndefined(container, key))?.largeObject !== "slo") return undefined;
    const res = await this.storage("GET", swiftObjectPath(container, key), { "multipart-manifest": "get", format: "raw" }, { accept: "application/json" }, "GET");
    if (res.statusCode === 404) {
      res.resume();
      return undefined;
    }
    if (res.statusCode !== 200) return this.fail(res, "GET", `${container}/${key} (SLO manifest)`);
    if (!/^true$/i.test(one(res.headers["x-static-large-object"]) ?? "")) {
      res.resume(); // replaced by a plain object since it was listed
      return undefined;
    }
    const text = await readAll(res, 16 * 1024 * 1024);
    try {
      const doc = JSON.parse(text) as { path?: string }[];
      return doc.map((d) => d.path).filter((x): x is string => typeof x === "string" && x.startsWith("/"));
    } catch {
      throw swiftError("InvalidResponse", `swift GET ${container}/${key}?multipart-manifest=get: the SLO manifest is not JSON`, 200);
    }
  }

  private async headOrUndefined(container: string, key: string): Promise<SwiftHead | undefined> {
    try {
      return await this.head(container, key);
    } catch (e) {
      if ((e as SwiftError).$metadata?.httpStatusCode === 404) return undefined;
      throw e;
    }
  }

  /** After a successful write to `container/key`: what is there now, and the old SLO's segments
   *  (those the new object does not reference) removed. */
  private async afterWrite(container: string, key: string, old: string[] | undefined, now: string[] | undefined): Promise<void> {
    const slos = this.listedSlo.get(container);
    if (slos) {
      if (now) slos.add(key);
      else slos.delete(key);
    }
    if (!old || old.length === 0) return;
    const keep = new Set(now ?? []);
    const gone = old.filter((s) => !keep.has(s));
    const failed: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < gone.length) {
        const path = gone[next++];
        const i = path.indexOf("/", 1);
        try {
          if (i < 0) throw new Error("not /<container>/<name>");
          await withRetry(() => this.delete(path.slice(1, i), path.slice(i + 1)), 3);
        } catch {
          failed.push(path);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, gone.length) }, worker));
    if (failed.length) this.onCleanupFailure(container, key, failed);
  }

  /** One PUT; returns the MD5 Swift stored (checked against the bytes sent). */
  private async putOne(container: string, key: string, body: Readable, contentLength: number, headers: Record<string, string>, md5: string | undefined, onBytes?: (n: number) => void): Promise<string> {
    if (md5) headers["etag"] = md5;
    const sent = createHash("md5");
    const guard = new BodyGuard(contentLength, md5, (n) => onBytes?.(n));
    const hashing = new Transform({
      transform(chunk: Buffer, _e, cb) {
        sent.update(chunk);
        cb(null, chunk);
      },
    });
    // body → hashing → guard → request: the guard holds back the last chunk until the count (and
    // MD5) verified, and on a failure ends the request too, so a bad body never becomes an object.
    body.on("error", (e) => guard.abort(e));
    guard.on("error", (e) => guard.abort(e));
    body.pipe(hashing).pipe(guard);
    let res: http.IncomingMessage;
    try {
      res = await this.storage("PUT", swiftObjectPath(container, key), {}, headers, "PUT", guard);
    } catch (e) {
      guard.abort(e as Error);
      throw e;
    }
    if (res.statusCode !== 201) {
      guard.abort(new Error(`PUT answered ${res.statusCode}`));
      return this.fail(res, "PUT", `${container}/${key}`, "NoSuchBucket");
    }
    res.resume();
    const got = strip(one(res.headers["etag"]));
    const mine = sent.digest("hex");
    if (got !== mine) throw swiftError("BadDigest", `swift PUT ${container}/${key}: Swift stored MD5 ${got || "(none)"} but ${mine} was sent`, 201);
    return got;
  }

  private async putSlo(container: string, key: string, body: Readable, size: number, p: SwiftPutOptions): Promise<SwiftPutResult> {
    const segSize = Math.max(this.segmentSize, Math.ceil(size / 1000));
    const n = Math.ceil(size / segSize);
    const segContainer = this.segmentContainerOf(container);
    const unique = `${Date.now()}.${randomBytes(4).toString("hex")}`;
    const segName = (i: number) => `${key}/slo/${unique}/${size}/${segSize}/${String(i).padStart(8, "0")}`;
    const reader = new SegmentReader(body);
    const whole = p.md5 && /^[0-9a-f]{32}$/i.test(p.md5) ? createHash("md5") : undefined;
    const manifest: { path: string; etag: string; size_bytes: number }[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const len = Math.min(segSize, size - i * segSize);
        const seg = reader.next(len, whole);
        const etag = await this.putOne(segContainer, segName(i), seg, len, { "content-length": String(len) }, undefined, p.onBytes);
        manifest.push({ path: `/${segContainer}/${segName(i)}`, etag, size_bytes: len });
      }
      await reader.expectEnd();
      if (whole && whole.digest("hex") !== p.md5!.toLowerCase()) throw swiftError("BadDigest", `swift PUT ${container}/${key}: the body's MD5 is not ${p.md5}`);
      const headers = this.putHeaders(0, p);
      const doc = JSON.stringify(manifest);
      headers["content-length"] = String(Buffer.byteLength(doc));
      const res = await this.storage("PUT", swiftObjectPath(container, key), { "multipart-manifest": "put" }, headers, "PUT", doc);
      if (res.statusCode !== 201) return await this.fail(res, "PUT", `${container}/${key} (SLO manifest)`, "NoSuchBucket");
      res.resume();
      return { etag: `${strip(one(res.headers["etag"]))}-slo`, largeObject: "slo", segments: n, newSegments: manifest.map((m) => m.path) };
    } catch (e) {
      reader.destroy(e as Error);
      await Promise.allSettled(manifest.map((m) => this.delete(segContainer, m.path.slice(segContainer.length + 2))));
      throw e;
    }
  }

  /**
   * Server-side copy within the account: `PUT` with `X-Copy-From: /<container>/<object>`. The copy
   * keeps the source's metadata, with `metadata`/`mtime` added or replaced. A large-object source is
   * copied as its content (one object, so at most max_file_size). Returns the new ETag.
   */
  async copy(srcContainer: string, srcKey: string, dstContainer: string, dstKey: string, p: Pick<SwiftPutOptions, "metadata" | "mtime" | "contentType"> = {}): Promise<string> {
    const headers = this.putHeaders(0, p);
    headers["x-copy-from"] = swiftObjectPath(srcContainer, srcKey);
    const old = await this.oldSegments(dstContainer, dstKey);
    const res = await this.storage("PUT", swiftObjectPath(dstContainer, dstKey), {}, headers, "COPY", "");
    if (res.statusCode !== 201) return this.fail(res, "COPY", `${srcContainer}/${srcKey} → ${dstContainer}/${dstKey}`, "NoSuchKey");
    res.resume();
    await this.afterWrite(dstContainer, dstKey, old, undefined);
    return strip(one(res.headers["etag"]));
  }

  /**
   * DELETE; a missing object is fine (returns false). `largeObject: "slo"` deletes the manifest and
   * its segments (`?multipart-manifest=delete`, whose answer is a bulk-delete report: its errors
   * are thrown).
   */
  async delete(container: string, key: string, opts: { largeObject?: LargeObjectKind } = {}): Promise<boolean> {
    const slo = opts.largeObject === "slo";
    const res = await this.storage("DELETE", swiftObjectPath(container, key), slo ? { "multipart-manifest": "delete" } : {}, slo ? { accept: "application/json" } : {}, "DELETE");
    if (res.statusCode === 404) {
      res.resume();
      return false;
    }
    if ((res.statusCode ?? 0) >= 300) return this.fail(res, "DELETE", `${container}/${key}`);
    this.listedSlo.get(container)?.delete(key);
    if (!slo) {
      res.resume();
      return true;
    }
    const text = await readAll(res, 1024 * 1024);
    let r: { "Response Status"?: string; "Number Deleted"?: number; Errors?: [string, string][] };
    try {
      r = JSON.parse(text);
    } catch {
      throw swiftError("InvalidResponse", `swift DELETE ${container}/${key} (SLO): the bulk-delete report is not JSON`, res.statusCode);
    }
    const status = Number(/^\d+/.exec(r["Response Status"] ?? "")?.[0] ?? 200);
    if (status >= 300 && status !== 404) {
      const errs = (r.Errors ?? []).map((e) => e.join(" ")).join("; ");
      throw swiftError(CODES[status] ?? (status >= 500 ? "InternalError" : `Http${status}`), `swift DELETE ${container}/${key} (SLO): ${r["Response Status"]}${errs ? `: ${errs}` : ""}`, status);
    }
    return (r["Number Deleted"] ?? 0) > 0;
  }
}

/**
 * An X-Object-Meta-* value as text. Observed on Swift 2.30 (Python 3): a metadata value PUT as raw
 * UTF-8 bytes is served back by the native API UTF-8-encoded once more (each original byte as one
 * latin1 character, encoded as UTF-8: "ü" C3 BC comes back as C3 83 C2 BC), while Content-Disposition
 * comes back verbatim. So: decode the received bytes as UTF-8 (headerText), and when the result is
 * again only latin1 characters whose bytes are valid UTF-8, decode that layer too. Plain ASCII is
 * unchanged; a genuine value that itself looks like double-encoded UTF-8 would be decoded once too much.
 */
export function metaText(received: string): string {
  const once = headerText(received);
  if (once === received || /[^\x00-\xff]/.test(once) || /^[\x00-\x7f]*$/.test(once)) return once;
  const twice = headerText(once);
  return twice;
}

/** A header value for the wire: UTF-8 bytes as one latin1 character each (Node sends them verbatim; Swift stores bytes). */
function wire(v: string): string {
  return /^[\x00-\x7f]*$/.test(v) ? v : Buffer.from(v, "utf8").toString("latin1");
}

/** Cuts one stream into consecutive segment streams of given lengths, without buffering a segment. */
class SegmentReader {
  private readonly it: AsyncIterator<Buffer>;
  private leftover: Buffer | undefined;
  private failed: Error | undefined;
  constructor(private readonly src: Readable) {
    this.it = (src[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  }
  private async pull(): Promise<Buffer | undefined> {
    if (this.leftover) {
      const b = this.leftover;
      this.leftover = undefined;
      return b;
    }
    const r = await this.it.next();
    return r.done ? undefined : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
  }
  next(len: number, whole?: ReturnType<typeof createHash>): Readable {
    const self = this;
    async function* gen(): AsyncGenerator<Buffer> {
      let remaining = len;
      while (remaining > 0) {
        if (self.failed) throw self.failed;
        const c = await self.pull();
        if (!c) throw Object.assign(new Error(`truncated body: the source ended ${remaining} bytes before the end of a segment`), { name: "TruncatedBody" });
        const take = c.length > remaining ? c.subarray(0, remaining) : c;
        if (c.length > remaining) self.leftover = c.subarray(remaining);
        remaining -= take.length;
        whole?.update(take);
        yield take;
      }
    }
    return Readable.from(gen(), { objectMode: false });
  }
  async expectEnd(): Promise<void> {
    const c = await this.pull();
    if (c && c.length > 0) throw Object.assign(new Error("body longer than Content-Length"), { name: "TruncatedBody" });
  }
  destroy(e: Error): void {
    this.failed = e;
    this.src.destroy();
  }
}

/** One page with the runner's retries (as listPage of runner/store/list.ts). */
export function swiftListPage(client: SwiftClient, container: string, params: ListParams, attempts: number): Promise<SwiftListPage> {
  return withRetry(() => client.listPage(container, params), attempts);
}

export type { SwiftError as SwiftClientError };
