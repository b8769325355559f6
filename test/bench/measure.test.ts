// CPU and peak RSS of a child, by GNU time and by /proc sampling (the fallback).
import { describe, expect, it } from "vitest";
import { hasGnuTime, runWithGnuTime, runWithSampling } from "../../bench/lib/measure.js";

// Burns ~400 ms of CPU and holds ~150 MB of touched memory for a moment, then exits 3.
const SCRIPT = `
const t = Date.now(); let x = 0; while (Date.now() - t < 400) x += Math.sqrt(x + 1);
const b = Buffer.alloc(150 * 1024 * 1024, 1);
setTimeout(() => { console.log("done", b[5] + (x > 0 ? 1 : 0)); process.exit(3); }, 150);
`;

describe.each([
  ["gnu-time", runWithGnuTime, !hasGnuTime],
  ["proc-sampling", runWithSampling, false],
] as const)("runMeasured via %s", (via, run, skip) => {
  it.skipIf(skip)("reports exit code, output, CPU and peak RSS", async () => {
    const m = await run(process.execPath, ["-e", SCRIPT], {});
    expect(m.via).toBe(via);
    expect(m.code).toBe(3);
    expect(m.stdout.trim()).toBe("done 2");
    expect(m.userMs + m.sysMs).toBeGreaterThanOrEqual(300);
    expect(m.maxRssKb).toBeGreaterThan(150 * 1024);
    expect(m.maxRssKb).toBeLessThan(1024 * 1024);
  });
});
