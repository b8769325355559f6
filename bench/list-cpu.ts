// CPU of listing, per listed key, in the runner's process only (the server is another process).
//   npx tsx bench/list-cpu.ts [--keys 20000] [--runs 5] [--dir DIR]
// Seeds (or reuses, in DIR: default $TMPDIR/list-cpu-bench) one s3rver bucket of small objects,
// then lists it end to end, pages of 1,000, one page at a time, through:
//   sdk-old     the SDK's ListObjectsV2Command as listLocation sent it before listPage
//   sdk-listPage listPage on an endpoint built with direct: false (SDK, EncodingType=url, decoding)
//   direct      listPage on the endpoint's direct path (signed GET, hand-written scanner)
//   transport   the direct path's signed GETs alone, bodies not parsed (Node's HTTP + signing)
// and reports process.cpuUsage() (user + system) per listed key, plus a pure-parse microbench of
// one 1,000-key page body (parseListObjectsV2, 1,000 times).
import { ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import pLimit from "p-limit";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3RVER_CREDENTIALS, startSite } from "../local/sites.js";
import { listerOf, listPage, parseListObjectsV2 } from "../runner/store/list.js";
import { makeEndpoint, zeroCounts, type Endpoint } from "../runner/store/s3.js";

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const KEYS = Number(arg("keys", "20000"));
const RUNS = Number(arg("runs", "5"));
const DIR = arg("dir", join(tmpdir(), "list-cpu-bench"));
const BUCKET = "listbench";

const keyOf = (i: number) => `data/${String(i % 100).padStart(2, "0")}/object-${String(i).padStart(6, "0")}.bin`;

const site = await startSite({ dir: DIR, buckets: [BUCKET] });
try {
  const sdk = new S3Client({ endpoint: site.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS }, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });
  const mk = (direct: boolean) => {
    const counts = zeroCounts();
    const ep = makeEndpoint("bench", { endpoint: site.endpoint, region: "us-east-1", forcePathStyle: true }, { ...S3RVER_CREDENTIALS }, { maxSockets: 8, requestTimeoutMs: 60_000, counts, direct });
    return { ep, counts };
  };

  // Seed what is missing (a reused directory lists first).
  const have = new Set<string>();
  {
    const { ep } = mk(true);
    let token: string | undefined;
    do {
      const p = await listPage(ep, BUCKET, { continuationToken: token }, 3);
      for (const o of p.objects) have.add(o.key);
      token = p.isTruncated ? p.nextContinuationToken : undefined;
    } while (token);
  }
  const missing = Array.from({ length: KEYS }, (_, i) => keyOf(i)).filter((k) => !have.has(k));
  if (missing.length) {
    const t = Date.now();
    const limit = pLimit(32);
    await Promise.all(missing.map((k) => limit(() => sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key: k, Body: `body ${k}` })))));
    console.error(`seeded ${missing.length} objects in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
  const total = have.size + missing.length;

  type Lister = () => Promise<number>;
  const oldPath = (ep: Endpoint): Lister => async () => {
    // Exactly the old listLocation loop: SDK command, then one Entry per object.
    let n = 0;
    let token: string | undefined;
    const out: { key: string; size: number; etag: string; mtime: number }[] = [];
    do {
      const page = await ep.client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token, MaxKeys: 1000 }));
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        out.push({ key: o.Key, size: o.Size ?? 0, etag: (o.ETag ?? "").replace(/^W\//, "").replace(/^"+|"+$/g, ""), mtime: o.LastModified ? o.LastModified.getTime() : 0 });
        n++;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return n;
  };
  const viaListPage = (ep: Endpoint): Lister => async () => {
    let n = 0;
    let token: string | undefined;
    do {
      const p = await listPage(ep, BUCKET, { continuationToken: token }, 3);
      n += p.objects.length;
      token = p.isTruncated ? p.nextContinuationToken : undefined;
    } while (token);
    return n;
  };

  // The transport alone: the same signed GETs, bodies not parsed (the token found with indexOf).
  const fetchOnly = (ep: Endpoint): Lister => async () => {
    const lister = listerOf(ep.direct!);
    let n = 0;
    let token: string | undefined;
    do {
      const body = (await lister.fetch(BUCKET, { continuationToken: token })).body.toString("latin1");
      const a = body.indexOf("<NextContinuationToken>");
      token = a < 0 ? undefined : body.slice(a + 23, body.indexOf("<", a + 23));
      n += Math.min(1000, total - n);
    } while (token);
    return n;
  };

  const sdkEp = mk(false);
  const directEp = mk(true);
  const cases: [string, Lister, ReturnType<typeof mk>][] = [
    ["sdk-old (ListObjectsV2Command, as listLocation was)", oldPath(sdkEp.ep), sdkEp],
    ["sdk-listPage (listPage, direct: false)", viaListPage(sdkEp.ep), sdkEp],
    ["direct (listPage, signed GET + scanner)", viaListPage(directEp.ep), directEp],
    ["  of which transport (signed GET, no parse)", fetchOnly(directEp.ep), directEp],
  ];
  console.log(`${total} objects, ${Math.ceil(total / 1000)} pages of 1,000 per listing, ${RUNS} listings per path (after one warm-up), node ${process.version}`);
  for (const [name, fn, { counts }] of cases) {
    await fn(); // warm-up: JIT, sockets
    const before = counts.LIST;
    const samples: number[] = [];
    let keys = 0;
    let wall = 0;
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const n = await fn();
      const c = process.cpuUsage(c0);
      wall += performance.now() - t0;
      keys += n;
      samples.push((c.user + c.system) / n);
    }
    samples.sort((a, b) => a - b);
    const lists = counts.LIST - before;
    console.log(
      `${name.padEnd(50)} ${samples[Math.floor(samples.length / 2)].toFixed(2).padStart(6)} µs CPU/key (median; min ${samples[0].toFixed(2)}, max ${samples[samples.length - 1].toFixed(2)})  wall ${((wall / keys) * 1000).toFixed(2)} µs/key  LIST requests ${lists} for ${keys} keys`,
    );
  }

  // Pure parse: one full page body, parsed 1,000 times.
  const { body } = await listerOf(directEp.ep.direct!).fetch(BUCKET, { maxKeys: 1000 });
  const perPage = parseListObjectsV2(body).objects.length;
  for (let i = 0; i < 200; i++) parseListObjectsV2(body);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < 1000; i++) parseListObjectsV2(body);
  const c = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  console.log(`${"parseListObjectsV2 (1,000 × one page)".padEnd(50)} ${((c.user + c.system) / (1000 * perPage)).toFixed(3).padStart(6)} µs CPU/key  (${perPage} keys, ${body.length} bytes per page; ${(ms / 1000).toFixed(3)} ms wall per page)`);
  sdk.destroy();
  for (const e of [sdkEp.ep, directEp.ep]) e.client.destroy();
} finally {
  await site.stop();
}
