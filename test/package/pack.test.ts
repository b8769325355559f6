// The npm package as a user gets it: `npm pack` (which builds through prepack), the tarball
// installed into a scratch project, then a scratch ES module project and a scratch CommonJS project
// (both TypeScript with module/moduleResolution nodenext) that import "bucket-replication", are
// type-checked and compiled by TypeScript, and run a topology with a runner edge under Pulumi mocks
// WITHOUT runner.bundlePath: the runner bundle must come from inside the installed package. Also:
// what the tarball holds (no tests, bench, CI files), and the installed `bucket-replication` bin.
//
// One `npm install` of the tarball serves both projects: they are subfolders of the scratch project,
// so Node and TypeScript find its node_modules by walking up, as in any workspace.
import { execFile, type ExecFileException } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string; devDependencies: Record<string, string> };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function run(cmd: string, args: string[], cwd: string, timeout = 240_000): Promise<Run> {
  return new Promise((resolve) => {
    // npm_* variables of the npm that started vitest (if any) must not steer the npm run here.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
    delete env.NODE_OPTIONS;
    execFile(cmd, args, { cwd, env, timeout, maxBuffer: 64 * 1024 * 1024 }, (err: ExecFileException | null, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
const ok = (r: Run, what: string) => {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
};

let tmp = "";
let tarball = "";
let entries: string[] = [];
let scratch = "";

/** The program each scratch project compiles and runs: the same code a user writes in either module format. */
function program(resolveLine: string): string {
  return `import * as pulumi from "@pulumi/pulumi";
import { ReplicationTopology, planTopology, type ReplicationTopologyArgs } from "bucket-replication";

const registered: { type: string; name: string; inputs: Record<string, any> }[] = [];
pulumi.runtime.setMocks(
  {
    newResource(a) {
      registered.push({ type: a.type, name: a.name, inputs: a.inputs });
      const state: Record<string, any> = { ...a.inputs };
      if (a.type === "aws:s3/bucketV2:BucketV2" || a.type === "aws:s3/bucket:Bucket") state.arn = "arn:aws:s3:::" + a.inputs.bucket;
      else if (a.type.startsWith("aws:")) state.arn ??= "arn:aws:" + a.type.slice(4).split("/")[0] + ":us-east-1:111111111111:" + a.name;
      if (a.type === "oci:Identity/customerSecretKey:CustomerSecretKey") state.key = "scratch-secret";
      return { id: a.name + "-id", state };
    },
    call(a) {
      switch (a.token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return { accountId: "111111111111", arn: "arn:aws:iam::111111111111:user/t", userId: "AIDT", id: "111111111111" };
        case "aws:ssm/getParameter:getParameter":
          return { name: a.inputs.name, value: "ami-0123456789abcdef0", type: "String" };
        case "aws:index/getAvailabilityZones:getAvailabilityZones":
          return { names: ["us-east-1a", "us-east-1b"], zoneIds: [] };
      }
      return a.inputs;
    },
  },
  "scratch",
  "dev",
  false,
);

const args: ReplicationTopologyArgs = {
  buckets: {
    src: { provider: "aws", bucket: "orders-us", region: "us-east-1" },
    lon: { provider: "oci", bucket: "orders-lon", region: "uk-london-1", namespace: "ns1", compartmentId: "ocid1.compartment.oc1..lon" },
  },
  links: [{ kind: "one-to-one", from: "src", to: "lon" }],
  runner: { platform: "aws-ec2", region: "us-east-1", tenancyId: "ocid1.tenancy.oc1..t" },
};

async function main() {
  const topology = new ReplicationTopology("scratch", args);
  await new Promise((r) => topology.runner!.instanceId.apply(r));
  // Let the remaining registrations drain.
  let n = -1;
  while (n !== registered.length) {
    n = registered.length;
    await new Promise((r) => setTimeout(r, 100));
  }
  const bundle = registered.find((r) => r.type === "aws:s3/bucketObjectv2:BucketObjectv2" && String(r.inputs.key).startsWith("runner/"));
  const source = bundle?.inputs.source;
  console.log(JSON.stringify({
    resolved: ${resolveLine},
    mechanisms: planTopology(args).edges.map((e) => e.mechanism),
    runnerEdges: topology.runner?.edges,
    bundleKey: bundle?.inputs.key,
    bundleSource: source ? await source.path : undefined,
  }));
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
`;
}

/** Code that must NOT type-check: proves the import resolved to real declarations, not to any. */
const MISUSE = `import { ReplicationTopology } from "bucket-replication";
// @ts-expect-error buckets must be a record of bucket specs, not a number
new ReplicationTopology("bad", { buckets: 1, links: [] });
`;

function project(dir: string, type: "module" | "commonjs", resolveLine: string): void {
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `scratch-${type}`, private: true, type }, null, 2));
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, outDir: "out", rootDir: "src", types: ["node"], skipLibCheck: true },
      include: ["src"],
    }, null, 2),
  );
  writeFileSync(join(dir, "src", "main.ts"), program(resolveLine));
  writeFileSync(join(dir, "src", "misuse.ts"), MISUSE);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "pack-"));
  // prepack runs `npm run build`: the runner bundle and lib/ are built from this checkout.
  ok(await run("npm", ["pack", "--pack-destination", tmp, "--no-audit", "--no-fund"], root), "npm pack");
  tarball = join(tmp, readdirSync(tmp).find((f) => f.endsWith(".tgz"))!);
  entries = ok(await run("tar", ["-tzf", tarball], tmp), "tar -tzf").stdout.split("\n").filter(Boolean);

  scratch = join(tmp, "scratch");
  mkdirSync(scratch);
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true }, null, 2));
  // From the npm cache where it can (the same versions as this checkout's lockfile).
  ok(
    await run("npm", ["install", tarball, `@types/node@${pkg.devDependencies["@types/node"]}`, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], scratch),
    "npm install of the tarball",
  );
  project(join(scratch, "esm"), "module", 'import.meta.resolve("bucket-replication")');
  project(join(scratch, "cjs"), "commonjs", 'require.resolve("bucket-replication")');
}, 600_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("npm pack: the tarball", () => {
  it("holds the compiled library (ESM, CommonJS, .d.ts), the runner bundle, the config schema and the release files", () => {
    for (const f of [
      "package/package.json",
      "package/README.md",
      "package/LICENSE",
      "package/CHANGELOG.md",
      "package/lib/esm/components/index.js",
      "package/lib/esm/components/index.d.ts",
      "package/lib/cjs/components/index.js",
      "package/lib/cjs/components/index.d.ts",
      "package/lib/cjs/package.json",
      "package/dist/runner.mjs",
      "package/schema/runner-config.schema.json",
    ]) {
      expect(entries).toContain(f);
    }
  });

  it("holds no tests, bench, CI files, stacks, demo or TypeScript sources", () => {
    const bad = entries.filter((f) =>
      /^package\/(test|bench|\.ci|\.github|stacks|demo|scripts|local|components|runner|node_modules)\//.test(f) ||
      /\.test\.|\.tgz$|(^|\/)vitest[^/]*$|(^|\/)tsconfig[^/]*\.json$|(^|\/)Pulumi[^/]*\.yaml$/.test(f) ||
      (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)),
    );
    expect(bad).toEqual([]);
  });
});

describe.each([
  ["ES module", "esm", "lib/esm/components/index.js"],
  ["CommonJS", "cjs", "lib/cjs/components/index.js"],
] as const)("installed tarball, %s TypeScript project (nodenext)", (_label, dir, entry) => {
  it("type-checks and compiles `import { ReplicationTopology } from \"bucket-replication\"` with the package's declarations", async () => {
    const r = await run(process.execPath, [tsc, "-p", join(scratch, dir)], scratch);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
    // The misuse line's @ts-expect-error was used: without the declarations it would be TS2578.
    const emitted = readFileSync(join(scratch, dir, "out", "main.js"), "utf8");
    expect(emitted).toMatch(dir === "cjs" ? /require\("bucket-replication"\)/ : /from "bucket-replication"/);
  }, 120_000);

  it("runs a topology with a runner edge under mocks, without bundlePath: the package's own bundle is uploaded", async () => {
    const r = await run(process.execPath, [join(scratch, dir, "out", "main.js")], join(scratch, dir), 120_000);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const installed = realpathSync(join(scratch, "node_modules", "bucket-replication"));
    // The module format a user of this kind of project gets.
    const resolved = String(out.resolved).startsWith("file:") ? fileURLToPath(out.resolved) : String(out.resolved);
    expect(realpathSync(resolved)).toBe(join(installed, entry));
    expect(out.mechanisms).toEqual(["runner"]);
    expect(out.runnerEdges).toEqual(["src->lon"]);
    // The uploaded bundle is the installed package's dist/runner.mjs, keyed by its sha256.
    const bundle = join(installed, "dist", "runner.mjs");
    expect(realpathSync(out.bundleSource)).toBe(bundle);
    const sha = createHash("sha256").update(readFileSync(bundle)).digest("hex");
    expect(out.bundleKey).toBe(`runner/${sha}/runner.mjs`);
    expect(readFileSync(bundle, "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
  }, 120_000);
});

describe("installed tarball: the runner's command line", () => {
  it("`npx bucket-replication --help` and the replication-runner alias run the bundled runner", async () => {
    for (const bin of ["bucket-replication", "replication-runner"]) {
      const r = await run("npx", ["--no", "--", bin, "--help"], scratch, 60_000);
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/^usage: bucket-replication <command> --config FILE/m);
      expect(r.stdout + r.stderr).toMatch(/^\s+run\s+replicate every selected job/m);
      expect(r.stdout + r.stderr).toMatch(/^\s+check\s+compare both sides/m);
    }
  }, 120_000);

  it("`npx bucket-replication check` validates a config file with the runner's own errors", async () => {
    const file = join(scratch, "bad-config.json");
    writeFileSync(file, JSON.stringify({ endpoints: { a: {} }, state: { dir: "/tmp/x" }, jobs: [], transfer: 4 }));
    const r = await run("npx", ["--no", "--", "bucket-replication", "check", "--config", file], scratch, 60_000);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/transfer: unknown field; did you mean "transfers"\?/);
  }, 120_000);
});
