// Header values a copy carries over from its source object (Content-Type, Cache-Control,
// Content-Disposition, Content-Encoding, Content-Language, Expires, x-amz-meta-*), made safe to send.
//
// Swift, Ceph RGW and MinIO return bytes verbatim that were stored through other APIs, e.g. raw
// UTF-8 in user metadata or in Content-Disposition. Node hands such a header over as one character
// per byte (latin1). Sent back as it is, the bytes on the wire are the original ones but SigV4
// signers (ours and the SDK's) hash the string as UTF-8, so the server computes another signature:
// 403 SignatureDoesNotMatch, on every copy of that object. AWS itself accepts only ASCII there and
// represents other values RFC 2047-encoded. So a value that is printable ASCII (and tab) is sent
// unchanged, byte for byte; any other value is decoded (UTF-8 when its bytes are valid UTF-8,
// otherwise ISO-8859-1) and sent as one RFC 2047 encoded word, `=?UTF-8?B?<base64 of UTF-8>?=`,
// the form AWS uses for metadata it cannot represent. docs/runner.md documents this.

const SAFE = /^[\t\x20-\x7e]*$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The text a received header value carries (Node gives raw bytes as latin1 characters). */
export function headerText(received: string): string {
  if (SAFE.test(received)) return received;
  // Characters above U+00FF: already text (not from an HTTP parser).
  if (/[^\x00-\xff]/.test(received)) return received;
  try {
    return utf8.decode(Buffer.from(received, "latin1"));
  } catch {
    return received; // not UTF-8: each byte is its ISO-8859-1 character
  }
}

/** RFC 2047 B-encoded word of a text. */
export function rfc2047(text: string): string {
  return `=?UTF-8?B?${Buffer.from(text, "utf8").toString("base64")}?=`;
}

/** A value safe to send and sign: unchanged when printable ASCII, else RFC 2047-encoded. */
export function sendableHeader(received: string): string {
  return SAFE.test(received) ? received : rfc2047(headerText(received));
}

/**
 * Make a set of header values sendable. `encoded` receives the wire names of the headers that had
 * to be re-encoded (for error messages: a signature mismatch on such a request is about the data).
 */
export function sendableHeaders<T extends Record<string, string | undefined>>(h: T, wireName: (field: string) => string, encoded: string[]): T {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) {
      out[k] = v;
      continue;
    }
    const s = sendableHeader(v);
    if (s !== v) encoded.push(wireName(k));
    out[k] = s;
  }
  return out as T;
}

/** Whether a value needs re-encoding (not printable ASCII). */
export function needsEncoding(v: string): boolean {
  return !SAFE.test(v);
}
