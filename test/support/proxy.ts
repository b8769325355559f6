// A small counting and fault-injecting HTTP proxy for S3 (path-style) in front of a real server.
//
// - Streams both ways (request and response bodies are piped, never buffered) and keeps connections
//   alive on both sides, so it adds little to what it measures.
// - Classifies every request by S3 operation kind (method + path + query) and counts them exactly.
// - Injects faults per kind and/or key pattern, with a probability, for the first N matches, or
//   always, using a seeded RNG so that a scenario is reproducible:
//   status 500/503 with an S3 XML error body, SlowDown throttling, connection resets, stalls,
//   truncated response bodies.
//
// Opt-in emulations of S3 behaviour that s3rver lacks (off by default; see ProxyOptions):
// - `awsMultipartEtags`: AWS's multipart ETags (`md5(part MD5s)-N`) instead of s3rver's
//   whole-content MD5, in CompleteMultipartUpload answers, listings and GET/HEAD headers.
// - `uploadPartCopy`: UploadPartCopy (s3rver answers NotImplemented), as a ranged GET from the server
//   plus an UploadPart of that body, made by the proxy itself with the given credentials.
//
// The Host header is forwarded unchanged, so SigV4 signatures made for the proxy's address still
// verify at the server.
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export const KINDS = [
  "LIST",
  "HEAD",
  "GET",
  "PUT",
  "COPY",
  "DELETE",
  "DELETE_MULTI",
  "MPU_CREATE",
  "MPU_PART",
  "MPU_PART_COPY",
  "MPU_COMPLETE",
  "MPU_ABORT",
  "BUCKET_OTHER",
  "OTHER",
] as const;
/** S3 request kinds. BUCKET_OTHER: bucket/service-level calls that are not listings (HeadBucket,
 *  CreateBucket, GetBucketLocation, ListBuckets, ListMultipartUploads…). OTHER: object-level
 *  sub-resources (ACL, tagging, ListParts…). */
export type Kind = (typeof KINDS)[number];

export interface Classified {
  kind: Kind;
  bucket: string;
  /** Decoded object key ("" for bucket-level requests). */
  key: string;
}

/** Query parameters that keep a bucket GET a plain listing (ListObjects v1/v2, ListObjectVersions). */
const LIST_PARAMS = new Set([
  "list-type",
  "prefix",
  "delimiter",
  "continuation-token",
  "max-keys",
  "marker",
  "start-after",
  "encoding-type",
  "fetch-owner",
  "versions",
  "key-marker",
  "version-id-marker",
  "x-id",
]);

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Classify a path-style S3 request. `headers` only needs `x-amz-copy-source`. */
export function classify(method: string, rawUrl: string, headers: http.IncomingHttpHeaders = {}): Classified {
  const qIndex = rawUrl.indexOf("?");
  const path = qIndex < 0 ? rawUrl : rawUrl.slice(0, qIndex);
  const query = new URLSearchParams(qIndex < 0 ? "" : rawUrl.slice(qIndex + 1));
  const has = (k: string) => query.has(k);
  const trimmed = path.replace(/^\/+/, "");
  const slash = trimmed.indexOf("/");
  const bucket = safeDecode(slash < 0 ? trimmed : trimmed.slice(0, slash));
  const key = slash < 0 ? "" : safeDecode(trimmed.slice(slash + 1));
  const m = method.toUpperCase();
  const copySource = headers["x-amz-copy-source"] !== undefined;

  if (bucket === "") return { kind: "BUCKET_OTHER", bucket, key };
  if (key === "") {
    // Bucket-level.
    if (m === "GET") {
      const keys = [...query.keys()];
      if (keys.every((k) => LIST_PARAMS.has(k))) return { kind: "LIST", bucket, key };
      return { kind: "BUCKET_OTHER", bucket, key };
    }
    if (m === "POST" && has("delete")) return { kind: "DELETE_MULTI", bucket, key };
    return { kind: "BUCKET_OTHER", bucket, key };
  }
  // Object-level.
  switch (m) {
    case "HEAD":
      return { kind: "HEAD", bucket, key };
    case "GET":
      if ([...query.keys()].every((k) => k === "versionId" || k === "partNumber" || k === "x-id" || k.startsWith("response-")))
        return { kind: "GET", bucket, key };
      return { kind: "OTHER", bucket, key };
    case "PUT":
      if (has("partNumber") && has("uploadId")) return { kind: copySource ? "MPU_PART_COPY" : "MPU_PART", bucket, key };
      if ([...query.keys()].some((k) => k !== "x-id")) return { kind: "OTHER", bucket, key }; // ?acl, ?tagging…
      return { kind: copySource ? "COPY" : "PUT", bucket, key };
    case "POST":
      if (has("uploads")) return { kind: "MPU_CREATE", bucket, key };
      if (has("uploadId")) return { kind: "MPU_COMPLETE", bucket, key };
      return { kind: "OTHER", bucket, key };
    case "DELETE":
      if (has("uploadId")) return { kind: "MPU_ABORT", bucket, key };
      if ([...query.keys()].some((k) => k !== "versionId" && k !== "x-id")) return { kind: "OTHER", bucket, key };
      return { kind: "DELETE", bucket, key };
    default:
      return { kind: "OTHER", bucket, key };
  }
}

export type Fault =
  /** Answer with this status and an S3 XML error body (default codes: 500 InternalError, 503 ServiceUnavailable).
   *  `forward: true` first lets the server perform the request, then replaces its answer. */
  | { type: "status"; status: number; code?: string; message?: string; forward?: boolean }
  /** 503 with Code SlowDown. */
  | { type: "slowdown"; forward?: boolean }
  /** Destroy the client socket. `when: "request"` (default): on arrival, nothing reaches the server.
   *  `when: "response"`: after the server answered, send the status line and headers and then destroy. */
  | { type: "reset"; when?: "request" | "response" }
  /** Accept the request and do not answer: for `ms` milliseconds then forward normally, or (no `ms`)
   *  never, until the client gives up or the proxy stops. */
  | { type: "stall"; ms?: number }
  /** Forward, send the server's headers (Content-Length included) and `fraction` (default 0.5) of the
   *  body, then destroy the socket. */
  | { type: "truncate"; fraction?: number };

export interface FaultRule {
  /** Kinds this rule applies to (default: all). */
  kinds?: Kind | Kind[];
  /** Matched against the decoded object key (bucket-level requests have key ""). */
  key?: RegExp | string;
  bucket?: string;
  /** Fire with this probability (uses the seeded RNG). */
  probability?: number;
  /** Fire for the first N matching requests only. */
  first?: number;
  /** Fire on every match (the default when neither probability nor first is given). */
  always?: boolean;
  fault: Fault;
}

export interface ProxyOptions {
  /** e.g. http://127.0.0.1:4568 */
  target: string;
  faults?: FaultRule[];
  /** RNG seed for probabilistic faults (default 1). */
  seed?: number;
  /** Port to listen on (default 0 = free port). */
  port?: number;
  /** Keep a log of every request (see `log()`). Default false. */
  record?: boolean;
  /**
   * Emulate AWS multipart ETags: an object completed by CompleteMultipartUpload through this proxy
   * gets the ETag `md5(concatenated binary part MD5s)-<parts>` (as on AWS; s3rver uses the MD5 of the
   * whole content) in the CompleteMultipartUpload answer, in listings and in GET/HEAD `ETag` headers.
   * Only answers are rewritten: conditional request headers (If-Match, x-amz-copy-source-if-match)
   * are signed by the client and cannot be, so callers must not rely on them with such ETags (the
   * UploadPartCopy emulation accepts both forms).
   */
  awsMultipartEtags?: boolean;
  /**
   * Emulate UploadPartCopy (PUT ?partNumber&uploadId with x-amz-copy-source), which s3rver does not
   * implement: the proxy GETs the source (the x-amz-copy-source-range, if any) from the server and
   * uploads that body as the part, then answers with CopyPartResult XML. x-amz-copy-source-if-match
   * is honoured (412 PreconditionFailed). The proxy signs its own two requests with these credentials
   * (the client's signature of the original request is not checked).
   */
  uploadPartCopy?: { accessKeyId: string; secretAccessKey: string; region?: string };
}

export interface LoggedRequest {
  kind: Kind;
  method: string;
  bucket: string;
  key: string;
  /** Fault type injected, if any. */
  fault?: Fault["type"];
  /** Status sent to the client (undefined if the socket was destroyed before a status). */
  status?: number;
}

export interface Proxy {
  readonly endpoint: string;
  readonly port: number;
  /** Requests received per kind since start or the last reset (faulted requests included). */
  counts(): Record<Kind, number>;
  /** Faults injected per fault type since start or the last reset. */
  faultCounts(): Record<Fault["type"], number>;
  /** Total of all counts. */
  total(): number;
  /** The request log (only with `record: true`). */
  log(): LoggedRequest[];
  /** Zero the counters and the log (fault rules keep their own "first N" progress; see setFaults). */
  reset(): void;
  /** Replace the fault rules (and their "first N" progress); optionally reseed the RNG. */
  setFaults(rules: FaultRule[], seed?: number): void;
  stop(): Promise<void>;
}

/** mulberry32: small, fast, good enough for fault dice. */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function zeroCounts(): Record<Kind, number> {
  return Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
}
function zeroFaults(): Record<Fault["type"], number> {
  return { status: 0, slowdown: 0, reset: 0, stall: 0, truncate: 0 };
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "proxy-authenticate",
  "proxy-authorization",
]);

function forwardHeaders(raw: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = raw[i + 1];
    else out[name] = Array.isArray(prev) ? [...prev, raw[i + 1]] : [prev, raw[i + 1]];
  }
  return out;
}

let requestSeq = 0;
function errorXml(code: string, message: string, resource: string): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const id = `PROXY${(++requestSeq).toString(16).padStart(12, "0").toUpperCase()}`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message>` +
    `<Resource>${esc(resource)}</Resource><RequestId>${id}</RequestId></Error>`
  );
}

const DEFAULT_CODES: Record<number, [string, string]> = {
  500: ["InternalError", "We encountered an internal error. Please try again."],
  502: ["BadGateway", "Bad gateway."],
  503: ["ServiceUnavailable", "Please reduce your request rate."],
  504: ["GatewayTimeout", "Gateway timeout."],
  403: ["AccessDenied", "Access Denied"],
  404: ["NoSuchKey", "The specified key does not exist."],
};

export async function startProxy(opts: ProxyOptions): Promise<Proxy> {
  const target = new URL(opts.target);
  const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
  let counts = zeroCounts();
  let faults = zeroFaults();
  let log: LoggedRequest[] = [];
  let rules: { rule: FaultRule; matched: number }[] = [];
  let rng = seededRng(opts.seed ?? 1);
  const sockets = new Set<Socket>();
  const stalled = new Set<NodeJS.Timeout>();
  /** awsMultipartEtags: bucket\0key → the server's ETag of the object and its AWS-style ETag. */
  const mpEtags = new Map<string, { server: string; aws: string }>();
  const awsEtagOf = (bucket: string, key: string, serverEtag: string): string | undefined => {
    const m = mpEtags.get(`${bucket}\0${key}`);
    return m && m.server === unquote(serverEtag) ? m.aws : undefined;
  };
  let copyClient: Promise<PartCopyClient> | undefined;

  const setFaults = (next: FaultRule[], seed?: number) => {
    rules = next.map((rule) => ({ rule, matched: 0 }));
    if (seed !== undefined) rng = seededRng(seed);
  };
  setFaults(opts.faults ?? []);

  const pickFault = (c: Classified): Fault | undefined => {
    for (const r of rules) {
      const { rule } = r;
      if (rule.kinds !== undefined) {
        const ks = Array.isArray(rule.kinds) ? rule.kinds : [rule.kinds];
        if (!ks.includes(c.kind)) continue;
      }
      if (rule.bucket !== undefined && rule.bucket !== c.bucket) continue;
      if (rule.key !== undefined) {
        const re = typeof rule.key === "string" ? new RegExp(rule.key) : rule.key;
        re.lastIndex = 0;
        if (!re.test(c.key)) continue;
      }
      r.matched++;
      let fire: boolean;
      if (rule.always) fire = true;
      else if (rule.first !== undefined) {
        fire = r.matched <= rule.first;
        if (fire && rule.probability !== undefined) fire = rng() < rule.probability;
      } else if (rule.probability !== undefined) fire = rng() < rule.probability;
      else fire = true;
      if (fire) return rule.fault;
    }
    return undefined;
  };

  const sendError = (req: http.IncomingMessage, res: http.ServerResponse, entry: LoggedRequest, status: number, code: string, message: string) => {
    const body = req.method === "HEAD" ? "" : errorXml(code, message, req.url ?? "/");
    entry.status = status;
    // Drain whatever the client still sends so the connection can be reused.
    req.resume();
    res.writeHead(status, {
      "Content-Type": "application/xml",
      "Content-Length": Buffer.byteLength(body),
      "x-amz-request-id": "PROXYFAULT",
    });
    res.end(body);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, expectContinue: boolean) => {
    const c = classify(req.method ?? "GET", req.url ?? "/", req.headers);
    counts[c.kind]++;
    const entry: LoggedRequest = { kind: c.kind, method: req.method ?? "", bucket: c.bucket, key: c.key };
    if (opts.record) log.push(entry);
    const fault = pickFault(c);
    if (fault) {
      faults[fault.type]++;
      entry.fault = fault.type;
    }

    if (fault?.type === "reset" && (fault.when ?? "request") === "request") {
      req.socket.destroy();
      return;
    }
    if (fault?.type === "stall" && fault.ms === undefined) {
      // Never answer; the socket is destroyed when the client gives up or on stop().
      return;
    }
    if ((fault?.type === "status" || fault?.type === "slowdown") && !fault.forward) {
      const [status, code, message] = errorParts(fault);
      sendError(req, res, entry, status, code, message);
      return;
    }

    if (opts.awsMultipartEtags && (c.kind === "PUT" || c.kind === "COPY" || c.kind === "DELETE")) mpEtags.delete(`${c.bucket}\0${c.key}`);
    // awsMultipartEtags: the part ETags the client lists in CompleteMultipartUpload.
    const completeBody: Buffer[] | undefined = opts.awsMultipartEtags && c.kind === "MPU_COMPLETE" ? [] : undefined;

    const forward = () => {
      if (req.socket.destroyed) return;
      if (c.kind === "MPU_PART_COPY" && opts.uploadPartCopy) {
        copyClient ??= makePartCopyClient(opts.target, opts.uploadPartCopy);
        void emulatePartCopy(req, res, c, entry, fault, copyClient, opts.awsMultipartEtags ? awsEtagOf : undefined, sendError);
        return;
      }
      const headers = forwardHeaders(req.rawHeaders);
      const upstream = http.request({
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent: upstreamAgent,
      });
      upstream.on("continue", () => {
        if (expectContinue && !res.headersSent) res.writeContinue();
      });
      upstream.on("error", () => {
        // The server is down or dropped us: the client sees what it would without a proxy, a reset.
        req.socket.destroy();
      });
      req.on("aborted", () => upstream.destroy());
      res.on("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.on("response", (up) => {
        if (fault && (fault.type === "status" || fault.type === "slowdown")) {
          up.resume();
          up.on("end", () => {
            const [status, code, message] = errorParts(fault);
            sendError(req, res, entry, status, code, message);
          });
          return;
        }
        const outHeaders = forwardHeaders(up.rawHeaders);
        if (fault?.type === "reset") {
          // when: "response": status line and headers, then nothing.
          res.writeHead(up.statusCode ?? 502, outHeaders);
          entry.status = up.statusCode;
          res.flushHeaders();
          up.destroy();
          setImmediate(() => req.socket.destroy());
          return;
        }
        if (fault?.type === "truncate") {
          const total = Number(up.headers["content-length"] ?? NaN);
          const fraction = fault.fraction ?? 0.5;
          let limit = Number.isFinite(total) ? Math.floor(total * fraction) : -1;
          res.writeHead(up.statusCode ?? 502, outHeaders);
          entry.status = up.statusCode;
          const cut = () => {
            up.destroy();
            req.socket.destroy();
          };
          if (req.method === "HEAD" || limit === 0) {
            res.flushHeaders();
            setImmediate(cut);
            return;
          }
          let sent = 0;
          let done = false;
          up.on("data", (chunk: Buffer) => {
            if (done) return;
            if (limit < 0) limit = Math.max(1, Math.floor(chunk.length * fraction)); // unknown length: half the first chunk
            const room = limit - sent;
            if (chunk.length < room) {
              sent += chunk.length;
              if (!res.write(chunk)) {
                up.pause();
                res.once("drain", () => up.resume());
              }
              return;
            }
            done = true;
            up.pause();
            res.write(chunk.subarray(0, room), () => setImmediate(cut));
          });
          up.on("end", () => {
            if (!done) {
              done = true;
              cut();
            }
          });
          return;
        }
        if (opts.awsMultipartEtags && (up.statusCode ?? 0) < 300) {
          if (c.kind === "GET" || c.kind === "HEAD") {
            const name = Object.keys(outHeaders).find((h) => h.toLowerCase() === "etag");
            const aws = name && awsEtagOf(c.bucket, c.key, String(outHeaders[name]));
            if (name && aws) outHeaders[name] = `"${aws}"`;
          } else if (completeBody || (c.kind === "LIST" && mpEtags.size > 0)) {
            // Small XML answers: buffered, rewritten, sent with the new length.
            const chunks: Buffer[] = [];
            up.on("data", (d: Buffer) => chunks.push(d));
            up.on("error", () => req.socket.destroy());
            up.on("end", () => {
              let xml = Buffer.concat(chunks).toString("utf8");
              if (completeBody) {
                const aws = awsMultipartEtag(Buffer.concat(completeBody).toString("utf8"));
                const server = /<ETag>([^<]*)<\/ETag>/.exec(xml)?.[1];
                if (aws && server !== undefined) {
                  mpEtags.set(`${c.bucket}\0${c.key}`, { server: unquote(xmlUnescape(server)), aws });
                  xml = xml.replace(/<ETag>[^<]*<\/ETag>/, `<ETag>&quot;${aws}&quot;</ETag>`);
                }
              } else {
                const urlKeys = new URLSearchParams((req.url ?? "").split("?")[1] ?? "").get("encoding-type") === "url";
                xml = xml.replace(/<Contents>[\s\S]*?<\/Contents>/g, (block) => {
                  const rawKey = /<Key>([^<]*)<\/Key>/.exec(block)?.[1];
                  if (rawKey === undefined) return block;
                  const key = urlKeys ? safeDecode(xmlUnescape(rawKey)) : xmlUnescape(rawKey);
                  return block.replace(/<ETag>([^<]*)<\/ETag>/, (whole, e: string) => {
                    const aws = awsEtagOf(c.bucket, key, xmlUnescape(e));
                    return aws ? `<ETag>&quot;${aws}&quot;</ETag>` : whole;
                  });
                });
              }
              const body = Buffer.from(xml, "utf8");
              for (const h of Object.keys(outHeaders)) if (h.toLowerCase() === "content-length") delete outHeaders[h];
              outHeaders["Content-Length"] = String(body.length);
              res.writeHead(up.statusCode ?? 502, outHeaders);
              entry.status = up.statusCode;
              res.end(body);
            });
            return;
          }
        }
        res.writeHead(up.statusCode ?? 502, outHeaders);
        entry.status = up.statusCode;
        up.pipe(res);
        up.on("error", () => req.socket.destroy());
      });
      if (completeBody) req.on("data", (d: Buffer) => completeBody.push(d));
      req.pipe(upstream);
    };

    if (fault?.type === "stall") {
      const t = setTimeout(() => {
        stalled.delete(t);
        forward();
      }, fault.ms);
      stalled.add(t);
      return;
    }
    forward();
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => handle(req, res, false));
  server.on("checkContinue", (req, res) => handle(req, res, true));
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 70_000;
  server.requestTimeout = 0;
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    counts: () => ({ ...counts }),
    faultCounts: () => ({ ...faults }),
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    log: () => [...log],
    reset() {
      counts = zeroCounts();
      faults = zeroFaults();
      log = [];
    },
    setFaults,
    async stop() {
      if (copyClient) (await copyClient).destroy();
      for (const t of stalled) clearTimeout(t);
      stalled.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      upstreamAgent.destroy();
      await closed;
    },
  };
}

function errorParts(fault: Extract<Fault, { type: "status" | "slowdown" }>): [number, string, string] {
  if (fault.type === "slowdown") return [503, "SlowDown", "Please reduce your request rate."];
  const [code, message] = DEFAULT_CODES[fault.status] ?? ["InternalError", "Injected fault."];
  return [fault.status, fault.code ?? code, fault.message ?? message];
}

/** Compact "GET 2, PUT 2" rendering of non-zero counts. */
export function formatCounts(c: Partial<Record<Kind, number>>): string {
  return KINDS.filter((k) => (c[k] ?? 0) > 0)
    .map((k) => `${k} ${c[k]}`)
    .join(", ");
}

// ---------------------------------------------------------------- emulations (opt-in)

function unquote(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"+|"+$/g, "");
}

function xmlUnescape(s: string): string {
  return s.replace(/&(quot|amp|lt|gt|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (_, name: string, dec?: string, hex?: string) =>
    dec ? String.fromCodePoint(Number(dec)) : hex ? String.fromCodePoint(parseInt(hex, 16)) : ({ quot: '"', amp: "&", lt: "<", gt: ">", apos: "'" } as Record<string, string>)[name],
  );
}

/** AWS's ETag of a multipart object from the CompleteMultipartUpload request body: the MD5 of the
 *  concatenated binary MD5s of the parts, "-", the number of parts. Undefined if a part ETag is not
 *  an MD5 (then nothing is rewritten). */
export function awsMultipartEtag(completeXml: string): string | undefined {
  const parts: { n: number; md5: string }[] = [];
  for (const m of completeXml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const etag = unquote(xmlUnescape(/<ETag>([^<]*)<\/ETag>/.exec(m[1])?.[1] ?? ""));
    const n = Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1])?.[1]);
    if (!/^[0-9a-f]{32}$/i.test(etag) || !Number.isInteger(n)) return undefined;
    parts.push({ n, md5: etag });
  }
  if (parts.length === 0) return undefined;
  parts.sort((p, q) => p.n - q.n);
  const h = createHash("md5");
  for (const p of parts) h.update(Buffer.from(p.md5, "hex"));
  return `${h.digest("hex")}-${parts.length}`;
}

interface PartCopyClient {
  getRange(bucket: string, key: string, range: string | undefined): Promise<{ body: Buffer; etag: string; lastModified?: Date }>;
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string>;
  destroy(): void;
}

/** The proxy's own S3 client for the UploadPartCopy emulation, straight to the server (uncounted). */
async function makePartCopyClient(target: string, creds: { accessKeyId: string; secretAccessKey: string; region?: string }): Promise<PartCopyClient> {
  const { S3Client, GetObjectCommand, UploadPartCommand } = await import("@aws-sdk/client-s3");
  const client = new S3Client({
    endpoint: target,
    region: creds.region ?? "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return {
    async getRange(bucket, key, range) {
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }));
      return { body: Buffer.from(await r.Body!.transformToByteArray()), etag: unquote(r.ETag ?? ""), lastModified: r.LastModified };
    },
    async uploadPart(bucket, key, uploadId, partNumber, body) {
      const r = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: body.length }));
      return unquote(r.ETag ?? "");
    },
    destroy: () => client.destroy(),
  };
}

type SendError = (req: http.IncomingMessage, res: http.ServerResponse, entry: LoggedRequest, status: number, code: string, message: string) => void;

async function emulatePartCopy(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  c: Classified,
  entry: LoggedRequest,
  fault: Fault | undefined,
  clientP: Promise<PartCopyClient>,
  awsEtagOf: ((bucket: string, key: string, serverEtag: string) => string | undefined) | undefined,
  sendError: SendError,
): Promise<void> {
  req.resume();
  try {
    const query = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
    const uploadId = query.get("uploadId") ?? "";
    const partNumber = Number(query.get("partNumber"));
    // x-amz-copy-source: [/]bucket/key[?versionId=…], URL-encoded.
    const rawSource = String(req.headers["x-amz-copy-source"] ?? "").split("?")[0].replace(/^\/+/, "");
    const slash = rawSource.indexOf("/");
    if (slash <= 0) return sendError(req, res, entry, 400, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
    const srcBucket = safeDecode(rawSource.slice(0, slash));
    const srcKey = safeDecode(rawSource.slice(slash + 1));
    const range = req.headers["x-amz-copy-source-range"] as string | undefined;
    if (range !== undefined && !/^bytes=\d+-\d+$/.test(range)) return sendError(req, res, entry, 400, "InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last");
    const client = await clientP;
    const src = await client.getRange(srcBucket, srcKey, range);
    const ifMatch = req.headers["x-amz-copy-source-if-match"] as string | undefined;
    if (ifMatch !== undefined) {
      const want = unquote(ifMatch);
      const have = [src.etag, awsEtagOf?.(srcBucket, srcKey, src.etag)].filter(Boolean);
      if (want !== "*" && !have.includes(want)) return sendError(req, res, entry, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
    }
    const etag = await client.uploadPart(c.bucket, c.key, uploadId, partNumber, src.body);
    if (fault && (fault.type === "status" || fault.type === "slowdown")) {
      const [status, code, message] = errorParts(fault);
      return sendError(req, res, entry, status, code, message);
    }
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<CopyPartResult><LastModified>${new Date().toISOString()}</LastModified><ETag>&quot;${etag}&quot;</ETag></CopyPartResult>`;
    entry.status = 200;
    res.writeHead(200, { "Content-Type": "application/xml", "Content-Length": Buffer.byteLength(body), "x-amz-request-id": "PROXYPARTCOPY" });
    res.end(body);
  } catch (e) {
    const x = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = x.$metadata?.httpStatusCode ?? 500;
    sendError(req, res, entry, status, x.name ?? "InternalError", x.message ?? String(e));
  }
}
