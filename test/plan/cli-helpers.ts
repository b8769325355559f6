// Runs the real `npm run plan` script (node --import tsx scripts/plan.ts) as a child process.
import { execFile } from "node:child_process";
import { captureOutput } from "../support/leak-check.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";

export const ROOT = resolve(import.meta.dirname, "..", "..");
export const PLAN_SCRIPT = join(ROOT, "scripts", "plan.ts");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `env` is added to a copy of this process's environment without TF_VAR_tenancy_ocid (so a test
 *  decides whether the tenancy is set). */
export function runPlanProcess(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const base = { ...process.env };
  delete base.TF_VAR_tenancy_ocid;
  return new Promise((done) => {
    execFile(process.execPath, ["--import", "tsx", PLAN_SCRIPT, ...args], { cwd: ROOT, timeout: 30_000, env: { ...base, ...env } }, (err, stdout, stderr) => {
      captureOutput(`npm run plan ${args.join(" ")}`, stdout, stderr);
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** Runs `jobs` with at most `limit` in flight (2 cores: keep it small). */
export async function pool<T, R>(items: T[], limit: number, job: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await job(items[i]);
    }
  }));
  return results;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "plan-cli-"));
}

/** Writes stacks/Pulumi.<name>.yaml with the topology under config["bucket-replication:topology"]. */
export function writeStack(dir: string, name: string, topology: unknown, config: Record<string, unknown> = {}): string {
  const file = join(dir, `Pulumi.${name}.yaml`);
  writeFileSync(file, stringify({ config: { "aws:region": "us-east-1", ...config, "bucket-replication:topology": topology } }));
  return file;
}
