// npx tsx bench/synthetic-s3-cpu.ts [KEYS] [--delimiter]
//
// Server-side CPU per listed key of the synthetic S3 endpoint (test/support/synthetic-s3.ts):
// the server runs as its own process (spawnSyntheticS3) and a plain client loop here lists a
// KEYS-key bucket (default 1,000,000) end to end with ListObjectsV2 (1000 keys a page,
// continuation tokens, keep-alive). The server's CPU is its user+system time from
// /proc/<pid>/stat (Linux, clock ticks) read before and after the listing, so it includes the
// HTTP layer, XML building and the MD5 of every body. Then as many one-key pages give the
// per-request share (HTTP, parsing, seek), reported separately.
import { readFileSync } from "node:fs";
import { spawnSyntheticS3 } from "../test/support/synthetic-s3.js";

const keys = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

function cpuUs(pid: number): number {
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * TICK_US;
}

const server = await spawnSyntheticS3({ buckets: { b: { keys, changeEvery: 10, deleteEvery: 1000, deleteOffset: 7 } } });
try {
  // Warm up (JIT, first connection), then measure.
  await (await fetch(`${server.endpoint}/b?list-type=2`)).text();
  const cpu0 = cpuUs(server.pid);
  const t0 = performance.now();
  let listed = 0;
  let pages = 0;
  let token: string | undefined;
  do {
    const q = new URLSearchParams({ "list-type": "2", ...(token ? { "continuation-token": token } : {}) });
    const xml = await (await fetch(`${server.endpoint}/b?${q}`)).text();
    for (let at = xml.indexOf("<Key>"); at >= 0; at = xml.indexOf("<Key>", at + 5)) listed++;
    token = /<NextContinuationToken>([^<]*)</.exec(xml)?.[1];
    pages++;
  } while (token);
  const wallMs = performance.now() - t0;
  const serverUs = cpuUs(server.pid) - cpu0;
  // The per-request share: as many one-key pages (same requests, ~no per-key work).
  const cpu1 = cpuUs(server.pid);
  for (let k = 0; k < pages; k++) await (await fetch(`${server.endpoint}/b?list-type=2&max-keys=1&start-after=data/000${k % 900}`)).text();
  const perRequestUs = (cpuUs(server.pid) - cpu1) / pages;
  console.log(
    JSON.stringify({
      keys,
      listed,
      pages,
      wallMs: Math.round(wallMs),
      serverCpuMs: Math.round(serverUs / 1000),
      serverCpuUsPerKey: Number((serverUs / listed).toFixed(3)),
      serverCpuUsPerRequest: Math.round(perRequestUs),
      serverCpuUsPerKeyWithoutRequests: Number(((serverUs - pages * perRequestUs) / listed).toFixed(3)),
      counts: await server.counts(),
    }),
  );
} finally {
  await server.stop();
}
