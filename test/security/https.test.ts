// Endpoints must use https unless the host is loopback or the endpoint is explicitly marked
// `insecure: true` (runner validation). Look-alike hosts that merely contain "localhost" or
// "127.0.0.1" are remote hosts and are refused.
import { describe, expect, it } from "vitest";
import { ConfigError, validateConfig } from "../../runner/config/validate.js";

function cfg(endpoint: string, insecure?: boolean): unknown {
  return {
    endpoints: { e: { endpoint, credentials: { accessKeyId: "k", secretAccessKey: "s" }, ...(insecure === undefined ? {} : { insecure }) } },
    state: { dir: "/tmp/never" },
    jobs: [{ name: "j", mode: "copy", source: { endpoint: "e", bucket: "a" }, targets: [{ endpoint: "e", bucket: "b" }] }],
  };
}
function verdict(endpoint: string, insecure?: boolean): string {
  try {
    validateConfig(cfg(endpoint, insecure));
    return "accepted";
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    expect(e.field).toBe("endpoints.e.endpoint");
    return "refused";
  }
}

describe("https unless loopback or insecure: true", () => {
  it.each([
    ["https://s3.example.com", undefined, "accepted"],
    ["https://10.0.0.5:9000", undefined, "accepted"],
    ["http://127.0.0.1:9000", undefined, "accepted"],
    ["http://127.42.0.1", undefined, "accepted"],
    ["http://localhost:4568", undefined, "accepted"],
    ["http://LOCALHOST", undefined, "accepted"],
    ["http://[::1]:9000", undefined, "accepted"],
    ["http://127.1", undefined, "accepted"], // the URL parser normalises it to 127.0.0.1
    ["http://10.0.0.5:9000", undefined, "refused"],
    ["http://s3.example.com", undefined, "refused"],
    ["http://s3.example.com", false, "refused"],
    ["http://localhost.evil.example", undefined, "refused"],
    ["http://127.0.0.1.nip.io", undefined, "refused"],
    ["http://evil-127.0.0.1.example", undefined, "refused"],
    ["http://[::ffff:7f00:1]", undefined, "refused"],
    ["http://0.0.0.0:9000", undefined, "refused"],
    ["http://169.254.169.254", undefined, "refused"],
    ["http://minio.internal:9000", true, "accepted"],
  ] as const)("%s (insecure: %s) → %s", (endpoint, insecure, expected) => {
    expect(verdict(endpoint, insecure)).toBe(expected);
  });
});
