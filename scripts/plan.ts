// `npm run plan -- --stack <name> [--format text|markdown] [--out FILE]`
// The offline plan for reviews: reads stacks/Pulumi.<name>.yaml, runs planTopology on the
// `bucket-replication:topology` config (no cloud, no Pulumi CLI) with the settings the deployment
// reads (oci:tenancyOcid or TF_VAR_tenancy_ocid, bucket-replication:extraRegions,
// bucket-replication:backfillTimeoutMinutes), and prints what a reviewer needs: edges, buckets,
// backfills, runner jobs, resources (cost-relevant ones flagged) and a Mermaid diagram. Invalid input
// exits 2 with every problem on its own line on stderr, never a stack trace.
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse } from "yaml";
import type { Issue } from "../components/plan/errors.js";
import { planTopology } from "../components/plan/index.js";
import { readiness } from "../components/plan/readiness.js";
import { renderPlanMarkdown, renderPlanText } from "../components/plan/render.js";
import { BACKFILL_TIMEOUT_KEY, EXTRA_REGIONS_KEY, type PlanSettings } from "../components/plan/settings.js";
import type { ReplicationPlan, ReplicationTopologyArgs } from "../components/plan/types.js";

export const CONFIG_KEY = "bucket-replication:topology";
const DEFAULT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "stacks");

const USAGE = `usage: npm run plan -- --stack <name> [--dir <stacks dir>] [--format text|markdown] [--out FILE]
       npm run plan -- --stack-file <Pulumi.<name>.yaml> [--format text|markdown] [--out FILE]`;

/** An expected failure: its message is printed as one line and the process exits with `code`. */
export class PlanCliError extends Error {
  constructor(message: string, readonly code = 2) {
    super(message);
  }
}

export interface PlanOptions {
  stack?: string;
  stackFile?: string;
  dir: string;
  format: "text" | "markdown";
  out?: string;
  help: boolean;
}

export function parseArgs(argv: string[]): PlanOptions {
  const opts: PlanOptions = { dir: DEFAULT_DIR, format: "text", help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new PlanCliError(`${flag} needs a value. ${USAGE.split("\n")[0]}`);
      return v;
    };
    switch (flag) {
      case "--stack": case "-s": opts.stack = value(); break;
      case "--stack-file": opts.stackFile = value(); break;
      case "--dir": opts.dir = resolve(value()); break;
      case "--out": case "-o": opts.out = value(); break;
      case "--format": case "-f": {
        const f = value();
        if (f !== "text" && f !== "markdown" && f !== "md") throw new PlanCliError(`--format must be text or markdown, got ${JSON.stringify(f)}`);
        opts.format = f === "text" ? "text" : "markdown";
        break;
      }
      case "--markdown": opts.format = "markdown"; break;
      case "--help": case "-h": opts.help = true; break;
      default:
        throw new PlanCliError(`unknown argument ${JSON.stringify(arg)}. ${USAGE.split("\n")[0]}`);
    }
  }
  if (!opts.help && !opts.stack === !opts.stackFile) throw new PlanCliError(`give exactly one of --stack <name> or --stack-file <path>. ${USAGE.split("\n")[0]}`);
  if (opts.stack !== undefined && !/^[A-Za-z0-9_.-]+$/.test(opts.stack)) throw new PlanCliError(`--stack ${JSON.stringify(opts.stack)} is not a stack name (letters, digits, '.', '_', '-')`);
  return opts;
}

/** Pulumi `secure:` values cannot be decrypted offline; the planner only needs to know they are set. */
function maskSecure(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecure);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "secure") return "[secret]";
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskSecure(x)]));
  }
  return v;
}

function availableStacks(dir: string): string[] {
  try {
    return readdirSync(dir).map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1]).filter((s): s is string => !!s).sort();
  } catch {
    return [];
  }
}

/** Reads a stack file and returns its topology (not yet validated). */
export function loadStackTopology(file: string): unknown {
  return loadStack(file).topology;
}

/**
 * The settings the deployment reads, from the stack file and the environment, the way the
 * deployment reads them: oci:tenancyOcid, else TF_VAR_tenancy_ocid; extraRegions; the backfill
 * timeout. A `secure:` value counts as set.
 */
export function stackSettings(config: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): PlanSettings {
  const settings: PlanSettings = { complete: false };
  const tenancy = config["oci:tenancyOcid"];
  if (tenancy !== undefined && tenancy !== null && tenancy !== "") settings.ociTenancyOcid = isSecure(tenancy) ? "[secret]" : String(tenancy);
  else if (env.TF_VAR_tenancy_ocid) settings.ociTenancyOcid = env.TF_VAR_tenancy_ocid;
  const extra = config[EXTRA_REGIONS_KEY];
  if (extra !== undefined) {
    // Pulumi config values set on the command line are strings: accept a JSON list or a comma list.
    let list: unknown = extra;
    if (typeof extra === "string") {
      try {
        list = JSON.parse(extra);
      } catch {
        list = extra.split(",").map((x) => x.trim()).filter(Boolean);
      }
    }
    if (!Array.isArray(list) || list.some((x) => typeof x !== "string"))
      throw new PlanCliError(`${EXTRA_REGIONS_KEY} must be a list of region names, got ${JSON.stringify(extra)}. Fix: write e.g. ${EXTRA_REGIONS_KEY}: [xx-newregion-1]`);
    settings.extraRegions = list as string[];
  }
  const timeout = config[BACKFILL_TIMEOUT_KEY];
  if (timeout !== undefined) settings.backfillTimeoutMinutes = typeof timeout === "string" && timeout.trim() !== "" && !Number.isNaN(Number(timeout)) ? Number(timeout) : (timeout as number);
  return settings;
}

function isSecure(v: unknown): boolean {
  return !!v && typeof v === "object" && "secure" in v;
}

/** Reads a stack file: its topology (not yet validated) and the settings the deployment reads. */
export function loadStack(file: string, env: NodeJS.ProcessEnv = process.env): { topology: unknown; settings: PlanSettings } {
  if (!existsSync(file)) throw new PlanCliError(`no stack file ${file}`);
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, "utf8"));
  } catch (e) {
    const first = String((e as Error).message).split("\n")[0];
    throw new PlanCliError(`${basename(file)} is not valid YAML: ${first}`);
  }
  const config = doc && typeof doc === "object" ? (doc as Record<string, unknown>).config : undefined;
  if (!config || typeof config !== "object" || Array.isArray(config))
    throw new PlanCliError(`${basename(file)} has no config section. Fix: add config: { ${CONFIG_KEY}: { buckets: {...}, links: [...] } }`);
  const c = config as Record<string, unknown>;
  if (!(CONFIG_KEY in c)) {
    const near = Object.keys(c).filter((k) => k.endsWith("topology"));
    throw new PlanCliError(`${basename(file)} has no ${CONFIG_KEY} in config${near.length ? ` (found ${near.join(", ")})` : ""}. Fix: put the topology under config.${CONFIG_KEY}`);
  }
  const value = c[CONFIG_KEY];
  if (value && typeof value === "object" && "secure" in value)
    throw new PlanCliError(`${CONFIG_KEY} is encrypted as a whole in ${basename(file)}, so it cannot be planned offline. Fix: keep the topology in plain config and set only credentials with pulumi config set --secret --path`);
  return { topology: maskSecure(value), settings: stackSettings(c, env) };
}

export interface PlanResult {
  title: string;
  args: ReplicationTopologyArgs;
  plan: ReplicationPlan;
  output: string;
  settings: PlanSettings;
  /** Settings the plan cannot see offline that preview needs (shown in the output). */
  reminders: Issue[];
}

/** Everything but the process: resolve the file, plan, render. Throws PlanCliError for bad input. */
export function planStack(opts: PlanOptions): PlanResult {
  let file: string;
  let title: string;
  if (opts.stackFile) {
    file = resolve(opts.stackFile);
    title = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(file))?.[1] ?? basename(file);
  } else {
    title = opts.stack!;
    file = join(opts.dir, `Pulumi.${title}.yaml`);
    if (!existsSync(file)) {
      const known = availableStacks(opts.dir);
      throw new PlanCliError(`no stack file ${file}${known.length ? ` (stacks: ${known.join(", ")})` : ""}`);
    }
  }
  const { topology, settings } = loadStack(file);
  const args = topology as ReplicationTopologyArgs;
  let plan: ReplicationPlan;
  try {
    plan = planTopology(args, settings);
  } catch (e) {
    throw new PlanCliError((e as Error).message);
  }
  const reminders = readiness(args, plan, settings).reminders;
  const render = opts.format === "markdown" ? renderPlanMarkdown : renderPlanText;
  const output = render(args, plan, `stack ${title}`, { settings, reminders });
  return { title, args, plan, output, settings, reminders };
}

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** The CLI as a function: returns the exit code (0 ok, 2 bad input, 1 anything else). */
export function runPlanCli(argv: string[], io: Io): number {
  try {
    const opts = parseArgs(argv);
    if (opts.help) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    const result = planStack(opts);
    if (opts.out) {
      try {
        writeFileSync(opts.out, result.output);
      } catch (e) {
        throw new PlanCliError(`cannot write ${opts.out}: ${(e as Error).message.split("\n")[0]}`, 1);
      }
      io.stdout(`Wrote the plan of stack ${result.title} (${result.plan.edges.length} edges) to ${opts.out}\n`);
    } else {
      io.stdout(result.output);
    }
    return 0;
  } catch (e) {
    const code = e instanceof PlanCliError ? e.code : 1;
    // One problem per line (the TopologyError lists them so), each naming its field and fix.
    io.stderr(`plan: ${String((e as Error)?.message ?? e).trimEnd()}\n`);
    return code;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = runPlanCli(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
}
