// The clock we serve: the system's wall clock, read with sub-millisecond resolution.
//
// Date.now() is whole milliseconds: too coarse for NTP (chrony would see up to
// 1 ms of noise). performance.now() has nanosecond-ish resolution but is
// monotonic (CLOCK_MONOTONIC): it follows the kernel's slewing of the wall
// clock but not a step (`date -s`, another daemon's makestep). So we anchor
// performance.now() to the wall clock at a millisecond edge of Date.now(), which
// pins the anchor to well under a microsecond (performance.timeOrigin, Node's own
// anchor, was 10-30 µs off from it here), and re-check it every second:
// if the wall clock was stepped we re-anchor. Each good check is our
// "reference time": the last moment our clock was known to agree with the system.
import { performance } from 'node:perf_hooks';

/** How far (ms) beyond Date.now()'s own millisecond the served clock may be before we call it a step. */
export const STEP_TOLERANCE_MS = 0.5;

export interface ClockSource {
  /** Unix milliseconds, fractional. */
  nowMs(): number;
}

export class AnchoredClock implements ClockSource {
  private wallAtAnchor = 0;
  private perfAtAnchor = 0;
  /** Unix ms of the last check that found the clock agreeing with the system clock. */
  lastVerifiedMs = 0;
  /**
   * How far off the anchor may be, ms: half the window in which the
   * millisecond tick was seen. Tens of nanoseconds on a quiet machine; a
   * preempted spin (a busy or oversubscribed host) widens it.
   */
  uncertaintyMs = 0;

  constructor() {
    this.anchor();
  }

  nowMs(): number {
    return this.wallAtAnchor + (performance.now() - this.perfAtAnchor);
  }

  /**
   * Compares with Date.now(); re-anchors on a step. Returns the step in ms
   * (served minus system) when one was found, else null.
   */
  verify(): number | null {
    // Bracket the Date.now() read between two of ours; a bracket wider than
    // 0.1 ms means we were preempted in between, and the comparison would lie.
    let a = 0;
    let wall = 0;
    let b = Infinity;
    for (let i = 0; i < 5 && b - a > 0.1; i++) {
      a = this.nowMs();
      wall = Date.now();
      b = this.nowMs();
    }
    // Date.now() truncates: with no step, a - 1 < wall <= b.
    if (wall > b + STEP_TOLERANCE_MS || wall < a - 1 - STEP_TOLERANCE_MS) {
      this.anchor();
      return (a + b) / 2 - wall;
    }
    this.lastVerifiedMs = b;
    return null;
  }

  /**
   * Spins until Date.now() ticks and takes that instant as the anchor; of a few
   * ticks, keeps the one seen through the narrowest window (a few tens of ns
   * unless the thread was preempted). At most ~5 ms of spinning.
   */
  private anchor(): void {
    let bestWindow = Infinity;
    for (let tick = 0; tick < 4 && bestWindow > 0.005; tick++) {
      const start = Date.now();
      let before = performance.now();
      let after = before;
      let wall = start;
      const limit = before + 1.5;
      while (wall === start && after < limit) {
        before = after;
        wall = Date.now();
        after = performance.now();
      }
      // The new millisecond began somewhere between `before` and `after`.
      if (wall !== start && after - before < bestWindow) {
        bestWindow = after - before;
        this.wallAtAnchor = wall;
        this.perfAtAnchor = (before + after) / 2;
      }
    }
    if (bestWindow === Infinity) {
      // No tick seen (a very busy machine): Node's own anchor is good to a few tens of microseconds.
      this.perfAtAnchor = performance.now();
      this.wallAtAnchor = performance.timeOrigin + this.perfAtAnchor;
      this.uncertaintyMs = 0.05;
    } else {
      this.uncertaintyMs = bestWindow / 2;
    }
    this.lastVerifiedMs = this.nowMs();
  }
}

/**
 * The clock's precision as RFC 5905 wants it (§7.3: log2 seconds, rounded up):
 * the smallest step seen between successive readings, which also covers the
 * double-precision granularity of a Unix-milliseconds value (about 0.24 µs today).
 */
export function measurePrecision(clock: ClockSource, samples = 2000): number {
  let smallest = Infinity;
  let prev = clock.nowMs();
  for (let i = 0; i < samples; i++) {
    const next = clock.nowMs();
    const d = next - prev;
    if (d > 0 && d < smallest) smallest = d;
    prev = next;
  }
  if (!Number.isFinite(smallest)) return -10; // a frozen clock: claim about a millisecond
  return Math.max(-32, Math.min(0, Math.ceil(Math.log2(smallest / 1000))));
}
