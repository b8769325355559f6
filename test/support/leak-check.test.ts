// The suite-wide secret grep must be able to fail, and its canary list must not rot.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CANARIES, CAPTURE_ENV, findLeaks } from "./leak-check.js";

const TEST_ROOT = resolve(import.meta.dirname, "..");

function testSources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return testSources(p);
    return p.endsWith(".ts") && !p.endsWith("leak-check.ts") && !p.endsWith("leak-check.test.ts") ? [p] : [];
  });
}

describe("suite-wide secret grep", () => {
  it("is armed: the global setup gave this worker a capture file", () => {
    expect(process.env[CAPTURE_ENV]).toMatch(/captured\.txt$/);
  });

  it("finds a canary and names the output section it was printed in", () => {
    // Built at run time, so the literal never appears whole in this file's own output.
    const canary = CANARIES[0];
    const text = `\n===== runner run --config a.json\nall good\n\n===== npm run plan --stack x\nkey=${canary}\n`;
    expect(findLeaks(text)).toEqual([{ canary, where: "npm run plan --stack x" }]);
    expect(findLeaks("\n===== runner\nnothing to see\n")).toEqual([]);
  });

  it("every canary is a secret some test really uses", () => {
    const all = testSources(TEST_ROOT).map((f) => readFileSync(f, "utf8")).join("\n");
    const unused = CANARIES.filter((c) => !all.includes(c));
    expect(unused).toEqual([]);
  });
});
