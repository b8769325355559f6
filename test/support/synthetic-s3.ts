// A test-only S3 endpoint whose buckets hold millions of keys computed from a formula
// (test/support/synthetic-keyspace.ts), for benchmarking listings at 0.1M–10M keys per side
// without storing objects. node:http only.
//
// S3 subset (path-style, no signature checks, keep-alive):
// - GET /<bucket>?list-type=2 with prefix, delimiter, start-after, continuation-token, max-keys
//   (default and cap 1000), encoding-type=url, answered with AWS's XML; `delayMs` delays each one,
//   `cacheListBytes` answers repeated LISTs from the bytes rendered before.
// - GET and HEAD /<bucket>/<key>: body `${key}\n${version}\n`, ETag = md5 of it.
// - 404 NoSuchKey / NoSuchBucket; anything else 501 NotImplemented.
// - GET /__stats (request counts by kind as JSON), GET /__stats/list-arrivals (when each LIST came,
//   Date.now()), POST /__stats/reset; not counted themselves.
//
// Also a process of its own, so that benchmarks keep its CPU out of the measured process:
//   node --import tsx test/support/synthetic-s3.ts --config '<json of SyntheticOptions>'
// prints {"port":N,"endpoint":"http://127.0.0.1:N"} on stdout once listening and serves until
// SIGTERM/SIGINT. spawnSyntheticS3() does exactly that.
import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Keyspace, listPage, type Entry, type SyntheticBucket } from "./synthetic-keyspace.js";

export { compareUtf8, type SyntheticBucket } from "./synthetic-keyspace.js";

export interface SyntheticOptions {
  buckets: Record<string, SyntheticBucket>;
  /** Delay of every LIST response (simulates a remote region); other requests are not delayed. */
  delayMs?: number;
  /**
   * Keep rendered LIST responses up to this many bytes (default 0: none), by bucket and query, and
   * answer a repeated LIST from them. The buckets never change, so the bytes are the same. For
   * latency benchmarks: a remote endpoint's work costs the runner's machine nothing, while this
   * server renders a 1,000-key page in about 2 ms of CPU on the same two cores.
   */
  cacheListBytes?: number;
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface SyntheticServer {
  endpoint: string;
  port: number;
  /** Requests served, by kind: LIST, GET, HEAD, OTHER (and LIST_CACHED, the LISTs answered from the
   *  page cache, when cacheListBytes is set). Async so that the in-process and the
   *  child-process variants share this interface. */
  counts(): Promise<Record<string, number>>;
  /** When each LIST arrived (Date.now(), the machine's clock, so comparable across processes),
   *  since the start or resetCounts(). */
  listArrivals(): Promise<number[]>;
  resetCounts(): Promise<void>;
  stop(): Promise<void>;
}

const NS = "http://s3.amazonaws.com/doc/2006-03-01/";
const NON_ASCII = /[^\x00-\x7f]/;
const isAsciiString = (s: string): boolean => !NON_ASCII.test(s);
const KINDS = ["LIST", "GET", "HEAD", "OTHER"] as const;
type Kind = (typeof KINDS)[number];
const LIST_PARAMS = new Set(["list-type", "prefix", "delimiter", "continuation-token", "max-keys", "start-after", "encoding-type", "fetch-owner", "x-id"]);

/** Characters XML 1.0 cannot carry, even escaped: controls other than \t \n \r, U+FFFE/U+FFFF and
 *  lone surrogates. S3 answers 500 InternalError for a page with such a key unless encoding-type=url. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
class NotXml extends Error {}

const XML_ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
function xmlEscape(s: string): string {
  if (NOT_XML.test(s)) throw new NotXml(s);
  return s.replace(/[&<>"']/g, (c) => XML_ESC[c]);
}

/** encoding-type=url as AWS does it (and MinIO copies it): percent-encoded UTF-8 bytes, uppercase
 *  hex, space as "+", only A–Z a–z 0–9 - _ . * and / kept ("~" is encoded). Clients decode with
 *  unquote_plus (botocore) or url.QueryUnescape (rclone). Lone surrogates throw (→ 500). */
export function s3UrlEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, "+")
    .replace(/%2F/g, "/")
    .replace(/[!~'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const errorXml = (code: string, message: string, resource: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
  `<Resource>${xmlEscape(resource.replace(NOT_XML, "\uFFFD"))}</Resource><RequestId>synthetic</RequestId></Error>`;

class S3Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

interface Bucket {
  ks: Keyspace;
  /** The bucket's formula-key prefix, encoded once per encoding (formula tails need no encoding);
   *  undefined if it cannot be encoded (then every formula key goes through the encoder, and fails). */
  prefixXml?: string;
  prefixUrl?: string;
  /** UTF-8 bytes minus UTF-16 length of the prefix: a formula body's size is body.length plus this. */
  formulaBytes: number;
}

/** The ListBucketResult XML of one page. Throws NotXml for a key XML cannot carry. */
function listXml(name: string, b: Bucket, q: URLSearchParams): string {
  const url = q.has("encoding-type");
  if (url && q.get("encoding-type") !== "url") throw new S3Error(400, "InvalidArgument", "Invalid Encoding Method specified in Request");
  const enc = url ? s3UrlEncode : xmlEscape;
  const mk = q.get("max-keys");
  if (mk !== null && !/^\d+$/.test(mk)) throw new S3Error(400, "InvalidArgument", "Provided max-keys not an integer or within integer range");
  const maxKeys = mk === null ? 1000 : Math.min(Number(mk), 1000);
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") ?? "";
  const startAfter = q.get("start-after");
  const token = q.get("continuation-token");
  let after: { key: string; skipPrefix: boolean } | undefined;
  if (token !== null) {
    // The token is base64url of "k<last key>" (resume after it) or "p<common prefix>" (after all
    // keys under it). It takes precedence over start-after, as in S3.
    const t = Buffer.from(token, "base64url").toString("utf8");
    if (token === "" || (t[0] !== "k" && t[0] !== "p")) throw new S3Error(400, "InvalidArgument", "The continuation token provided is incorrect");
    after = { key: t.slice(1), skipPrefix: t[0] === "p" };
  } else if (startAfter) after = { key: startAfter, skipPrefix: false };

  const page = listPage(b.ks, { prefix, delimiter, maxKeys, after });
  const nextToken = page.next && Buffer.from((page.next.skipPrefix ? "p" : "k") + page.next.key, "utf8").toString("base64url");
  const contents = page.contents.slice();
  if (b.ks.unordered) shuffle(contents);

  let x = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="${NS}"><Name>${xmlEscape(name)}</Name><Prefix>${enc(prefix)}</Prefix>`;
  if (startAfter !== null) x += `<StartAfter>${enc(startAfter)}</StartAfter>`;
  if (token !== null) x += `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>`;
  if (nextToken) x += `<NextContinuationToken>${nextToken}</NextContinuationToken>`;
  x += `<KeyCount>${contents.length + page.commonPrefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>`;
  if (delimiter) x += `<Delimiter>${enc(delimiter)}</Delimiter>`;
  if (url) x += `<EncodingType>url</EncodingType>`;
  x += `<IsTruncated>${page.next !== undefined}</IsTruncated>`;
  const parts: string[] = [x];
  for (const e of contents) {
    const body = b.ks.body(e);
    const pre = url ? b.prefixUrl : b.prefixXml;
    // Formula keys are the bucket prefix plus plain ASCII: only the (pre-encoded) prefix may need encoding.
    const key = e.i < 0 || pre === undefined ? enc(e.key) : pre === b.ks.prefix ? e.key : pre + e.key.slice(b.ks.prefix.length);
    parts.push(
      `<Contents><Key>${key}</Key><LastModified>${b.ks.lastModified(e)}</LastModified><ETag>&quot;${b.ks.etagOf(e, body)}&quot;</ETag>` +
        `<Size>${e.i < 0 ? Buffer.byteLength(body) : b.formulaBytes + body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    );
  }
  for (const cp of page.commonPrefixes) parts.push(`<CommonPrefixes><Prefix>${enc(cp)}</Prefix></CommonPrefixes>`);
  parts.push("</ListBucketResult>");
  return parts.join("");
}

/** Deterministic Fisher–Yates (mulberry32 seeded by the page's first key); never the identity. */
function shuffle(a: Entry[]): void {
  if (a.length < 2) return;
  let seed = 0x9e3779b9;
  for (let k = 0; k < a[0].key.length; k++) seed = Math.imul(seed ^ a[0].key.charCodeAt(k), 0x01000193);
  const rnd = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const first = a[0];
  for (let k = a.length - 1; k > 0; k--) {
    const j = Math.floor(rnd() * (k + 1));
    [a[k], a[j]] = [a[j], a[k]];
  }
  if (a[0] === first) [a[0], a[1]] = [a[1], a[0]];
}

export async function startSyntheticS3(opts: SyntheticOptions): Promise<SyntheticServer> {
  const buckets = new Map<string, Bucket>();
  for (const [name, def] of Object.entries(opts.buckets)) {
    const ks = new Keyspace(def);
    const attempt = (f: (s: string) => string): string | undefined => {
      try {
        return f(ks.prefix);
      } catch {
        return undefined;
      }
    };
    buckets.set(name, { ks, prefixXml: attempt(xmlEscape), prefixUrl: attempt(s3UrlEncode), formulaBytes: Buffer.byteLength(ks.prefix) - ks.prefix.length });
  }
  const counts: Record<Kind, number> = { LIST: 0, GET: 0, HEAD: 0, OTHER: 0 };
  let listArrivals: number[] = [];
  const delayMs = opts.delayMs ?? 0;
  const cacheMax = opts.cacheListBytes ?? 0;
  const listCache = new Map<string, Buffer>();
  let cacheBytes = 0;
  let cacheHits = 0;
  const stats = (): Record<string, number> => (cacheMax ? { ...counts, LIST_CACHED: cacheHits } : { ...counts });
  const resetStats = (): void => {
    for (const k of KINDS) counts[k] = 0;
    listArrivals = [];
    cacheHits = 0;
  };
  const cachePut = (k: string, buf: Buffer): void => {
    if (buf.length > cacheMax) return;
    // Oldest first: a listing that does not fit is cycled through, and then nothing is kept long.
    for (const [old, ob] of listCache) {
      if (cacheBytes + buf.length <= cacheMax) break;
      listCache.delete(old);
      cacheBytes -= ob.length;
    }
    listCache.set(k, buf);
    cacheBytes += buf.length;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    req.resume(); // request bodies are never used; drain them so the connection stays reusable
    const raw = req.url ?? "/";
    const qAt = raw.indexOf("?");
    const path = qAt < 0 ? raw : raw.slice(0, qAt);
    const q = new URLSearchParams(qAt < 0 ? "" : raw.slice(qAt + 1));
    const method = req.method ?? "GET";
    const sendBytes = (status: number, buf: Buffer, headers: http.OutgoingHttpHeaders = {}): void => {
      res.writeHead(status, { "Content-Type": "application/xml", "Content-Length": buf.length, "x-amz-request-id": "synthetic", ...headers });
      res.end(method === "HEAD" ? undefined : buf);
    };
    // Listing pages are mostly ASCII: a one-byte copy instead of UTF-8 encoding a 200 KB string.
    const bytesOf = (body: string): Buffer => (isAsciiString(body) ? Buffer.from(body, "latin1") : Buffer.from(body, "utf8"));
    const send = (status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void => sendBytes(status, bytesOf(body), headers);
    if (path === "/__stats" && method === "GET") return send(200, JSON.stringify(stats()), { "Content-Type": "application/json" });
    if (path === "/__stats/list-arrivals" && method === "GET") return send(200, JSON.stringify(listArrivals), { "Content-Type": "application/json" });
    if (path === "/__stats/reset" && method === "POST") {
      resetStats();
      return send(204, "");
    }

    const slash = path.indexOf("/", 1);
    let bucketName: string;
    let key: string;
    try {
      bucketName = decodeURIComponent(slash < 0 ? path.slice(1) : path.slice(1, slash));
      key = slash < 0 ? "" : decodeURIComponent(path.slice(slash + 1));
    } catch {
      counts.OTHER++;
      return send(400, errorXml("InvalidURI", "Couldn't parse the specified URI.", path));
    }
    const params = [...q.keys()];
    const kind: Kind =
      method === "GET" && bucketName && !key && q.get("list-type") === "2" && params.every((p) => LIST_PARAMS.has(p))
        ? "LIST"
        : (method === "GET" || method === "HEAD") && key && params.every((p) => p === "x-id")
          ? method
          : "OTHER";
    counts[kind]++;
    if (kind === "LIST") listArrivals.push(Date.now());
    if (kind === "OTHER") return send(501, errorXml("NotImplemented", "A header or query you provided implies functionality that is not implemented.", path));

    if (kind === "LIST" && delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const b = buckets.get(bucketName);
    if (!b) return send(404, errorXml("NoSuchBucket", "The specified bucket does not exist.", `/${bucketName}`));
    if (kind === "LIST") {
      try {
        if (!cacheMax) return send(200, listXml(bucketName, b, q));
        const ck = `${bucketName}?${q.toString()}`;
        let buf = listCache.get(ck);
        if (buf) cacheHits++;
        else cachePut(ck, (buf = bytesOf(listXml(bucketName, b, q))));
        return sendBytes(200, buf);
      } catch (err) {
        if (err instanceof S3Error) return send(err.status, errorXml(err.code, err.message, path));
        if (err instanceof NotXml || err instanceof URIError) return send(500, errorXml("InternalError", "We encountered an internal error. Please try again.", path));
        throw err;
      }
    }
    const e = b.ks.lookup(key);
    if (!e) return send(404, errorXml("NoSuchKey", "The specified key does not exist.", path));
    const body = Buffer.from(b.ks.body(e), "utf8");
    res.writeHead(200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": body.length,
      ETag: `"${b.ks.etagOf(e, b.ks.body(e))}"`,
      "Last-Modified": new Date(b.ks.lastModified(e)).toUTCString(),
      "Accept-Ranges": "bytes",
      "x-amz-request-id": "synthetic",
    });
    res.end(method === "HEAD" ? undefined : body);
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(String(err));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    endpoint: `http://${host}:${addr.port}`,
    port: addr.port,
    counts: async () => stats(),
    listArrivals: async () => [...listArrivals],
    resetCounts: async () => resetStats(),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const THIS_FILE = fileURLToPath(import.meta.url);

/** startSyntheticS3 in a child process (`node --import tsx` this file), so that its CPU stays out
 *  of the caller's measurements. counts()/resetCounts() go through /__stats. */
export async function spawnSyntheticS3(opts: SyntheticOptions): Promise<SyntheticServer & { pid: number }> {
  // `--import tsx` resolves from the working directory: the repository root, where tsx is installed.
  const child = spawn(process.execPath, ["--import", "tsx", THIS_FILE, "--config", JSON.stringify(opts)], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const ready = await new Promise<{ port: number; endpoint: string }>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => fail("no port announced within 30 s"), 30_000);
    function fail(why: string): void {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`synthetic S3 child: ${why}\n${stderr}`));
    }
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, nl)) as { port: number; endpoint: string });
      } catch {
        fail(`unexpected output: ${out.slice(0, nl)}`);
      }
    });
    child.once("exit", (code, signal) => fail(`exited (${code ?? signal}) before listening`));
  });
  return {
    ...ready,
    pid: child.pid!,
    counts: async () => (await (await fetch(`${ready.endpoint}/__stats`)).json()) as Record<string, number>,
    listArrivals: async () => (await (await fetch(`${ready.endpoint}/__stats/list-arrivals`)).json()) as number[],
    resetCounts: async () => {
      await (await fetch(`${ready.endpoint}/__stats/reset`, { method: "POST" })).arrayBuffer();
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

// Run as a process: `node --import tsx test/support/synthetic-s3.ts --config '<json>'`.
if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const at = process.argv.indexOf("--config");
  const opts = JSON.parse(at > 0 ? (process.argv[at + 1] ?? "") : '{"buckets":{}}') as SyntheticOptions;
  const s = await startSyntheticS3(opts);
  process.stdout.write(`${JSON.stringify({ port: s.port, endpoint: s.endpoint })}\n`);
  const quit = (): void => void s.stop().then(() => process.exit(0));
  process.once("SIGTERM", quit);
  process.once("SIGINT", quit);
}
