// The UDP transport's destination goes through the one dotted-quad parser
// (src/wire/ipv4.ts), on both paths. The DHCP batch transport used to have a
// lax parser of its own that read `0127.0.0.1` as 127.0.0.1, where the dgram
// fallback (and inet_aton, which reads a leading 0 as octal) disagree: the
// same reply went to different places, or nowhere, depending on the path.
import t from 'tap';
import dgram from 'node:dgram';
import { batchSocketsAvailable } from '../../src/net/batch-socket.js';
import { openUdpTransport } from '../../src/net/udp-transport.js';

const available = batchSocketsAvailable();

for (const path of ['batch', 'dgram'] as const) {
  const skip = path === 'batch' && !available.ok ? `native addon not built: ${available.reason}` : false;
  t.test(`${path}: a destination with a leading zero is refused, not sent`, { skip }, async (t) => {
    const peer = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    peer.on('message', (m) => got.push(m));
    await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
    t.teardown(() => peer.close());
    const noop = (): void => {};
    const transport = await openUdpTransport({ address: '127.0.0.1', port: 0, dgram: path === 'dgram' }, { datagram: noop, sendFailed: noop, socketError: noop });
    t.teardown(() => transport.close());
    t.equal(transport.kind, path);
    const port = peer.address().port;
    t.throws(() => transport.sendTo(Uint8Array.of(1, 2, 3), '0127.0.0.1', port), /not an IPv4 address: 0127\.0\.0\.1/);
    // The well-formed address still goes out.
    transport.sendTo(Uint8Array.of(4, 5, 6), '127.0.0.1', port);
    transport.flush();
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    t.same(got.map((b) => [...b]), [[4, 5, 6]]);
  });
}
