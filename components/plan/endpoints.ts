// Where the runner reaches a bucket of a provider that has an S3-compatible API but no endpoint
// field of its own. Pure: the planner, the plan renderer and the runner config all use it.
import type { AlicloudBucketSpec, LinodeBucketSpec } from "./types.js";
import { LINODE_REGIONS } from "./regions.js";

/** OSS's S3-compatible public endpoint for a region. OSS answers path-style requests with
 *  SecondLevelDomainForbidden, so clients must use virtual-hosted style. */
export function ossS3Endpoint(spec: Pick<AlicloudBucketSpec, "region">): string {
  return `https://s3.oss-${spec.region}.aliyuncs.com`;
}

/** The Linode region of a region or legacy cluster id ("us-east-1" → "us-east"; "de-fra-2" is a
 *  region of its own, not a cluster). */
export function linodeRegion(region: string): string {
  return LINODE_REGIONS.includes(region) ? region : region.replace(/-1$/, "");
}

/** The Linode cluster id of a region ("us-east" → "us-east-1"); a cluster id stays as it is. */
export function linodeCluster(region: string): string {
  return `${linodeRegion(region)}-1`;
}

/** The S3 endpoint of a Linode bucket: its `endpoint`, else https://<cluster>.linodeobjects.com. */
export function linodeS3Endpoint(spec: Pick<LinodeBucketSpec, "region" | "endpoint">): string {
  return spec.endpoint ?? `https://${linodeCluster(spec.region)}.linodeobjects.com`;
}
