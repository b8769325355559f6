// Reading the config file: JSON syntax errors with line, column and the offending line, then
// validation (validate.ts), then the local paths resolved against the config file's folder.
import { readFileSync } from "node:fs";
import type { RunnerConfig } from "./types.js";
import { resolveConfigPath } from "./dirs.js";
import { ConfigError, validateConfig } from "./validate.js";

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(pos, text.length)));
  const lines = before.split("\n");
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/** The line at `line` (1-based) with a caret under `column`, for a terminal. */
export function excerpt(text: string, line: number, column: number): string {
  const src = (text.split("\n")[line - 1] ?? "").replace(/\r$/, "");
  // Long lines (a minified config) are cut around the column.
  const start = Math.max(0, column - 1 - 60);
  const shown = src.slice(start, start + 120).replace(/\t/g, " ");
  return `  ${String(line).padStart(4)} | ${shown}\n       | ${" ".repeat(column - 1 - start)}^`;
}

/** Parses JSON, throwing a ConfigError with line, column and an excerpt on a syntax error. */
export function parseConfigJson(text: string, path: string): unknown {
  if (text.trim() === "") throw new ConfigError("--config", `${path} is empty; it must hold a JSON object with endpoints, state and jobs (docs/runner.md "Config file")`);
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    // V8: "… in JSON at position 381" (Node 20) or "… at position 381 (line 12 column 5)" (Node 22).
    const m = /at position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : /end of JSON input/.test(msg) ? text.length : undefined;
    const atEnd = /end of JSON input/.test(msg);
    const what = atEnd ? "the file ends before the JSON does" : msg.replace(/\s*\(line \d+ column \d+\)/, "").replace(/ in JSON at position \d+| at position \d+/, "");
    if (pos === undefined) throw new ConfigError("--config", `${path} is not valid JSON: ${what}`);
    const { line, column } = lineColumn(text, pos);
    const fix = atEnd ? "close every { and [ that is still open" : `fix the file at line ${line}, column ${column} (a missing or trailing comma, a comment or an unquoted name are the usual causes)`;
    const err = new ConfigError("--config", `${path}:${line}:${column}: not valid JSON: ${what}; ${fix}`);
    err.excerpt = excerpt(text, line, column);
    throw err;
  }
}

/** Reads, parses and validates the config; relative `state.dir` and `spoolDir` become absolute
 *  paths under the config file's folder. */
export function loadConfig(path: string): RunnerConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError("--config", `cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? "error"}); check the path`);
  }
  const cfg = validateConfig(parseConfigJson(text, path));
  if ("dir" in cfg.state) cfg.state = { dir: resolveConfigPath(path, cfg.state.dir) };
  if (cfg.spoolDir !== undefined) cfg.spoolDir = resolveConfigPath(path, cfg.spoolDir);
  return cfg;
}
