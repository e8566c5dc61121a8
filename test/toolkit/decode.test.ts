// Expected bytes come from docs/lpe-facts.md (DHCPUtil), RFC 3397's example, a
// real dnsmasq answer (test/toolkit/fixtures/dnsmasq-unquoted-port.pcap, read
// with tshark), or are written out by hand here; never from provlab's encoder.
import t from 'tap';
import fc from 'fast-check';
import {
  analyzeOption,
  decodeHexOption,
  exitCodeFor,
  parseOptionCode,
  renderOptionReport,
  unwrapOption,
  type OptionReport,
} from '../../src/toolkit/decode.js';

const DHCPUTIL_43 =
  '010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D040334343305252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663';
const DHCPUTIL_120 = '0006736572766572046671646E07636F6D70616E7903636F6D00';
const RFC3397 = '03 65 6e 67 05 61 70 70 6c 65 03 63 6f 6d 00 09 6d 61 72 6b 65 74 69 6e 67 c0 04';
// dnsmasq 2.90 with `dhcp-option=vendor:MS-UC-Client,4,443` (unquoted), as tshark shows its ACK.
const DNSMASQ_UNQUOTED =
  '05252f4365727450726f762f4365727450726f766973696f6e696e67536572766963652e737663040201bb03146c796e637765622e7363686572747a2e6e616d6502056874747073010c4d532d55432d436c69656e74ff';

const tlv = (code: number, text: string) => Buffer.concat([Buffer.from([code, text.length]), Buffer.from(text, 'latin1')]).toString('hex');
const msuc = (parts: Record<number, string>, order = [1, 2, 3, 4, 5]) => order.map((c) => tlv(c, parts[c]!)).join('');
const GOOD = { 1: 'MS-UC-Client', 2: 'https', 3: 'lyncweb.contoso.com', 4: '443', 5: '/CertProv/CertProvisioningService.svc' };

function decode(option: number, hex: string, options?: Parameters<typeof decodeHexOption>[2]): OptionReport {
  const r = decodeHexOption(option, hex, options);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
const codes = (r: OptionReport) => r.findings.map((f) => `${f.severity}:${f.code}`);
const errors = (r: OptionReport) => r.findings.filter((f) => f.severity === 'error').map((f) => f.code);

/** Every value byte is described by exactly one row, in order. */
function coversAll(t: Tap.Test, r: OptionReport): void {
  let pos = 0;
  for (const row of r.rows) {
    if (row.offset !== pos) {
      t.fail(`row at ${row.offset} but the previous ended at ${pos}: ${JSON.stringify(row)}`);
      return;
    }
    pos += row.length;
  }
  t.equal(pos, r.length, 'rows cover every byte once');
}

t.test('DHCPUtil option 43 decodes cleanly, with the URL', async (t) => {
  const r = decode(43, DHCPUTIL_43);
  t.equal(r.status, 'ok');
  t.same(errors(r), []);
  t.equal(r.length, 90);
  t.equal(r.input?.form, 'value');
  t.match(r.input?.assumed, /value only/);
  coversAll(t, r);
  t.equal(r.decoded.kind, 'ms-uc-client');
  if (r.decoded.kind !== 'ms-uc-client') return;
  t.same(
    r.decoded.subOptions.map((s) => [s.code, s.name, s.offset, s.length, s.text]),
    [
      [1, 'UCIdentifier', 0, 12, 'MS-UC-Client'],
      [2, 'URLScheme', 14, 5, 'https'],
      [3, 'WebServerFqdn', 21, 23, 'server.fqdn.company.com'],
      [4, 'WebServerPort', 46, 3, '443'],
      [5, 'CertProvRelPath', 51, 37, '/CertProv/CertProvisioningService.svc'],
    ],
  );
  t.equal(r.decoded.certProvUrl, 'https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc');
  t.equal(r.decoded.endMarker, false);
  t.same(
    r.rows.slice(0, 3).map((x) => [x.offset, x.length, x.hex, x.field]),
    [
      [0, 1, '01', 'sub-option-code'],
      [1, 1, '0c', 'sub-option-length'],
      [2, 12, '4d 53 2d 55 43 2d 43 6c 69 65 6e 74', 'sub-option-value'],
    ],
  );
  t.equal(exitCodeFor(r.findings), 0);
  const text = renderOptionReport(r).join('\n');
  t.match(text, 'sub-option 3 WebServerFqdn');
  t.match(text, '"server.fqdn.company.com"');
  t.match(text, 'Certificate Provisioning URL the phone builds: https://server.fqdn.company.com:443/CertProv/CertProvisioningService.svc');
  t.match(text, 'result: OK');
  t.doesNotThrow(() => JSON.stringify(r), 'JSON-serialisable');
});

t.test('DHCPUtil option 120 decodes cleanly', async (t) => {
  const r = decode(120, DHCPUTIL_120);
  t.equal(r.status, 'ok');
  coversAll(t, r);
  t.same(r.decoded, { kind: 'sip-servers', encoding: 0, names: ['server.fqdn.company.com'], addresses: [] });
  t.same(r.rows.map((x) => x.field), ['encoding', 'label-length', 'label', 'label-length', 'label', 'label-length', 'label', 'label-length', 'label', 'root']);
  t.match(r.summary.join('\n'), 'server.fqdn.company.com');
});

t.test('the Cisco IOS 90-byte cut is a truncated sub-option (exit 1)', async (t) => {
  // A 26-character web FQDN makes 67 + 26 = 93 bytes; IOS 15.1(3)S+ keeps the first 90.
  const full = msuc({ ...GOOD, 3: 'lyncweb01.pool.contoso.com' });
  t.equal(full.length / 2, 93);
  const cut = full.slice(0, 180);
  const r = decode(43, cut);
  t.equal(r.length, 90);
  t.equal(r.status, 'error');
  t.same(errors(r), ['truncated-sub-option']);
  const f = r.findings.find((x) => x.code === 'truncated-sub-option')!;
  t.equal(f.offset, 54, 'at sub-option 5');
  t.match(f.message, /declares 37 bytes but only 34 remain/);
  t.match(f.message, /Cisco IOS/);
  t.match(f.message, /option ext/);
  t.equal(exitCodeFor(r.findings), 1);
  coversAll(t, r);
  if (r.decoded.kind !== 'ms-uc-client') return t.fail('kind');
  t.equal(r.decoded.certProvUrl, null);
  t.same(r.decoded.subOptions.map((s) => [s.code, s.truncated]), [[1, false], [2, false], [3, false], [4, false], [5, true]]);
  t.match(r.rows.at(-1)!.meaning, /cut short/);
  // The same cut pasted as the whole option: IOS puts length 0x5a (90) in front.
  const whole = decode(43, `2b5a${cut}`);
  t.equal(whole.input?.form, 'option');
  t.same(errors(whole), ['truncated-sub-option']);
});

t.test("dnsmasq's unquoted port (01 bb), reversed order and trailing ff", async (t) => {
  const r = decode(43, DNSMASQ_UNQUOTED);
  t.same(codes(r), ['error:port-binary', 'warning:order', 'warning:end-marker']);
  const port = r.findings[0]!;
  t.match(port.message, /443 sent as a 16-bit integer/);
  t.match(port.message, /as dnsmasq does without quotes/);
  t.match(port.message, /34 34 33/);
  t.equal(port.offset, 41);
  t.match(r.findings[1]!.message, /reversed, as dnsmasq sends them/);
  t.equal(r.findings[2]!.offset, 86);
  coversAll(t, r);
  t.equal(r.rows.at(-1)!.field, 'end');
  t.equal(exitCodeFor(r.findings), 1);
  if (r.decoded.kind !== 'ms-uc-client') return t.fail('kind');
  t.equal(r.decoded.endMarker, true);
  t.equal(r.decoded.certProvUrl, 'https://lyncweb.schertz.name:\x01\xbb/CertProv/CertProvisioningService.svc');
  t.match(renderOptionReport(r).join('\n'), 'https://lyncweb.schertz.name:\\x01\\xbb/CertProv');
});

t.test('dnsmasq with the port quoted: warnings only (exit 0, 1 with --strict)', async (t) => {
  const r = decode(43, `${msuc(GOOD, [5, 4, 3, 2, 1])}ff`);
  t.same(codes(r), ['warning:order', 'warning:end-marker']);
  t.equal(r.status, 'warning');
  t.equal(exitCodeFor(r.findings), 0);
  t.equal(exitCodeFor(r.findings, true), 1);
  t.match(renderOptionReport(r).join('\n'), 'result: usable, with 2 warnings');
});

t.test('more option 43 pitfalls', async (t) => {
  const check = (what: string, hex: string, expected: string[]) => t.same(codes(decode(43, hex)).filter((c) => !c.startsWith('info:')), expected, what);
  check('UC identifier in the wrong case', msuc({ ...GOOD, 1: 'ms-uc-client' }), ['error:uc-identifier']);
  check('UC identifier with a NUL', msuc({ ...GOOD, 1: 'MS-UC-Client\0' }), ['error:uc-identifier']);
  check('path without /', msuc({ ...GOOD, 5: 'CertProv/CertProvisioningService.svc' }), ['error:path-no-slash']);
  check('non-ASCII FQDN', msuc({ ...GOOD, 3: 'lyncwéb.contoso.com' }), ['error:non-ascii']);
  check('NUL-terminated FQDN', msuc({ ...GOOD, 3: 'lyncweb.contoso.com\0' }), ['error:nul-terminator']);
  check('port as text but not digits', msuc({ ...GOOD, 4: 'https' }), ['error:port-not-digits']);
  check('port out of range', msuc({ ...GOOD, 4: '70000' }), ['error:bad-port']);
  check('port as one byte', `${tlv(1, GOOD[1])}${tlv(2, GOOD[2])}${tlv(3, GOOD[3])}0401${'05'}${tlv(5, GOOD[5])}`, ['error:port-binary']);
  check('http scheme', msuc({ ...GOOD, 2: 'http' }), ['warning:url-scheme']);
  check('ftp scheme', msuc({ ...GOOD, 2: 'ftp' }), ['error:url-scheme']);
  check('single-label FQDN', msuc({ ...GOOD, 3: 'lyncweb' }), ['warning:short-name']);
  check('missing 4 and 5', msuc(GOOD, [1, 2, 3]), ['error:missing-sub-option']);
  check('missing 1 only', msuc(GOOD, [2, 3, 4, 5]), ['error:missing-sub-option']);
  check('duplicate, same value', msuc(GOOD, [1, 2, 3, 4, 5, 4]), ['warning:duplicate-sub-option', 'warning:order']);
  check('duplicate, other value', `${msuc(GOOD)}${tlv(3, 'other.contoso.com')}`, ['error:duplicate-sub-option', 'warning:order']);
  check('pad between sub-options', `${tlv(1, GOOD[1])}0000${msuc(GOOD, [2, 3, 4, 5])}`, ['warning:pad']);
  check('unknown sub-option 6', `${msuc(GOOD)}${tlv(6, 'x')}`, ['warning:unknown-sub-option']);
  check('bytes after the end marker', `${msuc(GOOD)}ff0102`, ['warning:end-marker', 'warning:bytes-after-end']);
  check('empty', '2b00', ['error:empty']);
  check('cut after a code byte', `${msuc(GOOD)}05`, ['error:truncated-sub-option']);
  const other = decode(43, '0104c0a80001', { vendorClass: 'PXEClient' });
  t.equal(other.decoded.kind, 'encapsulated', 'another vendor class: plain sub-options');
  t.same(errors(other), [], 'no MS-UC-Client checks for another vendor class');
});

t.test('option 120 pitfalls', async (t) => {
  const bare = decode(120, Buffer.from('lyncpool.contoso.com').toString('hex'));
  t.same(codes(bare), ['error:bare-ascii']);
  t.match(bare.findings[0]!.message, /bare ASCII FQDN "lyncpool.contoso.com" with no encoding byte/);
  t.match(bare.findings[0]!.message, /00 08 6c 79 6e 63 70 6f 6f 6c 07 63 6f 6e 74 6f 73 6f 03 63 6f 6d 00/);
  coversAll(t, bare);
  t.equal(exitCodeFor(bare.findings), 1);
  const noEnc = decode(120, '086c796e63706f6f6c07636f6e746f736f03636f6d00');
  t.same(codes(noEnc), ['error:no-encoding-byte']);
  const addr = decode(120, '010a00000a');
  t.same(codes(addr), ['error:sip-addresses']);
  t.same(addr.decoded, { kind: 'sip-servers', encoding: 1, addresses: ['10.0.0.10'], names: [] });
  t.same(codes(decode(120, '010a0000')), ['error:bad-length', 'error:sip-addresses']);
  // Two names, the second compressed against the first (offsets from the byte after the encoding).
  const compressed = decode(120, '00 04 6c796e63 07 636f6e746f736f 03 636f6d 00 03 776562 c0 05');
  t.same(codes(compressed), ['warning:compression', 'warning:several-names']);
  t.same(compressed.decoded.kind === 'sip-servers' && compressed.decoded.names, ['lync.contoso.com', 'web.contoso.com']);
  coversAll(t, compressed);
  t.same(codes(decode(120, '05 00')), ['error:bad-encoding']);
  t.same(codes(decode(120, '00')), ['error:empty']);
  t.same(codes(decode(120, '00 00')), ['error:empty-name']);
  t.same(codes(decode(120, '00 04 6c796e63')), ['error:no-root']);
});

t.test('option 119: RFC 3397 example, then loops, forward pointers, truncation, no root', async (t) => {
  const r = decode(119, RFC3397);
  t.equal(r.length, 27);
  t.equal(r.status, 'ok');
  t.same(r.decoded, { kind: 'domain-search', names: ['eng.apple.com', 'marketing.apple.com'], updateLookups: ['ucupdates-r2.eng.apple.com', 'ucupdates-r2.marketing.apple.com'] });
  coversAll(t, r);
  const ptr = r.rows.at(-1)!;
  t.same([ptr.offset, ptr.length, ptr.hex, ptr.field], [25, 2, 'c0 04', 'pointer']);
  t.match(ptr.meaning, 'compression pointer to offset 4 ("apple.com")');

  const bad = (hex: string) => {
    const x = decode(119, hex);
    coversAll(t, x);
    return codes(x).filter((c) => c.startsWith('error:'));
  };
  t.same(bad('03 616263 c0 00'), ['error:pointer-loop'], 'pointer back into its own name');
  t.same(bad('c0 02 03 616263 00'), ['error:forward-pointer'], 'pointer to a later name');
  t.same(bad('03 636f6d 00 01 61 c0 07'), ['error:forward-pointer'], 'pointer to itself');
  t.same(bad('03 656e67 05 6170'), ['error:truncated'], 'label cut short');
  t.same(bad('03 656e67 c0'), ['error:truncated'], 'pointer cut short');
  t.same(bad('03 616263'), ['error:no-root']);
  t.same(bad('03 636f6d 00 03 656e67'), ['error:no-root'], 'second name without root');
  t.same(bad('43 41'), ['error:bad-label-type']);
  t.same(codes(decode(119, '77 00')), ['error:empty'], 'a whole option of length 0');
  // RFC 3396: the list split into two option-119 instances, pasted whole; the cut falls inside a label.
  const split = decode(119, `77 0c ${RFC3397.slice(0, 12 * 3)} 77 0f ${RFC3397.slice(12 * 3)}`);
  t.equal(split.input?.form, 'instances');
  t.same(split.decoded.kind === 'domain-search' && split.decoded.names, ['eng.apple.com', 'marketing.apple.com']);
});

t.test('options 60 and 55', async (t) => {
  t.same(codes(decode(60, Buffer.from('MS-UC-Client').toString('hex'))), ['info:lpe-vendor-class']);
  t.same(codes(decode(60, Buffer.from('ms-uc-client').toString('hex'))), ['warning:vendor-class-case']);
  t.same(codes(decode(60, `${Buffer.from('MS-UC-Client').toString('hex')}00`)), ['warning:vendor-class-nul']);
  t.same(codes(decode(60, Buffer.from('CPE-OCPHONE').toString('hex'))), ['info:cpe-ocphone']);
  const prl = decode(55, '01 03 06 0f 2b 78 77 2a');
  t.same(codes(prl), ['info:asks-43-120']);
  t.same(prl.decoded.kind === 'parameter-request-list' && prl.decoded.codes.map((c) => c.name), ['subnet-mask', 'routers', 'domain-name-servers', 'domain-name', 'vendor-encapsulated-options', 'sip-server', 'domain-search', 'ntp-servers']);
  coversAll(t, prl);
});

t.test('other options go through the option table', async (t) => {
  const r = decode(15, Buffer.from('schertz.name').toString('hex'));
  t.same(r.decoded, { kind: 'generic', type: 'text', text: '"schertz.name"' });
  const ntp = decode(42, '0a63000001');
  t.same(codes(ntp), ['error:bad-length']);
});

t.test('whole option or value only', async (t) => {
  const value = Buffer.from(DHCPUTIL_43, 'hex');
  const whole = unwrapOption(43, Uint8Array.from([0x2b, 90, ...value]));
  t.ok(whole.ok);
  if (whole.ok) {
    t.equal(whole.value.info.form, 'option');
    t.match(whole.value.info.assumed, 'whole option: 2b 5a (code 43, length 90)');
    t.same(Buffer.from(whole.value.value), value);
    t.same(whole.value.info.framing.map((f) => f.field), ['option-code', 'option-length']);
  }
  const v = unwrapOption(43, value);
  t.ok(v.ok && v.value.info.form === 'value');
  const forcedValue = unwrapOption(120, Uint8Array.of(0x78, 2, 0, 0));
  t.ok(forcedValue.ok && forcedValue.value.info.form === 'option');
  const asValue = unwrapOption(120, Uint8Array.of(0x78, 2, 0, 0), 'value');
  t.ok(asValue.ok && asValue.value.info.form === 'value' && asValue.value.value.length === 4);
  const notOption = unwrapOption(43, value, 'option');
  t.notOk(notOption.ok, '--form option on a bare value');
  const cutWhole = decode(43, `2b5a${DHCPUTIL_43.slice(0, 100)}`);
  t.equal(errors(cutWhole)[0], 'option-truncated', 'length byte says more than follows');
  t.equal(cutWhole.input?.form, 'option');
  t.notOk(decodeHexOption(43, 'xyz').ok, 'not hex: unusable input');
  t.notOk(decodeHexOption(0, '00').ok, 'option 0: unusable');
});

t.test('parseOptionCode', async (t) => {
  t.equal(parseOptionCode('43'), 43);
  t.equal(parseOptionCode('0x2b'), 43);
  t.equal(parseOptionCode('option43'), 43);
  t.equal(parseOptionCode('vendor-encapsulated-options'), 43);
  t.equal(parseOptionCode('sip-server'), 120);
  t.equal(parseOptionCode('domain-search'), 119);
  t.equal(parseOptionCode('vendor-class-identifier'), 60);
  t.equal(parseOptionCode('0'), undefined);
  t.equal(parseOptionCode('255'), undefined);
  t.equal(parseOptionCode('nonsense'), undefined);
});

t.test('property: any bytes give a report, never a throw, rows inside the value', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.constantFrom(43, 119, 120, 60, 55, 15, 42), fc.uint8Array({ maxLength: 300 }), (code, bytes) => {
        const r = analyzeOption(code, bytes);
        JSON.stringify(r);
        renderOptionReport(r);
        return r.rows.every((row) => row.offset >= 0 && row.length >= 0 && row.offset + row.length <= bytes.length);
      }),
      { numRuns: 2000 },
    ),
  );
});
