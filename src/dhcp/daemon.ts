// The DHCP daemon: sockets, clock and disk around the pure RFC 2131 logic.
// Per packet (from the UDP transport, src/net/udp-transport.ts): decode
// (malformed -> counted, dropped), decide, make the lease durable
// (group-committed fsync), then send. Nothing a client sends can throw out of here.
import type { Logger } from '../log.js';
import type { Plan } from '../site/plan.js';
import { decodeDhcpMessage, messageTypeName, type DhcpMessage } from '../wire/dhcp-message.js';
import { LeaseJournal } from './lease-journal.js';
import type { LeaseRecord } from './lease-record.js';
import { LeaseTable } from './lease-table.js';
import { openUdpTransport, type UdpTransport } from '../net/udp-transport.js';
import { LinkWatch } from '../net/link-watch.js';
import { LineBudget, type LinesNotWritten } from '../line-budget.js';
import { isDeviceAddress } from '../net/device-socket.js';
import { BROADCAST, Rfc2131, encodeReply, type Decision, type Destination, type Ingress, type ProbeGate } from './rfc2131.js';
import { openConflictProbe, type ConflictProbe } from './conflict-probe.js';

/** Least time between two compaction attempts after one failed. */
const COMPACT_RETRY_MS = 5000;

/** Largest DHCP datagram read whole, and largest reply sent from a slot; RFC 2131 needs 576, Ethernet carries 1472. */
const SLOT_SIZE = 4096;
/**
 * Replies ready in a batch leave once this many are queued, not after the
 * whole batch: a reply is not held while up to 63 more datagrams are
 * decided, and after a stall the backlog's replies leave spread over the
 * time it takes to work through it rather than as one burst, which would
 * overflow the receive queue of a relay agent (or of perfdhcp: measured).
 */
const FLUSH_AFTER = 16;
/**
 * SO_RCVBUF: a queue that rides out a GC pause. At 16,000 datagrams/s
 * (8000 four-way exchanges) Linux's default 208 KiB held ~10 ms; 4 MiB holds
 * well over 100 ms. Only what is queued uses memory.
 */
const RCVBUF = 4 * 1024 * 1024;
/** Exchange lines per client per second (a phone's boot needs 4), and per second in all, before a flood is summed up instead. */
const LOG_LINES_PER_CLIENT = 20;
const LOG_LINES_PER_SECOND = 200;

export interface DhcpCounters {
  received: number;
  malformed: number;
  ignored: number;
  replies: number;
  sendErrors: number;
  poolExhausted: number;
  commits: number;
  [kind: string]: number;
}

/** Events for other parts of the appliance (DNS names from option 12, the staging timeline). */
export interface DhcpEvents {
  onLease?: (record: LeaseRecord) => void;
  onExchange?: (d: Decision, info: ExchangeInfo) => void;
}

/** What onExchange reports besides the decision (the staging timeline reads it). */
export interface ExchangeInfo {
  type: string;
  prl: number[];
  replyType?: string;
  /** Option codes in the reply as sent (after trimming to the client's size limit). */
  optionsSent?: number[];
  ciaddr?: string;
  /** The reply's yiaddr: the offered or leased address (0.0.0.0 in an INFORM's ACK). */
  yiaddr?: string;
  /** When the packet arrived, ms since the epoch. */
  at?: number;
}

export interface DhcpDaemonOptions {
  logger: Logger;
  events?: DhcpEvents;
  /** Tests and benchmarks that say so may turn fsync off. */
  fsync?: boolean;
  /** Clock, injectable for tests. */
  now?: () => number;
  /** The relay-only socket through Node's dgram even where the batch socket is available (tests of the fallback). */
  dgram?: boolean;
  /** How often the served interface is checked for having been re-created (default 2000 ms). */
  linkPollMs?: number;
  /** Exchange log lines per client per second, and in all per second, before the rest are summed up (defaults 20 and 200). */
  logLinesPerClient?: number;
  logLinesPerSecond?: number;
}

export class DhcpDaemon {
  /** Which socket path serves: 'batch' (recvmmsg/sendmmsg) or 'dgram'. */
  get transportKind(): 'batch' | 'dgram' {
    return this.transport.kind;
  }

  readonly counters: DhcpCounters = { received: 0, malformed: 0, ignored: 0, replies: 0, sendErrors: 0, poolExhausted: 0, commits: 0 };
  private transport!: UdpTransport;
  /** For the start-up log line. */
  private describe = '';
  private sweep: NodeJS.Timeout | undefined;
  private logRoll: NodeJS.Timeout | undefined;
  /** Bounds the exchange lines of a flood (line-budget.ts). */
  private readonly lines: LineBudget;
  /** Interface mode: notices the interface deleted and re-created (the socket then hears nothing). */
  private linkWatch: LinkWatch | undefined;
  /** Interface mode with dhcp.ping_check: the ICMP probe before first offers; null: off. */
  private conflicts: ConflictProbe | null = null;
  /** The engine's gate: addresses of the interface's subnet (scope 0) only; relayed subnets are not probed. */
  private readonly probeGate: ProbeGate = (ip, scope) => scope === 0 && this.conflicts !== null && this.conflicts.mustProbe(ip);
  private compacting = false;
  /** performance.now() before which no compaction is retried after one failed (a full disk fails every attempt). */
  private compactRetryAt = 0;
  private stopped = false;
  private readonly log: Logger;
  private readonly now: () => number;

  private constructor(
    /** The plan the socket was bound with; reload never rebinds. */
    private readonly boundPlan: Plan,
    private readonly journal: LeaseJournal,
    readonly leases: LeaseTable,
    private readonly engine: Rfc2131,
    private readonly options: DhcpDaemonOptions,
  ) {
    this.log = options.logger.child({ daemon: 'dhcp' });
    this.now = options.now ?? Date.now;
    this.lines = new LineBudget(options.logLinesPerClient ?? LOG_LINES_PER_CLIENT, options.logLinesPerSecond ?? LOG_LINES_PER_SECOND);
  }

  /** Whether this exchange's line is written, or only counted towards the second's summary line. */
  private admitLine(mac: string, now: number): boolean {
    return this.lines.admit(mac, now, this.summariseLines);
  }

  private readonly summariseLines = (s: LinesNotWritten): void => {
    this.log.warn(
      { notLogged: s.lines, clients: s.clients, top: s.top },
      `DHCP flood: ${s.lines} exchanges from ${s.clients} client${s.clients === 1 ? '' : 's'} in the last second not logged one by one (over ${this.options.logLinesPerClient ?? LOG_LINES_PER_CLIENT}/s per client or ${this.options.logLinesPerSecond ?? LOG_LINES_PER_SECOND}/s in all)`,
    );
  };

  static async start(plan: Plan, options: DhcpDaemonOptions): Promise<DhcpDaemon> {
    const load = await LeaseJournal.open(plan.statePath, { fsync: options.fsync ?? true });
    const table = new LeaseTable(plan.dhcp, load.leases.values());
    const daemon = new DhcpDaemon(plan, load.journal, table, new Rfc2131(plan.dhcp, table), options);
    for (const w of load.warnings) daemon.log.warn({ stateDir: plan.statePath }, w);
    try {
      daemon.transport = await daemon.openTransport(plan);
      const t = daemon.transport;
      daemon.describe = plan.interface !== null ? `${plan.interface} (0.0.0.0:${t.port}, bound to the device)` : `${plan.address}:${t.port} (relay only)`;
      if (t.fallbackReason !== null) daemon.log.warn({ reason: t.fallbackReason }, `DHCP relay socket through Node's dgram (no batched sends): ${t.fallbackReason}`);
    } catch (err) {
      await load.journal.close();
      throw err;
    }
    // Before `provlab up --user` drops root: the raw socket needs CAP_NET_RAW, the open fd keeps it.
    const ping = plan.dhcp.pingCheck;
    if (plan.interface !== null && ping) daemon.conflicts = openConflictProbe(ping.timeoutMs, daemon.log);
    daemon.sweep = setInterval(() => daemon.expire(), 10_000);
    daemon.sweep.unref();
    daemon.logRoll = setInterval(() => daemon.lines.roll(daemon.now(), daemon.summariseLines), 1000);
    daemon.logRoll.unref();
    if (plan.interface !== null && daemon.transport.ifindex > 0) daemon.watchLink(plan, plan.interface, daemon.transport.ifindex);
    daemon.log.info(
      { listen: daemon.describe, leases: load.leases.size, stateDir: plan.statePath },
      `DHCP serving ${plan.dhcp.scopes.map((s) => `${s.subnet.network}/${s.subnet.prefix}`).join(', ')} on ${daemon.describe}`,
    );
    return daemon;
  }

  /** Swaps the plan: the pool, options, classes and lease times change; leases and sockets stay. */
  reload(plan: Plan): void {
    const bound = this.boundPlan;
    if (plan.interface !== bound.interface || plan.dhcp.port !== bound.dhcp.port || plan.address !== bound.address) {
      this.log.warn('interface, address or DHCP port changed: restart provlab for that to take effect');
    }
    // Until that restart, replies keep naming the socket in use: the ports they go to
    // (relay = port, client = port + 1) and the server id (54) a client unicasts to.
    this.engine.setPlan({ ...plan.dhcp, port: bound.dhcp.port, serverId: bound.dhcp.serverId });
    // ping_check turned off takes effect now; turned on needs the raw socket opened at start.
    if (plan.dhcp.pingCheck) this.conflicts?.setTimeout(plan.dhcp.pingCheck.timeoutMs);
    else if (this.conflicts) {
      this.conflicts.close();
      this.conflicts = null;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.sweep) clearInterval(this.sweep);
    if (this.logRoll) clearInterval(this.logRoll);
    this.linkWatch?.stop();
    this.conflicts?.close();
    await this.transport.close();
    await this.journal.close();
  }

  private watchLink(plan: Plan, iface: string, ifindex: number): void {
    this.linkWatch = new LinkWatch(
      iface,
      ifindex,
      () => this.log.warn({ interface: iface }, `interface ${iface} is gone: no DHCP answers until it is back`),
      async (next) => {
        if (this.stopped) return false;
        let fresh: UdpTransport;
        try {
          fresh = await this.openTransport(plan);
        } catch (err) {
          this.log.warn({ interface: iface, err: (err as Error).message }, `interface ${iface} is back but DHCP cannot bind to it yet`);
          return false;
        }
        if (this.stopped) {
          await fresh.close();
          return false;
        }
        const old = this.transport;
        this.transport = fresh;
        await old.close();
        this.log.warn({ interface: iface, ifindex: next }, `interface ${iface} was re-created: DHCP bound to it again`);
        return true;
      },
      this.options.linkPollMs === undefined ? {} : { intervalMs: this.options.linkPollMs },
    );
  }

  /** On the VLAN interface: 0.0.0.0:port bound to the device; null: relayed packets only, on address:port. */
  private openTransport(plan: Plan): Promise<UdpTransport> {
    const iface = plan.interface;
    const ingress: Ingress = iface !== null ? 'interface' : 'relay-socket';
    return openUdpTransport(
      {
        address: iface !== null ? '0.0.0.0' : plan.address,
        port: plan.dhcp.port,
        device: iface,
        service: 'DHCP',
        slots: 64,
        slotSize: SLOT_SIZE,
        rcvbuf: RCVBUF,
        flushAfter: FLUSH_AFTER,
        // Replies wait for their lease's fsync, past the next recvmmsg().
        keepBytes: true,
        dgram: this.options.dgram,
        // A secondary address of the interface: replies from it, as option 54 says (the kernel would pick the primary).
        sourceIp: iface !== null && isDeviceAddress(iface, plan.address) ? plan.address : null,
      },
      {
        datagram: (buf) => this.receive(buf, ingress),
        oversized: (bytes) => {
          this.counters.received++;
          this.counters.malformed++;
          this.log.debug({ bytes }, `DHCP datagram longer than ${SLOT_SIZE} bytes dropped`);
        },
        sendFailed: (err, count, to) => this.sendFailed(err, to, count),
        socketError: (err) => this.log.error({ err }, 'DHCP socket error'),
      },
    );
  }

  /** Queues one reply; RFC 2131 §4.1's unicast to a client without an address needs its ARP entry first. Throws when it cannot be sent. */
  private sendReply(bytes: Uint8Array, to: Destination): void {
    if (to.arp && this.transport.device !== null) {
      try {
        this.transport.addArp(to.arp.ip, to.arp.mac);
      } catch (err) {
        this.log.debug({ err, ...to.arp }, 'ARP entry not added; broadcasting instead');
        to = { address: BROADCAST, port: to.port };
      }
    }
    this.transport.sendTo(bytes, to.address, to.port);
  }

  private sendFailed(err: Error, to: string, count = 1): void {
    this.counters.sendErrors += count;
    this.log.warn({ err: err.message, to }, 'DHCP reply not sent');
  }

  /** Entry point for every datagram. Never throws. */
  receive(buf: Uint8Array, ingress: Ingress): void {
    if (this.stopped) return;
    this.counters.received++;
    try {
      const decoded = decodeDhcpMessage(buf);
      if (!decoded.ok) {
        this.counters.malformed++;
        this.log.debug({ bytes: buf.length, error: decoded.error }, 'malformed DHCP packet dropped');
        return;
      }
      this.handle(decoded.value, ingress);
    } catch (err) {
      // A bug, not a bad packet: keep serving, but make it loud.
      this.counters.malformed++;
      this.log.error({ err }, 'internal error while handling a DHCP packet');
    }
  }

  private handle(msg: DhcpMessage, ingress: Ingress): void {
    const now = this.now();
    const d = this.engine.handle(msg, ingress, now, this.conflicts === null ? undefined : this.probeGate);
    if (d.probe !== undefined) return this.probeThenHandle(msg, ingress, d.probe);
    const typeCode = msg.options.get(53)?.[0] ?? 0;
    const type = messageTypeName(typeCode) ?? `type-${typeCode}`;
    // The engine's option 55 list, shared between exchanges of one phone model: never mutated.
    const prl = d.prl;
    this.counters[d.kind] = (this.counters[d.kind] ?? 0) + 1;
    if (!d.reply && !d.commit) {
      // (`ignored` is counted by the line above: d.kind names the counter.)
      if (d.note?.startsWith('pool exhausted')) this.counters.poolExhausted++;
      // Built only when it will be written: at thousands of packets a second the garbage counts.
      if ((d.warn || this.log.isLevelEnabled('debug')) && this.admitLine(d.mac, now)) {
        const line = { mac: d.mac, xid: msg.xid, type, vendorClass: d.vendorClass, prl, note: d.note };
        if (d.warn) this.log.warn(line, `DHCP${type} from ${d.mac}: ${d.note}`);
        else this.log.debug(line, `DHCP${type} from ${d.mac}: ${d.note ?? 'no reply'}`);
      }
      this.options.events?.onExchange?.(d, { type, prl, ciaddr: msg.ciaddr, at: now });
      return;
    }
    const commit = d.commit;
    if (!commit) return this.send(d, msg, type, now);
    // Applied now so that packets handled during the write see the address taken; undone if the write fails.
    const previous = this.leases.get(commit.ip);
    const clientIp = this.leases.forClient(commit.clientId)?.ip;
    this.leases.apply(commit);
    this.journal.append(commit).then(
      () => {
        this.counters.commits++;
        this.options.events?.onLease?.(commit);
        if (!this.stopped) this.send(d, msg, type, now);
        this.maybeCompact();
      },
      (err: unknown) => {
        this.leases.revert(commit, previous, clientIp);
        this.log.error({ err, ip: commit.ip }, 'lease not written to disk: reply withheld');
        // A failed write leaves the journal refusing appends until a compaction starts a new one.
        this.maybeCompact();
      },
    );
  }

  /** Sends the decision's reply (if any), then logs and reports the exchange. */
  private send(d: Decision, msg: DhcpMessage, type: string, now: number): void {
    const prl = d.prl;
    let replyType: string | undefined;
    let sent: number[] = [];
    if (d.reply) {
      const encoded = encodeReply(d.reply, prl);
      replyType = messageTypeName(d.reply.message.options.get(53)?.[0] ?? 0);
      if ('error' in encoded) {
        this.log.error({ mac: d.mac, error: encoded.error }, 'reply could not be encoded');
        return;
      }
      // Shared when the reply came from a template: never mutated.
      sent = encoded.sent;
      try {
        this.sendReply(encoded.bytes, d.reply.to);
        this.counters.replies++;
      } catch (err) {
        this.sendFailed(err as Error, `${d.reply.to.address}:${d.reply.to.port}`);
      }
      if (encoded.dropped.length > 0) this.log.warn({ mac: d.mac, dropped: encoded.dropped, maxSize: d.reply.maxSize }, 'options dropped to fit the client\'s maximum message size');
    }
    if ((d.warn || this.log.isLevelEnabled('info')) && this.admitLine(d.mac, now)) {
      // Keys in this order, the optional ones absent when they do not apply (no spread of throw-away objects).
      const line: Record<string, unknown> = { mac: d.mac, xid: msg.xid, type, vendorClass: d.vendorClass, prl };
      if (d.reply) {
        line.reply = replyType;
        line.yiaddr = d.reply.message.yiaddr;
        line.to = `${d.reply.to.address}:${d.reply.to.port}`;
        line.options = sent;
      }
      if (d.note) line.note = d.note;
      const text = `DHCP${type} from ${d.mac}${d.vendorClass ? ` (${d.vendorClass})` : ''}${replyType ? ` -> ${replyType} ${d.reply?.message.yiaddr}` : ''}`;
      if (d.warn) this.log.warn(line, text);
      else this.log.info(line, text);
    }
    const onExchange = this.options.events?.onExchange;
    if (onExchange) {
      // One shape for every exchange (absent values are undefined).
      const info: ExchangeInfo = { type, prl, replyType, optionsSent: sent, ciaddr: msg.ciaddr, yiaddr: d.reply?.message.yiaddr, at: now };
      onExchange(d, info);
    }
  }

  /**
   * Off the packet path: waits for the probe of `ip`, quarantines it when
   * something answered (as a DECLINE would), then decides the message again:
   * the client is offered `ip`, or another address.
   */
  private probeThenHandle(msg: DhcpMessage, ingress: Ingress, ip: string): void {
    this.conflicts!.probe(ip).then((answered) => {
      if (this.stopped) return;
      if (answered) {
        const now = this.now();
        const rec = this.engine.conflictRecord(ip, now);
        this.leases.apply(rec);
        this.journal.append(rec).then(
          () => this.options.events?.onLease?.(rec),
          (err: unknown) => {
            this.log.error({ err, ip }, 'conflict quarantine not journaled');
            this.maybeCompact();
          },
        );
        this.log.warn({ ip, quarantineSeconds: Math.round((rec.expiresAt - now) / 1000) }, `address ${ip} answered a ping before it was offered: in use by another host, quarantined; offering another address`);
      }
      try {
        this.handle(msg, ingress);
      } catch (err) {
        this.log.error({ err }, 'internal error while handling a DHCP packet');
      }
    }, (err: unknown) => this.log.error({ err, ip }, 'DHCP conflict probe failed'));
  }

  private maybeCompact(): void {
    if (this.compacting || !this.journal.pendingCompaction || performance.now() < this.compactRetryAt) return;
    this.compacting = true;
    this.journal
      .compact(this.leases.all())
      .catch((err: unknown) => {
        this.compactRetryAt = performance.now() + COMPACT_RETRY_MS;
        this.log.error({ err }, `lease compaction failed; next attempt in ${COMPACT_RETRY_MS / 1000} s at the earliest`);
      })
      .finally(() => (this.compacting = false));
  }

  /** Marks bound leases past their time as expired, durably, so a restart agrees. */
  private expire(): void {
    const now = this.now();
    for (const r of this.leases.expiredSince(now)) {
      const rec: LeaseRecord = { ...r, state: 'expired', updatedAt: now };
      this.leases.apply(rec);
      this.journal.append(rec).then(
        () => this.options.events?.onLease?.(rec),
        (err: unknown) => {
          this.log.error({ err }, 'expiry not journaled');
          this.maybeCompact();
        },
      );
      this.log.info({ mac: r.mac, ip: r.ip }, `lease ${r.ip} of ${r.mac} expired`);
    }
  }
}
