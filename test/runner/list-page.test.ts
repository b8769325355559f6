// listPage (runner/store/list.ts): one ListObjectsV2 page, url-encoded keys decoded only when the
// response says so, through the direct path (signed GET + hand-written XML scanner) and the SDK.
// Pure parser tests on hand-written XML, then real s3rver processes (listings compared with the
// SDK's own paginator), then a signature-verifying fake server: s3rver checks the access key id of
// a SigV4 request but never its signature, so that server recomputes the signature from the request
// as it arrived on the wire, independently of the signer.
import { ListObjectsV2Command, PutObjectCommand, paginateListObjectsV2 } from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3RVER_CREDENTIALS } from "../../local/sites.js";
import { decodeUrlValue, decodeXmlText, fromSdkOutput, listPage, parseListObjectsV2, type ListedObject, type ListPage, type ListParams } from "../../runner/store/list.js";
import { isAuthError, listLocation, makeEndpoint, zeroCounts, type Endpoint, type RequestCounts } from "../../runner/store/s3.js";
import { startEnv, type Env } from "./harness.js";

const xml = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</ListBucketResult>`;
const contents = (key: string, extra = "") =>
  `<Contents><Key>${key}</Key><LastModified>2026-01-02T03:04:05.678Z</LastModified><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>42</Size><Owner><ID>abc</ID><DisplayName>me</DisplayName></Owner><StorageClass>STANDARD</StorageClass>${extra}</Contents>`;
const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

describe("parseListObjectsV2 (hand-written XML)", () => {
  it("an AWS-style url-encoded response: keys and common prefixes decoded (+ is a space, then UTF-8 percent-decoding)", () => {
    // As AWS encodes with encoding-type=url (botocore decodes it with unquote_plus).
    const keys = ["a b+c%d&e<f\"g'h", "ünï/日本語/😀", "ctl\u0001x\ttab", "//double", "/leading", "sp  two "];
    const encode = (k: string) => encodeURIComponent(k).replace(/%20/g, "+").replace(/%2F/g, "/");
    const body = xml(
      `<Name>b</Name><Prefix>p%2B</Prefix><KeyCount>6</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>` +
        keys.map((k) => contents(encode(k))).join("") +
        `<CommonPrefixes><Prefix>dir+with+space%2B/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>%E2%82%AC/</Prefix></CommonPrefixes>`,
    );
    const page = parseListObjectsV2(Buffer.from(body));
    expect(page.objects.map((o) => o.key)).toEqual(keys);
    expect(page.objects[0]).toEqual({ key: keys[0], size: 42, etag: "0123456789abcdef0123456789abcdef", mtime: T });
    expect(page.commonPrefixes).toEqual(["dir with space+/", "€/"]);
    expect(page.isTruncated).toBe(false);
    expect(page.nextContinuationToken).toBeUndefined();
    // The same from a string, and with EncodingType after the keys.
    expect(parseListObjectsV2(body)).toEqual(page);
    expect(parseListObjectsV2(body.replace("<EncodingType>url</EncodingType>", "").replace("</ListBucketResult>", "<EncodingType>url</EncodingType></ListBucketResult>"))).toEqual(page);
  });

  it("a raw response (no EncodingType, as s3rver): entities decoded, '%' and '+' kept verbatim", () => {
    const body = xml(
      `<Name>b</Name><Prefix></Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>` +
        contents("pe%41rc+plus &amp; &lt;lt&gt; &quot;q&quot; &apos;a&apos; &#38; &#x26; &#128512; &#x1F600;") +
        contents("ünï/日本/😀") +
        contents("cdata <![CDATA[<raw & text>]]> end"),
    );
    const page = parseListObjectsV2(Buffer.from(body));
    expect(page.objects.map((o) => o.key)).toEqual(["pe%41rc+plus & <lt> \"q\" 'a' & & 😀 😀", "ünï/日本/😀", "cdata <raw & text> end"]);
  });

  it("CommonPrefixes with a delimiter, truncation and NextContinuationToken (entities in the token decoded)", () => {
    const page = parseListObjectsV2(
      xml(
        `<Name>b</Name><Prefix>a/</Prefix><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&amp;x</NextContinuationToken><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>` +
          contents("a/one") +
          `<CommonPrefixes><Prefix>a/b/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>a/c &amp; d/</Prefix></CommonPrefixes>`,
      ),
    );
    expect(page).toEqual({
      objects: [{ key: "a/one", size: 42, etag: "0123456789abcdef0123456789abcdef", mtime: T }],
      commonPrefixes: ["a/b/", "a/c & d/"],
      isTruncated: true,
      nextContinuationToken: "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&x",
    });
  });

  it("an empty bucket, self-closing elements, whitespace and comments between elements", () => {
    expect(parseListObjectsV2(xml(`<Name>b</Name><Prefix/><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>`))).toEqual({ objects: [], commonPrefixes: [], isTruncated: false });
    expect(parseListObjectsV2(`<?xml version="1.0"?>\n<ListBucketResult xmlns="x"/>`)).toEqual({ objects: [], commonPrefixes: [], isTruncated: false });
    const pretty = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment <Contents> -->
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name>
  <IsTruncated> true </IsTruncated>
  <Contents>
    <Key>  spaced key  </Key>
    <Size>7</Size>
    <ETag/>
  </Contents>
</ListBucketResult>`;
    expect(parseListObjectsV2(pretty)).toEqual({ objects: [{ key: "  spaced key  ", size: 7, etag: "", mtime: 0 }], commonPrefixes: [], isTruncated: true });
  });

  it("missing optional fields: no Size, ETag or LastModified; a weak ETag; another time format; a Contents without Key is skipped", () => {
    const page = parseListObjectsV2(
      xml(
        `<IsTruncated>false</IsTruncated><Contents><Key>k</Key></Contents><Contents><Key>w</Key><ETag>W/&quot;abc-3&quot;</ETag><LastModified>Fri, 02 Jan 2026 03:04:05 GMT</LastModified><Size>5368709121</Size></Contents><Contents><Size>1</Size></Contents>`,
      ),
    );
    expect(page.objects).toEqual([
      { key: "k", size: 0, etag: "", mtime: 0 },
      { key: "w", size: 5368709121, etag: "abc-3", mtime: Date.UTC(2026, 0, 2, 3, 4, 5) },
    ]);
  });

  it("rejects what is not a listing (an error document, garbage)", () => {
    expect(() => parseListObjectsV2("<Error><Code>AccessDenied</Code></Error>")).toThrow(/error document/);
    expect(() => parseListObjectsV2("not xml at all")).toThrow(/not a ListObjectsV2 response/);
  });

  it("the SDK path's output: url-decoded only when EncodingType says url", () => {
    const out = { EncodingType: "url", IsTruncated: true, NextContinuationToken: "t", Contents: [{ Key: "a+b%2Bc%F0%9F%98%80", Size: 1, ETag: '"e"', LastModified: new Date(T) }], CommonPrefixes: [{ Prefix: "p+q%25/" }], $metadata: {} } as const;
    expect(fromSdkOutput(out as never)).toEqual({ objects: [{ key: "a b+c😀", size: 1, etag: "e", mtime: T }], commonPrefixes: ["p q%/"], isTruncated: true, nextContinuationToken: "t" });
    expect(fromSdkOutput({ ...out, EncodingType: undefined } as never).objects[0].key).toBe("a+b%2Bc%F0%9F%98%80");
  });

  it("decoders: invalid percent sequences do not throw; an '&' that is not a reference stays", () => {
    expect(decodeUrlValue("a%ZZ%e2%82%ac+%")).toBe("a%ZZ€ %");
    expect(decodeUrlValue("%C3%28")).toBe("\ufffd(");
    expect(decodeXmlText("a & b &unknown; &#xZZ;")).toBe("a & b &unknown; &#xZZ;");
  });
});

// ---------------------------------------------------------------- against s3rver

let env: Env;
beforeAll(async () => {
  env = await startEnv({ a: ["big", "awk", "empty"] });
}, 60_000);
afterAll(async () => env?.stop());

function endpoint(direct: boolean, creds: { accessKeyId: string; secretAccessKey: string } = S3RVER_CREDENTIALS, url = env.sites.a.endpoint): { ep: Endpoint; counts: RequestCounts } {
  const counts = zeroCounts();
  const ep = makeEndpoint("a", { endpoint: url, region: "us-east-1", forcePathStyle: true }, { ...creds }, { maxSockets: 4, requestTimeoutMs: 10_000, counts, direct });
  expect(!!ep.direct).toBe(direct);
  return { ep, counts };
}

/** Every page of a listing through listPage, and the pages' count. */
async function listAll(ep: Endpoint, bucket: string, params: ListParams = {}): Promise<{ objects: ListedObject[]; commonPrefixes: string[]; pages: number }> {
  const objects: ListedObject[] = [];
  const commonPrefixes: string[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const p: ListPage = await listPage(ep, bucket, { ...params, continuationToken: token }, 3);
    pages++;
    objects.push(...p.objects);
    commonPrefixes.push(...p.commonPrefixes);
    token = p.isTruncated ? p.nextContinuationToken : undefined;
    if (p.isTruncated) expect(token).toBeTruthy();
  } while (token);
  return { objects, commonPrefixes, pages };
}

/** The reference: the SDK's own paginator, no encoding-type. */
async function sdkAll(bucket: string, extra: { Prefix?: string; Delimiter?: string; StartAfter?: string } = {}): Promise<{ objects: ListedObject[]; commonPrefixes: string[] }> {
  const objects: ListedObject[] = [];
  const commonPrefixes: string[] = [];
  for await (const page of paginateListObjectsV2({ client: env.clients.a, pageSize: 1000 }, { Bucket: bucket, ...extra })) {
    for (const o of page.Contents ?? []) objects.push({ key: o.Key!, size: o.Size!, etag: o.ETag!.replace(/"/g, ""), mtime: o.LastModified!.getTime() });
    for (const c of page.CommonPrefixes ?? []) commonPrefixes.push(c.Prefix!);
  }
  return { objects, commonPrefixes };
}

// Awkward keys s3rver can hold (test/badinput/key-fuzz.test.ts: not "//", not a leading "/").
const AWKWARD = [
  "awk/space in key.txt",
  "awk/two  spaces ",
  "awk/plus+plus.txt",
  "awk/percent%41%2F%zz.txt",
  "awk/amp&amp;.txt",
  "awk/lt<gt>.txt",
  'awk/quote"apos\'.txt',
  "awk/ünïcödé/日本語/Grüße.txt",
  "awk/emoji-😀-🧪.bin",
  "awk/ctl\u0001char",
  "awk/tab\tand\u007fdel",
  "awk/semi;colon=eq?q#hash",
  "awk/dir/",
];
const N_PLAIN = 2500 - AWKWARD.length;
const plainKey = (i: number) => `d${i % 7}/${i % 3 === 0 ? "sub/" : ""}k-${String(i).padStart(5, "0")}`;

describe("listPage against s3rver", () => {
  beforeAll(async () => {
    const limit = pLimit(24);
    const all = [...Array.from({ length: N_PLAIN }, (_, i) => plainKey(i)), ...AWKWARD];
    await Promise.all(all.map((k, i) => limit(() => env.clients.a.send(new PutObjectCommand({ Bucket: "big", Key: k, Body: "x".repeat(1 + (i % 50)) })))));
    for (const k of AWKWARD) await env.clients.a.send(new PutObjectCommand({ Bucket: "awk", Key: k, Body: k }));
  }, 180_000);

  it("2,500 keys with awkward ones: the direct path and the SDK path list exactly what the SDK's paginator lists, one LIST per page", async () => {
    const ref = await sdkAll("big");
    expect(ref.objects.length).toBe(2500);
    expect(ref.objects.map((o) => o.key)).toEqual(expect.arrayContaining(AWKWARD));
    for (const direct of [true, false]) {
      const { ep, counts } = endpoint(direct);
      const got = await listAll(ep, "big");
      expect(got.objects).toEqual(ref.objects);
      expect(got.pages).toBe(3);
      expect(counts.LIST).toBe(3);
      expect(counts.OTHER).toBe(0);
      // Smaller pages: still the same, and exactly one request per page.
      const small = await listAll(ep, "big", { maxKeys: 333 });
      expect(small.objects).toEqual(ref.objects);
      expect(small.pages).toBe(Math.ceil(2500 / 333));
      expect(counts.LIST).toBe(3 + small.pages);
      ep.client.destroy();
    }
  });

  it("each awkward key comes back verbatim (sizes, ETags and mtimes as the SDK lists them)", async () => {
    const ref = await sdkAll("awk");
    expect(ref.objects.map((o) => o.key).sort()).toEqual([...AWKWARD].sort());
    for (const direct of [true, false]) {
      const { ep } = endpoint(direct);
      expect((await listAll(ep, "awk")).objects).toEqual(ref.objects);
      // A prefix with awkward characters of its own.
      const pre = await listAll(ep, "awk", { prefix: "awk/percent%41" });
      expect(pre.objects.map((o) => o.key)).toEqual(["awk/percent%41%2F%zz.txt"]);
      const uni = await listAll(ep, "awk", { prefix: "awk/ünï" });
      expect(uni.objects.map((o) => o.key)).toEqual(["awk/ünïcödé/日本語/Grüße.txt"]);
      ep.client.destroy();
    }
  });

  it("delimiter: common prefixes and top-level objects as the SDK lists them, on both paths", async () => {
    for (const [Prefix, Delimiter] of [[undefined, "/"], ["d3/", "/"], ["awk/", "/"], [undefined, "-"]] as const) {
      const ref = await sdkAll("big", { Prefix, Delimiter });
      expect(ref.commonPrefixes.length + ref.objects.length).toBeGreaterThan(0);
      for (const direct of [true, false]) {
        const { ep, counts } = endpoint(direct);
        const got = await listAll(ep, "big", { prefix: Prefix, delimiter: Delimiter });
        expect(got.commonPrefixes).toEqual(ref.commonPrefixes);
        expect(got.objects).toEqual(ref.objects);
        expect(counts.LIST).toBe(got.pages);
        ep.client.destroy();
      }
    }
    const { ep } = endpoint(true);
    expect((await listAll(ep, "big", { delimiter: "/" })).commonPrefixes).toEqual(["awk/", "d0/", "d1/", "d2/", "d3/", "d4/", "d5/", "d6/"]);
    ep.client.destroy();
  });

  it("startAfter (also an awkward one), and maxKeys", async () => {
    const ref = await sdkAll("big");
    for (const direct of [true, false]) {
      const { ep, counts } = endpoint(direct);
      for (const after of ["d3/sub/k-00500", "awk/percent%41", "awk/ünï", "d6/zzz"]) {
        const got = await listAll(ep, "big", { startAfter: after });
        expect(got.objects).toEqual(ref.objects.filter((o) => o.key > after));
      }
      const before = counts.LIST;
      const one = await listPage(ep, "big", { maxKeys: 10, startAfter: "d1/" }, 3);
      expect(counts.LIST - before).toBe(1);
      expect(one.objects).toEqual(ref.objects.filter((o) => o.key > "d1/").slice(0, 10));
      expect(one.isTruncated).toBe(true);
      expect(one.nextContinuationToken).toBeTruthy();
      const empty = await listPage(ep, "empty", {}, 3);
      expect(empty).toEqual({ objects: [], commonPrefixes: [], isTruncated: false });
      ep.client.destroy();
    }
  });

  it("listLocation on top of listPage: relative keys filtered by accept, both paths", async () => {
    for (const direct of [true, false]) {
      const { ep, counts } = endpoint(direct);
      const got = await listLocation({ ep, bucket: "big", prefix: "awk/" }, 3, (rel) => !rel.startsWith("dir"));
      expect(got.map((e) => e.key).sort()).toEqual(AWKWARD.map((k) => k.slice(4)).filter((k) => !k.startsWith("dir")).sort());
      expect(counts.LIST).toBe(1);
      ep.client.destroy();
    }
  });

  it("a wrong access key: an auth error (isAuthError) on both paths, not retried", async () => {
    for (const direct of [true, false]) {
      const { ep, counts } = endpoint(direct, { accessKeyId: "NOT-A-KEY", secretAccessKey: "S3RVER" });
      const e = await listPage(ep, "big", {}, 5).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(Error);
      expect(isAuthError(e), String(e)).toBe(true);
      expect((e as { name: string }).name).toBe("InvalidAccessKeyId");
      // The SDK's own retries (maxAttempts 3) do not retry a 403 either.
      expect(counts.LIST).toBe(1);
      ep.client.destroy();
    }
  });
});

// ---------------------------------------------------------------- signature verification

/** SigV4 recomputed from the request as received (raw path and query, headers), by hand. */
function verifySigV4(req: http.IncomingMessage, secret: string): string | undefined {
  const auth = String(req.headers["authorization"] ?? "");
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return "malformed authorization";
  const [, , day, region, signedHeaders, signature] = m;
  const [rawPath, rawQuery = ""] = (req.url ?? "").split("?");
  const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = rawQuery
    .split("&")
    .filter(Boolean)
    .map((kv) => {
      const [k, v = ""] = kv.split("=");
      return [rfc3986(decodeURIComponent(k)), rfc3986(decodeURIComponent(v))];
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const names = signedHeaders.split(";");
  for (const required of ["host", "x-amz-date", "x-amz-content-sha256"]) if (!names.includes(required)) return `${required} not signed`;
  const canonHeaders = names.map((n) => `${n}:${String(req.headers[n] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const canonical = `${req.method}\n${rawPath}\n${query}\n${canonHeaders}\n${signedHeaders}\n${req.headers["x-amz-content-sha256"]}`;
  const amzDate = String(req.headers["x-amz-date"]);
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash("sha256").update(canonical).digest("hex")}`;
  let key: Buffer = createHmac("sha256", `AWS4${secret}`).update(day).digest();
  for (const part of [region, "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  const expected = createHmac("sha256", key).update(toSign).digest("hex");
  return expected === signature ? undefined : "signature mismatch";
}

describe("the direct LIST's signature, verified from the wire", () => {
  const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  let server: http.Server;
  let url = "";
  const seen: { url: string; verdict: string | undefined }[] = [];
  let failNext = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const verdict = verifySigV4(req, SECRET);
      seen.push({ url: req.url ?? "", verdict });
      if (failNext > 0) {
        failNext--;
        res.writeHead(503, { "content-type": "application/xml" }).end("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>");
        return;
      }
      if (verdict) {
        res.writeHead(403, { "content-type": "application/xml" }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match (${verdict})</Message></Error>`);
        return;
      }
      const q = new URL(req.url ?? "/", "http://x").searchParams;
      // Echo the decoded prefix back as one url-encoded key (as S3 does with encoding-type=url).
      const prefix = q.get("prefix") ?? "";
      const enc = q.get("encoding-type") === "url";
      const key = enc ? encodeURIComponent(prefix + "k").replace(/%20/g, "+") : prefix + "k";
      res.writeHead(200, { "content-type": "application/xml" }).end(xml(`${enc ? "<EncodingType>url</EncodingType>" : ""}<IsTruncated>false</IsTruncated>${contents(key)}`));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("accepted with awkward query values (prefix, delimiter, start-after, continuation token) and a base path-free endpoint", async () => {
    const { ep, counts } = endpoint(true, { accessKeyId: "AKIDEXAMPLE", secretAccessKey: SECRET }, url);
    const prefix = "a b+c%d&e=f/ünï/😀/\u0001*'()!~";
    const page = await listPage(ep, "my-bucket", { prefix, delimiter: "/", startAfter: "x y", maxKeys: 7 }, 3);
    expect(seen.at(-1)?.verdict).toBeUndefined();
    expect(page.objects.map((o) => o.key)).toEqual([prefix + "k"]);
    expect(seen.at(-1)?.url).toMatch(/^\/my-bucket\?list-type=2&encoding-type=url&prefix=.*&delimiter=%2F&start-after=x%20y&max-keys=7$/);
    await listPage(ep, "my-bucket", { continuationToken: "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=" }, 3);
    expect(seen.at(-1)?.verdict).toBeUndefined();
    expect(seen.at(-1)?.url).toContain("continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D");
    expect(counts.LIST).toBe(2);
    ep.client.destroy();
  });

  it("a wrong secret: SignatureDoesNotMatch, an auth error (isAuthError), not retried", async () => {
    const { ep, counts } = endpoint(true, { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wrong-secret" }, url);
    const e = await listPage(ep, "my-bucket", { prefix: "p" }, 5).catch((x: unknown) => x);
    expect(seen.at(-1)?.verdict).toBe("signature mismatch");
    expect((e as { name: string }).name).toBe("SignatureDoesNotMatch");
    expect((e as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(403);
    expect(isAuthError(e)).toBe(true);
    expect(counts.LIST).toBe(1);
    ep.client.destroy();
  });

  it("a retryable error (503 SlowDown) is retried with withRetry, each attempt counted", async () => {
    const { ep, counts } = endpoint(true, { accessKeyId: "AKIDEXAMPLE", secretAccessKey: SECRET }, url);
    failNext = 2;
    const page = await listPage(ep, "my-bucket", { prefix: "r/" }, 3);
    expect(page.objects.map((o) => o.key)).toEqual(["r/k"]);
    expect(counts.LIST).toBe(3);
    failNext = 5;
    const e = await listPage(ep, "my-bucket", {}, 2).catch((x: unknown) => x);
    expect((e as { name: string }).name).toBe("SlowDown");
    expect(counts.LIST).toBe(5);
    failNext = 0;
    ep.client.destroy();
  });
});

// The SDK path's request, for the record: the SDK sends EncodingType=url and returns the value undecoded.
describe("the SDK with EncodingType=url", () => {
  it("returns EncodingType and keys as the server sent them (no decoding of its own)", async () => {
    const r = await env.clients.a.send(new ListObjectsV2Command({ Bucket: "empty", EncodingType: "url" }));
    // s3rver ignores encoding-type: no EncodingType in the response, so nothing is decoded.
    expect(r.EncodingType).toBeUndefined();
  });
});
