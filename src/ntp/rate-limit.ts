// Optional per-client rate limit (off by default): a token bucket per source
// address, like chrony's `ratelimit`. A client over its rate gets at most one
// RATE kiss-o'-death per interval (RFC 5905 §7.4) and silence otherwise.
// Time is passed in, so this stays testable without a clock.
import type { RateVerdict } from './responder.js';

export interface RateLimitSettings {
  /** Average seconds allowed between requests from one address over the long run. */
  readonly intervalSeconds: number;
  /** Requests a client may send back to back before the average applies (iburst sends 4 to 8). */
  readonly burst: number;
  /** At most this many addresses are remembered; the least recently seen is forgotten first. */
  readonly maxClients: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { intervalSeconds: 2, burst: 8, maxClients: 10_000 };

interface Bucket {
  tokens: number;
  lastMs: number;
  lastKissMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly settings: RateLimitSettings = DEFAULT_RATE_LIMIT) {}

  get size(): number {
    return this.buckets.size;
  }

  check(address: string, nowMs: number): RateVerdict {
    const { intervalSeconds, burst, maxClients } = this.settings;
    let b = this.buckets.get(address);
    if (b) {
      this.buckets.delete(address); // re-insert below: Map order is then least recently seen first
      b.tokens = Math.min(burst, b.tokens + Math.max(0, nowMs - b.lastMs) / (intervalSeconds * 1000));
      b.lastMs = nowMs;
    } else {
      b = { tokens: burst, lastMs: nowMs, lastKissMs: -Infinity };
      while (this.buckets.size >= maxClients) {
        const oldest = this.buckets.keys().next().value;
        if (oldest === undefined) break;
        this.buckets.delete(oldest);
      }
    }
    this.buckets.set(address, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 'allow';
    }
    if (nowMs - b.lastKissMs >= intervalSeconds * 1000) {
      b.lastKissMs = nowMs;
      return 'kiss';
    }
    return 'drop';
  }
}
