// Builds dist/runner.mjs once before the suite, so `npm test` on a fresh clone needs no separate
// build step (integration tests run the built artifact as a user would).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const script = fileURLToPath(new URL("../../scripts/build-runner.mjs", import.meta.url));
  execFileSync(process.execPath, [script], { stdio: "inherit" });
}
