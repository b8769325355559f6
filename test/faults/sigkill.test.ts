// Scenario 4: the runner is killed with SIGKILL mid-run: during the listing, during transfers and
// during the state write. After every kill the state parses (never half-written) and is the state of
// the last successful run; the next run converges; a lock left behind is recovered (at once when its
// pid is dead on this host, after `lockTtlSeconds` when it belongs to another host).
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeState } from "../../runner/state/codec.js";
import { seededRng } from "../support/proxy.js";
import { del } from "../runner/harness.js";
import {
  expectedOf,
  kill,
  makeObjects,
  readStateFile,
  run,
  seed,
  sleep,
  snapshot,
  startFaultEnv,
  startRunner,
  stateKeys,
  verdict,
  waitFor,
  type FaultEnv,
  type Obj,
} from "./support.js";

let fx: FaultEnv;
beforeAll(async () => {
  // Atomic PUT fronts: a killed upload must not leave s3rver's torn file (see support.ts).
  fx = await startFaultEnv({ a: ["k-a", "m-a", "state"], b: ["k-b", "m-b", "s-b"] }, 4, { atomic: true });
});
afterAll(async () => fx?.stop());

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("scenario 4: SIGKILL mid-run (state in a directory)", () => {
  const stateDir = () => `${fx.env.dir}/state-k`;
  const cfg = () =>
    fx.config({
      endpoints: fx.endpoints(),
      state: { dir: stateDir() },
      requestTimeoutSeconds: 60,
      jobs: [{ name: "k", mode: "bisync", source: { endpoint: "a", bucket: "k-a" }, targets: [{ endpoint: "b", bucket: "k-b" }] }],
    });
  let all: Obj[] = [];

  it("killed during the listing: no state, the lock of the dead pid is taken over at once, the next run converges", async () => {
    const objs = makeObjects(200, "list/", 41);
    await seed(fx.clients.a, "k-a", objs);
    all = objs;
    const c = cfg();
    fx.proxies.a.reset();
    fx.proxies.a.setFaults([{ kinds: "LIST", bucket: "k-a", fault: { type: "stall" } }]);
    const r = startRunner(["run", "--config", c, "--json"]);
    await waitFor(() => fx.proxies.a.faultCounts().stall >= 1, 20_000, "the stalled LIST");
    const lockPath = `${stateDir()}/k.lock`;
    expect(existsSync(lockPath)).toBe(true);
    await kill(r);
    fx.proxies.a.setFaults([]);
    const lock = JSON.parse(readFileSync(lockPath, "utf8"));
    expect(lock).toMatchObject({ pid: r.child.pid, host: hostname() });
    expect(alive(lock.pid)).toBe(false);
    expect(readStateFile(stateDir(), "k")).toBeUndefined();
    expect(fx.proxies.b.counts().PUT).toBe(0);

    const next = await run(c);
    expect(next.code, next.stderr).toBe(0);
    expect(next.s).toMatchObject({ copied: 200, stateWritten: true });
    expect(existsSync(lockPath)).toBe(false);
    expect(stateKeys(readStateFile(stateDir(), "k")!.state)).toEqual(objs.map((o) => o.key).sort());
  });

  it("killed during transfers: the state is the previous one, byte for byte; the next run converges", async () => {
    const before = readStateFile(stateDir(), "k")!;
    const fresh = makeObjects(300, "xfer/", 42);
    await seed(fx.clients.a, "k-a", fresh);
    all = [...all, ...fresh];
    // Objects xfer/02xx never get an answer, so the run cannot finish before it is killed.
    fx.proxies.b.reset();
    fx.proxies.b.setFaults([{ kinds: "PUT", key: /^xfer\/02/, fault: { type: "stall" } }]);
    const r = startRunner(["run", "--config", cfg(), "--json"]);
    await waitFor(() => fx.proxies.b.counts().PUT >= 150, 30_000, "150 PUTs");
    await kill(r);
    fx.proxies.b.setFaults([]);
    const after = readStateFile(stateDir(), "k")!;
    expect(after.raw.equals(before.raw)).toBe(true);
    const onB = await snapshot(fx.clients.b, "k-b", "xfer/");
    expect(onB.size).toBeGreaterThan(0); // the kill really came mid-transfer
    expect(onB.size).toBeLessThan(300);

    const next = await run(cfg());
    expect(next.code, next.stderr).toBe(0);
    expect(next.s!.errors).toBe(0);
    const again = await run(cfg());
    expect(again.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0 });
    const [a, b] = await Promise.all([snapshot(fx.clients.a, "k-a"), snapshot(fx.clients.b, "k-b")]);
    expect(verdict([a, b], expectedOf(all))).toBe("nothing lost, nothing corrupted, converged");
  });

  it("killed at random moments, over and over (a kill storm): the state file always parses and the next clean run converges", async () => {
    const rng = seededRng(7);
    const results: string[] = [];
    let everWritten = readStateFile(stateDir(), "k") !== undefined;
    // Time one uninterrupted run with the same amount of change, then kill at 20%–120% of that time,
    // so that kills land in the listing, the transfers, the state write and after the end alike.
    await Promise.all([seed(fx.clients.a, "k-a", makeObjects(40, "storm-t/", 499)), seed(fx.clients.b, "k-b", makeObjects(40, "storm-u/", 599))]);
    all = [...all, ...makeObjects(40, "storm-t/", 499), ...makeObjects(40, "storm-u/", 599)];
    const t0 = Date.now();
    expect((await run(cfg())).code).toBe(0);
    const full = Date.now() - t0;
    let pending = 0;
    let lastKeys = readStateFile(stateDir(), "k")?.state.sections[0].records.length ?? 0;
    for (let i = 0; i < 8; i++) {
      // A change on each side every round, so every run has copies to make and a state to write.
      const ka = makeObjects(40, `storm-a${i}/`, 500 + i);
      const kb = makeObjects(40, `storm-b${i}/`, 600 + i);
      await Promise.all([seed(fx.clients.a, "k-a", ka), seed(fx.clients.b, "k-b", kb)]);
      all = [...all, ...ka, ...kb];
      const r = startRunner(["run", "--config", cfg(), "--json"]);
      // Killed rounds leave their changes for the next run: scale by the rounds of work pending.
      pending++;
      await sleep(Math.floor(full * pending * (0.2 + rng())));
      const res = await kill(r).catch(async () => r.done);
      const st = readStateFile(stateDir(), "k"); // throws if the file were half-written
      if (everWritten) expect(st, "a state once written never disappears").toBeDefined();
      everWritten ||= st !== undefined;
      const nowKeys = st ? stateKeys(st.state).length : 0;
      if (nowKeys !== lastKeys) pending = 0;
      lastKeys = nowKeys;
      const tmp = readdirSync(stateDir()).filter((f) => f.includes(".tmp-"));
      results.push(`${res.signal ?? `exit ${res.code}`}${tmp.length ? " (inside the state write)" : ""}: ${st ? stateKeys(st.state).length : "no"} state keys`);
    }
    console.log(`[scenario 4] kill storm (a full run takes ${full} ms): ${results.join("; ")}`);
    const next = await run(cfg());
    expect(next.code, next.stderr).toBe(0);
    const again = await run(cfg());
    expect(again.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0 });
    const [a, b] = await Promise.all([snapshot(fx.clients.a, "k-a"), snapshot(fx.clients.b, "k-b")]);
    expect(verdict([a, b], expectedOf(all))).toBe("nothing lost, nothing corrupted, converged");
  });
});

describe("scenario 4: SIGKILL during the state write (state in a bucket), lock expiry", () => {
  it("the state object is the old one; another host's lock blocks until it expires; then the run converges", async () => {
    const TTL = 6;
    const cfg = fx.config({
      endpoints: fx.endpoints(),
      state: { endpoint: "a", bucket: "state", prefix: "repl/" },
      lockTtlSeconds: TTL,
      jobs: [{ name: "m", mode: "bisync", source: { endpoint: "a", bucket: "m-a" }, targets: [{ endpoint: "b", bucket: "m-b" }] }],
    });
    const first = makeObjects(50, "one/", 43);
    await seed(fx.clients.a, "m-a", first);
    const ok = await run(cfg);
    expect(ok.code, ok.stderr).toBe(0);
    const getObj = async (key: string) => {
      const r = await fx.clients.a.send(new GetObjectCommand({ Bucket: "state", Key: key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    };
    const v1 = await getObj("repl/m.state.gz");
    expect(stateKeys(decodeState(v1))).toHaveLength(50);

    const second = makeObjects(30, "two/", 44);
    await seed(fx.clients.b, "m-b", second);
    await del(fx.clients.a, "m-a", first[0].key);
    // The state PUT never gets an answer: kill the runner while it writes the state.
    fx.proxies.a.reset();
    fx.proxies.a.setFaults([{ kinds: "PUT", bucket: "state", key: /\.state\.gz$/, fault: { type: "stall" } }]);
    const r = startRunner(["run", "--config", cfg, "--json"]);
    await waitFor(() => fx.proxies.a.faultCounts().stall >= 1, 30_000, "the state PUT");
    await kill(r);
    fx.proxies.a.setFaults([]);
    // The killed run had finished its transfers (it was writing the state).
    expect((await snapshot(fx.clients.a, "m-a", "two/")).size).toBe(30);
    const after = await getObj("repl/m.state.gz");
    expect(after.equals(v1)).toBe(true);
    expect(stateKeys(decodeState(after))).toHaveLength(50);

    // The killed run's lock is still in the bucket. Make it look like the lock of a VM that was
    // replaced (another host), keeping the expiry the killed run set: it can only expire.
    const lock = JSON.parse((await getObj("repl/m.lock")).toString("utf8"));
    expect(lock.pid).toBe(r.child.pid);
    lock.host = "replaced-vm.internal";
    await fx.clients.a.send(new PutObjectCommand({ Bucket: "state", Key: "repl/m.lock", Body: JSON.stringify(lock) }));
    expect(lock.expires).toBeGreaterThan(Date.now() + 1000);
    const blocked = await run(cfg);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr + blocked.stdout).toMatch(/locked by pid \d+ on replaced-vm\.internal/);
    expect(blocked.s).toMatchObject({ copied: 0, deleted: 0 });
    await sleep(Math.max(0, lock.expires - Date.now()) + 200);
    const recovered = await run(cfg);
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.s!.stateWritten).toBe(true);
    // The killed run's copies and delete were already done: both sides agree, so nothing is redone.
    expect(recovered.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0, errors: 0 });
    const again = await run(cfg);
    expect(again.s).toMatchObject({ copied: 0, deleted: 0, conflicts: 0 });
    const v2 = decodeState(await getObj("repl/m.state.gz"));
    expect(stateKeys(v2)).toHaveLength(79);
    const [a, b] = await Promise.all([snapshot(fx.clients.a, "m-a"), snapshot(fx.clients.b, "m-b")]);
    expect(verdict([a, b], expectedOf([...first.slice(1), ...second]))).toBe("nothing lost, nothing corrupted, converged");
  });
});
