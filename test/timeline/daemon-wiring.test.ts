// The timeline fed by the real DHCP and NTP daemons on loopback (DHCP through
// a relay, so no root): what onExchange reports (type, PRL, reply, options
// sent, addresses) lands in the right steps, and NTP from the leased address
// is placed on the phone that holds it.
import t from 'tap';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DhcpDaemon } from '../../src/dhcp/daemon.js';
import { NtpDaemon } from '../../src/ntp/daemon.js';
import { silentLogger } from '../../src/log.js';
import { StagingTimeline } from '../../src/timeline/timeline.js';
import { timelineSite } from '../../src/timeline/site-facts.js';
import { timelineDhcpEvents, timelineNtpEvents } from '../../src/timeline/adapters.js';
import { MessageType } from '../../src/wire/dhcp-message.js';
import { clientMessage, openRelay } from '../helpers/relay-client.js';
import { planOf, relayLabSite } from '../helpers/sites.js';

const PORT = 30000 + (process.pid % 3000) * 3;
const NET = `127.${150 + (process.pid % 50)}.0`;
const MAC = '00:04:f2:95:31:a2';

function plan(state: string) {
  // Relay-only on loopback: the relay at NET.1 selects the subnet, so no root is needed.
  const text = relayLabSite(
    { serverIp: '127.0.0.1', prefix: NET },
    { name: 'wiring-test', state, router: `${NET}.1`, web: null, listen: { dhcp: PORT, dns: PORT + 1, ntp: PORT + 2 } },
  );
  return planOf(text, '/tmp/wiring/site.yaml');
}

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'ascii'));

t.test('the site domains come from the option 15 and 119 bytes', async (t) => {
  const p = plan('/tmp/unused');
  t.same(timelineSite(p), { site: 'wiring-test', domains: ['schertz.name', 'corp.schertz.name'] });
});

t.test('DHCP and NTP daemons feed the timeline', async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'provlab-timeline-'));
  const p = plan(state);
  const tl = new StagingTimeline({ site: timelineSite(p) });
  const dhcp = await DhcpDaemon.start(p, { logger: silentLogger(), events: timelineDhcpEvents(tl), fsync: false });
  t.teardown(async () => {
    await dhcp.stop();
    rmSync(state, { recursive: true, force: true });
  });
  const ntp = await NtpDaemon.start({ ...p, ntp: { ...p.ntp, port: 0 } }, { logger: silentLogger(), events: timelineNtpEvents(tl) });
  t.teardown(() => ntp.stop());
  const relay = await openRelay(`${NET}.1`, '127.0.0.1', PORT);
  t.teardown(() => relay.close());

  const prl = [1, 3, 6, 15, 42, 43, 119, 120];
  const lync: [number, Uint8Array][] = [
    [60, ascii('MS-UC-Client')],
    [55, new Uint8Array(prl)],
  ];
  const ip = await relay.lease(MAC, lync);
  t.match(ip, new RegExp(`^${NET.replace(/\./g, '\\.')}\\.1[0-5]\\d$`), 'leased');

  const inform = clientMessage(MessageType.INFORM, MAC, `${NET}.1`, [...lync, [55, new Uint8Array([43, 120])]]);
  inform.ciaddr = ip!;
  const ack = await relay.inform(inform);
  t.ok(ack, 'INFORM answered');

  // NTP from the leased address (any 127/8 address is this host's).
  const sock = dgram.createSocket('udp4');
  t.teardown(() => sock.close());
  await new Promise<void>((r) => sock.bind(0, ip!, r));
  const req = Buffer.alloc(48);
  req[0] = 0x23;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no NTP reply')), 3000);
    sock.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    sock.send(req, ntp.address().port, '127.0.0.1');
  });

  const v = tl.snapshot();
  t.equal(v.phones.length, 1);
  const ph = v.phones[0]!;
  t.equal(ph.mac, MAC);
  t.equal(ph.ip, ip);
  t.equal(ph.lease.state, 'done');
  t.equal(ph.lease.vendorClass, 'MS-UC-Client');
  t.same(ph.lease.prl, prl, 'the REQUEST option 55 as sent');
  t.equal(ph.lease.offered, ip, 'the OFFER\'s yiaddr');
  t.equal(ph.inform.state, 'done');
  const sent = ph.inform.informs[0]!.optionsSent;
  t.ok(sent.includes(43) && sent.includes(120), `INFORM answered with 43 and 120 (${sent.join(',')})`);
  t.notOk(sent.includes(51), 'no lease time in an INFORM ACK (RFC 2131 §4.3.5)');
  t.same(ph.inform.informs[0]!.prl, [43, 120]);
  t.equal(ph.ntp.state, 'done', 'NTP from the leased address is this phone\'s');
  t.equal(ph.ntp.version, 4);
  t.same(ph.missing, ['no DNS query for ucupdates-r2 yet'], 'only DNS is left');
  t.same(tl.leases().map((l) => [l.ip, l.mac, l.source]), [[ip, MAC, 'inform']]);
});
