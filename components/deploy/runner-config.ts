// The runner config generated from a plan: one job per runner edge, a bidirectional pair as one
// `bisync` job, fan-out edges of one link with identical options as one job with several targets.
// PURE: no Pulumi runtime import (type-only imports are erased), so it runs in milliseconds and the
// demo and tests call it without an engine.
import type { BucketSpec, LinkSpec, PlannedEdge, ReplicationPlan, ReplicationTopologyArgs } from "../plan/types.js";
import { linodeCluster, linodeS3Endpoint, ossS3Endpoint } from "../plan/endpoints.js";
import type {
  CredentialsConfig,
  EndpointConfig,
  JobConfig,
  LocationConfig,
  RunnerConfig,
  StateConfig,
} from "../../runner/config/types.js";

/** Where the deployed runner finds a static-key credentials file (tmpfs, written at service start). */
export const CREDENTIALS_DIR = "/run/bucket-replication/credentials";

export interface RunnerConfigOptions {
  state: StateConfig;
  /** The runner's directory for temporary files (on disk, not tmpfs). */
  spoolDir?: string;
  transfers?: number;
  schedule?: string;
  /** How the runner reaches a bucket's endpoint; default derives it from the BucketSpec
   *  (aws: no endpoint, region; oci: https://<namespace>.compat.objectstorage.<region>.oraclecloud.com,
   *  path-style; s3: spec.endpoint, path-style). */
  endpointFor?: (bucketId: string, spec: BucketSpec) => EndpointConfig;
  /** Credentials per bucket endpoint; default: none (instance role/default chain) for aws,
   *  `{ file: "/run/bucket-replication/credentials/<endpoint-name>.json" }` for oci/s3. */
  credentialsFor?: (bucketId: string, spec: BucketSpec) => CredentialsConfig | undefined;
  /** Which edges to serve; default: every edge with mechanism "runner". */
  edges?: (edge: PlannedEdge) => boolean;
  /** When `state` is a bucket location: how to reach it. Deduplicated with the bucket endpoints;
   *  `state.endpoint` in the output is rewritten to the resulting entry's name. Without it,
   *  `state.endpoint` must name an entry the buckets produce (or the config fails validation). */
  stateEndpoint?: EndpointConfig;
  /** When the state lives in a bucket described by a BucketSpec (the deployment's artifacts bucket):
   *  its endpoint entry follows the same rules as the buckets' (and is shared with them when equal);
   *  `state` becomes `{ endpoint: <that entry>, bucket: spec.bucket, prefix }`. Overrides `state`. */
  stateBucket?: { spec: BucketSpec; prefix: string };
  /** Which buckets are reached with static keys from a credentials file named after their endpoint
   *  entry (when `credentialsFor` is not given). Default: every non-aws bucket (aws uses the instance
   *  role). A runner outside AWS passes `() => true`. */
  staticKeys?: (bucketId: string, spec: BucketSpec) => boolean;
}

/** Bucket id under which `stateBucket` appears in `endpointOf`/`bucketsOf`. */
export const STATE_BUCKET_ID = "(runner-state)";

/** The config plus what a deployment needs to know about it. */
export interface RunnerConfigPlan {
  config: RunnerConfig;
  /** Endpoint entry name per bucket id used by a job. */
  endpointOf: Record<string, string>;
  /** Per endpoint entry: the bucket ids that use it (STATE_BUCKET_ID for `stateBucket`; a
   *  `stateEndpoint`-only entry has none). */
  bucketsOf: Record<string, string[]>;
  /** The edges served, "from->to", in plan order. */
  edges: string[];
  /** The selected edges themselves. */
  served: PlannedEdge[];
}

export function runnerConfigFromPlan(
  args: ReplicationTopologyArgs,
  plan: ReplicationPlan,
  opts: RunnerConfigOptions,
): RunnerConfig {
  return planRunnerConfig(args, plan, opts).config;
}

/** Only characters that are safe in file names, state keys and systemd unit names; starts with a
 *  letter or digit and is at most 128 characters (the runner's rule for job names). */
export function safeName(s: string): string {
  const out = s
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^[-._]+|[-.]+$/g, "")
    .slice(0, 120);
  return out || "x";
}

function defaultEndpoint(spec: BucketSpec): EndpointConfig {
  switch (spec.provider) {
    case "aws":
      return { region: spec.region };
    case "oci":
      return {
        endpoint: `https://${spec.namespace}.compat.objectstorage.${spec.region}.oraclecloud.com`,
        region: spec.region,
        forcePathStyle: true,
      };
    case "s3": {
      const e: EndpointConfig = { endpoint: spec.endpoint, forcePathStyle: true };
      if (spec.region) e.region = spec.region;
      return e;
    }
    case "alicloud":
      // Virtual-hosted style only: OSS refuses path-style requests (SecondLevelDomainForbidden).
      return { endpoint: ossS3Endpoint(spec), region: spec.region, forcePathStyle: false };
    case "linode":
      // Linode signs with the cluster id as the region (us-east-1), as its S3 docs configure clients.
      return { endpoint: linodeS3Endpoint(spec), region: linodeCluster(spec.region), forcePathStyle: true };
  }
}

function baseEndpointName(spec: BucketSpec, ep: EndpointConfig): string {
  if (!ep.endpoint) return `aws-${ep.region ?? "default"}`;
  if (spec.provider === "oci") return `oci-${spec.region}`;
  if (spec.provider === "alicloud") return `oss-${spec.region}`;
  try {
    const u = new URL(ep.endpoint);
    return safeName(u.port ? `${u.hostname}-${u.port}` : u.hostname);
  } catch {
    return safeName(ep.endpoint);
  }
}

// Identity of a credentials object that cannot be compared by value (e.g. a Pulumi Output).
const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;
function identity(v: unknown): string {
  if (v === undefined || v === null) return "-";
  if (typeof v === "string") return `s:${v}`;
  if (typeof v === "object") {
    let id = objectIds.get(v as object);
    if (!id) objectIds.set(v as object, (id = nextObjectId++));
    return `o:${id}`;
  }
  return `v:${String(v)}`;
}

/** Which default static credentials a bucket needs; buckets sharing a URL share an entry only when
 *  their keys are the same (s3 buckets with different keys on one endpoint get separate entries). */
function defaultCredentialsKey(spec: BucketSpec, staticKeys: boolean): string | undefined {
  if (!staticKeys) return undefined;
  switch (spec.provider) {
    case "aws":
      return `aws:${spec.accountId ?? ""}`;
    case "oci":
      // One Customer Secret Key (the runner's OCI user) serves every bucket of the tenancy; buckets in
      // other namespaces already differ by URL.
      return "oci";
    case "s3":
      return spec.credentials ? `s3:${identity(spec.credentials.accessKeyId)}` : "s3:none";
    // One RAM user's key serves every OSS bucket; one limited Linode key every Linode bucket.
    case "alicloud":
      return "alicloud";
    case "linode":
      return "linode";
  }
}

function endpointKey(ep: EndpointConfig): string {
  return JSON.stringify([ep.endpoint ?? "", ep.region ?? "", !!ep.forcePathStyle, !!ep.insecure]);
}

interface Location {
  bucket: string;
  prefix: string;
}

function linkOf(args: ReplicationTopologyArgs, e: PlannedEdge): LinkSpec | undefined {
  return args.links[e.link];
}

function edgeKind(args: ReplicationTopologyArgs, e: PlannedEdge): LinkSpec["kind"] | undefined {
  return e.kind ?? linkOf(args, e)?.kind;
}

function edgeDeletes(args: ReplicationTopologyArgs, e: PlannedEdge): boolean {
  if (e.deletes !== undefined) return e.deletes;
  const link = linkOf(args, e);
  if (link?.deletes !== undefined) return link.deletes;
  return edgeKind(args, e) === "bidirectional";
}

function edgeSourcePrefix(args: ReplicationTopologyArgs, e: PlannedEdge): string {
  return e.sourcePrefix ?? linkOf(args, e)?.prefix ?? "";
}

function edgeTargetPrefix(args: ReplicationTopologyArgs, e: PlannedEdge): string {
  if (e.targetPrefix !== undefined) return e.targetPrefix;
  const link = linkOf(args, e);
  if (link?.kind === "fan-in" && link.targetPrefixes?.[e.from] !== undefined) return link.targetPrefixes[e.from];
  return edgeSourcePrefix(args, e);
}

function edgeConflict(args: ReplicationTopologyArgs, e: PlannedEdge): "newer" | "keep-both" | undefined {
  if (e.conflict) return e.conflict;
  const link = linkOf(args, e);
  return link?.kind === "bidirectional" ? link.conflict : undefined;
}

export function planRunnerConfig(
  args: ReplicationTopologyArgs,
  plan: ReplicationPlan,
  opts: RunnerConfigOptions,
): RunnerConfigPlan {
  const select = opts.edges ?? ((e: PlannedEdge) => e.mechanism === "runner");
  const served = plan.edges.filter(select);
  for (const e of served) {
    for (const id of [e.from, e.to]) {
      if (!args.buckets[id]) throw new Error(`runner config: edge ${e.from}->${e.to} names unknown bucket "${id}"`);
    }
  }

  // ---- endpoints: one entry per distinct (URL, region, style, credentials), named readably.
  const usedBuckets: string[] = [];
  for (const id of Object.keys(args.buckets)) {
    if (served.some((e) => e.from === id || e.to === id)) usedBuckets.push(id);
  }
  const specOf = (id: string): BucketSpec => (id === STATE_BUCKET_ID ? opts.stateBucket!.spec : args.buckets[id]);
  if (opts.stateBucket) usedBuckets.push(STATE_BUCKET_ID);
  const staticKeys = opts.staticKeys ?? ((_id: string, spec: BucketSpec) => spec.provider !== "aws");
  interface Entry {
    key: string;
    base: string;
    ep: EndpointConfig;
    /** Explicit credentials from credentialsFor (undefined → default rule). */
    creds?: CredentialsConfig;
    defaultCreds: boolean;
    buckets: string[];
    isState?: boolean;
  }
  const entries: Entry[] = [];
  const entryOfBucket = new Map<string, Entry>();
  const addEntry = (key: string, make: () => Omit<Entry, "buckets" | "key">): Entry => {
    let entry = entries.find((x) => x.key === key);
    if (!entry) {
      entry = { key, buckets: [], ...make() };
      entries.push(entry);
    }
    return entry;
  };
  for (const id of usedBuckets) {
    const spec = specOf(id);
    const ep = opts.endpointFor ? { ...opts.endpointFor(id, spec) } : defaultEndpoint(spec);
    let creds: CredentialsConfig | undefined;
    let defaultCreds = false;
    let credKey: string;
    if (opts.credentialsFor) {
      creds = opts.credentialsFor(id, spec);
      credKey = creds ? `x:${JSON.stringify(creds)}` : "none";
    } else if (ep.credentials) {
      creds = ep.credentials;
      credKey = `x:${JSON.stringify(creds)}`;
    } else {
      const k = defaultCredentialsKey(spec, staticKeys(id, spec));
      defaultCreds = k !== undefined;
      credKey = k === undefined ? "none" : `default:${k}`;
    }
    delete ep.credentials;
    const key = `${endpointKey(ep)}|${credKey}`;
    const entry = addEntry(key, () => ({ base: baseEndpointName(spec, ep), ep, creds, defaultCreds }));
    entry.buckets.push(id);
    entryOfBucket.set(id, entry);
  }
  let stateEntry: Entry | undefined;
  if (opts.stateEndpoint && "bucket" in opts.state && !opts.stateBucket) {
    const ep = { ...opts.stateEndpoint };
    const creds = ep.credentials;
    delete ep.credentials;
    const key = `${endpointKey(ep)}|${creds ? `x:${JSON.stringify(creds)}` : "none"}`;
    stateEntry = addEntry(key, () => ({
      base: ep.endpoint ? baseEndpointName({ provider: "s3", bucket: "", endpoint: ep.endpoint }, ep) : `aws-${ep.region ?? "default"}`,
      ep,
      creds,
      defaultCreds: false,
      isState: true,
    }));
  }
  // Names: the readable base; when two distinct entries share it, suffix -2, -3... in order.
  const names = new Map<Entry, string>();
  const taken = new Set<string>();
  for (const entry of entries) {
    let name = entry.base;
    for (let n = 2; taken.has(name); n++) name = `${entry.base}-${n}`;
    taken.add(name);
    names.set(entry, name);
  }
  const endpoints: Record<string, EndpointConfig> = {};
  const endpointOf: Record<string, string> = {};
  const bucketsOf: Record<string, string[]> = {};
  for (const entry of entries) {
    const name = names.get(entry)!;
    const ep: EndpointConfig = { ...entry.ep };
    const creds = entry.defaultCreds ? { file: `${CREDENTIALS_DIR}/${name}.json` } : entry.creds;
    if (creds) ep.credentials = creds;
    endpoints[name] = ep;
    bucketsOf[name] = [...entry.buckets];
    for (const id of entry.buckets) endpointOf[id] = name;
  }

  // ---- jobs
  const loc = (bucketId: string, prefix: string): LocationConfig => {
    const l: LocationConfig = { endpoint: endpointOf[bucketId], bucket: args.buckets[bucketId].bucket };
    if (prefix) l.prefix = prefix;
    return l;
  };
  const jobs: JobConfig[] = [];
  const jobNames = new Set<string>();
  const uniqueJobName = (base: string): string => {
    const b = safeName(base);
    let name = b;
    for (let n = 2; jobNames.has(name); n++) name = `${b}-${n}`;
    jobNames.add(name);
    return name;
  };

  const consumed = new Set<PlannedEdge>();
  // Bidirectional pairs → one bisync job.
  for (const e of served) {
    if (consumed.has(e) || edgeKind(args, e) !== "bidirectional") continue;
    const back = served.find(
      (o) => !consumed.has(o) && o !== e && o.link === e.link && o.from === e.to && o.to === e.from,
    );
    if (!back) continue;
    consumed.add(e).add(back);
    const link = linkOf(args, e);
    // The pair's order follows the link's `between` when known, so the name is stable.
    const [a, b] = link?.kind === "bidirectional" && link.between[0] === e.to ? [back, e] : [e, back];
    const job: JobConfig = {
      name: uniqueJobName(`${a.from}-and-${a.to}`),
      mode: "bisync",
      source: loc(a.from, edgeSourcePrefix(args, a)),
      targets: [loc(a.to, edgeTargetPrefix(args, a))],
      deletes: edgeDeletes(args, a) || edgeDeletes(args, b),
    };
    const conflict = edgeConflict(args, a) ?? edgeConflict(args, b);
    if (conflict) job.conflict = conflict;
    jobs.push(job);
  }

  // One-way edges; fan-out edges of one link with identical options share a job (one listing).
  const groups = new Map<string, PlannedEdge[]>();
  const order: string[] = [];
  for (const e of served) {
    if (consumed.has(e)) continue;
    const kind = edgeKind(args, e);
    const groupable = kind === "fan-out";
    const key = groupable
      ? JSON.stringify(["g", e.link, e.from, edgeSourcePrefix(args, e), edgeDeletes(args, e), endpointOf[e.from]])
      : JSON.stringify(["e", plan.edges.indexOf(e), e.from, e.to]);
    if (!groups.has(key)) {
      groups.set(key, []);
      order.push(key);
    }
    groups.get(key)!.push(e);
  }
  for (const key of order) {
    const group = groups.get(key)!;
    const first = group[0];
    const deletes = edgeDeletes(args, first);
    const targets = group.map((e) => e.to);
    const base =
      targets.length === 1
        ? `${first.from}-to-${targets[0]}`
        : targets.length <= 3
          ? `${first.from}-to-${targets.join("-and-")}`
          : `${first.from}-to-${targets.length}-targets`;
    jobs.push({
      name: uniqueJobName(base),
      mode: deletes ? "sync" : "copy",
      source: loc(first.from, edgeSourcePrefix(args, first)),
      targets: group.map((e) => loc(e.to, edgeTargetPrefix(args, e))),
    });
  }

  let state: StateConfig = opts.state;
  if (stateEntry && "bucket" in state) state = { ...state, endpoint: names.get(stateEntry)! };
  if (opts.stateBucket) {
    state = { endpoint: endpointOf[STATE_BUCKET_ID], bucket: opts.stateBucket.spec.bucket, prefix: opts.stateBucket.prefix };
  }

  const config: RunnerConfig = { endpoints, state, jobs };
  if (opts.transfers !== undefined) config.transfers = opts.transfers;
  if (opts.schedule !== undefined) config.schedule = opts.schedule;
  if (opts.spoolDir !== undefined) config.spoolDir = opts.spoolDir;
  return {
    config,
    endpointOf,
    bucketsOf,
    edges: served.map((e) => `${e.from}->${e.to}`),
    served,
  };
}

/**
 * The endpoints a runner in `region` reaches outside its own cloud region's object storage: they
 * need a NAT gateway on a created network. aws-ec2: anything but AWS S3 in the runner's region (the
 * S3 gateway endpoint serves only that). oci-compute: anything but this region's OCI S3-compatible
 * endpoint (the service gateway serves only the Oracle Services Network of its region).
 */
export function outsideEndpoints(platform: "aws-ec2" | "oci-compute", region: string, config: RunnerConfig): string[] {
  const local = new RegExp(`^https://[^/]+\\.compat\\.objectstorage\\.${region.replace(/[.]/g, "\\.")}\\.oraclecloud\\.com/?$`);
  return Object.entries(config.endpoints)
    .filter(([, ep]) => (platform === "aws-ec2" ? !!ep.endpoint || (!!ep.region && ep.region !== region) : !ep.endpoint || !local.test(ep.endpoint)))
    .map(([name]) => name);
}

/** Egress ports beyond 443: explicit ports of the endpoints' URLs. */
export function endpointPorts(config: RunnerConfig): number[] {
  const ports = new Set<number>();
  for (const ep of Object.values(config.endpoints)) {
    if (!ep.endpoint) continue;
    try {
      const u = new URL(ep.endpoint);
      if (u.port && u.port !== "443") ports.add(Number(u.port));
      if (!u.port && u.protocol === "http:") ports.add(80);
    } catch {
      /* validated elsewhere */
    }
  }
  return [...ports].sort((a, b) => a - b);
}
