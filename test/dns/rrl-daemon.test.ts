// dns.rate_limit in the daemon: a burst of one answer to one client address is
// cut to the rate, every second limited response slips as TC=1 with the
// question only, and another address and 127.0.0.1 are not touched.
// Clients bind 127.0.7.x (Linux routes all of 127/8 to lo). Bounded: 100 queries a burst.
import t from 'tap';
import dgram from 'node:dgram';
import { pino } from 'pino';
import { DnsDaemon } from '../../src/dns/daemon.js';
import { rawQuery, testPlan } from './helpers.js';

/** `count` copies of one query from `local`, sent at once; every datagram back within `waitMs`. */
function burst(port: number, local: string, count: number, waitMs = 400): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    s.on('error', reject);
    s.on('message', (m) => got.push(m));
    s.bind(0, local, () => {
      for (let i = 0; i < count; i++) s.send(rawQuery(i, 'sip.schertz.name', 1), port, '127.0.0.1');
      setTimeout(() => {
        s.close();
        resolve(got);
      }, waitMs);
    });
  });
}

for (const path of ['batch', 'dgram'] as const) {
  t.test(`a burst from one address is limited (${path})`, async (t) => {
    const plan = testPlan();
    t.same(plan.dns.rateLimit, { responsesPerSecond: 20, slip: 2, windowSeconds: 5, ipv4PrefixLength: 32 }, 'the defaults');
    const daemon = await DnsDaemon.start(plan, { logger: pino({ level: 'silent' }), logQueries: false, dgram: path === 'dgram' });
    t.teardown(() => daemon.stop());
    const port = daemon.address().port;
    const got = await burst(port, '127.0.7.1', 100);
    const full = got.filter((m) => (m[2]! & 0x02) === 0);
    const tc = got.filter((m) => (m[2]! & 0x02) !== 0);
    t.ok(full.length >= 20 && full.length <= 22, `about 20 whole answers (${full.length})`);
    t.ok(tc.length >= 35 && tc.length <= 41, `every second limited response slips (${tc.length})`);
    t.equal(daemon.counters.rrlSlipped, tc.length);
    t.equal(daemon.counters.rrlDropped, 100 - full.length - tc.length, 'the rest dropped');
    const slip = tc[0]!;
    t.equal(slip.readUInt16BE(4), 1, 'the slipped response has the question');
    t.same([slip.readUInt16BE(6), slip.readUInt16BE(8), slip.readUInt16BE(10)], [0, 0, 0], 'and no records');
    t.equal(slip.subarray(12).toString('hex'), rawQuery(0, 'sip.schertz.name', 1).subarray(12).toString('hex'));
    t.equal((await burst(port, '127.0.7.2', 5)).filter((m) => (m[2]! & 0x02) === 0).length, 5, 'another address is answered');
    t.equal((await burst(port, '127.0.0.1', 100)).filter((m) => (m[2]! & 0x02) === 0).length, 100, '127.0.0.1 (the box) is never limited');
  });
}

t.test('rate 0 turns it off; a reload applies new settings', async (t) => {
  const plan = testPlan();
  const off = { ...plan, dns: { ...plan.dns, rateLimit: { ...plan.dns.rateLimit!, responsesPerSecond: 0 } } };
  const daemon = await DnsDaemon.start(off, { logger: pino({ level: 'silent' }), logQueries: false });
  t.teardown(() => daemon.stop());
  const port = daemon.address().port;
  t.equal((await burst(port, '127.0.7.3', 60)).length, 60, 'off: every query answered');
  daemon.reload(plan);
  t.ok((await burst(port, '127.0.7.3', 60)).filter((m) => (m[2]! & 0x02) === 0).length <= 22, 'on after the reload');
});
