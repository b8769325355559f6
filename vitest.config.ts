import { defineConfig } from "vitest/config";
import { captureOutput } from "./test/support/leak-check.js";

export default defineConfig({
  test: {
    // Every console line of every test goes to the suite-wide secret grep (test/support/leak-check.ts).
    onConsoleLog(log, type) {
      captureOutput(`console.${type}`, log);
    },
    include: ["test/**/*.test.ts"],
    // Builds dist/runner.mjs once (integration tests run the built runner).
    globalSetup: ["test/support/global-setup.ts"],
    // Slow fault-injection scenarios run separately with `npm run test:faults`.
    exclude: ["test/faults/**", "node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
