// Names outside our zones, when the site lists dns.forwarders and the client
// may recurse: the client's query goes upstream over UDP as it came, with a
// fresh random ID, from a fresh socket on a port the kernel picks at random
// (RFC 5452 §9.2: ID and port both unpredictable). The socket is connected to
// the server queried, so only that server's datagrams reach it; the answer is
// also checked for our ID and the very question bytes we sent (RFC 5452 §9.1).
// A TC=1 answer for a TCP client is fetched again over TCP from the same
// server (RFC 1035 §4.2.2: a TCP client must get the whole answer).
// The answer goes back with the client's ID, our OPT in place of the
// upstream's, and TC=1 when it does not fit the client's size (relayAnswer).
// No answer within the timeout: the next forwarder; none left: the caller
// sends SERVFAIL. A forwarder that timed out is skipped for `downMs`, then one
// query probes it again (like dnsmasq's and BIND's server selection).
import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { DnsType } from '../wire/dns-message.js';
import { answerLimit, DEFAULT_MAX_UDP, OPT_LENGTH, writeOpt } from './responder.js';

export interface Upstream {
  readonly address: string;
  readonly port: number;
}

export interface ForwardRequest<C> {
  /** The client's query; not modified. */
  readonly query: Uint8Array;
  /** Offset just after its question. */
  readonly questionEnd: number;
  /** The client asked over TCP: no size limit, and an upstream TC=1 is retried over TCP. */
  readonly tcp: boolean;
  /** Whatever the caller needs to reach the client again. */
  readonly client: C;
}

export interface ForwarderEvents<C> {
  /** The answer for the client (relayAnswer: its ID, our OPT, clamped to its size). */
  answer(request: ForwardRequest<C>, bytes: Uint8Array, upstream: Upstream): void;
  /** Every forwarder timed out (or failed). */
  failed(request: ForwardRequest<C>, reason: string): void;
  /** A forwarder stopped answering (once, until it answers again). */
  down?(upstream: Upstream, reason: string): void;
  /** A forwarder marked down answered again. */
  up?(upstream: Upstream): void;
}

export interface ForwarderOptions {
  /** Per forwarder and attempt. Default 1500 ms. */
  timeoutMs?: number;
  /** Queries waiting upstream at once, each with its own socket. Default 256. */
  maxInFlight?: number;
  /** How long a forwarder that timed out is tried last. Default 30 s. */
  downMs?: number;
  /** Our EDNS UDP size, the largest UDP answer. Default 1232. */
  maxUdp?: number;
}

interface Health {
  down: boolean;
  /** When a down forwarder may be probed again (ms since the epoch). */
  retryAt: number;
  /** One query is probing it now: the others keep skipping it. */
  probing: boolean;
}

interface Pending<C> {
  readonly request: ForwardRequest<C>;
  /** The query as sent upstream (our ID). */
  readonly sent: Buffer;
  /** The forwarders this query tries, in order, chosen when it arrived (a reload does not change them). */
  readonly order: readonly Upstream[];
  next: number;
  socket: dgram.Socket | net.Socket | null;
  timer: NodeJS.Timeout | undefined;
  /** The forwarder this query probes (it was down), if any. */
  probe: Health | null;
  readonly reasons: string[];
}

const key = (u: Upstream): string => `${u.address}:${u.port}`;

export class Forwarder<C> {
  private readonly pending = new Set<Pending<C>>();
  /** Survives reloads: a forwarder kept in the new list keeps its state. */
  private readonly health = new Map<string, Health>();
  private closed = false;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly downMs: number;
  private readonly maxUdp: number;
  timeouts = 0;

  constructor(
    private upstreams: readonly Upstream[],
    private readonly events: ForwarderEvents<C>,
    options: ForwarderOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1500;
    this.maxInFlight = options.maxInFlight ?? 256;
    this.downMs = options.downMs ?? 30_000;
    this.maxUdp = options.maxUdp ?? DEFAULT_MAX_UDP;
  }

  /** New forwarders take effect for the next query; queries in flight finish with the list they started with. */
  setUpstreams(upstreams: readonly Upstream[]): void {
    this.upstreams = upstreams;
    const keep = new Set(upstreams.map(key));
    for (const k of this.health.keys()) if (!keep.has(k)) this.health.delete(k);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** False when there is no forwarder or too many queries are waiting: the caller answers SERVFAIL. */
  forward(request: ForwardRequest<C>): boolean {
    if (this.closed || this.upstreams.length === 0 || this.pending.size >= this.maxInFlight) return false;
    const sent = Buffer.from(request.query);
    const id = randomInt(0, 0x10000);
    sent[0] = id >> 8;
    sent[1] = id & 0xff;
    const { order, probe } = this.choose();
    const p: Pending<C> = { request, sent, order, next: 0, socket: null, timer: undefined, probe, reasons: [] };
    this.pending.add(p);
    this.sendUdp(p);
    return true;
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending) this.release(p);
    this.pending.clear();
  }

  /** Forwarders that answer, in the site's order; a down one whose retry time has come is probed by this query; the rest last. */
  private choose(): { order: Upstream[]; probe: Health | null } {
    const now = Date.now();
    const order: Upstream[] = [];
    const last: Upstream[] = [];
    let probe: Health | null = null;
    for (const u of this.upstreams) {
      const h = this.health.get(key(u));
      if (h === undefined || !h.down) order.push(u);
      else if (probe === null && !h.probing && now >= h.retryAt) {
        h.probing = true;
        probe = h;
        order.push(u);
      } else last.push(u);
    }
    return { order: order.concat(last), probe };
  }

  private sendUdp(p: Pending<C>): void {
    const up = p.order[p.next];
    if (up === undefined) {
      this.finish(p);
      this.events.failed(p.request, p.reasons.join('; ') || 'no forwarder');
      return;
    }
    const s = dgram.createSocket({ type: 'udp4', lookup: (address, _o, cb) => cb(null, address, 4) });
    p.socket = s;
    s.unref();
    // ICMP port unreachable arrives here as ECONNREFUSED on the connected socket: that forwarder is down now.
    s.on('error', (err) => this.attemptFailed(p, s, `${key(up)}: ${err.message}`, true));
    s.on('message', (msg, rinfo) => this.udpAnswer(p, s, up, msg, rinfo));
    s.connect(up.port, up.address, () => {
      if (p.socket === s) s.send(p.sent, (err) => err && this.attemptFailed(p, s, `send to ${key(up)} failed: ${err.message}`, true));
    });
    p.timer = setTimeout(() => {
      this.timeouts++;
      this.attemptFailed(p, s, `no answer from ${key(up)} within ${this.timeoutMs} ms`, true);
    }, this.timeoutMs);
  }

  private udpAnswer(p: Pending<C>, s: dgram.Socket, up: Upstream, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (p.socket !== s || rinfo.address !== up.address || rinfo.port !== up.port || !this.matches(p, msg)) return;
    this.answered(up);
    if (msg[2]! & 0x02 && p.request.tcp) {
      this.release(p);
      this.sendTcp(p, up);
      return;
    }
    this.relay(p, s, up, msg);
  }

  /** RFC 7766 §5: the same query over TCP to the server that truncated, one message, then close. */
  private sendTcp(p: Pending<C>, up: Upstream): void {
    const s = net.connect({ host: up.address, port: up.port, noDelay: true });
    p.socket = s;
    s.unref();
    let buf = Buffer.alloc(0);
    s.on('error', (err) => this.attemptFailed(p, s, `TCP to ${key(up)}: ${err.message}`, false));
    s.on('close', () => this.attemptFailed(p, s, `TCP to ${key(up)} closed before the answer`, false));
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
      if (!this.matches(p, msg)) this.attemptFailed(p, s, `TCP answer from ${key(up)} does not match the query`, false);
      else this.relay(p, s, up, msg);
    });
    const frame = Buffer.allocUnsafe(2 + p.sent.length);
    frame.writeUInt16BE(p.sent.length, 0);
    p.sent.copy(frame, 2);
    s.write(frame);
    p.timer = setTimeout(() => this.attemptFailed(p, s, `no TCP answer from ${key(up)} within ${this.timeoutMs} ms`, false), this.timeoutMs);
  }

  private relay(p: Pending<C>, s: dgram.Socket | net.Socket, up: Upstream, msg: Uint8Array): void {
    const out = relayAnswer(p.request.query, p.request.questionEnd, msg, p.request.tcp, this.maxUdp);
    if (out === null) {
      this.attemptFailed(p, s, `malformed answer from ${key(up)}`, false);
      return;
    }
    this.finish(p);
    this.events.answer(p.request, out, up);
  }

  /** QR=1, our ID and our question, byte for byte (case included). */
  private matches(p: Pending<C>, msg: Uint8Array): boolean {
    const qEnd = p.request.questionEnd;
    if (msg.length < qEnd || !(msg[2]! & 0x80) || msg[0] !== p.sent[0] || msg[1] !== p.sent[1]) return false;
    for (let i = 4; i < qEnd; i++) {
      if (i >= 6 && i < 12) continue; // answer/authority/additional counts differ, of course
      if (msg[i] !== p.sent[i]) return false;
    }
    return true;
  }

  /** This attempt is over (stale sockets are ignored): the next forwarder, or SERVFAIL when none is left. */
  private attemptFailed(p: Pending<C>, s: dgram.Socket | net.Socket, reason: string, serverDown: boolean): void {
    if (p.socket !== s || !this.pending.has(p)) return;
    this.release(p);
    const up = p.order[p.next]!;
    if (serverDown) this.markDown(up, reason);
    if (p.probe !== null && p.probe === this.health.get(key(up))) {
      p.probe.probing = false;
      p.probe = null;
    }
    p.reasons.push(reason);
    p.next++;
    this.sendUdp(p);
  }

  private markDown(up: Upstream, reason: string): void {
    // A forwarder no longer in the list (reloaded away) keeps no state.
    if (!this.upstreams.some((u) => u.address === up.address && u.port === up.port)) return;
    let h = this.health.get(key(up));
    if (h === undefined) {
      h = { down: false, retryAt: 0, probing: false };
      this.health.set(key(up), h);
    }
    h.retryAt = Date.now() + this.downMs;
    h.probing = false;
    if (h.down) return;
    h.down = true;
    this.events.down?.(up, reason);
  }

  private answered(up: Upstream): void {
    const h = this.health.get(key(up));
    if (h === undefined || !h.down) return;
    this.health.delete(key(up));
    this.events.up?.(up);
  }

  private release(p: Pending<C>): void {
    clearTimeout(p.timer);
    p.timer = undefined;
    const s = p.socket;
    p.socket = null;
    if (s instanceof net.Socket) s.destroy();
    else if (s !== null) s.close();
  }

  private finish(p: Pending<C>): void {
    this.release(p);
    if (p.probe !== null) p.probe.probing = false;
    this.pending.delete(p);
  }
}

/**
 * The upstream answer as the client gets it: the client's ID, RA=1, the
 * upstream's OPT (its size, its options: cookies are between it and us)
 * replaced by ours (size `maxUdp`, DO from the client, the upstream's extended
 * rcode), and no OPT when the client sent none (RFC 6891 §7). Larger than the
 * client may receive (its EDNS size clamped to 512..maxUdp, 512 without EDNS,
 * 65535 over TCP): TC=1 with the question and our OPT only, as our own
 * truncation does. Null when the records cannot be walked (and TC is not set).
 * `query` was checked by the responder; `answer` carries its question up to qEnd.
 */
export function relayAnswer(query: Uint8Array, qEnd: number, answer: Uint8Array, tcp: boolean, maxUdp: number): Uint8Array | null {
  const clientOpt = walk(query, qEnd, 0, u16(query, 10))?.opt ?? -1;
  const edns = clientOpt >= 0;
  const dnssecOk = edns && (query[clientOpt + 6]! & 0x80) !== 0;
  const limit = answerLimit(tcp, edns ? u16(query, clientOpt + 2) : -1, maxUdp);
  const additional = u16(answer, 10);
  const a = walk(answer, qEnd, u16(answer, 6) + u16(answer, 8), additional);
  // A truncated datagram may stop inside a record: the client then gets our own TC=1 answer.
  if (a === null && (answer[2]! & 0x02) === 0) return null;
  const tail = edns ? OPT_LENGTH : 0;
  let parts: Uint8Array[];
  let arcount: number;
  const fits = a !== null && a.end - (a.optEnd - a.optStart) + tail <= limit;
  if (fits) {
    parts = a.opt >= 0 ? [answer.subarray(0, a.optStart), answer.subarray(a.optEnd, a.end)] : [answer.subarray(0, a.end)];
    arcount = additional - (a.opt >= 0 ? 1 : 0);
  } else {
    parts = [answer.subarray(0, qEnd)];
    arcount = 0;
  }
  const bodyLength = parts.reduce((n, b) => n + b.length, 0);
  const out = Buffer.allocUnsafe(bodyLength + tail);
  let at = 0;
  for (const b of parts) {
    out.set(b, at);
    at += b.length;
  }
  if (!fits) {
    out[2]! |= 0x02;
    out.fill(0, 6, 10);
  }
  if (edns) {
    writeOpt(out, at, maxUdp, a !== null && a.opt >= 0 ? answer[a.opt + 4]! : 0, dnssecOk);
    arcount++;
  }
  out[0] = query[0]!;
  out[1] = query[1]!;
  // We offer recursion to this client (it would have been REFUSED otherwise).
  out[3]! |= 0x80;
  out[10] = arcount >> 8;
  out[11] = arcount & 0xff;
  return out;
}

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/**
 * Walks `skip` records, then `count` additional records, from `at`. `opt` is
 * the offset of the first additional OPT's type field (-1 when none), the
 * record spanning [optStart, optEnd); `end` is where the last record ends.
 * Null when a record runs past the message.
 */
function walk(msg: Uint8Array, at: number, skip: number, count: number): { opt: number; optStart: number; optEnd: number; end: number } | null {
  let p = at;
  let opt = -1;
  let optStart = 0;
  let optEnd = 0;
  for (let i = 0; i < skip + count; i++) {
    const owner = p;
    // A name: labels, ended by the root or by a compression pointer.
    for (;;) {
      if (p >= msg.length) return null;
      const l = msg[p]!;
      if (l === 0) {
        p++;
        break;
      }
      if ((l & 0xc0) === 0xc0) {
        p += 2;
        break;
      }
      if (l & 0xc0) return null;
      p += 1 + l;
    }
    if (p + 10 > msg.length) return null;
    const next = p + 10 + u16(msg, p + 8);
    if (next > msg.length) return null;
    if (i >= skip && opt < 0 && u16(msg, p) === DnsType.OPT) {
      opt = p;
      optStart = owner;
      optEnd = next;
    }
    p = next;
  }
  return { opt, optStart, optEnd, end: p };
}
