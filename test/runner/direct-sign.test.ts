// The direct GET/PUT path signs its own requests (runner/store/direct.ts). s3rver checks only the
// access key id, never the signature, so the signature is proven here against the AWS SDK's own
// SigV4 implementation (@smithy/signature-v4, what every SDK request is signed with), for awkward
// keys, metadata headers, a session token and an endpoint with a base path.
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { objectPath, signV4 } from "../../runner/store/direct.js";
import { canonicalQuery, listQuery } from "../../runner/store/list.js";

class Sha256 {
  private readonly h: ReturnType<typeof createHmac> | ReturnType<typeof createHash>;
  constructor(secret?: string | Uint8Array) {
    this.h = secret ? createHmac("sha256", secret) : createHash("sha256");
  }
  update(d: string | Uint8Array): void {
    this.h.update(d);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

const KEYS = [
  "plain.txt",
  "dir/sub dir/file with spaces.csv",
  "plus+and%percent&amp=eq?q#hash",
  "unicode/Grüße/日本語/emoji-😀.bin",
  "path-like/../x/./y//z/",
  "folder/",
  "quotes'and(parens)*star!",
  "tilde~and_under-score.dot",
  "a".repeat(300) + "/" + "é".repeat(200),
];

const NOW = new Date("2026-12-02T05:30:00Z");

async function sdkAuthorization(method: string, host: string, path: string, headers: Record<string, string>, creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, region: string, query: Record<string, string> = {}): Promise<string> {
  const signer = new SignatureV4({ service: "s3", region, credentials: creds, sha256: Sha256 as never, uriEscapePath: false, applyChecksum: false });
  // The request exactly as the direct client sends it, minus what the signer adds itself.
  const { authorization: _a, "x-amz-date": _d, "x-amz-security-token": _t, ...rest } = headers;
  const signed = await signer.sign({ method, protocol: "http:", hostname: host.split(":")[0], port: Number(host.split(":")[1]) || undefined, path, query, headers: rest, body: undefined } as never, { signingDate: NOW });
  return (signed as unknown as { headers: Record<string, string> }).headers["authorization"];
}

describe("direct SigV4 signing matches the SDK's signer", () => {
  for (const key of KEYS) {
    it(`GET and PUT of ${JSON.stringify(key.length > 40 ? key.slice(0, 40) + "…" : key)}`, async () => {
      const creds = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
      for (const [method, extra] of [
        ["GET", {}],
        ["PUT", { "content-length": "4096", "content-type": "text/csv; charset=utf-8", "cache-control": "max-age=60,  public", "x-amz-meta-mtime": "1764653400.123", "x-amz-meta-md5chksum": "1B2M2Y8AsgTpgAmY7PhCfg==", "content-md5": "1B2M2Y8AsgTpgAmY7PhCfg==" }],
      ] as const) {
        const headers: Record<string, string> = { "user-agent": "replication-runner", ...extra };
        const path = objectPath("my-bucket", key);
        signV4(method, "127.0.0.1:4568", path, headers, creds, "eu-zurich-1", NOW);
        expect(headers["authorization"]).toBe(await sdkAuthorization(method, "127.0.0.1:4568", path, headers, creds, "eu-zurich-1"));
      }
    });
  }

  it("LIST requests: the query (prefix, delimiter, start-after, continuation-token with awkward values) signed as the SDK signs it", async () => {
    const creds = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
    const cases = [
      {},
      { prefix: "dir/sub dir/", delimiter: "/" },
      { startAfter: "plus+and%percent&amp=eq?q#hash" },
      { continuationToken: "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", prefix: "unicode/Grüße/日本語/😀" },
      { prefix: "quotes'and(parens)*star!~", startAfter: "a".repeat(300), maxKeys: 7 },
    ];
    for (const params of cases) {
      const query = listQuery(params);
      const headers: Record<string, string> = { "user-agent": "replication-runner" };
      signV4("GET", "127.0.0.1:4568", "/my-bucket", headers, creds, "eu-zurich-1", NOW, undefined, canonicalQuery(query));
      expect(headers["authorization"], JSON.stringify(params)).toBe(await sdkAuthorization("GET", "127.0.0.1:4568", "/my-bucket", headers, creds, "eu-zurich-1", query));
    }
    // A different query is a different signature (the query is really signed).
    const a: Record<string, string> = {};
    const b: Record<string, string> = {};
    signV4("GET", "h", "/b", a, creds, "r", NOW, undefined, canonicalQuery(listQuery({ prefix: "x" })));
    signV4("GET", "h", "/b", b, creds, "r", NOW, undefined, canonicalQuery(listQuery({ prefix: "y" })));
    expect(a["authorization"]).not.toBe(b["authorization"]);
  });

  it("with a session token (signed, as the SDK does) and under an endpoint base path", async () => {
    const creds = { accessKeyId: "ASIATEMP", secretAccessKey: "tempsecret", sessionToken: "FwoGZXIvYXdzEJr//////////wEaDPk+token/with=chars" };
    const headers: Record<string, string> = {};
    const path = "/storage" + objectPath("b", "k/ü v");
    signV4("GET", "objects.example.com", path, headers, creds, "us-east-1", NOW);
    expect(headers["x-amz-security-token"]).toBe(creds.sessionToken);
    expect(headers["authorization"]).toMatch(/SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
    expect(headers["authorization"]).toBe(await sdkAuthorization("GET", "objects.example.com", path, headers, creds, "us-east-1"));
  });

  it("encodes every key segment once, keeps '/', and the signing key cache never crosses credentials", () => {
    expect(objectPath("b", "a b/c+d/é/../x//")).toBe("/b/a%20b/c%2Bd/%C3%A9/../x//");
    const cache = { key: "", value: Buffer.alloc(0) };
    const h1: Record<string, string> = {};
    const h2: Record<string, string> = {};
    signV4("GET", "h", "/b/k", h1, { accessKeyId: "A", secretAccessKey: "one" }, "r", NOW, cache);
    signV4("GET", "h", "/b/k", h2, { accessKeyId: "A", secretAccessKey: "two" }, "r", NOW, cache);
    expect(h1["authorization"]).not.toBe(h2["authorization"]);
  });
});
