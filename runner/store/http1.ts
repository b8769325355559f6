// A small HTTP/1.1 client for the direct LIST (runner/store/list.ts): one GET at a time per
// keep-alive connection, the whole response read into memory. Listing is the runner's hot loop
// (one request per 1,000 keys per side), and Node's http module costs about 0.72 ms of CPU per
// 215 KB page once warm (ClientRequest, IncomingMessage as a Readable, a 'data' event per chunk,
// the agent's bookkeeping) where a plain socket costs about 0.5 ms. In a one-second no-op most of
// that work is done while the code is still cold: a 100,000-key copy no-op at 50 ms per LIST took
// 0.76–0.91 s with this client against 0.87–0.98 s with http (docs/performance.md).
//
// Plain http reads with net's `onread` (no buffer allocated per read, see SCRATCH): a body of known
// length whose pooled buffer has room is read by the kernel straight into it.
//
// What it handles: http and https (tls.connect, the default CAs and NODE_EXTRA_CA_CERTS), bodies by
// Content-Length, chunked or up to the close, 1xx interim responses, `Connection: close` and
// HTTP/1.0, an idle timeout per request, and a kept-alive connection that the server closed while
// idle (the request is sent again once on a new connection when nothing came back). Errors are
// the socket's own (ECONNREFUSED, ECONNRESET, ...), or shaped as Node's http shapes them.
import net from "node:net";
import tls from "node:tls";

export interface Http1Response {
  status: number;
  /** Lower-case names; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** Set when the body was read into a buffer from `alloc` (give it back when done). */
  pooled?: Buffer;
}

export interface Http1Options {
  timeoutMs: number;
  /** The largest body accepted. */
  maxBody: number;
  /** A buffer for a body of this declared length, or undefined (then the body is collected). */
  alloc?: (length: number) => Buffer | undefined;
  /** Gives back a buffer from `alloc` that was not used after all (a failed response). */
  free?: (b: Buffer) => void;
  /** For https: trust these CAs too (tests; the runner uses the default CAs and NODE_EXTRA_CA_CERTS). */
  ca?: string | Buffer;
}

const CRLF2 = Buffer.from("\r\n\r\n", "latin1");
/**
 * Where a plain-http connection reads to (net's `onread`) when not straight into the body's pooled
 * buffer: the response head, chunked bodies, bodies without a pooled buffer. One for every
 * connection: each read is handed to its response before the next read starts, and what a
 * response keeps is copied out. With `onread` no read allocates: Node's stream path gives each read
 * a fresh 64 KiB buffer, freed only by a later GC, so a no-op's 44 MB of listing was 44 MB of
 * fresh memory, and a first touch costs 8–15 µs per 4 KiB page on small VMs.
 */
const SCRATCH = Buffer.allocUnsafeSlow(128 * 1024);
/**
 * The read that brings a response's head: small, so that when the whole response is already
 * waiting in the socket (the event loop was busy), most of the body is read straight into its
 * pooled buffer after the head, not into SCRATCH and copied (about 5 % of a no-op's CPU).
 */
const HEAD_READ = SCRATCH.subarray(0, 4096);

/** The response being read on a plain-http connection (set for the exchange, cleared after). */
interface Reader {
  /** Where the next read goes: SCRATCH, or the rest of the body's pooled buffer. */
  target(): Buffer;
  /** `n` bytes were read into `buf` (the buffer target() gave). */
  read(buf: Buffer, n: number): void;
}
interface Conn {
  reader?: Reader;
}
const conns = new WeakMap<net.Socket, Conn>();
/** TLS connections whose handshake completed (a close before that is a failed handshake). */
const secured = new WeakSet<net.Socket>();
const MAX_HEAD = 64 * 1024;

function httpError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function tooLarge(maxBody: number): Error {
  return Object.assign(new Error(`listing response larger than ${maxBody} bytes`), { name: "InvalidListResponse" });
}

/** One endpoint's keep-alive connections. */
export class Http1Pool {
  private readonly idle: net.Socket[] = [];
  private readonly tls: boolean;
  private readonly port: number;

  constructor(
    private readonly url: URL,
    private readonly o: Http1Options,
  ) {
    this.tls = url.protocol === "https:";
    this.port = Number(url.port) || (this.tls ? 443 : 80);
  }

  /** GET `pathq` (path and query) with these headers (their names as given, `host` included). */
  async get(pathq: string, headers: Record<string, string>): Promise<Http1Response> {
    let head = `GET ${pathq} HTTP/1.1\r\n`;
    if (!("host" in headers)) head += `host: ${this.url.host}\r\n`;
    for (const k in headers) head += `${k}: ${headers[k]}\r\n`;
    head += "\r\n";
    for (;;) {
      const reused = this.idle.pop();
      const socket = reused ?? this.connect();
      try {
        return await this.exchange(socket, head);
      } catch (e) {
        // A kept-alive connection the server had closed: once more on a new one.
        if (reused && (e as { stale?: boolean }).stale) continue;
        throw e;
      }
    }
  }

  private connect(): net.Socket {
    const host = this.url.hostname.replace(/^\[|\]$/g, "");
    let s: net.Socket;
    if (this.tls) s = tls.connect({ host, port: this.port, servername: net.isIP(host) ? undefined : host, ...(this.o.ca ? { ca: this.o.ca } : {}) });
    else {
      // net calls `buffer` while connecting, before `s` is assigned: the closures hold `conn`.
      const conn: Conn = {};
      s = net.connect({
        host,
        port: this.port,
        onread: {
          buffer: () => conn.reader?.target() ?? HEAD_READ,
          callback: (n: number, buf: Uint8Array) => {
            // Bytes while no request is out (nothing a server may send): the connection is confused.
            if (conn.reader) conn.reader.read(buf as Buffer, n);
            else s.destroy();
            return true;
          },
        },
      });
      conns.set(s, conn);
    }
    s.setNoDelay(true);
    if (this.tls) s.once("secureConnect", () => secured.add(s));
    // For the connection's whole life: an error while it is idle is nobody's (the next request on
    // it sees it closed), and a closed one leaves the idle list.
    s.on("error", () => undefined);
    s.on("close", () => {
      const i = this.idle.indexOf(s);
      if (i >= 0) this.idle.splice(i, 1);
    });
    return s;
  }

  private exchange(s: net.Socket, head: string): Promise<Http1Response> {
    const o = this.o;
    return new Promise<Http1Response>((resolve, reject) => {
      let got = 0; // bytes received for this request
      let headBuf: Buffer | undefined;
      let status = 0;
      let headers: Record<string, string> = {};
      let keepAlive = true;
      let mode: "head" | "length" | "chunked" | "close" = "head";
      let remaining = 0;
      let body: Buffer | undefined; // pooled, when the length is known and fits
      let len = 0;
      const chunks: Buffer[] = [];
      // chunked: the part of a chunk-size line so far, or the CRLF after a chunk's data
      let line = "";
      let chunkLeft = 0;
      let chunkState: "size" | "data" | "crlf" | "trailer" = "size";
      let done = false;

      const conn = conns.get(s);
      const cleanup = () => {
        if (conn) conn.reader = undefined;
        for (const [ev, fn] of listeners) s.removeListener(ev, fn);
        s.setTimeout(0);
      };
      const fail = (e: Error) => {
        if (done) return;
        done = true;
        cleanup();
        if (body) o.free?.(body);
        s.destroy();
        reject(e);
      };
      const finish = () => {
        if (done) return;
        done = true;
        cleanup();
        const out: Http1Response = { status, headers, body: body ? body.subarray(0, len) : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, len) };
        if (body) out.pooled = body;
        if (keepAlive && mode !== "close" && !s.destroyed) {
          s.unref();
          this.idle.push(s);
        } else s.destroy();
        resolve(out);
      };
      // `owned`: c is this response's to keep (a 'data' chunk), not SCRATCH (copied when kept).
      const take = (c: Buffer, from: number, to: number, owned: boolean) => {
        const n = to - from;
        if (n <= 0) return;
        if (len + n > o.maxBody) return fail(tooLarge(o.maxBody));
        if (body && len + n <= body.length) c.copy(body, len, from, to);
        else {
          if (body) {
            // More than declared: collect instead.
            chunks.push(Buffer.from(body.subarray(0, len)));
            o.free?.(body);
            body = undefined;
          }
          chunks.push(!owned ? Buffer.from(c.subarray(from, to)) : from === 0 && to === c.length ? c : c.subarray(from, to));
        }
        len += n;
      };
      const startBody = () => {
        const te = (headers["transfer-encoding"] ?? "").toLowerCase();
        const cl = headers["content-length"];
        if (te.includes("chunked")) mode = "chunked";
        else if (cl !== undefined) {
          const n = Number(cl);
          if (!/^\d+$/.test(cl.trim()) || !Number.isSafeInteger(n)) return fail(httpError(`bad Content-Length ${JSON.stringify(cl)}`, "HPE_INVALID_CONTENT_LENGTH"));
          if (n > o.maxBody) return fail(tooLarge(o.maxBody));
          mode = "length";
          remaining = n;
          body = n > 0 ? o.alloc?.(n) : undefined;
        } else {
          mode = "close";
          keepAlive = false;
        }
      };
      const onHead = (text: string): boolean => {
        const lines = text.split("\r\n");
        const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
        if (!m) {
          fail(httpError(`not an HTTP/1.x response: ${JSON.stringify(lines[0].slice(0, 80))}`, "HPE_INVALID_CONSTANT"));
          return false;
        }
        status = Number(m[2]);
        headers = {};
        for (let k = 1; k < lines.length; k++) {
          const at = lines[k].indexOf(":");
          if (at <= 0) continue;
          const name = lines[k].slice(0, at).trim().toLowerCase();
          const value = lines[k].slice(at + 1).trim();
          headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
        }
        if (status >= 100 && status < 200) return true; // interim: the real head follows
        const conn = (headers["connection"] ?? "").toLowerCase();
        keepAlive = m[1] === "1" ? !conn.includes("close") : conn.includes("keep-alive");
        mode = "length";
        // No body, whatever the headers say (RFC 9112 6.3).
        if (status === 204 || status === 304) remaining = 0;
        else startBody();
        return true;
      };
      const onChunked = (c: Buffer, at: number, owned: boolean) => {
        while (at < c.length && !done) {
          if (chunkState === "data") {
            const to = Math.min(c.length, at + chunkLeft);
            take(c, at, to, owned);
            chunkLeft -= to - at;
            at = to;
            if (chunkLeft === 0) chunkState = "crlf";
            continue;
          }
          const nl = c.indexOf(10, at);
          if (nl < 0) {
            line += c.toString("latin1", at, c.length);
            if (line.length > 4096) return fail(httpError("chunk header too long", "HPE_INVALID_CHUNK_SIZE"));
            return;
          }
          line += c.toString("latin1", at, nl);
          at = nl + 1;
          const l = line.replace(/\r$/, "");
          line = "";
          if (chunkState === "crlf") {
            if (l !== "") return fail(httpError("chunk not followed by CRLF", "HPE_INVALID_CHUNK_SIZE"));
            chunkState = "size";
          } else if (chunkState === "size") {
            const size = parseInt(l.split(";")[0].trim(), 16);
            if (!/^[0-9a-fA-F]+/.test(l.trim()) || !Number.isSafeInteger(size)) return fail(httpError(`bad chunk size ${JSON.stringify(l.slice(0, 40))}`, "HPE_INVALID_CHUNK_SIZE"));
            if (size === 0) chunkState = "trailer";
            else {
              chunkLeft = size;
              chunkState = "data";
            }
          } else if (l === "") return finish(); // the empty line after the trailers
        }
      };
      const onData = (c: Buffer, owned: boolean) => {
        if (done) return;
        got += c.length;
        let at = 0;
        while (mode === "head") {
          const buf = headBuf ? Buffer.concat([headBuf, c.subarray(at)]) : at ? c.subarray(at) : c;
          const end = buf.indexOf(CRLF2);
          if (end < 0) {
            if (buf.length > MAX_HEAD) return fail(httpError("response head too large", "HPE_HEADER_OVERFLOW"));
            headBuf = Buffer.from(buf);
            return;
          }
          if (headBuf) owned = true; // buf is the concatenation, this response's own
          headBuf = undefined;
          if (!onHead(buf.toString("latin1", 0, end))) return;
          c = buf;
          at = end + 4;
          if (done) return;
        }
        if (mode === "length") {
          const to = Math.min(c.length, at + remaining);
          take(c, at, to, owned);
          remaining -= to - at;
          if (remaining === 0 && !done) finish();
        } else if (mode === "chunked") onChunked(c, at, owned);
        else take(c, at, c.length, owned);
      };
      const onOwnedData = (c: Buffer) => onData(c, true);
      // Plain http: a body of known length whose pooled buffer has room is read straight into it.
      let direct: Buffer | undefined;
      const reader: Reader = {
        target: () => {
          direct = !done && mode === "length" && body && remaining > 0 && len + remaining <= body.length ? body.subarray(len, len + remaining) : undefined;
          return direct ?? (mode === "head" && !done ? HEAD_READ : SCRATCH);
        },
        read: (buf, n) => {
          if (done) return;
          if (buf !== direct) return onData(n === buf.length ? buf : buf.subarray(0, n), false);
          got += n;
          len += n;
          remaining -= n;
          if (remaining === 0) finish();
        },
      };
      // Closed by the server during the TLS handshake (e.g. https to a plain-http port): the error
      // Node's https gives, which runner/store/net-errors.ts explains.
      const handshakeReset = () =>
        Object.assign(new Error("Client network socket disconnected before secure TLS connection was established"), { code: "ECONNRESET" });
      const onEnd = () => {
        if (done) return;
        if (this.tls && !secured.has(s)) return fail(handshakeReset());
        if (mode === "close") return finish();
        if (got === 0) return fail(Object.assign(httpError("socket hang up", "ECONNRESET"), { stale: true }));
        fail(Object.assign(new Error("listing response truncated"), { name: "TruncatedBody" }));
      };
      const onError = (e: Error) => {
        if (got === 0 && (e as NodeJS.ErrnoException).code === "ECONNRESET") Object.assign(e, { stale: true });
        fail(e);
      };
      const onClose = () => {
        if (done) return;
        if (this.tls && !secured.has(s)) return fail(handshakeReset());
        if (mode === "close") return finish();
        fail(Object.assign(httpError("socket hang up", "ECONNRESET"), { stale: got === 0 }));
      };
      const onTimeout = () => fail(Object.assign(new Error(`request timed out: no data for ${o.timeoutMs} ms`), { name: "TimeoutError" }));
      // This exchange's socket listeners, removed as one set by cleanup(). Plain http reads
      // through the connection's onread (conn.reader), TLS through 'data'.
      const listeners: [string, Parameters<net.Socket["removeListener"]>[1]][] = [
        ["error", onError],
        ["end", onEnd],
        ["close", onClose],
        ["timeout", onTimeout],
      ];
      if (conn) conn.reader = reader;
      else listeners.push(["data", onOwnedData]);
      for (const [ev, fn] of listeners) s.on(ev, fn);
      s.ref();
      s.setTimeout(o.timeoutMs);
      s.write(head, "latin1");
    });
  }
}
