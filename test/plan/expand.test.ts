// Link expansion: how many directed edges each kind produces, and the defaults filled into them.
import { describe, expect, it } from "vitest";
import { aws, plan } from "./helpers.js";

const buckets = { a: aws("bucket-a"), b: aws("bucket-b", "eu-west-1"), c: aws("bucket-c", "eu-central-1") };
const pick = (e: object) => {
  const { reason: _r, mechanism: _m, ...rest } = e as Record<string, unknown>;
  return rest;
};

describe("link expansion", () => {
  it("one-to-one gives one edge, deletes default false, prefixes from the link", () => {
    const { edges } = plan(buckets, [{ kind: "one-to-one", from: "a", to: "b", prefix: "logs/" }]);
    expect(edges.map(pick)).toEqual([{ from: "a", to: "b", link: 0, kind: "one-to-one", deletes: false, sourcePrefix: "logs/", targetPrefix: "logs/" }]);
  });

  it("bidirectional gives A→B then B→A, deletes default true, a conflict policy on both", () => {
    const { edges } = plan(buckets, [{ kind: "bidirectional", between: ["a", "b"] }]);
    expect(edges.map((e) => [e.from, e.to, e.deletes, e.kind, e.sourcePrefix, e.targetPrefix])).toEqual([
      ["a", "b", true, "bidirectional", "", ""],
      ["b", "a", true, "bidirectional", "", ""],
    ]);
    expect(edges.every((e) => e.conflict !== undefined)).toBe(true);
  });

  it("bidirectional respects deletes: false and an explicit conflict policy", () => {
    const { edges } = plan(buckets, [{ kind: "bidirectional", between: ["a", "b"], deletes: false, conflict: "newer" }]);
    expect(edges.map((e) => [e.deletes, e.conflict])).toEqual([[false, "newer"], [false, "newer"]]);
  });

  it("fan-out gives one edge per target, in order", () => {
    const { edges } = plan(buckets, [{ kind: "fan-out", from: "a", to: ["c", "b"], deletes: true }]);
    expect(edges.map((e) => `${e.from}>${e.to}:${e.deletes}`)).toEqual(["a>c:true", "a>b:true"]);
  });

  it("fan-in gives one edge per source; targetPrefix = targetPrefixes[from] ?? the link prefix", () => {
    const { edges } = plan(buckets, [
      { kind: "fan-in", from: ["a", "b"], to: "c", prefix: "in/", targetPrefixes: { a: "from-a/" } },
    ]);
    expect(edges.map((e) => [e.from, e.to, e.sourcePrefix, e.targetPrefix, e.deletes])).toEqual([
      ["a", "c", "in/", "from-a/", false],
      ["b", "c", "in/", "in/", false],
    ]);
  });

  it("edges keep link order and carry the index of their link; one-way edges have no conflict field", () => {
    const { edges } = plan(buckets, [
      { kind: "one-to-one", from: "a", to: "b" },
      { kind: "fan-out", from: "b", to: ["c"] },
    ]);
    expect(edges.map((e) => e.link)).toEqual([0, 1]);
    expect(edges.every((e) => e.conflict === undefined)).toBe(true);
  });

  it("an empty link list is a valid, empty plan", () => {
    expect(plan(buckets, []).edges).toEqual([]);
  });
});
