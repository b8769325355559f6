// One ListObjectsV2 page (placeholder through the SDK; replaced by the direct, hand-parsed path).
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { stripEtag, withRetry, type Endpoint } from "./s3.js";

export interface ListParams {
  prefix?: string;
  delimiter?: string;
  startAfter?: string;
  continuationToken?: string;
  maxKeys?: number;
}
export interface ListedObject {
  key: string;
  size: number;
  etag: string;
  mtime: number;
}
export interface ListPage {
  objects: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
}

const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));

export async function listPage(ep: Endpoint, bucket: string, params: ListParams, attempts: number): Promise<ListPage> {
  const page = await withRetry(
    () =>
      ep.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: params.prefix || undefined,
          Delimiter: params.delimiter,
          StartAfter: params.startAfter,
          ContinuationToken: params.continuationToken,
          MaxKeys: params.maxKeys ?? 1000,
          EncodingType: "url",
        }),
      ),
    attempts,
  );
  const url = page.EncodingType === "url";
  return {
    objects: (page.Contents ?? []).filter((o) => o.Key !== undefined).map((o) => ({ key: url ? decode(o.Key!) : o.Key!, size: o.Size ?? 0, etag: stripEtag(o.ETag), mtime: o.LastModified ? o.LastModified.getTime() : 0 })),
    commonPrefixes: (page.CommonPrefixes ?? []).map((p) => (url ? decode(p.Prefix ?? "") : p.Prefix ?? "")),
    isTruncated: !!page.IsTruncated,
    nextContinuationToken: page.NextContinuationToken,
  };
}
