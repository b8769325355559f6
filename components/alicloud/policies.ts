// RAM policy documents for OSS, naming exact buckets (and prefixes where the runner is limited to
// them). Pure: no Pulumi runtime.
import { minimalPrefixes, type BucketAccess } from "../deploy/policy.js";

export interface RamStatement {
  Effect: "Allow";
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

export function ramPolicyDocument(statements: RamStatement[]): string {
  return JSON.stringify({ Version: "1", Statement: statements });
}

/** `acs:oss:*:*:bucket` and `acs:oss:*:*:bucket/prefix*` (OSS resources carry no region or account
 *  in policies of the bucket owner's account). */
export const ossBucketResource = (bucket: string): string => `acs:oss:*:*:${bucket}`;
const ossObjects = (bucket: string, prefixes: Iterable<string>): string[] => minimalPrefixes(prefixes).map((p) => `acs:oss:*:*:${bucket}/${p}*`);

/** The trust policy of the role OSS assumes to replicate (the service principal oss.aliyuncs.com). */
export const OSS_TRUST_POLICY = JSON.stringify({
  Version: "1",
  Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["oss.aliyuncs.com"] } }],
});

/** What OSS needs to replicate from `source` to `dest` under a role: replicate-read the source,
 *  replicate-write (and delete) the destination, and the KMS keys involved. */
export function ossReplicationStatements(source: string, dest: string, deletes: boolean, kms: { decrypt?: string; encrypt?: string }): RamStatement[] {
  const st: RamStatement[] = [
    { Effect: "Allow", Action: ["oss:ReplicateList", "oss:ReplicateGet"], Resource: [ossBucketResource(source), `${ossBucketResource(source)}/*`] },
    { Effect: "Allow", Action: deletes ? ["oss:ReplicatePut", "oss:ReplicateDelete"] : ["oss:ReplicatePut"], Resource: [ossBucketResource(dest), `${ossBucketResource(dest)}/*`] },
  ];
  if (kms.decrypt) st.push({ Effect: "Allow", Action: ["kms:Decrypt"], Resource: [kmsResource(kms.decrypt)] });
  if (kms.encrypt) st.push({ Effect: "Allow", Action: ["kms:Encrypt", "kms:GenerateDataKey"], Resource: [kmsResource(kms.encrypt)] });
  return st;
}

function kmsResource(keyId: string): string {
  return `acs:kms:*:*:key/${keyId}`;
}

/** The runner's RAM user: list the served prefixes, read and write objects under them, delete
 *  only where an edge propagates deletes, and multipart upload housekeeping. */
export function ossRunnerStatements(buckets: { bucket: string; access: BucketAccess; kmsKeyId?: string }[]): RamStatement[] {
  const st: RamStatement[] = [];
  for (const { bucket, access, kmsKeyId } of buckets) {
    const listPrefixes = minimalPrefixes([...access.read, ...access.write]);
    const list: RamStatement = { Effect: "Allow", Action: ["oss:ListObjects", "oss:GetBucketInfo"], Resource: [ossBucketResource(bucket)] };
    if (!listPrefixes.includes("")) list.Condition = { StringLike: { "oss:Prefix": listPrefixes.map((p) => `${p}*`) } };
    st.push(list);
    st.push({ Effect: "Allow", Action: ["oss:GetObject"], Resource: ossObjects(bucket, [...access.read, ...access.write]) });
    if (access.write.size)
      st.push({ Effect: "Allow", Action: ["oss:PutObject", "oss:AbortMultipartUpload", "oss:ListParts"], Resource: ossObjects(bucket, access.write) });
    if (access.delete.size) st.push({ Effect: "Allow", Action: ["oss:DeleteObject"], Resource: ossObjects(bucket, access.delete) });
    if (kmsKeyId) st.push({ Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: [kmsResource(kmsKeyId)] });
  }
  return st;
}
