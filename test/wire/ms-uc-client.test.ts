import t from 'tap';
import { MS_UC_CLIENT, certProvUrl, encodeMsUcClient, type MsUcClientSettings } from '../../src/wire/ms-uc-client.js';
import { decodeEncapsulated } from '../../src/wire/rfc2132-encapsulated.js';

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
  t.equal(out.length, 67 + settings.webServerFqdn.length, 'docs/lpe-facts.md: value length = 67 + FQDN length');
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

