// The GitHub workflows are code nobody can run locally: check their structure instead. Both files
// must parse, preview on pull requests and deploy on pushes to main, cover exactly the stacks in
// stacks/, use the official Pulumi action, and every secret they use must be documented.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

type Step = { name?: string; id?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string>; "continue-on-error"?: boolean };
type Job = {
  name?: string;
  "runs-on"?: string;
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  environment?: string | { name: string };
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  strategy?: { matrix: { stack?: string[]; include?: Array<Record<string, string>> }; "max-parallel"?: number };
  env?: Record<string, string>;
  steps: Step[];
};
type Workflow = {
  name: string;
  on: Record<string, { branches?: string[] } | null>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  jobs: Record<string, Job>;
};

function load(name: string): { text: string; wf: Workflow } {
  const text = readFileSync(join(ROOT, ".github", "workflows", name), "utf8");
  return { text, wf: parse(text) as Workflow };
}

/** Stack names from stacks/Pulumi.<name>.yaml, sorted. */
function committedStacks(): string[] {
  const dir = join(ROOT, "stacks");
  return (existsSync(dir) ? readdirSync(dir) : [])
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => Boolean(s))
    .sort();
}

function matrixStacks(job: Job): string[] {
  const m = job.strategy?.matrix;
  const list = m?.stack ?? m?.include?.map((i) => i.stack) ?? [];
  return [...list].sort();
}

const pulumiStep = (job: Job) => job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
const needsOf = (job: Job) => (Array.isArray(job.needs) ? job.needs : job.needs ? [job.needs] : []);

describe("committed stacks", () => {
  it("there are stack files to preview and deploy", () => {
    expect(committedStacks().length).toBeGreaterThan(0);
  });
});

describe("preview.yml (pull requests)", () => {
  const { text, wf } = load("preview.yml");

  it("runs on pull requests only, with read-only default permissions", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({ contents: "read" });
  });

  it("has a test job that runs npm ci and the tests through .ci/run", () => {
    const test = wf.jobs.test;
    expect(test).toBeDefined();
    expect(test.steps.some((s) => s.uses?.startsWith("actions/checkout@"))).toBe(true);
    expect(test.steps.some((s) => s.run?.trim() === "bash .ci/run")).toBe(true);
    const ciRun = readFileSync(join(ROOT, ".ci", "run"), "utf8");
    expect(ciRun).toMatch(/npm ci/);
    expect(ciRun).toMatch(/npm test/);
  });

  const preview = wf.jobs.preview;

  it("previews exactly the stacks in stacks/Pulumi.*.yaml", () => {
    expect(preview).toBeDefined();
    expect(matrixStacks(preview)).toEqual(committedStacks());
  });

  it("writes the offline plan as markdown with npm run plan", () => {
    const plan = preview.steps.find((s) => s.run?.includes("npm run plan"));
    expect(plan?.run).toMatch(/npm run plan -- --stack "?\$STACK"? --format markdown --out "?plan-\$STACK\.md"?/);
    expect(preview.env?.STACK).toBe("${{ matrix.stack }}");
  });

  it("runs pulumi preview --diff with the official action, without its own PR comment", () => {
    const step = pulumiStep(preview)!;
    expect(step).toBeDefined();
    expect(step.uses).toBe("pulumi/actions@v6");
    expect(step.id).toBeTruthy();
    expect(step.with?.command).toBe("preview");
    expect(step.with?.diff).toBe(true);
    expect(step.with?.["comment-on-pr"]).toBe(false);
    expect(String(step.with?.["stack-name"])).toMatch(/PULUMI_STACK/);
    expect(preview.env?.PULUMI_STACK).toMatch(/matrix\.stack/);
    expect(step.env?.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    // Its captured output feeds the comment.
    expect(text).toContain(`steps.${step.id}.outputs.output`);
  });

  it("gets cloud credentials: AWS by OIDC, OCI API key for the provider", () => {
    expect(preview.permissions?.["id-token"]).toBe("write");
    const aws = preview.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(aws?.uses).toBe("aws-actions/configure-aws-credentials@v4");
    expect(aws?.with?.["role-to-assume"]).toBe("${{ secrets.AWS_ROLE_ARN }}");
    const env = pulumiStep(preview)!.env!;
    for (const v of ["TF_VAR_user_ocid", "TF_VAR_tenancy_ocid", "TF_VAR_fingerprint", "TF_VAR_private_key", "TF_VAR_region"]) {
      expect(env[v], v).toMatch(/^\$\{\{ secrets\.OCI_CLI_[A-Z_]+ \}\}$/);
    }
    // The plan step comes before the cloud steps: it needs no credentials.
    const idx = (p: (s: Step) => boolean) => preview.steps.findIndex(p);
    expect(idx((s) => Boolean(s.run?.includes("npm run plan")))).toBeLessThan(idx((s) => s === aws));
    expect(idx((s) => s === aws)).toBeLessThan(idx((s) => Boolean(s.uses?.startsWith("pulumi/actions@"))));
  });

  it("posts ONE PR comment combining the plan markdown and the preview of every stack", () => {
    const comment = wf.jobs.comment;
    expect(comment).toBeDefined();
    expect(needsOf(comment)).toContain("preview");
    expect(comment.if).toMatch(/always\(\)/);
    expect(comment.permissions?.["pull-requests"]).toBe("write");
    const post = comment.steps.filter((s) => s.uses?.startsWith("marocchino/sticky-pull-request-comment@"));
    expect(post).toHaveLength(1);
    expect(post[0].uses).toBe("marocchino/sticky-pull-request-comment@v2");
    expect(post[0].with?.header).toBeTruthy(); // the same header updates the previous comment
    const compose = comment.steps.find((s) => s.run?.includes("comment.md"))!;
    expect(compose.run).toMatch(/plan-\$stack\.md/);
    expect(compose.run).toMatch(/preview-\$stack\.txt/);
    expect(post[0].with?.path).toBe("comment.md");
    // No other job may comment (the matrix jobs would race).
    expect(pulumiStep(preview)!.with?.["comment-on-pr"]).toBe(false);
  });
});

describe("deploy.yml (push to main)", () => {
  const { wf } = load("deploy.yml");
  const up = wf.jobs.up;

  it("runs on pushes to main, one deployment at a time, never cancelled", () => {
    expect(Object.keys(wf.on)).toEqual(["push"]);
    expect(wf.on.push?.branches).toEqual(["main"]);
    expect(wf.concurrency?.group).toBeTruthy();
    expect(wf.concurrency?.["cancel-in-progress"]).toBe(false);
    expect(up.concurrency?.["cancel-in-progress"]).toBe(false);
  });

  it("runs the tests before deploying", () => {
    expect(wf.jobs.test.steps.some((s) => s.run?.trim() === "bash .ci/run")).toBe(true);
    expect(needsOf(up)).toContain("test");
  });

  it("runs pulumi up for exactly the stacks in stacks/, gated by environments (production for prod)", () => {
    expect(matrixStacks(up)).toEqual(committedStacks());
    const step = pulumiStep(up)!;
    expect(step.uses).toBe("pulumi/actions@v6");
    expect(step.with?.command).toBe("up");
    expect(String(step.with?.["stack-name"])).toMatch(/PULUMI_STACK/);
    expect(up.env?.PULUMI_STACK).toMatch(/matrix\.stack/);
    const env = typeof up.environment === "string" ? up.environment : up.environment?.name;
    expect(env).toBe("${{ matrix.environment }}");
    const prod = up.strategy!.matrix.include!.find((i) => i.stack === "prod");
    expect(prod?.environment).toBe("production");
    expect(up.strategy?.["max-parallel"]).toBe(1);
  });

  it("uses the same credentials as the preview", () => {
    expect(up.permissions?.["id-token"]).toBe("write");
    const aws = up.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(aws?.with?.["role-to-assume"]).toBe("${{ secrets.AWS_ROLE_ARN }}");
    const previewEnv = pulumiStep(load("preview.yml").wf.jobs.preview)!.env;
    expect(pulumiStep(up)!.env).toEqual(previewEnv);
  });
});

describe("both workflows", () => {
  const files = ["preview.yml", "deploy.yml"];

  it("pin every action to a major version", () => {
    for (const f of files) {
      for (const job of Object.values(load(f).wf.jobs)) {
        for (const s of job.steps) if (s.uses) expect(s.uses, `${f}: ${s.uses}`).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
      }
    }
  });

  it("build dist/runner.mjs before Pulumi runs (the components upload the bundle)", () => {
    for (const [f, job] of [
      ["preview.yml", "preview"],
      ["deploy.yml", "up"],
    ] as const) {
      const steps = load(f).wf.jobs[job].steps;
      const ci = steps.findIndex((s) => /\bnpm ci\b/.test(s.run ?? ""));
      const build = steps.findIndex((s) => s.run?.trim() === "npm run build");
      const pulumi = steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
      expect(ci, `${f}: npm ci`).toBeGreaterThanOrEqual(0);
      expect(build, `${f}: npm run build after npm ci`).toBeGreaterThan(ci);
      expect(pulumi, `${f}: pulumi after the build`).toBeGreaterThan(build);
    }
  });

  it("use only secrets that docs/ci.md documents", () => {
    const doc = readFileSync(join(ROOT, "docs", "ci.md"), "utf8");
    const used = new Set<string>();
    for (const f of files) for (const m of load(f).text.matchAll(/secrets\.([A-Z0-9_]+)/g)) used.add(m[1]);
    expect([...used].sort()).toEqual(
      ["AWS_ROLE_ARN", "OCI_CLI_FINGERPRINT", "OCI_CLI_KEY_CONTENT", "OCI_CLI_REGION", "OCI_CLI_TENANCY", "OCI_CLI_USER", "PULUMI_ACCESS_TOKEN"],
    );
    for (const s of used) expect(doc, `docs/ci.md documents ${s}`).toContain(s);
  });

  it("never interpolate untrusted event text straight into a shell script", () => {
    for (const f of files) {
      for (const job of Object.values(load(f).wf.jobs)) {
        for (const s of job.steps) {
          if (!s.run) continue;
          expect(s.run, `${f}: ${s.name}`).not.toMatch(/\$\{\{\s*(github\.event|steps\.[\w-]+\.outputs)/);
        }
      }
    }
  });
});
