// Packet fuzzing shared by the hardening tests: a seeded PRNG (every failure
// prints its seed and can be replayed with PROVLAB_FUZZ_SEED), corpora of
// valid DHCP and NTP packets, and structured mutations of them (field values
// at their edges, option lengths that lie, options repeated, overload, cuts
// and extensions) mixed with plain random bytes.
//
// Budgets: `npm test` runs a few seconds' worth; `npm run fuzz` sets
// PROVLAB_FUZZ_PACKETS=1000000 (per daemon) for the long run.
import type dgram from 'node:dgram';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/log.js';
import { emptyMessage, encodeDhcpMessage, MessageType, type DhcpMessage } from '../../src/wire/dhcp-message.js';

/** Packets per daemon: PROVLAB_FUZZ_PACKETS, or the short default for `npm test`. */
export function budget(shortDefault: number): number {
  const env = Number(process.env.PROVLAB_FUZZ_PACKETS);
  return Number.isInteger(env) && env > 0 ? env : shortDefault;
}

export function seedFromEnv(): number {
  const env = Number(process.env.PROVLAB_FUZZ_SEED);
  return Number.isInteger(env) && env > 0 ? env >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0 || 1;
}

/** xorshift32: fast, deterministic, good enough to pick mutations. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** Byte values that sit on an edge somewhere in a DHCP or NTP parser. */
const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 0x10, 0x1f, 0x20, 0x23, 0x34, 0x35, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xe3, 0xfe, 0xff];

const enc = (s: string) => new TextEncoder().encode(s);

function mac(rng: Rng): Uint8Array {
  const b = new Uint8Array(16);
  b.set([0x02, rng.u32() & 0xff, rng.u32() & 0xff, rng.u32() & 0xff, rng.u32() & 0xff, rng.u32() & 0xff]);
  return b;
}

export interface DhcpCorpusOptions {
  /** Relay addresses inside the served subnet. */
  relays: string[];
  /** Addresses inside the served subnet (ciaddr, requested address). */
  inSubnet: string[];
  /** A random address of the pool, so REQUESTs for free addresses get ACKed (and journaled). */
  poolAddress: (rng: Rng) => string;
  serverId: string;
}

/** Valid client messages of every type, as phones and relays send them. */
export function dhcpSeeds(rng: Rng, o: DhcpCorpusOptions): DhcpMessage[] {
  const ipb = (ip: string) => Uint8Array.from(ip.split('.').map(Number));
  const base = (type: number, relayed: boolean): DhcpMessage => {
    const m = emptyMessage();
    m.op = 1;
    m.hops = relayed ? 1 : 0;
    m.xid = rng.u32();
    m.giaddr = relayed ? rng.pick(o.relays) : '0.0.0.0';
    m.chaddr = mac(rng);
    m.options.set(53, Uint8Array.of(type));
    return m;
  };
  const lpe = (m: DhcpMessage): DhcpMessage => {
    m.options.set(60, enc('MS-UC-Client'));
    m.options.set(55, Uint8Array.of(1, 3, 6, 15, 119, 42, 4, 43, 120));
    m.options.set(61, Uint8Array.of(1, ...m.chaddr.subarray(0, 6)));
    m.options.set(12, enc(`cx600-${rng.int(1000)}`));
    return m;
  };
  const out: DhcpMessage[] = [];
  for (const relayed of [true, false]) {
    out.push(lpe(base(MessageType.DISCOVER, relayed)));
    out.push(base(MessageType.DISCOVER, relayed));
    const sel = lpe(base(MessageType.REQUEST, relayed));
    sel.options.set(54, ipb(o.serverId));
    sel.options.set(50, ipb(rng.chance(0.7) ? o.poolAddress(rng) : rng.pick(o.inSubnet)));
    out.push(sel);
    const reboot = lpe(base(MessageType.REQUEST, relayed));
    reboot.options.set(50, ipb(rng.chance(0.7) ? o.poolAddress(rng) : rng.pick(o.inSubnet)));
    out.push(reboot);
    const renew = base(MessageType.REQUEST, relayed);
    renew.ciaddr = rng.pick(o.inSubnet);
    out.push(renew);
    const inform = lpe(base(MessageType.INFORM, relayed));
    inform.ciaddr = rng.pick(o.inSubnet);
    out.push(inform);
    const decline = base(MessageType.DECLINE, relayed);
    decline.options.set(50, ipb(rng.pick(o.inSubnet)));
    decline.options.set(54, ipb(o.serverId));
    out.push(decline);
    const release = base(MessageType.RELEASE, relayed);
    release.ciaddr = rng.pick(o.inSubnet);
    release.options.set(54, ipb(o.serverId));
    out.push(release);
  }
  // A relayed request with option 82 and a small maximum message size.
  const agent = lpe(base(MessageType.DISCOVER, true));
  agent.options.set(57, Uint8Array.of(0x02, 0x40));
  agent.options.set(82, Uint8Array.of(1, 4, 0, 0, 0, 1, 2, 6, 0, 1, 2, 3, 4, 5));
  out.push(agent);
  // A long option (RFC 3396: split into instances on the wire).
  const long = lpe(base(MessageType.DISCOVER, true));
  long.options.set(77, rng.bytes(300));
  out.push(long);
  return out;
}

export function encodeSeed(m: DhcpMessage): Uint8Array {
  const e = encodeDhcpMessage(m, { maxSize: 1500 });
  if (!e.ok) throw new Error(`seed does not encode: ${e.error.message}`);
  return e.value;
}

/** Offsets of the option TLVs in an encoded message (from 240), for mutations that aim at them. */
function optionOffsets(b: Uint8Array): number[] {
  const out: number[] = [];
  let p = 240;
  while (p < b.length) {
    const c = b[p]!;
    if (c === 0) {
      p++;
      continue;
    }
    if (c === 255 || p + 1 >= b.length) break;
    out.push(p);
    p += 2 + b[p + 1]!;
  }
  return out;
}

/** One structured mutation (or a few) of a valid DHCP message. */
export function mutateDhcp(rng: Rng, seed: Uint8Array): Uint8Array {
  let b = Uint8Array.from(seed);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const opts = optionOffsets(b);
    switch (rng.int(16)) {
      case 0: // bit flip anywhere
        b[rng.int(b.length)]! ^= 1 << rng.int(8);
        break;
      case 1: // an interesting byte anywhere
        b[rng.int(b.length)] = rng.pick(INTERESTING);
        break;
      case 2: // header fields: op, htype, hlen (over 16!), hops
        if (b.length >= 4) b[rng.int(4)] = rng.pick(INTERESTING);
        break;
      case 3: // an option length that lies
        if (opts.length) b[rng.pick(opts) + 1] = rng.pick(INTERESTING);
        break;
      case 4: // an option code changed (to 52 overload, 53 type, pad, end, ...)
        if (opts.length) b[rng.pick(opts)] = rng.pick([0, 52, 53, 54, 55, 57, 60, 61, 82, 119, 120, 255, rng.int(256)]);
        break;
      case 5: // message type value
        for (const p of opts) if (b[p] === 53 && b[p + 1]! >= 1) b[p + 2] = rng.int(12);
        break;
      case 6: // truncate
        b = b.subarray(0, rng.int(b.length + 1));
        break;
      case 7: { // extend with random bytes or a random option
        const extra = rng.chance(0.5) ? rng.bytes(rng.int(300)) : Uint8Array.of(rng.int(256), rng.int(256), ...rng.bytes(rng.int(260)));
        const n = new Uint8Array(b.length + extra.length);
        n.set(b);
        n.set(extra, b.length);
        b = n;
        break;
      }
      case 8: { // option 52 overload into file/sname, with random contents there
        const n = Uint8Array.from(b);
        const end = opts.length ? opts[opts.length - 1]! + 2 + b[opts[opts.length - 1]! + 1]! : 240;
        if (end + 3 < n.length) n.set([52, 1, rng.pick([0, 1, 2, 3, 4, 255])], Math.min(end, n.length - 3));
        if (n.length >= 236) n.set(rng.bytes(rng.int(128)), 108);
        if (n.length >= 108 && rng.chance(0.5)) n.set(rng.bytes(rng.int(64)), 44);
        b = n;
        break;
      }
      case 9: { // an option repeated (RFC 3396 joins them)
        if (!opts.length) break;
        const p = rng.pick(opts);
        const tlv = b.subarray(p, Math.min(b.length, p + 2 + b[p + 1]!));
        const n = new Uint8Array(b.length + tlv.length);
        n.set(b.subarray(0, p));
        n.set(tlv, p);
        n.set(b.subarray(p), p + tlv.length);
        b = n;
        break;
      }
      case 10: // the magic cookie
        if (b.length >= 240) b[236 + rng.int(4)] = rng.int(256);
        break;
      case 11: // addresses: giaddr/ciaddr/yiaddr/siaddr random
        if (b.length >= 28) b.set(rng.bytes(4), rng.pick([12, 16, 20, 24]));
        break;
      case 12: // chaddr random (a new client) or all zero
        if (b.length >= 44) b.set(rng.chance(0.8) ? rng.bytes(16) : new Uint8Array(16), 28);
        break;
      case 13: // flags: broadcast bit and junk
        if (b.length >= 12) {
          b[10] = rng.pick([0, 0x80, 0xff]);
          b[11] = rng.int(256);
        }
        break;
      case 14: // a run of random bytes over the options
        if (b.length > 240) {
          const n = Math.min(b.length - 240, 1 + rng.int(40));
          b.set(rng.bytes(n), 240 + rng.int(b.length - 240 - n + 1));
        }
        break;
      default: // remove the end option
        for (let i = b.length - 1; i >= 240; i--) if (b[i] === 255) {
          b[i] = 0;
          break;
        }
    }
  }
  return b;
}

/** Random bytes of a DHCP-ish size, half of them with a valid cookie so the decoder gets past it. */
export function randomDhcp(rng: Rng): Uint8Array {
  const len = rng.chance(0.2) ? rng.int(300) : 236 + rng.int(1300);
  const b = rng.bytes(len);
  if (len >= 240 && rng.chance(0.5)) b.set([0x63, 0x82, 0x53, 0x63], 236);
  if (len > 0 && rng.chance(0.5)) b[0] = 1;
  return b;
}

// ---------------------------------------------------------------------------
// NTP

/** Valid client requests: v1..v4, chronyd-like (zeros) and ntpdig-like (LI 3, poll 0), with a MAC or extension after the header. */
export function ntpSeeds(rng: Rng): Uint8Array[] {
  const req = (first: number, extra = 0): Uint8Array => {
    const b = new Uint8Array(48 + extra);
    b[0] = first;
    b[2] = 6;
    b.set(rng.bytes(8), 40);
    if (extra) b.set(rng.bytes(extra), 48);
    return b;
  };
  return [req(0x23), req(0xe3), req(0x1b), req(0x13), req(0x0b), req(0x23, 20), req(0x23, 24), req(0x23, 68)];
}

export function mutateNtp(rng: Rng, seed: Uint8Array): Uint8Array {
  let b = Uint8Array.from(seed);
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    switch (rng.int(8)) {
      case 0: // LI/VN/mode byte: every version and mode
        b[0] = (rng.int(4) << 6) | (rng.int(8) << 3) | rng.int(8);
        break;
      case 1:
        b[rng.int(b.length)] = rng.pick(INTERESTING);
        break;
      case 2:
        b[rng.int(b.length)]! ^= 1 << rng.int(8);
        break;
      case 3: // poll and precision at their edges
        b[2] = rng.pick(INTERESTING);
        b[3] = rng.pick(INTERESTING);
        break;
      case 4: // transmit timestamp: zero, all ones, random
        if (b.length >= 48) b.set(rng.pick([new Uint8Array(8), new Uint8Array(8).fill(255), rng.bytes(8)]), 40);
        break;
      case 5:
        b = b.subarray(0, rng.int(b.length + 1));
        break;
      case 6: {
        const n = new Uint8Array(b.length + rng.int(500));
        n.set(b);
        n.set(rng.bytes(n.length - b.length), b.length);
        b = n;
        break;
      }
      default:
        b.set(rng.bytes(Math.min(b.length, 1 + rng.int(16))), rng.int(Math.max(1, b.length - 16)));
    }
  }
  return b;
}

export function randomNtp(rng: Rng): Uint8Array {
  return rng.bytes(rng.chance(0.3) ? rng.int(48) : 48 + rng.int(200));
}

/**
 * Paces a sender by what the daemon has read: waits until `received()` is within
 * `slack` of `sent`, or until it stops moving for `stallMs` (datagrams the kernel
 * dropped never arrive, so waiting for them would only stall the run).
 */
export async function catchUp(received: () => number, sent: number, slack = 32, stallMs = 20): Promise<void> {
  let last = received();
  let since = Date.now();
  while (received() < sent - slack) {
    await new Promise((r) => setImmediate(r));
    const now = received();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since > stallMs) {
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Watching a daemon under fuzz

type Teardown = { teardown(fn: () => unknown): void };

/**
 * What must stay empty after a daemon took the fuzz: unhandled rejections
 * (listened for until teardown) and error/fatal lines from `logger` (the first
 * 20, cut at 1000 characters), which the caller hands to the daemon.
 */
export function watchDaemon(t: Teardown, level: pino.Level): { logger: Logger; errors: string[]; rejections: unknown[] } {
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => rejections.push(r);
  process.on('unhandledRejection', onRejection);
  t.teardown(() => process.off('unhandledRejection', onRejection));
  const errors: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      const s = chunk.toString();
      if ((s.includes('"level":50') || s.includes('"level":60')) && errors.length < 20) errors.push(s.slice(0, 1000));
      done();
    },
  });
  return { logger: pino({ level }, stream), errors, rejections };
}

/** Sends one datagram with `send` and resolves with the first reply `match` accepts, or null after `timeoutMs`. */
export function firstReply(sock: dgram.Socket, match: (m: Buffer) => boolean, send: () => void, timeoutMs = 3000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sock.off('message', on);
      resolve(null);
    }, timeoutMs);
    const on = (m: Buffer) => {
      if (!match(m)) return;
      clearTimeout(timer);
      sock.off('message', on);
      resolve(m);
    };
    sock.on('message', on);
    send();
  });
}
