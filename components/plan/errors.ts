// Validation errors of the planner. Every problem names where (`links[3].to`,
// `buckets.london.region`), what is wrong, and the fix. planTopology throws one TopologyError whose
// message lists every problem on its own line, so one run shows everything to fix:
//
//   Invalid replication topology (2 problems):
//     links[0].kind: unknown kind "fanout". Fix: did you mean "fan-out"? ...
//     runner.platform: missing. Fix: use "aws-ec2" or "oci-compute".

/** One problem: the field, what is wrong and the fix. */
export interface Issue {
  path: string;
  what: string;
  fix: string;
}

/** The one-line form of a problem: `path: what. Fix: fix.` */
export function issueLine(i: Issue): string {
  return `${i.path}: ${i.what}. Fix: ${i.fix}.`;
}

export class TopologyError extends Error {
  /** Every problem as one line (`path: what. Fix: fix.`). */
  readonly problems: string[];
  /** Every problem as fields. */
  readonly issues: Issue[];
  constructor(problems: Array<string | Issue>) {
    const issues = problems.map((p) => (typeof p === "string" ? fromLine(p) : p));
    const lines = problems.map((p) => (typeof p === "string" ? p : issueLine(p)));
    super(
      lines.length === 1
        ? `Invalid replication topology: ${lines[0]}`
        : `Invalid replication topology (${lines.length} problems):\n${lines.map((l) => `  ${l}`).join("\n")}`,
    );
    this.name = "TopologyError";
    this.problems = lines;
    this.issues = issues;
  }
}

function fromLine(line: string): Issue {
  const m = /^([^\s:]+): (.*?)\. Fix: (.*?)\.?$/s.exec(line);
  return m ? { path: m[1], what: m[2], fix: m[3] } : { path: "topology", what: line, fix: "" };
}

/** Collects problems; `check()` throws them all as one TopologyError. */
export class Problems {
  readonly issues: Issue[] = [];
  add(path: string, what: string, fix: string): void {
    this.issues.push({ path, what, fix });
  }
  /** The problems as lines (`path: what. Fix: fix.`). */
  get list(): string[] {
    return this.issues.map(issueLine);
  }
  has(path: string): boolean {
    return this.issues.some((i) => i.path === path);
  }
  get size(): number {
    return this.issues.length;
  }
  check(): void {
    if (this.issues.length) throw new TopologyError(this.issues);
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
