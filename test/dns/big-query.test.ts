// RFC 8906 §3.1.1: a UDP query of any size up to the largest UDP payload is
// answered, not dropped (it used to be dropped above a 2048-byte slot). The
// query is padded with an RFC 7830 padding option; both UDP paths.
import t from 'tap';
import { pino } from 'pino';
import { DnsDaemon } from '../../src/dns/daemon.js';
import { batchSocketsAvailable } from '../../src/net/batch-socket.js';
import { decodeDnsMessage } from '../../src/wire/dns-message.js';
import { rawQuery, testPlan, udpExchange } from './helpers.js';

/** A query for ucupdates-r2 with an OPT whose padding option makes the datagram `size` bytes. */
function paddedQuery(id: number, size: number): Buffer {
  const base = rawQuery(id, 'ucupdates-r2.schertz.name', 1, { additional: '00 0029 04d0 00 00 0000 0000' });
  const pad = size - base.length - 4;
  const q = Buffer.concat([base, Buffer.alloc(4 + pad)]);
  q.writeUInt16BE(4 + pad, base.length - 2); // OPT RDLENGTH
  q.writeUInt16BE(12, base.length); // PADDING
  q.writeUInt16BE(pad, base.length + 2);
  return q;
}

for (const dgram of [false, true]) {
  const skip = !dgram && !batchSocketsAvailable().ok ? 'native addon not built' : false;
  t.test(`${dgram ? 'dgram' : 'batch socket'}: queries of 3000 and 65507 bytes are answered`, { skip }, async (t) => {
    const daemon = await DnsDaemon.start(testPlan(), { logger: pino({ level: 'silent' }), dgram });
    t.teardown(() => daemon.stop());
    const port = daemon.address().port;
    const sizes = [600, 3000, 65507];
    const answers = await udpExchange(port, sizes.map((s, i) => paddedQuery(100 + i, s)), 300);
    answers.forEach((got, i) => {
      t.equal(got.length, 1, `${sizes[i]} bytes: one answer`);
      const m = decodeDnsMessage(got[0]!);
      t.ok(m.ok && m.value.header.id === 100 + i && m.value.header.rcode === 0 && m.value.answers.length === 1, `${sizes[i]} bytes: NOERROR with the A record`);
    });
    t.equal(daemon.counters.dropped, 0);
  });
}
