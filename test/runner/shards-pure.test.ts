// Shard specs, maps and ranges (pure): every rule of runner/shard/shards.ts.
import { describe, expect, it } from "vitest";
import { boundariesFrom, checkShardMap, inRange, parseShard, shardRange, ShardError } from "../../runner/shard/shards.js";
import { compareKeys } from "../../runner/decide/types.js";

describe("parseShard", () => {
  it("K/N, and auto/N from JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX", () => {
    expect(parseShard("2/4", {})).toEqual({ index: 2, count: 4, from: "flag" });
    expect(parseShard("auto/3", { JOB_COMPLETION_INDEX: "1" })).toEqual({ index: 1, count: 3, from: "JOB_COMPLETION_INDEX" });
    expect(parseShard("auto/3", { AWS_BATCH_JOB_ARRAY_INDEX: "2" })).toEqual({ index: 2, count: 3, from: "AWS_BATCH_JOB_ARRAY_INDEX" });
  });
  it("names what is wrong and the fix", () => {
    expect(() => parseShard("4/4", {})).toThrow(/K must be from 0 to 3/);
    expect(() => parseShard("1-4", {})).toThrow(/is not K\/N: write e.g. --shard 0\/4/);
    expect(() => parseShard("0/0", {})).toThrow(/N must be from 1 to 256/);
    expect(() => parseShard("auto/2", {})).toThrow(/neither JOB_COMPLETION_INDEX .* nor AWS_BATCH_JOB_ARRAY_INDEX/);
    expect(() => parseShard("auto/2", { JOB_COMPLETION_INDEX: "5" })).toThrow(/K must be from 0 to 1 \(JOB_COMPLETION_INDEX is 5\)/);
    expect(() => parseShard("auto/2", { JOB_COMPLETION_INDEX: "x" })).toThrow(ShardError);
  });
});

describe("ranges", () => {
  const map = { boundaries: ["g", "p"] };
  it("shard K covers (b[K-1], b[K]]; the ranges cover every key exactly once", () => {
    expect(shardRange(map, 0)).toEqual({ lo: undefined, hi: "g" });
    expect(shardRange(map, 1)).toEqual({ lo: "g", hi: "p" });
    expect(shardRange(map, 2)).toEqual({ lo: "p", hi: undefined });
    for (const k of ["", "a", "g", "g0", "p", "p/x", "zz", "\u{1F600}", "\uFFFD"]) {
      const owners = [0, 1, 2].filter((i) => inRange(k, shardRange(map, i)));
      expect(owners, k).toHaveLength(1);
    }
    expect(inRange("g", shardRange(map, 0))).toBe(true);
    expect(inRange("g", shardRange(map, 1))).toBe(false);
  });
  it("UTF-8 order: a non-BMP key sorts after U+FFFD", () => {
    const r = shardRange({ boundaries: ["\uFFFD"] }, 1);
    expect(inRange("\u{1F600}", r)).toBe(true);
  });
});

describe("boundariesFrom", () => {
  const increasing = (b: string[]) => b.every((x, i) => i === 0 || compareKeys(b[i - 1], x) < 0);
  it("spreads enough candidates evenly", () => {
    const c = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, "0")}`);
    const b = boundariesFrom(c, 4);
    expect(b).toEqual(["k025", "k050", "k075"]);
  });
  it("too few candidates: the rest are even cuts after them, always N-1 increasing keys", () => {
    for (const [c, n] of [[[], 4], [["logs/"], 8], [["a/", "b/"], 40], [["zzz"], 3]] as [string[], number][]) {
      const b = boundariesFrom(c, n);
      expect(b, JSON.stringify(c)).toHaveLength(n - 1);
      expect(increasing(b), JSON.stringify(b)).toBe(true);
    }
    expect(boundariesFrom([], 4)).toEqual(["90", "i0", "r0"]);
    expect(boundariesFrom([], 1)).toEqual([]);
  });
});

describe("checkShardMap", () => {
  const ok = { version: 1, job: "j", count: 3, boundaries: ["g", "p"], basis: "even", created: "x" };
  it("accepts a good map and rejects damaged ones, saying how to recover", () => {
    expect(checkShardMap(ok, "j").count).toBe(3);
    expect(() => checkShardMap({ ...ok, boundaries: ["p", "g"] }, "j")).toThrow(/out of order.*run "reshard"/);
    expect(() => checkShardMap({ ...ok, count: 4 }, "j")).toThrow(/damaged \(boundaries\)/);
    expect(() => checkShardMap({ ...ok, version: 2 }, "j")).toThrow(/unknown version/);
  });
});
