// Streaming multipart transfers, the truncation guard, and --schedule.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BodyGuard } from "../../runner/store/s3.js";
import { endpointsOf, get, put, RUNNER, runRunner, startEnv, writeConfig, type Env } from "./harness.js";

let env: Env;
beforeAll(async () => {
  env = await startEnv({ london: ["big", "tick"], zurich: ["big", "tick"] });
});
afterAll(async () => {
  await env?.stop();
});

describe("streaming", () => {
  it("streams a large object through a multipart upload (bounded memory), preserving bytes and metadata, and converges", async () => {
    const { london: A, zurich: B } = env.clients;
    const data = randomBytes(12 * 1024 * 1024 + 123);
    await put(A, "big", "large.bin", data, { ContentType: "application/x-test", Metadata: { kind: "big" } });
    await put(A, "big", "small.bin", "tiny");
    const cfg = writeConfig(env, {
      endpoints: endpointsOf(env),
      state: { dir: join(env.dir, "state-big") },
      multipartThresholdMiB: 5,
      partSizeMiB: 5,
      jobs: [{ name: "big", mode: "copy", source: { endpoint: "london", bucket: "big" }, targets: [{ endpoint: "zurich", bucket: "big" }] }],
    });
    const r = await runRunner(["run", "--config", cfg, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summaries[0]).toMatchObject({ copied: 2, bytes: data.length + 4 });
    expect(r.summaries[0].requests).toMatchObject({ GET: 2, PUT: 1, MPU_CREATE: 1, MPU_PART: 3, MPU_COMPLETE: 1, HEAD: 0 });
    expect(r.lines.find((l) => l.type === "copy" && l.key === "large.bin")?.method).toBe("multipart");
    const g = await get(B, "big", "large.bin");
    expect(createHash("sha256").update(g.body).digest("hex")).toBe(createHash("sha256").update(data).digest("hex"));
    expect(g.ContentType).toBe("application/x-test");
    expect(g.Metadata?.kind).toBe("big");
    expect(g.Metadata?.md5chksum).toBe(createHash("md5").update(data).digest("base64"));
    // (s3rver gives multipart uploads the whole-content MD5 as ETag, so ETags happen to match here;
    // the state's source→target ETag pair, unit-tested in decide.test.ts, covers real providers.)
    const again = await runRunner(["run", "--config", cfg, "--json"]);
    expect(again.summaries[0]).toMatchObject({ copied: 0 });
    expect(again.summaries[0].requests).toMatchObject({ GET: 0, PUT: 0, MPU_CREATE: 0 });
  });

  it("the body guard rejects a truncated or corrupted body before its last bytes are passed on", async () => {
    const body = Buffer.from("0123456789".repeat(1000));
    const md5 = createHash("md5").update(body).digest("hex");
    const collect = async (src: Buffer[], expected: number, hash?: string) => {
      const got: Buffer[] = [];
      const g = new BodyGuard(expected, hash);
      g.on("data", (c: Buffer) => got.push(c));
      let err: Error | undefined;
      await pipeline(Readable.from(src), g).catch((e: Error) => (err = e));
      return { bytes: Buffer.concat(got).length, err };
    };
    const ok = await collect([body.subarray(0, 4000), body.subarray(4000)], body.length, md5);
    expect(ok).toEqual({ bytes: body.length, err: undefined });
    const short = await collect([body.subarray(0, 4000), body.subarray(4000, 9000)], body.length, md5);
    expect(short.err?.message).toMatch(/truncated body: got 9000 of 10000/);
    expect(short.bytes).toBeLessThan(9000);
    const corrupt = Buffer.from(body);
    corrupt[5000] ^= 1;
    const bad = await collect([corrupt.subarray(0, 6000), corrupt.subarray(6000)], body.length, md5);
    expect(bad.err?.message).toMatch(/MD5 does not match/);
    expect(bad.bytes).toBeLessThan(body.length);
  });
});

describe("--schedule", () => {
  it("runs on the cron schedule, logs each run, and stops cleanly on SIGTERM", async () => {
    const { london: A, zurich: B } = env.clients;
    await put(A, "tick", "t1", "x");
    const cfg = writeConfig(env, {
      endpoints: endpointsOf(env),
      state: { dir: join(env.dir, "state-tick") },
      jobs: [{ name: "tick", mode: "copy", source: { endpoint: "london", bucket: "tick" }, targets: [{ endpoint: "zurich", bucket: "tick" }] }],
    });
    const child = spawn(process.execPath, [RUNNER, "run", "--config", cfg, "--json", "--schedule", "* * * * * *"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (out.match(/"run-end"/g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 100));
    await put(A, "tick", "t2", "later");
    const n = (out.match(/"run-end"/g) ?? []).length;
    while (Date.now() < deadline && (out.match(/"run-end"/g) ?? []).length < n + 2) await new Promise((r) => setTimeout(r, 100));
    const code = await new Promise<number | null>((res) => {
      child.on("close", (c) => res(c));
      child.kill("SIGTERM");
    });
    expect(code).toBe(0);
    const lines = out.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: "log", event: "scheduled" });
    const summaries = lines.filter((l) => l.type === "summary");
    expect(summaries.length).toBeGreaterThanOrEqual(3);
    expect(summaries[0].copied).toBe(1);
    expect(summaries.reduce((s, x) => s + x.copied, 0)).toBe(2);
    expect((await get(B, "tick", "t2")).text).toBe("later");
  });
});
