// `npm start`: replicate a real topology locally.
//
// 1. Plans demo/topology.yaml (stack-config schema) with planTopology, exactly as `pulumi up` would,
//    and prints per edge the mechanism the clouds would use and why.
// 2. Starts one real S3-compatible server (s3rver) process per site on loopback, creates the
//    buckets and seeds sample objects.
// 3. Generates the runner config with runnerConfigFromPlan (the function the components deploy)
//    and runs the real runner, dist/runner.mjs, with its live progress display.
// 4. Changes data on several sites (new, modified, deleted, one conflicting edit on both sides of
//    London↔Zurich), runs again and shows the incremental result and the conflict copies.
// 5. Verifies every link with `runner check --json` and prints a table. Exit 0 only if all in sync.
//
// Usage: npm start -- [--dir DIR] [--keep] [--json-summary FILE]
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { S3Client } from "@aws-sdk/client-s3";
import { planTopology } from "../components/plan/index.js";
import { linkName } from "../components/plan/render.js";
import type { PlannedEdge, ReplicationPlan, ReplicationTopologyArgs } from "../components/plan/types.js";
import { runnerConfigFromPlan } from "../components/deploy/runner-config.js";
import type { JobConfig, RunnerConfig } from "../runner/config/types.js";
import { S3RVER_CREDENTIALS, startSites, type Site } from "../local/sites.js";
import { CONFLICT_KEY, FORECAST_LONDON, FORECAST_ZURICH, changes, initialObjects, type SampleObject } from "./dataset.js";
import { bold, cyan, dim, formatBytes, formatSeconds, green, heading, red, table, yellow } from "./format.js";
import { BUNDLE, REPO, buildBundle, bundleStaleness, checkRunner, runRunner, runRunnerJson, type CheckSummary, type RunLine } from "./runner.js";
import { del, getText, listAll, localClient, put, type ListedObject } from "./s3.js";
import { TOPOLOGY_FILE, loadTopology, sitePlan } from "./topology.js";

const MARKER = ".bucket-replication-demo";

export interface DemoOptions {
  dir: string;
  keep: boolean;
  jsonSummary?: string;
}

/** One row of the verification: one source → target pair of one runner job. */
export interface LinkResult {
  /** Index of the link in the topology's links list: shown as links[i], as in the plan and its errors. */
  link: number;
  kind: string;
  job: string;
  mode: string;
  from: string;
  to: string;
  /** What the clouds would use for this edge (planTopology). */
  cloudMechanism: string;
  source: { site: string; bucket: string; prefix: string; objects: number; bytes: number };
  target: { site: string; bucket: string; prefix: string; objects: number; bytes: number; missing: number; different: number; extra: number };
  inSync: boolean;
  /** The job's time in the first and the second run (from the runner's summary lines). */
  runSeconds: Array<number | null>;
  /** Time of the runner's check for this job. */
  checkSeconds: number;
}

export interface StoryCheck {
  what: string;
  ok: boolean;
  detail?: string;
}

export interface DemoSummary {
  ok: boolean;
  dir: string;
  topology: string;
  seconds: number;
  sites: Record<string, { endpoint: string; buckets: string[] }>;
  plan: Array<{ link: number; kind?: string; from: string; to: string; mechanism: string; reason: string }>;
  runs: Array<{ name: string; exitCode: number; seconds: number; jobs: RunLine[] }>;
  /** A third run right after the second, nothing changed: what it did. */
  converged: { copied: number; deleted: number; conflicts: number; requests: Record<string, number>; exitCode: number };
  check: { exitCode: number; seconds: number };
  links: LinkResult[];
  story: StoryCheck[];
  conflicts: { key: string; winner: string; copies: Record<string, string[]> };
  fanIn: { target: string; prefixes: Record<string, number> };
}

class DemoError extends Error {}

function parseOptions(argv: string[]): DemoOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: "string" },
      keep: { type: "boolean", default: false },
      "json-summary": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return "help";
  const dir = values.dir ? resolve(values.dir) : join(REPO, ".demo");
  return { dir, keep: values.keep ?? false, jsonSummary: values["json-summary"] ? resolve(values["json-summary"]) : undefined };
}

const HELP = `Usage: npm start -- [--dir DIR] [--keep] [--json-summary FILE]

Replicates the topology in demo/topology.yaml on local S3-compatible servers with the real sync runner.
  --dir DIR            work directory (default .demo/ in the repo); wiped at the start of every run
  --keep               leave the servers running at the end and print endpoints and credentials
  --json-summary FILE  also write a machine-readable summary of the verification to FILE
`;

const say = (s = "") => process.stdout.write(s + "\n");
const shown = (p: string) => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r : p;
};

/** Start from a clean work dir; refuse to wipe a directory this demo did not create. */
function prepareDir(dir: string): void {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new DemoError(`refusing to wipe ${dir}: it is not empty and was not created by the demo (no ${MARKER} file)`);
    }
    for (const e of entries) rmSync(join(dir, e), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER), "Work directory of `npm start` (bucket-replication demo). Wiped on every run.\n");
}

function describeLocation(bucket: string, prefix?: string): string {
  return prefix ? `${bucket}/${prefix}` : bucket;
}

function printPlan(args: ReplicationTopologyArgs, plan: ReplicationPlan): void {
  const edgesByLink = new Map<number, PlannedEdge[]>();
  for (const e of plan.edges) {
    if (!edgesByLink.has(e.link)) edgesByLink.set(e.link, []);
    edgesByLink.get(e.link)!.push(e);
  }
  args.links.forEach((link, i) => {
    const what =
      link.kind === "bidirectional"
        ? `${link.between[0]} ⇄ ${link.between[1]}`
        : link.kind === "fan-out"
          ? `${link.from} → ${link.to.join(", ")}`
          : link.kind === "fan-in"
            ? `${link.from.join(", ")} → ${link.to}`
            : `${link.from} → ${link.to}`;
    say(`  ${bold(linkName(i).padEnd(8))}  ${yellow(link.kind.padEnd(13))} ${what}`);
    for (const e of edgesByLink.get(i) ?? []) {
      const to = e.targetPrefix ? `${e.to}/${e.targetPrefix}` : e.to;
      const mech = e.mechanism === "runner" ? cyan(e.mechanism) : green(e.mechanism);
      say(`      ${e.from} → ${to}  ${dim("·")} ${mech}${e.deletes ? dim("  (deletes propagate)") : ""}`);
      say(`        ${dim(e.reason)}`);
    }
  });
}

function printJobs(config: RunnerConfig, siteOfEndpoint: Record<string, string>): void {
  const loc = (l: JobConfig["source"]) => `${siteOfEndpoint[l.endpoint] ?? l.endpoint}:${describeLocation(l.bucket, l.prefix)}`;
  say(
    table(
      ["job", "mode", "source", "target(s)"],
      config.jobs.map((j) => [j.name, j.mode, loc(j.source), j.targets.map(loc).join(", ")]),
    ),
  );
}

async function seed(clients: Record<string, S3Client>, bucketName: Record<string, string>, objects: Record<string, SampleObject[]>): Promise<number> {
  let n = 0;
  await Promise.all(
    Object.entries(objects).map(async ([id, list]) => {
      for (const o of list) {
        await putSample(clients[id], bucketName[id], o);
        n++;
      }
    }),
  );
  return n;
}

function putSample(client: S3Client, bucket: string, o: SampleObject): Promise<void> {
  return put(client, bucket, {
    key: o.key,
    body: o.body,
    ContentType: o.contentType,
    CacheControl: o.cacheControl,
    ContentDisposition: o.contentDisposition,
    ContentEncoding: o.contentEncoding,
    ContentLanguage: o.contentLanguage,
    Metadata: o.metadata,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;

  say(bold("bucket-replication · local demo"));
  say(dim(`Topology: ${shown(TOPOLOGY_FILE)} (the schema of stacks/Pulumi.<stack>.yaml) · work dir: ${shown(opts.dir)}`));

  // ---- 1. plan
  const args = loadTopology();
  const plan = planTopology(args);
  if (plan.edges.length === 0) throw new DemoError("planTopology returned no edges for demo/topology.yaml");
  say(heading(1, "The plan: what the clouds would use, per edge"));
  printPlan(args, plan);
  const native = plan.edges.filter((e) => e.mechanism !== "runner").length;
  say();
  say(
    `  In the clouds, ${bold(String(native))} of ${plan.edges.length} edges would use native replication and ` +
      `${bold(String(plan.edges.length - native))} the sync runner.`,
  );
  say(
    `  ${bold("Locally there is no native replication: every edge runs on the sync runner")} ` +
      `(the same dist/runner.mjs the components deploy).`,
  );

  // ---- 2. sites, buckets, sample data (build the runner bundle meanwhile)
  say(heading(2, "Local sites: one S3-compatible server process per cloud region"));
  prepareDir(opts.dir);
  const { sites: siteBuckets, siteOfBucket } = sitePlan(args);
  const stale = bundleStaleness();
  const building = stale ? buildBundle() : Promise.resolve();
  building.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
  const sites = await startSites(
    Object.fromEntries(Object.entries(siteBuckets).map(([site, buckets]) => [site, { dir: join(opts.dir, "sites", site), buckets }])),
  );
  activeSites = sites;
  const bucketName: Record<string, string> = Object.fromEntries(Object.entries(args.buckets).map(([id, s]) => [id, s.bucket]));
  const clientOfSite = Object.fromEntries(Object.entries(sites).map(([name, s]) => [name, localClient(s.endpoint)]));
  const clients: Record<string, S3Client> = Object.fromEntries(Object.keys(args.buckets).map((id) => [id, clientOfSite[siteOfBucket[id]]]));
  const seeded = await seed(clients, bucketName, initialObjects());
  say(
    table(
      ["site", "endpoint", "buckets (bucket id: name)"],
      Object.entries(sites).map(([name, s]) => [
        name,
        s.endpoint,
        Object.keys(args.buckets)
          .filter((id) => siteOfBucket[id] === name)
          .map((id) => `${id}: ${bucketName[id]}`)
          .join(", "),
      ]),
    ),
  );
  say(`  Seeded ${seeded} sample objects (CSV, JSON, HTML/CSS/JS, images, PDFs, a video, logs, dumps; metadata, nested prefixes).`);
  if (stale) say(dim(`  Building the runner bundle (${stale}) ...`));
  await building;

  // ---- 3. runner config from the plan, first run
  say(heading(3, "Runner config from the plan (runnerConfigFromPlan), first run"));
  const config = runnerConfigFromPlan(args, plan, {
    state: { dir: join(opts.dir, "state") },
    transfers: 8,
    edges: () => true,
    endpointFor: (id) => ({ endpoint: sites[siteOfBucket[id]].endpoint, region: "us-east-1", forcePathStyle: true }),
    credentialsFor: () => ({ ...S3RVER_CREDENTIALS }),
  });
  const configFile = join(opts.dir, "runner.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2) + "\n");
  const siteOfEndpoint: Record<string, string> = {};
  for (const [name, ep] of Object.entries(config.endpoints)) {
    const site = Object.entries(sites).find(([, s]) => s.endpoint === ep.endpoint)?.[0];
    if (site) siteOfEndpoint[name] = site;
  }
  printJobs(config, siteOfEndpoint);
  say(dim(`  Wrote ${shown(configFile)} (local test keys only).`));

  const runs: DemoSummary["runs"] = [];
  const runOnce = async (name: string) => {
    say();
    say(`  ${dim("$")} node ${shown(BUNDLE)} run --config ${shown(configFile)}`);
    const r = await runRunner(configFile);
    runs.push({ name, exitCode: r.code, seconds: r.seconds, jobs: r.jobs });
    if (r.code !== 0) throw new DemoError(`the runner's ${name} exited with code ${r.code} (see its output above)`);
    say(dim(`  ${name} finished in ${formatSeconds(r.seconds)}.`));
  };
  await runOnce("first run");

  // ---- 4. changes on several sites, second run
  say(heading(4, "Changes on several sites, then the second (incremental) run"));
  const rows: string[][] = [];
  for (const c of changes()) {
    if (c.op === "tick") {
      // S3 LastModified has one-second resolution: make the Zurich edit strictly newer.
      await sleep(1000 - (Date.now() % 1000) + 50);
      continue;
    }
    const site = siteOfBucket[c.bucket];
    if (c.op === "put") {
      await putSample(clients[c.bucket], bucketName[c.bucket], c.object);
      rows.push([site, bucketName[c.bucket], c.why === "conflict" ? red("edited (conflict)") : c.why === "new" ? green("new") : yellow("modified"), c.object.key]);
    } else {
      await del(clients[c.bucket], bucketName[c.bucket], c.key);
      rows.push([site, bucketName[c.bucket], red("deleted"), c.key]);
    }
  }
  say(table(["site", "bucket", "change", "key"], rows));
  say(dim(`  ${CONFLICT_KEY} was edited in London, then in Zurich: with conflict "newer", Zurich's version wins on both sides`));
  say(dim(`  and London's version is kept on both sides as a conflict copy.`));
  await runOnce("second run");

  // ---- 5. what the second run did
  say(heading(5, "The incremental result"));
  const story: StoryCheck[] = [];
  const listing = async (id: string, prefix = "") => listAll(clients[id], bucketName[id], prefix);
  const has = (l: ListedObject[], key: string) => l.some((o) => o.key === key);
  const etagOf = (l: ListedObject[], key: string) => l.find((o) => o.key === key)?.etag;
  const [london, zurich, backupsL, backupsZ, fra, vir, osa, audit, logsF, logsO] = await Promise.all(
    ["sales-london", "sales-zurich", "backups-london", "backups-zurich", "assets-frankfurt", "assets-virginia", "assets-osaka", "audit-london", "logs-frankfurt", "logs-osaka"].map((id) => listing(id)),
  );
  story.push({ what: "London's new file reached Zurich", ok: has(zurich, "source-a/custsales-2019-06.csv") });
  story.push({ what: "Zurich's new files reached London", ok: has(london, "source-b/custsales-2019-07.csv") && has(london, "source-b/custsales-2019-08.csv") });
  story.push({ what: "Zurich's modified file is the same in London", ok: etagOf(london, "source-b/custsales-2019-05.csv") === etagOf(zurich, "source-b/custsales-2019-05.csv") });
  story.push({ what: "the file deleted in London is gone from Zurich", ok: !has(zurich, "source-a/custsales-2019-01.csv") && !has(london, "source-a/custsales-2019-01.csv") });
  const [forecastL, forecastZ] = await Promise.all([getText(clients["sales-london"], bucketName["sales-london"], CONFLICT_KEY), getText(clients["sales-zurich"], bucketName["sales-zurich"], CONFLICT_KEY)]);
  story.push({ what: `${CONFLICT_KEY}: the newer (Zurich) version won on both sides`, ok: forecastL === FORECAST_ZURICH && forecastZ === FORECAST_ZURICH });
  const conflictCopies = {
    "sales-london": london.filter((o) => o.key.startsWith(`${CONFLICT_KEY}.conflict`)).map((o) => o.key),
    "sales-zurich": zurich.filter((o) => o.key.startsWith(`${CONFLICT_KEY}.conflict`)).map((o) => o.key),
  };
  let copiesHoldLondon = conflictCopies["sales-london"].length > 0 && conflictCopies["sales-zurich"].length > 0;
  for (const [id, keys] of Object.entries(conflictCopies)) {
    for (const k of keys) {
      const body = await getText(clients[id], bucketName[id], k);
      if (body !== FORECAST_LONDON) copiesHoldLondon = false;
    }
  }
  story.push({ what: "London's losing version is kept as a conflict copy on both sides", ok: copiesHoldLondon });
  story.push({ what: "the expired backup was deleted in Zurich, the new one arrived", ok: !has(backupsZ, "db/2025-03-01.dump") && has(backupsZ, "db/2025-03-04.dump") && etagOf(backupsZ, "db/latest.json") === etagOf(backupsL, "db/latest.json") });
  story.push({ what: "the new stylesheet and banner reached Virginia and Osaka", ok: [vir, osa].every((l) => etagOf(l, "css/site.css") === etagOf(fra, "css/site.css") && has(l, "img/banner-2025.webp")) });
  const fanInLink = args.links.find((l) => l.kind === "fan-in");
  const prefixes = fanInLink?.kind === "fan-in" ? fanInLink.targetPrefixes ?? {} : {};
  const fanInCounts: Record<string, number> = {};
  for (const p of Object.values(prefixes)) fanInCounts[p] = audit.filter((o) => o.key.startsWith(p)).length;
  story.push({
    what: `fan-in: each source's logs landed under its own prefix in ${bucketName["audit-london"]} (${Object.keys(prefixes).join(", ") || "none"})`,
    ok:
      Object.keys(prefixes).length > 0 &&
      audit.length === logsF.length + logsO.length &&
      logsF.every((o) => has(audit, `${prefixes["logs-frankfurt"] ?? ""}${o.key}`)) &&
      logsO.every((o) => has(audit, `${prefixes["logs-osaka"] ?? ""}${o.key}`)),
  });
  for (const s of story) say(`  ${s.ok ? green("✓") : red("✗")} ${s.what}`);
  say();
  say(`  Conflict copies (${bold("*.conflict*")} keys) on both sides of London ⇄ Zurich:`);
  for (const [id, keys] of Object.entries(conflictCopies)) {
    say(`    ${siteOfBucket[id]}:${bucketName[id]}: ${keys.length ? keys.join(", ") : red("none")}`);
  }
  say(`  Fan-in into ${siteOfBucket["audit-london"]}:${bucketName["audit-london"]}:`);
  for (const [p, n] of Object.entries(fanInCounts)) {
    const example = audit.find((o) => o.key.startsWith(p))?.key;
    say(`    ${p.padEnd(11)} ${String(n).padStart(3)} objects${example ? dim(`  e.g. ${example}`) : ""}`);
  }

  // ---- 6. convergence: a third run with nothing changed does nothing
  say(heading(6, "Convergence: a third run, nothing changed"));
  say(`  ${dim("$")} node ${shown(BUNDLE)} run --config ${shown(configFile)} --json`);
  const third = await runRunnerJson(configFile);
  const runSummaries = third.summaries.filter((x) => x.command === undefined || x.command === "run");
  const converged = { copied: 0, deleted: 0, conflicts: 0, requests: {} as Record<string, number>, exitCode: third.result.code };
  for (const x of runSummaries) {
    converged.copied += x.copied ?? 0;
    converged.deleted += x.deleted ?? 0;
    converged.conflicts += x.conflicts ?? 0;
    for (const [k, v] of Object.entries(x.requests ?? {})) if (v) converged.requests[k] = (converged.requests[k] ?? 0) + v;
  }
  const convergedOk = third.result.code === 0 && runSummaries.length === config.jobs.length && converged.copied + converged.deleted + converged.conflicts === 0;
  story.push({ what: "a third run right after the second copies and deletes nothing (converged)", ok: convergedOk });
  const reqText = Object.entries(converged.requests).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  say(
    `  ${convergedOk ? green("✓") : red("✗")} ${runSummaries.length} jobs: copied ${converged.copied}, deleted ${converged.deleted}, conflicts ${converged.conflicts}` +
      ` in ${formatSeconds(third.result.seconds)}; requests: ${reqText}` +
      (converged.requests.HEAD || converged.requests.GET ? "" : dim(" (equality comes from listings and saved state: no HEAD or GET per object)")),
  );

  // ---- 7. verification with the runner's check
  say(heading(7, "Verification: runner check, per link"));
  say(`  ${dim("$")} node ${shown(BUNDLE)} check --config ${shown(configFile)} --json`);
  const { result: checkResult, summaries } = await checkRunner(configFile);
  const links = verificationRows(args, plan, config, summaries, siteOfBucket, siteOfEndpoint, checkResult.seconds, runs);
  const missingJobs = config.jobs.filter((j) => !summaries.some((s) => s.job === j.name)).map((j) => j.name);
  say(
    table(
      ["link", "kind", "edge", "objects", "bytes", "in sync", "run 1", "run 2", "check"],
      links.map((l) => [
        linkName(l.link),
        l.kind,
        `${l.from} ${l.mode === "bisync" ? "⇄" : "→"} ${l.target.prefix ? `${l.to}/${l.target.prefix}` : l.to}`,
        `${l.source.objects} / ${l.target.objects}`,
        `${formatBytes(l.source.bytes)} / ${formatBytes(l.target.bytes)}`,
        l.inSync ? green("yes") : red("NO"),
        ...l.runSeconds.map((x) => (x === null ? "-" : x < 0.05 ? "<0.1 s" : `${x.toFixed(1)} s`)),
        formatSeconds(l.checkSeconds),
      ]),
      ["right", "left", "left", "right", "right", "left", "right", "right", "right"],
    ),
  );
  say(dim("  objects, bytes: source / target side of the edge (fan-in: under that source's target prefix). run 1, run 2: the job's"));
  say(dim("  time in each run (a fan-out job serves all its targets at once); check: the time of the runner's check."));

  const allInSync = links.length > 0 && links.every((l) => l.inSync) && missingJobs.length === 0;
  const storyOk = story.every((s) => s.ok);
  const summary: DemoSummary = {
    ok: allInSync && storyOk && checkResult.code === 0,
    dir: opts.dir,
    topology: TOPOLOGY_FILE,
    seconds: elapsed(),
    sites: Object.fromEntries(Object.entries(sites).map(([n, s]) => [n, { endpoint: s.endpoint, buckets: siteBuckets[n] }])),
    plan: plan.edges.map((e) => ({ link: e.link, kind: e.kind, from: e.from, to: e.to, mechanism: e.mechanism, reason: e.reason })),
    runs,
    converged,
    check: { exitCode: checkResult.code, seconds: checkResult.seconds },
    links,
    story,
    conflicts: { key: CONFLICT_KEY, winner: "sales-zurich", copies: conflictCopies },
    fanIn: { target: "audit-london", prefixes: fanInCounts },
  };
  if (opts.jsonSummary) writeFileSync(opts.jsonSummary, JSON.stringify(summary, null, 2) + "\n");

  say();
  if (summary.ok) {
    say(green(bold(`  All ${plan.edges.length} edges of ${args.links.length} links are in sync.`)) + dim(`  Total ${formatSeconds(summary.seconds)}.`));
  } else {
    const problems: string[] = [];
    for (const l of links.filter((l) => !l.inSync)) problems.push(`${linkName(l.link)} ${l.from} → ${l.to}: missing ${l.target.missing}, different ${l.target.different}`);
    for (const j of missingJobs) problems.push(`job ${j}: no summary from runner check`);
    for (const s of story.filter((s) => !s.ok)) problems.push(`expected: ${s.what}`);
    if (checkResult.code !== 0) problems.push(`runner check exited with code ${checkResult.code}${checkResult.stderr.trim() ? `: ${checkResult.stderr.trim()}` : ""}`);
    say(red(bold("  NOT in sync:")));
    for (const p of problems) say(red(`    - ${p}`));
  }
  return summary;
}

function verificationRows(
  args: ReplicationTopologyArgs,
  plan: ReplicationPlan,
  config: RunnerConfig,
  summaries: CheckSummary[],
  siteOfBucket: Record<string, string>,
  siteOfEndpoint: Record<string, string>,
  checkSeconds: number,
  runs: DemoSummary["runs"],
): LinkResult[] {
  const idOfBucket = (endpoint: string, bucket: string) =>
    Object.keys(args.buckets).find((id) => args.buckets[id].bucket === bucket && siteOfBucket[id] === siteOfEndpoint[endpoint]) ?? bucket;
  const rows: LinkResult[] = [];
  for (const job of config.jobs) {
    const s = summaries.find((x) => x.job === job.name);
    const from = idOfBucket(job.source.endpoint, job.source.bucket);
    job.targets.forEach((t, i) => {
      const to = idOfBucket(t.endpoint, t.bucket);
      const edge = plan.edges.find((e) => e.from === from && e.to === to);
      const tgt = s?.targets[i];
      const seconds = typeof s?.seconds === "number" ? s.seconds : checkSeconds;
      const runSeconds = runs.map((r) => r.jobs.find((j) => j.job === job.name)?.seconds ?? null);
      rows.push({
        link: edge?.link ?? -1,
        kind: edge?.kind ?? args.links[edge?.link ?? -1]?.kind ?? "?",
        job: job.name,
        mode: job.mode,
        from,
        to,
        cloudMechanism: edge?.mechanism ?? "?",
        source: { site: siteOfBucket[from], bucket: job.source.bucket, prefix: job.source.prefix ?? "", objects: s?.source.objects ?? 0, bytes: s?.source.bytes ?? 0 },
        target: {
          site: siteOfBucket[to],
          bucket: t.bucket,
          prefix: t.prefix ?? "",
          objects: tgt?.objects ?? 0,
          bytes: tgt?.bytes ?? 0,
          missing: tgt?.missing ?? 0,
          different: tgt?.different ?? 0,
          extra: tgt?.extra ?? 0,
        },
        // Per target: a fan-out job's inSync covers all its targets, so judge each from its counts
        // (copy never deletes, so target-only keys are fine there; sync and bisync must have none).
        inSync:
          Boolean(s) &&
          Boolean(tgt) &&
          tgt!.missing === 0 &&
          tgt!.different === 0 &&
          (job.mode === "copy" || tgt!.extra === 0) &&
          (job.targets.length > 1 || s!.inSync),
        runSeconds,
        checkSeconds: seconds,
      });
    });
  }
  return rows.sort((a, b) => a.link - b.link);
}

let activeSites: Record<string, Site> | undefined;

async function stopSites(): Promise<void> {
  const s = activeSites;
  activeSites = undefined;
  if (s) await Promise.all(Object.values(s).map((x) => x.stop()));
}

function printKeepInfo(summary: DemoSummary): void {
  say(heading(8, "Endpoints left running (--keep)"));
  say(table(["site", "endpoint", "buckets"], Object.entries(summary.sites).map(([n, s]) => [n, s.endpoint, s.buckets.join(", ")])));
  say();
  say(`  Credentials (local s3rver test keys, accepted by every site): access key ${bold(S3RVER_CREDENTIALS.accessKeyId)}, secret key ${bold(S3RVER_CREDENTIALS.secretAccessKey)}, region us-east-1, path-style.`);
  const [site, info] = Object.entries(summary.sites).find(([n]) => n.includes("london")) ?? Object.entries(summary.sites)[0];
  const bucket = info.buckets[0];
  const cfg = join(summary.dir, "runner.json");
  say();
  say("  Try:");
  say(`    export AWS_ACCESS_KEY_ID=${S3RVER_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${S3RVER_CREDENTIALS.secretAccessKey} AWS_REGION=us-east-1`);
  say(`    aws --endpoint-url ${info.endpoint} s3 ls s3://${bucket} --recursive        ${dim(`# ${site}`)}`);
  say(`    echo hello | aws --endpoint-url ${info.endpoint} s3 cp - s3://${bucket}/hello.txt`);
  say(`    rclone lsl ":s3,provider=Other,access_key_id=${S3RVER_CREDENTIALS.accessKeyId},secret_access_key=${S3RVER_CREDENTIALS.secretAccessKey},endpoint='${info.endpoint}':${bucket}"`);
  if (process.env.AWS_CA_BUNDLE) say(dim("    (AWS_CA_BUNDLE is set in this shell: run rclone with `env -u AWS_CA_BUNDLE rclone ...` against plain-http endpoints)"));
  say(`    node ${shown(BUNDLE)} run --config ${shown(cfg)}      ${dim("# replicate your changes")}`);
  say(`    node ${shown(BUNDLE)} check --config ${shown(cfg)}`);
  say();
  say(bold("  Press Ctrl-C to stop the servers."));
}

export async function main(argv: string[]): Promise<number> {
  let opts: DemoOptions | "help";
  try {
    opts = parseOptions(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (opts === "help") {
    say(HELP);
    return 0;
  }
  // `on`, not `once`: a repeated signal (a second Ctrl-C, or tsx relaying the first one again) must
  // not fall through to the default action and leave the s3rver processes behind.
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (activeSites) say(`\n  ${sig}: stopping the servers ...`);
    void stopSites().finally(() => process.exit(sig === "SIGINT" ? 130 : 143));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let summary: DemoSummary;
  try {
    summary = await runDemo(opts);
  } catch (e) {
    await stopSites();
    const msg = e instanceof DemoError || !process.env.DEMO_DEBUG ? (e as Error).message ?? String(e) : (e as Error).stack ?? String(e);
    process.stderr.write(`\n${red(bold("demo failed:"))} ${msg}\n`);
    return 1;
  }
  if (opts.keep && summary.ok) {
    printKeepInfo(summary);
    setInterval(() => undefined, 1 << 30); // keep the process alive until Ctrl-C
    await new Promise<void>(() => undefined); // the signal handler stops the servers and exits
  }
  await stopSites();
  if (!summary.ok) {
    const bad = summary.links.filter((l) => !l.inSync).length;
    const failed = summary.story.filter((s) => !s.ok).length;
    process.stderr.write(
      `\n${red(bold("demo failed:"))} ${bad} of ${summary.links.length} verified edges are not in sync` +
        `${failed ? `, ${failed} expected outcome(s) missing` : ""} (details above). Data kept in ${summary.dir}.\n`,
    );
  }
  return summary.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
