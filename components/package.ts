// Where the bucket-replication package itself lives on disk, found from this module's own file (not
// the working directory): the same answer from the TypeScript sources in a checkout, from lib/esm
// and from lib/cjs inside an installed node_modules/bucket-replication.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_NAME = "bucket-replication";

/** The nearest directory at or above `from` whose package.json is this package's. */
export function findPackageRoot(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        // lib/cjs/package.json (only "type") is passed over on the way up.
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // unreadable: keep looking further up
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The package's root directory, or undefined if this module was copied out of it (e.g. bundled). */
export function packageRoot(): string | undefined {
  return findPackageRoot(dirname(fileURLToPath(import.meta.url)));
}

/** The runner bundle that ships in the package (built by scripts/build-runner.mjs). */
export const BUNDLE_IN_PACKAGE = "dist/runner.mjs";

/** True in a checkout of the repository (the build scripts are there), false in an installed package. */
export function isCheckout(root: string): boolean {
  return existsSync(join(root, "scripts", "build-runner.mjs"));
}
