// The LPE rules on option 43. Bytes from independent sources: DHCPUtil's
// option 43 (docs/lpe-facts.md, split per sub-option by hand), dnsmasq's documented
// mistakes (reversed order, `01 bb`, trailing `ff`) written out by hand, and
// the Cisco IOS 90-byte cut (docs/lpe-facts.md).
import t from 'tap';
import { readOption43 } from '../../src/lpe/option43.js';
import type { Finding } from '../../src/lpe/findings.js';

import { DHCPUTIL_43, H, SUB1, SUB2, SUB3, SUB4, SUB5 } from '../helpers/public-bytes.js';
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');
const codes = (f: readonly Finding[]): string[] => f.map((x) => `${x.severity}:${x.code}`).sort();

t.test('DHCPUtil\'s bytes: no finding, canonical, the documented URL', async (t) => {
  t.equal(SUB1 + SUB2 + SUB3 + SUB4 + SUB5, DHCPUTIL_43);
  const r = readOption43(H(DHCPUTIL_43));
  t.same(r.findings, []);
  t.equal(r.canonical, true);
  t.equal(r.certProvUrl, 'https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc');
  t.equal(r.usableCertProvUrl, r.certProvUrl);
  t.equal(r.webFqdn, 'server.fqdn.company.com');
});

t.test('dnsmasq with an unquoted port: 01 bb is an error, the trailing ff a warning', async (t) => {
  const r = readOption43(H(SUB1 + SUB2 + SUB3 + '04 02 01 bb' + SUB5 + 'ff'));
  t.same(codes(r.findings), ['error:port-binary', 'warning:end-marker']);
  const port = r.findings.find((f) => f.code === 'port-binary')!;
  t.match(port.message, /443 sent as a 16-bit integer.*01 bb.*"443" \(34 34 33\)/);
  t.equal(port.offset, H(SUB1 + SUB2 + SUB3).length + 2, 'offset of the value');
  t.equal(r.findings.find((f) => f.code === 'end-marker')!.offset, 89);
  t.equal(r.usableCertProvUrl, null, 'no usable URL without a usable port');
  t.equal(r.canonical, false);
});

t.test('reversed order, 0xFF and a quoted port: usable, with two warnings (one verdict for every tool)', async (t) => {
  const r = readOption43(H(SUB5 + SUB4 + SUB3 + SUB2 + SUB1 + 'ff'));
  t.same(codes(r.findings), ['warning:end-marker', 'warning:order']);
  t.match(r.findings.find((f) => f.code === 'order')!.message, /5, 4, 3, 2, 1 \(reversed, as dnsmasq sends them\)/);
  t.equal(r.usableCertProvUrl, 'https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc');
});

t.test('Cisco IOS cut at 90 bytes, wrong identifier, NUL terminator, missing and repeated sub-options, pads', async (t) => {
  // A 30-character web FQDN makes the value 97 bytes; IOS keeps the first 90.
  const longFqdn = 'lyncwebservices.schertz.name.x';
  const full = H(SUB1 + SUB2 + '03' + longFqdn.length.toString(16) + ascii(longFqdn) + SUB4 + SUB5);
  const cut = readOption43(full.subarray(0, 90));
  t.same(codes(cut.findings), ['error:truncated-sub-option']);
  t.match(cut.findings[0]!.message, /sub-option 5 CertProvRelPath declares 37 bytes.*Cisco IOS.*option ext/);
  t.equal(cut.walk.subOptions.length, 4, 'the sub-options before the cut are still read');

  t.match(readOption43(H('010c' + ascii('ms-uc-client') + SUB2 + SUB3 + SUB4 + SUB5)).findings, [{ severity: 'error', code: 'uc-identifier', message: /only the letter case differs/ }]);
  t.match(readOption43(H(SUB1 + '0206' + ascii('https') + '00' + SUB3 + SUB4 + SUB5)).findings, [{ severity: 'error', code: 'nul-terminator' }]);
  t.match(readOption43(H(SUB1 + SUB2 + SUB3 + SUB5)).findings, [{ severity: 'error', code: 'missing-sub-option', message: /4 WebServerPort is missing/ }]);
  t.same(codes(readOption43(H(SUB1 + SUB2 + SUB3 + SUB4 + SUB5 + SUB4)).findings), ['warning:duplicate-sub-option', 'warning:order']);
  t.same(codes(readOption43(H(SUB1 + SUB2 + SUB3 + SUB4 + SUB5 + '0403343434')).findings), ['error:duplicate-sub-option', 'warning:order']);
  t.same(codes(readOption43(H(SUB1 + '0000' + SUB2 + SUB3 + SUB4 + SUB5)).findings), ['warning:pad']);
  t.same(codes(readOption43(H(SUB1 + SUB2 + SUB3 + SUB4 + SUB5 + '0601ab')).findings), ['warning:unknown-sub-option']);
  t.same(codes(readOption43(new Uint8Array(0)).findings), ['error:empty']);
});

t.test('values: scheme, FQDN, port range, path', async (t) => {
  const with2 = (v: string) => readOption43(H(SUB1 + '02' + v.length.toString(16).padStart(2, '0') + ascii(v) + SUB3 + SUB4 + SUB5)).findings;
  t.same(codes(with2('http')), ['warning:url-scheme']);
  t.same(codes(with2('HTTPS')), ['warning:url-scheme']);
  t.same(codes(with2('ftp')), ['error:url-scheme']);
  const with4 = (v: string) => readOption43(H(SUB1 + SUB2 + SUB3 + '04' + v.length.toString(16).padStart(2, '0') + ascii(v) + SUB5)).findings;
  t.same(codes(with4('8443')), ['info:port']);
  t.same(codes(with4('70000')), ['error:bad-port']);
  t.same(codes(with4('"443"')), ['error:port-not-digits']);
  const with5 = (v: string) => readOption43(H(SUB1 + SUB2 + SUB3 + SUB4 + '05' + v.length.toString(16).padStart(2, '0') + ascii(v))).findings;
  t.same(codes(with5('CertProv/x.svc')), ['error:path-no-slash']);
  t.same(codes(with5('/Other/x.svc')), ['info:path-unusual']);
  const with3 = (v: string) => readOption43(H(SUB1 + SUB2 + '03' + v.length.toString(16).padStart(2, '0') + ascii(v) + SUB4 + SUB5));
  t.same(codes(with3('lyncweb').findings), ['warning:short-name']);
  const bad3 = with3('lync web.example');
  t.same(codes(bad3.findings), ['error:bad-fqdn']);
  t.equal(bad3.webFqdn, null, 'an unusable name is not handed to the DNS step');
});

t.test('another vendor\'s option 43: only a cut is worth a word', async (t) => {
  const pxe = readOption43(H('0601 03 0a01 04 00 ff'), { vendorClass: 'PXEClient' });
  t.same(codes(pxe.findings), ['info:other-vendor']);
  const cut = readOption43(H('0605 0102'), { vendorClass: 'PXEClient' });
  t.same(codes(cut.findings), ['info:other-vendor', 'warning:truncated-sub-option']);
});
