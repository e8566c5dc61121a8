import t from 'tap';
import { MS_UC_CLIENT, certProvUrl, decodeEncapsulated, encodeEncapsulated, encodeMsUcClient, type MsUcClientSettings } from '../../src/wire/ms-uc-client.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ascii = (b: Uint8Array) => Buffer.from(b).toString('latin1');

// DHCPUtil option 43 (90 bytes), from docs/lpe-facts.md.
const DHCPUTIL_43 =
  '010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D040334343305252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663';

const settings: MsUcClientSettings = {
  ucIdentifier: MS_UC_CLIENT,
  urlScheme: 'https',
  webServerFqdn: 'server.fqdn.company.com',
  webServerPort: '443',
  certProvRelPath: '/CertProv/CertProvisioningService.svc',
};

t.test('byte-exact with DHCPUtil', async (t) => {
  t.equal(MS_UC_CLIENT, 'MS-UC-Client');
  const out = encodeMsUcClient(settings);
  t.equal(out.length, 90);
  t.equal(out.length, 67 + settings.webServerFqdn.length, 'docs/lpe-facts.md §Option 43: value length = 67 + FQDN length');
  t.equal(toHex(out), DHCPUTIL_43.toLowerCase());
});

t.test('decodeEncapsulated reads the DHCPUtil bytes', async (t) => {
  const r = decodeEncapsulated(hex(DHCPUTIL_43));
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.value.endMarker, false, 'DHCPUtil sends no 0xFF');
  t.equal(r.value.trailing.length, 0);
  t.same(r.value.subOptions.map((s) => [s.code, s.offset, s.length, ascii(s.data)]), [
    [1, 0, 12, 'MS-UC-Client'],
    [2, 14, 5, 'https'],
    [3, 21, 23, 'server.fqdn.company.com'],
    [4, 46, 3, '443'],
    [5, 51, 37, '/CertProv/CertProvisioningService.svc'],
  ]);
  t.same(Array.from(r.value.subOptions[3]!.data), [0x34, 0x34, 0x33], 'the port is ASCII text, not 01 bb');
});

t.test('certProvUrl', async (t) => {
  t.equal(certProvUrl(settings), 'https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc');
});

t.test('lab switches: order and end marker', async (t) => {
  const reordered = encodeMsUcClient(settings, { order: [3, 1, 2, 4, 5] });
  t.equal(reordered.length, 90);
  t.equal(reordered[0], 3, 'sub-option 3 first');
  t.equal(ascii(reordered.subarray(2, 25)), 'server.fqdn.company.com');
  t.equal(reordered[25], 1, 'then sub-option 1');
  const subset = encodeMsUcClient(settings, { order: [1, 4] });
  t.equal(toHex(subset), '010c' + toHex(Buffer.from('MS-UC-Client')) + '0403343433');
  const withEnd = encodeMsUcClient(settings, { appendEnd: true });
  t.equal(withEnd.length, 91);
  t.equal(withEnd[90], 0xff);
  t.equal(toHex(withEnd.subarray(0, 90)), DHCPUTIL_43.toLowerCase());
  t.throws(() => encodeMsUcClient(settings, { order: [1, 6] }), RangeError);
});

t.test('values the phone cannot take are refused', async (t) => {
  t.throws(() => encodeMsUcClient({ ...settings, webServerFqdn: 'a'.repeat(256) }), RangeError, 'over 255 bytes');
  t.doesNotThrow(() => encodeMsUcClient({ ...settings, webServerFqdn: 'a'.repeat(255) }), 'exactly 255 bytes');
  t.throws(() => encodeMsUcClient({ ...settings, webServerFqdn: 'sérver.contoso.com' }), RangeError, 'not ASCII');
  t.throws(() => encodeMsUcClient({ ...settings, ucIdentifier: 'MS-UC-Client\0' }), RangeError, 'NUL terminator');
});

t.test('decodeEncapsulated: pad, end, trailing, truncation', async (t) => {
  // dnsmasq's mistakes (docs/lpe-facts.md §Option 43): port as the integer 01 bb, and an ff inside option 43.
  const dnsmasq = decodeEncapsulated(hex('0403 343433 00 00 0402 01bb ff 0102'));
  t.ok(dnsmasq.ok);
  if (dnsmasq.ok) {
    t.same(dnsmasq.value.subOptions.map((s) => [s.code, s.offset, toHex(s.data)]), [
      [4, 0, '343433'],
      [4, 7, '01bb'],
    ], 'pads skipped, offsets point at code bytes');
    t.equal(dnsmasq.value.endMarker, true);
    t.equal(toHex(dnsmasq.value.trailing), '0102');
  }
  const empty = decodeEncapsulated(new Uint8Array(0));
  t.same(empty.ok && [empty.value.subOptions.length, empty.value.endMarker], [0, false]);
  const noLength = decodeEncapsulated(hex('0103616263 02'));
  t.same(noLength.ok ? null : [noLength.error.code, noLength.error.offset], ['truncated', 5]);
  const tooLong = decodeEncapsulated(hex('0105616263'));
  t.same(tooLong.ok ? null : [tooLong.error.code, tooLong.error.offset], ['truncated', 0]);
});

t.test('encodeEncapsulated', async (t) => {
  t.equal(toHex(encodeEncapsulated([{ code: 1, data: hex('aabb') }, { code: 9, data: new Uint8Array(0) }])), '0102aabb0900');
  t.equal(toHex(encodeEncapsulated([], { appendEnd: true })), 'ff');
  t.throws(() => encodeEncapsulated([{ code: 1, data: new Uint8Array(256) }]), RangeError);
  t.throws(() => encodeEncapsulated([{ code: 0, data: new Uint8Array(1) }]), RangeError);
  t.throws(() => encodeEncapsulated([{ code: 255, data: new Uint8Array(1) }]), RangeError);
});
