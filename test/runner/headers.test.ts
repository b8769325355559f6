// Header values carried from a source object (runner/store/headers.ts): printable ASCII unchanged,
// anything else RFC 2047-encoded; a signature mismatch caused by such data is not blamed on the
// credentials, while a real one still is.
import { describe, expect, it } from "vitest";
import { headerText, rfc2047, sendableHeader } from "../../runner/store/headers.js";
import { headerSignatureError, isAuthError, sendableObjectHeaders } from "../../runner/store/s3.js";
import { describeError } from "../../runner/job.js";

/** How Node hands over a header whose raw bytes are `bytes`. */
const received = (bytes: Buffer) => bytes.toString("latin1");

describe("header values", () => {
  it("ASCII is sent byte for byte; raw UTF-8 and ISO-8859-1 bytes are decoded and RFC 2047-encoded", () => {
    for (const v of ["team-x", 'attachment; filename="a b.txt"', "tab\there", "=?UTF-8?B?WsO2?=", ""]) expect(sendableHeader(v)).toBe(v);
    const utf8 = received(Buffer.from("Zoë 日本", "utf8"));
    expect(headerText(utf8)).toBe("Zoë 日本");
    expect(sendableHeader(utf8)).toBe(`=?UTF-8?B?${Buffer.from("Zoë 日本").toString("base64")}?=`);
    const latin1 = received(Buffer.from([0x72, 0xe9, 0x73]));
    expect(headerText(latin1)).toBe("rés");
    expect(sendableHeader(latin1)).toBe(rfc2047("rés"));
    expect(sendableHeader("already text ✓")).toBe(rfc2047("already text ✓"));
    expect(sendableHeader("ctl\u0001")).toBe(rfc2047("ctl\u0001"));
  });

  it("sendableObjectHeaders re-encodes standard headers and metadata values and names what it re-encoded", () => {
    const encoded: string[] = [];
    const out = sendableObjectHeaders(
      { contentType: "text/plain", contentDisposition: received(Buffer.from('inline; filename="ü"')), metadata: { owner: received(Buffer.from("Zoë")), plain: "x" } },
      ["contentType", "contentDisposition"],
      encoded,
    );
    expect(out).toEqual({ contentType: "text/plain", contentDisposition: rfc2047('inline; filename="ü"'), metadata: { owner: rfc2047("Zoë"), plain: "x" } });
    expect(encoded.sort()).toEqual(["content-disposition", "x-amz-meta-owner"]);
  });

  const sigMismatch = () =>
    Object.assign(new Error("The request signature we calculated does not match the signature you provided. Check your key and signing method."), {
      name: "SignatureDoesNotMatch",
      Code: "SignatureDoesNotMatch",
      $metadata: { httpStatusCode: 403 },
    });
  const where = { ep: { name: "b", url: "http://127.0.0.1:1" }, bucket: "dst", prefix: "" } as never;

  it("a SignatureDoesNotMatch on a request carrying re-encoded source headers names the headers, not the credentials", () => {
    const e = headerSignatureError(sigMismatch(), ["x-amz-meta-owner", "content-disposition"]);
    expect(isAuthError(e)).toBe(false);
    const msg = describeError(e, where);
    expect(msg).toContain("x-amz-meta-owner, content-disposition");
    expect(msg).toContain("non-ASCII");
    expect(msg).not.toContain("endpoints.b.credentials");
  });

  it("a SignatureDoesNotMatch without such headers (wrong secret, unknown key on Swift) stays an auth error naming the credentials", () => {
    const e = headerSignatureError(sigMismatch(), []);
    expect(isAuthError(e)).toBe(true);
    expect(describeError(e, where)).toContain("check endpoints.b.credentials");
    const other = Object.assign(new Error("x"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
    expect(headerSignatureError(other, ["x-amz-meta-owner"])).toBe(other);
  });
});
