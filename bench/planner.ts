// Planner/diff at scale: synthetic listings of N keys per side plus a saved bisync state of N keys,
// through the runner's own pure code (state codec + decideBisync). Bundled by bench/main.ts and
// run in a child process so that its peak RSS is measured alone:
//   node planner.mjs '{"keys":1000000}'
// Prints one JSON line: {keys, genMs, loadMs, decideMs, saveMs, actions, same, stateBytes}.
//
// The data: N keys under 1,000 "directories"; since the last run 1% changed on the source, 1% on
// the target (disjoint), 0.1% deleted on the source, 0.1% new on each side. Strings are built
// separately per side (as XML parsing would), so nothing is shared that would not be in a real run.
import { decideBisync } from "../runner/decide/bisync.js";
import { sortEntries, type Entry, type StateRecord } from "../runner/decide/types.js";
import { decodeState, encodeState } from "../runner/state/codec.js";

const { keys: N } = JSON.parse(process.argv[2] ?? '{"keys":1000000}') as { keys: number };

const hex = (x: number, salt: number) =>
  (((Math.imul(x + 1, 0x9e3779b1) ^ salt) >>> 0).toString(16).padStart(8, "0") +
    ((Math.imul(x + 7, 0x85ebca6b) ^ salt) >>> 0).toString(16).padStart(8, "0")).repeat(2);
const keyOf = (i: number) => `data/${String(i % 1000).padStart(4, "0")}/file-${String(i).padStart(8, "0")}.bin`;
const T0 = 1_700_000_000_000;

const now = () => Number(process.hrtime.bigint()) / 1e6;
let t = now();

// The state after the last run: both sides equal.
const records: StateRecord[] = [];
for (let i = 0; i < N; i++) {
  const etag = hex(i, 0);
  records.push({ key: keyOf(i), aSize: 4096 + (i % 100), aEtag: etag, aMtime: T0 + i, bSize: 4096 + (i % 100), bEtag: hex(i, 0), bMtime: T0 + i + 5 });
}
sortEntries(records);
const stateBuf = encodeState({
  meta: { job: "bench", mode: "bisync", source: "a/src/", written: new Date(T0).toISOString() },
  sections: [{ target: "b/dst/", records }],
});
records.length = 0;

// Today's listings.
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

// Measured: load the state, sort the listings, decide, save the next state.
t = now();
const state = decodeState(stateBuf);
const loadMs = now() - t;
t = now();
sortEntries(a);
sortEntries(b);
const plan = decideBisync(a, b, state.sections[0].records, { deletes: true, conflict: "newer" });
const decideMs = now() - t;
t = now();
const next = encodeState({ meta: state.meta, sections: [{ target: "b/dst/", records: plan.same }] });
const saveMs = now() - t;

process.stdout.write(
  JSON.stringify({ keys: N, genMs, loadMs, decideMs, saveMs, actions: plan.actions.length, same: plan.same.length, stateBytes: stateBuf.length, nextBytes: next.length }) + "\n",
);
