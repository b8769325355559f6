// Where state and locks live: a local directory, or a bucket (so a replaced VM loses nothing).
import { randomUUID } from "node:crypto";
import { closeSync, copyFileSync, createReadStream, createWriteStream, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { ensureDir } from "../config/dirs.js";
import { errorCode, httpStatus, type Location } from "../store/s3.js";
import { sdk } from "../store/sdk.js";

export interface LockInfo {
  pid: number;
  host: string;
  token: string;
  started: string;
  /** Epoch ms after which the lock is stale. */
  expires: number;
}

export class LockedError extends Error {
  constructor(job: string, info: LockInfo) {
    super(`job "${job}" is locked by pid ${info.pid} on ${info.host} (started ${info.started}, expires ${new Date(info.expires).toISOString()}); another run is active, or wait for the lock to expire`);
    this.name = "LockedError";
  }
}

export interface HeldLock {
  release(): Promise<void>;
  /** Synchronous best-effort release for process exit handlers. */
  releaseSync(): void;
}

export interface StateStore {
  readonly description: string;
  /** `<job>.state.gz`: the state of the last fully successful run. */
  load(job: string): Promise<Buffer | undefined>;
  save(job: string, data: Buffer): Promise<void>;
  /** `<job>.pairs.gz`: the ETag pair journal of runs whose state was not written (decide/journal.ts).
   *  Same format and same atomicity as the state. */
  loadJournal(job: string): Promise<Buffer | undefined>;
  saveJournal(job: string, data: Buffer): Promise<void>;
  /** Remove the journal (absent is fine). */
  deleteJournal(job: string): Promise<void>;
  lock(job: string, ttlMs: number): Promise<HeldLock>;
  /** A local file holding `<job>.<kind>` to stream from (the file itself for a directory store, a
   *  download into `spoolDir` for a bucket), or undefined when absent. */
  open(job: string, kind: StateKind, spoolDir: string): Promise<string | undefined>;
  /** Installs the local file `from` as `<job>.<kind>` atomically: readers see the old or the new
   *  file, never a mix. The file may be moved. */
  commit(job: string, kind: StateKind, from: string): Promise<void>;
  /** Removes `<job>.<kind>` (absent is fine). */
  remove(job: string, kind: StateKind): Promise<void>;
}

/** The files of a job: the state and the ETag pair journal. */
/** The files of a job in the state location: its state, its ETag pair journal, and (sharded jobs)
 *  the shard map every shard reads (runner/shard). */
export type StateKind = "state.gz" | "pairs.gz" | "shards.json";

const STATE = "state.gz";
const JOURNAL = "pairs.gz";

/** Whether a process with this pid runs on this host (EPERM: it does, as another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A lock is stale when expired, or held by a dead process on this host. */
export function isStale(info: LockInfo, now = Date.now()): boolean {
  if (!(info.expires > now)) return true;
  return info.host === hostname() && info.pid !== process.pid && !pidAlive(info.pid);
}

export function newInfo(ttlMs: number): LockInfo {
  return { pid: process.pid, host: hostname(), token: randomUUID(), started: new Date().toISOString(), expires: Date.now() + ttlMs };
}

export function parseLock(text: string): LockInfo | undefined {
  try {
    const o = JSON.parse(text) as LockInfo;
    if (typeof o.expires === "number" && typeof o.token === "string") return o;
  } catch {
    /* a half-written lock is treated as stale */
  }
  return undefined;
}

function atomicWrite(path: string, data: Buffer | string): void {
  const tmp = `${path}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export class DirStateStore implements StateStore {
  constructor(private readonly dir: string) {}
  get description(): string {
    return `state dir ${this.dir}`;
  }
  private path(job: string, ext: string): string {
    return join(this.dir, `${job}.${ext}`);
  }
  private read(job: string, ext: string): Buffer | undefined {
    try {
      return readFileSync(this.path(job, ext));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }
  private write(job: string, ext: string, data: Buffer): void {
    ensureDir(this.dir);
    atomicWrite(this.path(job, ext), data);
    this.syncDir();
  }
  private syncDir(): void {
    try {
      const dfd = openSync(this.dir, "r");
      fsyncSync(dfd);
      closeSync(dfd);
    } catch {
      /* directory fsync is best effort */
    }
  }
  async load(job: string): Promise<Buffer | undefined> {
    return this.read(job, STATE);
  }
  async save(job: string, data: Buffer): Promise<void> {
    this.write(job, STATE, data);
  }
  async loadJournal(job: string): Promise<Buffer | undefined> {
    return this.read(job, JOURNAL);
  }
  async saveJournal(job: string, data: Buffer): Promise<void> {
    this.write(job, JOURNAL, data);
  }
  async deleteJournal(job: string): Promise<void> {
    try {
      unlinkSync(this.path(job, JOURNAL));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      return;
    }
    this.syncDir();
  }
  async open(job: string, kind: StateKind): Promise<string | undefined> {
    const p = this.path(job, kind);
    try {
      statSync(p);
      return p;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }
  async commit(job: string, kind: StateKind, from: string): Promise<void> {
    ensureDir(this.dir);
    const tmp = `${this.path(job, kind)}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
    try {
      renameSync(from, tmp); // same file system: a move
    } catch {
      copyFileSync(from, tmp);
      unlinkSync(from);
    }
    const fd = openSync(tmp, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path(job, kind));
    this.syncDir();
  }
  async remove(job: string, kind: StateKind): Promise<void> {
    try {
      unlinkSync(this.path(job, kind));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      return;
    }
    this.syncDir();
  }
  async lock(job: string, ttlMs: number): Promise<HeldLock> {
    ensureDir(this.dir);
    const path = this.path(job, "lock");
    let info = newInfo(ttlMs);
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(path, "wx", 0o600);
        writeSync(fd, JSON.stringify(info));
        fsyncSync(fd);
        closeSync(fd);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        let existing: LockInfo | undefined;
        try {
          existing = parseLock(readFileSync(path, "utf8"));
        } catch {
          existing = undefined;
        }
        if (existing && !isStale(existing)) throw new LockedError(job, existing);
        if (attempt >= 2) throw new Error(`cannot take the lock ${path}: it keeps reappearing`);
        try {
          unlinkSync(path);
        } catch {
          /* someone else removed it */
        }
      }
    }
    let held = true;
    const refresh = setInterval(() => {
      try {
        const cur = parseLock(readFileSync(path, "utf8"));
        if (!cur || cur.token !== info.token) return;
        info = { ...info, expires: Date.now() + ttlMs };
        atomicWrite(path, JSON.stringify(info));
      } catch {
        /* keep going; expiry is the fallback */
      }
    }, Math.max(1000, Math.floor(ttlMs / 3)));
    refresh.unref();
    const releaseSync = () => {
      if (!held) return;
      held = false;
      clearInterval(refresh);
      try {
        const cur = parseLock(readFileSync(path, "utf8"));
        if (cur && cur.token === info.token) unlinkSync(path);
      } catch {
        /* already gone */
      }
    };
    return { release: async () => releaseSync(), releaseSync };
  }
}

async function readObject(loc: Location, key: string): Promise<Buffer | undefined> {
  try {
    const r = await loc.ep.client.send(new (sdk().GetObjectCommand)({ Bucket: loc.bucket, Key: key }));
    return Buffer.from(await r.Body!.transformToByteArray());
  } catch (e) {
    if (errorCode(e) === "NoSuchKey" || httpStatus(e) === 404) return undefined;
    throw e;
  }
}

function isAuthCode(code: string): boolean {
  return code === "AccessDenied" || code === "InvalidAccessKeyId" || code === "SignatureDoesNotMatch";
}

export class BucketStateStore implements StateStore {
  /** Whether to try If-None-Match: * when creating a lock (turned off when the server rejects it). */
  private conditionalPut = true;
  constructor(private readonly loc: Location) {}
  /** False once the server answered a conditional PUT with 501/400/405 (e.g. Swift's s3api 2.30:
   *  501 "Conditional object PUTs are not supported"): locks are then a plain PUT plus read-back. */
  get conditionalPutWorks(): boolean {
    return this.conditionalPut;
  }
  get description(): string {
    return `state bucket ${this.loc.ep.name}/${this.loc.bucket}/${this.loc.prefix}`;
  }
  private key(job: string, ext: string): string {
    return `${this.loc.prefix}${job}.${ext}`;
  }
  async load(job: string): Promise<Buffer | undefined> {
    return readObject(this.loc, this.key(job, STATE));
  }
  async save(job: string, data: Buffer): Promise<void> {
    // A single PUT is atomic: readers see the old or the new state, never a mix.
    await this.loc.ep.client.send(new (sdk().PutObjectCommand)({ Bucket: this.loc.bucket, Key: this.key(job, STATE), Body: data, ContentType: "application/gzip" }));
  }
  async loadJournal(job: string): Promise<Buffer | undefined> {
    return readObject(this.loc, this.key(job, JOURNAL));
  }
  async saveJournal(job: string, data: Buffer): Promise<void> {
    await this.loc.ep.client.send(new (sdk().PutObjectCommand)({ Bucket: this.loc.bucket, Key: this.key(job, JOURNAL), Body: data, ContentType: "application/gzip" }));
  }
  async deleteJournal(job: string): Promise<void> {
    await this.loc.ep.client.send(new (sdk().DeleteObjectCommand)({ Bucket: this.loc.bucket, Key: this.key(job, JOURNAL) }));
  }
  async open(job: string, kind: StateKind, spoolDir: string): Promise<string | undefined> {
    let body: Readable;
    try {
      const r = await this.loc.ep.client.send(new (sdk().GetObjectCommand)({ Bucket: this.loc.bucket, Key: this.key(job, kind) }));
      body = r.Body as Readable;
    } catch (e) {
      if (errorCode(e) === "NoSuchKey" || httpStatus(e) === 404) return undefined;
      throw e;
    }
    ensureDir(spoolDir);
    const path = join(spoolDir, `${job}.${kind}.${process.pid}-${randomUUID().slice(0, 8)}`);
    await pipeline(body, createWriteStream(path, { mode: 0o600 }));
    return path;
  }
  async commit(job: string, kind: StateKind, from: string): Promise<void> {
    // A single PUT (or a multipart upload, above 64 MiB) is atomic: readers see the old or the new object.
    const size = statSync(from).size;
    const params = { Bucket: this.loc.bucket, Key: this.key(job, kind), ContentType: kind.endsWith(".json") ? "application/json" : "application/gzip" };
    if (size < 64 * 1024 * 1024) {
      await this.loc.ep.client.send(new (sdk().PutObjectCommand)({ ...params, Body: readFileSync(from), ContentLength: size }));
    } else {
      await new (sdk().Upload)({ client: this.loc.ep.client, params: { ...params, Body: createReadStream(from) }, partSize: 16 * 1024 * 1024, queueSize: 2, leavePartsOnError: false }).done();
    }
    unlinkSync(from);
  }
  async remove(job: string, kind: StateKind): Promise<void> {
    await this.loc.ep.client.send(new (sdk().DeleteObjectCommand)({ Bucket: this.loc.bucket, Key: this.key(job, kind) }));
  }
  async lock(job: string, ttlMs: number): Promise<HeldLock> {
    const key = this.key(job, "lock");
    let info = newInfo(ttlMs);
    const put = (ifNoneMatch?: boolean) =>
      this.loc.ep.client.send(
        new (sdk().PutObjectCommand)({ Bucket: this.loc.bucket, Key: key, Body: JSON.stringify(info), ContentType: "application/json", ...(ifNoneMatch ? { IfNoneMatch: "*" } : {}) }),
      );
    for (let attempt = 1; ; attempt++) {
      const existing = await readObject(this.loc, key);
      const cur = existing && parseLock(existing.toString("utf8"));
      // Our own conditional PUT landed but its answer was lost, and the SDK's retry got 412.
      if (cur && cur.token === info.token) break;
      if (cur && !isStale(cur)) throw new LockedError(job, cur);
      if (existing || !this.conditionalPut) {
        await put(); // taking over a stale lock, or the server has no conditional PUT
        break;
      }
      // No lock yet: create it only if it still does not exist (If-None-Match: *, a real
      // compare-and-swap on AWS S3 and the servers that support conditional writes).
      try {
        await put(true);
        break;
      } catch (e) {
        const code = errorCode(e);
        const status = httpStatus(e);
        if (code === "PreconditionFailed" || code === "ConditionalRequestConflict" || status === 412 || status === 409) {
          // Another runner created the lock between our read and our write: read it again.
          if (attempt >= 3) throw new Error(`cannot take the lock ${key}: it keeps changing`);
          continue;
        }
        if (code === "NotImplemented" || status === 501 || ((status === 400 || status === 405) && !isAuthCode(code))) {
          this.conditionalPut = false; // unsupported here: plain PUT, the read-back below decides
          await put();
          break;
        }
        throw e;
      }
    }
    // Read back after a short pause: if another runner raced us (servers that ignore or lack the
    // conditional PUT, or a stale lock taken over by two), only one token survives.
    await new Promise((r) => setTimeout(r, 250));
    const back = await readObject(this.loc, key);
    const cur = back && parseLock(back.toString("utf8"));
    if (!cur || cur.token !== info.token) throw new LockedError(job, cur ?? info);
    let held = true;
    const refresh = setInterval(() => {
      info = { ...info, expires: Date.now() + ttlMs };
      put().catch(() => undefined);
    }, Math.max(1000, Math.floor(ttlMs / 3)));
    refresh.unref();
    return {
      release: async () => {
        if (!held) return;
        held = false;
        clearInterval(refresh);
        const now = await readObject(this.loc, key).catch(() => undefined);
        const c = now && parseLock(now.toString("utf8"));
        if (c && c.token === info.token) await this.loc.ep.client.send(new (sdk().DeleteObjectCommand)({ Bucket: this.loc.bucket, Key: key })).catch(() => undefined);
      },
      releaseSync: () => {
        held = false;
        clearInterval(refresh);
      },
    };
  }
}
