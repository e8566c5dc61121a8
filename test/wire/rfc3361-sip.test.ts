import t from 'tap';
import { decodeSipServers, encodeSipServers } from '../../src/wire/rfc3361-sip.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// DHCPUtil -sipserver server.fqdn.company.com, from docs/lpe-facts.md.
const DHCPUTIL_120 = '0006736572766572046671646E07636F6D70616E7903636F6D00';

t.test('DHCPUtil option 120 bytes', async (t) => {
  const out = encodeSipServers({ encoding: 0, names: ['server.fqdn.company.com'] });
  t.equal(toHex(out), DHCPUTIL_120.toLowerCase(), 'default form is 00 + one uncompressed name');
  t.same(decodeSipServers(hex(DHCPUTIL_120)), { ok: true, value: { encoding: 0, names: ['server.fqdn.company.com'] } });
});

t.test('several names, with and without compression', async (t) => {
  const names = ['a.example.com', 'b.example.com'];
  // Pointer offsets count from the first byte after the encoding byte (like RFC 3397): "example.com" is at 2.
  t.equal(toHex(encodeSipServers({ encoding: 0, names }, { compress: true })), '00' + '0161076578616d706c6503636f6d00' + '0162c002');
  t.equal(toHex(encodeSipServers({ encoding: 0, names })), '00' + '0161076578616d706c6503636f6d00' + '0162076578616d706c6503636f6d00');
  t.same(decodeSipServers(hex('00 0161076578616d706c6503636f6d00 0162c002')), { ok: true, value: { encoding: 0, names } });
});

t.test('encoding 1: IPv4 addresses', async (t) => {
  // 192.0.2.1 = c0 00 02 01, 198.51.100.7 = c6 33 64 07.
  const value = { encoding: 1 as const, addresses: ['192.0.2.1', '198.51.100.7'] };
  t.equal(toHex(encodeSipServers(value)), '01c0000201c6336407');
  t.same(decodeSipServers(hex('01c0000201c6336407')), { ok: true, value });
});

t.test('encoder refuses what it cannot write', async (t) => {
  t.throws(() => encodeSipServers({ encoding: 0, names: [] }), RangeError);
  t.throws(() => encodeSipServers({ encoding: 1, addresses: [] }), RangeError);
  t.throws(() => encodeSipServers({ encoding: 1, addresses: ['10.0.0.256'] }), RangeError);
  t.throws(() => encodeSipServers({ encoding: 0, names: ['bad..name'] }), RangeError);
});

t.test('decoder failures', async (t) => {
  const code = (s: string) => {
    const r = decodeSipServers(hex(s));
    return r.ok ? 'ok' : r.error.code;
  };
  t.equal(code(''), 'empty');
  t.equal(code('00'), 'empty', 'encoding 0 without names');
  t.equal(code('02 0a000001'), 'bad-encoding');
  // The published-script pitfall (docs/lpe-facts.md §Option 120): the bare ASCII FQDN, no encoding byte, no label lengths.
  t.equal(code(Buffer.from('sip.contoso.com').toString('hex')), 'bad-encoding');
  t.equal(code('01'), 'bad-length');
  t.equal(code('01 0a0000'), 'bad-length');
  t.equal(code('01 0a000001 0a'), 'bad-length');
  t.equal(code('00 06736572766572'), 'no-root');
  t.equal(code('00 0673657276'), 'truncated');
  t.equal(code('00 0161 c0 00'), 'pointer-loop', 'pointer back to the start of the list');
  t.equal(code('00 0161 c0 02'), 'forward-pointer', 'pointer to itself (offset 2 of the list)');
});
