// BoundarySampler (runner/list/ranges.ts), pure: the boundaries a run stores for the next one are
// the last key of a 1,000-key page (then of 2,000, 4,000 … keys once thinned), so ranges cut from
// them hold whole pages. parallel-list.test.ts checks the LIST counts that follow from this.
import { describe, expect, it } from "vitest";
import { BoundarySampler, spreadEnds } from "../../runner/list/ranges.js";

const key = (i: number) => `k/${String(i).padStart(9, "0")}`;

describe("BoundarySampler", () => {
  it("samples the last key of every 1,000 (keys 999, 1999, …); fewer than 1,000 keys: none", () => {
    const s = new BoundarySampler();
    for (let i = 0; i < 999; i++) s.add(key(i));
    expect(s.keys).toEqual([]);
    for (let i = 999; i < 5_500; i++) s.add(key(i));
    expect(s.keys).toEqual([key(999), key(1999), key(2999), key(3999), key(4999)]);
    expect(s.n).toBe(5_500);
  });

  it("thins to the last key of every 2,000, 4,000 … keys when full: still page ends, at most `max` samples", () => {
    const s = new BoundarySampler(8);
    const n = 50_000;
    for (let i = 0; i < n; i++) s.add(key(i));
    expect(s.keys.length).toBeLessThan(8);
    expect(s.keys.length).toBeGreaterThanOrEqual(4);
    const idx = s.keys.map((k) => Number(k.slice(2)));
    const stride = idx[0] + 1;
    expect([1000, 2000, 4000, 8000, 16000]).toContain(stride);
    expect(idx).toEqual(idx.map((_, j) => (j + 1) * stride - 1));
    expect(idx.at(-1)! + stride).toBeGreaterThan(n - 1);
  });

  it("skips a key longer than 256 characters (its turn passes; the others stay page ends)", () => {
    const s = new BoundarySampler();
    for (let i = 0; i < 3_000; i++) s.add(i === 1999 ? "x".repeat(300) : key(i));
    expect(s.keys).toEqual([key(999), key(2999)]);
  });
});

describe("spreadEnds", () => {
  const ends = (n: number) => Array.from({ length: n }, (_, j) => key(1000 * (j + 1) - 1));

  it("2,000 keys (page ends 999 and 1999), 2 ranges: cut after the first page, never at the last end", () => {
    expect(spreadEnds(ends(2), 2)).toEqual([key(999)]);
    expect(spreadEnds(ends(2), 32)).toEqual([key(999)]);
    expect(spreadEnds(ends(1), 2)).toEqual([]);
  });

  it("60 page ends into 16 ranges: 15 increasing cuts, each range 3–4 pages", () => {
    const e = ends(60);
    const cuts = spreadEnds(e, 16);
    expect(cuts.length).toBe(15);
    const idx = [-1, ...cuts.map((c) => e.indexOf(c)), 59];
    const sizes = idx.slice(1).map((x, i) => x - idx[i]);
    for (const s of sizes) expect(s === 3 || s === 4).toBe(true);
    expect(cuts).not.toContain(e[59]);
  });
});
