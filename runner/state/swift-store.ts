// The state store in an OpenStack Swift container (a `state.endpoint` of `type: "swift"`), on
// Swift's native API (runner/store/swift.ts). Same objects and semantics as BucketStateStore
// (./store.ts): `<prefix><job>.state.gz`, `.pairs.gz`, `.shards.json` and `.lock`.
//
// Atomicity: a commit is one PUT, which Swift installs atomically (readers see the old or the new
// object). Swift's largest single object is max_file_size, 5 GiB by default; a state of 100M keys
// is about 2–3 GB gzipped, so one PUT holds it. Above the client's large-object threshold (that
// same 5 GiB by default) the file becomes an SLO: its segments are uploaded first and the manifest
// PUT, the only step readers see, is still atomic; the old SLO's segments are removed after it.
//
// Lock: created with `If-None-Match: *` (Swift 2.30 answers 412 when the object exists:
// test/runner/swift-state.test.ts), so two runners starting at once cannot both create it; then
// read back after a pause, as in BucketStateStore. A stale lock (expired, or its process dead on
// this host) is taken over with a plain PUT, and the read-back decides between two runners that
// took it over together. A proxy without conditional PUT (answers 400/501) falls back to the plain
// PUT plus read-back.
import { createReadStream, createWriteStream, statSync, unlinkSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ensureDir } from "../config/dirs.js";
import { httpStatus, withRetry } from "../store/s3.js";
import type { SwiftClient } from "../store/swift.js";
import { isStale, LockedError, newInfo, parseLock, type HeldLock, type StateKind, type StateStore } from "./store.js";

const STATE = "state.gz";
const JOURNAL = "pairs.gz";
/** Attempts of each state request (the Swift client has no retries of its own). */
const ATTEMPTS = 4;

function isNotFound(e: unknown): boolean {
  return httpStatus(e) === 404;
}

export class SwiftStateStore implements StateStore {
  /** Whether to try If-None-Match: * when creating a lock (turned off when the server rejects it). */
  private conditionalPut = true;
  constructor(
    private readonly sw: SwiftClient,
    private readonly endpointName: string,
    private readonly container: string,
    private readonly prefix: string,
  ) {}

  get description(): string {
    return `state container ${this.endpointName}/${this.container}/${this.prefix}`;
  }

  private key(job: string, ext: string): string {
    return `${this.prefix}${job}.${ext}`;
  }

  private async read(key: string): Promise<Buffer | undefined> {
    try {
      return await withRetry(async () => {
        const g = await this.sw.get(this.container, key);
        const chunks: Buffer[] = [];
        for await (const c of g.body) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      }, ATTEMPTS);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async write(key: string, data: Buffer | string, contentType: string, ifNoneMatch = false): Promise<void> {
    const b = typeof data === "string" ? Buffer.from(data) : data;
    // A create-only PUT is not retried here: a lost answer then reads as 412 (the lock loop checks the token).
    const once = () => this.sw.put(this.container, key, Readable.from([b]), b.length, { contentType, ...(ifNoneMatch ? { ifNoneMatch: true } : {}) });
    if (ifNoneMatch) await once();
    else await withRetry(once, ATTEMPTS);
  }

  private async del(key: string): Promise<void> {
    await withRetry(() => this.sw.delete(this.container, key), ATTEMPTS);
  }

  async load(job: string): Promise<Buffer | undefined> {
    return this.read(this.key(job, STATE));
  }
  async save(job: string, data: Buffer): Promise<void> {
    await this.write(this.key(job, STATE), data, "application/gzip");
  }
  async loadJournal(job: string): Promise<Buffer | undefined> {
    return this.read(this.key(job, JOURNAL));
  }
  async saveJournal(job: string, data: Buffer): Promise<void> {
    await this.write(this.key(job, JOURNAL), data, "application/gzip");
  }
  async deleteJournal(job: string): Promise<void> {
    await this.del(this.key(job, JOURNAL));
  }

  async open(job: string, kind: StateKind, spoolDir: string): Promise<string | undefined> {
    ensureDir(spoolDir);
    const path = join(spoolDir, `${job}.${kind}.${process.pid}-${randomUUID().slice(0, 8)}`);
    try {
      await withRetry(async () => {
        const g = await this.sw.get(this.container, this.key(job, kind));
        await pipeline(g.body, createWriteStream(path, { mode: 0o600 }));
      }, ATTEMPTS);
    } catch (e) {
      try {
        unlinkSync(path);
      } catch {
        /* not created */
      }
      if (isNotFound(e)) return undefined;
      throw e;
    }
    return path;
  }

  async commit(job: string, kind: StateKind, from: string): Promise<void> {
    // One PUT of the file (an SLO above the client's large-object threshold): see the header.
    const size = statSync(from).size;
    const contentType = kind.endsWith(".json") ? "application/json" : "application/gzip";
    await withRetry(() => this.sw.put(this.container, this.key(job, kind), createReadStream(from), size, { contentType }), ATTEMPTS);
    unlinkSync(from);
  }

  async remove(job: string, kind: StateKind): Promise<void> {
    await this.del(this.key(job, kind));
  }

  async lock(job: string, ttlMs: number): Promise<HeldLock> {
    const key = this.key(job, "lock");
    let info = newInfo(ttlMs);
    const put = (ifNoneMatch = false) => this.write(key, JSON.stringify(info), "application/json", ifNoneMatch);
    for (let attempt = 1; ; attempt++) {
      const existing = await this.read(key);
      const cur = existing && parseLock(existing.toString("utf8"));
      // Our own create-only PUT landed but its answer was lost.
      if (cur && cur.token === info.token) break;
      if (cur && !isStale(cur)) throw new LockedError(job, cur);
      if (existing || !this.conditionalPut) {
        await put(); // taking over a stale lock, or no conditional PUT here
        break;
      }
      try {
        await put(true);
        break;
      } catch (e) {
        const status = httpStatus(e);
        if (status === 412 || status === 409) {
          // Another runner created the lock between our read and our write: read it again.
          if (attempt >= 3) throw new Error(`cannot take the lock ${this.container}/${key}: it keeps changing`);
          continue;
        }
        if (status === 501 || status === 400) {
          this.conditionalPut = false; // unsupported here: plain PUT, the read-back below decides
          await put();
          break;
        }
        throw e;
      }
    }
    // Read back after a short pause: of two runners that took over a stale lock together, one token survives.
    await new Promise((r) => setTimeout(r, 250));
    const back = await this.read(key);
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
        const now = await this.read(key).catch(() => undefined);
        const c = now && parseLock(now.toString("utf8"));
        if (c && c.token === info.token) await this.del(key).catch(() => undefined);
      },
      releaseSync: () => {
        held = false;
        clearInterval(refresh);
      },
    };
  }
}
