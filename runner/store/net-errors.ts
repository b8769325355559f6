// Connection failures (nothing reached the server, or the TLS handshake failed) in words a user
// can act on: which endpoint, which URL, what happened and what to check. Pure.

export interface NetProblem {
  code: string;
  /** What happened, e.g. "connection refused". */
  what: string;
  /** What to check, with `FIELD` standing for the endpoint's URL field. */
  check: string;
}

const TLS_CODES = /^(CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(VERIFY|GET)_|ERR_TLS_|ERR_SSL_|EPROTO$|HOSTNAME_MISMATCH)/;

function codesOf(e: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (x: unknown, depth: number) => {
    if (!x || typeof x !== "object" || seen.has(x) || depth > 4) return;
    seen.add(x);
    const o = x as { code?: unknown; cause?: unknown; errors?: unknown; message?: unknown };
    if (typeof o.code === "string") out.push(o.code);
    if (typeof o.message === "string") {
      const m = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPROTO|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_HAS_EXPIRED|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\b/.exec(o.message);
      if (m) out.push(m[1]);
      if (/before secure TLS connection was established/.test(o.message)) out.push("ERR_TLS_HANDSHAKE_RESET");
    }
    walk(o.cause, depth + 1);
    if (Array.isArray(o.errors)) for (const c of o.errors) walk(c, depth + 1);
  };
  walk(e, 0);
  return out;
}

/** The connection problem behind `e`, or undefined for any other error (HTTP answers included). */
export function netProblem(e: unknown): NetProblem | undefined {
  for (const code of codesOf(e)) {
    switch (code) {
      case "ECONNREFUSED":
        return { code, what: "connection refused", check: "that the server is running and that FIELD has the right host and port" };
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return { code, what: "host name not found", check: "the host name in FIELD (a typo?) and this machine's DNS" };
      case "ETIMEDOUT":
      case "EHOSTUNREACH":
      case "ENETUNREACH":
        return { code, what: code === "ETIMEDOUT" ? "the connection timed out" : "no route to the host", check: "that FIELD has the right host and port, and the firewall, security group or proxy between this machine and the server" };
      case "ERR_TLS_HANDSHAKE_RESET":
        return { code: "ECONNRESET", what: "the connection was reset during the TLS handshake", check: "that FIELD uses the scheme the server speaks (https or http) on that port, and any TLS-intercepting proxy" };
    }
    if (TLS_CODES.test(code)) {
      return code === "EPROTO" || code.startsWith("ERR_SSL_")
        ? { code, what: "TLS handshake failed", check: "that FIELD uses the scheme the server speaks on that port (https to a plain-http port fails like this)" }
        : { code, what: "the server's TLS certificate was rejected", check: "the server's certificate (expired? issued for another host name?) and, for a private CA, NODE_EXTRA_CA_CERTS" };
    }
  }
  return undefined;
}

/** One line naming the endpoint (config name and URL), the problem and what to check. */
export function describeNetProblem(p: NetProblem, endpoint: { name: string; url: string; swift?: unknown }): string {
  const field = `endpoints.${endpoint.name}.${endpoint.swift ? "authUrl" : endpoint.url.startsWith("aws:") ? "region" : "endpoint"}`;
  return `cannot connect to endpoint "${endpoint.name}" (${endpoint.url}): ${p.what} (${p.code}); check ${p.check.replace("FIELD", field)}`;
}

/** Marks an error with the endpoint it happened on (for messages made far from the request). */
export function tagEndpoint<E>(e: E, endpoint: { name: string; url: string; swift?: unknown }): E {
  if (e && typeof e === "object" && !("$endpoint" in e)) Object.defineProperty(e, "$endpoint", { value: endpoint, enumerable: false });
  return e;
}

export function taggedEndpoint(e: unknown): { name: string; url: string; swift?: unknown } | undefined {
  return (e as { $endpoint?: { name: string; url: string } } | undefined)?.$endpoint;
}
