// RFC 2131 server behaviour as a pure function of (plan, lease table, message, now):
// it decides the reply, where it goes, and which lease record must be made
// durable before the reply leaves. No sockets, no clock, no disk here.
import { vendorMatches, type DhcpPlan, type ClientClassPlan, type ScopePlan } from '../site/plan.js';
import type { LeaseRecord } from './lease-record.js';
import type { LeaseTable } from './lease-table.js';
import { hex } from '../wire/bytes.js';
import { MessageType, emptyMessage, encodeDhcpMessage, macOf, type DhcpMessage } from '../wire/dhcp-message.js';
import { inCidr, ipToInt, parseCidr, type Cidr } from '../wire/ipv4.js';
import { NO_FILE, NO_SNAME, encodeFromTemplate, isShared } from './reply-template.js';
import { Interned, LastAnswer, ReplyOptionsCache, type ReplyKind } from './reply-cache.js';

export const ZERO = '0.0.0.0';
export const BROADCAST = '255.255.255.255';
const BROADCAST_FLAG = 0x8000;

/** How the packet reached us: on the named VLAN interface, or on the relay-only socket. */
export type Ingress = 'interface' | 'relay-socket';

export interface Destination {
  address: string;
  port: number;
  /** Unicast to a client that has no address yet: the daemon must first add an ARP entry for yiaddr -> chaddr. */
  arp?: { ip: string; mac: string };
}

/** Which handler decided (RFC 2131 §4.3), or that the packet was ignored: names the daemon's counter. */
export type DecisionKind = 'ignored' | 'discover' | 'request' | 'decline' | 'release' | 'inform';

export interface Decision {
  /** What the log line and counters need. */
  kind: DecisionKind;
  reply?: Reply;
  /** Made durable (journal + fsync) before the reply is sent. */
  commit?: LeaseRecord;
  /** For the log: why nothing was sent, or what is notable. */
  note?: string;
  /** Log at warn instead of info (pool exhausted, declines). */
  warn?: boolean;
  vendorClass?: string;
  clientId: string;
  mac: string;
  /** The client's option 55, as asked (shared between decisions: never mutate). */
  prl: number[];
  /**
   * Conflict detection: nothing is sent yet; the daemon probes this address
   * (./conflict-probe.ts) and hands the message back (with `conflictRecord`
   * applied first when something answered).
   */
  probe?: string;
}

/**
 * Must this address be probed before it is first offered (ISC dhcpd's
 * ping-check)? The daemon's answer, from what it probed lately; scope is the
 * index into plan.scopes.
 */
export type ProbeGate = (ip: string, scope: number) => boolean;

/** Who a conflict found by a probe is recorded for: no client declined it, a probe did. */
export const CONFLICT_CLIENT = 'conflict:icmp-echo';

export interface Reply {
  message: DhcpMessage;
  to: Destination;
  maxSize: number;
  /**
   * Options copied from the request, sent after the message's own: 61 (RFC
   * 6842 §3) and 82 (RFC 3046 §2.2), unaltered. Kept apart from the shared
   * options map so the reply still comes from its template.
   */
  echo?: ReadonlyArray<readonly [number, Uint8Array]>;
}

/** RFC 6842 §3 and RFC 3046 §2.2: a server MUST return these as the client or relay sent them. */
const ECHOED = [61, 82] as const;

function echoOf(msg: DhcpMessage): Array<readonly [number, Uint8Array]> | undefined {
  let out: Array<readonly [number, Uint8Array]> | undefined;
  for (const code of ECHOED) {
    const v = msg.options.get(code);
    if (v !== undefined) (out ??= []).push([code, v]);
  }
  return out;
}

export interface ClientFacts {
  mac: string;
  clientId: string;
  vendorClass: string | undefined;
  prl: number[];
  hostname: string | undefined;
  requestedIp: string | undefined;
  serverId: string | undefined;
  maxSize: number;
}

const text = new TextDecoder('latin1');

function ipFrom(data: Uint8Array | undefined): string | undefined {
  if (!data || data.length !== 4) return undefined;
  return `${data[0]}.${data[1]}.${data[2]}.${data[3]}`;
}

/** Option 57 counts the whole IP datagram; our encoder sizes the UDP payload (minus 28 bytes of IP+UDP). */
function maxSizeOf(max: Uint8Array | undefined): number {
  const maxDatagram = max && max.length === 2 ? (max[0]! << 8) | max[1]! : 576;
  return Math.max(576, maxDatagram) - 28;
}

// RFC 2132 §2: receivers should be prepared to drop trailing NULs from text options.
function vendorClassText(vc: Uint8Array): string {
  return text.decode(vc).replace(/\0+$/, '');
}

const NO_PRL: number[] = [];

function ignored(f: ClientFacts, note: string): Decision {
  return { ...baseOf(f), kind: 'ignored', note };
}

function baseOf(f: ClientFacts): { clientId: string; mac: string; vendorClass: string | undefined; prl: number[] } {
  return { clientId: f.clientId, mac: f.mac, vendorClass: f.vendorClass, prl: f.prl };
}

// Option 53 values of OFFER and ACK replies, shared (encoders only read them).
const OFFER_TYPE = Uint8Array.of(MessageType.OFFER);
const ACK_TYPE = Uint8Array.of(MessageType.ACK);

function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

function ipBytes(ip: string): Uint8Array {
  return u32(ipToInt(ip));
}

/**
 * The link a relay names for the client, when it names one apart from giaddr:
 * RFC 3527 link selection (option 82 sub-option 5) first, then RFC 3011 subnet
 * selection (option 118), the order Kea uses. A malformed one is not a link.
 */
export function linkSelection(msg: DhcpMessage): { address: string; via: string } | undefined {
  const rai = msg.options.get(82);
  if (rai !== undefined) {
    for (let i = 0; i + 1 < rai.length; i += 2 + rai[i + 1]!) {
      if (rai[i] === 5 && rai[i + 1] === 4 && i + 6 <= rai.length) return { address: ipFrom(rai.subarray(i + 2, i + 6))!, via: 'option 82 sub-option 5' };
    }
  }
  const sel = ipFrom(msg.options.get(118));
  return sel === undefined ? undefined : { address: sel, via: 'option 118' };
}

/** A served subnet and what its replies share, computed once per plan. */
interface Scope {
  readonly plan: ScopePlan;
  readonly cidr: Cidr;
  readonly text: string;
  readonly leaseBytes: Uint8Array;
  readonly renewBytes: Uint8Array;
  readonly rebindBytes: Uint8Array;
  /** Per scope: its options (1, 3, 15, 119...) differ from the other scopes'. */
  readonly replyOptions: ReplyOptionsCache;
}

/** Is `ip` a unicast host address of the subnet: not its network or broadcast address (a /31 and a /32 have neither)? */
function isHostOf(ip: number, c: Cidr): boolean {
  if (!inCidr(ip, c)) return false;
  return c.prefix >= 31 || (ip !== c.network && ip !== c.broadcast);
}

export class Rfc2131 {
  private plan!: DhcpPlan;
  private scopes!: Scope[];
  // Per-plan constants of every reply, computed once (the plan is immutable).
  private serverIdBytes!: Uint8Array;
  // Shared between packets (reply-cache.ts): phones of one model send and get alike.
  private readonly relayScope = new LastAnswer<number>((giaddr) => this.hostScope(giaddr));
  private readonly prls = new Interned<number[]>((b) => Array.from(b));
  private readonly vendorClasses = new Interned<string>(vendorClassText);

  constructor(plan: DhcpPlan, private readonly leases: LeaseTable) {
    this.setPlan(plan);
  }

  setPlan(plan: DhcpPlan): void {
    this.scopes = plan.scopes.map((sc) => {
      const text = `${sc.subnet.network}/${sc.subnet.prefix}`;
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`bad subnet in plan: ${text}`);
      const scope: Scope = {
        plan: sc,
        cidr,
        text,
        leaseBytes: u32(sc.leaseSeconds),
        renewBytes: u32(sc.renewSeconds),
        rebindBytes: u32(sc.rebindSeconds),
        replyOptions: new ReplyOptionsCache((cls, prl, kind) => this.buildReplyOptions(scope, cls, prl, kind)),
      };
      return scope;
    });
    if (this.scopes.length === 0) throw new Error('plan has no DHCP scope');
    this.plan = plan;
    this.serverIdBytes = ipBytes(plan.serverId);
    this.relayScope.clear();
    this.leases.setPlan(plan);
  }

  classFor(vendorClass: string | undefined): ClientClassPlan | undefined {
    if (vendorClass === undefined) return undefined;
    // In the site's order, MS-UC-Client (exact) first: the first class that matches applies.
    for (const c of this.plan.classes) if (vendorMatches(c, vendorClass)) return c;
    return undefined;
  }

  /** Is `ip` in the scope's subnet (scope 0: dhcp.subnet)? */
  inSubnet(ip: string, scope = 0): boolean {
    if (ip === ZERO) return false;
    return inCidr(ipToInt(ip), this.scopes[scope]!.cidr); // throws on anything but a dotted quad, as it always did here
  }

  /**
   * A unicast host address of the scope's subnet: not its network or
   * broadcast address. Replies go to giaddr and to an INFORM's ciaddr, and a
   * reply to a broadcast address reaches every host on the VLAN (Kea sends
   * nothing for such a giaddr).
   */
  isHostAddress(ip: string, scope = 0): boolean {
    return ip !== ZERO && isHostOf(ipToInt(ip), this.scopes[scope]!.cidr);
  }

  /** The scope `ip` is a host address of, or -1. */
  private hostScope(ip: string): number {
    const n = ipToInt(ip);
    return this.scopes.findIndex((s) => isHostOf(n, s.cidr));
  }

  private servedText(): string {
    return this.scopes.length === 1 ? `subnet ${this.scopes[0]!.text}` : `any subnet served (${this.scopes.map((s) => s.text).join(', ')})`;
  }

  /**
   * Which scope a message is for (what Kea does): relayed, the link the relay
   * names (RFC 3527, RFC 3011), else giaddr (RFC 2131 §4.3.1); not relayed,
   * the subnet of ciaddr (a renewing client behind a router), else the
   * interface's subnet (scope 0). A string says why none.
   */
  private selectScope(msg: DhcpMessage, ingress: Ingress): number | string {
    if (msg.giaddr !== ZERO) {
      const link = linkSelection(msg);
      if (link === undefined) {
        const s = this.relayScope.get(msg.giaddr);
        return s >= 0 ? s : `relay ${msg.giaddr} is not a host address in ${this.servedText()}`;
      }
      const n = ipToInt(link.address);
      const s = this.scopes.findIndex((sc) => inCidr(n, sc.cidr));
      if (s < 0) return `relay ${msg.giaddr} names link ${link.address} (${link.via}), which is not in ${this.servedText()}`;
      // Replies go to giaddr: never to a network or broadcast address of ours.
      const g = ipToInt(msg.giaddr);
      if (this.scopes.some((sc) => inCidr(g, sc.cidr) && !isHostOf(g, sc.cidr))) return `relay ${msg.giaddr} is a network or broadcast address of a subnet served`;
      return s;
    }
    if (msg.ciaddr !== ZERO) {
      const s = this.hostScope(msg.ciaddr);
      if (s >= 0) return s;
    }
    // The relay-only socket never serves a broadcast.
    if (ingress === 'relay-socket') return 'direct request on the relay-only socket (no interface in the site file)';
    return 0;
  }

  /** What the engine needs of a client's message; options 55 and 60 interned (see Interned). */
  private factsOf(msg: DhcpMessage): ClientFacts {
    const mac = macOf(msg);
    const id = msg.options.get(61);
    const vc = msg.options.get(60);
    const prl = msg.options.get(55);
    const host = msg.options.get(12);
    return {
      mac,
      clientId: id && id.length > 0 ? hex(id) : `mac:${mac}`,
      vendorClass: vc ? this.vendorClasses.get(vc) : undefined,
      prl: prl ? this.prls.get(prl) : NO_PRL,
      hostname: host ? text.decode(host) : undefined,
      requestedIp: ipFrom(msg.options.get(50)),
      serverId: ipFrom(msg.options.get(54)),
      maxSize: maxSizeOf(msg.options.get(57)),
    };
  }

  handle(msg: DhcpMessage, ingress: Ingress, now: number, mustProbe?: ProbeGate): Decision {
    const facts = this.factsOf(msg);
    if (msg.op !== 1) return ignored(facts, 'not a BOOTREQUEST');
    const type = msg.options.get(53);
    if (!type || type.length !== 1) return ignored(facts, 'no DHCP message type (plain BOOTP is not served)');

    const scope = this.selectScope(msg, ingress);
    if (typeof scope === 'string') return ignored(facts, scope);
    const sc = this.scopes[scope]!;

    // No hardware address (hlen 0): nothing to bind a lease to, no one to unicast to.
    // Such a client may still ask for options with an INFORM.
    if (facts.mac === '' && type[0] !== MessageType.INFORM) {
      return ignored(facts, 'no hardware address (hlen 0): no lease for it');
    }

    switch (type[0]) {
      case MessageType.DISCOVER:
        return this.discover(msg, facts, scope, now, mustProbe);
      case MessageType.REQUEST:
        return this.request(msg, facts, scope, now);
      case MessageType.DECLINE:
        return this.decline(facts, now);
      case MessageType.RELEASE:
        return this.release(msg, facts, now);
      case MessageType.INFORM:
        return this.inform(msg, facts, sc);
      default:
        return ignored(facts, `message type ${type[0]} is not for a server`);
    }
  }

  private discover(msg: DhcpMessage, f: ClientFacts, scope: number, now: number, mustProbe?: ProbeGate): Decision {
    const sc = this.scopes[scope]!;
    const ip = this.leases.choose(f.clientId, f.mac, f.requestedIp, now, scope);
    if (ip === null) {
      return { ...baseOf(f), kind: 'discover', warn: true, note: `pool exhausted: no address to offer (${this.leases.poolSize(scope)} in pool${this.scopes.length > 1 ? ` of ${sc.text}` : ''})` };
    }
    this.leases.hold(ip, f.clientId, now + this.plan.offerHoldSeconds * 1000);
    const reserved = this.leases.reservationFor(f.mac, scope);
    // Held meanwhile, so nobody else is offered it. Not probed: the client's
    // reservation or its own earlier address (the client itself may answer).
    if (mustProbe !== undefined && reserved !== ip && this.leases.get(ip)?.clientId !== f.clientId && mustProbe(ip, scope)) {
      return { ...baseOf(f), kind: 'discover', probe: ip, note: `probing ${ip} before offering it` };
    }
    if (reserved !== undefined && reserved !== ip) {
      // Kea's behaviour: the reserved phone is not starved while another client's lease on its address runs out.
      return { ...baseOf(f), kind: 'discover', warn: true, note: `reserved address ${reserved} is still held by another client: offering ${ip} from the pool until that lease ends`, reply: this.reply(msg, f, sc, 'offer', ip) };
    }
    return { clientId: f.clientId, mac: f.mac, vendorClass: f.vendorClass, prl: f.prl, kind: 'discover', reply: this.reply(msg, f, sc, 'offer', ip) };
  }

  private request(msg: DhcpMessage, f: ClientFacts, scope: number, now: number): Decision {
    const sc = this.scopes[scope]!;
    // SELECTING: the client names the server it chose (option 54).
    if (f.serverId !== undefined) {
      if (f.serverId !== this.plan.serverId) {
        this.leases.releaseHold(f.clientId);
        return { ...baseOf(f), kind: 'request', note: `client chose server ${f.serverId}` };
      }
      const ip = f.requestedIp ?? (msg.ciaddr !== ZERO ? msg.ciaddr : undefined);
      if (ip !== undefined && this.leases.availableTo(ip, f.clientId, f.mac, now, scope)) return this.ack(msg, f, sc, ip, now);
      return this.nak(msg, f, scope, `requested ${ip ?? 'no address'}, which is not available to this client`);
    }
    // INIT-REBOOT: option 50 and no ciaddr. RENEWING/REBINDING: ciaddr set.
    const ip = msg.ciaddr !== ZERO ? msg.ciaddr : f.requestedIp;
    if (ip === undefined) return { ...baseOf(f), kind: 'request', note: 'REQUEST without server id, requested address or ciaddr' };
    if (!this.inSubnet(ip, scope)) return this.nak(msg, f, scope, `${ip} is not on this network`);
    // We are the only server on a provisioning VLAN: a free address is granted
    // (as dnsmasq does when authoritative), so phones keep their address even
    // if the state directory was wiped.
    if (this.leases.availableTo(ip, f.clientId, f.mac, now, scope)) return this.ack(msg, f, sc, ip, now);
    return this.nak(msg, f, scope, `${ip} belongs to another client or is outside the pool`);
  }

  private ack(msg: DhcpMessage, f: ClientFacts, sc: Scope, ip: string, now: number): Decision {
    const commit: LeaseRecord = {
      ip,
      clientId: f.clientId,
      mac: f.mac,
      state: 'bound',
      expiresAt: now + sc.plan.leaseSeconds * 1000,
      updatedAt: now,
    };
    // Absent rather than undefined (the record is compared and written as it is).
    if (f.hostname !== undefined) commit.hostname = f.hostname;
    if (f.vendorClass !== undefined) commit.vendorClass = f.vendorClass;
    return {
      clientId: f.clientId,
      mac: f.mac,
      vendorClass: f.vendorClass,
      prl: f.prl,
      kind: 'request',
      commit,
      reply: this.reply(msg, f, sc, 'ack', ip),
    };
  }

  private nak(msg: DhcpMessage, f: ClientFacts, scope: number, why: string): Decision {
    const m = emptyMessage();
    m.op = 2;
    m.htype = msg.htype;
    m.hlen = msg.hlen;
    m.xid = msg.xid;
    m.giaddr = msg.giaddr;
    m.chaddr = msg.chaddr;
    // RFC 2131 §4.3.2: a relayed NAK asks the relay to broadcast it.
    m.flags = msg.giaddr !== ZERO ? BROADCAST_FLAG : msg.flags;
    m.options.set(53, new Uint8Array([MessageType.NAK]));
    m.options.set(54, this.serverIdBytes);
    m.options.set(56, new TextEncoder().encode(why.slice(0, 200)));
    for (const [code, v] of echoOf(msg) ?? []) m.options.set(code, v);
    // §4.3.2 broadcasts a NAK when giaddr is 0; a client RENEWING from one of
    // our addresses may sit behind a router (relay-only mode), where only a
    // unicast to ciaddr reaches it (as dnsmasq does).
    const to: Destination =
      msg.giaddr !== ZERO ? { address: msg.giaddr, port: this.plan.port }
      : msg.ciaddr !== ZERO && this.isHostAddress(msg.ciaddr, scope) ? { address: msg.ciaddr, port: this.plan.port + 1 }
      : { address: BROADCAST, port: this.plan.port + 1 };
    return { ...baseOf(f), kind: 'request', note: why, reply: { message: m, to, maxSize: 576 - 28 } };
  }

  /** A probe found `ip` in use: quarantined as a DECLINE would (decline_hold). */
  conflictRecord(ip: string, now: number): LeaseRecord {
    return { ip, clientId: CONFLICT_CLIENT, mac: '00:00:00:00:00:00', state: 'declined', expiresAt: now + this.plan.declineHoldSeconds * 1000, updatedAt: now };
  }

  private decline(f: ClientFacts, now: number): Decision {
    const base = { ...baseOf(f), kind: 'decline' as const };
    if (f.serverId !== undefined && f.serverId !== this.plan.serverId) return { ...base, note: `decline for server ${f.serverId}` };
    const ip = f.requestedIp;
    const lease = ip ? this.leases.get(ip) : undefined;
    if (!ip || !lease || lease.clientId !== f.clientId) return { ...base, note: `decline of ${ip ?? 'no address'}, which this client does not hold` };
    return {
      ...base,
      warn: true,
      note: `address ${ip} is in use by another host (client declined it); quarantined for ${this.plan.declineHoldSeconds}s`,
      commit: { ip, clientId: f.clientId, mac: f.mac, state: 'declined', expiresAt: now + this.plan.declineHoldSeconds * 1000, updatedAt: now },
    };
  }

  private release(msg: DhcpMessage, f: ClientFacts, now: number): Decision {
    const base = { ...baseOf(f), kind: 'release' as const };
    // RFC 2131 table 5: a RELEASE names its server (option 54). One naming
    // another server is not ours (Kea and dnsmasq ignore it). One without 54 is
    // still honoured, as Kea does: the lease must match ciaddr and the client.
    if (f.serverId !== undefined && f.serverId !== this.plan.serverId) return { ...base, note: `release for server ${f.serverId}` };
    const lease = this.leases.get(msg.ciaddr);
    if (!lease || lease.clientId !== f.clientId || lease.state !== 'bound') return { ...base, note: `release of ${msg.ciaddr}, which this client does not hold` };
    return { ...base, commit: { ...lease, state: 'released', expiresAt: now, updatedAt: now } };
  }

  private inform(msg: DhcpMessage, f: ClientFacts, sc: Scope): Decision {
    // RFC 2131 §4.3.5: options only; no yiaddr, no lease time; unicast to ciaddr.
    // A ciaddr outside the subnet (or its broadcast address) would make us
    // send, larger than the request, to wherever the sender pointed.
    if (msg.ciaddr !== ZERO && !isHostOf(ipToInt(msg.ciaddr), sc.cidr)) return { ...baseOf(f), kind: 'inform', note: `INFORM from ${msg.ciaddr}, which is not a host address in subnet ${sc.text}` };
    return { ...baseOf(f), kind: 'inform', reply: this.reply(msg, f, sc, 'inform-ack', ZERO) };
  }

  /** Builds OFFER/ACK: header echo, server id, lease times when leasing, then the options. */
  private reply(msg: DhcpMessage, f: ClientFacts, sc: Scope, kind: ReplyKind, yiaddr: string): Reply {
    const m: DhcpMessage = {
      op: 2,
      htype: msg.htype,
      hlen: msg.hlen,
      hops: 0,
      xid: msg.xid,
      secs: 0,
      flags: msg.flags,
      // RFC 2131 table 3: ciaddr is 0 in an OFFER, echoed in an ACK.
      ciaddr: kind === 'offer' ? ZERO : msg.ciaddr,
      yiaddr,
      siaddr: ZERO,
      giaddr: msg.giaddr,
      chaddr: msg.chaddr,
      // Shared all-zero fields (one allocation less per reply): encoders only read them.
      sname: NO_SNAME,
      file: NO_FILE,
      // Shared between replies of one kind to one (class, option 55): never mutate (encodeReply copies before trimming).
      options: sc.replyOptions.get(this.classFor(f.vendorClass), f.prl, kind) as Map<number, Uint8Array>,
    };
    const reply: Reply = { message: m, to: this.destination(msg, kind, yiaddr, f.mac), maxSize: f.maxSize };
    const echo = echoOf(msg);
    if (echo) reply.echo = echo;
    return reply;
  }

  /** The whole options map of an OFFER, an ACK or an INFORM's ACK: type, server id, lease times when leasing, then the options. */
  private buildReplyOptions(sc: Scope, cls: ClientClassPlan | undefined, prl: readonly number[], kind: ReplyKind): Map<number, Uint8Array> {
    const options = new Map<number, Uint8Array>();
    options.set(53, kind === 'offer' ? OFFER_TYPE : ACK_TYPE);
    options.set(54, this.serverIdBytes);
    // RFC 2131 §4.3.5: no lease times in the ACK to an INFORM.
    if (kind !== 'inform-ack') {
      options.set(51, sc.leaseBytes);
      options.set(58, sc.renewBytes);
      options.set(59, sc.rebindBytes);
    }
    for (const [code, value] of this.optionsInSendOrder(sc, cls, prl)) options.set(code, value);
    return options;
  }

  /**
   * The options a client gets, requested ones first (in the order it asked),
   * then the class's always-send options, then the rest of what the site
   * configures: the phone's full parameter request list is not documented,
   * so we err on the side of sending, and the daemon trims from the end when
   * the reply would not fit the client's maximum message size.
   */
  private optionsInSendOrder(sc: Scope, cls: ClientClassPlan | undefined, prl: readonly number[]): Map<number, Uint8Array> {
    const available = new Map<number, Uint8Array>(sc.plan.baseOptions);
    if (cls) for (const [code, v] of cls.options) available.set(code, v);
    const out = new Map<number, Uint8Array>();
    for (const code of prl) {
      const v = available.get(code);
      if (v !== undefined && !out.has(code)) out.set(code, v);
    }
    if (cls) for (const code of cls.alwaysSend) {
      const v = available.get(code);
      if (v !== undefined && !out.has(code)) out.set(code, v);
    }
    for (const [code, v] of available) if (!out.has(code)) out.set(code, v);
    return out;
  }

  /** RFC 2131 §4.1 reply routing. */
  private destination(msg: DhcpMessage, kind: ReplyKind, yiaddr: string, mac: string): Destination {
    // §4.3.5: the ACK to an INFORM goes to ciaddr, relayed or not (as Kea and
    // dhcpd do): a relay forwards a reply to yiaddr, which is 0 here.
    if (kind === 'inform-ack' && msg.ciaddr !== ZERO) return { address: msg.ciaddr, port: this.plan.port + 1 };
    if (msg.giaddr !== ZERO) return { address: msg.giaddr, port: this.plan.port };
    if (msg.ciaddr !== ZERO) return { address: msg.ciaddr, port: this.plan.port + 1 };
    if ((msg.flags & BROADCAST_FLAG) !== 0 || yiaddr === ZERO) return { address: BROADCAST, port: this.plan.port + 1 };
    return { address: yiaddr, port: this.plan.port + 1, arp: { ip: yiaddr, mac } };
  }
}

/**
 * Encodes a reply within the client's size limit. When it does not fit even
 * with option overload, options the client did not ask for are dropped from
 * the end, then requested ones; what was dropped is returned for the log.
 */
/** Never dropped to make a reply fit: without them the reply is useless to an LPE phone. */
const ESSENTIAL = new Set([53, 54, 51, 58, 59, 1, 43, 120, ...ECHOED]);

const NOTHING_DROPPED: number[] = [];

/**
 * `sent`: the option codes in the reply as encoded (shared when from a
 * template: never mutate). Trimming replaces `reply.message.options` with a
 * trimmed copy, so it always tells what was sent.
 */
export function encodeReply(
  reply: { message: DhcpMessage; maxSize: number; echo?: Reply['echo'] },
  requested: readonly number[],
): { bytes: Uint8Array; dropped: number[]; sent: number[] } | { error: string } {
  // The usual case: the engine's shared options, which fit as they are.
  const fast = encodeFromTemplate(reply.message, reply.maxSize, reply.echo);
  if (fast !== undefined) return { bytes: fast.bytes, dropped: NOTHING_DROPPED, sent: reply.echo ? [...fast.codes, ...reply.echo.map(([c]) => c)] : (fast.codes as number[]) };
  if (reply.echo) {
    // Echoed options last, as the template path places them.
    const options = new Map(reply.message.options);
    for (const [code, v] of reply.echo) {
      options.delete(code);
      options.set(code, v);
    }
    reply.message.options = options;
    delete reply.echo;
  }
  const dropped: number[] = [];
  for (;;) {
    const r = encodeDhcpMessage(reply.message, { maxSize: reply.maxSize });
    if (r.ok) return { bytes: r.value, dropped, sent: [...reply.message.options.keys()] };
    if (r.error.code !== 'too-big') return { error: r.error.message };
    const codes = [...reply.message.options.keys()].filter((c) => !ESSENTIAL.has(c));
    const victim = codes.reverse().find((c) => !requested.includes(c)) ?? codes[0];
    if (victim === undefined) return { error: r.error.message };
    // The engine's options maps are shared between replies: trim a copy.
    if (isShared(reply.message.options)) reply.message.options = new Map(reply.message.options);
    reply.message.options.delete(victim);
    dropped.push(victim);
  }
}
