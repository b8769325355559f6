// One-shot backfill for an OCI native edge, run on the deploying host by a `command.local.Command`
// before the replication policy exists (afterwards the destination is read-only). Server-side:
// each object is copied with the OCI CLI's CopyObject (`oci os object copy`, cross-region capable),
// waiting for each copy's work request, so no bytes pass through the host.
//
// Parameters come from the environment (the Command's `environment`):
//   SRC_NAMESPACE SRC_BUCKET DST_NAMESPACE DST_BUCKET DST_REGION  [SRC_REGION]  [OCI_CLI=oci]
// Re-running copies every object again (same content, new timestamps), which is harmless; the
// Command runs it only on create and when the bucket pair changes. A copy whose work request ends
// FAILED fails the command, so the replication policy is never created over a partial backfill.
//
// Race: an object written to the source after the last listing and before the replication policy
// exists is copied by neither (the policy replicates only later writes, and once it exists the
// destination is read-only, so nothing can copy into it any more). To narrow that window, the script
// lists again after each pass and copies what is new or changed (name + etag), up to MAX_PASSES
// passes, until a pass finds nothing; then it warns about the window that remains (docs/native.md).
export const OCI_BACKFILL_SCRIPT = String.raw`
const { execFileSync } = require("node:child_process");
const env = process.env;
const cli = env.OCI_CLI || "oci";
const MAX_PASSES = 5;
const need = (k) => { if (!env[k]) { console.error("missing " + k); process.exit(2); } return env[k]; };
const srcNs = need("SRC_NAMESPACE"), srcBucket = need("SRC_BUCKET");
const dstNs = need("DST_NAMESPACE"), dstBucket = need("DST_BUCKET"), dstRegion = need("DST_REGION");
const region = env.SRC_REGION ? ["--region", env.SRC_REGION] : [];
const run = (args) => execFileSync(cli, args, { encoding: "utf8", maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "inherit"] });
const list = () => {
  const out = run(["os", "object", "list", ...region, "--namespace-name", srcNs, "--bucket-name", srcBucket, "--all", "--fields", "name,etag", "--output", "json"]);
  return out.trim() ? (JSON.parse(out).data || []) : [];
};
const copy = (name) => {
  const out = run(["os", "object", "copy", ...region,
    "--namespace-name", srcNs, "--bucket-name", srcBucket, "--source-object-name", name,
    "--destination-namespace", dstNs, "--destination-bucket", dstBucket, "--destination-region", dstRegion,
    "--wait-for-state", "COMPLETED", "--wait-for-state", "FAILED"]);
  let status;
  try { status = JSON.parse(out).data.status; } catch { status = undefined; }
  if (status && status !== "COMPLETED") { console.error("copy of " + name + " ended " + status); process.exit(1); }
};
const done = new Map(); // name -> etag copied
let copied = 0, passes = 0, pending = 0;
for (; passes < MAX_PASSES; ) {
  const todo = list().filter((o) => !done.has(o.name) || done.get(o.name) !== o.etag);
  if (passes > 0 && todo.length === 0) break;
  passes++;
  for (const o of todo) { copy(o.name); done.set(o.name, o.etag); copied++; }
  pending = todo.length;
}
if (passes === MAX_PASSES && pending > 0) {
  console.error("warning: " + srcBucket + " kept changing during the backfill (" + pending + " objects in the last of " + passes + " passes)");
}
console.error("warning: objects written to " + srcBucket + " from now until the replication policy exists are not replicated to " + dstBucket + "; pause writers during the first pulumi up, or compare both listings afterwards (docs/native.md)");
console.log(JSON.stringify({ source: srcBucket, destination: dstBucket, copied, passes }));
`;
