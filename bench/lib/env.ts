// The benchmark's world: two s3rver processes ("a" and "b"), each behind a counting proxy, plus
// direct (uncounted) S3 clients used to seed, modify, verify and clean up.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type _Object,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import pLimit from "p-limit";
import { startSites, S3RVER_CREDENTIALS, type Site } from "../../local/sites.js";
import { KINDS, startProxy, type Kind, type Proxy } from "../../test/support/proxy.js";

export const REGION = "us-east-1";
export type SiteName = "a" | "b";

export interface BenchEnv {
  work: string;
  sites: Record<SiteName, Site>;
  proxies: Record<SiteName, Proxy>;
  /** Direct clients (not through the proxies: not counted). */
  direct: Record<SiteName, S3Client>;
  /** Zero both proxies' counters. */
  resetCounts(): void;
  /** Sum of both proxies' counts. */
  counts(): Record<Kind, number>;
  stop(): Promise<void>;
}

export function s3client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    // A copy: the SDK adds a "$source" field to the credentials object it is given.
    credentials: { accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: S3RVER_CREDENTIALS.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 5,
  });
}

export async function startEnv(work: string): Promise<BenchEnv> {
  rmSync(join(work, "sites"), { recursive: true, force: true });
  mkdirSync(join(work, "sites"), { recursive: true });
  const sites = (await startSites({
    a: { dir: join(work, "sites", "a") },
    b: { dir: join(work, "sites", "b") },
  })) as Record<SiteName, Site>;
  const proxies = {
    a: await startProxy({ target: sites.a.endpoint }),
    b: await startProxy({ target: sites.b.endpoint }),
  };
  const direct = { a: s3client(sites.a.endpoint), b: s3client(sites.b.endpoint) };
  return {
    work,
    sites,
    proxies,
    direct,
    resetCounts() {
      proxies.a.reset();
      proxies.b.reset();
    },
    counts() {
      const a = proxies.a.counts();
      const b = proxies.b.counts();
      return Object.fromEntries(KINDS.map((k) => [k, a[k] + b[k]])) as Record<Kind, number>;
    },
    async stop() {
      direct.a.destroy();
      direct.b.destroy();
      await Promise.all([proxies.a.stop(), proxies.b.stop()]);
      await Promise.all([sites.a.stop(), sites.b.stop()]);
    },
  };
}

export async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    const name = (e as Error).name;
    if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw e;
  }
}

export async function listAll(s3: S3Client, bucket: string, prefix = ""): Promise<_Object[]> {
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    out.push(...(page.Contents ?? []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function emptyBucket(s3: S3Client, bucket: string): Promise<void> {
  const objs = await listAll(s3, bucket);
  const limit = pLimit(32);
  // Single deletes: s3rver's DeleteObjects sometimes fails on keys sharing a "directory".
  await Promise.all(objs.map((o) => limit(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! })))));
}

/** Deterministic pseudo-random bytes for (seed, index): xorshift32, 4 bytes at a time. */
export function objectBody(seed: number, index: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeUInt32LE(x >>> 0, i);
  }
  for (; i < size; i++) buf[i] = (x >>> (8 * (i & 3))) & 0xff;
  return buf;
}

/** Key of object i: spread over 16 prefixes, like real data. */
export function keyOf(i: number): string {
  return `d${(i % 16).toString(16)}/obj-${i.toString().padStart(7, "0")}`;
}

/** PutObject `count` objects of `size` bytes at concurrency 32, directly (uncounted). */
export async function seed(s3: S3Client, bucket: string, count: number, size: number, seedValue = 1): Promise<void> {
  await createBucket(s3, bucket);
  const limit = pLimit(32);
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(i), Body: objectBody(seedValue, i, size) }))),
    ),
  );
}

/** Rewrite every `every`-th object with new content of the same size; returns the keys changed. */
export async function modify(s3: S3Client, bucket: string, count: number, size: number, every: number, seedValue: number): Promise<string[]> {
  const keys: string[] = [];
  const limit = pLimit(32);
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += every) {
    keys.push(keyOf(i));
    jobs.push(limit(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(i), Body: objectBody(seedValue, i, size) }))));
  }
  await Promise.all(jobs);
  return keys;
}

/** One large object, streamed (multipart, 16 MiB parts) from a deterministic generator. */
export async function seedLarge(s3: S3Client, bucket: string, key: string, size: number): Promise<void> {
  await createBucket(s3, bucket);
  const chunk = 1024 * 1024;
  function* gen() {
    for (let off = 0, i = 0; off < size; off += chunk, i++) yield objectBody(7, i, Math.min(chunk, size - off));
  }
  const up = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: Readable.from(gen()) },
    partSize: 16 * 1024 * 1024,
    queueSize: 4,
  });
  await up.done();
}

export interface VerifyResult {
  ok: boolean;
  detail: string;
}

/** Compare two buckets by listing: same keys, same sizes, and (unless sizeOnly) the same ETags. */
export async function verifySame(src: S3Client, srcBucket: string, dst: S3Client, dstBucket: string, sizeOnly = false): Promise<VerifyResult> {
  const [a, b] = await Promise.all([listAll(src, srcBucket), listAll(dst, dstBucket)]);
  const bm = new Map(b.map((o) => [o.Key!, o]));
  let missing = 0;
  let differ = 0;
  for (const o of a) {
    const t = bm.get(o.Key!);
    if (!t) missing++;
    else if (t.Size !== o.Size || (!sizeOnly && t.ETag !== o.ETag)) differ++;
  }
  const extra = b.length - (a.length - missing);
  const ok = missing === 0 && differ === 0 && extra === 0;
  return { ok, detail: ok ? `verified ${a.length}` : `MISMATCH missing ${missing}, differ ${differ}, extra ${extra}` };
}
