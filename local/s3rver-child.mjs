// One S3-compatible server process (s3rver) for local demos, tests and benchmarks.
// Usage: node local/s3rver-child.mjs --dir DIR [--port N] [--address 127.0.0.1] [--bucket NAME]...
// Prints one JSON line {"ready":true,"port":N} on stdout once listening. Stops on SIGTERM/SIGINT.
// Run it with NODE_OPTIONS=--openssl-legacy-provider: s3rver's continuation tokens use DES.
import S3rver from "s3rver";
import { mkdirSync } from "node:fs";

const args = process.argv.slice(2);
let dir = "";
let port = 0;
let address = "127.0.0.1";
const buckets = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const v = args[++i];
  if (a === "--dir") dir = v;
  else if (a === "--port") port = Number(v);
  else if (a === "--address") address = v;
  else if (a === "--bucket") buckets.push(v);
  else {
    console.error(`s3rver-child: unknown argument ${a}`);
    process.exit(2);
  }
}
if (!dir) {
  console.error("s3rver-child: --dir is required");
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const server = new S3rver({
  port,
  address,
  directory: dir,
  silent: true,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port: actual } = await server.run();
process.stdout.write(JSON.stringify({ ready: true, port: actual }) + "\n");
const stop = () => server.close().then(() => process.exit(0), () => process.exit(1));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
