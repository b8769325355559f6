// Bundles the runner into one self-contained ESM file, dist/runner.mjs, that runs with plain
// `node` and no node_modules (the artifact the deployment components ship).
import { build } from "esbuild";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zlibConstants } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist", "runner.mjs");
// Build next to the target, then rename: a runner started while a build runs (the demo, a test,
// a deploy) reads either the old bundle or the new one, never a half-written file.
const tmpfile = `${outfile}.${process.pid}.tmp`;
mkdirSync(dirname(outfile), { recursive: true });

const started = Date.now();
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
  write: false,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  minifyWhitespace: true,
  legalComments: "none",
  logLevel: "warning",
});
// Brotli-compressed and base64-encoded: 0.23 MB in place of a 1.04 MB string constant, which every
// start read, decoded and scanned (12-15 ms of a 0.17 s `--version`); decompressing it when a run
// needs the SDK takes about 5 ms.
const sdkSource = brotliCompressSync(Buffer.from(sdkBuild.outputFiles[0].text, "utf8"), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).toString("base64");

const result = await build({
  entryPoints: [join(root, "runner", "cli.ts")],
  outfile: tmpfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: false,
  legalComments: "none",
  sourcemap: false,
  metafile: true,
  define: { __RUNNER_VERSION__: JSON.stringify(version), __RUNNER_SDK_SOURCE__: JSON.stringify(sdkSource) },
  logLevel: "warning",
  banner: {
    js: [
      "#!/usr/bin/env node",
      "// replication-runner: bundled by scripts/build-runner.mjs. Source: runner/.",
      'import { createRequire as __replCreateRequire } from "node:module";',
      "const require = __replCreateRequire(import.meta.url);",
      'process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";',
      // The SDK warns that future versions need Node 22; it is noise for runner users.
      "{ const __emit = process.emitWarning.bind(process); process.emitWarning = (w, ...a) => { const s = typeof w === \"string\" ? w : w?.message ?? \"\"; const t = typeof a[0] === \"string\" ? a[0] : a[0]?.type ?? w?.name; if (t === \"NodeVersionSupportWarning\" || /NodeVersionSupportWarning|will require node >=/.test(s)) return; return __emit(w, ...a); }; }",
    ].join("\n"),
  },
});
// The SDK must reach the runner only through the string above: a static import of it anywhere in
// runner/ would put it back into the start-up path (and into the file twice).
const eager = Object.keys(result.metafile.inputs).filter((f) => /node_modules\/@(aws-sdk|smithy|aws-crypto)\//.test(f));
if (eager.length) {
  rmSync(tmpfile, { force: true });
  throw new Error(`the runner bundle imports the AWS SDK directly (${eager.slice(0, 3).join(", ")}...); use sdk() from runner/store/sdk.ts`);
}
chmodSync(tmpfile, 0o755);
renameSync(tmpfile, outfile);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`built ${outfile} (${(bytes / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`);
