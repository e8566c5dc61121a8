// The DNS daemon: UDP sockets and a TCP listener around the responder.
// Per datagram: respond (synchronous, precomputed answers), send, log one line.
// UDP goes through the transport of src/net/ (recvmmsg/sendmmsg where the
// native addon is built, two SO_REUSEPORT sockets on the port; else Node's dgram).
// Nothing a client sends can throw out of here, and nothing here returns a
// promise that could be left rejected: every callback catches what it calls.
import net from 'node:net';
import type { Logger } from '../log.js';
import type { Plan } from '../site/plan.js';
import { NAME_COLLISION } from '../site/dns-zones.js';
import { rcodeName, typeName } from '../wire/dns-message.js';
import { inCidr, intToIp, ipToInt, isIPv4, parseCidr, type Cidr } from '../wire/ipv4.js';
import { openUdpTransport, type Datagram, type UdpTransport } from '../net/udp-transport.js';
import { Authority } from './authority.js';
import { Forwarder, type ForwardRequest } from './forwarder.js';
import { QueryLog } from './query-log.js';
import { RRL_SEND, RRL_SLIP, RateLimiter, responseClass, writeSlip } from './rrl.js';
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
  /** Connections closed at once: the table was full and nothing in it could be evicted. */
  tcpRejected: number;
  /** Connections closed at once: their address already had maxTcpPerClient open. */
  tcpPerClientRejected: number;
  /** Idle connections closed to make room for a new one (RFC 7766 §6.2.3). */
  tcpEvicted: number;
  tcpIdleClosed: number;
  /** Connections closed because one message took longer than tcpMessageMs to arrive (slowloris). */
  tcpSlowClosed: number;
  /** UDP responses over dns.rate_limit (also counted by rcode above): slipped as TC=1, or dropped. */
  rrlSlipped: number;
  rrlDropped: number;
  sendErrors: number;
  internalErrors: number;
  leaseNames: number;
}

export interface DnsDaemonOptions {
  logger: Logger;
  /** Open TCP connections at most (RFC 7766 §6.2.2 wants a bound); when full, the longest idle one makes room. Default 64. */
  maxTcpConnections?: number;
  /** Open TCP connections per client address at most (RFC 7766 §10). Default 8. */
  maxTcpPerClient?: number;
  /** A TCP connection with nothing to do for this long between messages is closed (RFC 7766 §6.2.3). Default 10 s. */
  tcpIdleMs?: number;
  /** A message must arrive whole within this long of its first byte, however the bytes trickle in (RFC 7766 §10). Default 3 s. */
  tcpMessageMs?: number;
  /** Per forwarder. Default 1500 ms. */
  forwardTimeoutMs?: number;
  /** A forwarder that timed out is tried last for this long, then probed by one query. Default 30 s. */
  forwarderDownMs?: number;
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
  /** SO_RCVBUF of the UDP socket; 0 = the kernel default (208 KiB). Default 4 MiB. */
  udpRcvbuf?: number;
  /** UDP sockets on the port (SO_REUSEPORT, batch path only; see UDP_SOCKETS). Default 2. */
  udpSockets?: number;
  /** Rate-limit 127.0.0.1 too (benchmarks of the limiter's cost); by default the box's own queries never are. */
  rateLimitLoopback?: boolean;
}

/**
 * SO_RCVBUF: under a flood the queue must ride out the moments the thread is
 * not reading (a GC pause, another process on the core); the default 208 KiB
 * holds about 2 ms at 150,000 small datagrams/s, then phones' queries are
 * dropped with the flood's. Same reasoning and size as DHCP's. Only what is
 * queued uses memory.
 */
const UDP_RCVBUF = 4 * 1024 * 1024;

/**
 * Under a flood from one source (one flow), the kernel hashes that flow to
 * one of these sockets; phones hashed to the others never queue behind it
 * (Knot's default, one SO_REUSEPORT socket per UDP worker). README "Under a
 * flood" has the measurements.
 */
const UDP_SOCKETS = 2;

/** 127.0.0.1: the box itself. The kernel drops 127/8 sources arriving from the VLAN (martians), so nothing there can pose as it. */
const LOOPBACK_HOST = 0x7f000001;

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
  /** The peer's address, kept: a destroyed socket forgets it, and the per-client count needs it at close. */
  readonly address: string;
  buffer: Buffer;
  forwards: number;
  /** Forwarded queries beyond TCP_MAX_FORWARDS_PER_CONNECTION, started in order as answers come back. */
  waiting?: { requests: Request[]; bytes: number };
  /** Accept time, or when the last whole message arrived or the last answer was written (monotonic ms). */
  lastActive: number;
  /** When the first byte of the message being received arrived, or -1 between messages. */
  messageStart: number;
}

type Request = ForwardRequest<Client> & { readonly name: string; readonly qtype: number };

/** In flight upstream per TCP connection, so one connection cannot fill the forwarder's table; more wait (up to the next two bounds). */
const TCP_MAX_FORWARDS_PER_CONNECTION = 16;
const TCP_MAX_WAITING = 256;
const TCP_MAX_WAITING_BYTES = 64 * 1024;
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
    tcpPerClientRejected: 0,
    tcpEvicted: 0,
    tcpIdleClosed: 0,
    tcpSlowClosed: 0,
    rrlSlipped: 0,
    rrlDropped: 0,
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
  /** Sources we forward for (plan.dns.allowRecursion), empty without forwarders. */
  private recursionFrom: Cidr[];
  /** ip -> option 12 host name, kept to rebuild lease names after a reload. */
  private readonly leases = new Map<string, string>();
  /** "ip name" of lease host names already reported as colliding with a name of the site (warned once each). */
  private readonly collisionsLogged = new Set<string>();
  private readonly connections = new Set<TcpConnection>();
  /** Open connections per client address. */
  private readonly perClient = new Map<string, number>();
  private readonly maxTcp: number;
  private readonly maxTcpPerClient: number;
  private readonly idleMs: number;
  private readonly messageMs: number;
  /** Closes idle and too slow connections; its own clock, because a socket's timeout restarts on every byte. */
  private sweepTimer: NodeJS.Timeout | undefined;
  /** TCP limit kinds already logged once at warn (the rest go to debug). */
  private readonly tcpLimitWarned = new Set<string>();
  private readonly logQueries: boolean;
  private readonly onQuery: ((e: DnsQueryReport) => void) | undefined;
  private udp!: UdpTransport;
  private readonly useDgram: boolean;
  private readonly udpSockets: number;
  private readonly maxUdp: number;
  /** A batch slot: the largest UDP query read without a copy, also the largest answer sent from a slot. */
  private readonly maxQuery: number;
  /** dns.rate_limit; null when off. */
  private rrl: RateLimiter | null = null;
  private readonly rrlLoopback: boolean;
  private readonly rcvbuf: number;
  /** The clock of the current batch: one read per recvmmsg, not per datagram. */
  private batchNow = 1;
  /** Where a slipped (TC=1) response is written; sent from here, copied into the out slot. */
  private readonly slipBuf: Buffer;
  private rrlWarned = false;
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
    this.maxTcpPerClient = options.maxTcpPerClient ?? 8;
    this.idleMs = options.tcpIdleMs ?? 10_000;
    this.messageMs = options.tcpMessageMs ?? 3000;
    this.logQueries = options.logQueries ?? true;
    this.onQuery = options.events?.onQuery;
    this.useDgram = options.dgram === true;
    this.maxUdp = options.maxUdpPayload ?? DEFAULT_MAX_UDP;
    // Real queries are a few hundred bytes (a 255-byte name, EDNS options, RFC 7830 padding).
    this.maxQuery = Math.min(65536, Math.max(2048, this.maxUdp));
    this.responder = new Responder(new Authority(boundPlan.dns), this.maxUdp);
    this.recursionFrom = recursionAcl(boundPlan);
    this.rrlLoopback = options.rateLimitLoopback === true;
    this.rcvbuf = options.udpRcvbuf ?? UDP_RCVBUF;
    this.udpSockets = options.udpSockets ?? UDP_SOCKETS;
    this.slipBuf = Buffer.alloc(this.maxQuery);
    this.setRateLimit(boundPlan);
    this.forwarder = new Forwarder<Client>(
      boundPlan.dns.forwarders,
      {
        answer: (req, bytes, up) => this.forwardedAnswer(req as Request, bytes, up),
        failed: (req, reason) => this.forwardFailed(req as Request, reason),
        down: (up, reason) => this.log.warn({ forwarder: `${up.address}:${up.port}`, reason }, `forwarder ${up.address}:${up.port} is not answering: tried last for now`),
        up: (up) => this.log.info({ forwarder: `${up.address}:${up.port}` }, `forwarder ${up.address}:${up.port} answers again`),
      },
      { timeoutMs: options.forwardTimeoutMs ?? 1500, downMs: options.forwarderDownMs ?? 30_000, maxUdp: this.maxUdp },
    );
  }

  static async start(plan: Plan, options: DnsDaemonOptions): Promise<DnsDaemon> {
    const daemon = new DnsDaemon(plan, options);
    await daemon.bind();
    daemon.rollTimer = setInterval(() => daemon.queryLog.roll(), 1000);
    daemon.rollTimer.unref();
    daemon.sweepTimer = setInterval(() => daemon.sweepTcp(), Math.max(25, Math.min(daemon.idleMs, daemon.messageMs) / 4));
    daemon.sweepTimer.unref();
    const { address, port } = daemon.address();
    if (daemon.udp.fallbackReason !== null) daemon.log.warn({ reason: daemon.udp.fallbackReason }, `DNS UDP through Node's dgram (no batching): ${daemon.udp.fallbackReason}`);
    const zones = plan.dns.zones;
    daemon.log.info(
      {
        listen: `${address}:${port}`,
        zones: zones.map((z) => z.apex),
        records: zones.reduce((n, z) => n + z.records.length, 0),
        forwarders: plan.dns.forwarders.map((f) => `${f.address}:${f.port}`),
        ...(plan.dns.forwarders.length ? { allowRecursion: plan.dns.allowRecursion } : {}),
      },
      `DNS serving on ${address}:${port} (udp+tcp), ${zones.length} zones${plan.dns.forwarders.length ? `, forwarding the rest to ${plan.dns.forwarders.map((f) => f.address).join(', ')} for ${plan.dns.allowRecursion.join(', ')}` : ', refusing the rest'}`,
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
    this.recursionFrom = recursionAcl(plan);
    this.counters.leaseNames = next.leaseCount();
    this.setRateLimit(plan);
  }

  /** A new limiter only when the settings change: a reload keeps a flood's buckets. */
  private setRateLimit(plan: Plan): void {
    const s = plan.dns.rateLimit;
    if (s === undefined || s.responsesPerSecond <= 0) {
      this.rrl = null;
      return;
    }
    const old = this.rrl?.settings;
    if (old && old.responsesPerSecond === s.responsesPerSecond && old.slip === s.slip && old.windowSeconds === s.windowSeconds && old.ipv4PrefixLength === s.ipv4PrefixLength) return;
    this.rrl = new RateLimiter(s);
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
        else {
          const taken = this.responder.authority.siteNameFor(hostname);
          // Built-in names (ntp.<domain>, the SRV targets) are never extended by a client's option 12: say so once per name.
          if (taken !== null && !this.collisionsLogged.has(`${ip} ${taken}`)) {
            this.collisionsLogged.add(`${ip} ${taken}`);
            this.log.warn({ ip, hostname, name: taken, code: NAME_COLLISION }, `${NAME_COLLISION}: the client at ${ip} calls itself ${hostname}, but ${taken} is a name of the site: not served for it`);
          } else this.log.debug({ ip, hostname }, 'lease host name not served (invalid, or a name the site already uses)');
        }
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
    clearInterval(this.sweepTimer);
    this.queryLog.roll();
    this.forwarder.close();
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
    this.perClient.clear();
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
      { address, port, slotSize: this.maxQuery, maxDatagram: MAX_UDP_QUERY, dgram: this.useDgram, sockets: this.udpSockets, ...(this.rcvbuf > 0 ? { rcvbuf: this.rcvbuf } : {}) },
      {
        batchStart: () => {
          this.inBatch = true;
          this.batchNow = performance.now() + 1;
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
      const out = r.respond(msg, false, this.mayRecurse(ip));
      if (out !== null) {
        // Copied into a slot now: the responder reuses its answer buffers on the next query.
        const rrl = this.rrl;
        if (rrl === null || (ip === LOOPBACK_HOST && !this.rrlLoopback) || this.rateAllows(rrl, out, ip, port)) {
          if (port !== 0) this.udp.send(out, ip, port);
        } else {
          // A flood's limited queries are counted, not logged one by one: the warn line names the client once.
          this.count(r.rcode, r.nodata, r.truncated);
          return;
        }
        this.count(r.rcode, r.nodata, r.truncated);
        if (this.batchLogging || this.onQuery !== undefined) this.report(intToIp(ip), r.name, r.qtype, r.rcode);
        return;
      }
      // The forwarder keeps the query past this batch: its own copy.
      if (r.action === 'forward') this.startForward(this.request(Buffer.from(msg), false, { kind: 'udp', address: intToIp(ip), port }));
      else this.dropped(intToIp(ip), r.dropReason, msg.length);
    } catch (err) {
      this.counters.internalErrors++;
      this.log.error({ err, client: intToIp(ip) }, 'internal error while answering a DNS query');
    }
  }

  /** RRL (src/dns/rrl.ts): true to send the answer; otherwise it has been slipped as TC=1 or dropped. */
  private rateAllows(rrl: RateLimiter, out: Uint8Array, ip: number, port: number): boolean {
    const r = this.responder;
    const verdict = rrl.decide(ip, responseClass(out, r.questionEnd, r.rcode, r.nodata), this.batchNow);
    if (verdict === RRL_SEND) return true;
    if (verdict === RRL_SLIP) {
      this.counters.rrlSlipped++;
      if (port !== 0) this.udp.send(this.slipBuf.subarray(0, writeSlip(out, r.questionEnd, this.slipBuf)), ip, port);
    } else this.counters.rrlDropped++;
    if (!this.rrlWarned) {
      this.rrlWarned = true;
      const s = rrl.settings;
      this.log.warn(
        { client: intToIp(ip), name: r.name, limit: s.responsesPerSecond },
        `rate limiting UDP answers to ${intToIp(ip)}/${s.ipv4PrefixLength} (over ${s.responsesPerSecond} a second for one answer; logged once, see the counters rrlSlipped/rrlDropped)`,
      );
    }
    return false;
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    const address = socket.remoteAddress ?? '?';
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const open = this.perClient.get(address) ?? 0;
    if (open >= this.maxTcpPerClient) {
      this.counters.tcpPerClientRejected++;
      this.tcpLimit('per-client', address, `${address} already has ${open} TCP connections open (maxTcpPerClient)`);
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.maxTcp) {
      // RFC 7766 §6.2.3: under pressure, close idle connections rather than turn new clients away.
      const victim = this.longestIdle();
      if (victim === undefined) {
        this.counters.tcpRejected++;
        this.tcpLimit('full', address, `${this.maxTcp} TCP connections busy: new connection refused`);
        socket.destroy();
        return;
      }
      this.counters.tcpEvicted++;
      this.tcpLimit('evicted', victim.address, `${this.maxTcp} TCP connections open: the longest idle one closed to make room`);
      this.closeTcp(victim);
    }
    this.counters.tcpConnections++;
    const now = performance.now();
    const conn: TcpConnection = { socket, address, buffer: Buffer.alloc(0), forwards: 0, lastActive: now, messageStart: -1 };
    this.connections.add(conn);
    this.perClient.set(address, open + 1);
    socket.on('data', (chunk: Buffer) => this.tcpData(conn, chunk));
    socket.on('close', () => this.closeTcp(conn));
  }

  /** The connection that has done nothing for the longest, with no forwarded query pending: the one to evict. */
  private longestIdle(): TcpConnection | undefined {
    let victim: TcpConnection | undefined;
    for (const c of this.connections) {
      if (c.forwards > 0) continue;
      if (victim === undefined || c.lastActive < victim.lastActive) victim = c;
    }
    return victim;
  }

  /** Idempotent: from the socket's close event and from our own timeouts and evictions. */
  private closeTcp(conn: TcpConnection): void {
    if (!this.connections.delete(conn)) return;
    const left = (this.perClient.get(conn.address) ?? 1) - 1;
    if (left > 0) this.perClient.set(conn.address, left);
    else this.perClient.delete(conn.address);
    conn.socket.destroy();
  }

  private sweepTcp(): void {
    const now = performance.now();
    for (const c of this.connections) {
      if (c.messageStart >= 0) {
        if (now - c.messageStart <= this.messageMs) continue;
        this.counters.tcpSlowClosed++;
        this.tcpLimit('slow', c.address, `a TCP message took more than ${this.messageMs} ms to arrive: connection closed`);
        this.closeTcp(c);
      } else if (c.forwards === 0 && now - c.lastActive > this.idleMs) {
        this.counters.tcpIdleClosed++;
        this.closeTcp(c);
      }
    }
  }

  /** Once per kind at warn, so the admin learns a limit is being hit; every time at debug. */
  private tcpLimit(kind: string, client: string, msg: string): void {
    if (!this.tcpLimitWarned.has(kind)) {
      this.tcpLimitWarned.add(kind);
      this.log.warn({ client, limit: kind }, `${msg} (from now on logged at debug only; see the counters)`);
    } else if (this.log.isLevelEnabled('debug')) this.log.debug({ client, limit: kind }, msg);
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
        conn.messageStart = -1;
        conn.lastActive = performance.now();
        this.tcpMessage(conn, msg);
        if (conn.socket.destroyed) return;
      }
      // The whole-message clock starts at a message's first byte and is not restarted by later ones.
      if (buf.length > 0 && conn.messageStart < 0) conn.messageStart = performance.now();
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
    const out = r.respond(msg, true, isIPv4(address) && this.mayRecurse(ipToInt(address)));
    if (out !== null) {
      this.tcpSend(conn, out);
      this.count(r.rcode, r.nodata, false);
      this.report(address, r.name, r.qtype, r.rcode, true);
      return;
    }
    if (r.action === 'forward') {
      // The message is a view into a chunk we are about to drop: the forwarder keeps its own copy.
      this.tcpForward(conn, this.request(Buffer.from(msg), true, { kind: 'tcp', address, conn }));
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
    conn.lastActive = performance.now();
    const frame = Buffer.allocUnsafe(2 + out.length);
    frame.writeUInt16BE(out.length, 0);
    frame.set(out, 2);
    s.write(frame);
  }

  // ------------------------------------------------------------ forwarding

  /** BCP 140: forwarding (and RA=1) only for the site's own sources, and only when there are forwarders. */
  private mayRecurse(ip: number): boolean {
    for (const c of this.recursionFrom) if (inCidr(ip, c)) return true;
    return false;
  }

  /** The query the responder just handed back for forwarding, with what the log line needs. */
  private request(query: Buffer, tcp: boolean, client: Client): Request {
    const r = this.responder;
    return { query, questionEnd: r.questionEnd, tcp, client, name: r.name, qtype: r.qtype };
  }

  /** Pipelined TCP queries beyond the per-connection bound wait for an earlier one to come back, never an instant SERVFAIL. */
  private tcpForward(conn: TcpConnection, request: Request): void {
    if (conn.forwards < TCP_MAX_FORWARDS_PER_CONNECTION) {
      conn.forwards++;
      this.startForward(request);
      return;
    }
    const w = (conn.waiting ??= { requests: [], bytes: 0 });
    if (w.requests.length >= TCP_MAX_WAITING || w.bytes + request.query.length > TCP_MAX_WAITING_BYTES) {
      this.forwardFailed(request, 'too many forwarded queries waiting on this TCP connection', false);
      return;
    }
    w.requests.push(request);
    w.bytes += request.query.length;
  }

  /** One forwarded query of this connection came back: the next waiting one goes upstream. */
  private tcpForwardDone(conn: TcpConnection): void {
    conn.forwards--;
    const w = conn.waiting;
    if (w === undefined || conn.socket.destroyed) return;
    const next = w.requests.shift();
    if (next === undefined) return;
    w.bytes -= next.query.length;
    conn.forwards++;
    this.startForward(next);
  }

  private startForward(request: Request): void {
    if (this.forwarder.forward(request)) {
      this.counters.forwarded++;
      return;
    }
    this.forwardFailed(request, 'too many queries waiting for a forwarder');
  }

  private forwardedAnswer(req: Request, bytes: Uint8Array, up: { address: string; port: number }): void {
    try {
      this.reply(req.client, bytes);
      this.count(bytes[3]! & 0xf, false, (bytes[2]! & 0x02) !== 0);
      const { name, qtype } = req;
      this.report(req.client.address, name, qtype, bytes[3]! & 0xf, req.tcp, up.address);
    } catch (err) {
      this.counters.internalErrors++;
      this.log.error({ err }, 'internal error while relaying a forwarded answer');
    }
  }

  /** `started`: the query went upstream (a TCP one counts against its connection until now). */
  private forwardFailed(req: Request, reason: string, started = true): void {
    try {
      this.counters.forwardFailures++;
      const out = this.responder.servfail(req.query, req.questionEnd);
      // RA=1: recursion is offered to this client, it just failed this time (as BIND answers).
      out[3]! |= 0x80;
      if (started) this.reply(req.client, out);
      else if (req.client.kind === 'tcp') this.tcpSend(req.client.conn, out);
      this.count(2, false, false);
      const { name, qtype } = req;
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
      this.tcpSend(client.conn, bytes);
      this.tcpForwardDone(client.conn);
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

/** plan.dns.allowRecursion as CIDRs; nobody when there is no forwarder (we then refuse every outside name). */
function recursionAcl(plan: Plan): Cidr[] {
  if (plan.dns.forwarders.length === 0) return [];
  return plan.dns.allowRecursion.map(parseCidr).filter((c): c is Cidr => c !== null);
}
