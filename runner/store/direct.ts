// The per-object hot path without the AWS SDK: GetObject and PutObject as plain HTTP requests on the
// endpoint's own keep-alive agents, signed with AWS Signature Version 4 (UNSIGNED-PAYLOAD, as the
// SDK path streams bodies unsigned too).
//
// Why: for small objects the SDK's per-request machinery (middleware chain, endpoint rules, SigV4
// over every header, XML/header serde) costs about 1.2 ms of CPU per GET+PUT pair; these two
// requests cost about 0.35 ms (measured in-process, 2,000 × 4 KiB, concurrency 16, same servers).
// On a small VM that shares its cores with the servers, or that runs many jobs, that CPU is the
// runner's wall time. Everything else (listings, deletes, multipart, server-side copies, the
// state store) stays on the SDK.
//
// Used only for endpoints with an explicit URL and path-style addressing (every S3-compatible
// service; AWS's own endpoints keep the SDK, which knows their virtual-host and FIPS/dual-stack
// rules). Errors are shaped like the SDK's (`name`/`Code`, `$metadata.httpStatusCode`), so
// retries, the auth check and the messages work unchanged. `directHttp: false` in the runner
// config turns this path off.
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import type { AwsCredentialIdentity } from "@smithy/types";

export interface DirectOptions {
  /** Endpoint URL (http or https), path-style. */
  endpoint: string;
  region: string;
  credentials: () => Promise<AwsCredentialIdentity>;
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  requestTimeoutMs: number;
  userAgent: string;
  /** Called once per HTTP attempt, with its kind (LIST: runner/store/list.ts on the same options). */
  count: (kind: "GET" | "PUT" | "LIST") => void;
}

/** The standard headers a copy carries over from the source object. */
export interface ObjectHeaders {
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
}

/** What a GET returns: the body stream and the object's headers as S3 sent them. */
export interface DirectGet extends ObjectHeaders {
  body: Readable;
  contentLength: number;
  /** The ETag header as sent (quotes included). */
  etag: string;
  lastModified: number;
  expires?: string;
  metadata: Record<string, string>;
}

export interface DirectPutHeaders extends ObjectHeaders {
  expires?: string;
  contentMd5?: string;
  metadata?: Record<string, string>;
}

/** RFC 3986 encoding of one path segment, as SigV4 and S3 expect (the SDK's extendedEncodeURIComponent). */
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `/bucket/key` with each key segment encoded and `/` kept (empty segments and `.`/`..` verbatim). */
export function objectPath(bucket: string, key: string): string {
  return `/${encodeSegment(bucket)}/${key.split("/").map(encodeSegment).join("/")}`;
}

const EMPTY_SHA256 = "UNSIGNED-PAYLOAD";

/** Headers SigV4 signers leave out (the SDK's list): proxies and agents may add or rewrite them. */
const UNSIGNABLE = new Set(["authorization", "cache-control", "connection", "expect", "from", "keep-alive", "max-forwards", "pragma", "referer", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"]);

/**
 * Sign a request in place (headers: lower-case names). Returns nothing; adds host, x-amz-date,
 * x-amz-content-sha256, x-amz-security-token (with a session token) and authorization.
 * `basePath` is the endpoint URL's own path (usually empty), prepended to the canonical URI.
 */
export function signV4(
  method: string,
  host: string,
  path: string,
  headers: Record<string, string>,
  creds: AwsCredentialIdentity,
  region: string,
  now: Date,
  keyCache?: { key: string; value: Buffer },
  /** The canonical query string (runner/store/list.ts: canonicalQuery); "" for none. */
  query = "",
): void {
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  headers["host"] = host;
  headers["x-amz-date"] = amzDate;
  headers["x-amz-content-sha256"] = EMPTY_SHA256;
  if (creds.sessionToken) headers["x-amz-security-token"] = creds.sessionToken;
  const names = Object.keys(headers).filter((n) => !UNSIGNABLE.has(n) && !n.startsWith("proxy-") && !n.startsWith("sec-")).sort();
  let canonHeaders = "";
  for (const n of names) canonHeaders += `${n}:${String(headers[n]).trim().replace(/\s+/g, " ")}\n`;
  const signed = names.join(";");
  const canonical = `${method}\n${path}\n${query}\n${canonHeaders}\n${signed}\n${EMPTY_SHA256}`;
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash("sha256").update(canonical).digest("hex")}`;
  const cacheKey = `${day}\0${region}\0${creds.accessKeyId}\0${creds.secretAccessKey}`;
  let signingKey: Buffer;
  if (keyCache && keyCache.key === cacheKey) signingKey = keyCache.value;
  else {
    const kDate = createHmac("sha256", `AWS4${creds.secretAccessKey}`).update(day).digest();
    const kRegion = createHmac("sha256", kDate).update(region).digest();
    const kService = createHmac("sha256", kRegion).update("s3").digest();
    signingKey = createHmac("sha256", kService).update("aws4_request").digest();
    if (keyCache) {
      keyCache.key = cacheKey;
      keyCache.value = signingKey;
    }
  }
  const signature = createHmac("sha256", signingKey).update(toSign).digest("hex");
  headers["authorization"] = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
}

/** An S3 error response as the SDK would throw it. */
export function s3Error(status: number, xml: string, fallback: string, headers: http.IncomingHttpHeaders): Error {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? fallback;
  const message = /<Message>([^<]*)<\/Message>/.exec(xml)?.[1] ?? (xml.trim() ? xml.trim().slice(0, 200) : `HTTP ${status}`);
  return Object.assign(new Error(message), {
    name: code,
    Code: code,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, requestId: headers["x-amz-request-id"] as string | undefined },
    $response: { statusCode: status, headers: { date: headers["date"] } },
  });
}

const FALLBACK_CODES: Record<number, string> = { 301: "PermanentRedirect", 400: "BadRequest", 403: "AccessDenied", 404: "NotFound", 409: "Conflict", 412: "PreconditionFailed", 500: "InternalError", 501: "NotImplemented", 503: "ServiceUnavailable" };

/** The SDK-shaped error of a non-2xx status and its body (the Code from the body, else the status's). */
function statusError(status: number, text: string, headers: http.IncomingHttpHeaders): Error {
  return s3Error(status, text, FALLBACK_CODES[status] ?? `Http${status}`, headers);
}

export function readError(res: http.IncomingMessage): Promise<Error> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let len = 0;
    res.on("data", (c: Buffer) => {
      if (len < 64 * 1024) chunks.push(c);
      len += c.length;
    });
    const done = () => resolve(statusError(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"), res.headers));
    res.on("end", done);
    res.on("error", done);
    res.on("aborted", done);
  });
}

export function timeoutError(ms: number): Error {
  return Object.assign(new Error(`request timed out: no data for ${ms} ms`), { name: "TimeoutError" });
}

/**
 * One endpoint URL on its keep-alive agents: the request plumbing shared by the direct GET/PUT
 * path and the direct LIST (runner/store/list.ts), and the server's clock offset learned from an
 * error that says our clock is off (as the SDK does).
 */
export class HttpTarget {
  readonly url: URL;
  /** The endpoint URL's own path (usually empty), prepended to every request path. */
  readonly basePath: string;
  private readonly mod: typeof http | typeof https;
  private readonly agent: http.Agent;
  private clockOffsetMs = 0;

  constructor(
    endpoint: string,
    httpAgent: http.Agent,
    httpsAgent: https.Agent,
    private readonly timeoutMs: number,
  ) {
    this.url = new URL(endpoint);
    this.basePath = this.url.pathname.replace(/\/+$/, "");
    const tls = this.url.protocol === "https:";
    this.mod = tls ? https : http;
    this.agent = tls ? httpsAgent : httpAgent;
  }

  /** Now, on the server's clock (for signing). */
  now(): Date {
    return new Date(Date.now() + this.clockOffsetMs);
  }

  /** Sends one request (path with its query string); resolves at the response's head. */
  send(method: string, path: string, headers: Record<string, string>, body?: Readable): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
    return new Promise((resolve, reject) => {
      const req = this.mod.request({ host: this.url.hostname, port: this.url.port || undefined, method, path, headers, agent: this.agent });
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      req.setTimeout(this.timeoutMs, () => req.destroy(timeoutError(this.timeoutMs)));
      req.on("error", fail);
      req.on("response", (res) => {
        if (settled) {
          res.resume();
          return;
        }
        settled = true;
        resolve({ req, res });
      });
      if (body) body.pipe(req);
      else req.end();
    });
  }

  /** The error of a non-2xx response, shaped as the SDK's; learns the clock offset from it. */
  async error(res: http.IncomingMessage): Promise<Error> {
    return this.learn(await readError(res));
  }

  /** As error(), for a response read whole (runner/store/http1.ts). */
  errorFrom(status: number, text: string, headers: http.IncomingHttpHeaders): Error {
    return this.learn(statusError(status, text, headers));
  }

  private learn(err: Error): Error {
    const e = err as Error & { Code?: string; $response?: { headers?: { date?: string } } };
    if (e.Code === "RequestTimeTooSkewed" || e.Code === "RequestExpired" || e.Code === "InvalidSignatureException") {
      const date = Date.parse(e.$response?.headers?.date ?? "");
      if (Number.isFinite(date)) this.clockOffsetMs = date - Date.now();
    }
    return e;
  }
}

export class DirectClient {
  private readonly http: HttpTarget;
  private readonly keyCache = { key: "", value: Buffer.alloc(0) };

  constructor(private readonly o: DirectOptions) {
    this.http = new HttpTarget(o.endpoint, o.httpAgent, o.httpsAgent, o.requestTimeoutMs);
  }

  /** The options it was built with (the endpoint's agents, credentials, timeout): the direct LIST
   *  of runner/store/list.ts uses the same. */
  get options(): DirectOptions {
    return this.o;
  }

  private async request(method: "GET" | "PUT", bucket: string, key: string, headers: Record<string, string>, body?: Readable): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
    const path = this.http.basePath + objectPath(bucket, key);
    const creds = await this.o.credentials();
    headers["user-agent"] = this.o.userAgent;
    signV4(method, this.http.url.host, path, headers, creds, this.o.region, this.http.now(), this.keyCache);
    this.o.count(method);
    return this.http.send(method, path, headers, body);
  }

  async get(bucket: string, key: string): Promise<DirectGet> {
    const { res } = await this.request("GET", bucket, key, {});
    if (res.statusCode !== 200) throw await this.http.error(res);
    const h = res.headers;
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(h)) {
      if (name.startsWith("x-amz-meta-") && value !== undefined) metadata[name.slice(11)] = Array.isArray(value) ? value.join(", ") : value;
    }
    const str = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v.join(", ") : v);
    // The idle timeout keeps guarding the body: a stalled download is destroyed, which the caller
    // sees as a body error (retryable).
    return {
      body: res,
      contentLength: Number(h["content-length"] ?? 0),
      etag: str(h["etag"]) ?? "",
      lastModified: Date.parse(str(h["last-modified"]) ?? "") || 0,
      contentType: str(h["content-type"]),
      cacheControl: str(h["cache-control"]),
      contentDisposition: str(h["content-disposition"]),
      contentEncoding: str(h["content-encoding"]),
      contentLanguage: str(h["content-language"]),
      expires: str(h["expires"]),
      metadata,
    };
  }

  /** PUT a streamed body of known length. Returns the new object's ETag header as sent. */
  async put(bucket: string, key: string, body: Readable, contentLength: number, p: DirectPutHeaders): Promise<string> {
    const headers: Record<string, string> = { "content-length": String(contentLength) };
    if (p.contentType !== undefined) headers["content-type"] = p.contentType;
    if (p.cacheControl !== undefined) headers["cache-control"] = p.cacheControl;
    if (p.contentDisposition !== undefined) headers["content-disposition"] = p.contentDisposition;
    if (p.contentEncoding !== undefined) headers["content-encoding"] = p.contentEncoding;
    if (p.contentLanguage !== undefined) headers["content-language"] = p.contentLanguage;
    if (p.expires !== undefined) headers["expires"] = p.expires;
    if (p.contentMd5 !== undefined) headers["content-md5"] = p.contentMd5;
    for (const [k, v] of Object.entries(p.metadata ?? {})) headers[`x-amz-meta-${k.toLowerCase()}`] = v;
    const { res } = await this.request("PUT", bucket, key, headers, body);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw await this.http.error(res);
    res.resume();
    const etag = res.headers["etag"];
    return Array.isArray(etag) ? etag[0] : etag ?? "";
  }
}
