// Bundles the runner into one self-contained ESM file, dist/runner.mjs, that runs with plain
// `node` and no node_modules (the artifact the deployment components ship).
import { build } from "esbuild";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { brotliCompressSync, constants as zlibConstants } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist", "runner.mjs");
// Build next to the target, then rename: a runner started while a build runs (the demo, a test,
// a deploy) reads either the old bundle or the new one, never a half-written file.
const tmpfile = `${outfile}.${process.pid}.tmp`;
mkdirSync(dirname(outfile), { recursive: true });

const started = Date.now();
/** What every bundle here is: self-contained, for Node 20 and later, no legal comments. */
const forNode = { bundle: true, platform: "node", target: "node20", legalComments: "none", logLevel: "warning" };
// `replication-runner --version` prints this (runner/cli.ts reads package.json itself under tsx).
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
// The AWS SDK as its own CommonJS bundle, carried in the runner as a string and compiled on first
// use (runner/store/sdk.ts): a run that never needs it does not pay about 0.1 s to compile and
// evaluate it. Whitespace is minified (a smaller file to read at every start); names are kept, so
// its stack traces stay readable.
const sdkBuild = await build({
  stdin: {
    contents: 'module.exports = { ...require("@aws-sdk/client-s3"), Upload: require("@aws-sdk/lib-storage").Upload };',
    resolveDir: root,
    sourcefile: "aws-sdk.cjs",
    loader: "js",
  },
  ...forNode,
  write: false,
  format: "cjs",
  minifyWhitespace: true,
});
// Brotli-compressed and base64-encoded: 0.23 MB in place of a 1.04 MB string constant, which every
// start read, decoded and scanned (12-15 ms of a 0.17 s `--version`); decompressing it when a run
// needs the SDK takes about 5 ms.
const sdkSource = brotliCompressSync(Buffer.from(sdkBuild.outputFiles[0].text, "utf8"), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).toString("base64");

// The runner: a CommonJS bundle of runner/cli.ts, carried as a string by the entry
// runner/shell.ts, which compiles it with a V8 code cache (see there). import.meta.url, which
// CommonJS lacks, is the shell's, passed in.
const body = await build({
  ...forNode,
  entryPoints: [join(root, "runner", "cli.ts")],
  write: false,
  format: "cjs",
  metafile: true,
  define: { __RUNNER_VERSION__: JSON.stringify(version), __RUNNER_SDK_SOURCE__: JSON.stringify(sdkSource), "import.meta.url": "__importMetaUrl" },
});
const bodyText = `(function (exports, require, module, __filename, __dirname, __importMetaUrl) {\n${body.outputFiles[0].text}\n})`;
const result = await build({
  ...forNode,
  entryPoints: [join(root, "runner", "shell.ts")],
  outfile: tmpfile,
  format: "esm",
  metafile: true,
  define: { __RUNNER_BODY__: JSON.stringify(bodyText), __RUNNER_BODY_HASH__: JSON.stringify(createHash("sha256").update(bodyText).digest("hex").slice(0, 16)) },
  banner: { js: ["#!/usr/bin/env node", "// replication-runner: bundled by scripts/build-runner.mjs. Source: runner/ (runner/shell.ts, then runner/cli.ts as a string)."].join("\n") },
});
const eager = Object.keys(body.metafile.inputs).filter((f) => /node_modules\/@(aws-sdk|smithy|aws-crypto)\//.test(f));
if (eager.length) {
  rmSync(tmpfile, { force: true });
  throw new Error(`the runner bundle imports the AWS SDK directly (${eager.slice(0, 3).join(", ")}...); use sdk() from runner/store/sdk.ts`);
}
chmodSync(tmpfile, 0o755);
renameSync(tmpfile, outfile);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`built ${outfile} (${(bytes / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`);
