import t from 'tap';
import fc from 'fast-check';
import { decodeOptionValue, encodeOptionValue, type OptionValue } from '../../src/wire/option-codec.js';
import { findOptionDef, type OptionDef, type OptionType } from '../../src/wire/option-defs.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const asciiHex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

function def(code: number, space = 'dhcp4'): OptionDef {
  const d = findOptionDef(code, space);
  if (!d) throw new Error(`no row for ${space}/${code}`);
  return d;
}

/** Uint8Arrays as hex, so values compare structurally whatever their buffers. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return `hex:${toHex(v)}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

// Expected bytes worked out by hand from the RFCs, or quoted from docs/lpe-facts.md.
const DHCPUTIL_43 =
  '010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D040334343305252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663';
const cases: { code: number; value: OptionValue; bytes: string }[] = [
  { code: 80, value: { type: 'empty' }, bytes: '' },
  { code: 1, value: { type: 'ipv4', value: '255.255.255.0' }, bytes: 'ffffff00' },
  { code: 6, value: { type: 'ipv4-list', value: ['10.0.0.1', '10.0.0.2'] }, bytes: '0a000001 0a000002' },
  { code: 53, value: { type: 'uint8', value: 5 }, bytes: '05' },
  { code: 57, value: { type: 'uint16', value: 1500 }, bytes: '05dc' },
  { code: 51, value: { type: 'uint32', value: 86400 }, bytes: '00015180' },
  { code: 51, value: { type: 'uint32', value: 0xffffffff }, bytes: 'ffffffff' },
  { code: 2, value: { type: 'int32', value: -3600 }, bytes: 'fffff1f0' },
  { code: 2, value: { type: 'int32', value: 3600 }, bytes: '00000e10' },
  { code: 55, value: { type: 'uint8-list', value: [1, 3, 6, 15, 43, 120] }, bytes: '0103060f2b78' },
  { code: 25, value: { type: 'uint16-list', value: [68, 296, 576] }, bytes: '0044 0128 0240' },
  { code: 15, value: { type: 'text', value: 'contoso.local' }, bytes: asciiHex('contoso.local') },
  { code: 61, value: { type: 'binary', value: hex('01 0004f29531a2') }, bytes: '01 0004f29531a2' },
  {
    code: 119,
    value: { type: 'fqdn-list', value: ['eng.apple.com', 'marketing.apple.com'] },
    bytes: '03 65 6e 67 05 61 70 70 6c 65 03 63 6f 6d 00 09 6d 61 72 6b 65 74 69 6e 67 c0 04',
  },
  { code: 120, value: { type: 'sip-servers', value: { encoding: 0, names: ['server.fqdn.company.com'] } }, bytes: '0006736572766572046671646E07636F6D70616E7903636F6D00' },
  { code: 120, value: { type: 'sip-servers', value: { encoding: 1, addresses: ['192.0.2.1'] } }, bytes: '01 c0000201' },
  {
    code: 43,
    value: {
      type: 'encapsulated',
      value: {
        endMarker: false,
        subOptions: [
          { code: 1, value: { type: 'text', value: 'MS-UC-Client' } },
          { code: 2, value: { type: 'text', value: 'https' } },
          { code: 3, value: { type: 'text', value: 'server.fqdn.company.com' } },
          { code: 4, value: { type: 'text', value: '443' } },
          { code: 5, value: { type: 'text', value: '/CertProv/CertProvisioningService.svc' } },
        ],
      },
    },
    bytes: DHCPUTIL_43,
  },
];

t.test('every type: encode gives the expected bytes, decode gives the value back', async (t) => {
  const covered = new Set<OptionType>();
  for (const c of cases) {
    const d = def(c.code);
    const label = `${c.code} ${d.name} (${d.type})`;
    t.equal(toHex(encodeOptionValue(d, c.value)), c.bytes.replace(/\s+/g, '').toLowerCase(), `encode ${label}`);
    const r = decodeOptionValue(d, hex(c.bytes));
    t.same(plain(r), plain({ ok: true, value: c.value }), `decode ${label}`);
    covered.add(d.type);
  }
  const all: OptionType[] = ['empty', 'ipv4', 'ipv4-list', 'uint8', 'uint16', 'uint32', 'int32', 'uint8-list', 'uint16-list', 'text', 'binary', 'fqdn-list', 'sip-servers', 'encapsulated'];
  t.same([...covered].sort(), [...all].sort(), 'every OptionType has a case');
});

t.test('encapsulated: unknown sub-options stay binary, the end marker and what follows are kept', async (t) => {
  const d = def(43);
  const bytes = hex('0403343433 0902abcd ff 0102');
  const r = decodeOptionValue(d, bytes);
  t.same(plain(r), plain({
    ok: true,
    value: {
      type: 'encapsulated',
      value: {
        subOptions: [
          { code: 4, value: { type: 'text', value: '443' } },
          { code: 9, value: { type: 'binary', value: hex('abcd') } },
        ],
        endMarker: true,
        trailing: hex('0102'),
      },
    },
  }));
  if (r.ok) t.equal(toHex(encodeOptionValue(d, r.value)), toHex(bytes), 'decode -> encode gives the same bytes');
  // dnsmasq's port as an integer still decodes (as text of two odd bytes), so `provlab decode` can show it.
  const dnsmasq = decodeOptionValue(d, hex('040201bb'));
  t.same(plain(dnsmasq), plain({ ok: true, value: { type: 'encapsulated', value: { subOptions: [{ code: 4, value: { type: 'text', value: '\x01\xbb' } }], endMarker: false } } }));
});

t.test('option 82: sub-options decoded by the agent space rows', async (t) => {
  const d = def(82);
  const r = decodeOptionValue(d, hex('0104 00010002 0504 0a000001'));
  t.same(plain(r), plain({
    ok: true,
    value: {
      type: 'encapsulated',
      value: {
        subOptions: [
          { code: 1, value: { type: 'binary', value: hex('00010002') } },
          { code: 5, value: { type: 'ipv4', value: '10.0.0.1' } },
        ],
        endMarker: false,
      },
    },
  }));
  // A link-selection sub-option of 3 bytes: the error points at its data (offset 2 + 6 = 8).
  const bad = decodeOptionValue(d, hex('0104 00010002 0503 0a0000'));
  t.same(bad.ok ? null : [bad.error.code, bad.error.offset], ['bad-length', 8]);
  const cut = decodeOptionValue(d, hex('0109 0001'));
  t.same(cut.ok ? null : cut.error.code, 'truncated');
});

t.test('decode failures', async (t) => {
  const code = (c: number, bytes: string) => {
    const r = decodeOptionValue(def(c), hex(bytes));
    return r.ok ? 'ok' : r.error.code;
  };
  t.equal(code(80, '00'), 'bad-length', 'empty with a byte');
  t.equal(code(1, 'ffffff'), 'bad-length', 'ipv4 of 3 bytes');
  t.equal(code(1, 'ffffff0000'), 'bad-length', 'ipv4 of 5 bytes');
  t.equal(code(6, ''), 'bad-length', 'empty address list');
  t.equal(code(6, '0a0000010a'), 'bad-length', 'address list of 5 bytes');
  t.equal(code(53, ''), 'bad-length');
  t.equal(code(53, '0101'), 'bad-length');
  t.equal(code(57, '05'), 'bad-length');
  t.equal(code(51, '000151'), 'bad-length');
  t.equal(code(2, '0000000000'), 'bad-length');
  t.equal(code(55, ''), 'bad-length');
  t.equal(code(25, '004401'), 'bad-length');
  t.equal(code(25, ''), 'bad-length');
  t.equal(code(15, ''), 'ok', 'an empty text is still text');
  t.equal(code(61, ''), 'ok', 'an empty binary is still binary');
  t.equal(code(119, ''), 'empty');
  t.equal(code(119, '0161c000'), 'pointer-loop');
  t.equal(code(119, 'c002 00'), 'forward-pointer');
  t.equal(code(120, '05'), 'bad-encoding');
  t.equal(code(43, '0105616263'), 'truncated');
});

t.test('text keeps every byte (Latin-1), trailing NULs included', async (t) => {
  const r = decodeOptionValue(def(60), hex('4d532d55432d436c69656e7400'));
  t.same(r, { ok: true, value: { type: 'text', value: 'MS-UC-Client\0' } }, 'a NUL-terminated option 60 is shown as sent');
  const high = decodeOptionValue(def(12), hex('e9ff'));
  t.same(high, { ok: true, value: { type: 'text', value: '\u00e9\u00ff' } });
});

t.test('encode refuses values that do not fit', async (t) => {
  t.throws(() => encodeOptionValue(def(1), { type: 'text', value: 'x' }), TypeError, 'wrong type for the row');
  t.throws(() => encodeOptionValue(def(1), { type: 'ipv4', value: '10.0.0' }), RangeError);
  t.throws(() => encodeOptionValue(def(6), { type: 'ipv4-list', value: [] }), RangeError);
  t.throws(() => encodeOptionValue(def(53), { type: 'uint8', value: 256 }), RangeError);
  t.throws(() => encodeOptionValue(def(53), { type: 'uint8', value: 1.5 }), RangeError);
  t.throws(() => encodeOptionValue(def(57), { type: 'uint16', value: -1 }), RangeError);
  t.throws(() => encodeOptionValue(def(51), { type: 'uint32', value: 2 ** 32 }), RangeError);
  t.throws(() => encodeOptionValue(def(2), { type: 'int32', value: 2 ** 31 }), RangeError);
  t.throws(() => encodeOptionValue(def(55), { type: 'uint8-list', value: [] }), RangeError);
  t.throws(() => encodeOptionValue(def(55), { type: 'uint8-list', value: [1, 300] }), RangeError);
  t.throws(() => encodeOptionValue(def(25), { type: 'uint16-list', value: [70000] }), RangeError);
  t.throws(() => encodeOptionValue(def(15), { type: 'text', value: 'contoso\u2013local' }), RangeError, 'beyond Latin-1');
  t.throws(() => encodeOptionValue(def(119), { type: 'fqdn-list', value: [] }), RangeError);
  t.throws(() => encodeOptionValue(def(119), { type: 'fqdn-list', value: ['a..b'] }), RangeError);
  const sub = (value: OptionValue): OptionValue => ({ type: 'encapsulated', value: { subOptions: [{ code: 3, value }], endMarker: false } });
  t.throws(() => encodeOptionValue(def(43), sub({ type: 'uint16', value: 443 })), TypeError, 'WebServerPort-style rows are text; an integer is refused');
  t.throws(() => encodeOptionValue(def(43), sub({ type: 'text', value: 'x'.repeat(256) })), RangeError, 'sub-option over 255 bytes');
});

// Arbitraries per type, for the round-trip property.
const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const label = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const latin1 = fc.array(fc.nat(255), { maxLength: 40 }).map((cs) => String.fromCharCode(...cs));
const arbs: Record<OptionType, fc.Arbitrary<OptionValue>> = {
  empty: fc.constant({ type: 'empty' }),
  ipv4: ip.map((value) => ({ type: 'ipv4', value })),
  'ipv4-list': fc.array(ip, { minLength: 1, maxLength: 6 }).map((value) => ({ type: 'ipv4-list', value })),
  uint8: fc.nat(0xff).map((value) => ({ type: 'uint8', value })),
  uint16: fc.nat(0xffff).map((value) => ({ type: 'uint16', value })),
  uint32: fc.nat(0xffffffff).map((value) => ({ type: 'uint32', value })),
  int32: fc.integer({ min: -0x80000000, max: 0x7fffffff }).map((value) => ({ type: 'int32', value })),
  'uint8-list': fc.array(fc.nat(0xff), { minLength: 1, maxLength: 20 }).map((value) => ({ type: 'uint8-list', value })),
  'uint16-list': fc.array(fc.nat(0xffff), { minLength: 1, maxLength: 20 }).map((value) => ({ type: 'uint16-list', value })),
  text: latin1.map((value) => ({ type: 'text', value })),
  binary: fc.uint8Array({ maxLength: 40 }).map((value) => ({ type: 'binary', value })),
  'fqdn-list': fc.array(name, { minLength: 1, maxLength: 6 }).map((value) => ({ type: 'fqdn-list', value })),
  'sip-servers': fc.oneof(
    fc.array(name, { minLength: 1, maxLength: 3 }).map((names): OptionValue => ({ type: 'sip-servers', value: { encoding: 0, names } })),
    fc.array(ip, { minLength: 1, maxLength: 3 }).map((addresses): OptionValue => ({ type: 'sip-servers', value: { encoding: 1, addresses } })),
  ),
  encapsulated: fc
    .tuple(
      fc.array(
        fc.oneof(
          fc.tuple(fc.integer({ min: 1, max: 5 }), fc.stringMatching(/^[ -~]{0,30}$/)).map(([code, value]) => ({ code, value: { type: 'text', value } as OptionValue })),
          fc.tuple(fc.integer({ min: 6, max: 254 }), fc.uint8Array({ maxLength: 20 })).map(([code, value]) => ({ code, value: { type: 'binary', value } as OptionValue })),
        ),
        { maxLength: 6 },
      ),
      fc.boolean(),
    )
    .map(([subOptions, endMarker]): OptionValue => ({ type: 'encapsulated', value: { subOptions, endMarker } })),
};
const rowFor: Record<OptionType, OptionDef> = {
  empty: def(80),
  ipv4: def(1),
  'ipv4-list': def(6),
  uint8: def(53),
  uint16: def(57),
  uint32: def(51),
  int32: def(2),
  'uint8-list': def(55),
  'uint16-list': def(25),
  text: def(15),
  binary: def(61),
  'fqdn-list': def(119),
  'sip-servers': def(120),
  encapsulated: def(43),
};

t.test('property: decode(encode(v)) = v for every type', async (t) => {
  for (const type of Object.keys(arbs) as OptionType[]) {
    t.doesNotThrow(() =>
      fc.assert(
        fc.property(arbs[type], (v) => {
          const d = rowFor[type];
          const bytes = encodeOptionValue(d, v);
          return JSON.stringify(plain(decodeOptionValue(d, bytes))) === JSON.stringify(plain({ ok: true, value: v }));
        }),
      ),
      `${type} round-trips`,
    );
  }
});

t.test('property: random bytes never throw, whatever the row', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(rowFor)), fc.uint8Array({ maxLength: 64 }), (d, bytes) => {
        decodeOptionValue(d, bytes);
        return true;
      }),
    ),
    'property held',
  );
});
