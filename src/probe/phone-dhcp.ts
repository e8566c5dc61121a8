// The DHCP messages a Lync Phone Edition phone sends, and the checks on the
// server's replies. Pure: messages in and out; the transport lives in io.ts.

import { emptyMessage, MessageType, messageTypeName, messageTypeOf, type DhcpMessage } from '../wire/dhcp-message.js';
import { readIp, writeIp } from '../wire/ipv4.js';
import { latin1 } from '../wire/bytes.js';
import { check, type Check } from './check.js';

/**
 * The parameter request list (55). The phone's real list is unknown
 * (docs/lpe-facts.md §Option 60 [U]); this one asks for everything the phone is known or
 * believed to use, in an order close to a Windows client's:
 *   1 subnet mask, 3 router, 6 DNS, 15 domain name   every client's basics
 *   42 NTP, 4 time server                            sources disagree which one the phone reads: ask both
 *   43 vendor-specific, 120 SIP servers              the documented INFORM asks for these two
 *   119 domain search                                ucupdates-r2.<each 119 domain>
 *   2 time offset                                    a desk phone shows local time [I]
 *   44, 46, 47 NetBIOS                               Windows CE heritage [I]; harmless, and they test
 *                                                    that a server trims unrequested options, not ours
 * Override with --prl.
 */
export const PHONE_PRL: readonly number[] = [1, 3, 6, 15, 42, 4, 43, 120, 119, 2, 44, 46, 47];

export interface PhoneIdentity {
  /** 6 bytes. */
  mac: Uint8Array;
  /** Option 60; the phone sends "MS-UC-Client" (case-sensitive). */
  vendorClass: string;
  prl: readonly number[];
  /** Relay mode: giaddr (and hops 1). */
  giaddr?: string;
  /**
   * Ask for broadcast replies (flags bit 15). Needed on an interface with no
   * address, since the probe never configures the address it is offered and
   * the kernel would drop a unicast to it.
   */
  broadcast: boolean;
}

function base(id: PhoneIdentity, type: number, xid: number): DhcpMessage {
  const m = emptyMessage();
  m.op = 1;
  m.xid = xid >>> 0;
  m.flags = id.broadcast ? 0x8000 : 0;
  const chaddr = new Uint8Array(16);
  chaddr.set(id.mac.subarray(0, 6));
  m.chaddr = chaddr;
  if (id.giaddr !== undefined) {
    m.giaddr = id.giaddr;
    m.hops = 1;
  }
  m.options.set(53, new Uint8Array([type]));
  // Windows clients send 61 = hardware type 1 + MAC; assumed for the phone [I].
  const cid = new Uint8Array(7);
  cid[0] = 1;
  cid.set(id.mac.subarray(0, 6), 1);
  m.options.set(61, cid);
  return m;
}

function withClassAndPrl(m: DhcpMessage, id: PhoneIdentity): DhcpMessage {
  m.options.set(60, new TextEncoder().encode(id.vendorClass));
  m.options.set(55, Uint8Array.from(id.prl));
  return m;
}

const ip = (text: string): Uint8Array => {
  const b = new Uint8Array(4);
  writeIp(b, 0, text);
  return b;
};

export function buildDiscover(id: PhoneIdentity, xid: number): DhcpMessage {
  return withClassAndPrl(base(id, MessageType.DISCOVER, xid), id);
}

/** SELECTING state (RFC 2131 §4.3.2): same xid as the OFFER, 50 and 54 from it, ciaddr 0. */
export function buildRequest(id: PhoneIdentity, xid: number, offered: string, serverId: Uint8Array): DhcpMessage {
  const m = base(id, MessageType.REQUEST, xid);
  m.options.set(50, ip(offered));
  m.options.set(54, serverId);
  return withClassAndPrl(m, id);
}

/** RFC 2131 §4.4.3: ciaddr = the address the client already has; no 50, no 54. */
export function buildInform(id: PhoneIdentity, xid: number, ciaddr: string): DhcpMessage {
  const m = base(id, MessageType.INFORM, xid);
  m.ciaddr = ciaddr;
  return withClassAndPrl(m, id);
}

/** A reply meant for this request: BOOTREPLY, same xid, same chaddr. */
export function isReplyTo(reply: DhcpMessage, request: DhcpMessage): boolean {
  if (reply.op !== 2 || reply.xid !== request.xid) return false;
  for (let i = 0; i < 6; i++) if (reply.chaddr[i] !== request.chaddr[i]) return false;
  return true;
}

export const typeName = (t: number | undefined): string => (t === undefined ? 'no message type' : (messageTypeName(t) ?? `type ${t}`));

export function serverIdOf(m: DhcpMessage): string | undefined {
  const v = m.options.get(54);
  return v !== undefined && v.length === 4 ? readIp(v, 0) : undefined;
}

/** A reply as seen on the wire, with where it came from. */
export interface SeenReply {
  message: DhcpMessage;
  from: string;
  /** Milliseconds after the request was first sent. */
  afterMs: number;
}

export interface ExchangeOutcome {
  /** How many times the request went out. */
  sent: number;
  /** Total time waited. */
  waitedMs: number;
  /** The reply the phone would act on (the first), or null. */
  reply: SeenReply | null;
}

const dhcp = (id: string, title: string, status: Check['status'], detail: string): Check => check('dhcp', id, title, status, detail);

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function u32(v: Uint8Array | undefined): number | undefined {
  return v !== undefined && v.length === 4 ? ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0 : undefined;
}

function nakReason(m: DhcpMessage): string {
  const t = m.options.get(56);
  return t !== undefined ? `: "${latin1(t)}"` : '';
}

export function checkOffer(o: ExchangeOutcome): Check {
  const title = 'DISCOVER → OFFER';
  if (o.reply === null) return dhcp('dhcp.offer', title, 'fail', `no OFFER after ${o.sent} DISCOVER(s) in ${(o.waitedMs / 1000).toFixed(1)} s`);
  const m = o.reply.message;
  const t = messageTypeOf(m);
  if (t !== MessageType.OFFER) return dhcp('dhcp.offer', title, 'fail', `got ${typeName(t)} from ${o.reply.from} instead of OFFER${t === MessageType.NAK ? nakReason(m) : ''}`);
  if (m.yiaddr === '0.0.0.0') return dhcp('dhcp.offer', title, 'fail', `OFFER from ${o.reply.from} with yiaddr 0.0.0.0`);
  const sid = serverIdOf(m);
  if (sid === undefined) return dhcp('dhcp.offer', title, 'fail', `OFFER of ${m.yiaddr} without a server identifier (54): the phone cannot REQUEST it (RFC 2131 §4.3.1 requires it)`);
  return dhcp('dhcp.offer', title, 'pass', `${m.yiaddr} from server ${sid} (${Math.round(o.reply.afterMs)} ms)`);
}

export function checkAck(o: ExchangeOutcome, offered: string): Check[] {
  const title = 'REQUEST → ACK';
  if (o.reply === null) return [dhcp('dhcp.ack', title, 'fail', `no reply after ${o.sent} REQUEST(s) in ${(o.waitedMs / 1000).toFixed(1)} s`)];
  const m = o.reply.message;
  const t = messageTypeOf(m);
  if (t === MessageType.NAK) return [dhcp('dhcp.ack', title, 'fail', `NAK from ${o.reply.from}${nakReason(m)}`)];
  if (t !== MessageType.ACK) return [dhcp('dhcp.ack', title, 'fail', `got ${typeName(t)} from ${o.reply.from} instead of ACK`)];
  const out: Check[] = [];
  if (m.yiaddr !== offered) out.push(dhcp('dhcp.ack', title, 'fail', `ACK for ${m.yiaddr}, but ${offered} was offered and requested`));
  else out.push(dhcp('dhcp.ack', title, 'pass', `${m.yiaddr} (${Math.round(o.reply.afterMs)} ms)`));
  const lease = u32(m.options.get(51));
  if (lease === undefined) out.push(dhcp('dhcp.lease', 'lease time (51)', 'fail', 'no lease time in the ACK (RFC 2131 §4.3.1 requires one)'));
  else out.push(dhcp('dhcp.lease', 'lease time (51)', 'pass', lease === 0xffffffff ? 'infinite' : duration(lease)));
  return out;
}

/** RFC 2131 §4.3.5: the ACK to an INFORM carries no yiaddr and no lease time. */
export function checkInformAck(o: ExchangeOutcome): Check[] {
  const title = 'INFORM → ACK';
  if (o.reply === null) return [dhcp('dhcp.inform', title, 'fail', `no ACK after ${o.sent} INFORM(s) in ${(o.waitedMs / 1000).toFixed(1)} s`)];
  const m = o.reply.message;
  const t = messageTypeOf(m);
  if (t !== MessageType.ACK) return [dhcp('dhcp.inform', title, 'fail', `got ${typeName(t)} from ${o.reply.from} instead of ACK${t === MessageType.NAK ? nakReason(m) : ''}`)];
  const out = [dhcp('dhcp.inform', title, 'pass', `from ${serverIdOf(m) ?? o.reply.from} (${Math.round(o.reply.afterMs)} ms)`)];
  const odd: string[] = [];
  if (m.yiaddr !== '0.0.0.0') odd.push(`yiaddr ${m.yiaddr}`);
  if (m.options.has(51)) odd.push('a lease time (51)');
  if (odd.length > 0) out.push(dhcp('dhcp.inform-form', 'INFORM ACK form', 'warn', `carries ${odd.join(' and ')}; RFC 2131 §4.3.5 says it must not (dnsmasq sends 51)`));
  return out;
}

/** Several servers answering the same request: the phone takes whichever is first. */
export function checkServers(replies: readonly SeenReply[]): Check | null {
  const ids = new Set(replies.map((r) => serverIdOf(r.message) ?? r.from));
  if (ids.size <= 1) return null;
  return dhcp('dhcp.servers', 'DHCP servers', 'warn', `${ids.size} servers answered (${[...ids].join(', ')}): a phone takes whichever answers first`);
}

export function parseMac(text: string): Uint8Array | null {
  const hexDigits = text.replace(/[:.-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hexDigits)) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(hexDigits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function parsePrl(text: string): number[] | null {
  const codes = text.split(',').map((s) => s.trim());
  if (codes.length === 0 || codes.some((c) => !/^\d{1,3}$/.test(c))) return null;
  const n = codes.map(Number);
  return n.every((c) => c >= 1 && c <= 254) ? n : null;
}
