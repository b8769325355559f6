// Shape validation of a topology: top-level keys, every bucket spec (per provider), every link
// (per kind) and the runner section. Pure; collects problems into a Problems list.
// The deployment's own cron converter (pure: croner only, no Pulumi), so the plan accepts exactly
// the schedules the runner deployment can install.
import { cronToOnCalendar, scheduleGaps } from "../deploy/schedule.js";
import { Problems, closest, isPlainObject, prefixesOverlap, q, typeName } from "./errors.js";
import { linodeRegion } from "./endpoints.js";
import { PROVIDER_NAMES, REGION_EXAMPLES, REGIONS, type RegionProvider, isKnownRegion, regionOwner } from "./regions.js";
import { EXTRA_REGIONS_KEY } from "./settings.js";

export const LINK_KINDS = ["one-to-one", "bidirectional", "fan-out", "fan-in"] as const;
export const PROVIDERS = ["aws", "oci", "s3", "alicloud", "linode"] as const;

const COMMON_LINK_FIELDS = ["kind", "prefix", "deletes", "mechanism", "replicationTime", "metrics", "storageClass", "backfill"];
export const LINK_FIELDS: Record<(typeof LINK_KINDS)[number], string[]> = {
  "one-to-one": [...COMMON_LINK_FIELDS, "from", "to"],
  bidirectional: [...COMMON_LINK_FIELDS, "between", "conflict"],
  "fan-out": [...COMMON_LINK_FIELDS, "from", "to"],
  "fan-in": [...COMMON_LINK_FIELDS, "from", "to", "targetPrefixes"],
};

export const BUCKET_FIELDS: Record<(typeof PROVIDERS)[number], { required: string[]; optional: string[] }> = {
  aws: { required: ["provider", "bucket", "region"], optional: ["accountId", "kmsKeyArn", "create", "pulumiProvider"] },
  oci: { required: ["provider", "bucket", "region", "namespace", "compartmentId"], optional: ["create", "pulumiProvider"] },
  s3: { required: ["provider", "bucket", "endpoint"], optional: ["region", "nativeReplication", "credentials", "insecure", "replicationRole"] },
  alicloud: { required: ["provider", "bucket", "region"], optional: ["create", "versioning", "kmsKeyId", "pulumiProvider"] },
  linode: { required: ["provider", "bucket", "region"], optional: ["endpoint", "create", "pulumiProvider"] },
};

/** Fields of the `runner:` section (RunnerSpec). Extend together with RunnerSpec in types.ts. */
export const RUNNER_FIELDS = [
  "platform", "region", "schedule", "network", "instanceType", "shape", "ocpus", "memoryInGbs",
  "compartmentId", "transfers", "alarmTopic", "bundlePath", "tenancyId", "vaultId", "vaultKeyId", "logRetentionDays",
  "shards", "image", "memory", "cpu", "kubernetesProvider", "namespace", "serviceAccountAnnotations", "stateBucket",
];
export const RUNNER_PLATFORMS = ["aws-ec2", "oci-compute", "kubernetes", "aws-ecs"] as const;
/** Runner fields that only some platforms use (every other field applies to all of them). */
const PLATFORM_ONLY_RUNNER_FIELDS: Record<string, { platforms: (typeof RUNNER_PLATFORMS)[number][]; fix: string }> = {
  network: { platforms: ["aws-ec2", "oci-compute", "aws-ecs"], fix: "remove it: a kubernetes runner uses the cluster's network (egress is limited by a NetworkPolicy)" },
  alarmTopic: { platforms: ["aws-ec2", "oci-compute", "aws-ecs"], fix: "remove it: on kubernetes, alert on failed Jobs with your cluster's monitoring (see docs/deploy.md)" },
  logRetentionDays: { platforms: ["aws-ec2", "oci-compute", "aws-ecs"], fix: "remove it: on kubernetes, pod logs are kept by your cluster's log pipeline" },
  image: { platforms: ["kubernetes", "aws-ecs"], fix: "remove it: VMs run the bundle with the distribution's Node" },
  memory: { platforms: ["kubernetes", "aws-ecs"], fix: "remove it, or size the VM with instanceType (aws-ec2) or memoryInGbs (oci-compute)" },
  cpu: { platforms: ["aws-ecs"], fix: "remove it (Fargate task CPU units apply to platform aws-ecs only)" },
  kubernetesProvider: { platforms: ["kubernetes"], fix: "remove it, or use platform: kubernetes" },
  namespace: { platforms: ["kubernetes"], fix: "remove it, or use platform: kubernetes" },
  serviceAccountAnnotations: { platforms: ["kubernetes"], fix: "remove it, or use platform: kubernetes" },
  stateBucket: { platforms: ["kubernetes"], fix: "remove it: the other platforms keep the state in the artifacts bucket they create" },
};
/** Fargate task CPU units. */
export const FARGATE_CPU = [256, 512, 1024, 2048, 4096];
const OCI_ONLY_RUNNER_FIELDS = ["shape", "ocpus", "memoryInGbs", "compartmentId", "vaultId", "vaultKeyId"];
const S3_STORAGE_CLASSES = [
  "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "EXPRESS_ONEZONE",
];
const AWS_ONLY_RUNNER_FIELDS = ["instanceType"];

const BUCKET_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const OCID_COMPARTMENT_RE = /^ocid1\.(compartment|tenancy)\.oc\d+\.[a-z0-9-]*\.[a-z0-9]+$/;
const OCI_NAMESPACE_RE = /^[a-z0-9][a-z0-9-]{0,63}$/i;
const KMS_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/;
/** Alibaba Cloud region ids: cn-hangzhou, cn-hongkong, ap-southeast-1, eu-central-1, us-west-1, me-east-1. */
const ALICLOUD_REGION_RE = /^[a-z]{2}(-[a-z]+)+(-\d{1,2})?$/;
/** Linode Object Storage regions (us-east, se-sto, fr-par) or legacy clusters (us-east-1). */
const LINODE_REGION_RE = /^[a-z]{2}-[a-z]+(-\d{1,2})?$/;

/** OSS bucket names: 3-63 characters, lowercase letters, digits and hyphens, starting and ending
 *  with a letter or digit (no dots, unlike S3). */
function ossBucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `${q(name)} has ${name.length} characters; OSS bucket names have 3 to 63`;
  if (!/^[a-z0-9][a-z0-9-]*[a-z0-9]$/.test(name))
    return `${q(name)} is not a valid OSS bucket name (lowercase letters, digits and hyphens, starting and ending with a letter or digit)`;
  return undefined;
}

function unknownField(p: Problems, path: string, key: string, allowed: string[], context: string, elsewhere?: string): void {
  const guess = closest(key, allowed);
  const fix = guess
    ? `did you mean ${q(guess)}? (allowed: ${allowed.join(", ")})`
    : elsewhere
      ? elsewhere
      : `remove it (allowed: ${allowed.join(", ")})`;
  p.add(`${path}.${key}`, `unknown field for ${context}`, fix);
}

/** S3 bucket naming rules (AWS; also applied to S3-compatible endpoints). */
export function s3BucketNameProblem(name: string, aws: boolean): string | undefined {
  if (name.length < 3 || name.length > 63) return `${q(name)} has ${name.length} characters; S3 bucket names have 3 to 63`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name))
    return `${q(name)} is not a valid S3 bucket name (lowercase letters, digits, dots and hyphens; starting and ending with a letter or digit)`;
  if (name.includes("..")) return `${q(name)} contains "..", which S3 bucket names may not`;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return `${q(name)} is formatted as an IP address, which S3 bucket names may not be`;
  if (aws && (/^(xn--|sthree-|amzn-s3-demo-)/.test(name) || /(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)))
    return `${q(name)} uses a prefix or suffix that AWS reserves`;
  return undefined;
}

function ociBucketNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 256) return `${q(name)} must have 1 to 256 characters`;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) return `${q(name)} is not a valid OCI bucket name (letters, digits, hyphens, underscores and periods only)`;
  return undefined;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "localhost" || h.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::1";
}

function requireString(p: Problems, spec: Record<string, unknown>, path: string, key: string, fix: string): string | undefined {
  const v = spec[key];
  if (v === undefined || v === null || v === "") {
    p.add(`${path}.${key}`, `missing (required for ${q(spec.provider)} buckets)`, fix);
    return undefined;
  }
  if (typeof v !== "string") {
    p.add(`${path}.${key}`, `must be a string, got ${typeName(v)}`, `${fix} (quote it in YAML)`);
    return undefined;
  }
  return v;
}

function optionalBoolean(p: Problems, obj: Record<string, unknown>, path: string, key: string, meaning: string): void {
  const v = obj[key];
  if (v !== undefined && typeof v !== "boolean") p.add(`${path}.${key}`, `must be true or false, got ${typeName(v)}`, `set ${key}: true or ${key}: false (${meaning})`);
}

function validateBucket(p: Problems, id: string, spec: unknown, extraRegions: readonly string[]): void {
  const path = `buckets.${id}`;
  if (!BUCKET_ID_RE.test(id))
    p.add(path, `bucket id ${q(id)} is not usable as an id`, "use letters, digits, '-', '_' or '.', starting with a letter or digit, at most 63 characters");
  if (!isPlainObject(spec)) {
    p.add(path, `must be an object with provider and bucket, got ${typeName(spec)}`, `write e.g. ${path}: { provider: aws, bucket: my-bucket, region: us-east-1 }`);
    return;
  }
  const provider = spec.provider;
  if (provider === undefined) {
    p.add(`${path}.provider`, "missing", `set provider to one of ${PROVIDERS.join(", ")}`);
    return;
  }
  if (typeof provider !== "string" || !(PROVIDERS as readonly string[]).includes(provider)) {
    const guess = typeof provider === "string" ? closest(provider, PROVIDERS) : undefined;
    p.add(`${path}.provider`, `unknown provider ${q(provider)}`,
      guess ? `did you mean ${q(guess)}? (one of ${PROVIDERS.join(", ")}; any other S3-compatible service is "s3" with an endpoint)`
        : `use one of ${PROVIDERS.join(", ")} (any other S3-compatible service is "s3" with an endpoint)`);
    return;
  }
  const prov = provider as (typeof PROVIDERS)[number];
  const fields = BUCKET_FIELDS[prov];
  const allowed = [...fields.required, ...fields.optional];
  for (const key of Object.keys(spec)) {
    if (allowed.includes(key)) continue;
    const owner = PROVIDERS.filter((o) => o !== prov && [...BUCKET_FIELDS[o].required, ...BUCKET_FIELDS[o].optional].includes(key));
    unknownField(p, path, key, allowed, `an ${q(prov)} bucket`,
      owner.length ? `remove it: ${key} belongs to ${owner.map((o) => q(o)).join(" and ")} buckets (allowed here: ${allowed.join(", ")})` : undefined);
  }

  const bucket = requireString(p, spec, path, "bucket", "set bucket to the bucket's name");
  if (bucket !== undefined) {
    const problem = prov === "oci" ? ociBucketNameProblem(bucket) : prov === "alicloud" ? ossBucketNameProblem(bucket) : s3BucketNameProblem(bucket, prov === "aws");
    if (problem) p.add(`${path}.bucket`, problem, "rename the bucket to follow the provider's naming rules");
  }
  optionalBoolean(p, spec, path, "create", "false references an existing bucket");
  if (spec.pulumiProvider !== undefined && (typeof spec.pulumiProvider !== "object" || spec.pulumiProvider === null))
    p.add(`${path}.pulumiProvider`, `must be a Pulumi provider resource, got ${typeName(spec.pulumiProvider)}`, "pass a provider object from a Pulumi program, or remove it (stack config cannot express one)");

  if (prov === "aws" || prov === "oci") {
    const example = prov === "aws" ? "us-east-1" : "uk-london-1";
    const region = requireString(p, spec, path, "region", `set region to the ${prov === "aws" ? "AWS" : "OCI"} region identifier, e.g. ${example}`);
    if (region !== undefined) checkRegion(p, `${path}.region`, prov, region, extraRegions);
  }

  if (prov === "aws") {
    const acct = spec.accountId;
    if (acct !== undefined && !(typeof acct === "string" && /^\d{12}$/.test(acct)))
      p.add(`${path}.accountId`, `must be a 12-digit string, got ${typeName(acct)}`, 'write the AWS account id in quotes, e.g. accountId: "123456789012"');
    const kms = spec.kmsKeyArn;
    if (kms !== undefined && !(typeof kms === "string" && KMS_ARN_RE.test(kms)))
      p.add(`${path}.kmsKeyArn`, `${q(kms)} is not a KMS key ARN`, "use arn:aws:kms:<region>:<account>:key/<key-id>");
  }

  if (prov === "oci") {
    const ns = requireString(p, spec, path, "namespace", "set namespace to the tenancy's Object Storage namespace (oci os ns get)");
    if (ns !== undefined && !OCI_NAMESPACE_RE.test(ns))
      p.add(`${path}.namespace`, `${q(ns)} is not an Object Storage namespace`, "use the value of `oci os ns get` (letters and digits)");
    const comp = requireString(p, spec, path, "compartmentId", "set compartmentId to the compartment OCID (ocid1.compartment.oc1..<id>)");
    if (comp !== undefined && !OCID_COMPARTMENT_RE.test(comp))
      p.add(`${path}.compartmentId`, `${q(comp)} is not a compartment OCID`, "use ocid1.compartment.oc1..<id> (or the tenancy OCID for the root compartment)");
  }

  if (prov === "alicloud") {
    const region = requireString(p, spec, path, "region", "set region to the OSS region id, e.g. cn-hangzhou or eu-central-1");
    if (region !== undefined && !ALICLOUD_REGION_RE.test(region))
      p.add(`${path}.region`, `${q(region)} is not an Alibaba Cloud region id`,
        region.startsWith("oss-") ? `drop the "oss-" prefix: ${q(region.slice(4))}` : "use the region id, e.g. cn-hangzhou, cn-hongkong, ap-southeast-1 or eu-central-1");
    else if (region !== undefined) checkRegion(p, `${path}.region`, "alicloud", region, extraRegions);
    optionalBoolean(p, spec, path, "versioning", "whether the bucket is (to be) versioned; OSS replication needs both buckets alike");
    const kms = spec.kmsKeyId;
    if (kms !== undefined && !(typeof kms === "string" && /^[A-Za-z0-9-]{8,128}$/.test(kms)))
      p.add(`${path}.kmsKeyId`, `${q(kms)} is not a KMS key id`, "use the key id shown by KMS (e.g. key-hzz62f1cb66fa42qo****), or remove it for SSE-OSS (AES256)");
  }

  if (prov === "linode") {
    const region = requireString(p, spec, path, "region", "set region to the Object Storage region, e.g. us-east or eu-central");
    if (region !== undefined && !LINODE_REGION_RE.test(region))
      p.add(`${path}.region`, `${q(region)} is not a Linode Object Storage region`, "use the region id, e.g. us-east, eu-central, se-sto (or a cluster id such as us-east-1)");
    // A legacy cluster id is its region plus "-1".
    else if (region !== undefined && !isKnownRegion("linode", region.replace(/-1$/, ""), extraRegions)) checkRegion(p, `${path}.region`, "linode", region, extraRegions);
  }

  if (prov === "s3" || (prov === "linode" && spec.endpoint !== undefined)) {
    const endpoint = requireString(p, spec, path, "endpoint", "set endpoint to the service's S3 URL, e.g. https://eu-central-1.linodeobjects.com");
    if (endpoint !== undefined) {
      let url: URL | undefined;
      try {
        url = new URL(endpoint);
      } catch {
        p.add(`${path}.endpoint`, `${q(endpoint)} is not a URL`, "write the full URL with scheme, e.g. https://eu-central-1.linodeobjects.com");
      }
      if (url) {
        if (url.protocol !== "https:" && url.protocol !== "http:")
          p.add(`${path}.endpoint`, `scheme ${q(url.protocol)} is not http or https`, "use an https:// URL");
        else if (url.username || url.password)
          p.add(`${path}.endpoint`, "the URL embeds credentials", "remove them from the URL and set credentials (pulumi config set --secret --path)");
        else if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash)
          p.add(`${path}.endpoint`, `${q(endpoint)} has a path, query or fragment`, `use only scheme, host and port, e.g. ${url.protocol}//${url.host}`);
        else if (url.protocol === "http:" && !isLoopback(url.hostname) && spec.insecure !== true)
          p.add(`${path}.endpoint`, `plain http to ${url.hostname}, which is not loopback, would send data and signatures unencrypted`, "use https, or set insecure: true if the network is trusted");
      }
    }
  }

  if (prov === "s3") {
    const region = spec.region;
    if (region !== undefined && !(typeof region === "string" && /^[A-Za-z0-9_-]+$/.test(region)))
      p.add(`${path}.region`, `${q(region)} is not a region name`, "use the region name the service documents (e.g. us-east-1, auto), or omit it");
    const nr = spec.nativeReplication;
    if (nr !== undefined && nr !== "none" && nr !== "s3-api")
      p.add(`${path}.nativeReplication`, `unknown value ${q(nr)}`, 'use "s3-api" (the endpoint implements PutBucketReplication, like Exoscale SOS) or "none"');
    optionalBoolean(p, spec, path, "insecure", "true allows plain http to a non-loopback endpoint");
    const role = spec.replicationRole;
    if (role !== undefined && (typeof role !== "string" || role === ""))
      p.add(`${path}.replicationRole`, `must be a string, got ${typeName(role)}`, "set the replication role in the provider's format (Exoscale: the IAM role UUID)");
    const creds = spec.credentials;
    if (creds !== undefined) {
      if (!isPlainObject(creds)) {
        p.add(`${path}.credentials`, `must be an object with accessKeyId and secretAccessKey, got ${Array.isArray(creds) ? "a list" : "a scalar"}`,
          "set both with pulumi config set --secret --path 'topology.buckets.<id>.credentials.accessKeyId' (and secretAccessKey)");
      } else {
        for (const k of ["accessKeyId", "secretAccessKey"]) {
          const v = creds[k];
          // Values may be Pulumi Outputs (secrets); never echo them.
          if (v === undefined || v === null || v === "")
            p.add(`${path}.credentials.${k}`, "missing", `set it with pulumi config set --secret --path 'topology.buckets.${id}.credentials.${k}' <value>`);
          else if (typeof v !== "string" && typeof v !== "object")
            p.add(`${path}.credentials.${k}`, "must be a string", "set it as a (secret) string");
        }
        for (const k of Object.keys(creds))
          if (k !== "accessKeyId" && k !== "secretAccessKey")
            unknownField(p, `${path}.credentials`, k, ["accessKeyId", "secretAccessKey"], "credentials");
      }
    }
  }
}

function validatePrefix(p: Problems, path: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== "string") {
    p.add(path, `must be a string, got ${typeName(v)}`, 'write the key prefix as a string, e.g. "logs/" ("" = whole bucket)');
    return;
  }
  if (v.startsWith("/")) p.add(path, `${q(v)} starts with "/", but object keys do not`, `drop the leading slash: ${q(v.replace(/^\/+/, ""))}`);
}

function bucketRef(p: Problems, path: string, v: unknown, ids: string[], role: string): string | undefined {
  if (typeof v !== "string" || v === "") {
    p.add(path, `must be a bucket id, got ${typeName(v)}`, `set it to one of the ids in buckets (${ids.join(", ") || "none defined"})`);
    return undefined;
  }
  if (!ids.includes(v)) {
    const guess = closest(v, ids);
    p.add(path, `unknown bucket id ${q(v)} as ${role}`,
      guess ? `did you mean ${q(guess)}? (known: ${ids.join(", ")})` : `use one of ${ids.join(", ") || "(none defined)"} or add buckets.${v}`);
    return undefined;
  }
  return v;
}

function bucketList(p: Problems, path: string, v: unknown, ids: string[], role: string, kind: string, single: string): string[] | undefined {
  if (typeof v === "string") {
    p.add(path, `a ${kind} link takes a list of ${role}s, got the single id ${q(v)}`, `write ${path.split(".").pop()}: [${v}] or use ${single}`);
    return undefined;
  }
  if (!Array.isArray(v)) {
    p.add(path, `must be a list of bucket ids, got ${typeName(v)}`, `list the ${role} bucket ids, e.g. [a, b]`);
    return undefined;
  }
  if (v.length === 0) {
    p.add(path, "empty list", `list at least one ${role} bucket id`);
    return undefined;
  }
  const out: string[] = [];
  let ok = true;
  v.forEach((item, j) => {
    const id = bucketRef(p, `${path}[${j}]`, item, ids, role);
    if (id === undefined) ok = false;
    else if (out.includes(id)) {
      p.add(`${path}[${j}]`, `${q(id)} is listed twice`, "list each bucket once");
      ok = false;
    } else out.push(id);
  });
  return ok ? out : undefined;
}

function validateLink(p: Problems, i: number, link: unknown, ids: string[]): void {
  const path = `links[${i}]`;
  if (!isPlainObject(link)) {
    p.add(path, `must be an object with kind, got ${typeName(link)}`, "write e.g. { kind: one-to-one, from: a, to: b }");
    return;
  }
  const kind = link.kind;
  if (kind === undefined) {
    p.add(`${path}.kind`, "missing", `set kind to one of ${LINK_KINDS.join(", ")}`);
    return;
  }
  if (typeof kind !== "string" || !(LINK_KINDS as readonly string[]).includes(kind)) {
    const guess = typeof kind === "string" ? closest(kind, LINK_KINDS) : undefined;
    p.add(`${path}.kind`, `unknown kind ${q(kind)}`, `${guess ? `did you mean ${q(guess)}? ` : ""}use one of ${LINK_KINDS.join(", ")}`);
    return;
  }
  const k = kind as (typeof LINK_KINDS)[number];
  const allowed = LINK_FIELDS[k];
  for (const key of Object.keys(link)) {
    if (allowed.includes(key)) continue;
    if (key === "conflict") {
      p.add(`${path}.conflict`, `conflict applies only to bidirectional links (a ${k} link writes one way, so edits never conflict)`, "remove conflict, or use kind: bidirectional");
    } else if (key === "targetPrefixes") {
      p.add(`${path}.targetPrefixes`, `targetPrefixes applies only to fan-in links, not ${k}`, "remove it, or use kind: fan-in with from: [sources]");
    } else if (key === "between") {
      p.add(`${path}.between`, `between is for bidirectional links; a ${k} link uses from and to`, "replace between with from and to, or use kind: bidirectional");
    } else if ((key === "from" || key === "to") && k === "bidirectional") {
      p.add(`${path}.${key}`, "a bidirectional link has no direction, so it takes between, not from/to", "write between: [a, b]");
    } else {
      unknownField(p, path, key, allowed, `a ${k} link`);
    }
  }

  validatePrefix(p, `${path}.prefix`, link.prefix);
  optionalBoolean(p, link, path, "deletes", k === "bidirectional" ? "default true for bidirectional" : `default false for ${k}`);
  for (const key of ["replicationTime", "metrics", "backfill"]) optionalBoolean(p, link, path, key, "a native-replication option");
  const sc = link.storageClass;
  if (sc !== undefined && !(typeof sc === "string" && S3_STORAGE_CLASSES.includes(sc))) {
    const guess = typeof sc === "string" ? closest(sc, S3_STORAGE_CLASSES) : undefined;
    p.add(`${path}.storageClass`, `unknown S3 storage class ${q(sc)}`, `${guess ? `did you mean ${q(guess)}? ` : ""}use one of ${S3_STORAGE_CLASSES.join(", ")}`);
  }
  const mech = link.mechanism;
  if (mech !== undefined && mech !== "auto" && mech !== "native" && mech !== "runner")
    p.add(`${path}.mechanism`, `unknown mechanism ${q(mech)}`, 'use "auto" (the default), "native" or "runner"');

  if (k === "one-to-one") {
    if (Array.isArray(link.to)) p.add(`${path}.to`, "a one-to-one link has a single target, got a list", "use kind: fan-out for several targets");
    else bucketRef(p, `${path}.to`, link.to, ids, "target");
    if (Array.isArray(link.from)) p.add(`${path}.from`, "a one-to-one link has a single source, got a list", "use kind: fan-in for several sources");
    else bucketRef(p, `${path}.from`, link.from, ids, "source");
    if (typeof link.from === "string" && link.from === link.to)
      p.add(`${path}.to`, `from and to are both ${q(link.from)} (a self-link)`, `point ${path}.to at a bucket other than ${q(link.from)}; replication needs two buckets`);
  } else if (k === "fan-out") {
    const from = Array.isArray(link.from)
      ? (p.add(`${path}.from`, "a fan-out link has a single source, got a list", "use kind: fan-in for several sources"), undefined)
      : bucketRef(p, `${path}.from`, link.from, ids, "source");
    const to = bucketList(p, `${path}.to`, link.to, ids, "target", k, "kind: one-to-one");
    if (from !== undefined && to?.includes(from))
      p.add(`${path}.to`, `lists the source ${q(from)} as a target (a self-link)`, `remove ${q(from)} from to`);
  } else if (k === "fan-in") {
    const to = Array.isArray(link.to)
      ? (p.add(`${path}.to`, "a fan-in link has a single target, got a list", "use kind: fan-out for several targets"), undefined)
      : bucketRef(p, `${path}.to`, link.to, ids, "target");
    const from = bucketList(p, `${path}.from`, link.from, ids, "source", k, "kind: one-to-one");
    if (to !== undefined && from?.includes(to))
      p.add(`${path}.from`, `lists the target ${q(to)} as a source (a self-link)`, `remove ${q(to)} from from`);
    const tp = link.targetPrefixes;
    if (tp !== undefined) {
      if (!isPlainObject(tp)) {
        p.add(`${path}.targetPrefixes`, `must be a map of source id to prefix, got ${typeName(tp)}`, 'write e.g. targetPrefixes: { a: "from-a/", b: "from-b/" }');
      } else {
        for (const [src, pre] of Object.entries(tp)) {
          if (from && !from.includes(src)) {
            const guess = closest(src, from);
            p.add(`${path}.targetPrefixes.${src}`, `${q(src)} is not one of this link's sources`,
              guess ? `did you mean ${q(guess)}? (sources: ${from.join(", ")})` : `use only ids from from (${from.join(", ")})`);
          }
          validatePrefix(p, `${path}.targetPrefixes.${src}`, pre);
        }
      }
    }
    // Two sources syncing with deletes into the same (or a nested) prefix delete each other's objects.
    const deletes = link.deletes === true;
    if (deletes && from && from.length > 1 && (tp === undefined || isPlainObject(tp))) {
      const base = typeof link.prefix === "string" ? link.prefix : "";
      const target = (s: string): string => {
        const v = isPlainObject(tp) ? tp[s] : undefined;
        return typeof v === "string" ? v : base;
      };
      outer: for (let a = 0; a < from.length; a++)
        for (let b = a + 1; b < from.length; b++) {
          const [pa, pb] = [target(from[a]), target(from[b])];
          if (prefixesOverlap(pa, pb)) {
            p.add(`${path}.targetPrefixes`,
              `with deletes, sources ${q(from[a])} and ${q(from[b])} both land under ${pa === pb ? q(pa) : `${q(pa)} and ${q(pb)}`} of ${q(link.to)}, so each sync would delete the other's objects`,
              `give each source its own prefix, e.g. targetPrefixes: { ${from.map((s) => `${s}: "${s}/"`).join(", ")} }, or set deletes: false`);
            break outer;
          }
        }
    }
  } else {
    const between = link.between;
    if (!Array.isArray(between) || between.length !== 2) {
      p.add(`${path}.between`, `must list exactly 2 bucket ids, got ${Array.isArray(between) ? `${between.length}` : typeName(between)}`,
        "write between: [a, b]; for more buckets add one bidirectional link per pair");
    } else {
      const a = bucketRef(p, `${path}.between[0]`, between[0], ids, "member");
      const b = bucketRef(p, `${path}.between[1]`, between[1], ids, "member");
      if (a !== undefined && a === b) p.add(`${path}.between`, `both entries are ${q(a)} (a self-link)`, `replace one of them in ${path}.between with a bucket other than ${q(a)}`);
    }
    const c = link.conflict;
    if (c !== undefined && c !== "newer" && c !== "keep-both")
      p.add(`${path}.conflict`, `unknown conflict policy ${q(c)}`, 'use "newer" (the default: the later LastModified wins, the other version is kept as a .conflict copy) or "keep-both"');
  }
}

function validateStateBucket(p: Problems, sb: unknown, buckets: unknown): void {
  const path = "runner.stateBucket";
  if (!isPlainObject(sb)) {
    p.add(path, `must be a bucket spec, got ${typeName(sb)}`, "write e.g. stateBucket: { provider: aws, bucket: my-runner-state, region: eu-west-1 } (an existing bucket)");
    return;
  }
  const prov = sb.provider;
  if (prov !== "aws" && prov !== "oci" && prov !== "s3") {
    p.add(`${path}.provider`, prov === undefined ? "missing" : `unsupported provider ${q(prov)} for the state bucket`, "use aws, oci or s3 (any S3-compatible store, e.g. an in-cluster MinIO, with credentials)");
    return;
  }
  const fields = BUCKET_FIELDS[prov];
  const allowed = [...fields.required, ...fields.optional].filter((k) => k !== "pulumiProvider");
  for (const key of Object.keys(sb)) if (!allowed.includes(key)) unknownField(p, path, key, allowed, `a ${q(prov)} state bucket`);
  for (const key of fields.required) {
    const v = sb[key];
    if (typeof v !== "string" || v === "") p.add(`${path}.${key}`, v === undefined ? "missing" : `must be a string, got ${typeName(v)}`, `set ${key} (required for ${q(prov)} buckets)`);
  }
  if (sb.create === true)
    p.add(`${path}.create`, "the component does not create the state bucket", "create the bucket beforehand (private, versioning optional) and remove create, or set create: false");
  if (prov === "s3" && !isPlainObject(sb.credentials))
    p.add(`${path}.credentials`, "missing: a kubernetes runner reaches an s3 state bucket with static keys", "set credentials: { accessKeyId, secretAccessKey } (Pulumi secrets)");
  if (isPlainObject(buckets) && typeof sb.bucket === "string") {
    for (const [id, b] of Object.entries(buckets)) {
      if (isPlainObject(b) && b.provider === prov && b.bucket === sb.bucket)
        p.add(`${path}.bucket`, `${q(sb.bucket)} is also buckets.${id}, a replicated bucket`,
          "use a bucket of its own for the runner's state (its state/ objects must never be replicated or deleted by a sync)");
    }
  }
}

function validateRunner(p: Problems, runner: unknown, extraRegions: readonly string[], buckets?: unknown): void {
  if (runner === undefined) return;
  if (!isPlainObject(runner)) {
    p.add("runner", `must be an object, got ${typeName(runner)}`, "write runner: { platform: aws-ec2, region: us-east-1 } or remove it");
    return;
  }
  const platform = runner.platform;
  if (!(RUNNER_PLATFORMS as readonly string[]).includes(platform as string)) {
    const guess = typeof platform === "string" ? closest(platform, RUNNER_PLATFORMS) : undefined;
    p.add("runner.platform", platform === undefined ? "missing" : `unknown platform ${q(platform)}`,
      `${guess ? `did you mean ${q(guess)}? ` : ""}use "aws-ec2", "oci-compute", "kubernetes" or "aws-ecs"`);
  }
  const container = platform === "kubernetes" || platform === "aws-ecs";
  for (const key of Object.keys(runner)) {
    if (!RUNNER_FIELDS.includes(key)) unknownField(p, "runner", key, RUNNER_FIELDS, "the runner");
    else if (platform !== "oci-compute" && OCI_ONLY_RUNNER_FIELDS.includes(key))
      p.add(`runner.${key}`, "applies only to platform oci-compute", "remove it, or use platform: oci-compute");
    else if (platform !== "aws-ec2" && AWS_ONLY_RUNNER_FIELDS.includes(key))
      p.add(`runner.${key}`, "applies only to platform aws-ec2", container ? "remove it: a container's size is memory (and cpu on aws-ecs)" : "remove it, or use shape for oci-compute");
    else if (typeof platform === "string" && PLATFORM_ONLY_RUNNER_FIELDS[key] && (RUNNER_PLATFORMS as readonly string[]).includes(platform) &&
      !(PLATFORM_ONLY_RUNNER_FIELDS[key].platforms as string[]).includes(platform)) {
      const rule = PLATFORM_ONLY_RUNNER_FIELDS[key];
      p.add(`runner.${key}`, `applies only to platform ${rule.platforms.join(", ").replace(/, ([^,]+)$/, " or $1")}`, rule.fix);
    }
  }
  const shards = runner.shards;
  if (shards !== undefined && !(Number.isInteger(shards) && (shards as number) >= 1 && (shards as number) <= 256))
    p.add("runner.shards", `must be a whole number from 1 to 256, got ${typeName(shards)}`, "set shards: 1 (the default: one process per job) or e.g. shards: 4");
  const image = runner.image;
  if (image !== undefined && !(typeof image === "string" && /^[a-z0-9][a-z0-9._\-/:@]*$/i.test(image) && !/\s/.test(image)))
    p.add("runner.image", `${q(image)} is not a container image reference`, "use e.g. registry.example.com/bucket-replication-runner:1.2.3 (built from deploy/container/Dockerfile), or omit it for the official Node image");
  else if (typeof image === "string" && !/[:@]/.test(image.split("/").pop() ?? ""))
    p.add("runner.image", `${q(image)} has no tag or digest`, "pin it, e.g. my-registry/runner:1.2.3 or …@sha256:<digest> (an untagged image is :latest and changes under you)");
  const memory = runner.memory;
  if (memory !== undefined && !(Number.isInteger(memory) && (memory as number) >= 256 && (memory as number) <= 30720))
    p.add("runner.memory", `must be a whole number of MiB from 256 to 30720, got ${typeName(memory)}`, "omit it (the job's memory figure) or set e.g. memory: 1024");
  const cpu = runner.cpu;
  if (cpu !== undefined && !FARGATE_CPU.includes(cpu as number))
    p.add("runner.cpu", `must be a Fargate CPU size, got ${typeName(cpu)}`, `use one of ${FARGATE_CPU.join(", ")} (default 512)`);
  const ns = runner.namespace;
  if (ns !== undefined && !(typeof ns === "string" && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)))
    p.add("runner.namespace", `${q(ns)} is not a Kubernetes namespace name`, "use lowercase letters, digits and '-', at most 63 characters, or omit it (a namespace is created)");
  const kp = runner.kubernetesProvider;
  if (kp !== undefined && (typeof kp !== "object" || kp === null))
    p.add("runner.kubernetesProvider", `must be a Pulumi Kubernetes provider resource, got ${typeName(kp)}`, "pass a kubernetes.Provider from a Pulumi program, or remove it (the default provider: ambient kubeconfig)");
  const sa = runner.serviceAccountAnnotations;
  if (sa !== undefined && !(isPlainObject(sa) && Object.values(sa).every((v) => typeof v === "string")))
    p.add("runner.serviceAccountAnnotations", `must be a map of string to string, got ${typeName(sa)}`, "write e.g. { eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/runner }");
  if (platform === "kubernetes") {
    if (runner.stateBucket === undefined)
      p.add("runner.stateBucket", "missing (required for platform kubernetes: the runner's state must outlive its pods)",
        "set stateBucket to an existing bucket of its own, e.g. { provider: aws, bucket: my-runner-state, region: eu-west-1 }");
    else validateStateBucket(p, runner.stateBucket, buckets);
  }
  const region = runner.region;
  if (region === undefined) p.add("runner.region", "missing", "set the region the runner runs in, e.g. us-east-1 or uk-london-1");
  else if (typeof region !== "string" || region === "")
    p.add("runner.region", `must be a region name, got ${typeName(region)}`, "use the long form, e.g. us-east-1 or uk-london-1");
  else if (platform === "aws-ec2" || platform === "aws-ecs" || platform === "oci-compute")
    checkRegion(p, "runner.region", platform === "oci-compute" ? "oci" : "aws", region, extraRegions);
  const schedule = runner.schedule;
  if (schedule !== undefined) {
    const problem = scheduleProblem(schedule);
    if (problem) p.add("runner.schedule", problem, 'use minute hour day-of-month month day-of-week in UTC with numbers, names, lists, ranges and steps, or @hourly/@daily/@weekly/@monthly/@yearly, e.g. "*/15 * * * *"');
  }
  const transfers = runner.transfers;
  if (transfers !== undefined && !(Number.isInteger(transfers) && (transfers as number) >= 1 && (transfers as number) <= 1024))
    p.add("runner.transfers", `must be a whole number from 1 to 1024, got ${typeName(transfers)}`, "set transfers: 16 (the default) or omit it");
  for (const key of ["ocpus", "memoryInGbs"]) {
    const v = runner[key];
    if (v !== undefined && !(typeof v === "number" && v > 0)) p.add(`runner.${key}`, `must be a positive number, got ${typeName(v)}`, `set ${key} to a number, e.g. 1`);
  }
  for (const key of ["instanceType", "shape"]) {
    const v = runner[key];
    if (v !== undefined && (typeof v !== "string" || v === "")) p.add(`runner.${key}`, `must be a string, got ${typeName(v)}`, key === "shape" ? "e.g. shape: VM.Standard.E5.Flex" : "e.g. instanceType: t3.small");
  }
  const comp = runner.compartmentId;
  if (comp !== undefined && !(typeof comp === "string" && OCID_COMPARTMENT_RE.test(comp)))
    p.add("runner.compartmentId", `${q(comp)} is not a compartment OCID`, "use ocid1.compartment.oc1..<id>");
  const alarm = runner.alarmTopic;
  if (alarm !== undefined) {
    const ok = typeof alarm === "string" &&
      (platform === "oci-compute" ? /^ocid1\.onstopic\./.test(alarm) : /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$/.test(alarm));
    if (!ok)
      p.add("runner.alarmTopic", `${q(alarm)} is not ${platform === "oci-compute" ? "an ONS topic OCID" : "an SNS topic ARN"}`,
        platform === "oci-compute" ? "use ocid1.onstopic.oc1..<id>" : "use arn:aws:sns:<region>:<account>:<topic>");
  }
  const lr = runner.logRetentionDays;
  if (lr !== undefined && !(Number.isInteger(lr) && (lr as number) >= 1))
    p.add("runner.logRetentionDays", `must be a whole number of days, got ${typeName(lr)}`, "set e.g. logRetentionDays: 30 (the default)");
  for (const key of ["bundlePath", "vaultId", "vaultKeyId"]) {
    const v = runner[key];
    if (v !== undefined && (typeof v !== "string" || v === "")) p.add(`runner.${key}`, `must be a string, got ${typeName(v)}`, `set ${key} to a ${key === "bundlePath" ? "file path" : "OCID"} or remove it`);
  }
  const tenancy = runner.tenancyId;
  if (tenancy !== undefined && !(typeof tenancy === "string" && /^ocid1\.tenancy\.oc\d+\.[a-z0-9-]*\.[a-z0-9]+$/.test(tenancy)))
    p.add("runner.tenancyId", `${q(tenancy)} is not a tenancy OCID`, "use ocid1.tenancy.oc1..<id> or remove it (default: the oci:tenancyOcid config)");
  const net = runner.network;
  if (net !== undefined) {
    if (!isPlainObject(net)) p.add("runner.network", `must be an object, got ${typeName(net)}`, "use { subnetIds: [...] } or { create: true, cidr: 10.42.0.0/16 }");
    else if ("subnetIds" in net) {
      const s = net.subnetIds;
      if (!Array.isArray(s) || s.length === 0 || s.some((x) => typeof x !== "string" || x === ""))
        p.add("runner.network.subnetIds", "must be a non-empty list of subnet ids", "list existing private subnet ids, or use { create: true }");
      for (const k of Object.keys(net)) if (k !== "subnetIds") unknownField(p, "runner.network", k, ["subnetIds"], "an existing network");
    } else {
      if (net.create !== undefined && net.create !== true) p.add("runner.network.create", "must be true", "set create: true or give subnetIds");
      const cidr = net.cidr;
      // The network is split into a private (runner) and a public (NAT only) half, and an AWS VPC
      // must be /16 to /28, so the block must be /16 to /23 (the deploy component relies on it).
      if (cidr !== undefined && !(typeof cidr === "string" && /^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-3])$/.test(cidr)))
        p.add("runner.network.cidr", `${q(cidr)} is not an IPv4 CIDR block of /16 to /23`, "use e.g. 10.42.0.0/16 (the runner network is split into a private and a NAT half)");
      for (const k of Object.keys(net)) if (k !== "create" && k !== "cidr") unknownField(p, "runner.network", k, ["create", "cidr", "subnetIds"], "the runner network");
    }
  }
}

/**
 * Why the deployment would reject this schedule, or undefined. The same converter the deployment
 * uses (cron → systemd OnCalendar=, cross-checked by croner), and the same gap computation that
 * sizes the staleness alarm (a schedule that never fires fails there).
 */
export function scheduleProblem(schedule: unknown): string | undefined {
  if (typeof schedule !== "string" || schedule.trim() === "") return `must be a cron expression, got ${typeName(schedule)}`;
  try {
    cronToOnCalendar(schedule);
    scheduleGaps(schedule);
    return undefined;
  } catch (e) {
    // The converter's message starts with `runner.schedule "<expr>": <why>. Use ...`: keep the why.
    const m = /^runner\.schedule "(?:[^"\\]|\\.)*": (.*?)\. Use a 5-field/s.exec((e as Error).message);
    return `${q(schedule)} is not a schedule the runner deployment accepts: ${m ? m[1] : (e as Error).message}`;
  }
}

const article = (name: string): string => `${/^[AEIOU]/.test(name) ? "an" : "a"} ${name}`;

/** A region must be one the provider has (components/plan/regions.ts) or listed in extraRegions. */
function checkRegion(p: Problems, path: string, provider: RegionProvider, region: string, extraRegions: readonly string[]): void {
  if (isKnownRegion(provider, region, extraRegions)) return;
  const name = PROVIDER_NAMES[provider];
  const guess = closest(region, REGIONS[provider]);
  const owner = regionOwner(region);
  const what = owner && owner !== provider
    ? `${q(region)} is ${article(PROVIDER_NAMES[owner])} region, not ${article(name)} region`
    : `${q(region)} is not a known ${name} region`;
  const hatch = `if it is a region that opened recently, add it to the stack config ${EXTRA_REGIONS_KEY} (a list of region names)`;
  p.add(path, what, guess ? `did you mean ${q(guess)}? Otherwise use the ${name} region identifier; ${hatch}` : `use the ${name} region identifier, e.g. ${REGION_EXAMPLES[provider]}; ${hatch}`);
}

/** Shape validation of the whole topology; throws a TopologyError listing every problem found. */
export function validateShape(args: unknown, extraRegions: readonly string[] = []): void {
  shapeProblems(args, extraRegions).check();
}

/** The shape problems of a topology, collected (not thrown): the planner goes on with the links
 *  that are sound, so that one run reports the problems of every stage. */
export function shapeProblems(args: unknown, extraRegions: readonly string[] = []): Problems {
  const p = new Problems();
  if (!isPlainObject(args)) {
    p.add("topology", `must be an object with buckets and links, got ${typeName(args)}`, "set the stack config bucket-replication:topology to { buckets: {...}, links: [...] }");
    return p;
  }
  for (const key of Object.keys(args))
    if (!["buckets", "links", "runner"].includes(key)) unknownField(p, "topology", key, ["buckets", "links", "runner"], "the topology");
  const buckets = args.buckets;
  let ids: string[] = [];
  if (!isPlainObject(buckets)) {
    p.add("buckets", buckets === undefined ? "missing" : `must be a map of bucket id to bucket spec, got ${typeName(buckets)}`, "declare buckets: { <id>: { provider, bucket, ... } }");
  } else {
    ids = Object.keys(buckets);
    for (const [id, spec] of Object.entries(buckets)) validateBucket(p, id, spec, extraRegions);
    checkSameBucketTwice(p, buckets);
  }
  const links = args.links;
  if (!Array.isArray(links)) {
    p.add("links", links === undefined ? "missing" : `must be a list of links, got ${typeName(links)}`, "declare links: [ { kind: one-to-one, from: a, to: b } ] (or links: [] for none)");
  } else {
    links.forEach((link, i) => validateLink(p, i, link, ids));
  }
  validateRunner(p, args.runner, extraRegions, args.buckets);
  return p;
}

/** Two ids naming the same physical bucket would hide a self-link. */
function checkSameBucketTwice(p: Problems, buckets: Record<string, unknown>): void {
  const seen = new Map<string, string>();
  for (const [id, spec] of Object.entries(buckets)) {
    if (!isPlainObject(spec) || typeof spec.bucket !== "string") continue;
    let identity: string | undefined;
    if (spec.provider === "aws") identity = `aws:${spec.bucket}`;
    else if (spec.provider === "oci") identity = `oci:${String(spec.namespace)}:${String(spec.region)}:${spec.bucket}`;
    // OSS bucket names are unique across Alibaba Cloud; Linode's per region (cluster).
    else if (spec.provider === "alicloud") identity = `alicloud:${spec.bucket}`;
    else if (spec.provider === "linode") identity = `linode:${linodeRegion(String(spec.region))}:${spec.bucket}`;
    else if (spec.provider === "s3" && typeof spec.endpoint === "string") {
      let host = spec.endpoint;
      try { host = new URL(spec.endpoint).host; } catch { /* reported elsewhere */ }
      identity = `s3:${host}:${spec.bucket}`;
    }
    if (!identity) continue;
    const other = seen.get(identity);
    if (other !== undefined)
      p.add(`buckets.${id}.bucket`, `names the same bucket as buckets.${other} (${q(spec.bucket)})`, `use one id for the bucket and refer to ${q(other)} in links`);
    else seen.set(identity, id);
  }
}
