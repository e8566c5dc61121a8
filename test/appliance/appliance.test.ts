// The appliance in this process (no CLI spawned): one plan on loopback high
// ports, relay-only so no root. A phone's DHCP lease and INFORM, its DNS and
// NTP queries and the control endpoint's view of it; a reload with a changed
// plan that reaches every part; a restart that serves the stored lease's name
// and feeds the timeline once; a start that fails stops what it had started;
// stop leaves no socket or timer behind.
import t, { type Test } from 'tap';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { pino, type Logger } from 'pino';
import { Appliance } from '../../src/appliance/appliance.js';
import { silentLogger } from '../../src/log.js';
import type { Plan } from '../../src/site/plan.js';
import { StagingTimeline } from '../../src/timeline/timeline.js';
import type { StatusResponse } from '../../src/control/server.js';
import { MessageType } from '../../src/wire/dhcp-message.js';
import { clientMessage, openRelay, type RelayClient } from '../helpers/relay-client.js';
import { labSpec, mergeSite, planOf, siteYaml, type SiteSection } from '../helpers/sites.js';

const NET = `127.${20 + (process.pid % 40)}.0`;
const GIADDR = `${NET}.1`;
const PHONE = '00:04:f2:95:31:a2';
const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'ascii'));
const LYNC: [number, Uint8Array][] = [
  [60, ascii('MS-UC-Client')],
  [55, Uint8Array.of(1, 3, 6, 15, 42, 43, 119, 120)],
  [12, ascii('CX600-Lobby')],
];

interface Ports {
  dhcp: number;
  dns: number;
  ntp: number;
  control: number;
}

interface SiteChoice {
  name?: string;
  /** Instead of the port startOnFreePorts picks. */
  controlPort?: number;
  search?: readonly string[];
  lease?: string;
  ntp?: SiteSection;
  dnsEnabled?: boolean;
}

function siteText(ports: Ports, state: string, o: SiteChoice = {}): string {
  const lab = labSpec(
    { serverIp: '127.0.0.1', prefix: NET },
    { name: o.name ?? 'appliance-test', state, router: GIADDR, ...(o.lease ? { lease: o.lease } : {}), ...(o.search ? { search: o.search } : {}), listen: { dhcp: ports.dhcp, dns: ports.dns, ntp: ports.ntp } },
  );
  return siteYaml(mergeSite(lab, { control: { port: o.controlPort ?? ports.control }, ...(o.ntp ? { ntp: o.ntp } : {}), ...(o.dnsEnabled === false ? { dns: { enabled: false } } : {}) }));
}

function appliancePlan(ports: Ports, state: string, o: SiteChoice = {}): Plan {
  const file = `${state}/../site.yaml`;
  return planOf(siteText(ports, state, o), file);
}

/** Starts on free ports (another test may hold some): the plan, the appliance, and a teardown that stops it. */
async function startOnFreePorts(t: Test, state: string, logger: Logger, o: SiteChoice = {}): Promise<{ appliance: Appliance; ports: Ports; plan: Plan }> {
  for (let attempt = 0; ; attempt++) {
    const base = 40000 + ((process.pid * 23 + attempt * 101) % 20000);
    const ports = { dhcp: base, dns: base + 1, ntp: base + 2, control: o.controlPort ?? base + 3 };
    const plan = appliancePlan(ports, state, o);
    try {
      const appliance = await Appliance.start(plan, { logger, fsync: false });
      t.teardown(() => appliance.stop());
      return { appliance, ports, plan };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 10) throw err;
    }
  }
}

function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) }) };
}

/** One UDP request from `from` (any 127/8 address is this host's), the first reply or null. */
async function udpAsk(from: string, port: number, bytes: Uint8Array): Promise<Buffer | null> {
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => sock.bind(0, from, resolve));
    return await new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 2000);
      sock.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      sock.send(bytes, port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

/** RFC 1035 §4.1: header (id, RD, one question), QNAME as labels, QTYPE A, QCLASS IN. */
function dnsQueryA(name: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l, 'ascii')]);
  return Uint8Array.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}

/** A reply's RCODE and the addresses of its A answers (RFC 1035 §4.1.1, §4.1.3; names may be pointers, §4.1.4). */
function dnsAnswers(b: Buffer | null): { rcode: number; a: string[] } | null {
  if (b === null || b.length < 12) return null;
  const skipName = (off: number): number => {
    while (b[off] !== 0) {
      if ((b[off]! & 0xc0) === 0xc0) return off + 2;
      off += b[off]! + 1;
    }
    return off + 1;
  };
  let off = skipName(12) + 4;
  const a: string[] = [];
  for (let i = 0; i < b.readUInt16BE(6); i++) {
    off = skipName(off);
    const type = b.readUInt16BE(off);
    const len = b.readUInt16BE(off + 8);
    if (type === 1 && len === 4) a.push(Array.from(b.subarray(off + 10, off + 14)).join('.'));
    off += 10 + len;
  }
  return { rcode: b[3]! & 0x0f, a };
}

/** RFC 5905 §7.3: a version 4 client-mode request, the rest zero. */
function ntpRequest(): Uint8Array {
  const b = new Uint8Array(48);
  b[0] = 0x23;
  return b;
}

function getStatus(port: number): Promise<StatusResponse> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/api/status', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(JSON.parse(body) as StatusResponse));
      })
      .on('error', reject);
  });
}

async function relayTo(t: Test, port: number): Promise<RelayClient> {
  const relay = await openRelay(GIADDR, '127.0.0.1', port);
  t.teardown(() => relay.close());
  return relay;
}

const u32 = (b: Uint8Array | undefined) => (b ? Buffer.from(b).readUInt32BE(0) : undefined);

/** Sockets and timers of this process; read first in this file, before any other test's. */
async function sockets(): Promise<string[]> {
  await new Promise((r) => setImmediate(r));
  return process.getActiveResourcesInfo().filter((r) => /^(UDPWrap|TCPServerWrap|TCPSocketWrap|Timeout)$/.test(r)).sort();
}

/** Which of the appliance's ports this process can bind (each closed again at once). */
async function bindable(ports: Ports): Promise<string[]> {
  const udp = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  const tcp = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  const checks: [string, Promise<boolean>][] = [
    ['udp dhcp', udp(ports.dhcp)],
    ['udp dns', udp(ports.dns)],
    ['udp ntp', udp(ports.ntp)],
    ['tcp dns', tcp(ports.dns)],
    ['tcp control', tcp(ports.control)],
  ];
  const free: string[] = [];
  for (const [name, ok] of checks) if (await ok) free.push(name);
  return free;
}

t.test('stop leaves no socket or timer behind', async (t) => {
  const state = `${t.testdir()}/state`;
  const before = await sockets();
  const { appliance, ports } = await startOnFreePorts(t, state, silentLogger());
  const relay = await openRelay(GIADDR, '127.0.0.1', ports.dhcp);
  t.ok(await relay.lease(PHONE, LYNC), 'leased');
  relay.close();
  await getStatus(ports.control);
  t.ok((await sockets()).length > before.length, 'sockets and timers while serving');
  await appliance.stop();
  await appliance.stop();
  t.same(await sockets(), before, 'the same sockets and timers as before start');
  // The batch socket (native addon) is no Node handle: binding its port again shows it closed.
  t.same(await bindable(ports), ['udp dhcp', 'udp dns', 'udp ntp', 'tcp dns', 'tcp control'], 'every port can be bound again');
});

t.test('one plan: DHCP, DNS, NTP and the control endpoint; a reload reaches every part', async (t) => {
  const state = `${t.testdir()}/state`;
  const { lines, logger } = captureLogger();
  const { appliance, ports, plan } = await startOnFreePorts(t, state, logger);
  const relay = await relayTo(t, ports.dhcp);

  // DHCP: DISCOVER/OFFER/REQUEST/ACK through the relay, then the phone's INFORM.
  const ip = await relay.lease(PHONE, LYNC);
  t.match(ip, new RegExp(`^${NET.replace(/\./g, '\\.')}\\.1[0-5]\\d$`), 'leased');
  const inform = clientMessage(MessageType.INFORM, PHONE, GIADDR, LYNC);
  inform.ciaddr = ip!;
  const ack = await relay.inform(inform);
  t.ok(ack?.options.has(43) && ack.options.has(120), 'INFORM answered with 43 and 120');

  // DNS: the site's records, and the lease's option 12 name.
  const ucupdates = dnsAnswers(await udpAsk(ip!, ports.dns, dnsQueryA('ucupdates-r2.schertz.name')));
  t.same(ucupdates, { rcode: 0, a: [`${NET}.10`] }, 'ucupdates-r2 resolves to Lync');
  t.same(dnsAnswers(await udpAsk(ip!, ports.dns, dnsQueryA('cx600-lobby.schertz.name'))), { rcode: 0, a: [ip] }, 'the option 12 name resolves to the lease');
  t.equal(dnsAnswers(await udpAsk('127.0.0.1', ports.dns, dnsQueryA('ucupdates-r2.other.example')))?.rcode, 5, 'a domain outside the site: REFUSED (no forwarders)');

  // NTP: stratum and refid of the plan.
  const time = await udpAsk(ip!, ports.ntp, ntpRequest());
  t.equal(time?.[1], 10, 'stratum 10');
  t.equal(time?.subarray(12, 16).toString('hex'), '4c4f434c', 'refid LOCL');

  // Control: the timeline placed every step on the phone.
  let status = await getStatus(ports.control);
  t.equal(status.appliance.site, 'appliance-test');
  const phone = status.phones.find((p) => p.mac === PHONE);
  t.same([phone?.lease.state, phone?.inform.state, phone?.ucupdates.state, phone?.ntp.state], ['done', 'done', 'done', 'done'], 'lease, INFORM, ucupdates-r2 and NTP seen');

  // Reload: a new name, search domain, lease time, stratum, refid and rate limit.
  const next = appliancePlan(ports, state, { name: 'appliance-reloaded', search: ['schertz.name', 'other.example'], lease: '10m', ntp: { stratum: 5, refid: 'GPS', rate_limit: '{ interval: 60s, burst: 1 }' } });
  appliance.reload(next);
  t.equal(appliance.plan, next);
  t.equal(appliance.boundPlan, plan);
  t.notOk(lines.some((l) => l.level === 40), 'nothing in this reload needs a restart');

  const offer = await relay.exchange(clientMessage(MessageType.DISCOVER, '02:00:00:00:15:02', GIADDR));
  t.equal(u32(offer?.options.get(51)), 600, 'DHCP: the new lease time');
  t.same(dnsAnswers(await udpAsk(ip!, ports.dns, dnsQueryA('ucupdates-r2.other.example'))), { rcode: 0, a: [`${NET}.10`] }, 'DNS: the new zone');
  t.same(dnsAnswers(await udpAsk(ip!, ports.dns, dnsQueryA('cx600-lobby.schertz.name')))?.a, [ip], 'DNS: lease names survive');
  const after = await udpAsk('127.0.0.1', ports.ntp, ntpRequest());
  t.equal(after?.[1], 5, 'NTP: the new stratum');
  t.equal(after?.subarray(12, 16).toString('hex'), '47505300', 'NTP: the new refid, GPS zero-padded (RFC 5905 §7.3)');
  t.equal((await udpAsk('127.0.0.1', ports.ntp, ntpRequest()))?.subarray(12, 16).toString('ascii'), 'RATE', 'NTP: the new rate limit (burst 1)');
  status = await getStatus(ports.control);
  t.equal(status.site, 'appliance-reloaded', 'timeline: the new site name');
  t.same(status.domains, ['schertz.name', 'other.example'], 'timeline: the new domains');
  t.equal(status.appliance.site, 'appliance-reloaded', 'control: the new site name');
});

t.test('what a reload cannot swap is logged as needing a restart', async (t) => {
  const state = `${t.testdir()}/state`;
  const { lines, logger } = captureLogger();
  const { appliance, ports } = await startOnFreePorts(t, state, logger);
  const moved = { ...ports, dns: ports.dns + 100, ntp: ports.ntp + 100, control: ports.control + 100 };
  appliance.reload(appliancePlan(moved, `${state}-elsewhere`, { dnsEnabled: false }));
  const warnings = lines.filter((l) => l.level === 40).map((l) => String(l.msg));
  t.ok(warnings.includes('dns.enabled changed: restart provlab for that to take effect'), 'DNS switched off');
  t.ok(warnings.includes('state directory changed: restart provlab for that to take effect'), 'another state directory');
  t.ok(warnings.includes('address or NTP port changed: restart provlab for that to take effect'), 'the NTP daemon\'s own warning');
  t.ok(warnings.includes('control port or enabled changed: restart provlab for that to take effect'), 'the control endpoint\'s');
  t.equal((await udpAsk('127.0.0.1', ports.ntp, ntpRequest()))?.[1], 10, 'NTP still answers on its bound port');
  t.equal((await getStatus(ports.control)).appliance.statePath, state, 'control still on its port, reporting the state directory in use');
});

t.test('a restart serves the stored lease: its name from the first query, the timeline fed once', async (t) => {
  const state = `${t.testdir()}/state`;
  const first = await startOnFreePorts(t, state, silentLogger());
  const ip = await (await relayTo(t, first.ports.dhcp)).lease(PHONE, LYNC);
  t.ok(ip, 'leased');
  await first.appliance.stop();

  // Per timeline: a start retried on other ports makes a timeline of its own.
  const original = StagingTimeline.prototype.onLease;
  const fed = new Map<StagingTimeline, string[]>();
  StagingTimeline.prototype.onLease = function (r) {
    fed.set(this, [...(fed.get(this) ?? []), r.ip]);
    original.call(this, r);
  };
  t.teardown(() => void (StagingTimeline.prototype.onLease = original));
  const { appliance, ports } = await startOnFreePorts(t, state, silentLogger());
  t.same(fed.get(appliance.timeline), [ip], 'the stored lease reached the timeline once');
  t.same(dnsAnswers(await udpAsk('127.0.0.1', ports.dns, dnsQueryA('cx600-lobby.schertz.name')))?.a, [ip], 'its option 12 name resolves');
  await udpAsk(ip!, ports.ntp, ntpRequest());
  const status = await getStatus(ports.control);
  const phone = status.phones.find((p) => p.mac === PHONE);
  t.equal(phone?.lease.source, 'journal', 'known from the journal');
  t.equal(phone?.ntp.state, 'done', 'NTP from its address placed on it');
  t.same(appliance.timeline.leases().map((l) => [l.ip, l.mac, l.source]), [[ip, PHONE, 'journal']]);
});

t.test('a part that cannot start stops the parts already started', async (t) => {
  const state = `${t.testdir()}/state`;
  // Hold the control port: TCP, opened last, after DNS, DHCP and NTP have bound.
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())));
  const control = (blocker.address() as net.AddressInfo).port;
  const { lines, logger } = captureLogger();
  // Without `required` a taken control port is a warning: the appliance serves without it.
  const served = await startOnFreePorts(t, state, logger, { controlPort: control });
  t.equal(served.appliance.control?.url, null);
  t.ok(lines.some((l) => l.level === 40 && String(l.msg).startsWith(`control endpoint not started: port ${control} is in use`)));
  await served.appliance.stop();

  // A taken NTP port does fail the start: DNS and DHCP, started before it, are stopped again.
  const ports = { ...served.ports, control };
  const ntpBlocker = dgram.createSocket('udp4');
  await new Promise<void>((r) => ntpBlocker.bind(ports.ntp, '127.0.0.1', r));
  t.teardown(() => ntpBlocker.close());
  await t.rejects(Appliance.start(appliancePlan(ports, state), { logger: silentLogger(), fsync: false }), { code: 'EADDRINUSE' });
  t.same(await bindable(ports), ['udp dhcp', 'udp dns', 'tcp dns'], 'the DHCP and DNS ports are free again (NTP and control: the blockers)');
  const again = await Appliance.start(appliancePlan({ ...ports, ntp: ports.ntp + 100 }, state), { logger: silentLogger(), fsync: false });
  t.teardown(() => again.stop());
  t.pass('and the DHCP journal lock was released: the same state directory starts');
});
