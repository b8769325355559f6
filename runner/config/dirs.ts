// Local directories of the config (state.dir, spoolDir): resolved against the config file's folder,
// created without Node's recursive mkdir, and checked before any job starts, so a bad directory is
// one exit-2 error naming the field instead of a failure (or a hang) in the middle of a run.
import { closeSync, mkdirSync, openSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "./validate.js";

/** A config path as the runner uses it: relative paths are relative to the config file's folder
 *  (not to the working directory, which differs between a shell, systemd and cron). */
export function resolveConfigPath(configFile: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dirname(resolve(configFile)), p);
}

/**
 * mkdir -p, one component at a time. Node's `mkdirSync(p, { recursive: true })` retries forever
 * (100% CPU, deaf to signals: the loop never yields) when the parent exists but refuses new entries
 * with ENOENT, as /proc does; here every component is created once and its error is thrown.
 */
export function ensureDir(path: string, mode?: number): void {
  const missing: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    let isDir: boolean | undefined;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      // ENOTDIR: a parent is a file; going up finds it and names it.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
    }
    if (isDir) break;
    if (isDir === false) throw Object.assign(new Error(`ENOTDIR: not a directory, ${p}`), { code: "ENOTDIR", path: p });
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/** The nearest existing ancestor of `path` (itself if it exists). */
function nearestExisting(path: string): string {
  for (let p = resolve(path); ; p = dirname(p)) {
    try {
      statSync(p);
      return p;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== "ENOENT" && code !== "ENOTDIR") || dirname(p) === p) return p;
    }
  }
}

function why(e: unknown, path: string): string {
  const x = e as NodeJS.ErrnoException;
  const at = x.path && x.path !== path && !x.path.includes(".replication-probe-") ? ` (at ${x.path})` : "";
  switch (x.code) {
    case "ENOTDIR":
    case "EEXIST":
      return `${x.path ?? path} is a file, not a directory`;
    case "EACCES":
    case "EPERM":
      return `permission denied${at} for the runner's user (uid ${process.getuid?.() ?? "?"})`;
    case "EROFS":
      return `it is on a read-only file system${at}`;
    case "ENOENT":
      return `it cannot be created${at}: the parent directory refuses new entries (a virtual file system such as /proc or /sys?)`;
    case "ENOSPC":
      return "the disk is full";
    default:
      return `${x.code ?? "error"}: ${x.message}`;
  }
}

/**
 * Checks a directory of the config. `create`: create it (and its parents) and prove it writable by
 * creating and removing a file in it. Without `create` (dry runs and `check`, which must create
 * nothing in the state dir): an existing directory must be one; a missing one must be creatable
 * (a probe directory is created and removed in its nearest existing ancestor).
 */
export function checkDir(field: string, path: string, create: boolean, fix: string): void {
  const fail = (e: unknown): never => {
    throw new ConfigError(field, `cannot use ${JSON.stringify(path)}: ${why(e, path)}; ${fix}`);
  };
  const probe = `.replication-probe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  if (create) {
    try {
      ensureDir(path);
    } catch (e) {
      fail(e);
    }
    try {
      const f = join(path, probe);
      closeSync(openSync(f, "wx", 0o600));
      unlinkSync(f);
    } catch (e) {
      fail(e);
    }
    return;
  }
  const base = nearestExisting(path);
  try {
    if (!statSync(base).isDirectory()) fail(Object.assign(new Error("not a directory"), { code: "ENOTDIR", path: base }));
    if (base !== resolve(path)) {
      const d = join(base, probe);
      mkdirSync(d);
      rmdirSync(d);
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    fail(e);
  }
}
