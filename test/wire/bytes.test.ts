// src/wire/bytes.ts: one contract each for hex, Latin-1 text and 32-bit fields.
import t from 'tap';
import { getU16, getU32, hex, latin1, latin1Bytes, putU32 } from '../../src/wire/bytes.js';

t.test('hex: two lower-case digits a byte, optional separator, views honoured', async (t) => {
  const b = Uint8Array.of(0x00, 0x0c, 0x4d, 0xff);
  t.equal(hex(b), '000c4dff');
  t.equal(hex(b, ':'), '00:0c:4d:ff');
  t.equal(hex(b, ' '), '00 0c 4d ff');
  t.equal(hex(new Uint8Array(0)), '');
  t.equal(hex(new Uint8Array(0), ':'), '');
  t.equal(hex(b.subarray(1, 3)), '0c4d');
  t.equal(hex(b.subarray(1, 3), '-'), '0c-4d');
});

t.test('latin1 and latin1Bytes: every byte survives, beyond U+00FF is refused', async (t) => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const text = latin1(all);
  t.equal(text.length, 256);
  t.equal(text.charCodeAt(0xe9), 0xe9);
  t.same([...latin1Bytes(text)], [...all]);
  t.equal(latin1(all.subarray(0x41, 0x44)), 'ABC');
  t.same([...latin1Bytes('MS-UC-Client')], [0x4d, 0x53, 0x2d, 0x55, 0x43, 0x2d, 0x43, 0x6c, 0x69, 0x65, 0x6e, 0x74]);
  t.throws(() => latin1Bytes('caf\u0113'), RangeError);
});

t.test('putU32/getU32/getU16 are big-endian (network order)', async (t) => {
  const b = new Uint8Array(6);
  putU32(b, 1, 0x63825363); // the DHCP magic cookie, RFC 2131 §3
  t.same([...b], [0, 0x63, 0x82, 0x53, 0x63, 0]);
  t.equal(getU32(b, 1), 0x63825363);
  putU32(b, 0, 0xffffffff);
  t.equal(getU32(b, 0), 0xffffffff);
  t.equal(getU16(Uint8Array.of(0x13, 0xc5), 0), 5061);
});
