// The DNS daemon: a UDP socket and a TCP listener around the responder.
// Per datagram: respond (synchronous, precomputed answers), send, log one line.
// UDP goes through the transport of src/net/ (recvmmsg/sendmmsg where the
// native addon is built, else Node's dgram).
// Nothing a client sends can throw out of here, and nothing here returns a
// promise that could be left rejected: every callback catches what it calls.
import net from 'node:net';
import type { Logger } from '../log.js';
import type { Plan } from '../site/plan.js';
import { rcodeName, typeName } from '../wire/dns-message.js';
import { intToIp } from '../wire/ipv4.js';
import { openUdpTransport, type Datagram, type UdpTransport } from '../net/udp-transport.js';
import { Authority } from './authority.js';
import { Forwarder, type ForwardRequest } from './forwarder.js';
import { QueryLog } from './query-log.js';
import { DEFAULT_MAX_UDP, Responder } from './responder.js';

export interface DnsCounters {
  /** Datagrams and TCP messages received. */
  received: number;
  /** Responses sent, of any rcode. */
  answered: number;
  noerror: number;
  nodata: number;
  nxdomain: number;
  refused: number;
  formerr: number;
  notimp: number;
  servfail: number;
  /** Other rcodes (BADVERS). */
  otherRcode: number;
  /** UDP answers cut to TC=1. */
  truncated: number;
  /** Shorter than a header, or QR=1: no answer at all. */
  dropped: number;
  forwarded: number;
  forwardFailures: number;
  tcpConnections: number;
  /** Connections closed at once because maxTcpConnections were open. */
  tcpRejected: number;
  tcpIdleClosed: number;
  sendErrors: number;
  internalErrors: number;
  leaseNames: number;
}

export interface DnsDaemonOptions {
  logger: Logger;
  /** Open TCP connections at most (RFC 7766 §6.2.2 wants a bound). Default 64. */
  maxTcpConnections?: number;
  /** A TCP connection with no complete query for this long is closed (RFC 7766 §6.2.3). Default 10 s. */
  tcpIdleMs?: number;
  /** Per forwarder. Default 1500 ms. */
  forwardTimeoutMs?: number;
  /** Largest UDP answer whatever the client offers. Default 1232 (DNS flag day 2020). */
  maxUdpPayload?: number;
  /** Per-query info lines (client, name, type, rcode). Default true: the admin's capture of what each phone asked. */
  logQueries?: boolean;
  /** Query lines per client per second; the rest are summed up in one line per second (default 50). */
  queryLogPerClient?: number;
  /** Every answered query, for the staging timeline (which phone asked for ucupdates-r2, and when). */
  events?: { onQuery?: (e: DnsQueryReport) => void };
  /** UDP through Node's dgram even where the batch socket is available (tests of the fallback). */
  dgram?: boolean;
}

export interface DnsQueryReport {
  client: string;
  name: string;
  type: string;
  rcode: string;
  at: number;
}

type Client = { readonly kind: 'udp'; readonly address: string; readonly port: number } | { readonly kind: 'tcp'; readonly address: string; readonly conn: TcpConnection };

interface TcpConnection {
  readonly socket: net.Socket;
  buffer: Buffer;
  forwards: number;
}

const TCP_MAX_FORWARDS_PER_CONNECTION = 16;
/** A client that stops reading while we keep answering: cut it off rather than buffer without end. */
const TCP_MAX_UNSENT = 256 * 1024;
/** The largest UDP payload over IPv4 (65535 - 20 - 8). */
const MAX_UDP_QUERY = 65507;

export class DnsDaemon {
  readonly counters: DnsCounters = {
    received: 0,
    answered: 0,
    noerror: 0,
    nodata: 0,
    nxdomain: 0,
    refused: 0,
    formerr: 0,
    notimp: 0,
    servfail: 0,
    otherRcode: 0,
    truncated: 0,
    dropped: 0,
    forwarded: 0,
    forwardFailures: 0,
    tcpConnections: 0,
    tcpRejected: 0,
    tcpIdleClosed: 0,
    sendErrors: 0,
    internalErrors: 0,
    leaseNames: 0,
  };

  private readonly log: Logger;
  private readonly queryLog: QueryLog;
  /** Inside onBatch: query lines are queued and written once at the end of the batch. */
  private inBatch = false;
  private batchLogging = false;
  private readonly responder: Responder;
  private readonly forwarder: Forwarder<Client>;
  /** ip -> option 12 host name, kept to rebuild lease names after a reload. */
  private readonly leases = new Map<string, string>();
  private readonly connections = new Set<TcpConnection>();
  private readonly maxTcp: number;
  private readonly idleMs: number;
  private readonly logQueries: boolean;
  private readonly onQuery: ((e: DnsQueryReport) => void) | undefined;
  private udp!: UdpTransport;
  private readonly useDgram: boolean;
  private readonly maxUdp: number;
  /** A batch slot: the largest UDP query read without a copy, also the largest answer sent from a slot. */
  private readonly maxQuery: number;
  private tcp!: net.Server;
  private stopped = false;
  /** Ends each second of the query log's flood guard. */
  private rollTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly boundPlan: Plan,
    options: DnsDaemonOptions,
  ) {
    this.log = options.logger.child({ daemon: 'dns' });
    this.queryLog = new QueryLog(this.log, options.queryLogPerClient);
    this.maxTcp = options.maxTcpConnections ?? 64;
    this.idleMs = options.tcpIdleMs ?? 10_000;
    this.logQueries = options.logQueries ?? true;
    this.onQuery = options.events?.onQuery;
    this.useDgram = options.dgram === true;
    this.maxUdp = options.maxUdpPayload ?? DEFAULT_MAX_UDP;
    // Real queries are a few hundred bytes (a 255-byte name, EDNS options, RFC 7830 padding).
    this.maxQuery = Math.min(65536, Math.max(2048, this.maxUdp));
    this.responder = new Responder(new Authority(boundPlan.dns), this.maxUdp);
    this.forwarder = new Forwarder<Client>(
      boundPlan.dns.forwarders,
      { answer: (req, bytes, up) => this.forwardedAnswer(req, bytes, up), failed: (req, reason) => this.forwardFailed(req, reason) },
      options.forwardTimeoutMs ?? 1500,
    );
  }

  static async start(plan: Plan, options: DnsDaemonOptions): Promise<DnsDaemon> {
    const daemon = new DnsDaemon(plan, options);
    await daemon.bind();
    daemon.rollTimer = setInterval(() => daemon.queryLog.roll(), 1000);
    daemon.rollTimer.unref();
    const { address, port } = daemon.address();
    if (daemon.udp.fallbackReason !== null) daemon.log.warn({ reason: daemon.udp.fallbackReason }, `DNS UDP through Node's dgram (no batching): ${daemon.udp.fallbackReason}`);
    const zones = plan.dns.zones;
    daemon.log.info(
      { listen: `${address}:${port}`, zones: zones.map((z) => z.apex), records: zones.reduce((n, z) => n + z.records.length, 0), forwarders: plan.dns.forwarders.map((f) => `${f.address}:${f.port}`) },
      `DNS serving on ${address}:${port} (udp+tcp), ${zones.length} zones${plan.dns.forwarders.length ? `, forwarding the rest to ${plan.dns.forwarders.map((f) => f.address).join(', ')}` : ', refusing the rest'}`,
    );
    return daemon;
  }

  /** Builds the new zones aside, then swaps them in with one assignment; the sockets stay. */
  reload(plan: Plan): void {
    if (plan.address !== this.boundPlan.address || plan.dns.port !== this.boundPlan.dns.port) {
      this.log.warn(
        { listening: `${this.boundPlan.address}:${this.boundPlan.dns.port}`, wanted: `${plan.address}:${plan.dns.port}` },
        'address or DNS port changed: restart provlab for that to take effect',
      );
    }
    const next = new Authority(plan.dns);
    for (const [ip, name] of this.leases) next.setLease(ip, name);
    this.responder.authority = next;
    this.forwarder.setUpstreams(plan.dns.forwarders);
    this.counters.leaseNames = next.leaseCount();
  }

  /**
   * Option 12 names from DHCP leases: <name>.<primary> A ip and its PTR; null
   * removes them (lease released or expired). Names from the site always win.
   */
  setLeaseName(ip: string, hostname: string | null): void {
    try {
      if (hostname === null) this.leases.delete(ip);
      else this.leases.set(ip, hostname);
      const served = this.responder.authority.setLease(ip, hostname);
      this.counters.leaseNames = this.responder.authority.leaseCount();
      if (hostname !== null) {
        if (served) this.log.info({ ip, hostname, name: served }, `lease name ${served} -> ${ip}`);
        else this.log.debug({ ip, hostname }, 'lease host name not served (invalid, or a name the site already uses)');
      }
    } catch (err) {
      this.counters.internalErrors++;
      this.log.error({ err, ip, hostname }, 'internal error while updating a lease name');
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.rollTimer);
    this.queryLog.roll();
    this.forwarder.close();
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
    await Promise.all([this.udp.close(), new Promise<void>((resolve) => this.tcp.close(() => resolve()))]);
  }

  /** The address and port actually bound (useful when the plan says port 0). */
  address(): { address: string; port: number } {
    return { address: this.udp.address, port: this.udp.port };
  }

  /** Which UDP path serves: 'batch' (recvmmsg/sendmmsg) or 'dgram'. */
  get udpTransport(): 'batch' | 'dgram' {
    return this.udp.kind;
  }

  // ------------------------------------------------------------ sockets

  private async bind(): Promise<void> {
    const { address } = this.boundPlan;
    const wanted = this.boundPlan.dns.port;
    // Port 0 (tests): the kernel picks the UDP port; TCP must then get the same one, which can be taken: retry.
    for (let attempt = 0; ; attempt++) {
      const udp = await this.openUdp(address, wanted);
      const tcp = net.createServer({ noDelay: true }, (s) => this.accept(s));
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen({ port: udp.port, host: address, exclusive: true }, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        udp.close();
        if (wanted === 0 && attempt < 10) continue;
        throw err;
      }
      this.tcp = tcp;
      tcp.on('error', (err) => this.log.error({ err: err.message }, 'DNS TCP listener error'));
      return;
    }
  }

  private async openUdp(address: string, port: number): Promise<{ port: number; close(): void }> {
    const udp = await openUdpTransport(
      // RFC 8906 §3.1.1: a query up to the largest UDP payload is answered; longer than a slot is the slow path.
      { address, port, slotSize: this.maxQuery, maxDatagram: MAX_UDP_QUERY, dgram: this.useDgram },
      {
        batchStart: () => {
          this.inBatch = true;
          this.batchLogging = this.logQueries && this.queryLog.enabled;
        },
        datagram: (msg, from) => this.datagram(msg, from),
        oversized: (bytes, from) => {
          this.counters.received++;
          this.dropped(intToIp(from.srcIp), `longer than ${MAX_UDP_QUERY} bytes`, bytes);
        },
        batchEnd: () => {
          this.inBatch = false;
          this.queryLog.flush();
        },
        sendFailed: (err, count) => {
          this.counters.sendErrors += count;
          this.log.debug({ err: err.message }, 'DNS UDP send failed');
        },
        socketError: (err) => {
          this.counters.internalErrors++;
          this.log.error({ err }, 'DNS UDP socket error');
        },
      },
    );
    this.udp = udp;
    return { port: udp.port, close: () => void udp.close() };
  }

  /** Entry point for every datagram, inside a batch (batchStart/batchEnd). Never throws. */
  private datagram(msg: Uint8Array, from: Datagram): void {
    if (this.stopped) return;
    const ip = from.srcIp;
    const port = from.srcPort;
    this.counters.received++;
    try {
      const r = this.responder;
      const out = r.respond(msg, false);
      if (out !== null) {
        // Copied into a slot now: the responder reuses its answer buffers on the next query.
        if (port !== 0) this.udp.send(out, ip, port);
        this.count(r.rcode, r.nodata, r.truncated);
        if (this.batchLogging || this.onQuery !== undefined) this.report(intToIp(ip), r.name, r.qtype, r.rcode);
        return;
      }
      // The forwarder keeps the query past this batch: its own copy.
      if (r.action === 'forward') this.startForward(Buffer.from(msg), { kind: 'udp', address: intToIp(ip), port });
      else this.dropped(intToIp(ip), r.dropReason, msg.length);
    } catch (err) {
      this.counters.internalErrors++;
      this.log.error({ err, client: intToIp(ip) }, 'internal error while answering a DNS query');
    }
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (this.stopped || this.connections.size >= this.maxTcp) {
      this.counters.tcpRejected++;
      socket.destroy();
      return;
    }
    this.counters.tcpConnections++;
    const conn: TcpConnection = { socket, buffer: Buffer.alloc(0), forwards: 0 };
    this.connections.add(conn);
    socket.setTimeout(this.idleMs, () => {
      this.counters.tcpIdleClosed++;
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => this.tcpData(conn, chunk));
    socket.on('close', () => this.connections.delete(conn));
  }

  /** RFC 1035 §4.2.2 / RFC 7766: two-byte length, then the message; several per connection, pipelined. */
  private tcpData(conn: TcpConnection, chunk: Buffer): void {
    try {
      let buf = conn.buffer.length === 0 ? chunk : Buffer.concat([conn.buffer, chunk]);
      while (buf.length >= 2) {
        const size = buf.readUInt16BE(0);
        if (buf.length < 2 + size) break;
        const msg = buf.subarray(2, 2 + size);
        buf = buf.subarray(2 + size);
        this.tcpMessage(conn, msg);
        if (conn.socket.destroyed) return;
      }
      // Keep only the unparsed tail (at most one 64 KiB message), copied so the chunk can be freed.
      conn.buffer = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    } catch (err) {
      this.counters.internalErrors++;
      this.log.error({ err }, 'internal error on a DNS TCP connection');
      conn.socket.destroy();
    }
  }

  private tcpMessage(conn: TcpConnection, msg: Buffer): void {
    this.counters.received++;
    const address = conn.socket.remoteAddress ?? '?';
    const r = this.responder;
    const out = r.respond(msg, true);
    if (out !== null) {
      this.tcpSend(conn, out);
      this.count(r.rcode, r.nodata, false);
      this.report(address, r.name, r.qtype, r.rcode, true);
      return;
    }
    if (r.action === 'forward') {
      if (conn.forwards >= TCP_MAX_FORWARDS_PER_CONNECTION) {
        this.tcpSend(conn, r.servfail(msg, r.questionEnd));
        this.count(2, false, false);
        return;
      }
      conn.forwards++;
      // The message is a view into a chunk we are about to drop: the forwarder keeps its own copy.
      this.startForward(Buffer.from(msg), { kind: 'tcp', address, conn });
      return;
    }
    // RFC 7766 §6.2.1: nothing useful can follow a message we do not even answer.
    this.dropped(address, r.dropReason, msg.length);
    conn.socket.destroy();
  }

  private tcpSend(conn: TcpConnection, out: Uint8Array): void {
    const s = conn.socket;
    if (s.destroyed) return;
    if (s.writableLength > TCP_MAX_UNSENT) {
      s.destroy();
      return;
    }
    const frame = Buffer.allocUnsafe(2 + out.length);
    frame.writeUInt16BE(out.length, 0);
    frame.set(out, 2);
    s.write(frame);
  }

  // ------------------------------------------------------------ forwarding

  private startForward(query: Buffer, client: Client): void {
    const r = this.responder;
    const request: ForwardRequest<Client> & { name: string; qtype: number } = { query, questionEnd: r.questionEnd, client, name: r.name, qtype: r.qtype };
    if (this.forwarder.forward(request)) {
      this.counters.forwarded++;
      return;
    }
    this.forwardFailed(request, 'too many queries waiting for a forwarder');
  }

  private forwardedAnswer(req: ForwardRequest<Client>, bytes: Buffer, up: { address: string; port: number }): void {
    try {
      this.reply(req.client, bytes);
      this.count(bytes[3]! & 0xf, false, false);
      const { name, qtype } = req as ForwardRequest<Client> & { name: string; qtype: number };
      this.report(req.client.address, name, qtype, bytes[3]! & 0xf, false, up.address);
    } catch (err) {
      this.counters.internalErrors++;
      this.log.error({ err }, 'internal error while relaying a forwarded answer');
    }
  }

  private forwardFailed(req: ForwardRequest<Client>, reason: string): void {
    try {
      this.counters.forwardFailures++;
      const out = this.responder.servfail(req.query, req.questionEnd);
      this.reply(req.client, out);
      this.count(2, false, false);
      const { name, qtype } = req as ForwardRequest<Client> & { name: string; qtype: number };
      this.log.warn({ client: req.client.address, name, type: typeName(qtype), rcode: 'SERVFAIL', reason }, 'dns query: forwarding failed');
    } catch (err) {
      this.counters.internalErrors++;
      this.log.error({ err }, 'internal error while answering SERVFAIL');
    }
  }

  private reply(client: Client, bytes: Uint8Array): void {
    if (this.stopped) return;
    if (client.kind === 'udp') {
      if (client.port === 0) return;
      this.udp.sendTo(bytes, client.address, client.port);
    } else {
      client.conn.forwards--;
      this.tcpSend(client.conn, bytes);
    }
  }

  // ------------------------------------------------------------ bookkeeping

  /** One query answered: the admin's log line and the timeline's event. */
  private report(client: string, name: string | null, qtype: number, rcode: number, tcp = false, forwarder?: string): void {
    const type = qtype >= 0 ? typeName(qtype) : null;
    const rc = rcodeName(rcode);
    if (this.inBatch ? this.batchLogging : this.logQueries && this.queryLog.enabled) {
      this.queryLog.add(client, name, type, rc, tcp, forwarder);
      if (!this.inBatch) this.queryLog.flush();
    }
    if (this.onQuery && name !== null && type !== null) this.onQuery({ client, name, type, rcode: rc, at: Date.now() });
  }

  private count(rcode: number, nodata: boolean, truncated: boolean): void {
    const c = this.counters;
    c.answered++;
    if (truncated) c.truncated++;
    switch (rcode) {
      case 0:
        if (nodata) c.nodata++;
        else c.noerror++;
        break;
      case 1:
        c.formerr++;
        break;
      case 2:
        c.servfail++;
        break;
      case 3:
        c.nxdomain++;
        break;
      case 4:
        c.notimp++;
        break;
      case 5:
        c.refused++;
        break;
      default:
        c.otherRcode++;
    }
  }

  private dropped(client: string, reason: string, bytes: number): void {
    this.counters.dropped++;
    if (this.log.isLevelEnabled('debug')) this.log.debug({ client, reason, bytes }, 'DNS message dropped');
  }
}
