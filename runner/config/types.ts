// The runner config file schema: the one contract between the Pulumi components (which generate it
// from a plan) and the runner (which validates and executes it). Plain JSON; no Pulumi types.

/** Inline keys, `{ env: "PREFIX" }` (reads PREFIX_ACCESS_KEY_ID / PREFIX_SECRET_ACCESS_KEY),
 *  or `{ file: "path" }` (a JSON file `{ "accessKeyId", "secretAccessKey", "sessionToken"? }`).
 *  Absent: the SDK's default chain (instance role). */
export type CredentialsConfig =
  | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | { env: string }
  | { file: string };

export interface EndpointConfig {
  /** "s3" (the default when absent). */
  type?: "s3";
  /** URL of an S3-compatible endpoint. Absent: AWS S3 in `region`. */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: CredentialsConfig;
  /** Allow plain http to a non-loopback host. */
  insecure?: boolean;
  /** Bandwidth limit in bytes per second for the object bytes streamed through this endpoint
   *  (GET from it or PUT to it), shared by all transfers. The file may also say "10M" ("K", "M",
   *  "G": 1024-based; also "KiB", "MiB", "GiB"); validateConfig turns it into a number. */
  maxBytesPerSecond?: number;
}

/** Swift credentials from elsewhere: `{ env: "PREFIX" }` reads PREFIX_USER / PREFIX_KEY (auth v1),
 *  PREFIX_USERNAME (unless `username` is set) / PREFIX_PASSWORD, or PREFIX_APPLICATION_CREDENTIAL_ID /
 *  PREFIX_APPLICATION_CREDENTIAL_SECRET (v3); `{ file: "path" }` a JSON file with the same fields as
 *  inline: {"user","key"}, {"username"?,"password"} or {"applicationCredentialId","applicationCredentialSecret"}. */
export type SwiftCredentialsConfig = { env: string } | { file: string };

/**
 * An OpenStack Swift endpoint on its native API (runner/store/swift.ts). Buckets are containers.
 * Usable as a job source or target, and as `state.endpoint` (the state in a container: runner/state/swift-store.ts).
 */
export interface SwiftEndpointConfig {
  type: "swift";
  /** S3-only fields, never set on a Swift endpoint (declared so code reading endpoints of either kind type-checks). */
  endpoint?: undefined;
  forcePathStyle?: undefined;
  /** v1: the auth URL itself (e.g. https://swift.example.com/auth/v1.0); v3: Keystone's URL (…/v3 optional). */
  authUrl: string;
  authVersion: 1 | 3;
  /** v1: `account:user` (tempauth) or the user name, and its key (or `credentials`). */
  user?: string;
  key?: string;
  /** v3 password auth (or `credentials`). Domains default to "Default". */
  username?: string;
  password?: string;
  userDomainName?: string;
  projectName?: string;
  projectDomainName?: string;
  /** v3 application credential (instead of username/password/project). */
  applicationCredentialId?: string;
  applicationCredentialSecret?: string;
  credentials?: SwiftCredentialsConfig;
  /** v3: the catalog region of the object-store endpoint (needed when the catalog has several). */
  region?: string;
  /** v3: the catalog interface (default "public"). */
  interface?: "public" | "internal" | "admin";
  /** Allow plain http to a non-loopback host. */
  insecure?: boolean;
  /** Container of SLO segments (default `<container>_segments`). */
  segmentContainer?: string;
  /** Objects larger than this are written as static large objects (SLO) of segments (default 5120:
   *  5 GiB, Swift's default max_file_size, the largest single PUT). */
  largeObjectThresholdMiB?: number;
  /** SLO segment size (default 1024: 1 GiB; grown so that a manifest has at most 1000 segments). */
  segmentSizeMiB?: number;
  /** Bandwidth limit in bytes per second for the object bytes streamed through this endpoint
   *  (GET from it or PUT to it), shared by all transfers. The file may also say "10M" ("K", "M",
   *  "G": 1024-based; also "KiB", "MiB", "GiB"); validateConfig turns it into a number. */
  maxBytesPerSecond?: number;
}

export type AnyEndpointConfig = EndpointConfig | SwiftEndpointConfig;

export function isSwiftEndpoint(e: AnyEndpointConfig): e is SwiftEndpointConfig {
  return e.type === "swift";
}

export interface LocationConfig {
  /** Name of an entry in `endpoints`. */
  endpoint: string;
  bucket: string;
  /** Key prefix ("" = whole bucket). Source prefix `a/` → target prefix `x/` maps `a/k` to `x/k`. */
  prefix?: string;
}

export interface JobConfig {
  name: string;
  mode: "copy" | "sync" | "bisync";
  source: LocationConfig;
  /** copy/sync: one or more (fan-out from one listing). bisync: exactly one. */
  targets: LocationConfig[];
  /** bisync only: propagate deletes (default true). sync always deletes; copy never does. */
  deletes?: boolean;
  conflict?: "newer" | "keep-both";
  /** Abort (exit 3) if deletes would exceed this percent of a side's objects. Default 50. */
  maxDeletePercent?: number;
  include?: string[];
  exclude?: string[];
  /** Bandwidth limit in bytes per second for the object bytes this job streams, shared by its
   *  parallel transfers (a string like "10M" in the file; see EndpointConfig.maxBytesPerSecond). */
  maxBytesPerSecond?: number;
}

export type StateConfig = { dir: string } | LocationConfig;

export interface RunnerConfig {
  /** The JSON Schema of this file, for editors (completion, hover, checks): e.g.
   *  "./node_modules/bucket-replication/schema/runner-config.schema.json". The runner ignores it. */
  $schema?: string;
  endpoints: Record<string, AnyEndpointConfig>;
  state: StateConfig;
  /** Parallel transfers (default 16). */
  transfers?: number;
  /** Cron expression: keep running on this schedule. */
  schedule?: string;
  jobs: JobConfig[];
  /** A job's lock expires this long after its last refresh, so a killed run's lock is recovered
   *  (default 900; refreshed every third of it while the run is alive). */
  lockTtlSeconds?: number;
  /** Attempts per object transfer/delete on retryable errors (5xx, throttling, resets, timeouts),
   *  on top of the SDK's own retries (default 6). */
  retries?: number;
  /** Objects at least this large are streamed through a multipart upload (default 64 MiB). */
  multipartThresholdMiB?: number;
  /** Multipart part size (default 8 MiB, grown to stay under 10,000 parts). Memory per large
   *  transfer is about partSize × 4 parts in flight. */
  partSizeMiB?: number;
  /** Server-side copies (same endpoint and credentials) of objects larger than this use a multipart
   *  copy (UploadPartCopy) instead of one CopyObject (default 5120 = 5 GiB, CopyObject's limit;
   *  5–5120). Lower it for servers whose CopyObject limit is lower. */
  multipartCopyThresholdMiB?: number;
  /** Streamed copies' GET and PUT as plain signed HTTP requests instead of through the AWS SDK, on
   *  endpoints with an explicit URL and path-style addressing (default true: about a third of the
   *  CPU per small object). false: every request through the SDK. */
  directHttp?: boolean;
  /** Key ranges listed at once per location (default 32): ranges come from the previous state, or
   *  on a first run from CommonPrefixes, and long ranges are split while listing. 1: one stream;
   *  fewer for a small self-hosted server that many LISTs at once would load. */
  listConcurrency?: number;
  /** Local directory for a run's temporary files (listing pages ahead of the merge, decisions,
   *  deletes, sort runs, the next state before its commit). Disk, not memory: keep it off tmpfs.
   *  Default: the OS temp directory (TMPDIR). Needs about 100 bytes per listed key at most. */
  spoolDir?: string;
  /** Per-request timeout: a request with no progress for this long is aborted and retried (default 120). */
  requestTimeoutSeconds?: number;
}
