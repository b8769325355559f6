// Scenario 2: a persistent failure on one key in a bisync with deletes on (Sclone's data-loss bug).
// Scenario 3: a truncated GET body mid-transfer never becomes a visible object on the target.
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { del, get, put } from "../runner/harness.js";
import {
  expectedOf,
  makeObjects,
  readStateFile,
  requestsOf,
  run,
  seed,
  sha256,
  snapshot,
  startFaultEnv,
  stateKeys,
  verdict,
  type FaultEnv,
  type Obj,
} from "./support.js";

let fx: FaultEnv;
beforeAll(async () => {
  fx = await startFaultEnv({ a: ["p-a", "t-src"], b: ["p-b", "t-dst"] }, 2);
});
afterAll(async () => fx?.stop());

describe("scenario 2: a persistent failure on one key in a bisync with deletes on", () => {
  it("exit 1, the other keys replicate, the state skips the key, no delete while it fails; then it replicates", async () => {
    const stateDir = `${fx.env.dir}/state-p`;
    const cfg = fx.config({
      endpoints: fx.endpoints(),
      state: { dir: stateDir },
      retries: 2,
      jobs: [{ name: "p", mode: "bisync", deletes: true, source: { endpoint: "a", bucket: "p-a" }, targets: [{ endpoint: "b", bucket: "p-b" }] }],
    });
    const base = makeObjects(20, "base/", 21);
    await seed(fx.clients.a, "p-a", base);
    const first = await run(cfg);
    expect(first.code).toBe(0);
    const stateBefore = readStateFile(stateDir, "p")!;
    expect(stateKeys(stateBefore.state)).toEqual(base.map((o) => o.key).sort());

    // Changes on both sides: new objects on A (one of them poisoned), new on B, two deleted on A.
    const newA: Obj[] = [...makeObjects(4, "new-a/", 22), { key: "poison/key.bin", body: Buffer.from("precious, only copy"), contentType: "text/plain", metadata: { seq: "p" } }];
    const newB = makeObjects(5, "new-b/", 23);
    await Promise.all([seed(fx.clients.a, "p-a", newA), seed(fx.clients.b, "p-b", newB)]);
    const gone = base.slice(0, 2);
    for (const o of gone) await del(fx.clients.a, "p-a", o.key);
    const mustExist = [...base.slice(2), ...newA, ...newB].map((o) => o.key);

    // Every GET of the poisoned key on A fails, on every attempt.
    fx.proxies.a.setFaults([{ kinds: "GET", key: /^poison\//, fault: { type: "status", status: 500 } }]);
    for (const round of [1, 2]) {
      for (const p of Object.values(fx.proxies)) p.reset();
      const r = await run(cfg);
      expect(r.code, `failed run ${round}`).toBe(1);
      expect(r.s).toMatchObject({ ok: false, errors: 1, stateWritten: false, deleted: 0, skipped: 2 });
      expect(r.s!.failures[0]).toMatchObject({ key: "poison/key.bin" });
      // No delete request of any kind reached either server.
      for (const p of Object.values(fx.proxies)) expect(requestsOf(p, ["DELETE", "DELETE_MULTI"])).toEqual([]);
      // The state file is the one of the last successful run, byte for byte: the key is not recorded.
      const st = readStateFile(stateDir, "p")!;
      expect(st.raw.equals(stateBefore.raw)).toBe(true);
      expect(stateKeys(st.state)).not.toContain("poison/key.bin");
      // Every key replicated except the poisoned one; nothing that existed was deleted.
      const [a, b] = await Promise.all([snapshot(fx.clients.a, "p-a"), snapshot(fx.clients.b, "p-b")]);
      for (const k of mustExist) expect(a.has(k), `A still has ${k}`).toBe(true);
      for (const k of [...base.slice(2), ...newA.slice(0, 4), ...newB].map((o) => o.key)) expect(b.has(k), `B has ${k}`).toBe(true);
      expect(b.has("poison/key.bin")).toBe(false);
      for (const o of gone) expect(b.has(o.key), `B keeps ${o.key} while a transfer fails`).toBe(true);
    }

    // The fault clears: the key replicates and only then do the two operator deletions propagate.
    fx.proxies.a.setFaults([]);
    for (const p of Object.values(fx.proxies)) p.reset();
    const ok = await run(cfg);
    expect(ok.code).toBe(0);
    expect(ok.s).toMatchObject({ copied: 1, deleted: 2, errors: 0, stateWritten: true });
    const deletedKeys = [...requestsOf(fx.proxies.a, ["DELETE", "DELETE_MULTI"]), ...requestsOf(fx.proxies.b, ["DELETE", "DELETE_MULTI"])];
    expect(deletedKeys.every((d) => d.kind === "DELETE_MULTI" || gone.some((g) => g.key === d.key))).toBe(true);
    expect(stateKeys(readStateFile(stateDir, "p")!.state)).toContain("poison/key.bin");
    const again = await run(cfg);
    expect(again.s).toMatchObject({ copied: 0, deleted: 0, errors: 0 });
    const [a, b] = await Promise.all([snapshot(fx.clients.a, "p-a"), snapshot(fx.clients.b, "p-b")]);
    expect(verdict([a, b], expectedOf([...base.slice(2), ...newA, ...newB]))).toBe("nothing lost, nothing corrupted, converged");
  });
});

describe("scenario 3: a truncated GET body mid-transfer", () => {
  // s3rver (not the runner) writes a PUT body straight into the object's file
  // (node_modules/s3rver/lib/stores/filesystem.js putObject: fs.createWriteStream(objectPath)), so a
  // PUT aborted mid-body leaves a torn object in place, with the previous version's metadata. AWS S3
  // and other real servers discard a PUT whose body is shorter than its Content-Length. This proves
  // it is the server, with no runner involved: the SDK's own PUT, aborted halfway.
  it("s3rver itself: a PUT aborted mid-body leaves a torn object visible (server limitation, no runner involved)", async () => {
    const c = fx.clients.b;
    await put(c, "t-dst", "torn.bin", Buffer.from("old version"));
    const body = new Readable({ read() {} });
    const ac = new AbortController();
    const sending = c.send(new PutObjectCommand({ Bucket: "t-dst", Key: "torn.bin", Body: body, ContentLength: 200_000 }), { abortSignal: ac.signal });
    body.push(Buffer.alloc(100_000, 7));
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    await expect(sending).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 300));
    const got = await get(c, "t-dst", "torn.bin");
    expect(got.body.length).toBeLessThanOrEqual(100_000); // neither the old version nor the new one
    expect(got.body.length).not.toBe("old version".length);
    await del(c, "t-dst", "torn.bin");
  });

  it("the runner never completes an upload from a truncated body; a multipart one never becomes visible; the next run converges", async () => {
    const small = randomBytes(300 * 1024);
    const big = randomBytes(12 * 1024 * 1024);
    const old = Buffer.from("previous version of small.bin");
    await put(fx.clients.a, "t-src", "small.bin", small, { ContentType: "application/x-small", Metadata: { v: "2" } });
    await put(fx.clients.a, "t-src", "big.bin", big, { ContentType: "application/x-big", Metadata: { v: "1" } });
    await put(fx.clients.b, "t-dst", "small.bin", old, { ContentType: "text/plain", Metadata: { v: "1" } });
    const cfg = fx.config({
      endpoints: fx.endpoints(),
      state: { dir: `${fx.env.dir}/state-t` },
      retries: 3,
      multipartThresholdMiB: 5,
      partSizeMiB: 5,
      jobs: [{ name: "t", mode: "sync", source: { endpoint: "a", bucket: "t-src" }, targets: [{ endpoint: "b", bucket: "t-dst" }] }],
    });

    // Watch the target while the runner works: record every listing entry of big.bin (multipart).
    const observed: { key: string; size: number }[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const r = await fx.clients.b.send(new ListObjectsV2Command({ Bucket: "t-dst" }));
        for (const o of r.Contents ?? []) observed.push({ key: o.Key!, size: o.Size ?? -1 });
        await new Promise((res) => setTimeout(res, 10));
      }
    })();

    // Every GET of either object is cut after 60% of its body.
    fx.proxies.a.setFaults([{ kinds: "GET", fault: { type: "truncate", fraction: 0.6 } }]);
    fx.proxies.b.reset();
    const r = await run(cfg);
    expect(r.code).toBe(1);
    expect(r.s).toMatchObject({ errors: 2, stateWritten: false, copied: 0 });
    const uploads = fx.proxies.b.log().filter((l) => l.kind !== "LIST");
    // The single PUTs of small.bin were all cut short by the runner (no answer from the server)...
    const smallPuts = uploads.filter((l) => l.kind === "PUT" && l.key === "small.bin");
    expect(smallPuts.length).toBeGreaterThan(0);
    expect(smallPuts.filter((l) => l.status !== undefined && l.status < 300)).toEqual([]);
    // ...and no multipart upload of big.bin was completed; each one was aborted.
    expect(uploads.filter((l) => l.kind === "MPU_COMPLETE")).toEqual([]);
    expect(uploads.filter((l) => l.kind === "MPU_ABORT").length).toBe(uploads.filter((l) => l.kind === "MPU_CREATE").length);
    const afterFail = await snapshot(fx.clients.b, "t-dst");
    expect(afterFail.has("big.bin")).toBe(false);
    // (small.bin on s3rver is now the torn file of the limitation above; on S3 it would be the old version.)
    watching = false;
    await watcher;
    expect(observed.length, "the watcher listed the target during the run").toBeGreaterThan(5);
    expect(observed.filter((o) => o.key === "big.bin"), "big.bin was visible on the target").toEqual([]);

    // Truncate only the first GET of each object: the runner's retry completes the transfer.
    fx.proxies.a.setFaults([
      { kinds: "GET", key: /^small/, first: 1, fault: { type: "truncate", fraction: 0.5 } },
      { kinds: "GET", key: /^big/, first: 1, fault: { type: "truncate", fraction: 0.9 } },
    ]);
    fx.proxies.a.reset();
    fx.proxies.b.reset();
    const ok = await run(cfg);
    expect(ok.code).toBe(0);
    expect(ok.s).toMatchObject({ copied: 2, errors: 0 });
    expect(fx.proxies.a.faultCounts().truncate).toBe(2);
    // The truncated first attempt was aborted, only the verified second one was completed. (A listing
    // DURING that completion can show a growing big.bin: s3rver assembles the parts in place, the same
    // server limitation as above; S3 makes a completed object visible at once.)
    const big2 = fx.proxies.b.log().filter((l) => l.key === "big.bin");
    expect(big2.filter((l) => l.kind === "MPU_CREATE").length).toBe(2);
    expect(big2.filter((l) => l.kind === "MPU_ABORT").length).toBe(1);
    expect(big2.filter((l) => l.kind === "MPU_COMPLETE").length).toBe(1);
    const again = await run(cfg);
    expect(again.s).toMatchObject({ copied: 0, errors: 0 });
    const [a, b] = await Promise.all([snapshot(fx.clients.a, "t-src"), snapshot(fx.clients.b, "t-dst")]);
    const expected = new Map([
      ["small.bin", { sha256: sha256(small), size: small.length, contentType: "application/x-small", metadata: { v: "2" } }],
      ["big.bin", { sha256: sha256(big), size: big.length, contentType: "application/x-big", metadata: { v: "1" } }],
    ]);
    expect(verdict([a, b], expected)).toBe("nothing lost, nothing corrupted, converged");
  });
});
