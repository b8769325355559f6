// Link expansion: every (validated) link becomes its directed edges, with the defaults filled in.
import type { LinkSpec, PlannedEdge } from "./types.js";

/** A directed edge before its mechanism is decided. */
export type Edge = Omit<PlannedEdge, "mechanism" | "reason"> & Required<Pick<PlannedEdge, "kind" | "deletes" | "sourcePrefix" | "targetPrefix">>;

export function expandLink(link: LinkSpec, index: number): Edge[] {
  const prefix = link.prefix ?? "";
  const base = { link: index, kind: link.kind, sourcePrefix: prefix, targetPrefix: prefix };
  switch (link.kind) {
    case "one-to-one":
      return [{ ...base, from: link.from, to: link.to, deletes: link.deletes ?? false }];
    case "fan-out":
      return link.to.map((to) => ({ ...base, from: link.from, to, deletes: link.deletes ?? false }));
    case "fan-in":
      return link.from.map((from) => ({
        ...base,
        from,
        to: link.to,
        deletes: link.deletes ?? false,
        targetPrefix: link.targetPrefixes?.[from] ?? prefix,
      }));
    case "bidirectional": {
      const [a, b] = link.between;
      const deletes = link.deletes ?? true;
      // conflict is filled in once the mechanism is known (its default depends on it).
      return [
        { ...base, from: a, to: b, deletes },
        { ...base, from: b, to: a, deletes },
      ];
    }
  }
}

export function edgeName(e: { from: string; to: string }): string {
  return `${e.from}→${e.to}`;
}
