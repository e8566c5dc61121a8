import t from 'tap';
import fc from 'fast-check';
import { decodeName, encodeName, encodeNames, isValidDomainName } from '../../src/wire/rfc1035-names.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function errorCode(r: { ok: boolean; error?: { code: string } }): string | undefined {
  return r.ok ? undefined : r.error?.code;
}

t.test('isValidDomainName', async (t) => {
  for (const good of ['example.com', 'example.com.', 'a', '_sipinternaltls._tcp.contoso.com', 'ucupdates-r2.contoso.local', '-lenient-.x', 'a'.repeat(63) + '.com']) {
    t.ok(isValidDomainName(good), good);
  }
  for (const bad of ['', '.', 'a..b', '.a', 'a b.com', 'é.com', 'a'.repeat(64) + '.com', 'a/b', 'com..']) {
    t.notOk(isValidDomainName(bad), JSON.stringify(bad));
  }
  // 253 text characters -> 255 wire octets: the largest legal name (RFC 1035 §2.3.4).
  const max = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.');
  t.equal(max.length, 253);
  t.ok(isValidDomainName(max), '253 characters');
  t.ok(isValidDomainName(max + '.'), '253 characters and a trailing dot');
  t.notOk(isValidDomainName(max + 'x'), '254 characters');
});

t.test('encodeName: RFC 1035 §4.1.4 figure bytes for F.ISI.ARPA', async (t) => {
  t.equal(toHex(encodeName('F.ISI.ARPA')), '0146034953490441525041' + '00');
  t.equal(toHex(encodeName('F.ISI.ARPA.')), '014603495349044152504100', 'a trailing dot changes nothing');
  t.equal(toHex(encodeName('')), '00', 'root');
  t.equal(toHex(encodeName('.')), '00', 'root written with a dot');
  t.throws(() => encodeName('a..b'), RangeError);
  t.throws(() => encodeName('x'.repeat(64)), RangeError);
});

t.test('decodeName: the RFC 1035 §4.1.4 message layout', async (t) => {
  // Offsets 20, 40, 64 and 92 as in the RFC's figure; everything else is filler that must not matter.
  const buf = new Uint8Array(100).fill(0xee);
  buf.set(hex('01 46 03 49 53 49 04 41 52 50 41 00'), 20); // F.ISI.ARPA
  buf.set(hex('03 46 4f 4f c0 14'), 40); // FOO + pointer to 20
  buf.set(hex('c0 1a'), 64); // pointer to 26 (ARPA)
  buf[92] = 0; // the root
  const at = (o: number) => decodeName(buf, o);
  t.same(at(20), { ok: true, value: { name: 'F.ISI.ARPA', next: 32, compressed: false } });
  t.same(at(40), { ok: true, value: { name: 'FOO.F.ISI.ARPA', next: 46, compressed: true } });
  t.same(at(64), { ok: true, value: { name: 'ARPA', next: 66, compressed: true } });
  t.same(at(92), { ok: true, value: { name: '', next: 93, compressed: false } });
  t.equal(errorCode(decodeName(buf, 40, { allowCompression: false })), 'compression-not-allowed');
  t.equal(errorCode(decodeName(buf, 20, { allowCompression: false })), undefined, 'plain names are fine without compression');
});

t.test('decodeName: pointers are relative to start, reads stop at end', async (t) => {
  // Two junk bytes, then "com" at relative offset 0, then "a" + pointer to relative 0.
  const buf = hex('4141 03636f6d00 0161c000');
  const r = decodeName(buf, 7, { start: 2 });
  t.same(r, { ok: true, value: { name: 'a.com', next: 11, compressed: true } });
  // The same bytes read with start 0 point into the junk (0x41: reserved label type 0x40).
  t.equal(errorCode(decodeName(buf, 7)), 'bad-label-type');
  // end cuts the stream before the root label of "com".
  t.equal(errorCode(decodeName(buf, 2, { end: 6 })), 'no-root');
  t.equal(errorCode(decodeName(buf, 2, { end: 5 })), 'truncated');
});

t.test('decodeName failures', async (t) => {
  const cases: [string, string, number][] = [
    ['forward pointer', 'c0 02 00', 0],
    ['self pointer', 'c0 00', 0],
    ['pointer after labels, to itself', '0161 c0 02', 0],
    ['loop through a label', '0178 c0 00', 0],
    ['label runs past the end', '05 61 62', 0],
    ['pointer cut short', '0161 c0', 0],
    ['no root label', '0161', 0],
    ['0x40 label type', '41 61', 0],
    ['0x80 label type', '81 61', 0],
    ['offset past the data', '00', 1],
  ];
  const want = ['forward-pointer', 'forward-pointer', 'forward-pointer', 'pointer-loop', 'truncated', 'truncated', 'no-root', 'bad-label-type', 'bad-label-type', 'no-root'];
  cases.forEach(([what, bytes, offset], i) => {
    const r = decodeName(hex(bytes), offset);
    t.equal(errorCode(r), want[i], what);
    if (!r.ok) t.type(r.error.offset, 'number', `${what}: says where`);
  });

  // Five 63-byte labels: 320 octets on the wire.
  const long = new Uint8Array(5 * 64 + 1);
  for (let i = 0; i < 5; i++) long.set([63, ...new Array<number>(63).fill(0x61)], i * 64);
  t.equal(errorCode(decodeName(long, 0)), 'name-too-long');

  // 255 octets exactly is legal; one more is not.
  const legal = encodeName(['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.'));
  t.equal(legal.length, 255);
  t.ok(decodeName(legal, 0).ok, '255 octets');

  // A pointer chain going backwards one step at a time, 200 pointers long: refused, not walked.
  const chain = new Uint8Array(2 + 2 * 200);
  chain[0] = 0; // root at 0; pointer k points at pointer k-1
  for (let k = 1; k <= 200; k++) {
    const target = 2 * (k - 1);
    chain[2 * k] = 0xc0 | (target >> 8);
    chain[2 * k + 1] = target & 0xff;
  }
  t.equal(errorCode(decodeName(chain, 2 * 10)), undefined, 'a short chain is fine');
  t.equal(errorCode(decodeName(chain, 2 * 200)), 'pointer-loop', 'a chain of 200 pointers is refused');
});

t.test('encodeNames: compression to prior suffixes', async (t) => {
  // Hand-built from RFC 1035 §4.1.4: "example.com" starts at offset 2 of the output.
  t.equal(toHex(encodeNames(['a.example.com', 'b.example.com'], { compress: true })), '0161076578616d706c6503636f6d00' + '0162c002');
  t.equal(toHex(encodeNames(['a.example.com', 'b.example.com'], { compress: false })), '0161076578616d706c6503636f6d00' + '0162076578616d706c6503636f6d00');
  // A repeated name becomes a single pointer to its first occurrence.
  t.equal(toHex(encodeNames(['ab.c', 'ab.c'], { compress: true })), '026162016300' + 'c000');
  // Suffixes are matched case-sensitively so decoding returns exactly what was encoded.
  t.equal(toHex(encodeNames(['x.COM', 'y.com'], { compress: true })), '0178' + '03434f4d00' + '0179' + '03636f6d00');
  t.throws(() => encodeNames(['ok.com', 'bad..com'], { compress: true }), RangeError);
});

t.test('encodeNames: pointers only to offsets that fit in 14 bits', async (t) => {
  // 70 distinct ~250-byte names push the output past 16383 bytes. Then one
  // name whose only prior copy sits beyond 0x3fff (must be written in full)
  // and one whose prior copy is at 0 (must become the pointer c0 00).
  const label = (i: number) => `l${String(i).padStart(3, '0')}`.padEnd(60, 'x');
  const names = Array.from({ length: 70 }, (_, i) => [label(i), label(i), label(i), 'y'.repeat(60)].join('.') + `.t${i}`);
  names.push(names[69]!, names[0]!);
  const out = encodeNames(names, { compress: true });
  const starts: number[] = [];
  let pos = 0;
  for (const name of names) {
    starts.push(pos);
    const r = decodeName(out, pos);
    if (!r.ok || r.value.name !== name) {
      t.fail(`name at ${pos} did not decode back`);
      return;
    }
    pos = r.value.next;
  }
  t.equal(pos, out.length, 'every byte accounted for');
  t.ok(starts[69]! > 0x3fff, 'the 70th name starts beyond 14 bits');
  t.equal(starts[71]! - starts[70]!, encodeName(names[69]!).length, 'a name whose prior copy is out of pointer reach is written in full');
  t.equal(toHex(out.subarray(starts[71]!)), 'c000', 'a name whose prior copy is in reach is one pointer');
});

const labelArb = fc.stringMatching(/^[a-z0-9_-]{1,12}$/);
const nameArb = fc.array(labelArb, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('.'));

t.test('property: encode -> decode returns the names; compression never grows the output', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(fc.oneof(nameArb, fc.constantFrom('com', 'apple.com', 'eng.apple.com')), { minLength: 1, maxLength: 8 }), (names) => {
        for (const compress of [true, false]) {
          const out = encodeNames(names, { compress });
          let pos = 0;
          for (const name of names) {
            const r = decodeName(out, pos, { allowCompression: compress });
            if (!r.ok || r.value.name !== name) return false;
            pos = r.value.next;
          }
          if (pos !== out.length) return false;
        }
        return encodeNames(names, { compress: true }).length <= encodeNames(names, { compress: false }).length;
      }),
    ),
    'property held',
  );
});

t.test('property: arbitrary bytes never throw, and bytes at or past end never matter', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(80), fc.nat(80), (bytes, rawEnd, rawOffset) => {
        const end = Math.min(rawEnd, bytes.length);
        const offset = Math.min(rawOffset, end);
        const full = decodeName(bytes, offset, { end });
        const cut = decodeName(bytes.slice(0, end), offset);
        if (JSON.stringify(full) !== JSON.stringify(cut)) return false;
        return !full.ok || full.value.next <= end;
      }),
    ),
    'property held',
  );
});
