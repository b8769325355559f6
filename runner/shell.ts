// The first lines of dist/runner.mjs (scripts/build-runner.mjs): the runner itself (cli.ts and all
// it imports) is a CommonJS bundle carried here as a string, compiled with a V8 code cache.
//
// Why: every run starts a fresh Node process, and compiling the bundle cost a share of each one. A
// 100,000-key no-op at 50 ms per LIST took 0.65 s, of which about 0.2 s passed before the first
// LIST left. With the bytecode of the functions a run used cached on disk, compiled once and
// then read back, the same no-op took 0.03 s less (the bundle loaded as an ES module and compiled
// lazily, function by function, against this: docs/performance.md).
//
// The cache is an optimisation only: anything unusual (no usable directory, a cache V8 rejects, a
// failed write) compiles as without one, and nothing is printed.
// - Where: $REPLICATION_RUNNER_CODE_CACHE (a directory, or "off"); else $XDG_CACHE_HOME or
//   ~/.cache, under bucket-replication/. A fresh container has none yet: it compiles, as without.
// - Only a directory this user owns that no one else may write to (0700 when created here): the
//   cache is code this process runs.
// - One file per runner build, Node version and V8 flags (V8 also checks the source and its own
//   version, and rejects a cache that does not match: then it is written again). A SHA-256 of the
//   bytecode comes first: V8 does not check that the bytes are intact, and a damaged cache could
//   crash every run.
// - Written when a `run` or `check` exits with 0 and no cache was accepted: the bytecode of every
//   function that run compiled, so a cache from `--version` or a failed start never stands in for a
//   real run's.
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

/** The runner's CommonJS bundle, as the body of a function (exports, require, module, __filename,
 *  __dirname, importMetaUrl); and a hash of it (build-runner.mjs). */
declare const __RUNNER_BODY__: string;
declare const __RUNNER_BODY_HASH__: string;

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE ??= "1";
{
  // The AWS SDK warns about Node versions it will drop; the runner's own engines field decides.
  const emit = process.emitWarning.bind(process) as (...a: unknown[]) => void;
  process.emitWarning = ((w: string | Error, ...a: unknown[]) => {
    const s = typeof w === "string" ? w : (w?.message ?? "");
    const first = a[0] as string | { type?: string } | undefined;
    const t = typeof first === "string" ? first : (first?.type ?? (typeof w === "string" ? undefined : w?.name));
    if (t === "NodeVersionSupportWarning" || /NodeVersionSupportWarning|will require node >=/.test(s)) return;
    emit(w, ...a);
  }) as typeof process.emitWarning;
}

const file = fileURLToPath(import.meta.url);

/** The cache directory, if usable (see above). */
function cacheDir(): string | undefined {
  const env = process.env.REPLICATION_RUNNER_CODE_CACHE;
  if (env === "off" || env === "0") return undefined;
  const base = env || (process.env.XDG_CACHE_HOME ? join(process.env.XDG_CACHE_HOME, "bucket-replication") : process.env.HOME ? join(process.env.HOME, ".cache", "bucket-replication") : undefined);
  if (!base || typeof process.getuid !== "function") return undefined;
  try {
    mkdirSync(base, { recursive: true, mode: 0o700 });
    const st = statSync(base);
    // Ours, and no one else may write to it: what is in it is code this process will run.
    return st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o022) === 0 ? base : undefined;
  } catch {
    return undefined;
  }
}

/** One file per build, Node version and flags, given or through NODE_OPTIONS (the deployed units
 *  set them there): V8 rejects a cache made under other flags. */
function cacheFile(dir: string): string {
  let h = 0;
  for (const ch of `${process.version} ${process.arch} ${process.execArgv.join(" ")} ${process.env.NODE_OPTIONS ?? ""}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return join(dir, `runner-${__RUNNER_BODY_HASH__}-${process.version}-${(h >>> 0).toString(36)}.v8cache`);
}

/**
 * The cache's bytecode, if the file is ours and whole. V8 checks that a cache fits the source, its
 * own version and the flags, but not that the bytes are intact (in release builds): a damaged cache
 * can crash the process. So the file starts with the SHA-256 of the rest, checked here.
 */
function readCache(path: string): Buffer | undefined {
  try {
    const fd = openSync(path, "r");
    try {
      if (fstatSync(fd).uid !== process.getuid!()) return undefined;
      const bytes = readFileSync(fd);
      const data = bytes.subarray(32);
      return bytes.length > 32 && createHash("sha256").update(data).digest().equals(bytes.subarray(0, 32)) ? data : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

const dir = cacheDir();
const path = dir && cacheFile(dir);
const cached = path ? readCache(path) : undefined;
const script = new Script(__RUNNER_BODY__, { filename: file, cachedData: cached });
const command = process.argv.slice(2).find((a) => !a.startsWith("-"));
if (path && (!cached || script.cachedDataRejected) && (command === "run" || command === "check")) {
  process.once("exit", (code) => {
    if (code !== 0) return; // a run cut short compiled only part of what a run uses
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      const data = script.createCachedData();
      writeFileSync(tmp, Buffer.concat([createHash("sha256").update(data).digest(), data]), { mode: 0o600 });
      renameSync(tmp, path); // whole or not at all, for runs that start meanwhile
    } catch {
      // A full disk or a read-only directory: the next run compiles, as this one did.
      rmSync(tmp, { force: true });
    }
  });
}
const mod = { exports: {} };
(script.runInThisContext() as (...a: unknown[]) => void).call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file), import.meta.url);
