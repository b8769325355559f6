import { defineConfig } from "vitest/config";
import { captureOutput } from "./test/support/leak-check.js";

// Slow fault-injection scenarios of issue 8 (`npm run test:faults`): real s3rver processes behind the
// fault proxy and the BUILT runner. Files run one at a time: the scenarios time stalls, kills and
// restarts, and a second busy file on a 2-core machine would make those timings meaningless.
export default defineConfig({
  test: {
    // Every console line of every test goes to the suite-wide secret grep (test/support/leak-check.ts).
    onConsoleLog(log, type) {
      captureOutput(`console.${type}`, log);
    },
    include: ["test/faults/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
