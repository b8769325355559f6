// Tiny terminal formatting: colours (only on a TTY, honouring NO_COLOR) and plain-text tables.

const useColor = (): boolean =>
  Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";

const wrap = (code: string) => (s: string) => (useColor() ? `\x1b[${code}m${s}\x1b[0m` : s);
export const bold = wrap("1");
export const dim = wrap("2");
export const green = wrap("32");
export const red = wrap("31");
export const yellow = wrap("33");
export const cyan = wrap("36");

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
export const visibleLength = (s: string): number => [...s.replace(ANSI, "")].length;

export type Align = "left" | "right";

/** Render rows as an aligned text table with a header rule. Cells may contain ANSI colours. */
export function table(header: string[], rows: string[][], align: Align[] = []): string {
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ""))));
  const cell = (s: string, i: number) => {
    const pad = " ".repeat(widths[i] - visibleLength(s));
    return align[i] === "right" ? pad + s : s + pad;
  };
  const line = (r: string[]) => "  " + r.map(cell).join("  ").trimEnd();
  const rule = "  " + widths.map((w) => "─".repeat(w)).join("  ");
  return [line(header.map((h) => bold(h))), rule, ...rows.map(line)].join("\n");
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function formatSeconds(s: number): string {
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}

export function heading(n: number | string, title: string): string {
  return `\n${bold(cyan(`── ${n}. ${title} `))}${dim("─".repeat(Math.max(3, 72 - visibleLength(title))))}`;
}
