import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { Cron } from "croner";
import { cronToOnCalendar, longestGapSeconds, ScheduleError } from "../../components/deploy/schedule.js";

const haveSystemd = (() => {
  try {
    execFileSync("systemd-analyze", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** The next `n` elapse times systemd computes for a calendar spec, in ms since epoch. */
function systemdNext(spec: string, n: number, base: string): number[] {
  const out = execFileSync("systemd-analyze", ["calendar", `--iterations=${n}`, `--base-time=${base}`, spec], {
    encoding: "utf8",
    env: { ...process.env, TZ: "UTC" },
  });
  return [...out.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => Date.parse(`${m[1].replace(" ", "T")}Z`));
}

function cronNext(expr: string, n: number, base: string): number[] {
  const c = new Cron(expr, { timezone: "UTC", paused: true });
  const out: number[] = [];
  let d: Date | null = new Date(Date.parse(base.replace(" ", "T").replace(" UTC", "Z")));
  for (let i = 0; i < n && d; i++) {
    d = c.nextRun(d);
    if (d) out.push(d.getTime());
  }
  return out;
}

describe("cronToOnCalendar", () => {
  it.each([
    ["*/15 * * * *", ["*-*-* *:00/15:00 UTC"]],
    ["0 * * * *", ["*-*-* *:00:00 UTC"]],
    ["30 2 * * *", ["*-*-* 02:30:00 UTC"]],
    ["0 9-17 * * MON-FRI", ["Mon,Tue,Wed,Thu,Fri *-*-* 09,10,11,12,13,14,15,16,17:00:00 UTC"]],
    ["0 0 1,15 * *", ["*-*-01,15 00:00:00 UTC"]],
    ["0 0 1 * 0", ["*-*-01 00:00:00 UTC", "Sun *-*-* 00:00:00 UTC"]],
    ["5 4 * * 7", ["Sun *-*-* 04:05:00 UTC"]],
    ["0 */6 * JAN,jul *", ["*-01,07-* 00/6:00:00 UTC"]],
    ["@daily", ["*-*-* 00:00:00 UTC"]],
    ["@weekly", ["Sun *-*-* 00:00:00 UTC"]],
    ["0-10/5 * * * *", ["*-*-* *:00,05,10:00 UTC"]],
  ])("%s → %j", (cron, expected) => {
    expect(cronToOnCalendar(cron).onCalendar).toEqual(expected);
  });

  it.each(["* * *", "0 0 L * *", "0 0 1W * *", "0 0 * * 1#2", "0 0 ? * *", "@reboot", "60 * * * *", "0 0 * * * *", "5-1 * * * *"])(
    "rejects %s naming runner.schedule",
    (cron) => {
      expect(() => cronToOnCalendar(cron)).toThrow(ScheduleError);
      expect(() => cronToOnCalendar(cron)).toThrow(/runner\.schedule/);
    },
  );

  it("computes the longest gap between runs", () => {
    expect(longestGapSeconds("*/15 * * * *")).toBe(900);
    expect(longestGapSeconds("0 9-17 * * MON-FRI")).toBe((24 * 3 - 8) * 3600); // Fri 17:00 → Mon 09:00
    expect(longestGapSeconds("@daily")).toBe(86400);
  });

  it.skipIf(!haveSystemd)("systemd fires at exactly the times cron does (systemd-analyze calendar)", () => {
    const base = "2025-01-30 23:59:00 UTC";
    for (const cron of ["*/15 * * * *", "0 9-17 * * MON-FRI", "0 0 1 * 0", "0 */6 * JAN,jul *", "7 3 */2 * *", "0-10/5 1 * * *", "0 12 * * 1-5/2", "@monthly"]) {
      const specs = cronToOnCalendar(cron).onCalendar;
      const merged = [...new Set(specs.flatMap((s) => systemdNext(s, 40, base)))].sort((a, b) => a - b).slice(0, 40);
      expect(merged, cron).toEqual(cronNext(cron, 40, base));
    }
  });
});
