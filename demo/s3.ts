// Small S3 helpers the demo uses to seed, change and inspect the local sites. The replication
// itself is done by the runner (dist/runner.mjs), never here.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from "@aws-sdk/client-s3";
import { S3RVER_CREDENTIALS } from "../local/sites.js";

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
}

export function localClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { ...S3RVER_CREDENTIALS },
    maxAttempts: 3,
  });
}

export async function listAll(client: S3Client, bucket: string, prefix = ""): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const res = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token }),
    );
    for (const o of res.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0, etag: (o.ETag ?? "").replace(/"/g, "") });
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export type PutInput = Omit<PutObjectCommandInput, "Bucket" | "Key" | "Body"> & { key: string; body: Uint8Array | string };

export async function put(client: S3Client, bucket: string, obj: PutInput): Promise<void> {
  const { key, body, ...rest } = obj;
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength, ...rest }));
}

export async function del(client: S3Client, bucket: string, key: string): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

export async function getText(client: S3Client, bucket: string, key: string): Promise<string> {
  const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return await res.Body!.transformToString();
}
