// The state file: gzip of a line format, sorted by key. Compact (no per-key JSON, about 15 bytes
// per key gzipped), parsed by hand.
//
//   replication-state 1
//   {"job":"…","mode":"bisync","source":"london/b1/","written":"2026-…"}        (meta, JSON)
//   #T {"target":"zurich/b2/"}                                                 (section per target)
//   <key>\t<aSize>\t<aEtag>\t<aMtime>\t<bSize>\t<bEtag>\t<bMtime>              (one line per key;
//                                                           a b field "=" means: same as a)
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
    let buf = "";
    let n = 0;
    for (const r of sec.records) {
      // "=" in the b fields means "same as a" (the common case: same content, same ETag).
      buf += `${escapeKey(r.key)}\t${r.aSize}\t${r.aEtag}\t${r.aMtime}\t${r.bSize === r.aSize ? "=" : r.bSize}\t${r.bEtag === r.aEtag ? "=" : r.bEtag}\t${r.bMtime === r.aMtime ? "=" : r.bMtime}\n`;
      if (++n === 65536) {
        chunks.push(Buffer.from(buf));
        buf = "";
        n = 0;
      }
    }
    if (buf) chunks.push(Buffer.from(buf));
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
  let pos = 0;
  const nextLine = (): string | undefined => {
    if (pos >= text.length) return undefined;
    let end = text.indexOf("\n", pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    pos = end + 1;
    return line;
  };
  if (nextLine() !== MAGIC) throw new StateFormatError("state file has an unknown format");
  const meta = JSON.parse(nextLine() ?? "") as StateMeta;
  const sections: StateSection[] = [];
  let cur: StateSection | undefined;
  let lineNo = 2;
  // Hand-rolled field parsing: ~1 s for 1,000,000 records instead of split() on every line.
  while (pos < text.length) {
    lineNo++;
    if (text.charCodeAt(pos) === 10) {
      pos++;
      continue;
    }
    if (text.startsWith("#T ", pos)) {
      const line = nextLine()!;
      cur = { target: (JSON.parse(line.slice(3)) as { target: string }).target, records: [] };
      sections.push(cur);
      continue;
    }
    if (!cur) throw new StateFormatError("state file record before any section");
    let end = text.indexOf("\n", pos);
    if (end < 0) end = text.length;
    const f: string[] = [];
    let start = pos;
    for (let n = 0; n < 6; n++) {
      const t = text.indexOf("\t", start);
      if (t < 0 || t > end) throw new StateFormatError(`state file line ${lineNo} is malformed`);
      f.push(text.slice(start, t));
      start = t + 1;
    }
    if (text.indexOf("\t", start) >= 0 && text.indexOf("\t", start) < end) throw new StateFormatError(`state file line ${lineNo} is malformed`);
    f.push(text.slice(start, end));
    pos = end + 1;
    const aSize = +f[1];
    const aMtime = +f[3];
    cur.records.push({
      key: unescapeKey(f[0]),
      aSize,
      aEtag: f[2],
      aMtime,
      bSize: f[4] === "=" ? aSize : +f[4],
      bEtag: f[5] === "=" ? f[2] : f[5],
      bMtime: f[6] === "=" ? aMtime : +f[6],
    });
  }
  return { meta, sections };
}
