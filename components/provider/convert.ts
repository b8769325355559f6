// Flat args (components/provider/args.ts, what every Pulumi language passes) → the TypeScript
// topology args (plan/types.ts), so the one planner validates and plans both. Pure: no Pulumi at
// runtime. The conversion only re-shapes; it checks nothing the planner checks. The only problems
// it reports itself are those that exist in the flat form alone (a fan-out link given `to` instead
// of `targets`, ...), and planner errors about a re-shaped field are reported under the flat name
// (`links[1].targets[0]`, not `links[1].to[0]`), so every message names a field the user wrote.
import { Problems, TopologyError, isPlainObject, q, type Issue } from "../plan/errors.js";
import type { BucketSpec, LinkSpec, ReplicationTopologyArgs, RunnerSpec } from "../plan/types.js";
import type { TopologyArgs } from "./args.js";

/** Fields whose value is absent: unset, or null (how some languages send an unset optional). */
function defined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null));
}

/** A bucket: the flat fields are the TypeScript fields (pulumiProvider aside), so only unset ones go. */
function toBucket(spec: unknown): BucketSpec {
  return (isPlainObject(spec) ? defined(spec) : spec) as BucketSpec;
}

/** Where each link kind takes its list of buckets in the flat form, and the TypeScript field it fills. */
const LIST_FIELDS: Record<string, { flat: "targets" | "sources"; rich: "to" | "from" }> = {
  "fan-out": { flat: "targets", rich: "to" },
  "fan-in": { flat: "sources", rich: "from" },
};

function toLink(p: Problems, i: number, link: unknown): LinkSpec {
  if (!isPlainObject(link)) return link as LinkSpec; // the planner reports the shape
  const out = defined(link);
  const list = typeof out.kind === "string" ? LIST_FIELDS[out.kind] : undefined;
  if (list) {
    const path = `links[${i}]`;
    if (out[list.rich] !== undefined) {
      const other = list.rich === "to" ? "from" : "to";
      p.add(
        `${path}.${list.rich}`,
        `a ${out.kind} link names its ${list.rich === "to" ? "destinations" : "sources"} in ${list.flat} (a list), not ${list.rich}`,
        `write ${list.flat}: [${q(out[list.rich])}, ...] and keep ${other} for the single ${other === "from" ? "source" : "destination"}`,
      );
    }
    if (out[list.flat] !== undefined) {
      out[list.rich] = out[list.flat];
      delete out[list.flat];
    }
  }
  return out as unknown as LinkSpec;
}

function toRunner(runner: unknown): RunnerSpec {
  if (!isPlainObject(runner)) return runner as RunnerSpec;
  const out = defined(runner);
  // `network` is one object with optional fields here, a union there: the same keys either way,
  // and the planner rejects subnetIds together with create/cidr.
  if (isPlainObject(out.network)) out.network = defined(out.network);
  if (isPlainObject(out.stateBucket)) out.stateBucket = toBucket(out.stateBucket);
  return out as unknown as RunnerSpec;
}

/**
 * The TypeScript topology args for flat args. Throws a TopologyError for a problem only the flat
 * form can have; everything else is left to planTopology (pass its errors through `flatError`).
 */
export function toTopologyArgs(args: TopologyArgs): ReplicationTopologyArgs {
  if (!isPlainObject(args)) return args as unknown as ReplicationTopologyArgs;
  const p = new Problems();
  const out = defined(args as unknown as Record<string, unknown>);
  if (isPlainObject(out.buckets)) out.buckets = Object.fromEntries(Object.entries(out.buckets).map(([id, b]) => [id, toBucket(b)]));
  if (Array.isArray(out.links)) out.links = out.links.map((l, i) => toLink(p, i, l));
  if (out.runner !== undefined) out.runner = toRunner(out.runner);
  if (p.size > 0) throw new TopologyError(p.issues);
  return out as unknown as ReplicationTopologyArgs;
}

/** The flat name of a planner path: fan-out `to` is `targets`, fan-in `from` is `sources`. */
export function flatPath(path: string, args: TopologyArgs): string {
  const m = /^links\[(\d+)\]\.(to|from)(?=$|\[|\.)/.exec(path);
  if (!m || !isPlainObject(args) || !Array.isArray(args.links)) return path;
  const link: unknown = args.links[Number(m[1])];
  const list = isPlainObject(link) && typeof link.kind === "string" ? LIST_FIELDS[link.kind] : undefined;
  if (!list || list.rich !== m[2]) return path;
  return `links[${m[1]}].${list.flat}${path.slice(m[0].length)}`;
}

/** A planner error with every path in flat names; any other error unchanged. */
export function flatError(e: unknown, args: TopologyArgs): unknown {
  if (!(e instanceof TopologyError)) return e;
  const issues: Issue[] = e.issues.map((i) => ({ ...i, path: flatPath(i.path, args) }));
  return new TopologyError(issues);
}
