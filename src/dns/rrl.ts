// Response rate limiting (RRL) for UDP answers from our own zones, the design
// of BIND, Knot and NSD: a token bucket per (source prefix, response class),
// where the class is the answer's name and type, NXDOMAIN by zone, or errors.
// Over the rate, every `slip`-th limited response goes out as TC=1 with the
// question only (a real client retries over TCP, RFC 7766 §5), the rest are
// dropped. Pure: the caller passes the clock, the source and the bytes.
//
// The hot path (under the limit) allocates nothing: the class is a 32-bit hash
// of the wire bytes, and the buckets live in typed arrays of a fixed size.

/** What to do with one response. */
export const RRL_SEND = 0;
export const RRL_SLIP = 1;
export const RRL_DROP = 2;
export type RrlVerdict = typeof RRL_SEND | typeof RRL_SLIP | typeof RRL_DROP;

/** Response classes, mixed into the bucket key. */
export const RRL_ANSWER = 1;
export const RRL_NODATA = 2;
export const RRL_NXDOMAIN = 3;
export const RRL_ERROR = 4;

export interface RrlSettings {
  /** Responses a second per bucket; also the burst a bucket holds. 0 = off. */
  readonly responsesPerSecond: number;
  /** Every slip-th limited response is sent as TC=1; 0 = drop them all, 1 = slip them all. */
  readonly slip: number;
  /** Seconds a flood's debt lasts: a bucket goes down to -rate × window, so limiting ends that long after the flood. */
  readonly windowSeconds: number;
  /** IPv4 source prefix one bucket covers (BIND, Knot and NSD use 24). */
  readonly ipv4PrefixLength: number;
}

/** Slots in the table; a VLAN has at most a few thousand (client, class) pairs active at once. */
const TABLE_SIZE = 8192;
/** Slots tried per key; when all are taken, the one untouched the longest is reused. */
const PROBES = 8;

export class RateLimiter {
  readonly settings: RrlSettings;
  private readonly rate: number;
  private readonly floor: number;
  private readonly mask: number;
  private readonly prefixes = new Uint32Array(TABLE_SIZE);
  private readonly classes = new Uint32Array(TABLE_SIZE);
  private readonly balance = new Float64Array(TABLE_SIZE);
  /** Last update (ms, caller's clock); 0 = empty slot. */
  private readonly stamp = new Float64Array(TABLE_SIZE);
  private readonly limitedCount = new Uint32Array(TABLE_SIZE);

  constructor(settings: RrlSettings) {
    this.settings = settings;
    this.rate = settings.responsesPerSecond;
    this.floor = -settings.responsesPerSecond * Math.max(1, settings.windowSeconds);
    const len = Math.min(32, Math.max(0, settings.ipv4PrefixLength | 0));
    this.mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  }

  get enabled(): boolean {
    return this.rate > 0;
  }

  /**
   * One response of class key `classKey` (from `responseClass`) to IPv4 `ip`
   * (host order) at `nowMs` (any clock that only moves forward, > 0).
   */
  decide(ip: number, classKey: number, nowMs: number): RrlVerdict {
    const rate = this.rate;
    if (rate <= 0) return RRL_SEND;
    const prefix = (ip & this.mask) >>> 0;
    let slot = mix(prefix, classKey) & (TABLE_SIZE - 1);
    let found = -1;
    let oldest = slot;
    for (let i = 0; i < PROBES; i++, slot = (slot + 1) & (TABLE_SIZE - 1)) {
      const s = this.stamp[slot]!;
      if (s !== 0 && this.prefixes[slot] === prefix && this.classes[slot] === classKey) {
        found = slot;
        break;
      }
      if (s < this.stamp[oldest]!) oldest = slot;
    }
    let b: number;
    if (found < 0) {
      found = oldest;
      this.prefixes[found] = prefix;
      this.classes[found] = classKey;
      this.limitedCount[found] = 0;
      b = rate;
    } else {
      const elapsed = nowMs - this.stamp[found]!;
      b = this.balance[found]! + (elapsed > 0 ? (elapsed * rate) / 1000 : 0);
      if (b > rate) b = rate;
    }
    this.stamp[found] = nowMs;
    b -= 1;
    if (b >= 0) {
      this.balance[found] = b;
      return RRL_SEND;
    }
    this.balance[found] = b < this.floor ? this.floor : b;
    const slip = this.settings.slip;
    if (slip <= 0) return RRL_DROP;
    const n = ++this.limitedCount[found]!;
    return n % slip === 0 ? RRL_SLIP : RRL_DROP;
  }
}

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a over a wire name from `at`, lower-cased, labels followed through pointers; bounded, never throws. */
function hashName(msg: Uint8Array, at: number, h: number): number {
  let p = at;
  for (let hops = 0, steps = 0; p >= 0 && p < msg.length && steps < 128; steps++) {
    const l = msg[p]!;
    if (l === 0) break;
    if ((l & 0xc0) === 0xc0) {
      if (p + 1 >= msg.length || ++hops > 16) break;
      p = ((l & 0x3f) << 8) | msg[p + 1]!;
      continue;
    }
    const end = Math.min(msg.length, p + 1 + l);
    for (let i = p; i < end; i++) {
      const c = msg[i]!;
      h = Math.imul(h ^ (c >= 0x41 && c <= 0x5a ? c | 0x20 : c), 0x01000193);
    }
    p = end;
  }
  return h >>> 0;
}

/** Offset after a wire name at `p` (a pointer ends it), or -1. */
function skipName(msg: Uint8Array, p: number): number {
  for (let steps = 0; p < msg.length && steps < 128; steps++) {
    const l = msg[p]!;
    if (l === 0) return p + 1;
    if ((l & 0xc0) === 0xc0) return p + 2 <= msg.length ? p + 2 : -1;
    p += 1 + l;
  }
  return -1;
}

/**
 * The bucket class of one response: errors by rcode alone; NXDOMAIN by the
 * zone (the owner of the SOA in the authority section), so random names under
 * one zone share a bucket; answers and NODATA by name and type. `qEnd` is the
 * offset after the question (-1 when there was none).
 */
export function responseClass(response: Uint8Array, qEnd: number, rcode: number, nodata: boolean): number {
  const FNV = 0x811c9dc5;
  if (rcode !== 0 && rcode !== 3) return Math.imul(RRL_ERROR, 0x01000193) ^ rcode;
  if (qEnd < 16 || qEnd > response.length) return Math.imul(RRL_ERROR, 0x01000193) ^ rcode;
  if (rcode === 3) {
    let p = qEnd;
    const ancount = (response[6]! << 8) | response[7]!;
    const nscount = (response[8]! << 8) | response[9]!;
    for (let i = 0; i < ancount && p >= 0; i++) {
      p = skipName(response, p);
      if (p < 0 || p + 10 > response.length) p = -1;
      else p += 10 + ((response[p + 8]! << 8) | response[p + 9]!);
    }
    // No SOA to read: the question's name stands in.
    const at = nscount > 0 && p >= 0 && p < response.length ? p : 12;
    return hashName(response, at, Math.imul(FNV ^ RRL_NXDOMAIN, 0x01000193));
  }
  const qtype = (response[qEnd - 4]! << 8) | response[qEnd - 3]!;
  const h = Math.imul(FNV ^ (nodata ? RRL_NODATA : RRL_ANSWER), 0x01000193) ^ qtype;
  return hashName(response, 12, Math.imul(h, 0x01000193));
}

/**
 * The slipped response: the header and question of `response` with TC=1 and
 * no records, written into `out` (at least `qEnd` or 12 bytes). Returns its length.
 */
export function writeSlip(response: Uint8Array, qEnd: number, out: Uint8Array): number {
  const len = qEnd >= 12 && qEnd <= response.length ? qEnd : 12;
  for (let i = 0; i < len; i++) out[i] = response[i]!;
  out[2]! |= 0x02;
  out[4] = 0;
  out[5] = len > 12 ? 1 : 0;
  out.fill(0, 6, 12);
  return len;
}
