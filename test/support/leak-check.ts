// Suite-wide secret grep (issue 8: "a test greps all output of the whole suite for the test secrets").
//
// Every process the tests start (the built runner, `npm run plan`) hands its stdout and stderr to
// `captureOutput`, and vitest hands every console line of every test to `onConsoleLog` (see
// vitest.config.ts). Both append to one capture file per test run; the global teardown
// (test/support/global-setup.ts) greps that file for every canary below and fails the run if one
// occurs, naming the canary and where it was printed. Individual tests also grep their own output;
// this catches a leak in any output, including paths no test thought to check.
import { appendFileSync } from "node:fs";

/**
 * The distinctive secret values used anywhere in the test suite (inline credentials, env and file
 * credentials, session tokens, wrong keys, stack secrets, provider-generated keys). A new test
 * secret must be added here; `test/support/leak-check.test.ts` fails if a listed canary no longer
 * occurs in any test file, so the list cannot silently rot.
 */
export const CANARIES: readonly string[] = [
  "SECRET-inline-a-3f9d2c77e1",
  "SECRET-env-b-8a41b9d0cc",
  "SECRET-file-5b7e11aa09",
  "SECRET-refused-72c1d5e0bb",
  "SESSION-TOKEN-e4c2a9f3d8",
  "BADINPUT-secret-c0ffee-91a7",
  "GENERATED-secret-from-provider-5e1f",
  "STACK-secret-s3-endpoint-key-0b7d",
  "TEST-SECRET-do-not-leak-4f1c9a",
  "WRONG-fault-secret-7d1e4b2a9c",
  "WrongSecretValue42",
  "TopSecretValue123",
  "very-secret-key-123",
  "AKIA-SECRET-ID",
];

export const CAPTURE_ENV = "BUCKET_REPLICATION_TEST_OUTPUT_CAPTURE";

/** Record a child process's output (or any text the suite produced) for the end-of-run grep. */
export function captureOutput(label: string, ...texts: string[]): void {
  const file = process.env[CAPTURE_ENV];
  if (!file) return;
  const text = texts.join("\n");
  if (text.length === 0) return;
  appendFileSync(file, `\n===== ${label}\n${text}\n`);
}

/** The canaries found in `text`, each with the capture section (label) it appeared in. */
export function findLeaks(text: string): { canary: string; where: string }[] {
  const found: { canary: string; where: string }[] = [];
  for (const canary of CANARIES) {
    let at = text.indexOf(canary);
    while (at >= 0) {
      const head = text.lastIndexOf("\n===== ", at);
      const where = head >= 0 ? text.slice(head + 7, text.indexOf("\n", head + 7)) : "(unlabelled output)";
      found.push({ canary, where });
      at = text.indexOf(canary, at + canary.length);
    }
  }
  return found;
}
