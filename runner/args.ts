// The command line: `run` / `check` and their flags, parsed by Node's util.parseArgs (strict), the
// help texts and the version. Pure: nothing here reads files or writes output (cli.ts does).
import { parseArgs as nodeParseArgs } from "node:util";
import { closest, ConfigError, validateCron } from "./config/validate.js";

export const DOCS = "docs/runner.md (in the bucket-replication package)";

export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose usage to show with the error. */
    readonly command?: Command,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

export type Command = "run" | "check" | "reshard";
const COMMANDS: readonly Command[] = ["run", "check", "reshard"];

export interface Args {
  command: Command;
  config: string;
  jobs: string[];
  dryRun: boolean;
  resync: boolean;
  force: boolean;
  json: boolean;
  schedule?: string;
  /** run/check: `K/N` or `auto/N` (runner/shard/shards.ts parses it). */
  shard?: string;
  /** reshard: the new number of shards. */
  shards?: number;
}

/** What the command line asks for: a command to execute, or a text to print and exit 0. */
export type Parsed = { kind: "command"; args: Args } | { kind: "help"; text: string } | { kind: "version" };

interface Flag {
  name: string;
  type: "string" | "boolean";
  value?: string;
  multiple?: boolean;
  short?: string;
  help: string;
}

const COMMON: Flag[] = [
  { name: "config", type: "string", value: "FILE", help: "the runner config (JSON); required" },
  { name: "job", type: "string", value: "NAME", multiple: true, help: "only this job; repeatable; default: every job, in config order" },
  { name: "json", type: "boolean", help: "one JSON object per line on stdout instead of text" },
];
const FLAGS: Record<Command, Flag[]> = {
  run: [
    ...COMMON,
    { name: "dry-run", type: "boolean", help: "list, decide and print the plan (keys to copy, delete, resolve); write nothing" },
    { name: "resync", type: "boolean", help: "bisync: ignore the saved state; merge both sides, never delete" },
    { name: "force", type: "boolean", help: "proceed past the max-delete and emptied-side safety aborts" },
    { name: "schedule", type: "string", value: "CRON", help: 'keep running on this cron schedule (e.g. "*/15 * * * *"); overrides the config\'s schedule' },
    { name: "shard", type: "string", value: "K/N", help: "only key range K of N (0 <= K < N), with its own state and lock; auto/N reads K from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX" },
    { name: "help", type: "boolean", short: "h", help: "show this help" },
  ],
  check: [
    ...COMMON,
    { name: "shard", type: "string", value: "K/N", help: "compare only key range K of N (as run --shard); without it, the whole job" },
    { name: "help", type: "boolean", short: "h", help: "show this help" },
  ],
  reshard: [
    ...COMMON,
    { name: "shards", type: "string", value: "N", help: "the new number of shards (1: one unsharded job again); required" },
    { name: "dry-run", type: "boolean", help: "print the new shard map; write and remove nothing" },
    { name: "help", type: "boolean", short: "h", help: "show this help" },
  ],
};

const SUMMARY: Record<Command, string> = {
  run: "replicate every selected job once (or on a schedule)",
  check: "compare both sides of every selected job; change nothing",
  reshard: "split jobs into N key-range shards anew (no shard may run; the next runs start without state)",
};

const EXIT_CODES = `exit codes:
  0    success; check: every job in sync
  1    a transfer or delete failed, a job was locked, an endpoint failed; check: differences found
  2    bad config or usage (the message names the field or flag and the fix)
  3    safety abort (max-delete, emptied side); nothing was changed
  130  stopped by SIGINT (Ctrl-C); in-flight transfers aborted, state unchanged, lock released
  143  stopped by SIGTERM (e.g. systemctl stop); the same`;

function flagColumn(f: Flag): string {
  return `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.value ? ` ${f.value}` : ""}`;
}

export function commandHelp(command: Command): string {
  const flags = FLAGS[command];
  const width = Math.max(...flags.map((f) => flagColumn(f).length));
  return [
    `usage: bucket-replication ${command} --config FILE [options]`,
    "",
    `${command}: ${SUMMARY[command]}`,
    "",
    "options:",
    ...flags.map((f) => `  ${flagColumn(f).padEnd(width)}  ${f.help}`),
    "",
    EXIT_CODES,
    "",
    `docs: ${DOCS}`,
  ].join("\n");
}

export function mainHelp(): string {
  return [
    "usage: bucket-replication <command> --config FILE [options]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.padEnd(6)} ${SUMMARY[c]}`),
    "",
    "options:",
    "  -h, --help     show this help (bucket-replication <command> --help: the command's options)",
    "  -V, --version  print the runner's version",
    "",
    EXIT_CODES,
    "",
    `docs: ${DOCS}`,
  ].join("\n");
}

function suggest(word: string, options: readonly string[]): string {
  const c = closest(word, options);
  return c ? `; did you mean ${c}?` : "";
}

/** Parses argv (without node and the script). Throws UsageError (exit 2). */
export function parseArgs(argv: string[]): Parsed {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    if (first === undefined) throw new UsageError("missing command: run, check or reshard");
    return { kind: "help", text: mainHelp() };
  }
  if (first === "--version" || first === "-V") return { kind: "version" };
  if (!(COMMANDS as readonly string[]).includes(first)) {
    const hint = first.startsWith("-") ? suggest(first, ["--help", "--version"]) : suggest(first, COMMANDS);
    throw new UsageError(`unknown command ${JSON.stringify(first)}: use run, check or reshard${hint}`);
  }
  const command = first as Command;
  const flags = FLAGS[command];
  const options = Object.fromEntries(flags.map((f) => [f.name, { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) }]));
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = nodeParseArgs({ args: rest, options, strict: true, allowPositionals: true }) as { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] });
  } catch (e) {
    throw new UsageError(explain(e as Error & { code?: string }, command), command);
  }
  if (values.help) return { kind: "help", text: commandHelp(command) };
  if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}; options start with --`, command);
  const config = values.config as string | undefined;
  if (!config) throw new UsageError("--config FILE is required", command);
  const args: Args = {
    command,
    config,
    jobs: (values.job as string[] | undefined) ?? [],
    dryRun: values["dry-run"] === true,
    resync: values.resync === true,
    force: values.force === true,
    json: values.json === true,
  };
  if (typeof values.shard === "string") args.shard = values.shard;
  if (command === "reshard") {
    const n = values.shards;
    if (typeof n !== "string") throw new UsageError("--shards N is required (the new number of shards; 1 makes the jobs unsharded again)", command);
    if (!/^\d+$/.test(n) || Number(n) < 1 || Number(n) > 256) throw new UsageError(`--shards must be a whole number from 1 to 256, got ${JSON.stringify(n)}`, command);
    args.shards = Number(n);
  }
  if (typeof values.schedule === "string") {
    try {
      validateCron(values.schedule, "--schedule");
    } catch (e) {
      throw new UsageError((e as ConfigError).message, command);
    }
    args.schedule = values.schedule;
  }
  return { kind: "command", args };
}

/** util.parseArgs' errors, reworded: the flag, what is wrong, and the fix. */
function explain(e: Error & { code?: string }, command: Command): string {
  const names = FLAGS[command].map((f) => `--${f.name}`);
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const m = /option '([^']+)'/i.exec(e.message);
    const flag = (m?.[1] ?? "").split("=")[0];
    const other = COMMANDS.find((c) => c !== command && FLAGS[c].some((f) => `--${f.name}` === flag));
    if (other) return `${flag} applies to ${other} only`;
    if (flag === "--version" || flag === "-V") return `${flag} goes before the command: bucket-replication --version`;
    return `unknown option ${JSON.stringify(flag)}${suggest(flag, names) || `; options of ${command}: ${names.join(", ")}`}`;
  }
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const m = /option '(-[^' ]+)(?: <value>)?'/i.exec(e.message);
    const flag = m?.[1] ?? "an option";
    const f = FLAGS[command].find((x) => `--${x.name}` === flag || `-${x.short}` === flag);
    if (f?.type === "boolean") return `${flag} takes no value`;
    if (/ambiguous/.test(e.message)) return `${flag} needs a value (${f?.value ?? "VALUE"}), got another option; write ${flag}=VALUE for a value that starts with -`;
    return `${flag} needs a value (${f?.value ?? "VALUE"})`;
  }
  return e.message;
}
