// OCI native replication under Pulumi mocks: replication policy, IAM statements, dependsOn order,
// pre-policy backfill; and the backfill script against a fake `oci` CLI.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { byName, captureOpts, ofType, settle, testParent, type Recorded } from "./native-harness.js";
import type { PlannedEdge, ReplicationTopologyArgs } from "../../components/plan/types.js";

let declareBuckets: typeof import("../../components/buckets.js").declareBuckets;
let deployOciNative: typeof import("../../components/oci/replication.js").deployOciNative;
let replicationStatements: typeof import("../../components/oci/replication.js").replicationStatements;
let ReplicationTopology: typeof import("../../components/topology.js").ReplicationTopology;
let OCI_BACKFILL_SCRIPT: string;

beforeAll(async () => {
  ({ declareBuckets } = await import("../../components/buckets.js"));
  ({ deployOciNative, replicationStatements } = await import("../../components/oci/replication.js"));
  ({ ReplicationTopology } = await import("../../components/topology.js"));
  ({ OCI_BACKFILL_SCRIPT } = await import("../../components/oci/backfill-script.js"));
});

const RP = "oci:ObjectStorage/replicationPolicy:ReplicationPolicy";
const IAM = "oci:Identity/policy:Policy";
const BUCKET = "oci:ObjectStorage/bucket:Bucket";
const CMD = "command:local:Command";
const C1 = "ocid1.compartment.oc1..aaaa";
const C2 = "ocid1.compartment.oc1..bbbb";

function oci(bucket: string, region: string, compartmentId = C1, extra: Record<string, unknown> = {}) {
  return { provider: "oci" as const, bucket, region, namespace: "tenancyns", compartmentId, ...extra };
}
function edge(from: string, to: string, link: number, extra: Partial<PlannedEdge> = {}): PlannedEdge {
  return { from, to, link, mechanism: "oci-native", reason: "test", kind: "one-to-one", deletes: true, sourcePrefix: "", targetPrefix: "", ...extra };
}
async function runPlan(name: string, args: ReplicationTopologyArgs, edges: PlannedEdge[]): Promise<Recorded[]> {
  const ctx = { parent: testParent(name), name, args, plan: { edges } };
  deployOciNative(ctx, declareBuckets(ctx));
  return settle(name);
}

describe("one-to-one across regions and compartments", () => {
  let rs: Recorded[];
  const name = "oci1";
  beforeAll(async () => {
    rs = await runPlan(
      name,
      {
        buckets: { a: oci("oci-a", "eu-frankfurt-1", C1), b: oci("oci-b", "us-ashburn-1", C2) },
        links: [{ kind: "one-to-one", from: "a", to: "b", deletes: true }],
      },
      [edge("a", "b", 0)],
    );
  });

  it("creates buckets without public access", () => {
    const bs = ofType(rs, BUCKET);
    expect(bs.map((b) => [b.inputs.name, b.inputs.accessType, b.inputs.compartmentId, b.inputs.namespace]).sort()).toEqual([
      ["oci-a", "NoPublicAccess", C1, "tenancyns"],
      ["oci-b", "NoPublicAccess", C2, "tenancyns"],
    ]);
  });

  it("creates the replication policy with the exact inputs", () => {
    const [p] = ofType(rs, RP);
    expect(p.inputs).toMatchObject({
      bucket: "oci-a",
      namespace: "tenancyns",
      destinationBucketName: "oci-b",
      destinationRegionName: "us-ashburn-1",
      name: `${name}-a-to-b`,
    });
    expect(p.deleteBeforeReplace).toBe(true);
  });

  it("lets objectstorage of both regions manage object-family in both compartments", () => {
    const pols = ofType(rs, IAM);
    expect(pols).toHaveLength(2);
    const byCompartment = Object.fromEntries(pols.map((p) => [p.inputs.compartmentId, p.inputs.statements]));
    expect(byCompartment[C1]).toEqual([
      `Allow service objectstorage-eu-frankfurt-1 to manage object-family in compartment id ${C1}`,
      `Allow service objectstorage-us-ashburn-1 to manage object-family in compartment id ${C1}`,
    ]);
    expect(byCompartment[C2]).toEqual([
      `Allow service objectstorage-eu-frankfurt-1 to manage object-family in compartment id ${C2}`,
      `Allow service objectstorage-us-ashburn-1 to manage object-family in compartment id ${C2}`,
    ]);
    for (const p of pols) expect(p.inputs.name).toMatch(/^[A-Za-z0-9_.-]{1,100}$/);
  });

  it("the replication policy depends on both IAM policies and both buckets (destroy removes it first)", () => {
    const [p] = ofType(rs, RP);
    const iamNames = ofType(rs, IAM).map((x) => x.name);
    expect(p.dependsOn).toEqual(expect.arrayContaining([...iamNames, `${name}-a`, `${name}-b`]));
  });

  it("no backfill for buckets the topology created", () => {
    expect(ofType(rs, CMD)).toHaveLength(0);
  });
});

describe("referenced source: backfill before the policy", () => {
  let rs: Recorded[];
  const name = "oci2";
  beforeAll(async () => {
    rs = await runPlan(
      name,
      {
        buckets: { a: oci("old-a", "eu-frankfurt-1", C1, { create: false }), b: oci("new-b", "eu-frankfurt-1", C1) },
        links: [{ kind: "one-to-one", from: "a", to: "b", deletes: true }],
      },
      [edge("a", "b", 0)],
    );
  });

  it("runs the backfill command after IAM and before the replication policy", () => {
    const [cmd] = ofType(rs, CMD);
    expect(cmd.name).toBe(`${name}-a-backfill`);
    expect(cmd.inputs.environment).toEqual({
      SRC_NAMESPACE: "tenancyns", SRC_BUCKET: "old-a", SRC_REGION: "eu-frankfurt-1",
      DST_NAMESPACE: "tenancyns", DST_BUCKET: "new-b", DST_REGION: "eu-frankfurt-1",
    });
    const [iam] = ofType(rs, IAM);
    expect(cmd.dependsOn).toContain(iam.name);
    expect(byName(rs, `${name}-a-replication`).dependsOn).toContain(`${name}-a-backfill`);
    // Same compartment: one IAM policy with one region.
    expect(iam.inputs.statements).toEqual([`Allow service objectstorage-eu-frankfurt-1 to manage object-family in compartment id ${C1}`]);
    expect(ofType(rs, BUCKET).map((b) => b.inputs.name)).toEqual(["new-b"]);
  });

  it("the command line the Command runs survives the shell (quotes in the script)", () => {
    const [cmd] = ofType(rs, CMD);
    const { fake } = fakeOci(`
console.log(JSON.stringify(args[2] === "list" ? { data: [{ name: "k" }] } : { data: { status: "COMPLETED" } }));`);
    const out = execFileSync("/bin/sh", ["-c", cmd.inputs.create], { env: { ...process.env, ...cmd.inputs.environment, OCI_CLI: fake }, encoding: "utf8" });
    expect(JSON.parse(out.trim())).toEqual({ source: "old-a", destination: "new-b", copied: 1, passes: 1 });
  });
});

describe("validation", () => {
  const args: ReplicationTopologyArgs = {
    buckets: { a: oci("v-a", "r1"), b: oci("v-b", "r2"), c: oci("v-c", "r3") },
    links: [{ kind: "fan-out", from: "a", to: ["b", "c"], deletes: true }],
  };
  const run = (name: string, edges: PlannedEdge[]) => {
    const ctx = { parent: testParent(name), name, args, plan: { edges } };
    return () => deployOciNative(ctx, declareBuckets(ctx));
  };
  it("one policy per source", () => expect(run("v1", [edge("a", "b", 0), edge("a", "c", 0)])).toThrow(/one replication policy per source/));
  it("one source per destination", () => expect(run("v2", [edge("a", "c", 0), edge("b", "c", 0)])).toThrow(/one source per destination/));
  it("a destination cannot be a source", () => expect(run("v3", [edge("a", "b", 0), edge("b", "c", 0)])).toThrow(/cannot also be a destination/));
  it("no prefix", () => expect(run("v4", [edge("a", "b", 0, { sourcePrefix: "x/", targetPrefix: "x/" })])).toThrow(/no prefix filter/));
  it("deletes always propagate", () => expect(run("v5", [edge("a", "b", 0, { deletes: false })])).toThrow(/always propagates deletes/));
});

it("tenancy-level compartments are addressed as `tenancy`", () => {
  expect(replicationStatements("ocid1.tenancy.oc1..xyz", ["b", "a", "a"])).toEqual([
    "Allow service objectstorage-a to manage object-family in tenancy",
    "Allow service objectstorage-b to manage object-family in tenancy",
  ]);
});

it("through ReplicationTopology: an OCI one-to-one with deletes plans oci-native and builds the policy", async () => {
  const name = "ocie2e";
  const topo = new ReplicationTopology(
    name,
    { buckets: { a: oci("e-a", "eu-frankfurt-1"), b: oci("e-b", "uk-london-1") }, links: [{ kind: "one-to-one", from: "a", to: "b", deletes: true }] },
    captureOpts,
  );
  expect(topo.plan.edges.map((e) => e.mechanism)).toEqual(["oci-native"]);
  const rs = await settle(name);
  expect(ofType(rs, RP)).toHaveLength(1);
  expect(ofType(rs, RP)[0].inputs.destinationRegionName).toBe("uk-london-1");
});

/**
 * A fake `oci` CLI (a node script) that appends each call's arguments to a log, then runs `body`
 * with `args` (the CLI arguments), `fs` and `LOG` (the log's path) in scope.
 */
function fakeOci(body: string): { fake: string; calls: () => string[][] } {
  const dir = mkdtempSync(join(tmpdir(), "oci-fake-"));
  const log = join(dir, "calls.jsonl");
  const fake = join(dir, "oci");
  writeFileSync(
    fake,
    `#!/usr/bin/env node
const fs = require("node:fs");
const LOG = ${JSON.stringify(log)};
const args = process.argv.slice(2);
fs.appendFileSync(LOG, JSON.stringify(args) + "\\n");
${body}
`,
  );
  chmodSync(fake, 0o755);
  return { fake, calls: () => readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l)) };
}

describe("backfill script against a fake oci CLI", () => {
  it("lists the source and copies every object server-side, waiting for each work request", () => {
    const { fake, calls: readCalls } = fakeOci(`
if (args[2] === "list") console.log(JSON.stringify({ data: [{ name: "a.txt" }, { name: "dir/it's b" }] }));
else console.log(JSON.stringify({ data: { status: "COMPLETED" } }));`);
    const out = execFileSync(process.execPath, ["-e", OCI_BACKFILL_SCRIPT], {
      env: { ...process.env, OCI_CLI: fake, SRC_NAMESPACE: "ns", SRC_BUCKET: "src", SRC_REGION: "eu-frankfurt-1", DST_NAMESPACE: "ns", DST_BUCKET: "dst", DST_REGION: "us-ashburn-1" },
      encoding: "utf8",
    });
    // One pass copies everything; the second listing finds nothing new, so it stops.
    expect(JSON.parse(out.trim())).toEqual({ source: "src", destination: "dst", copied: 2, passes: 1 });
    const calls = readCalls();
    expect(calls.map((c) => c[2])).toEqual(["list", "copy", "copy", "list"]);
    expect(calls[0]).toEqual(expect.arrayContaining(["--all", "--bucket-name", "src", "--fields", "name,etag"]));
    const copies = calls.filter((c) => c[2] === "copy");
    expect(copies.map((c) => c[c.indexOf("--source-object-name") + 1])).toEqual(["a.txt", "dir/it's b"]);
    for (const c of copies) {
      expect(c.slice(0, 3)).toEqual(["os", "object", "copy"]);
      expect(c).toEqual(expect.arrayContaining(["--destination-bucket", "dst", "--destination-region", "us-ashburn-1", "--wait-for-state", "COMPLETED"]));
    }
  });

  it("lists again after each pass and copies what was written or changed meanwhile, then warns about the remaining window", () => {
    // Each listing sees the source as it is after one more writer step: a new key, then a changed etag.
    const { fake, calls: readCalls } = fakeOci(`
if (args[2] === "list") {
  const n = fs.readFileSync(LOG, "utf8").split("\\n").filter((l) => l.includes('"list"')).length;
  const data = [{ name: "a", etag: "1" }];
  if (n >= 2) data.push({ name: "late", etag: "1" });
  if (n >= 3) data[0].etag = "2";
  console.log(JSON.stringify({ data }));
} else console.log(JSON.stringify({ data: { status: "COMPLETED" } }));`);
    const r = spawnSync(process.execPath, ["-e", OCI_BACKFILL_SCRIPT], {
      env: { ...process.env, OCI_CLI: fake, SRC_NAMESPACE: "ns", SRC_BUCKET: "src", DST_NAMESPACE: "ns", DST_BUCKET: "dst", DST_REGION: "r" },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ source: "src", destination: "dst", copied: 3, passes: 3 });
    const calls = readCalls();
    expect(calls.map((c) => (c[2] === "copy" ? `copy ${c[c.indexOf("--source-object-name") + 1]}` : c[2]))).toEqual([
      "list", "copy a", "list", "copy late", "list", "copy a", "list",
    ]);
    expect(r.stderr).toMatch(/objects written to src from now until the replication policy exists are not replicated to dst/);
  });

  it("fails when a copy's work request fails, so the policy is never created over a partial backfill", () => {
    const { fake } = fakeOci(`
if (args[2] === "list") console.log(JSON.stringify({ data: [{ name: "a" }] }));
else console.log(JSON.stringify({ data: { status: "FAILED" } }));`);
    expect(() =>
      execFileSync(process.execPath, ["-e", OCI_BACKFILL_SCRIPT], {
        env: { ...process.env, OCI_CLI: fake, SRC_NAMESPACE: "ns", SRC_BUCKET: "s", DST_NAMESPACE: "ns", DST_BUCKET: "d", DST_REGION: "r" },
        stdio: "pipe",
      }),
    ).toThrow();
  });
});
