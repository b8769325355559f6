// Cron (5 fields, UTC) → systemd OnCalendar= lines, exactly, for the forms cron users write:
// `*`, numbers, names (JAN..DEC, SUN..SAT), lists, ranges, steps (`*/n`, `a-b/n`, `a/n`) and the
// @hourly/@daily/@weekly/@monthly/@yearly macros. Cron ORs day-of-month and day-of-week when both
// are restricted; systemd ANDs them, so that case becomes two OnCalendar= lines (a timer fires on
// the union of its OnCalendar= lines). Anything else (L, W, #, ?, @reboot, 6 fields) is rejected
// with an error naming `runner.schedule`. Pure: no I/O.
import { Cron } from "croner";

export const DEFAULT_SCHEDULE = "*/15 * * * *";

export class ScheduleError extends Error {}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const SYSTEMD_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Offset of names[0] (1 for months, 0 for days). */
  nameBase?: number;
}
const FIELDS: FieldDef[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: "day-of-week", min: 0, max: 7, names: DAYS, nameBase: 0 },
];

function fail(expr: string, why: string): never {
  throw new ScheduleError(
    `runner.schedule "${expr}": ${why}. Use a 5-field cron expression in UTC (minute hour day-of-month month day-of-week) ` +
      `with numbers, names, lists (a,b), ranges (a-b) and steps (*/n, a-b/n), or @hourly/@daily/@weekly/@monthly/@yearly; ` +
      `e.g. "*/15 * * * *".`,
  );
}

interface Parsed {
  /** Sorted distinct values, or undefined for `*` (every value). */
  values: number[] | undefined;
  /** `*\/n` (or `min/n`): first value and step, so the systemd form can stay compact. */
  step?: { start: number; step: number };
}

function parseValue(expr: string, f: FieldDef, s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < f.min || n > f.max) fail(expr, `${f.name} value ${n} is outside ${f.min}-${f.max}`);
    return n;
  }
  const i = f.names?.indexOf(s.toUpperCase()) ?? -1;
  if (i >= 0) return i + (f.nameBase ?? 0);
  fail(expr, `${f.name} has an unsupported value "${s}" (L, W, # and ? have no systemd calendar equivalent)`);
}

function parseField(expr: string, f: FieldDef, text: string): Parsed {
  if (text === "*") return { values: undefined };
  const out = new Set<number>();
  let step: Parsed["step"];
  const parts = text.split(",");
  for (const part of parts) {
    if (part === "") fail(expr, `${f.name} has an empty list item`);
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!m) fail(expr, `${f.name} "${part}" is not a value, range or step`);
    const [, range, stepText] = m;
    const stepN = stepText === undefined ? 1 : Number(stepText);
    if (stepN < 1) fail(expr, `${f.name} step must be at least 1`);
    let lo: number;
    let hi: number;
    if (range === "*") {
      lo = f.min;
      hi = f.name === "day-of-week" ? 6 : f.max;
    } else if (range.includes("-")) {
      const [a, b, ...rest] = range.split("-");
      if (rest.length) fail(expr, `${f.name} range "${range}" is malformed`);
      lo = parseValue(expr, f, a);
      hi = parseValue(expr, f, b);
      if (hi < lo) fail(expr, `${f.name} range "${range}" runs backwards`);
    } else {
      lo = parseValue(expr, f, range);
      hi = stepText === undefined ? lo : f.name === "day-of-week" ? 6 : f.max;
    }
    for (let v = lo; v <= hi; v += stepN) out.add(f.name === "day-of-week" && v === 7 ? 0 : v);
    if (parts.length === 1 && stepText !== undefined && (range === "*" || !range.includes("-"))) step = { start: lo, step: stepN };
  }
  const values = [...out].sort((a, b) => a - b);
  // A list that covers every value is `*` (e.g. 0-6 for days, 0-59 for minutes).
  const all = f.name === "day-of-week" ? 7 : f.max - f.min + 1;
  if (values.length === all) return { values: undefined };
  return { values, step };
}

function numList(p: Parsed, pad: number): string {
  if (!p.values) return "*";
  const fmt = (n: number) => String(n).padStart(pad, "0");
  if (p.step && p.step.step > 1) return `${fmt(p.step.start)}/${p.step.step}`;
  return p.values.map(fmt).join(",");
}

export interface CalendarSchedule {
  /** The cron expression as given (macros expanded). */
  cron: string;
  /** One or two OnCalendar= values (a timer fires on their union). */
  onCalendar: string[];
}

/** Convert a cron expression to systemd OnCalendar= values (UTC). Throws ScheduleError. */
export function cronToOnCalendar(expression: string = DEFAULT_SCHEDULE): CalendarSchedule {
  const trimmed = expression.trim();
  if (trimmed.startsWith("@")) {
    const m = MACROS[trimmed.toLowerCase()];
    if (!m) fail(expression, `macro ${trimmed} is not supported (only @hourly, @daily, @weekly, @monthly, @yearly)`);
    return cronToOnCalendar(m);
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) fail(expression, `expected 5 fields, got ${fields.length}`);
  const [min, hour, dom, mon, dow] = fields.map((t, i) => parseField(expression, FIELDS[i], t));
  const time = `${numList(hour, 2)}:${numList(min, 2)}:00`;
  const month = numList(mon, 2);
  const days = dow.values ? dow.values.map((d) => SYSTEMD_DAYS[d]).join(",") : "";
  const date = (d: string) => `*-${month}-${d}`;
  const onCalendar: string[] = [];
  // Vixie cron: when both day fields are restricted and neither starts with "*", a day matches if
  // EITHER matches; systemd requires both, so two lines give the union. Otherwise cron ANDs them.
  if (dom.values && dow.values && !fields[2].startsWith("*") && !fields[4].startsWith("*")) {
    onCalendar.push(`${date(numList(dom, 2))} ${time} UTC`, `${days} ${date("*")} ${time} UTC`);
  } else if (dow.values) {
    onCalendar.push(`${days} ${date(numList(dom, 2))} ${time} UTC`);
  } else {
    onCalendar.push(`${date(numList(dom, 2))} ${time} UTC`);
  }
  // Cross-check with an independent parser: it must accept what we accepted.
  try {
    new Cron(fields.join(" "), { timezone: "UTC", paused: true });
  } catch (e) {
    fail(expression, (e as Error).message);
  }
  return { cron: fields.join(" "), onCalendar };
}

/**
 * The shortest and longest gaps between consecutive runs (seconds), over a window long enough to
 * see the schedule's whole pattern (up to 400 days or 4,000 runs). The longest sizes the "no
 * success within 3 schedule periods" alarm; the shortest sizes the restart policy.
 */
const gapCache = new Map<string, { shortest: number; longest: number }>();

export function scheduleGaps(expression: string = DEFAULT_SCHEDULE): { shortest: number; longest: number } {
  const { cron } = cronToOnCalendar(expression);
  const cached = gapCache.get(cron);
  if (cached) return cached;
  const job = new Cron(cron, { timezone: "UTC", paused: true });
  const start = new Date(Date.UTC(2025, 0, 1));
  const end = start.getTime() + 400 * 86400_000;
  let prev = job.nextRun(start);
  if (!prev) fail(expression, "never runs");
  let longest = 0;
  let shortest = Infinity;
  for (let i = 0; i < 4000; i++) {
    const next = job.nextRun(prev);
    if (!next) break;
    const gap = (next.getTime() - prev.getTime()) / 1000;
    longest = Math.max(longest, gap);
    shortest = Math.min(shortest, gap);
    prev = next;
    if (prev.getTime() > end) break;
  }
  const out = { shortest, longest };
  gapCache.set(cron, out);
  return out;
}

export function longestGapSeconds(expression?: string): number {
  return scheduleGaps(expression).longest;
}

export function shortestGapSeconds(expression?: string): number {
  return scheduleGaps(expression).shortest;
}

/**
 * The schedule for a Kubernetes CronJob (run with `timeZone: Etc/UTC`). Kubernetes parses the same
 * 5 fields with the same rule for day-of-month and day-of-week (a day matches EITHER when both are
 * restricted and neither starts with `*`), names and steps, but its day-of-week is 0-6 only: a
 * day-of-week naming 7 (Sunday, as cron allows) becomes the list of its days. Macros are expanded.
 * Throws ScheduleError (naming runner.schedule) for what cronToOnCalendar rejects.
 */
export function kubernetesCron(expression: string = DEFAULT_SCHEDULE): string {
  const { cron } = cronToOnCalendar(expression);
  const f = cron.split(" ");
  if (/(^|[^0-9])7($|[^0-9])/.test(f[4])) {
    const p = parseField(cron, FIELDS[4], f[4]);
    // "0-6" rather than "*": the field stays restricted, so the OR rule with day-of-month holds.
    f[4] = p.values ? p.values.join(",") : "0-6";
  }
  return f.join(" ");
}

/**
 * The schedule for EventBridge Scheduler (`cron(minutes hours day-of-month month day-of-week year)`,
 * run with timezone Etc/UTC). Its day-of-week counts 1-7 from Sunday, so days are written as names;
 * one of the two day fields must be `?`, so a cron expression restricting BOTH day fields (cron: a
 * day matching either) has no single EventBridge equivalent and is rejected naming runner.schedule.
 */
export function awsSchedulerCron(expression: string = DEFAULT_SCHEDULE): string {
  const { cron } = cronToOnCalendar(expression);
  const fields = cron.split(" ");
  const [min, hour, dom, mon, dow] = fields.map((t, i) => parseField(cron, FIELDS[i], t));
  if (dom.values && dow.values && !fields[2].startsWith("*") && !fields[4].startsWith("*")) {
    throw new ScheduleError(
      `runner.schedule "${expression}": on platform aws-ecs (EventBridge Scheduler) a schedule cannot restrict both day-of-month and ` +
        `day-of-week (one of them must be "?" there). Restrict only one of them, e.g. "0 3 1 * *" or "0 3 * * MON".`,
    );
  }
  const days = dow.values ? dow.values.map((d) => DAYS[d]).join(",") : undefined;
  const domText = numList(dom, 1);
  return `cron(${numList(min, 1)} ${numList(hour, 1)} ${days ? "?" : domText} ${numList(mon, 1)} ${days ?? "?"} *)`;
}
