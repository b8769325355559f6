// The run's temporary files (spoolDir): nothing is left behind by a run, a dry run or check, and a
// killed run's directory (dead pid) is removed by the next run.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { endpointsOf, put, runRunner, startEnv, writeConfig, type Env } from "./harness.js";

let env: Env;
beforeAll(async () => {
  env = await startEnv({ a: ["src"], b: ["dst"] });
  for (let i = 0; i < 30; i++) await put(env.clients.a, "src", `k/${i}`, `v${i}`);
});
afterAll(async () => {
  await env?.stop();
});

describe("spoolDir", () => {
  it("is empty after a run, a dry run and check; a dead pid's leftover directory is removed, a live one kept", async () => {
    const spool = join(env.dir, "spool");
    const cfg = writeConfig(env, {
      endpoints: endpointsOf(env),
      state: { dir: join(env.dir, "state") },
      spoolDir: spool,
      jobs: [{ name: "j", mode: "sync", source: { endpoint: "a", bucket: "src" }, targets: [{ endpoint: "b", bucket: "dst" }] }],
    });
    const dry = await runRunner(["run", "--config", cfg, "--dry-run", "--json"]);
    expect(dry.code).toBe(0);
    expect(readdirSync(spool)).toEqual([]);
    expect(existsSync(join(env.dir, "state"))).toBe(false); // --dry-run writes nothing

    // A killed run's directory (pid 2^22+1 is above Linux's pid_max default) and this process's own.
    mkdirSync(join(spool, "replication-j-4194305-AbC123"));
    writeFileSync(join(spool, "replication-j-4194305-AbC123", "tasks.spool"), "x");
    mkdirSync(join(spool, `replication-j-${process.pid}-Live12`));
    const r = await runRunner(["run", "--config", cfg, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summaries[0]).toMatchObject({ copied: 30, stateWritten: true });
    expect(readdirSync(spool)).toEqual([`replication-j-${process.pid}-Live12`]);

    const c = await runRunner(["check", "--config", cfg, "--json"]);
    expect(c.code).toBe(0);
    expect(readdirSync(spool)).toEqual([`replication-j-${process.pid}-Live12`]);
  });
});
