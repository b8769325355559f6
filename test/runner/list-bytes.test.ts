// The byte-level listing parser (runner/store/list-bytes.ts) against the general scanner
// (parseListGeneral): random pages with awkward keys, both encodings, fields in any order, nested
// and unknown elements. Where the fast path reads a page it must give exactly the general scanner's
// page; where the page is unusual it must hand over (undefined) rather than guess.
import { describe, expect, it } from "vitest";
import { contentsInOrder, PageState, parseListBytes, peekListBytes } from "../../runner/store/list-bytes.js";
import { decodeUrlValue, decodeXmlText, parseListGeneral, parseListObjectsV2, parseRawPage, type RawPage } from "../../runner/store/list.js";
import { stripEtag } from "../../runner/store/s3.js";

const D = { decodeXmlText, decodeUrlValue, stripEtag };

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ALPHABET = ["a", "b", "Z", "0", "/", " ", "+", "%", "&", "<", ">", '"', "'", "\t", "\u0001", "é", "日", "😀", "\uE000", "~", "*", "="];
const xmlEsc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const urlEnc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+").replace(/%2F/g, "/");

function randomKey(r: () => number): string {
  const n = 1 + Math.floor(r() * 12);
  let k = "";
  for (let i = 0; i < n; i++) k += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return k;
}

function page(r: () => number, url: boolean, encodingLast: boolean): { body: string; keys: string[] } {
  const keys: string[] = [];
  const fields: string[] = [];
  const enc = (k: string) => (url ? urlEnc(k) : xmlEsc(k.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, "?")));
  const n = Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    const key = randomKey(r);
    keys.push(key);
    const extra = r() < 0.5 ? `<Owner><ID>o</ID><DisplayName>me &amp; you</DisplayName></Owner>` : `<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>`;
    const parts = [
      `<Key>${enc(key)}</Key>`,
      r() < 0.9 ? `<LastModified>2026-0${1 + Math.floor(r() * 9)}-1${Math.floor(r() * 9)}T0${Math.floor(r() * 9)}:1${Math.floor(r() * 9)}:2${Math.floor(r() * 9)}.${Math.floor(r() * 900) + 100}Z</LastModified>` : `<LastModified>Tue, 02 Jan 2026 03:04:05 GMT</LastModified>`,
      r() < 0.8 ? `<ETag>&quot;${Math.floor(r() * 1e9).toString(16).padStart(32, "0")}&quot;</ETag>` : r() < 0.5 ? `<ETag>"abc-3"</ETag>` : `<ETag>W/&quot;x-1&quot;</ETag>`,
      `<Size>${Math.floor(r() * 1e12)}</Size>`,
      extra,
      `<StorageClass>STANDARD</StorageClass>`,
    ];
    if (r() < 0.5) {
      // The order servers send (the parser's one-go path, contentsInOrder): a checksum field
      // before Size, an Owner after it.
      if (extra.startsWith("<Checksum")) [parts[3], parts[4]] = [parts[4], parts[3]];
    } else {
      for (let j = parts.length - 1; j > 0; j--) {
        const k = Math.floor(r() * (j + 1));
        [parts[j], parts[k]] = [parts[k], parts[j]];
      }
    }
    fields.push(`<Contents>${parts.join(r() < 0.2 ? "\n  " : "")}</Contents>`);
  }
  const prefixes = Array.from({ length: Math.floor(r() * 4) }, () => `<CommonPrefixes><Prefix>${enc(randomKey(r) + "/")}</Prefix></CommonPrefixes>`);
  const token = r() < 0.5 ? `<NextContinuationToken>tok&amp;${Math.floor(r() * 1e6)}</NextContinuationToken>` : "";
  const truncated = `<IsTruncated>${token ? "true" : "false"}</IsTruncated>`;
  const encoding = url ? "<EncodingType>url</EncodingType>" : "";
  const head = `<Name>b</Name><Prefix></Prefix><KeyCount>${n}</KeyCount><MaxKeys>1000</MaxKeys>${encodingLast ? "" : encoding}${truncated}${token}`;
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${head}${fields.join("")}${prefixes.join("")}${encodingLast ? encoding : ""}</ListBucketResult>`;
  return { body, keys };
}

describe("parseListBytes", () => {
  it("gives the general scanner's page for 600 random pages (both encodings, EncodingType before or after the keys)", () => {
    const r = rng(12345);
    let read = 0;
    for (let i = 0; i < 600; i++) {
      const url = i % 3 !== 0;
      const { body, keys } = page(r, url, i % 5 === 0);
      const buf = Buffer.from(body, "utf8");
      const general = parseListGeneral(buf);
      const fast = parseListBytes(buf, D);
      if (fast) {
        read++;
        expect(fast).toEqual(general);
      }
      expect(parseListObjectsV2(buf)).toEqual(general);
      // Keys come back exactly (non-url pages replaced controls, which XML cannot carry).
      if (url) expect(general.objects.map((o) => o.key)).toEqual(keys);
    }
    // The fast path reads the pages real servers send, not just a few.
    expect(read).toBe(600);
  });

  it("Contents in the servers' order and every near miss (read tag by tag instead) give the general scanner's page", () => {
    const head = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>`;
    const c = (inner: string) => `<Contents>${inner}</Contents>`;
    const KEY = "<Key>a%2Fb+c%26d</Key>";
    const LM = "<LastModified>2026-03-04T05:06:07.089Z</LastModified>";
    const ET = "<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>";
    const SZ = "<Size>12345</Size>";
    const SC = "<StorageClass>STANDARD</StorageClass>";
    // Read in one go (contentsInOrder), to the end of the element.
    const inOrder = [
      KEY + LM + ET + SZ + SC,
      KEY + LM + ET + "<ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>" + SZ + SC,
      KEY + LM + ET + SZ + "<Owner><ID>abc</ID><DisplayName>x &amp; y</DisplayName></Owner>" + SC,
      KEY + LM + ET + SZ,
      KEY + LM + ET + "<Size></Size>",
      KEY + "<LastModified>Tue, 02 Jan 2026 03:04:05 GMT</LastModified>" + ET + SZ,
    ];
    // Near misses, read tag by tag: whitespace, another order, an attribute, a comment, a second Key
    // or Size after Size, a mismatched end tag, CDATA in the key, an ETag with an entity, a weak
    // ETag, a Size that is not digits.
    const nearMisses = [
      KEY + "\n" + LM + ET + SZ + SC,
      LM + KEY + ET + SZ + SC,
      KEY + LM + ET + SZ + '<StorageClass x="1">STANDARD</StorageClass>',
      KEY + LM + ET + SZ + "<!-- c -->" + SC,
      KEY + LM + ET + SZ + "<Key>other</Key>" + SC,
      KEY + LM + ET + SZ + "<Size>9</Size>",
      KEY + LM + ET + SZ + "<StorageClass>STANDARD</StorageClas>",
      "<Key><![CDATA[k]]></Key>" + LM + ET + SZ,
      KEY + LM + "<ETag>&quot;ab&amp;cd&quot;</ETag>" + SZ,
      KEY + LM + "<ETag>W/&quot;x-1&quot;</ETag>" + SZ,
      KEY + LM + ET + "<Size>1e3</Size>",
    ];
    const variants = [...inOrder, ...nearMisses];
    for (const v of variants) {
      for (const body of [head + c(v) + "</ListBucketResult>", head + c(v) + c(KEY.replace("a%2F", "z")  + LM + ET + SZ + SC) + "</ListBucketResult>"]) {
        const buf = Buffer.from(body, "utf8");
        const fast = parseListBytes(buf, D);
        let general: unknown;
        try {
          general = parseListGeneral(buf);
        } catch (e) {
          general = e;
        }
        if (fast) expect(fast, v).toEqual(general);
        else expect(parseListObjectsV2(buf), v).toEqual(general);
      }
    }
    for (const v of inOrder) {
      const el = Buffer.from(c(v));
      expect(contentsInOrder(new PageState(), el, "<Contents>".length), v).toBe(el.length);
    }
    for (const v of nearMisses) expect(contentsInOrder(new PageState(), Buffer.from(c(v)), "<Contents>".length), v).toBe(-1);
    // The usual shape is read by the byte parser, with every field.
    const one = parseListBytes(Buffer.from(head + c(variants[0]) + "</ListBucketResult>"), D);
    expect(one?.objects).toEqual([{ key: "a/b c&d", size: 12345, etag: "0123456789abcdef0123456789abcdef", mtime: Date.UTC(2026, 2, 4, 5, 6, 7, 89) }]);
  });

  it("peekListBytes (a page held unparsed) agrees with the parse on 600 random pages: last key, IsTruncated, token", () => {
    const r = rng(777);
    let peeked = 0;
    for (let i = 0; i < 600; i++) {
      const url = i % 3 !== 0;
      const { body } = page(r, url, i % 5 === 0);
      const buf = Buffer.from(body, "utf8");
      const general = parseListGeneral(buf);
      const peek = peekListBytes(buf, D);
      if (!general.objects.length) {
        expect(peek).toBeUndefined();
        continue;
      }
      expect(peek, body.slice(0, 300)).toBeDefined();
      peeked++;
      expect(peek!.lastKey).toBe(general.objects[general.objects.length - 1].key);
      expect(peek!.isTruncated).toBe(general.isTruncated);
      expect(peek!.nextContinuationToken).toBe(general.nextContinuationToken);
      expect(parseRawPage({ ...peek!, raw: buf })).toEqual(general);
    }
    expect(peeked).toBeGreaterThan(500);
  });

  it("peekListBytes leaves unusual bodies to an immediate parse, and a parse that disagrees with the peek is an error", () => {
    const ok = `<?xml version="1.0"?>\n<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken><Contents><Key>a</Key><Size>1</Size></Contents><Contents><Key>b%2B</Key><Size>2</Size></Contents><EncodingType>url</EncodingType></ListBucketResult>\n`;
    expect(peekListBytes(Buffer.from(ok), D)).toEqual({ isTruncated: true, nextContinuationToken: "t&1", lastKey: "b+" });
    const unusual = [
      ok.replace("<Key>b%2B</Key>", "<Key><![CDATA[b%2B]]></Key>"),
      ok.replace("<Key>b%2B</Key>", "<Key>b<!-- c -->%2B</Key>"),
      ok.replace("<?xml version=\"1.0\"?>", "<!DOCTYPE x>"),
      ok.replace("</ListBucketResult>", ""),
      ok.replace("<EncodingType>url</EncodingType>", "<EncodingType>URL</EncodingType>"),
      ok.replace("<IsTruncated>true</IsTruncated>", ""),
      ok.replace(/<Contents>.*?<\/Contents>/g, ""),
      "<Error><Code>AccessDenied</Code></Error>",
      "<html><body>proxy</body></html>",
      "",
    ];
    for (const body of unusual) expect(peekListBytes(Buffer.from(body), D), body).toBeUndefined();
    // A comment or CDATA elsewhere is read by the parse when the page is taken (the general scanner).
    const commented = ok.replace("<Contents>", "<!-- c --><Contents>").replace("<Key>a</Key>", "<Key><![CDATA[a]]></Key>");
    const cp = peekListBytes(Buffer.from(commented), D)!;
    expect(cp.lastKey).toBe("b+");
    expect(parseRawPage({ ...cp, raw: Buffer.from(commented) }).objects.map((o) => o.key)).toEqual(["a", "b+"]);
    // A comment hiding a <Key> after the last one fools the peek; the parse refuses the page.
    const hidden = ok.replace("<EncodingType>", "<!-- <Key>zz</Key> --><EncodingType>");
    const hp = peekListBytes(Buffer.from(hidden), D)!;
    expect(hp.lastKey).toBe("zz");
    expect(() => parseRawPage({ ...hp, raw: Buffer.from(hidden) })).toThrow(/read twice gave two answers/);
    // Bytes changed between the peek and the parse (or a peek fooled by a shape it missed).
    const peek = peekListBytes(Buffer.from(ok), D)!;
    const other: RawPage = { ...peek, raw: Buffer.from(ok.replace("b%2B", "c")) };
    expect(() => parseRawPage(other)).toThrow(/read twice gave two answers/);
  });

  it("hands unusual pages to the general scanner: comments, CDATA, DOCTYPE, error documents, bad sizes, quoted entities in ETags", () => {
    const ok = `<?xml version="1.0"?><ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Size>1</Size><ETag>&quot;e&quot;</ETag></Contents></ListBucketResult>`;
    expect(parseListBytes(Buffer.from(ok), D)).toEqual({ objects: [{ key: "a", size: 1, etag: "e", mtime: 0 }], commonPrefixes: [], isTruncated: false });
    const unusual = [
      ok.replace("<Contents>", "<!-- c --><Contents>"),
      ok.replace("<Key>a</Key>", "<Key><![CDATA[a]]></Key>"),
      ok.replace("<?xml version=\"1.0\"?>", "<!DOCTYPE x>"),
      ok.replace("<Size>1</Size>", "<Size> 1 </Size>"),
      ok.replace("&quot;e&quot;", "&quot;e&amp;&quot;"),
      ok.replace("<Key>a</Key>", ""),
      ok.replace("</ListBucketResult>", ""),
      ok.replace("<IsTruncated>false</IsTruncated>", "<EncodingType>URL</EncodingType>"),
      "<Error><Code>AccessDenied</Code></Error>",
      "not xml",
    ];
    for (const body of unusual) expect(parseListBytes(Buffer.from(body), D), body).toBeUndefined();
    // The general scanner still reads the readable ones.
    expect(parseListObjectsV2(Buffer.from(unusual[0])).objects.map((o) => o.key)).toEqual(["a"]);
    expect(parseListObjectsV2(Buffer.from(unusual[1])).objects.map((o) => o.key)).toEqual(["a"]);
    expect(parseListObjectsV2(Buffer.from(unusual[3])).objects[0].size).toBe(1);
  });

  it("keeps no view of the page: keys are fresh strings, equal after the body is overwritten", () => {
    const body = Buffer.from(`<ListBucketResult><Contents><Key>k%C3%A9y+1</Key><Size>3</Size><ETag>&quot;abc&quot;</ETag></Contents><EncodingType>url</EncodingType></ListBucketResult>`);
    const pg = parseListBytes(body, D)!;
    body.fill(0);
    expect(pg.objects).toEqual([{ key: "kéy 1", size: 3, etag: "abc", mtime: 0 }]);
  });
});
