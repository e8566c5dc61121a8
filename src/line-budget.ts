// How many log lines a flood may write: per client and in all, per second.
// A DISCOVER flood wrote 40 MB of log in 75 s and an INFORM flood from random
// MACs 142 MB in 20 s (issue 20): each client's first lines in a second are
// written, then only counted, and past a bound for all clients together
// nothing more is written that second; the second's end sums up what was not
// written in one line. Pure: the caller passes the clock.

/** What one second left unwritten. */
export interface LinesNotWritten {
  /** Lines counted instead of written. */
  lines: number;
  /** Distinct clients among them (those past the tracking bound count as one). */
  clients: number;
  /** The clients with most lines not written, most first (at most 5). */
  top: Array<{ client: string; lines: number }>;
}

/** Clients tracked per second; beyond it (random MACs) lines are counted under one total. */
const MAX_TRACKED = 10_000;

export class LineBudget {
  private windowStart = -Infinity;
  /** Lines per client this second. */
  private readonly perClient = new Map<string, number>();
  /** Lines not written per client this second. */
  private readonly notWritten = new Map<string, number>();
  private written = 0;
  /** Lines of clients past the tracking bound (not written). */
  private untracked = 0;

  constructor(
    private readonly perClientPerSecond: number,
    private readonly perSecond: number,
  ) {}

  /**
   * Whether this client's next line is written. A new second first ends the
   * last one: its summary is passed to `summary` when lines went unwritten.
   */
  admit(client: string, now: number, summary: (s: LinesNotWritten) => void): boolean {
    if (now - this.windowStart >= 1000) this.roll(now, summary);
    const n = this.perClient.get(client);
    if (n === undefined && this.perClient.size >= MAX_TRACKED) {
      this.untracked++;
      return false;
    }
    this.perClient.set(client, (n ?? 0) + 1);
    if ((n ?? 0) < this.perClientPerSecond && this.written < this.perSecond) {
      this.written++;
      return true;
    }
    this.notWritten.set(client, (this.notWritten.get(client) ?? 0) + 1);
    return false;
  }

  /** Ends the current second (also from a timer, so a flood that stops is still summed up). */
  roll(now: number, summary: (s: LinesNotWritten) => void): void {
    if (this.notWritten.size > 0 || this.untracked > 0) {
      let lines = this.untracked;
      for (const n of this.notWritten.values()) lines += n;
      const top = [...this.notWritten].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([client, n]) => ({ client, lines: n }));
      summary({ lines, clients: this.notWritten.size + (this.untracked > 0 ? 1 : 0), top });
    }
    this.windowStart = now;
    this.perClient.clear();
    this.notWritten.clear();
    this.written = 0;
    this.untracked = 0;
  }
}
