// A `type: "swift"` endpoint of the runner config as an engine Endpoint (runner/store/s3.ts): the
// native Swift client (runner/store/swift.ts) counted into the run's request counts. The S3 fields
// of Endpoint (`client`, `bucketClient`) throw: every storage operation the engine does dispatches
// on `ep.swift` (listPage, transferObject, deleteKeys); a swift `state.endpoint` uses `ep.swift`
// too (runner/state/swift-store.ts).
import { createHash } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SwiftEndpointConfig } from "../config/types.js";
import { serverIdentity } from "../config/validate.js";
import type { ClientOptions, Endpoint } from "./s3.js";
import { SwiftClient } from "./swift.js";
import { swiftPrincipal, type SwiftAuthConfig } from "./swift-auth.js";

export function makeSwiftEndpoint(name: string, cfg: SwiftEndpointConfig, auth: SwiftAuthConfig, opts: ClientOptions): Endpoint {
  const segmentContainer = cfg.segmentContainer;
  const swift = new SwiftClient({
    auth,
    maxSockets: opts.maxSockets,
    requestTimeoutMs: opts.requestTimeoutMs,
    count: (kind) => opts.counts[kind]++,
    ...(segmentContainer !== undefined ? { segmentContainer: () => segmentContainer } : {}),
    ...(cfg.largeObjectThresholdMiB !== undefined ? { largeObjectThreshold: Math.floor(cfg.largeObjectThresholdMiB * 1024 * 1024) } : {}),
    ...(cfg.segmentSizeMiB !== undefined ? { segmentSize: Math.floor(cfg.segmentSizeMiB * 1024 * 1024) } : {}),
  });
  // Same auth server, region and principal ⇒ same account ⇒ X-Copy-From works between them.
  const who = createHash("sha256").update(swiftPrincipal(auth)).digest("hex").slice(0, 16);
  const copyIdentity = `${serverIdentity(cfg)}|${cfg.region ?? ""}|${cfg.interface ?? ""}|${who}`;
  const noS3 = (): never => {
    throw new Error(`internal error: an S3 request was attempted on the swift endpoint "${name}"`);
  };
  return {
    name,
    get client(): S3Client {
      return noS3();
    },
    bucketClient: noS3,
    copyIdentity,
    url: cfg.authUrl,
    swift,
  };
}
