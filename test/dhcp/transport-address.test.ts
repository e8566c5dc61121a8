// The DHCP batch transport's destination goes through the one dotted-quad
// parser (src/wire/ipv4.ts). It used to have a lax one of its own that read
// `0127.0.0.1` as 127.0.0.1, where the dgram fallback (and inet_aton, which
// reads a leading 0 as octal) disagree: the same reply went to different
// places, or nowhere, depending on the socket path.
import t from 'tap';
import dgram from 'node:dgram';
import { batchSocketsAvailable } from '../../src/net/batch-socket.js';
import { openTransport } from '../../src/dhcp/transport.js';

const available = batchSocketsAvailable();

t.test('a destination with a leading zero is refused, not sent', { skip: available.ok ? false : `native addon not built: ${available.reason}` }, async (t) => {
  const peer = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  peer.on('message', (m) => got.push(m));
  await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve));
  t.teardown(() => peer.close());
  const noop = (): void => {};
  const transport = await openTransport(
    { interfaceName: null, address: '127.0.0.1', port: 0 },
    { receive: noop, truncated: noop, sendFailed: noop, socketError: noop, arpFailed: noop },
  );
  t.teardown(() => transport.close());
  t.equal(transport.kind, 'batch');
  const port = peer.address().port;
  t.throws(() => transport.send(Uint8Array.of(1, 2, 3), { address: `0127.0.0.1`, port }), /not an IPv4 address: 0127\.0\.0\.1/);
  // The well-formed address still goes out.
  transport.send(Uint8Array.of(4, 5, 6), { address: '127.0.0.1', port });
  for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.same(got.map((b) => [...b]), [[4, 5, 6]]);
});
