// S3 access: one client per endpoint (keep-alive, timeouts, request counting), listing,
// streaming transfers, server-side copies and batched deletes. No decisions here.
import type { GetObjectCommandOutput, S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { Transform, type Readable, type TransformCallback, type Writable } from "node:stream";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { EndpointConfig } from "../config/types.js";
import type { ResolvedCredentials } from "../config/credentials.js";
import { serverIdentity } from "../config/validate.js";
import { isPlainMd5, type Entry } from "../decide/types.js";
import { tagEndpoint } from "./net-errors.js";
import { DirectClient, type ObjectHeaders } from "./direct.js";
import { headerText, sendableHeaders } from "./headers.js";
import { listPage } from "./list.js";
import { sdk } from "./sdk.js";
import type { SwiftClient } from "./swift.js";

export const REQUEST_KINDS = ["LIST", "HEAD", "GET", "PUT", "COPY", "DELETE", "MPU_CREATE", "MPU_PART", "MPU_COMPLETE", "MPU_ABORT", "OTHER"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export type RequestCounts = Record<RequestKind, number>;

const KIND_OF: Record<string, RequestKind> = {
  ListObjectsV2Command: "LIST",
  ListObjectsCommand: "LIST",
  HeadObjectCommand: "HEAD",
  GetObjectCommand: "GET",
  PutObjectCommand: "PUT",
  CopyObjectCommand: "COPY",
  DeleteObjectCommand: "DELETE",
  DeleteObjectsCommand: "DELETE",
  CreateMultipartUploadCommand: "MPU_CREATE",
  UploadPartCommand: "MPU_PART",
  UploadPartCopyCommand: "MPU_PART",
  CompleteMultipartUploadCommand: "MPU_COMPLETE",
  AbortMultipartUploadCommand: "MPU_ABORT",
};

export function zeroCounts(): RequestCounts {
  return Object.fromEntries(REQUEST_KINDS.map((k) => [k, 0])) as RequestCounts;
}

export function diffCounts(after: RequestCounts, before: RequestCounts): RequestCounts {
  const out = zeroCounts();
  for (const k of REQUEST_KINDS) out[k] = after[k] - before[k];
  return out;
}

const USER_AGENT = `replication-runner aws-sdk-js/3 node/${process.versions.node}`;

export interface ClientOptions {
  maxSockets: number;
  requestTimeoutMs: number;
  counts: RequestCounts;
  /** GET/PUT of streamed copies as plain signed HTTP (runner/store/direct.ts) where the endpoint
   *  allows it (explicit URL, path-style). Default true; the config's `directHttp: false` turns it off. */
  direct?: boolean;
}

/**
 * A configured endpoint: its client and the identity used to detect "same server, same keys".
 * Either S3 (`client`, `bucketClient`, `direct`) or OpenStack Swift's native API (`swift` set,
 * runner/store/swift-endpoint.ts): on a Swift endpoint `client`/`bucketClient` throw, and the
 * storage operations of this module and list.ts (listPage, transferObject, deleteKeys) dispatch on
 * `swift` instead.
 */
export interface Endpoint {
  name: string;
  client: S3Client;
  /**
   * The client for the per-object hot path of one bucket: the same settings and HTTP agents, but
   * the SDK resolves its middleware stack once per command type instead of on every request
   * (`cacheMiddleware`). Calls through it must pass no per-call options (they disable the cache).
   * One per bucket because the cached handler shares one context between concurrent requests of a
   * command type, and that context holds the bucket's endpoint URL.
   */
  bucketClient(bucket: string): S3Client;
  /** Same value on two endpoints ⇒ server-side CopyObject works between them. */
  copyIdentity: string;
  url: string;
  /** GetObject/PutObject without the SDK, for streamed copies (undefined: use the SDK). */
  direct?: DirectClient;
  /** Set on a Swift endpoint: its native client (buckets are containers). */
  swift?: SwiftClient;
}

export function makeEndpoint(name: string, cfg: EndpointConfig, creds: ResolvedCredentials | undefined, opts: ClientOptions): Endpoint {
  const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets, keepAliveMsecs: 1000 };
  const httpAgent = new http.Agent(agentOpts);
  const httpsAgent = new https.Agent(agentOpts);
  // Made on first use: a run that only lists through the direct client never loads the SDK (sdk.ts).
  let client: S3Client | undefined;
  const sharedClient = (): S3Client => (client ??= newClient(cfg, creds, opts, httpAgent, httpsAgent, false));
  const perBucket = new Map<string, S3Client>();
  const bucketClient = (bucket: string): S3Client => {
    let c = perBucket.get(bucket);
    if (!c) perBucket.set(bucket, (c = newClient(cfg, creds, opts, httpAgent, httpsAgent, true)));
    return c;
  };
  const pathStyle = cfg.forcePathStyle ?? !!cfg.endpoint;
  const direct =
    opts.direct !== false && cfg.endpoint && pathStyle
      ? new DirectClient({
          endpoint: cfg.endpoint,
          region: cfg.region ?? "us-east-1",
          // Static keys as they are, without the SDK (a copy each time: nothing may change them);
          // otherwise the SDK's resolved default chain, with its caching and refresh.
          credentials: creds ? () => Promise.resolve({ ...creds }) : () => (sharedClient().config.credentials as () => Promise<AwsCredentialIdentity>)(),
          httpAgent,
          httpsAgent,
          requestTimeoutMs: opts.requestTimeoutMs,
          userAgent: USER_AGENT,
          count: (kind) => opts.counts[kind]++,
        })
      : undefined;
  const identity = `${serverIdentity(cfg)}|${cfg.region ?? ""}|${creds ? createHash("sha256").update(`${creds.accessKeyId}\0${creds.secretAccessKey}`).digest("hex").slice(0, 16) : "default-chain"}`;
  return {
    name,
    get client() {
      return sharedClient();
    },
    bucketClient,
    copyIdentity: identity,
    url: cfg.endpoint ?? `aws:${cfg.region}`,
    direct,
  };
}

function newClient(cfg: EndpointConfig, creds: ResolvedCredentials | undefined, opts: ClientOptions, httpAgent: http.Agent, httpsAgent: https.Agent, cacheMiddleware: boolean): S3Client {
  const client = new (sdk().S3Client)({
    ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
    region: cfg.region ?? "us-east-1",
    forcePathStyle: cfg.forcePathStyle ?? !!cfg.endpoint,
    maxAttempts: 3,
    retryMode: "standard",
    // S3-compatibles: no flexible checksums (extra CPU, and some servers reject them).
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    cacheMiddleware,
    // A copy: the SDK mutates credential objects it is given.
    ...(creds ? { credentials: { ...creds } } : {}),
    requestHandler: {
      httpAgent,
      httpsAgent,
      connectionTimeout: 10_000,
      socketTimeout: opts.requestTimeoutMs,
    },
  });
  // Count every HTTP attempt (this step runs once per retry attempt).
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const kind = KIND_OF[context.commandName ?? ""] ?? "OTHER";
      opts.counts[kind]++;
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "replicationRequestCounter" },
  );
  // DeleteObjects needs Content-MD5 on many S3-compatibles (the SDK now sends CRC32 instead).
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "DeleteObjectsCommand") {
        const req = args.request as { body?: unknown; headers: Record<string, string> };
        if (typeof req.body === "string" || req.body instanceof Uint8Array) {
          req.headers["content-md5"] = createHash("md5").update(req.body).digest("base64");
          for (const h of Object.keys(req.headers)) if (h.toLowerCase().startsWith("x-amz-checksum-") || h.toLowerCase() === "x-amz-sdk-checksum-algorithm") delete req.headers[h];
        }
      }
      return next(args);
    },
    { step: "build", priority: "low", name: "replicationDeleteMd5" },
  );
  // Per-request work the runner does not need: the SDK logger middleware (it runs the schema-based
  // log filters on every input and output, for a logger that discards them) and the user-agent
  // middleware (it rebuilds and escapes the same string on every request): a constant header instead.
  client.middlewareStack.remove("loggerMiddleware");
  client.middlewareStack.remove("getUserAgentMiddleware");
  client.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers["user-agent"] = USER_AGENT;
      return next(args);
    },
    { step: "build", priority: "low", name: "replicationUserAgent" },
  );
  // Multipart parts are Buffers, which SigV4 would otherwise hash with SHA-256 (about 1.3 s of CPU
  // per GiB). Like the streamed single PUT, parts go with UNSIGNED-PAYLOAD; the whole body is
  // still counted and, for plain-MD5 sources, MD5-verified by BodyGuard before the upload completes.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "UploadPartCommand") {
        const req = args.request as { headers: Record<string, string> };
        req.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      }
      return next(args);
    },
    { step: "build", priority: "low", name: "replicationUnsignedParts" },
  );
  return client;
}

export interface Location {
  ep: Endpoint;
  bucket: string;
  prefix: string;
}

export function describeLocation(l: Location): string {
  return `${l.ep.name}/${l.bucket}/${l.prefix}`;
}

// ---------------------------------------------------------------- errors and retries

export function errorCode(e: unknown): string {
  const x = e as { name?: string; Code?: string; code?: string };
  return x?.Code ?? x?.name ?? x?.code ?? "Error";
}

export function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

const RETRYABLE_CODES = new Set([
  "SlowDown",
  "Throttling",
  "ThrottlingException",
  "TooManyRequests",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "InternalError",
  "ServiceUnavailable",
  "TimeoutError",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ERR_STREAM_PREMATURE_CLOSE",
  "TruncatedBody",
  "AbortError",
]);

const AUTH_CODES = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "InvalidToken", "CredentialsProviderError"]);

export function isAuthError(e: unknown): boolean {
  return AUTH_CODES.has(errorCode(e)) || httpStatus(e) === 403;
}

export function isRetryable(e: unknown): boolean {
  const status = httpStatus(e);
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  if (RETRYABLE_CODES.has(errorCode(e))) return true;
  const msg = String((e as Error)?.message ?? "");
  return /socket hang up|ECONNRESET|EPIPE|ETIMEDOUT|aborted|premature close|timed? ?out|truncated/i.test(msg) && !isAuthError(e);
}

/** Retry `fn` with exponential backoff and full jitter on retryable errors. Once `signal` is
 *  aborted (SIGINT/SIGTERM) nothing is retried and a backoff pause ends at once. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, attempts: number, onRetry?: (e: unknown, attempt: number) => void, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (e) {
      if (signal?.aborted) throw signal.reason;
      if (attempt >= attempts || !isRetryable(e)) throw e;
      onRetry?.(e, attempt);
      const cap = Math.min(8000, 250 * 2 ** (attempt - 1));
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(t);
          signal?.removeEventListener("abort", done);
          r();
        };
        const t = setTimeout(done, Math.floor(Math.random() * cap) + 50);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }
}

// ---------------------------------------------------------------- listing

export function stripEtag(etag: string | undefined): string {
  return (etag ?? "").replace(/^W\//, "").replace(/^"+|"+$/g, "");
}

/** List every object under the location's prefix, keys made relative to it. Unsorted.
 *  Pages come from listPage (runner/store/list.ts: url-encoded keys, the direct path where the
 *  endpoint has one). */
export async function listLocation(loc: Location, attempts: number, accept: (relKey: string) => boolean, onPage?: (n: number) => void): Promise<Entry[]> {
  const out: Entry[] = [];
  let token: string | undefined;
  do {
    const page = await listPage(loc.ep, loc.bucket, { prefix: loc.prefix || undefined, continuationToken: token, maxKeys: 1000 }, attempts);
    for (const o of page.objects) {
      const rel = o.key.slice(loc.prefix.length);
      if (!accept(rel)) continue;
      out.push({ key: rel, size: o.size, etag: o.etag, mtime: o.mtime });
    }
    onPage?.(out.length);
    token = page.isTruncated ? page.nextContinuationToken : undefined;
  } while (token);
  return out;
}

// ---------------------------------------------------------------- transfers

export interface TransferOptions {
  multipartThreshold: number;
  partSize: number;
  partsInFlight: number;
  /** Server-side copies of objects larger than this use UploadPartCopy (default 5 GiB, CopyObject's limit). */
  multipartCopyThreshold?: number;
  /** Called with streamed byte increments (progress). */
  onBytes?: (n: number) => void;
  /** Aborted on SIGINT/SIGTERM: a streamed copy's GET and PUT are destroyed at once (the PUT never
   *  completes: BodyGuard holds back the last chunk). Server-side copies are short and finish. */
  signal?: AbortSignal;
  /** The bandwidth limit (runner/store/throttle.ts): awaited for every chunk of a streamed body. */
  throttle?: (n: number) => Promise<void>;
}

export interface TransferResult {
  /** Source (size, ETag) actually copied: may differ from the listing if it changed meanwhile. */
  srcSize: number;
  srcEtag: string;
  srcMtime: number;
  dstSize: number;
  dstEtag: string;
  bytes: number;
  method: "copy" | "stream" | "multipart" | "multipart-copy";
}

/**
 * Byte-count and MD5 guard for a streamed body. It holds back the last chunk until the stream has
 * ended and verified, so a truncated or corrupted body never reaches the server complete: the
 * upload is aborted instead of becoming a visible object.
 */
export class BodyGuard extends Transform {
  private held: Buffer | undefined;
  private count = 0;
  /** Where the HTTP client piped this body (its request), so a failure can end that request too. */
  private readonly sinks: Writable[] = [];
  private readonly hash;
  constructor(
    private readonly expected: number,
    private readonly md5hex: string | undefined,
    private readonly onBytes?: (n: number) => void,
    /** The bandwidth limit: each chunk passes once it resolves (backpressure slows the GET). */
    private readonly throttle?: (n: number) => Promise<void>,
  ) {
    super();
    this.hash = md5hex ? createHash("md5") : undefined;
  }
  override _transform(chunk: Buffer, enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.throttle) return this.pass(chunk, cb);
    this.throttle(chunk.length).then(
      () => this.pass(chunk, cb),
      (e: unknown) => cb(e as Error),
    );
  }
  private pass(chunk: Buffer, cb: TransformCallback): void {
    this.count += chunk.length;
    this.hash?.update(chunk);
    this.onBytes?.(chunk.length);
    if (this.count > this.expected) return cb(Object.assign(new Error(`body longer than Content-Length ${this.expected}`), { name: "TruncatedBody" }));
    const prev = this.held;
    this.held = chunk;
    if (prev) this.push(prev);
    cb();
  }
  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    const sink = destination as unknown as Writable;
    if (this.destroyed) {
      // Failed before the client started sending: never leave the request waiting for a body.
      process.nextTick(() => sink.destroy((this.errored as Error | null) ?? new Error("request body aborted")));
      return destination;
    }
    this.sinks.push(sink);
    return super.pipe(destination, options);
  }
  /** Fail the body and the requests it is being sent on (pipe() alone would leave them open). */
  abort(e: Error): void {
    this.destroy(e);
    for (const s of this.sinks) s.destroy(e);
  }
  override _flush(cb: TransformCallback): void {
    if (this.count !== this.expected) {
      return cb(Object.assign(new Error(`truncated body: got ${this.count} of ${this.expected} bytes`), { name: "TruncatedBody" }));
    }
    if (this.hash && this.md5hex && this.hash.digest("hex") !== this.md5hex.toLowerCase()) {
      return cb(Object.assign(new Error("body MD5 does not match its ETag"), { name: "TruncatedBody" }));
    }
    if (this.held) this.push(this.held);
    this.held = undefined;
    cb();
  }
}

function encodeCopySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replace(/%2F/g, "/")}`;
}

/** rclone-compatible user metadata: `mtime` (epoch seconds with fraction) and `md5chksum` (base64 MD5). */
export function rcloneMetadata(existing: Record<string, string> | undefined, lastModifiedMs: number, etag: string): Record<string, string> {
  const md: Record<string, string> = { ...(existing ?? {}) };
  if (!md.mtime && lastModifiedMs > 0) md.mtime = (lastModifiedMs / 1000).toFixed(3);
  if (!md.md5chksum && isPlainMd5(etag)) md.md5chksum = Buffer.from(etag, "hex").toString("base64");
  return md;
}

const FIVE_GIB = 5 * 1024 ** 3;
/** Part size floor of a multipart copy: parts are copied by the server, so larger parts only save
 *  requests (lowered to the copy threshold when that is configured lower). */
const COPY_PART_MIN = 64 * 1024 ** 2;

/** Copy one object. Same server and keys: server-side; otherwise GET streamed into PUT/multipart. */
export async function transferObject(src: Location, srcKey: string, listed: Entry, dst: Location, dstKey: string, opts: TransferOptions): Promise<TransferResult> {
  // A server-side copy's errors come from the destination's server (streamCopy tags its own).
  const onDst = (e: unknown): never => {
    throw tagEndpoint(e, dst.ep);
  };
  if (src.ep.swift || dst.ep.swift) {
    if (src.ep.swift && dst.ep.swift && src.ep.copyIdentity === dst.ep.copyIdentity && swiftCopyable(srcKey, listed)) return swiftServerCopy(src, srcKey, listed, dst, dstKey, opts).catch(onDst);
    return streamCopy(src, srcKey, dst, dstKey, opts);
  }
  if (src.ep.copyIdentity === dst.ep.copyIdentity) return serverSideCopy(src, srcKey, listed, dst, dstKey, opts).catch(onDst);
  return streamCopy(src, srcKey, dst, dstKey, opts);
}

/**
 * Whether a Swift→Swift copy in one account can be server-side (X-Copy-From): only for a listed
 * plain MD5 (an SLO would be copied into one object, limited to max_file_size, and its result's
 * ETag could not be checked against the listing), and not from names with "." / ".." segments
 * (Swift normalizes X-Copy-From: 404). The rest is streamed.
 */
function swiftCopyable(srcKey: string, listed: Entry): boolean {
  return isPlainMd5(listed.etag) && !srcKey.split("/").some((s) => s === "." || s === "..");
}

/**
 * Swift server-side copy. Swift's copy has no source condition: the copy's ETag (the MD5 of what
 * was copied) is compared with the listed one instead, and a source that changed meanwhile fails
 * with SourceChanged (nothing is recorded; the next run copies the new version). The source's
 * metadata (rclone's mtime included) is kept by Swift.
 */
async function swiftServerCopy(src: Location, srcKey: string, listed: Entry, dst: Location, dstKey: string, opts: TransferOptions): Promise<TransferResult> {
  const dstEtag = await dst.ep.swift!.copy(src.bucket, srcKey, dst.bucket, dstKey);
  if (dstEtag !== listed.etag) throw sourceChangedError(src, srcKey);
  opts.onBytes?.(listed.size);
  return { srcSize: listed.size, srcEtag: listed.etag, srcMtime: listed.mtime, dstSize: listed.size, dstEtag, bytes: 0, method: "copy" };
}

function isPreconditionFailed(e: unknown): boolean {
  return httpStatus(e) === 412 || errorCode(e) === "PreconditionFailed";
}

/**
 * Whether the source still is the listed version: HEAD with If-Match (the listed ETag) answered
 * with that ETag and the listed size; when the server answers 412 to that too, a plain HEAD whose
 * ETag and size equal the listing's (servers whose If-Match compares another ETag than they list). Used after
 * a 412 on a conditional server-side copy: Swift compares x-amz-copy-source-if-match with its own
 * large-object ETag, not the S3 ETag it lists, so a multipart-uploaded object fails the condition
 * although it is unchanged.
 */
export async function sourceUnchanged(src: Location, key: string, etag: string, size: number): Promise<boolean> {
  const c = src.ep.bucketClient(src.bucket);
  try {
    const h = await c.send(new (sdk().HeadObjectCommand)({ Bucket: src.bucket, Key: key, IfMatch: `"${etag}"` }));
    // The ETag is compared here too: a server that ignores If-Match on HEAD (s3rver) answers 200.
    return stripEtag(h.ETag) === etag && (h.ContentLength === undefined || h.ContentLength === size);
  } catch (e) {
    if (!isPreconditionFailed(e)) {
      if (httpStatus(e) === 404 || errorCode(e) === "NotFound" || errorCode(e) === "NoSuchKey") return false;
      throw e;
    }
  }
  const h = await c.send(new (sdk().HeadObjectCommand)({ Bucket: src.bucket, Key: key }));
  return stripEtag(h.ETag) === etag && (h.ContentLength === undefined || h.ContentLength === size);
}

function sourceChangedError(src: Location, key: string): Error {
  return Object.assign(new Error(`source ${src.bucket}/${key} changed while it was being copied server-side; the next run copies its new version`), { name: "SourceChanged", Code: "SourceChanged" });
}

async function serverSideCopy(src: Location, srcKey: string, listed: Entry, dst: Location, dstKey: string, opts: TransferOptions): Promise<TransferResult> {
  const c = dst.ep.bucketClient(dst.bucket);
  const copyThreshold = Math.min(opts.multipartCopyThreshold ?? FIVE_GIB, FIVE_GIB);
  if (listed.size <= copyThreshold) {
    const copy = (conditional: boolean) =>
      c.send(
        new (sdk().CopyObjectCommand)({
          Bucket: dst.bucket,
          Key: dstKey,
          CopySource: encodeCopySource(src.bucket, srcKey),
          MetadataDirective: "COPY",
          ...(conditional && listed.etag ? { CopySourceIfMatch: `"${listed.etag}"` } : {}),
        }),
      );
    let r;
    try {
      r = await copy(true);
    } catch (e) {
      // 412: verify the source, then copy without the condition. A source that really changed
      // keeps the 412 (never copied as if it were the listed version); one that changes between
      // the check and the copy is caught by a second check (the copy is then reported failed, so
      // no state records it and the next run copies the new version).
      if (!listed.etag || !isPreconditionFailed(e)) throw e;
      if (!(await sourceUnchanged(src, srcKey, listed.etag, listed.size))) return verifiedStream(src, srcKey, listed, dst, dstKey, opts, e);
      r = await copy(false);
      if (!(await sourceUnchanged(src, srcKey, listed.etag, listed.size))) throw sourceChangedError(src, srcKey);
    }
    opts.onBytes?.(listed.size);
    const dstEtag = stripEtag(r.CopyObjectResult?.ETag);
    return { srcSize: listed.size, srcEtag: listed.etag, srcMtime: listed.mtime, dstSize: listed.size, dstEtag, bytes: 0, method: "copy" };
  }
  // Above 5 GiB (or multipartCopyThresholdMiB): multipart copy. One HEAD for the headers (rare: only objects this large).
  // Through the source bucket's client: a cached client must only ever address its own bucket.
  let head;
  try {
    head = await src.ep.bucketClient(src.bucket).send(new (sdk().HeadObjectCommand)({ Bucket: src.bucket, Key: srcKey, ...(listed.etag ? { IfMatch: `"${listed.etag}"` } : {}) }));
  } catch (e) {
    // Swift: an object server-side copied from a multipart one lists its content MD5 but HEAD
    // answers (and If-Match compares) the multipart ETag it was copied with.
    if (!listed.etag || !isPreconditionFailed(e)) throw e;
    head = await src.ep.bucketClient(src.bucket).send(new (sdk().HeadObjectCommand)({ Bucket: src.bucket, Key: srcKey }));
    if (stripEtag(head.ETag) !== listed.etag || head.ContentLength !== listed.size) return verifiedStream(src, srcKey, listed, dst, dstKey, opts, e);
  }
  const size = head.ContentLength ?? listed.size;
  const partSize = Math.max(opts.partSize, Math.min(COPY_PART_MIN, copyThreshold), Math.ceil(size / 9000));
  // The headers are sent again (CreateMultipartUpload), so they must be sendable like a streamed copy's.
  const encoded: string[] = [];
  const h = sendableObjectHeaders(
    { ContentType: head.ContentType, CacheControl: head.CacheControl, ContentDisposition: head.ContentDisposition, ContentEncoding: head.ContentEncoding, ContentLanguage: head.ContentLanguage, metadata: head.Metadata },
    ["ContentType", "CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage"],
    encoded,
  );
  const mpu = await c
    .send(
      new (sdk().CreateMultipartUploadCommand)({
        Bucket: dst.bucket,
        Key: dstKey,
        ContentType: h.ContentType,
        CacheControl: h.CacheControl,
        ContentDisposition: h.ContentDisposition,
        ContentEncoding: h.ContentEncoding,
        ContentLanguage: h.ContentLanguage,
        Expires: head.Expires,
        Metadata: rcloneMetadata(h.metadata, head.LastModified?.getTime() ?? listed.mtime, stripEtag(head.ETag)),
      }),
    )
    .catch((e: unknown) => {
      throw headerSignatureError(e, encoded);
    });
  try {
    const parts: { PartNumber: number; ETag: string }[] = [];
    const n = Math.ceil(size / partSize);
    let next = 0;
    // The first failed part stops the others from starting new parts, and the upload is aborted
    // only after every part in flight has settled (a part finishing after the abort would be left
    // behind, still stored and billed, on some servers).
    let failed: { e: unknown } | undefined;
    // After a 412 on a part whose source HEAD still matches (Swift: see sourceUnchanged), the parts
    // go without the condition, and the source is checked again before the upload is completed.
    let unconditional: Promise<boolean> | undefined;
    const srcEtag = stripEtag(head.ETag);
    const worker = async () => {
      while (next < n && !failed) {
        const i = next++;
        const start = i * partSize;
        const end = Math.min(size, start + partSize) - 1;
        const part = (conditional: boolean) =>
          c.send(
            new (sdk().UploadPartCopyCommand)({
              Bucket: dst.bucket,
              Key: dstKey,
              UploadId: mpu.UploadId,
              PartNumber: i + 1,
              CopySource: encodeCopySource(src.bucket, srcKey),
              CopySourceRange: `bytes=${start}-${end}`,
              ...(conditional && head.ETag ? { CopySourceIfMatch: head.ETag } : {}),
            }),
          );
        try {
          let r;
          if (unconditional && (await unconditional)) r = await part(false);
          else {
            try {
              r = await part(true);
            } catch (e) {
              if (!srcEtag || !isPreconditionFailed(e)) throw e;
              unconditional ??= sourceUnchanged(src, srcKey, srcEtag, size);
              if (!(await unconditional)) throw e;
              r = await part(false);
            }
          }
          parts[i] = { PartNumber: i + 1, ETag: r.CopyPartResult!.ETag! };
          opts.onBytes?.(end - start + 1);
        } catch (e) {
          failed ??= { e };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.partsInFlight, n) }, worker));
    if (failed) throw failed.e;
    if (unconditional && !(await sourceUnchanged(src, srcKey, srcEtag, size))) throw sourceChangedError(src, srcKey);
    const done = await c.send(new (sdk().CompleteMultipartUploadCommand)({ Bucket: dst.bucket, Key: dstKey, UploadId: mpu.UploadId, MultipartUpload: { Parts: parts } }));
    return { srcSize: size, srcEtag: stripEtag(head.ETag), srcMtime: head.LastModified?.getTime() ?? listed.mtime, dstSize: size, dstEtag: stripEtag(done.ETag), bytes: 0, method: "multipart-copy" };
  } catch (e) {
    await c.send(new (sdk().AbortMultipartUploadCommand)({ Bucket: dst.bucket, Key: dstKey, UploadId: mpu.UploadId })).catch(() => undefined);
    throw e;
  }
}

/**
 * The last resort after a 412 whose HEAD cannot confirm the listed version (the server's HEAD ETag
 * is not the one it lists): stream the object, its body MD5-verified against the listed ETag, so a
 * source that changed is never copied as if it were the listed version (the upload is aborted and
 * the copy fails with SourceChanged). A listed multipart ETag cannot be verified: the 412 stands.
 */
async function verifiedStream(src: Location, srcKey: string, listed: Entry, dst: Location, dstKey: string, opts: TransferOptions, preconditionError: unknown): Promise<TransferResult> {
  if (!isPlainMd5(listed.etag)) throw preconditionError;
  try {
    const r = await streamCopy(src, srcKey, dst, dstKey, opts, listed.etag);
    return { ...r, srcEtag: listed.etag };
  } catch (e) {
    if (/MD5 does not match/.test(String((e as Error)?.message))) throw sourceChangedError(src, srcKey);
    throw e;
  }
}

/** What a streamed copy needs from the GET, whichever client made it. */
interface Fetched extends ObjectHeaders {
  body: Readable | undefined;
  size: number;
  etag: string;
  lastModified: number;
  /** Raw header (direct) or parsed Date (SDK): each is sent back the way its client expects. */
  expires?: string | Date;
  metadata?: Record<string, string>;
}

const WIRE_NAMES: Record<string, string> = { contentType: "content-type", cacheControl: "cache-control", contentDisposition: "content-disposition", contentEncoding: "content-encoding", contentLanguage: "content-language", expires: "expires", ContentType: "content-type", CacheControl: "cache-control", ContentDisposition: "content-disposition", ContentEncoding: "content-encoding", ContentLanguage: "content-language" };

/**
 * The source's headers as values that can be sent and signed (runner/store/headers.ts): printable
 * ASCII unchanged, anything else RFC 2047-encoded. `encoded` collects the wire names re-encoded.
 */
export function sendableObjectHeaders<T extends { metadata?: Record<string, string> }>(f: T, fields: readonly (keyof T & string)[], encoded: string[]): T {
  const std = sendableHeaders(Object.fromEntries(fields.map((k) => [k, typeof f[k] === "string" ? (f[k] as string) : undefined])), (k) => WIRE_NAMES[k] ?? k.toLowerCase(), encoded);
  const out = { ...f } as Record<string, unknown>;
  for (const k of fields) if (typeof f[k] === "string") out[k] = std[k];
  if (f.metadata) out.metadata = sendableHeaders(f.metadata, (k) => `x-amz-meta-${k.toLowerCase()}`, encoded);
  return out as T;
}

const FETCHED_FIELDS = ["contentType", "cacheControl", "contentDisposition", "contentEncoding", "contentLanguage", "expires"] as const;

/**
 * A 403 SignatureDoesNotMatch on a request that carried re-encoded source headers: the data, not
 * the credentials (which just worked for the listing and the GET), is the likely cause. Not an auth
 * error (no 403 status, another code), so the message does not send the user to the credentials.
 */
export function headerSignatureError(e: unknown, encoded: readonly string[]): unknown {
  if (encoded.length === 0 || errorCode(e) !== "SignatureDoesNotMatch") return e;
  const msg = String((e as Error)?.message ?? e).split("\n")[0];
  return Object.assign(
    new Error(`the server rejected the signature of a request carrying the source object's header(s) ${[...new Set(encoded)].join(", ")}, whose values have non-ASCII bytes (sent RFC 2047-encoded, see docs/runner.md "Header values"); the data, not the endpoint's credentials, is the cause (SignatureDoesNotMatch: ${msg})`),
    { name: "HeaderSignatureMismatch", Code: "HeaderSignatureMismatch", cause: e },
  );
}

async function fetchObject(src: Location, key: string, encoded: string[] = []): Promise<Fetched> {
  return sendableObjectHeaders(await fetchRaw(src, key), FETCHED_FIELDS, encoded);
}

async function fetchRaw(src: Location, key: string): Promise<Fetched> {
  if (src.ep.swift) {
    const g = await src.ep.swift.get(src.bucket, key);
    return { body: g.body, size: g.size, etag: g.etag, lastModified: g.lastModified, contentType: g.contentType, cacheControl: g.cacheControl, contentDisposition: g.contentDisposition, contentEncoding: g.contentEncoding, contentLanguage: g.contentLanguage, expires: g.expires, metadata: g.metadata };
  }
  if (src.ep.direct) {
    const g = await src.ep.direct.get(src.bucket, key);
    return { body: g.body, size: g.contentLength, etag: stripEtag(g.etag), lastModified: g.lastModified, contentType: g.contentType, cacheControl: g.cacheControl, contentDisposition: g.contentDisposition, contentEncoding: g.contentEncoding, contentLanguage: g.contentLanguage, expires: g.expires, metadata: g.metadata };
  }
  // No per-call options (an abortSignal would disable the bucket clients' cached middleware): a
  // failure destroys the GET body and, through BodyGuard.abort, the PUT request it is piped into.
  const got: GetObjectCommandOutput = await src.ep.bucketClient(src.bucket).send(new (sdk().GetObjectCommand)({ Bucket: src.bucket, Key: key }));
  return {
    body: got.Body as Readable | undefined,
    size: got.ContentLength ?? 0,
    etag: stripEtag(got.ETag),
    lastModified: got.LastModified?.getTime() ?? 0,
    contentType: got.ContentType,
    cacheControl: got.CacheControl,
    contentDisposition: got.ContentDisposition,
    contentEncoding: got.ContentEncoding,
    contentLanguage: got.ContentLanguage,
    expires: got.Expires,
    metadata: got.Metadata,
  };
}

/** Header values as received from an S3 server (bytes as latin1 characters) → their text (headerText). */
function asText(f: Fetched): Fetched {
  const out: Fetched = { ...f };
  for (const k of ["contentType", "cacheControl", "contentDisposition", "contentEncoding", "contentLanguage"] as const) {
    const v = f[k];
    if (typeof v === "string") out[k] = headerText(v);
  }
  if (f.metadata) out.metadata = Object.fromEntries(Object.entries(f.metadata).map(([k, v]) => [k, headerText(v)]));
  return out;
}

/** `expectMd5`: verify the body against this MD5 (hex) instead of the GET's ETag. */
async function streamCopy(src: Location, srcKey: string, dst: Location, dstKey: string, opts: TransferOptions, expectMd5?: string): Promise<TransferResult> {
  const encoded: string[] = [];
  // A Swift destination takes header values as text (sent as UTF-8, runner/store/swift.ts): no
  // RFC 2047; an S3 source's raw bytes (latin1 characters) are decoded to text first.
  let got: Fetched;
  try {
    got = dst.ep.swift ? (src.ep.swift ? await fetchRaw(src, srcKey) : asText(await fetchRaw(src, srcKey))) : await fetchObject(src, srcKey, encoded);
  } catch (e) {
    throw tagEndpoint(e, src.ep);
  }
  const body = got.body;
  const size = got.size;
  const srcEtag = got.etag;
  const md5hex = expectMd5 ?? (isPlainMd5(srcEtag) ? srcEtag : undefined);
  const guard = new BodyGuard(size, md5hex, opts.onBytes, opts.throttle);
  let bodyError: unknown;
  const fail = (e: unknown) => {
    if (bodyError) return;
    bodyError = e;
    guard.abort(e as Error);
    body?.destroy();
  };
  if (body) {
    body.on("error", fail);
    guard.on("error", fail);
    body.pipe(guard);
  } else guard.end();
  const onAbort = () => fail(opts.signal!.reason);
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener("abort", onAbort, { once: true });
  const metadata = rcloneMetadata(got.metadata, got.lastModified, md5hex ?? srcEtag);
  const expiresDate = got.expires instanceof Date ? got.expires : got.expires !== undefined && Number.isFinite(Date.parse(got.expires)) ? new Date(got.expires) : undefined;
  const headers = {
    ContentType: got.contentType,
    CacheControl: got.cacheControl,
    ContentDisposition: got.contentDisposition,
    ContentEncoding: got.contentEncoding,
    ContentLanguage: got.contentLanguage,
    Expires: expiresDate,
    Metadata: metadata,
  };
  const srcMtime = got.lastModified;
  const contentMd5 = md5hex ? Buffer.from(md5hex, "hex").toString("base64") : undefined;
  // The standard headers as text, as the plain-HTTP writers (direct PUT, Swift) send them.
  const textHeaders = {
    contentType: got.contentType,
    cacheControl: got.cacheControl,
    contentDisposition: got.contentDisposition,
    contentEncoding: got.contentEncoding,
    contentLanguage: got.contentLanguage,
    expires: got.expires instanceof Date ? got.expires.toUTCString() : got.expires,
  };
  try {
    if (dst.ep.swift) {
      // One PUT, or an SLO above the client's large-object threshold (it segments the stream).
      const r = await dst.ep.swift.put(dst.bucket, dstKey, guard, size, {
        ...(md5hex ? { md5: md5hex } : {}),
        ...textHeaders,
        metadata,
      });
      if (bodyError) throw bodyError;
      return { srcSize: size, srcEtag, srcMtime, dstSize: size, dstEtag: r.etag, bytes: size, method: r.largeObject ? "multipart" : "stream" };
    }
    if (size < opts.multipartThreshold) {
      let dstEtag: string;
      if (dst.ep.direct) {
        dstEtag = stripEtag(await dst.ep.direct.put(dst.bucket, dstKey, guard, size, {
          ...textHeaders,
          contentMd5,
          metadata,
        }));
      } else {
        const r = await dst.ep.bucketClient(dst.bucket).send(
          new (sdk().PutObjectCommand)({ Bucket: dst.bucket, Key: dstKey, Body: guard, ContentLength: size, ...(contentMd5 ? { ContentMD5: contentMd5 } : {}), ...headers }),
        );
        dstEtag = stripEtag(r.ETag);
      }
      if (bodyError) throw bodyError;
      return { srcSize: size, srcEtag, srcMtime, dstSize: size, dstEtag, bytes: size, method: "stream" };
    }
    const partSize = Math.max(opts.partSize, Math.ceil(size / 9000));
    const up = new (sdk().Upload)({
      client: dst.ep.bucketClient(dst.bucket),
      params: { Bucket: dst.bucket, Key: dstKey, Body: guard, ...headers },
      partSize,
      queueSize: opts.partsInFlight,
      leavePartsOnError: false,
    });
    const r = await up.done();
    if (bodyError) throw bodyError;
    return { srcSize: size, srcEtag, srcMtime, dstSize: size, dstEtag: stripEtag(r.ETag), bytes: size, method: "multipart" };
  } catch (e) {
    if (!bodyError) {
      body?.destroy();
      guard.abort(e as Error);
    }
    // An error of the GET body is the source's; any other the destination's.
    throw tagEndpoint(headerSignatureError(bodyError ?? e, encoded), bodyError ? src.ep : dst.ep);
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
  }
}

// ---------------------------------------------------------------- deletes

/**
 * Delete keys (absolute) in batches of 1000. Returns per-key failures. `largeObjects`: the keys
 * listed as Swift SLOs (ETag "…-slo"), deleted with their segments on a Swift endpoint.
 */
export async function deleteKeys(loc: Location, keys: string[], attempts: number, onDeleted?: (n: number) => void, largeObjects?: ReadonlySet<string>): Promise<{ key: string; message: string }[]> {
  if (loc.ep.swift) return swiftDeleteKeys(loc.ep.swift, loc.bucket, keys, attempts, onDeleted, largeObjects);
  const failures: { key: string; message: string }[] = [];
  let batchUnsupported = false;
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    if (!batchUnsupported) {
      try {
        const r = await withRetry(
          () => loc.ep.client.send(new (sdk().DeleteObjectsCommand)({ Bucket: loc.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
          attempts,
        );
        const errs = r.Errors ?? [];
        for (const e of errs) failures.push({ key: e.Key ?? "?", message: `${e.Code}: ${e.Message}` });
        onDeleted?.(batch.length - errs.length);
        continue;
      } catch (e) {
        const code = errorCode(e);
        if (code !== "NotImplemented" && httpStatus(e) !== 501) {
          for (const key of batch) failures.push({ key, message: `${code}: ${(e as Error).message}` });
          continue;
        }
        batchUnsupported = true;
      }
    }
    for (const key of batch) {
      try {
        await withRetry(() => loc.ep.client.send(new (sdk().DeleteObjectCommand)({ Bucket: loc.bucket, Key: key })), attempts);
        onDeleted?.(1);
      } catch (e) {
        failures.push({ key, message: `${errorCode(e)}: ${(e as Error).message}` });
      }
    }
  }
  return failures;
}

/** Swift has no batch delete on the native API (bulk delete is optional middleware): one DELETE per
 *  key, 16 at a time, each with retries. A missing object counts as deleted. An SLO is deleted
 *  with its segments (`?multipart-manifest=delete`). */
async function swiftDeleteKeys(sw: SwiftClient, container: string, keys: string[], attempts: number, onDeleted?: (n: number) => void, largeObjects?: ReadonlySet<string>): Promise<{ key: string; message: string }[]> {
  const failures: { key: string; message: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++];
      try {
        await withRetry(() => sw.delete(container, key, largeObjects?.has(key) ? { largeObject: "slo" } : {}), attempts);
        onDeleted?.(1);
      } catch (e) {
        failures.push({ key, message: `${errorCode(e)}: ${(e as Error).message}` });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, keys.length) }, worker));
  return failures;
}
