// runner/store/sdk.ts: the AWS SDK is loaded on first use. A listing through the direct client
// with static keys (every no-op between S3-compatible endpoints) must not load it; the first use
// of `ep.client` must, and then give the same listing through the SDK. Its own test file: vitest
// gives each file a fresh module registry, so `sdkLoaded()` starts false here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listPage } from "../../runner/store/list.js";
import { makeEndpoint, zeroCounts, type Location } from "../../runner/store/s3.js";
import { sdkLoaded } from "../../runner/store/sdk.js";
import { startSyntheticS3, type SyntheticServer } from "../support/synthetic-s3.js";

let server: SyntheticServer;
beforeAll(async () => {
  server = await startSyntheticS3({ buckets: { b: { keys: 2_500 } } });
});
afterAll(async () => {
  await server?.stop();
});

function location(direct: boolean): Location {
  const ep = makeEndpoint("synth", { endpoint: server.endpoint, region: "us-east-1", forcePathStyle: true }, { accessKeyId: "AKIDSYNTH", secretAccessKey: "synthetic-secret" }, { maxSockets: 8, requestTimeoutMs: 20_000, counts: zeroCounts(), direct });
  return { ep, bucket: "b", prefix: "" };
}

async function allKeys(loc: Location): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const p = await listPage(loc.ep, loc.bucket, { continuationToken: token }, 3);
    for (const o of p.objects) keys.push(o.key);
    token = p.isTruncated ? p.nextContinuationToken : undefined;
  } while (token);
  return keys;
}

describe("the SDK is loaded on first use", () => {
  it("a signed listing through the direct client with static keys does not load it; the first ep.client does, and lists the same", async () => {
    const direct = location(true);
    expect(direct.ep.direct).toBeDefined();
    const viaDirect = await allKeys(direct);
    expect(viaDirect).toHaveLength(2_500);
    expect(sdkLoaded()).toBe(false);

    const viaSdk = await allKeys(location(false));
    expect(sdkLoaded()).toBe(true);
    expect(viaSdk).toEqual(viaDirect);
    expect(direct.ep.client.config.forcePathStyle).toBe(true);
  });
});
