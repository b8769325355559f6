import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds dist/runner.mjs once (integration tests run the built runner).
    globalSetup: ["test/support/global-setup.ts"],
    // Slow fault-injection scenarios run separately with `npm run test:faults`.
    exclude: ["test/faults/**", "node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
