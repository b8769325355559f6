// State codec at scale: the encoder writes in 1 MiB chunks (one gzip member each) and the decoder
// parses bytes in place. These lock in the format (identical text to a plain line-by-line writer),
// chunk boundaries, and reading a single-member file written by earlier versions.
import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sortEntries, type StateRecord } from "../../runner/decide/types.js";
import { decodeState, encodeState } from "../../runner/state/codec.js";

const meta = { job: "j", mode: "bisync", source: "a/b/", written: "2026-01-01T00:00:00.000Z" };

/** The documented line format, written the simple way. */
function reference(records: StateRecord[]): string {
  const esc = (k: string) => {
    let o = k.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
    if (o.startsWith("#")) o = "\\" + o;
    return o;
  };
  let s = `replication-state 1\n${JSON.stringify(meta)}\n#T {"target":"t/"}\n`;
  for (const r of records) {
    s += `${esc(r.key)}\t${r.aSize}\t${r.aEtag}\t${r.aMtime}\t${r.bSize === r.aSize ? "=" : r.bSize}\t${r.bEtag === r.aEtag ? "=" : r.bEtag}\t${r.bMtime === r.aMtime ? "=" : r.bMtime}\n`;
  }
  return s;
}

function records(n: number): StateRecord[] {
  const out: StateRecord[] = [];
  for (let i = 0; i < n; i++) {
    const etag = (i * 2654435761).toString(16).padStart(32, "0").slice(-32);
    const key = `dir-${i % 97}/${"x".repeat(i % 300)}/ü😀 #\t\\${i}`;
    const size = i % 7 === 0 ? 5 * 1024 ** 4 + i : 4096 + (i % 13);
    out.push({ key, aSize: size, aEtag: etag, aMtime: 1_700_000_000_000 + i, bSize: i % 11 === 0 ? size + 1 : size, bEtag: i % 5 === 0 ? `${etag.slice(0, 8)}-3` : etag, bMtime: i % 3 === 0 ? 1_700_000_000_000 + i : 1_700_000_000_500 + i });
  }
  return sortEntries(out);
}

describe("state codec at scale", () => {
  it("writes exactly the documented text across many 1 MiB chunks and reads it back", () => {
    const rs = records(20_000); // ≈ 4 MB of text: several gzip members
    const buf = encodeState({ meta, sections: [{ target: "t/", records: rs }] });
    expect(gunzipSync(buf).toString("utf8")).toBe(reference(rs));
    const back = decodeState(buf);
    expect(back.meta).toEqual(meta);
    expect(back.sections[0].records).toEqual(rs);
  });

  it("reads a single-member state written by earlier versions", () => {
    const rs = records(3_000);
    const back = decodeState(gzipSync(reference(rs)));
    expect(back.sections[0].records).toEqual(rs);
  });
});
