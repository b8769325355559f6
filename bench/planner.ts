// Planner/diff at scale: synthetic listings of N keys per side plus a saved bisync state of N keys,
// through the runner's own pure code (state codec + decideBisync). Bundled by bench/main.ts and
// run in a child process so that its peak RSS is measured alone:
//   node planner.mjs '{"keys":1000000,"state":"FILE","gen":true}'   writes the prior state file
//   node planner.mjs '{"keys":1000000,"state":"FILE"}'              the measured run
// The measured run prints one JSON line: {keys, genMs, loadMs, decideMs, saveMs, actions, same,
// stateBytes}. Generating the prior state happens in its own process, so the measured process
// holds only what a real run holds: the state file, both listings, the plan and the next state.
//
// The data: N keys under 1,000 "directories"; since the last run 1% changed on the source, 1% on
// the target (disjoint), 0.1% deleted on the source, 0.1% new on each side. Strings are built
// separately per side (as XML parsing would), so nothing is shared that would not be in a real run.
import { decideBisync } from "../runner/decide/bisync.js";
import { sortEntries, type Entry, type StateRecord } from "../runner/decide/types.js";
import { decodeState, encodeState } from "../runner/state/codec.js";
import { readFileSync, writeFileSync } from "node:fs";

const { keys: N, state: stateFile, gen } = JSON.parse(process.argv[2] ?? "{}") as { keys: number; state: string; gen?: boolean };

// Flat strings, as a parser's substrings would be (template literals and repeat() would leave
// cons strings that every comparison flattens again).
const scratch = Buffer.alloc(64);
const hex = (x: number, salt: number) => {
  scratch.writeUInt32BE((Math.imul(x + 1, 0x9e3779b1) ^ salt) >>> 0, 0);
  scratch.writeUInt32BE((Math.imul(x + 7, 0x85ebca6b) ^ salt) >>> 0, 4);
  scratch.writeUInt32BE((Math.imul(x + 13, 0xc2b2ae35) ^ salt) >>> 0, 8);
  scratch.writeUInt32BE((Math.imul(x + 29, 0x27d4eb2f) ^ salt) >>> 0, 12);
  return scratch.toString("hex", 0, 16);
};
const keyOf = (i: number) => {
  const n = scratch.write(`data/${String(i % 1000).padStart(4, "0")}/file-${String(i).padStart(8, "0")}.bin`, 16, "latin1");
  return scratch.toString("latin1", 16, 16 + n);
};
const T0 = 1_700_000_000_000;
const now = () => Number(process.hrtime.bigint()) / 1e6;

if (gen) {
  // The state after the last run: both sides equal.
  const records: StateRecord[] = [];
  for (let i = 0; i < N; i++) {
    const size = 4096 + (i % 100);
    records.push({ key: keyOf(i), aSize: size, aEtag: hex(i, 0), aMtime: T0 + i, bSize: size, bEtag: hex(i, 0), bMtime: T0 + i + 5 });
  }
  sortEntries(records);
  writeFileSync(
    stateFile,
    encodeState({ meta: { job: "bench", mode: "bisync", source: "a/src/", written: new Date(T0).toISOString() }, sections: [{ target: "b/dst/", records }] }),
  );
  process.exit(0);
}

// Today's listings (in a real run they come from ListObjectsV2 pages).
let t = now();
const a: Entry[] = [];
const b: Entry[] = [];
for (let i = 0; i < N; i++) {
  const size = 4096 + (i % 100);
  const deletedOnA = i % 1000 === 3;
  const changedOnA = i % 100 === 1;
  const changedOnB = i % 100 === 2;
  if (!deletedOnA) a.push({ key: keyOf(i), size, etag: changedOnA ? hex(i, 1) : hex(i, 0), mtime: T0 + i + (changedOnA ? 86_400_000 : 0) });
  b.push({ key: keyOf(i), size, etag: changedOnB ? hex(i, 2) : hex(i, 0), mtime: T0 + i + 5 + (changedOnB ? 86_400_000 : 0) });
}
for (let i = 0; i < N / 1000; i++) {
  a.push({ key: `new-a/${i}`, size: 10, etag: hex(i, 3), mtime: T0 });
  b.push({ key: `new-b/${i}`, size: 10, etag: hex(i, 4), mtime: T0 });
}
const genMs = now() - t;
const mb = () => Math.round(process.memoryUsage().rss / 1024 ** 2);
const rss: Record<string, number> = { listings: mb() };

// Measured: load the state file, sort the listings, decide, encode the next state.
t = now();
const stateBuf = readFileSync(stateFile);
const state = decodeState(stateBuf);
const loadMs = now() - t;
rss.state = mb();
t = now();
sortEntries(a);
sortEntries(b);
const plan = decideBisync(a, b, state.sections[0].records, { deletes: true, conflict: "newer" });
const decideMs = now() - t;
rss.plan = mb();
t = now();
const next = encodeState({ meta: state.meta, sections: [{ target: "b/dst/", records: plan.same }] });
const saveMs = now() - t;
rss.saved = mb();

process.stdout.write(
  JSON.stringify({ keys: N, genMs, loadMs, decideMs, saveMs, actions: plan.actions.length, same: plan.same.length, stateBytes: stateBuf.length, nextBytes: next.length, rssMb: rss }) + "\n",
);
