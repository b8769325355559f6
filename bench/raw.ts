// The "raw limit": the least work that can do each workload through the same SDK at the same
// concurrency. No state, no metadata, no retries beyond the SDK's, no safety checks. Client settings:
// no flexible checksums, the middleware stack cached per command class, no logger middleware and a
// constant User-Agent (as the runner).
// Bundled by bench/main.ts (like the runner) and run as: node raw.mjs '<json args>'.
//   copy:  list the source, then GET→PUT (cross-endpoint) or CopyObject (same endpoint) every key.
//   sync:  list both sides, transfer the keys missing or different (size/ETag) on the target.
//   large: transfer one key (streamed GET→PUT with Content-Length, or CopyObject).
import { CopyObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type _Object } from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import type { Readable } from "node:stream";

interface Loc {
  endpoint: string;
  bucket: string;
}
interface Args {
  mode: "copy" | "sync" | "large";
  src: Loc;
  dst: Loc;
  concurrency: number;
  key?: string;
  /** Cache the resolved middleware stack per command class (default true: the SDK at its cheapest). */
  cacheMiddleware?: boolean;
}

const args = JSON.parse(process.argv[2] ?? "{}") as Args;
const same = args.src.endpoint === args.dst.endpoint;
const clientFor = (endpoint: string) =>
  new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    cacheMiddleware: args.cacheMiddleware ?? true,
  });
/** The same per-request trims the runner makes: no logger middleware (schema log filters on every
 *  request for a logger that discards them), a constant User-Agent instead of rebuilding it. */
function trim(c: S3Client): S3Client {
  c.middlewareStack.remove("loggerMiddleware");
  c.middlewareStack.remove("getUserAgentMiddleware");
  c.middlewareStack.add(
    (next) => async (a) => {
      (a.request as { headers: Record<string, string> }).headers["user-agent"] = "bench-raw";
      return next(a);
    },
    { step: "build", priority: "low", name: "benchUserAgent" },
  );
  return c;
}
const src = trim(clientFor(args.src.endpoint));
const dst = same ? src : trim(clientFor(args.dst.endpoint));

async function list(s3: S3Client, bucket: string): Promise<_Object[]> {
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    if (page.Contents) for (const o of page.Contents) out.push(o);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function transfer(key: string): Promise<void> {
  if (same) {
    await dst.send(
      new CopyObjectCommand({ Bucket: args.dst.bucket, Key: key, CopySource: `${args.src.bucket}/${encodeURIComponent(key).replace(/%2F/g, "/")}` }),
    );
    return;
  }
  const got = await src.send(new GetObjectCommand({ Bucket: args.src.bucket, Key: key }));
  await dst.send(
    new PutObjectCommand({
      Bucket: args.dst.bucket,
      Key: key,
      Body: got.Body as Readable,
      ContentLength: got.ContentLength,
      ContentType: got.ContentType,
    }),
  );
}

async function main(): Promise<void> {
  const limit = pLimit(args.concurrency);
  let keys: string[];
  if (args.mode === "large") keys = [args.key!];
  else if (args.mode === "copy") keys = (await list(src, args.src.bucket)).map((o) => o.Key!);
  else {
    const [a, b] = await Promise.all([list(src, args.src.bucket), list(dst, args.dst.bucket)]);
    const have = new Map<string, string>();
    for (const o of b) have.set(o.Key!, `${o.Size}:${o.ETag}`);
    keys = [];
    for (const o of a) if (have.get(o.Key!) !== `${o.Size}:${o.ETag}`) keys.push(o.Key!);
  }
  await Promise.all(keys.map((k) => limit(() => transfer(k))));
  process.stdout.write(JSON.stringify({ transferred: keys.length }) + "\n");
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`raw: ${(e as Error).name}: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
