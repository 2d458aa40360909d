// Progress of long work: a one-line bar on a terminal, plain log lines otherwise, nothing when quiet.

export interface ProgressOptions {
  /** Total number of units (steps, images); the ETA needs it. */
  total: number;
  /** What a unit is, for the rate (e.g. "img" gives "img/s"). */
  unit?: string;
  /** Units per rate count (e.g. the batch size when counting steps but reporting images). */
  unitsPerStep?: number;
  quiet?: boolean;
  /** Minimum seconds between plain log lines when not on a terminal. */
  logEverySeconds?: number;
  /** Defaults to whether stderr is a terminal. */
  terminal?: boolean;
  write?: (line: string) => void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, "0")}m`
    : m > 0
    ? `${m}m${String(r).padStart(2, "0")}s`
    : `${r}s`;
}

export class Progress {
  readonly #o: Required<Omit<ProgressOptions, "write" | "terminal">> & { terminal: boolean };
  readonly #write: (line: string) => void;
  readonly #start = performance.now();
  #startDone = 0;
  #lastLog = 0;
  #done = 0;
  #open = false;

  constructor(opts: ProgressOptions) {
    this.#o = {
      unit: "it",
      unitsPerStep: 1,
      quiet: false,
      logEverySeconds: 10,
      terminal: opts.terminal ?? Deno.stderr.isTerminal(),
      ...opts,
    };
    const encoder = new TextEncoder();
    this.#write = opts.write ?? ((line) => Deno.stderr.writeSync(encoder.encode(line)));
  }

  /** Marks where a resumed run started, so that the rate counts only this run's work. */
  resumeAt(done: number): void {
    this.#done = this.#startDone = done;
  }

  /** Reports `done` units finished, with a short status (e.g. losses). */
  update(done: number, status = ""): void {
    this.#done = done;
    if (this.#o.quiet) return;
    const now = performance.now();
    const seconds = (now - this.#start) / 1000;
    const rate = ((done - this.#startDone) * this.#o.unitsPerStep) / Math.max(seconds, 1e-9);
    const remaining = ((this.#o.total - done) * this.#o.unitsPerStep) / rate;
    const pct = this.#o.total > 0 ? (100 * done) / this.#o.total : 100;
    const stats = `${done}/${this.#o.total} ${rate.toFixed(1)} ${this.#o.unit}/s ETA ${
      formatDuration(remaining)
    }`;
    if (this.#o.terminal) {
      const width = 24, filled = Math.round((width * pct) / 100);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      this.#write(`\r\x1b[2K${bar} ${pct.toFixed(0).padStart(3)}% ${stats} ${status}`);
      this.#open = true;
    } else if (now - this.#lastLog >= this.#o.logEverySeconds * 1000 || done === this.#o.total) {
      this.#lastLog = now;
      this.#write(`${new Date().toISOString()} ${stats} ${status}\n`);
    }
  }

  /** Prints a message on its own line without breaking the bar. */
  log(message: string): void {
    if (this.#o.quiet) return;
    if (this.#open) this.#write("\r\x1b[2K");
    this.#write(`${message}\n`);
    if (this.#open) this.#open = false;
  }

  /** Ends the bar (a terminal's line is completed; a log already has its last line). */
  finish(status = ""): void {
    if (this.#o.terminal) this.update(this.#done, status);
    if (this.#open && !this.#o.quiet) this.#write("\n");
    this.#open = false;
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.#start) / 1000;
  }
}
