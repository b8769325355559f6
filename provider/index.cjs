// The component provider's runtime entry (package.json "main"): what Pulumi's plugin runner
// (@pulumi/pulumi/cmd/run-plugin) requires when `pulumi package add` runs this package. It exports
// the same components as index.ts, which is what the schema inference reads (it maps "main" to
// index.ts). Plain CommonJS on purpose: the plugin runner registers its own ts-node for .ts files,
// which cannot load this repository's ESM TypeScript, so this file hands the TypeScript sources to
// tsx (a dependency installed with the checkout) instead.
"use strict";
const { existsSync } = require("node:fs");
const { execFileSync } = require("node:child_process");
const { join } = require("node:path");
const tsx = require("tsx/cjs/api");

// The runner bundle ships in the npm package; a git checkout (how `pulumi package add` fetches the
// provider) has none until it is built. Build it once, on the first start, with the checkout's own
// build script. Its output goes to stderr: the plugin's stdout is the engine handshake (the port).
const root = join(__dirname, "..");
if (!existsSync(join(root, "dist", "runner.mjs"))) {
  execFileSync(process.execPath, [join(root, "scripts", "build-runner.mjs")], { cwd: root, stdio: ["ignore", 2, 2] });
}

module.exports = tsx.require("./index.ts", __filename);
