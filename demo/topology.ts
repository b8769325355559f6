// Loads demo/topology.yaml (stack-config schema) and maps every real-cloud bucket spec to the local
// "site" that stands in for its cloud region during the demo.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { BucketSpec, ReplicationTopologyArgs } from "../components/plan/types.js";

export const TOPOLOGY_FILE = fileURLToPath(new URL("./topology.yaml", import.meta.url));
export const CONFIG_KEY = "bucket-replication:topology";

export function loadTopology(file = TOPOLOGY_FILE): ReplicationTopologyArgs {
  const doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
  const topo = doc?.config?.[CONFIG_KEY] as ReplicationTopologyArgs | undefined;
  if (!topo || typeof topo !== "object" || !topo.buckets || !Array.isArray(topo.links)) {
    throw new Error(`${file}: expected config."${CONFIG_KEY}" with "buckets" and "links"`);
  }
  return topo;
}

/** Region → the city that names the local site. */
const CITY: Record<string, string> = {
  "eu-central-1": "frankfurt",
  "us-east-1": "virginia",
  "eu-west-1": "ireland",
  "eu-west-2": "london",
  "ap-northeast-1": "tokyo",
  "ap-northeast-3": "osaka",
  "uk-london-1": "london",
  "eu-zurich-1": "zurich",
  "eu-frankfurt-1": "frankfurt",
  "ap-osaka-1": "osaka",
  "jp-osa-1": "osaka",
  "jp-tyo-3": "tokyo",
  "us-east": "newark",
  "eu-central": "frankfurt",
  "de-fra-2": "frankfurt",
  "ch-gva-2": "geneva",
};

function cloudOf(spec: BucketSpec): string {
  if (spec.provider !== "s3") return spec.provider;
  const host = (() => {
    try {
      return new URL(spec.endpoint).hostname;
    } catch {
      return spec.endpoint;
    }
  })();
  if (host.endsWith("linodeobjects.com")) return "linode";
  if (host.endsWith("exo.io")) return "exoscale";
  if (host.endsWith("r2.cloudflarestorage.com")) return "r2";
  if (host.endsWith("wasabisys.com")) return "wasabi";
  return host.split(".").at(-2) ?? "s3";
}

/** The local site a bucket lives on, e.g. `oci-london` for an OCI bucket in uk-london-1. */
export function siteOf(spec: BucketSpec): string {
  const region = spec.region ?? "";
  return `${cloudOf(spec)}-${CITY[region] ?? (region || "default")}`;
}

export interface SitePlan {
  /** site name → bucket names (the real-cloud bucket names from the specs). */
  sites: Record<string, string[]>;
  /** bucket id → site name. */
  siteOfBucket: Record<string, string>;
}

export function sitePlan(args: ReplicationTopologyArgs): SitePlan {
  const sites: Record<string, string[]> = {};
  const siteOfBucket: Record<string, string> = {};
  for (const [id, spec] of Object.entries(args.buckets)) {
    const site = siteOf(spec);
    siteOfBucket[id] = site;
    (sites[site] ??= []).push(spec.bucket);
  }
  return { sites, siteOfBucket };
}
