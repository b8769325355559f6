// Output: JSON lines (--json) or human text, a live progress line on a TTY, and scrubbing of every
// known secret from anything printed.

export function fmtBytes(n: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${u[i]}`;
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "--:--";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}` : `${m}:${String(sec).padStart(2, "0")}`;
}

export class Output {
  private secrets: string[] = [];
  private progressShown = false;
  private timer: NodeJS.Timeout | undefined;
  private prog = { job: "", objects: 0, totalObjects: 0, bytes: 0, totalBytes: 0, started: 0 };
  /** --json event lines not yet written: batched per event-loop turn (one write for many objects). */
  private pending = "";
  private flushQueued = false;

  constructor(
    readonly json: boolean,
    private readonly tty: boolean = !!process.stderr.isTTY,
  ) {
    // Whatever ends the process (exit code, signal handler, uncaught error), batched lines go out.
    if (json) process.on("exit", () => this.flush());
  }

  addSecrets(s: string[]): void {
    this.secrets.push(...s.filter((x) => x.length >= 4));
  }

  scrub(s: string): string {
    let out = s;
    for (const sec of this.secrets) if (out.includes(sec)) out = out.split(sec).join("***");
    return out;
  }

  private write(stream: NodeJS.WriteStream, line: string): void {
    this.flush();
    this.clearProgress();
    stream.write(this.scrub(line) + "\n");
  }

  /** Writes the batched event lines now. */
  flush(): void {
    if (!this.pending) return;
    const p = this.pending;
    this.pending = "";
    process.stdout.write(p);
  }

  /** A machine event: printed only with --json. Lines of one event-loop turn go out in one write
   *  (a write per copied object cost a syscall each); order with every other line is kept. */
  event(o: Record<string, unknown>): void {
    if (!this.json) return;
    this.pending += this.scrub(JSON.stringify(o)) + "\n";
    if (this.pending.length >= 65536) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
  }

  /** A human line (stdout); with --json it becomes {"type":"log"}. */
  info(message: string, extra: Record<string, unknown> = {}): void {
    if (this.json) this.write(process.stdout, JSON.stringify({ type: "log", level: "info", message, ...extra }));
    else this.write(process.stdout, message);
  }

  warn(message: string, extra: Record<string, unknown> = {}): void {
    if (this.json) this.write(process.stdout, JSON.stringify({ type: "log", level: "warn", message, ...extra }));
    else this.write(process.stderr, `warning: ${message}`);
  }

  error(message: string, extra: Record<string, unknown> = {}): void {
    if (this.json) this.write(process.stdout, JSON.stringify({ type: "error", message, ...extra }));
    else this.write(process.stderr, `error: ${message}`);
  }

  // ------------------------------------------------------------ progress (TTY, human mode only)

  startProgress(job: string, totalObjects: number, totalBytes: number): void {
    this.prog = { job, objects: 0, totalObjects, bytes: 0, totalBytes, started: Date.now() };
    if (this.json || !this.tty) return;
    this.timer = setInterval(() => this.render(), 250);
    this.timer.unref();
  }

  addBytes(n: number): void {
    this.prog.bytes += n;
  }

  addObject(): void {
    this.prog.objects++;
  }

  stopProgress(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clearProgress();
  }

  private render(): void {
    const p = this.prog;
    const secs = (Date.now() - p.started) / 1000;
    const rate = secs > 0 ? p.bytes / secs : 0;
    const objRate = secs > 0 ? p.objects / secs : 0;
    const remainingBytes = Math.max(0, p.totalBytes - p.bytes);
    const remainingObjs = Math.max(0, p.totalObjects - p.objects);
    const eta = rate > 0 && remainingBytes > 0 ? remainingBytes / rate : objRate > 0 ? remainingObjs / objRate : NaN;
    const line = `${p.job}: ${p.objects}/${p.totalObjects} objects, ${fmtBytes(p.bytes)}/${fmtBytes(p.totalBytes)}, ${fmtBytes(rate)}/s, ETA ${fmtDuration(eta)}`;
    process.stderr.write(`\r\x1b[2K${line}`);
    this.progressShown = true;
  }

  private clearProgress(): void {
    if (this.progressShown) {
      process.stderr.write("\r\x1b[2K");
      this.progressShown = false;
    }
  }
}
