// RFC 2132 §8.4 encapsulated options. Bytes written by hand from the RFC's
// layout and from dnsmasq's documented mistakes (docs/lpe-facts.md: 01 bb, trailing ff).
import t from 'tap';
import { decodeEncapsulated, encodeEncapsulated, walkEncapsulated } from '../../src/wire/rfc2132-encapsulated.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

t.test('decodeEncapsulated: pad, end, trailing, truncation', async (t) => {
  // dnsmasq's mistakes (docs/lpe-facts.md): port as the integer 01 bb, and an ff inside option 43.
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

t.test('walkEncapsulated: reads on past pads and reports a cut instead of failing', async (t) => {
  const w = walkEncapsulated(hex('0102aabb 00 00 0301cc 0405 6162'));
  t.same(w.subOptions.map((s) => [s.code, s.offset, toHex(s.data)]), [[1, 0, 'aabb'], [3, 6, 'cc']]);
  t.same(w.pads, [{ offset: 4, length: 2 }]);
  t.same(w.cut && [w.cut.offset, w.cut.code, w.cut.declared, toHex(w.cut.data)], [9, 4, 5, '6162']);
  t.equal(w.end, null);
  const noLength = walkEncapsulated(hex('0101aa 07'));
  t.same(noLength.cut && [noLength.cut.offset, noLength.cut.code, noLength.cut.declared], [3, 7, undefined]);
  const ended = walkEncapsulated(hex('0101aa ff 0102'));
  t.equal(ended.end, 3);
  t.equal(toHex(ended.trailing), '0102');
  t.equal(ended.cut, null, 'bytes after the end marker are not read as sub-options');
});
