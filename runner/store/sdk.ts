// The AWS SDK (client-s3 and lib-storage), loaded on first use instead of at start-up.
//
// Why: the SDK was most of the bundle (1.4 of 1.8 MB). Compiling and evaluating it cost about
// 0.1 s of every start, and many runs never touch it: a no-op between S3-compatible endpoints with
// static keys and a local state lists through the direct client (direct.ts) and signs itself.
// In dist/runner.mjs the SDK is a separate CommonJS bundle carried as a string constant
// (scripts/build-runner.mjs sets __RUNNER_SDK_SOURCE__), Brotli-compressed and base64-encoded:
// V8 only scans a string, and a short one without escapes, so it costs almost nothing until
// `sdk()` decompresses and compiles it (as the 1.04 MB string itself, 12-15 ms of every start).
// Run from source (tsx, tests), the packages come from node_modules. Either way the load is
// synchronous, so a client can be made in a getter.
import type * as ClientS3 from "@aws-sdk/client-s3";
import type * as LibStorage from "@aws-sdk/lib-storage";
import { createRequire } from "node:module";
import { compileFunction } from "node:vm";
import { brotliDecompressSync } from "node:zlib";

export type Sdk = typeof ClientS3 & Pick<typeof LibStorage, "Upload">;

/** Set by the bundle build: the SDK's CommonJS bundle, exporting client-s3's names and `Upload`
 *  (Brotli, base64). */
declare const __RUNNER_SDK_SOURCE__: string | undefined;

const requireHere = createRequire(import.meta.url);
let loaded: Sdk | undefined;

/** The SDK's exports; compiled and evaluated on the first call, then cached. */
export function sdk(): Sdk {
  return (loaded ??= load());
}

/** Whether `sdk()` has been called (tests: a no-op must not need it). */
export function sdkLoaded(): boolean {
  return loaded !== undefined;
}

function load(): Sdk {
  if (typeof __RUNNER_SDK_SOURCE__ === "string") {
    // A CommonJS module wrapper; the bundle's own `require` serves the Node built-ins it needs.
    const source = brotliDecompressSync(Buffer.from(__RUNNER_SDK_SOURCE__, "base64")).toString("utf8");
    const factory = compileFunction(source, ["require", "module", "exports"], { filename: "runner.mjs:aws-sdk.cjs" });
    const mod = { exports: {} as Sdk };
    factory(requireHere, mod, mod.exports);
    return mod.exports;
  }
  const s3 = requireHere("@aws-sdk/client-s3") as typeof ClientS3;
  const storage = requireHere("@aws-sdk/lib-storage") as typeof LibStorage;
  return { ...s3, Upload: storage.Upload };
}
