// Validation errors of the planner. Every problem is one sentence that names where (`links[3].to`,
// `buckets.london.region`), what is wrong, and the fix. planTopology throws a TopologyError whose
// message is the first problem (plus a count of the others); `problems` holds all of them.

export class TopologyError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    const [first, ...rest] = problems;
    const more = rest.length ? ` (${rest.length} more problem${rest.length === 1 ? "" : "s"}: ${rest.map(where).join(", ")})` : "";
    super(`Invalid replication topology: ${first}${more}`);
    this.name = "TopologyError";
    this.problems = problems;
  }
}

/** The location a problem starts with ("links[2].to"), for the summary of further problems. */
function where(problem: string): string {
  const m = /^([^\s:]+):/.exec(problem);
  return m ? m[1] : problem.slice(0, 40);
}

/** Collects problems; `check()` throws them all as one TopologyError. */
export class Problems {
  readonly list: string[] = [];
  add(path: string, what: string, fix: string): void {
    this.list.push(`${path}: ${what}. Fix: ${fix}.`);
  }
  get size(): number {
    return this.list.length;
  }
  check(): void {
    if (this.list.length) throw new TopologyError(this.list);
  }
}

/** JSON-quoted value for messages; never used for credentials. */
export function q(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined) return "undefined";
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v === "number" ? "a number" : typeof v === "boolean" ? "a boolean" : `a ${typeof v}`} (${q(v)})`;
}

function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** The closest candidate to a typo, if it is close enough to be a likely intent. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = c.toLowerCase() === word.toLowerCase() ? 0 : distance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestD) [best, bestD] = [c, dist];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Key sets overlap when one prefix is a prefix of the other ("" overlaps everything). */
export function prefixesOverlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}
