// A lease journal write that fails (an EIO from fdatasync, a full disk) must
// cost the clients of that one group commit their ACK, not the daemon its
// ability to lease: the broken journal refuses appends, so the daemon
// compacts into a new one and the next client is served, durably.
import t from 'tap';
import fs, { type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { LeaseJournal } from '../../src/dhcp/lease-journal.js';
import { startLoopbackDhcp } from '../helpers/loopback-dhcp.js';

const NET = `127.${90 + (process.pid % 30)}`;

t.test('after a failed fdatasync the daemon compacts into a new journal and leases again', async (t) => {
  // Fail the next fdatasync of any file, once: wraps FileHandle.prototype.datasync.
  const probe = await fs.open(join(t.testdir(), 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { datasync: (this: FileHandle) => Promise<void> };
  await probe.close();
  const original = proto.datasync;
  let failNext = false;
  proto.datasync = async function (this: FileHandle) {
    if (failNext) {
      failNext = false;
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    }
    return original.call(this);
  };
  t.teardown(() => {
    proto.datasync = original;
  });

  const errors: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      const line = JSON.parse(chunk.toString()) as { level: number; msg: string };
      if (line.level >= 50) errors.push(line.msg);
      done();
    },
  });
  const { daemon, relay, plan } = await startLoopbackDhcp(t, {
    name: 'journal-failure',
    subnet: `${NET}.0.0/24`,
    pool: `${NET}.0.100-${NET}.0.150`,
    router: `${NET}.0.1`,
    reserved: { mac: '00:04:f2:95:31:a3', ip: `${NET}.0.50` },
    logger: pino({ level: 'warn' }, stream),
    port: (attempt) => 31000 + ((process.pid * 17 + attempt * 89) % 24000),
    relay: true,
    fsync: true,
  });

  const first = await relay!.lease('02:00:00:00:00:01');
  t.ok(first, `a lease before the failure: ${first}`);

  failNext = true;
  const lost = await relay!.lease('02:00:00:00:00:02');
  t.equal(lost, null, 'no ACK for the lease whose write failed');
  t.ok(
    errors.some((m) => m.includes('lease not written to disk')),
    `the withheld reply is logged: ${JSON.stringify(errors)}`,
  );

  // The compaction runs in the background; a client retrying finds the new journal.
  let after: string | null = null;
  for (let i = 0; i < 20 && after === null; i++) after = await relay!.lease('02:00:00:00:00:03');
  t.ok(after, `a lease after the failure: ${after}`);
  t.notOk(
    errors.some((m) => m.includes('compaction failed')),
    'the compaction that replaced the broken journal succeeded',
  );

  await daemon.stop();
  const again = await LeaseJournal.open(plan.statePath);
  t.teardown(() => again.journal.close());
  const byMac = new Map([...again.leases.values()].map((r) => [r.mac, r]));
  t.equal(byMac.get('02:00:00:00:00:01')?.ip, first, 'the lease from before the failure is on disk');
  t.equal(byMac.get('02:00:00:00:00:03')?.ip, after, 'the lease from after the failure is on disk');
  // Issue 20: the refused REQUEST used to stay bound in memory, and the compaction wrote it as a lease.
  t.equal(byMac.get('02:00:00:00:00:02'), undefined, 'the lease whose write failed was never granted, not even by the compaction');
});

for (const fault of ['deleted', 'truncated'] as const) {
  t.test(`journal ${fault} by an admin while provlab runs: logged at error, rewritten from memory, no ACKed lease lost`, async (t) => {
    const errors: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _e, done) {
        const line = JSON.parse(chunk.toString()) as { level: number; msg: string; err?: { message?: string } };
        if (line.level >= 50) errors.push(`${line.msg}: ${line.err?.message ?? ''}`);
        done();
      },
    });
    const net = fault === 'deleted' ? 1 : 2;
    const { daemon, relay, plan } = await startLoopbackDhcp(t, {
      name: `journal-${fault}`,
      subnet: `${NET}.${net}.0/24`,
      pool: `${NET}.${net}.100-${NET}.${net}.150`,
      router: `${NET}.${net}.1`,
      reserved: { mac: '00:04:f2:95:31:a3', ip: `${NET}.${net}.50` },
      logger: pino({ level: 'warn' }, stream),
      port: (attempt) => 31000 + ((process.pid * 13 + net * 1000 + attempt * 89) % 24000),
      relay: true,
      fsync: true,
    });
    const acked = new Map<string, string>();
    for (let i = 1; i <= 5; i++) {
      const mac = `02:00:00:00:0${net}:0${i}`;
      const ip = await relay!.lease(mac);
      t.ok(ip);
      acked.set(mac, ip!);
    }
    const journal = join(plan.statePath, 'leases.journal');
    if (fault === 'deleted') await fs.unlink(journal);
    else await fs.truncate(journal, 0);
    for (let i = 6; i <= 8; i++) {
      const mac = `02:00:00:00:0${net}:0${i}`;
      let ip: string | null = null;
      for (let tries = 0; tries < 20 && ip === null; tries++) ip = await relay!.lease(mac);
      t.ok(ip, `${mac} leased after the ${fault} journal was replaced`);
      acked.set(mac, ip!);
    }
    t.ok(errors.some((m) => m.includes(`was ${fault} while provlab runs`)), `logged at error: ${JSON.stringify(errors)}`);
    await daemon.stop();
    const again = await LeaseJournal.open(plan.statePath);
    t.teardown(() => again.journal.close());
    const byMac = new Map([...again.leases.values()].map((r) => [r.mac, r.ip]));
    for (const [mac, ip] of acked) t.equal(byMac.get(mac), ip, `${mac} still holds ${ip} after a restart`);
  });
}
