// S3-API native replication (Exoscale SOS style): the resources under Pulumi mocks, the request XML
// the SDK builds, and the dynamic providers' create/update/delete against a real s3rver (which has
// no replication or versioning API, so it answers NotImplemented / NoSuchBucket) and against a
// small recording server that does answer.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Client, PutBucketReplicationCommand } from "@aws-sdk/client-s3";
import { captureOpts, ofType, settle, testParent, type Recorded } from "./native-harness.js";
import { startSite, S3RVER_CREDENTIALS, type Site } from "../../local/sites.js";
import type { PlannedEdge, ReplicationTopologyArgs } from "../../components/plan/types.js";

type ProviderModule = typeof import("../../components/s3api/provider.js");
let P: ProviderModule;
let deployS3ApiNative: typeof import("../../components/s3api/replication.js").deployS3ApiNative;

beforeAll(async () => {
  P = await import("../../components/s3api/provider.js");
  ({ deployS3ApiNative } = await import("../../components/s3api/replication.js"));
});

const ROLE_A = "6f00a21e-a535-4286-86c5-e81eeab3b4ff";
const ROLE_B = "e23c886b-8091-4adc-b567-7bf796bed37b";
const SECRET = "very-secret-key-123";
const REPL = "pulumi-nodejs:dynamic/bucket-replication:S3ApiReplication";
const VERS = "pulumi-nodejs:dynamic/bucket-replication:S3ApiBucketVersioning";

function sos(bucket: string, zone: string, role?: string) {
  return {
    provider: "s3" as const,
    bucket,
    endpoint: `https://sos-${zone}.exo.io`,
    region: zone,
    nativeReplication: "s3-api" as const,
    credentials: { accessKeyId: "EXOKEY", secretAccessKey: SECRET },
    ...(role ? { replicationRole: role } : {}),
  };
}
function edge(from: string, to: string, link: number, extra: Partial<PlannedEdge> = {}): PlannedEdge {
  return { from, to, link, mechanism: "s3-native", reason: "test", kind: "one-to-one", deletes: false, sourcePrefix: "", targetPrefix: "", ...extra };
}

describe("resources under mocks", () => {
  let rs: Recorded[];
  const name = "sos";
  beforeAll(async () => {
    const args: ReplicationTopologyArgs = {
      buckets: { a: sos("bucket-a", "ch-dk-2", ROLE_A), b: sos("bucket-b", "at-vie-1", ROLE_B), c: sos("bucket-c", "de-fra-1") },
      links: [
        { kind: "bidirectional", between: ["a", "b"], deletes: true },
        { kind: "one-to-one", from: "a", to: "c", prefix: "logs/" },
      ],
    };
    const ctx = { parent: testParent(name), name, args, plan: { edges: [
      edge("a", "b", 0, { kind: "bidirectional", deletes: true }),
      edge("b", "a", 0, { kind: "bidirectional", deletes: true }),
      edge("a", "c", 1, { sourcePrefix: "logs/", targetPrefix: "logs/" }),
    ] } };
    deployS3ApiNative(ctx, {});
    rs = await settle(name);
  });

  it("versions every bucket once, against its own endpoint", () => {
    const v = ofType(rs, VERS);
    expect(v.map((x) => [x.inputs.bucket, x.inputs.endpoint, x.inputs.region]).sort()).toEqual([
      ["bucket-a", "https://sos-ch-dk-2.exo.io", "ch-dk-2"],
      ["bucket-b", "https://sos-at-vie-1.exo.io", "at-vie-1"],
      ["bucket-c", "https://sos-de-fra-1.exo.io", "de-fra-1"],
    ]);
  });

  it("one replication per source, in the provider's own format, after both ends are versioned", () => {
    const r = ofType(rs, REPL);
    expect(r.map((x) => x.inputs.bucket).sort()).toEqual(["bucket-a", "bucket-b"]);
    const a = r.find((x) => x.inputs.bucket === "bucket-a")!;
    expect(a.inputs.role).toBe(ROLE_A);
    expect(a.inputs.rules).toEqual([
      { id: "to-b", priority: 2, prefix: "", deleteMarkerReplication: true, destinationBucket: "bucket-b" },
      { id: "to-c", priority: 1, prefix: "logs/", deleteMarkerReplication: false, destinationBucket: "bucket-c" },
    ]);
    expect(a.dependsOn.sort()).toEqual([`${name}-a-versioning`, `${name}-b-versioning`, `${name}-c-versioning`]);
    const b = r.find((x) => x.inputs.bucket === "bucket-b")!;
    expect(b.inputs.role).toBe(ROLE_B);
    expect(b.inputs.rules).toEqual([{ id: "to-a", priority: 1, prefix: "", deleteMarkerReplication: true, destinationBucket: "bucket-a" }]);
  });

  it("keeps credentials secret: additional secret outputs, and never inside the serialized provider", () => {
    for (const r of [...ofType(rs, REPL), ...ofType(rs, VERS)]) {
      expect(r.additionalSecretOutputs).toEqual(["accessKeyId", "secretAccessKey"]);
      expect(typeof r.inputs.__provider).toBe("string");
      expect(r.inputs.__provider).not.toContain(SECRET);
      expect(r.inputs.__provider).not.toContain("EXOKEY");
    }
  });

  it("requires the source's replicationRole", () => {
    const args: ReplicationTopologyArgs = { buckets: { a: sos("x-a", "ch-dk-2"), b: sos("x-b", "ch-dk-2") }, links: [{ kind: "one-to-one", from: "a", to: "b" }] };
    const ctx = { parent: testParent("sos-bad"), name: "sos-bad", args, plan: { edges: [edge("a", "b", 0)] } };
    expect(() => deployS3ApiNative(ctx, {})).toThrow(/set its replicationRole/);
  });

  it("through ReplicationTopology: same service plans s3-native", async () => {
    const { ReplicationTopology } = await import("../../components/topology.js");
    const n = "sose2e";
    const topo = new ReplicationTopology(
      n,
      { buckets: { a: sos("e-a", "ch-dk-2", ROLE_A), b: sos("e-b", "at-vie-1") }, links: [{ kind: "one-to-one", from: "a", to: "b" }] },
      captureOpts,
    );
    expect(topo.plan.edges.map((e) => e.mechanism)).toEqual(["s3-native"]);
    const rs2 = await settle(n);
    expect(ofType(rs2, REPL)).toHaveLength(1);
    expect(ofType(rs2, REPL)[0].inputs.rules[0].destinationBucket).toBe("e-b");
  });
});

/** A recording S3-ish server that implements ?versioning and ?replication on existing buckets. */
function recordingServer(buckets: string[]) {
  const calls: { method: string; url: string; body: string }[] = [];
  const configs = new Map<string, string>();
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    calls.push({ method: req.method!, url: req.url!, body });
    const url = new URL(req.url!, "http://x");
    const bucket = url.pathname.split("/")[1];
    const err = (status: number, code: string) => {
      res.writeHead(status, { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
    };
    if (!buckets.includes(bucket)) return err(404, "NoSuchBucket");
    if (url.searchParams.has("replication")) {
      if (req.method === "PUT") configs.set(bucket, body);
      else if (req.method === "DELETE") {
        if (!configs.delete(bucket)) return err(404, "ReplicationConfigurationNotFoundError");
        res.writeHead(204);
        return res.end();
      }
      res.writeHead(200);
      return res.end();
    }
    if (url.searchParams.has("versioning") && req.method === "PUT") {
      res.writeHead(200);
      return res.end();
    }
    return err(501, "NotImplemented");
  });
  return { server, calls, configs };
}

describe("dynamic providers over HTTP", () => {
  let site: Site;
  let rec: ReturnType<typeof recordingServer>;
  let recEndpoint: string;
  beforeAll(async () => {
    site = await startSite({ dir: mkdtempSync(join(tmpdir(), "s3api-site-")), buckets: ["src", "dst"] });
    rec = recordingServer(["src", "dst"]);
    await new Promise<void>((r) => rec.server.listen(0, "127.0.0.1", () => r()));
    const addr = rec.server.address() as { port: number };
    recEndpoint = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => {
    await site?.stop();
    await new Promise((r) => rec?.server.close(r));
  });

  const inputs = (endpoint: string, extra: Partial<import("../../components/s3api/provider.js").S3ApiReplicationInputs> = {}) => ({
    endpoint,
    region: "ch-dk-2",
    ...S3RVER_CREDENTIALS,
    bucket: "src",
    role: ROLE_A,
    rules: [{ id: "vie1-follower", priority: 1, prefix: "", deleteMarkerReplication: true, destinationBucket: "dst" }],
    ...extra,
  });

  it("builds the seed's ReplicationConfiguration XML (role UUID, destination bucket name, empty prefix filter)", async () => {
    let xml = "";
    const client = new S3Client({ endpoint: site.endpoint, region: "ch-dk-2", forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    client.middlewareStack.add(
      (next) => async (args) => {
        xml = String((args.request as { body?: unknown }).body ?? "");
        return next(args);
      },
      { step: "finalizeRequest", name: "captureBody" },
    );
    // s3rver has no replication API: the request is real, the answer is NotImplemented.
    await expect(client.send(new PutBucketReplicationCommand(P.putReplicationRequest(inputs(site.endpoint))))).rejects.toMatchObject({ name: "NotImplemented" });
    client.destroy();
    const flat = xml.replace(/>\s+</g, "><");
    expect(flat).toContain("<ReplicationConfiguration");
    expect(flat).toContain(`<Role>${ROLE_A}</Role>`);
    expect(flat.match(/<Rule>/g)).toHaveLength(1);
    const rule = flat.slice(flat.indexOf("<Rule>"), flat.indexOf("</Rule>"));
    for (const part of [
      "<ID>vie1-follower</ID>",
      "<Priority>1</Priority>",
      "<Filter><Prefix></Prefix></Filter>",
      "<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication>",
      "<Destination><Bucket>dst</Bucket></Destination>",
    ]) expect(rule).toContain(part);
    expect(rule.replace(/<(DeleteMarkerReplication)>.*?<\/\1>/, "")).toContain("<Status>Enabled</Status>");
    expect(flat).not.toContain("arn:");
  });

  it("s3rver: create fails with a clear, handled NotImplemented; versioning likewise; credentials never in the message", async () => {
    const err = await P.s3ApiReplicationProvider.create!(inputs(site.endpoint)).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/PutBucketReplication on http:\/\/127\.0\.0\.1:\d+ bucket src failed: NotImplemented: .*does not implement PutBucketReplication.*nativeReplication: "none"/);
    const verr = await P.s3ApiVersioningProvider.create!({ endpoint: site.endpoint, region: "us-east-1", ...S3RVER_CREDENTIALS, bucket: "src" }).then(() => undefined, (e: Error) => e);
    // s3rver 3.7 routes this PUT ?versioning as CreateBucket and answers BucketAlreadyExists: whatever
    // the endpoint answers, the error names the call, the endpoint and the bucket.
    expect(verr?.message).toMatch(/^PutBucketVersioning on http:\/\/127\.0\.0\.1:\d+ bucket src failed: (NotImplemented|BucketAlreadyExists)/);
    const wrong = await P.s3ApiVersioningProvider.create!({ endpoint: site.endpoint, region: "us-east-1", accessKeyId: "NOPE", secretAccessKey: SECRET, bucket: "src" }).then(() => undefined, (e: Error) => e);
    expect(wrong).toBeInstanceOf(Error);
    expect(wrong!.message).not.toContain(SECRET);
  });

  it("s3rver: delete is idempotent (NotImplemented and NoSuchBucket both mean nothing to delete)", async () => {
    await expect(P.deleteReplication(inputs(site.endpoint))).resolves.toBe("absent");
    await expect(P.deleteReplication(inputs(site.endpoint, { bucket: "gone" }))).resolves.toBe("absent");
    await expect(P.s3ApiReplicationProvider.delete!("x", inputs(site.endpoint))).resolves.toBeUndefined();
  });

  it("recording server: create and update send the same full configuration; delete twice is fine", async () => {
    rec.calls.length = 0;
    const first = await P.s3ApiReplicationProvider.create!(inputs(recEndpoint));
    expect(first.id).toBe(`${recEndpoint}/src`);
    const again = await P.s3ApiReplicationProvider.create!(inputs(recEndpoint));
    expect(again.id).toBe(first.id);
    const puts = rec.calls.filter((c) => c.method === "PUT");
    expect(puts).toHaveLength(2);
    expect(puts[0].url).toMatch(/^\/src\/?\?replication/);
    expect(puts[1].body).toBe(puts[0].body);

    const changed = inputs(recEndpoint, { rules: [{ id: "r", priority: 1, prefix: "p/", deleteMarkerReplication: false, destinationBucket: "dst" }] });
    const d = await P.s3ApiReplicationProvider.diff!("id", inputs(recEndpoint), changed);
    expect(d).toMatchObject({ changes: true, replaces: [] });
    await P.s3ApiReplicationProvider.update!("id", inputs(recEndpoint), changed);
    expect(rec.configs.get("src")).toContain("<Prefix>p/</Prefix>");
    expect(rec.configs.get("src")).toContain("<Status>Disabled</Status>");

    expect((await P.s3ApiReplicationProvider.diff!("id", inputs(recEndpoint), inputs(recEndpoint, { bucket: "dst" }))).replaces).toEqual(["bucket"]);
    expect((await P.s3ApiReplicationProvider.diff!("id", inputs(recEndpoint), inputs(recEndpoint))).changes).toBe(false);

    await expect(P.deleteReplication(inputs(recEndpoint))).resolves.toBe("deleted");
    await expect(P.deleteReplication(inputs(recEndpoint))).resolves.toBe("absent");
    expect(rec.configs.has("src")).toBe(false);
  });

  it("recording server: versioning create enables versioning and is repeatable", async () => {
    rec.calls.length = 0;
    const v = { endpoint: recEndpoint, region: "ch-dk-2", ...S3RVER_CREDENTIALS, bucket: "dst" };
    await P.s3ApiVersioningProvider.create!(v);
    await P.s3ApiVersioningProvider.update!("id", v, v);
    const puts = rec.calls.filter((c) => c.method === "PUT" && /^\/dst\/?\?versioning/.test(c.url));
    expect(puts).toHaveLength(2);
    expect(puts[0].body.replace(/>\s+</g, "><")).toContain("<VersioningConfiguration");
    expect(puts[0].body).toContain("<Status>Enabled</Status>");
  });
});
