// The state file: gzip of a line format, sorted by key. Compact (no per-key JSON), streams well and
// loads 1,000,000 keys in about a second.
//
//   replication-state 1
//   {"job":"…","mode":"bisync","source":"london/b1/","written":"2026-…"}        (meta, JSON)
//   #T {"target":"zurich/b2/"}                                                 (section per target)
//   <key>\t<aSize>\t<aEtag>\t<aMtime>\t<bSize>\t<bEtag>\t<bMtime>              (one line per key)
//
// Keys escape `\` `\t` `\n` `\r` as `\\` `\t` `\n` `\r`, and a leading `#` as `\#`.
import { gunzipSync, gzipSync } from "node:zlib";
import type { StateRecord } from "../decide/types.js";

export interface StateMeta {
  job: string;
  mode: string;
  source: string;
  written: string;
}

export interface StateSection {
  target: string;
  records: StateRecord[];
}

export interface StateFile {
  meta: StateMeta;
  sections: StateSection[];
}

const MAGIC = "replication-state 1";
const NEEDS_ESCAPE = /[\\\t\n\r]|^#/;

function escapeKey(k: string): string {
  if (!NEEDS_ESCAPE.test(k)) return k;
  let out = k.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
  if (out.startsWith("#")) out = "\\" + out;
  return out;
}

function unescapeKey(k: string): string {
  if (!k.includes("\\")) return k;
  return k.replace(/\\(.)/g, (_, c: string) => (c === "t" ? "\t" : c === "n" ? "\n" : c === "r" ? "\r" : c));
}

export function encodeState(s: StateFile): Buffer {
  const chunks: Buffer[] = [Buffer.from(`${MAGIC}\n${JSON.stringify(s.meta)}\n`)];
  for (const sec of s.sections) {
    chunks.push(Buffer.from(`#T ${JSON.stringify({ target: sec.target })}\n`));
    const lines: string[] = [];
    for (const r of sec.records) {
      lines.push(`${escapeKey(r.key)}\t${r.aSize}\t${r.aEtag}\t${r.aMtime}\t${r.bSize}\t${r.bEtag}\t${r.bMtime}\n`);
      if (lines.length === 65536) {
        chunks.push(Buffer.from(lines.join("")));
        lines.length = 0;
      }
    }
    if (lines.length) chunks.push(Buffer.from(lines.join("")));
  }
  return gzipSync(Buffer.concat(chunks), { level: 1 });
}

export class StateFormatError extends Error {}

export function decodeState(buf: Buffer): StateFile {
  let text: string;
  try {
    text = gunzipSync(buf).toString("utf8");
  } catch {
    throw new StateFormatError("state file is not gzip");
  }
  const lines = text.split("\n");
  if (lines[0] !== MAGIC) throw new StateFormatError("state file has an unknown format");
  const meta = JSON.parse(lines[1]) as StateMeta;
  const sections: StateSection[] = [];
  let cur: StateSection | undefined;
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    if (line.startsWith("#T ")) {
      cur = { target: (JSON.parse(line.slice(3)) as { target: string }).target, records: [] };
      sections.push(cur);
      continue;
    }
    if (!cur) throw new StateFormatError("state file record before any section");
    const f = line.split("\t");
    if (f.length !== 7) throw new StateFormatError(`state file line ${i + 1} is malformed`);
    cur.records.push({ key: unescapeKey(f[0]), aSize: +f[1], aEtag: f[2], aMtime: +f[3], bSize: +f[4], bEtag: f[5], bMtime: +f[6] });
  }
  return { meta, sections };
}
