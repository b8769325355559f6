// Builds the library half of the npm package: components/ (what `import ... from "bucket-replication"`
// gives) as JavaScript plus .d.ts, twice:
//   lib/esm  ES modules, compiled by tsc (tsconfig.build.json), for `import`;
//   lib/cjs  the same modules converted to CommonJS by esbuild, with the same .d.ts, for `require`
//            (the usual Pulumi TypeScript project is CommonJS, and require() of an ES module needs
//            Node 20.19 / 22.12, while @pulumi/pulumi supports every Node 22).
// The runner bundle (dist/runner.mjs) is built by scripts/build-runner.mjs; `npm run build` runs both.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lib = join(root, "lib");
const esm = join(lib, "esm");
const cjs = join(lib, "cjs");
const started = Date.now();

rmSync(lib, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });

/** Every file under dir, as absolute paths. */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}
const files = walk(esm);
const js = files.filter((f) => f.endsWith(".js"));

const URL_VAR = "__bucketReplicationModuleUrl";
const out = await build({
  entryPoints: js,
  outdir: cjs,
  outbase: esm,
  bundle: false,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
  // import.meta.url (how components/package.ts finds the package's own files) has no CommonJS
  // form that esbuild writes by itself: each module gets its file URL from __filename instead.
  define: { "import.meta.url": URL_VAR },
  write: false,
});
for (const file of out.outputFiles) {
  let text = file.text;
  // Declared after "use strict" (a banner would come before it and turn strict mode off).
  if (text.includes(URL_VAR)) {
    text = text.replace(/^"use strict";\n/, (s) => `${s}var ${URL_VAR} = require("node:url").pathToFileURL(__filename).href;\n`);
  }
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, text);
}
// The declarations are the same; under lib/cjs (a "type": "commonjs" scope) TypeScript reads them
// as CommonJS modules, so a CommonJS project sees what require() really returns.
for (const f of files.filter((f) => f.endsWith(".d.ts"))) {
  const to = join(cjs, relative(esm, f));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(f, to);
}
writeFileSync(join(cjs, "package.json"), JSON.stringify({ type: "commonjs" }, null, 2) + "\n");
console.log(`built lib/esm and lib/cjs (${js.length} modules each) in ${Date.now() - started} ms`);
