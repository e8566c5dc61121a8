// Names outside our zones, when the site lists dns.forwarders: the client's
// query goes upstream over UDP as it came (a fresh random ID in place of the
// client's), and the answer comes back unchanged but for the client's ID.
// An answer is accepted only from the server it was sent to, with a pending
// ID and the very question bytes we sent (RFC 5452 §9.1). No answer within the
// timeout: the next forwarder; none left: the caller sends SERVFAIL.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';

export interface Upstream {
  readonly address: string;
  readonly port: number;
}

export interface ForwardRequest<C> {
  /** The client's query; not modified. */
  readonly query: Uint8Array;
  /** Offset just after its question. */
  readonly questionEnd: number;
  /** Whatever the caller needs to reach the client again. */
  readonly client: C;
}

interface Pending<C> {
  readonly request: ForwardRequest<C>;
  /** The query as sent upstream (our ID). */
  readonly sent: Buffer;
  server: number;
  timer: NodeJS.Timeout;
}

export interface ForwarderEvents<C> {
  /** The upstream answer with the client's ID back in place. */
  answer(request: ForwardRequest<C>, bytes: Buffer, upstream: Upstream): void;
  /** Every forwarder timed out (or the send failed). */
  failed(request: ForwardRequest<C>, reason: string): void;
}

export class Forwarder<C> {
  private readonly pending = new Map<number, Pending<C>>();
  private socket: dgram.Socket | null = null;
  private closed = false;
  timeouts = 0;

  constructor(
    private upstreams: readonly Upstream[],
    private readonly events: ForwarderEvents<C>,
    private readonly timeoutMs = 1500,
    private readonly maxPending = 1024,
  ) {}

  /** New forwarders take effect for the next query; queries in flight finish with the old list. */
  setUpstreams(upstreams: readonly Upstream[]): void {
    this.upstreams = upstreams;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** False when there is no forwarder or too many queries are waiting: the caller answers SERVFAIL. */
  forward(request: ForwardRequest<C>): boolean {
    if (this.closed || this.upstreams.length === 0 || this.pending.size >= this.maxPending) return false;
    let id = randomInt(0, 0x10000);
    for (let tries = 0; this.pending.has(id) && tries < 16; tries++) id = randomInt(0, 0x10000);
    if (this.pending.has(id)) return false;
    const sent = Buffer.from(request.query);
    sent[0] = id >> 8;
    sent[1] = id & 0xff;
    const p: Pending<C> = { request, sent, server: 0, timer: setTimeout(() => this.timeout(id), this.timeoutMs) };
    this.pending.set(id, p);
    this.send(id, p);
    return true;
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.socket?.close();
    this.socket = null;
  }

  private ensureSocket(): dgram.Socket {
    if (this.socket) return this.socket;
    const s = dgram.createSocket({ type: 'udp4', lookup: (address, _o, cb) => cb(null, address, 4) });
    s.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    // Errors (ICMP port unreachable surfaces as ECONNREFUSED on some systems) never end the process.
    s.on('error', () => undefined);
    s.unref();
    this.socket = s;
    return s;
  }

  private send(id: number, p: Pending<C>): void {
    const up = this.upstreams[p.server];
    if (!up) {
      this.finish(id, p);
      this.events.failed(p.request, 'no forwarder left');
      return;
    }
    this.ensureSocket().send(p.sent, up.port, up.address, (err) => {
      if (err && this.pending.get(id) === p) {
        this.finish(id, p);
        this.events.failed(p.request, `send to ${up.address}:${up.port} failed: ${err.message}`);
      }
    });
  }

  private timeout(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.timeouts++;
    p.server++;
    if (p.server >= this.upstreams.length) {
      this.finish(id, p);
      this.events.failed(p.request, `no answer within ${this.timeoutMs} ms from ${this.upstreams.map((u) => `${u.address}:${u.port}`).join(', ')}`);
      return;
    }
    p.timer = setTimeout(() => this.timeout(id), this.timeoutMs);
    this.send(id, p);
  }

  private finish(id: number, p: Pending<C>): void {
    clearTimeout(p.timer);
    this.pending.delete(id);
  }

  private receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12 || !(msg[2]! & 0x80)) return;
    const id = (msg[0]! << 8) | msg[1]!;
    const p = this.pending.get(id);
    if (!p) return;
    const up = this.upstreams[p.server];
    if (!up || rinfo.address !== up.address || rinfo.port !== up.port) return;
    // The question must come back byte for byte (case included) before we believe the answer.
    const qEnd = p.request.questionEnd;
    if (msg.length < qEnd) return;
    for (let i = 4; i < qEnd; i++) {
      if (i >= 6 && i < 12) continue; // answer/authority/additional counts differ, of course
      if (msg[i] !== p.sent[i]) return;
    }
    this.finish(id, p);
    msg[0] = p.request.query[0]!;
    msg[1] = p.request.query[1]!;
    this.events.answer(p.request, msg, up);
  }
}
