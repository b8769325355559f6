// Builds dist/runner.mjs once before the suite, so `npm test` on a fresh clone needs no separate
// build step (integration tests run the built artifact as a user would).
//
// It also owns the suite-wide secret grep (test/support/leak-check.ts): a capture file that every
// test's child-process output and console lines are appended to, grepped for every test secret
// when the whole run ends. A leak fails the run, naming the secret and the command that printed it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CANARIES, CAPTURE_ENV, findLeaks } from "./leak-check.js";

export default function setup(): () => void {
  const script = fileURLToPath(new URL("../../scripts/build-runner.mjs", import.meta.url));
  execFileSync(process.execPath, [script], { stdio: "inherit" });

  const dir = mkdtempSync(join(tmpdir(), "suite-output-"));
  const file = join(dir, "captured.txt");
  // Set before any worker starts, so every worker (and the console hook in this process) sees it.
  process.env[CAPTURE_ENV] = file;
  // The built runner's V8 code cache (runner/shell.ts) goes here, not to the user's ~/.cache: every
  // runner the suite starts uses it once a run has written it, as deployed runners do.
  process.env.REPLICATION_RUNNER_CODE_CACHE ??= join(dir, "code-cache");

  return () => {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      // nothing captured (e.g. a filtered run that started no process)
    }
    const size = text.length > 0 ? statSync(file).size : 0;
    rmSync(dir, { recursive: true, force: true });
    const leaks = findLeaks(text);
    if (leaks.length > 0) {
      const list = leaks.slice(0, 20).map((l) => `  ${l.canary} in output of: ${l.where}`).join("\n");
      // vitest reports an error thrown here but still exits 0: set the exit code too.
      process.exitCode = 1;
      throw new Error(`secret leak: ${leaks.length} occurrence(s) of test secrets in the suite's output:\n${list}`);
    }
    console.log(`leak check: ${CANARIES.length} test secrets grepped in ${size} bytes of captured output: none found`);
  };
}
