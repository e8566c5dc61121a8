// `provlab probe`: what a Lync Phone Edition phone does at boot, step by step,
// with every step checked. DHCP (DISCOVER/REQUEST, or INFORM), then the DNS
// names it looks up, then NTP. The checks are pure (option-checks, dns-checks,
// ntp-checks); this file only sequences the I/O around them.

import { createHash, randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import { hex } from '../wire/bytes.js';
import { decodeDhcpMessage, encodeDhcpMessage, MessageType, messageTypeOf, type DhcpMessage } from '../wire/dhcp-message.js';
import { DnsType, encodeDnsQuery } from '../wire/dns-message.js';
import { unixMsToNtp } from '../wire/ntp-packet.js';
import { check, type Check } from './check.js';
import { checkDnsAnswer, gradeDns, phoneQuestions, type DnsFinding, type DnsOutcome } from './dns-checks.js';
import { interfaceAddresses, interfaceExists, interfaceMac, openInterfaceLink, openRelayLink, ProbeSetupError, udpQuery, type DhcpLink, type QueryRoute } from './io.js';
import { buildNtpRequest, checkNtpAnswer, gradeNtp, type NtpTarget } from './ntp-checks.js';
import { checkReplyOptions } from './option-checks.js';
import {
  buildDiscover,
  buildInform,
  buildRequest,
  checkAck,
  checkInformAck,
  checkOffer,
  checkServers,
  isReplyTo,
  parseMac,
  PHONE_PRL,
  serverIdOf,
  type ExchangeOutcome,
  type PhoneIdentity,
  type SeenReply,
} from './phone-dhcp.js';
import { buildReport, type ProbeReport } from './report.js';

export { ProbeSetupError };

export type ProbeVia = { kind: 'interface'; interface: string } | { kind: 'relay'; giaddr: string; server: string; port: number };

export interface ProbeOptions {
  via: ProbeVia;
  /** Send a DHCPINFORM from this address instead of DISCOVER/REQUEST. */
  inform?: string;
  /** Default: the interface's own MAC; in relay mode a stable locally administered one derived from the host name. */
  mac?: Uint8Array;
  vendorClass?: string;
  prl?: readonly number[];
  dnsPort?: number;
  ntpPort?: number;
  /** Per attempt, for every exchange. */
  timeoutMs?: number;
  /** DHCP transmissions per exchange (the phone retransmits too). */
  attempts?: number;
  maxOffsetSeconds?: number;
  dns?: boolean;
  ntp?: boolean;
  logger?: Logger;
}

const hexMac = (b: Uint8Array): string => hex(b.subarray(0, 6), ':');

/** Same MAC on every run from this host and giaddr, so repeated probes reuse one lease instead of draining the pool. */
function stableMac(seed: string): Uint8Array {
  const h = createHash('sha256').update(seed).digest();
  const mac = new Uint8Array(6);
  mac[0] = 0x02; // locally administered, unicast
  mac.set(h.subarray(0, 5), 1);
  return mac;
}

interface Collector {
  all: SeenReply[];
  /** Resolves with the first reply to `request` that `want` accepts, or null after the attempts. */
  exchange(request: DhcpMessage, want: (m: DhcpMessage) => boolean): Promise<ExchangeOutcome>;
}

function collector(link: () => DhcpLink, attempts: number, timeoutMs: number, log?: Logger): { c: Collector; onDatagram: (buf: Uint8Array, from: string) => void } {
  const all: SeenReply[] = [];
  let pending: { request: DhcpMessage; want: (m: DhcpMessage) => boolean; startedAt: number; done: (r: SeenReply) => void } | null = null;
  let lastRequest: { msg: DhcpMessage; startedAt: number } | null = null;
  const onDatagram = (buf: Uint8Array, from: string): void => {
    const d = decodeDhcpMessage(buf);
    if (!d.ok) {
      log?.debug({ from, bytes: buf.length, error: d.error }, 'undecodable datagram on the DHCP socket ignored');
      return;
    }
    const m = d.value;
    if (lastRequest === null || !isReplyTo(m, lastRequest.msg)) return;
    // Views into the socket's buffer: copy what we keep.
    const kept = decodeDhcpMessage(new Uint8Array(buf));
    if (!kept.ok) return;
    const seen: SeenReply = { message: kept.value, from, afterMs: performance.now() - lastRequest.startedAt };
    all.push(seen);
    log?.debug({ from, type: messageTypeOf(m), yiaddr: m.yiaddr, options: [...m.options.keys()] }, 'DHCP reply');
    if (pending !== null && pending.want(kept.value)) pending.done(seen);
  };
  const exchange = (request: DhcpMessage, want: (m: DhcpMessage) => boolean): Promise<ExchangeOutcome> => {
    const enc = encodeDhcpMessage(request);
    if (!enc.ok) throw new Error(`probe request does not encode: ${enc.error.message}`);
    const startedAt = performance.now();
    lastRequest = { msg: request, startedAt };
    return new Promise((resolve) => {
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      const finish = (reply: SeenReply | null): void => {
        if (timer) clearTimeout(timer);
        pending = null;
        resolve({ sent, waitedMs: Math.round(performance.now() - startedAt), reply });
      };
      pending = { request, want, startedAt, done: (r) => finish(r) };
      // A reply that came in for an earlier exchange with the same xid (an OFFER while we REQUEST) does not count.
      const transmit = (): void => {
        if (sent >= attempts) {
          finish(null);
          return;
        }
        sent++;
        log?.debug({ xid: request.xid, type: messageTypeOf(request), attempt: sent }, 'DHCP request sent');
        try {
          link().send(enc.value);
        } catch (err) {
          log?.warn({ err: (err as Error).message }, 'DHCP request not sent');
        }
        timer = setTimeout(transmit, timeoutMs);
      };
      transmit();
    });
  };
  return { c: { all, exchange }, onDatagram };
}

const skipped = (section: 'dns' | 'ntp', reason: string): Check => check(section, `${section}.skipped`, section === 'dns' ? 'DNS look-ups' : 'NTP', 'skip', reason);

/** Runs the probe. Throws ProbeSetupError when it cannot start; otherwise every problem is a line of the report. */
export async function runProbe(o: ProbeOptions): Promise<ProbeReport> {
  const log = o.logger;
  const attempts = o.attempts ?? 3;
  const timeoutMs = o.timeoutMs ?? 2000;
  const dnsPort = o.dnsPort ?? 53;
  const ntpPort = o.ntpPort ?? 123;
  const maxOffset = o.maxOffsetSeconds ?? 300;
  const vendorClass = o.vendorClass ?? 'MS-UC-Client';
  const prl = o.prl ?? PHONE_PRL;
  const via = o.via;

  let mac = o.mac;
  if (via.kind === 'interface') {
    if (!interfaceExists(via.interface)) throw new ProbeSetupError(`no network interface ${JSON.stringify(via.interface)} here`);
    const own = interfaceMac(via.interface);
    mac ??= (own !== null ? parseMac(own) : null) ?? stableMac(`${hostname()}/${via.interface}`);
  } else {
    mac ??= stableMac(`${hostname()}/${via.giaddr}`);
  }

  const ifAddresses = via.kind === 'interface' ? interfaceAddresses(via.interface) : [];
  const informLocal = o.inform !== undefined && via.kind === 'interface' && ifAddresses.includes(o.inform);
  const identity: PhoneIdentity = {
    mac,
    vendorClass,
    prl,
    // No address on the interface: the offered one is never configured, so replies must be broadcast.
    // An INFORM from an address this host lacks asks for broadcast too (servers may ignore it: RFC 2131 unicasts to ciaddr).
    broadcast: via.kind === 'interface' && (o.inform === undefined || !informLocal),
    ...(via.kind === 'relay' ? { giaddr: via.giaddr } : {}),
  };

  let link: DhcpLink | undefined;
  const { c, onDatagram } = collector(() => link!, attempts, timeoutMs, log);
  link = via.kind === 'interface' ? await openInterfaceLink(via.interface, onDatagram) : await openRelayLink(via.giaddr, via.server, via.port, onDatagram, o.inform);
  log?.debug({ link: link.describe, mac: hexMac(mac) }, 'probe DHCP link open');

  const checks: Check[] = [];
  let final: SeenReply | null = null;
  let address: string | undefined;
  try {
    const xid = randomInt(0, 0xffffffff);
    if (o.inform !== undefined) {
      address = o.inform;
      if (via.kind === 'interface' && !informLocal) {
        checks.push(check('dhcp', 'dhcp.inform-address', 'INFORM address', 'warn', `${o.inform} is not an address of ${via.interface} (${ifAddresses.join(', ') || 'none'}): the server unicasts its ACK to it, so it may never arrive; the probe asked for a broadcast reply`));
      }
      if (link.informUnheard !== undefined) checks.push(check('dhcp', 'dhcp.inform-address', 'INFORM address', 'warn', `${link.informUnheard}; only a server that answers through the relay will be heard`));
      const out = await c.exchange(buildInform(identity, xid, o.inform), (m) => messageTypeOf(m) === MessageType.ACK || messageTypeOf(m) === MessageType.NAK);
      checks.push(...checkInformAck(out));
      if (out.reply !== null && messageTypeOf(out.reply.message) === MessageType.ACK) final = out.reply;
    } else {
      const offer = await c.exchange(buildDiscover(identity, xid), (m) => messageTypeOf(m) === MessageType.OFFER);
      const offerCheck = checkOffer(offer);
      checks.push(offerCheck);
      if (offerCheck.status === 'pass' && offer.reply !== null) {
        const m = offer.reply.message;
        const ack = await c.exchange(buildRequest(identity, xid, m.yiaddr, m.options.get(54)!), (r) => {
          const t = messageTypeOf(r);
          return (t === MessageType.ACK || t === MessageType.NAK) && (serverIdOf(r) === undefined || serverIdOf(r) === serverIdOf(m));
        });
        const ackChecks = checkAck(ack, m.yiaddr);
        checks.push(...ackChecks);
        if (ack.reply !== null && messageTypeOf(ack.reply.message) === MessageType.ACK) {
          final = ack.reply;
          address = ack.reply.message.yiaddr;
        }
      }
    }
    const servers = checkServers(c.all);
    if (servers !== null) checks.push(servers);
  } finally {
    link.close();
  }

  const baseReport = {
    transport: via.kind === 'interface' ? { kind: 'interface' as const, interface: via.interface } : { kind: 'relay' as const, giaddr: via.giaddr, server: via.server, port: via.port },
    request: o.inform !== undefined ? ('inform' as const) : ('discover' as const),
    identity: { mac: hexMac(mac), vendorClass, prl: [...prl] },
    ...(address !== undefined ? { address } : {}),
  };

  if (final === null) {
    checks.push(skipped('dns', 'no DHCP answer to take a DNS server and domains from'), skipped('ntp', 'no DHCP answer to take an NTP server from'));
    return buildReport({ ...baseReport, checks });
  }

  // ---- options of the reply the phone acts on
  const { checks: optionChecks, facts } = checkReplyOptions(final.message.options, o.inform !== undefined ? 'inform' : 'ack');
  checks.push(...optionChecks);

  // ---- where DNS and NTP queries leave from
  let route: QueryRoute | null = null;
  let noRoute = '';
  if (via.kind === 'relay') {
    // From giaddr: an address inside the phone's subnet, as the phone's own queries would be.
    route = { kind: 'bind', address: via.giaddr };
  } else if (ifAddresses.length > 0) {
    route = { kind: 'device', interfaceName: via.interface };
  } else {
    noRoute = `${via.interface} has no IPv4 address and the probe never configures one${address !== undefined ? ` (${address} stays unused)` : ''}: add an address by hand, or probe with --inform ADDRESS once one is configured`;
  }

  // ---- DNS
  const findings: DnsFinding[] = [];
  if (o.dns === false) {
    checks.push(skipped('dns', 'disabled (--no-dns)'));
  } else if (facts.dnsServers.length === 0) {
    checks.push(skipped('dns', 'no DNS server in option 6'));
  } else if (route === null) {
    checks.push(skipped('dns', noRoute));
  } else {
    const r = route;
    const questions = phoneQuestions(facts);
    const outcomes = await Promise.all(questions.map((q) => askDns(r, facts.dnsServers, dnsPort, q.name, q.type, timeoutMs)));
    questions.forEach((q, i) => findings.push(checkDnsAnswer(q, outcomes[i]!)));
    checks.push(...gradeDns(findings, facts.has120));
  }

  // ---- NTP
  if (o.ntp === false) {
    checks.push(skipped('ntp', 'disabled (--no-ntp)'));
  } else if (route === null) {
    checks.push(skipped('ntp', noRoute));
  } else {
    const targets: NtpTarget[] = [];
    const add = (address: string, source: string): void => {
      if (!targets.some((t) => t.address === address) && targets.length < 4) targets.push({ address, port: ntpPort, source });
    };
    for (const a of facts.ntpServers) add(a, 'option 42');
    for (const a of facts.timeServers) add(a, 'option 4');
    for (const f of findings) if (f.question.name === 'time.windows.com') for (const a of f.addresses) add(a, 'time.windows.com');
    if (targets.length === 0) {
      checks.push(check('ntp', 'ntp.none', 'NTP server', 'fail', 'none found: options 42 and 4 are missing and time.windows.com did not resolve; without time the phone cannot do TLS'));
    } else {
      const r = route;
      const results = await Promise.all(targets.map((t) => askNtp(r, t, timeoutMs, maxOffset)));
      checks.push(...gradeNtp(results));
    }
  }

  return buildReport({
    ...baseReport,
    ...(serverIdOf(final.message) !== undefined ? { dhcpServer: serverIdOf(final.message)! } : {}),
    ...(facts.certProvUrl !== undefined ? { certProvUrl: facts.certProvUrl } : {}),
    checks,
  });
}

/** Asks the servers of option 6 in turn (the next one only when one stays silent), as a stub resolver does. */
async function askDns(route: QueryRoute, servers: readonly string[], port: number, name: string, type: 'A' | 'SRV', timeoutMs: number): Promise<DnsOutcome> {
  let query: Uint8Array;
  try {
    query = encodeDnsQuery(0, name, DnsType[type]);
  } catch (err) {
    return { kind: 'skip', reason: `not a valid DNS name: ${(err as Error).message}` };
  }
  const tried: string[] = [];
  let lastError: { server: string; message: string } | null = null;
  for (const server of servers.slice(0, 3)) {
    const id = randomInt(0, 0x10000);
    query[0] = id >>> 8;
    query[1] = id & 0xff;
    const r = await udpQuery(route, server, port, () => query, (b, from, fromPort) => b.length >= 2 && ((b[0]! << 8) | b[1]!) === id && from === server && fromPort === port, timeoutMs);
    tried.push(`${server}:${port}`);
    if (r.kind === 'answer') return { kind: 'answer', server: `${server}:${port}`, bytes: r.bytes, rttMs: r.rttMs };
    if (r.kind === 'error') lastError = { server: `${server}:${port}`, message: r.message };
  }
  if (lastError !== null && tried.length === 1) return { kind: 'error', ...lastError };
  return { kind: 'timeout', servers: tried, waitedMs: timeoutMs };
}

async function askNtp(route: QueryRoute, target: NtpTarget, timeoutMs: number, maxOffset: number): Promise<ReturnType<typeof checkNtpAnswer>> {
  let t1 = unixMsToNtp(Date.now());
  const r = await udpQuery(
    route,
    target.address,
    target.port,
    () => {
      // Fresh time in the high bits; random low bits make the echo check byte-exact and unguessable.
      t1 = unixMsToNtp(performance.timeOrigin + performance.now());
      t1[7] = randomBytes(1)[0]!;
      return buildNtpRequest(t1);
    },
    (_b, from, fromPort) => from === target.address && fromPort === target.port,
    timeoutMs,
  );
  if (r.kind === 'answer') return checkNtpAnswer(target, t1, { kind: 'answer', bytes: r.bytes, t4: unixMsToNtp(r.receivedAtMs) }, maxOffset);
  return checkNtpAnswer(target, t1, r, maxOffset);
}
