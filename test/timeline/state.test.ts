// The timeline's bounded maps and its wire-text sanitiser, against their
// plain definitions: BoundedMap keeps what setBounded on a Map keeps, in the
// same order; printable's fast path returns what the regular expression does.
import t from 'tap';
import fc from 'fast-check';
import { BoundedMap, newPhone, printable, setBounded, writable } from '../../src/timeline/state.js';

t.test('BoundedMap keeps the same entries, in the same order, as setBounded', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer()), { maxLength: 300 }), (cap, sets) => {
      const plain = new Map<number, number>();
      const bounded = new BoundedMap<number, number>(cap);
      let droppedPlain = 0;
      let droppedBounded = 0;
      for (const [k, v] of sets) {
        const before = plain.size + (plain.has(k) ? 0 : 1);
        setBounded(plain, k, v, cap);
        droppedPlain += before - plain.size;
        droppedBounded += bounded.set(k, v);
        if (bounded.get(k) !== v || bounded.size !== plain.size) return false;
      }
      return droppedPlain === droppedBounded && JSON.stringify([...bounded.entries()]) === JSON.stringify([...plain.entries()]) && JSON.stringify([...bounded.values()]) === JSON.stringify([...plain.values()]);
    }),
    { numRuns: 2000 },
  );
  t.end();
});

t.test('BoundedMap under a stream of new keys drops the oldest, as setBounded does', (t) => {
  const m = new BoundedMap<string, number>(1000);
  const plain = new Map<string, number>();
  let dropped = 0;
  let droppedPlain = 0;
  const set = (k: string, v: number) => {
    dropped += m.set(k, v);
    const before = plain.size + (plain.has(k) ? 0 : 1);
    setBounded(plain, k, v, 1000);
    droppedPlain += before - plain.size;
  };
  for (let i = 0; i < 50_000; i++) {
    set(`k${i}`, i);
    if (i % 3 === 0) set(`k${i - 500}`, i); // some refreshed: they move to the newest end
  }
  t.equal(m.size, 1000);
  t.equal(dropped, droppedPlain);
  t.same([...m.entries()], [...plain.entries()], 'same entries, oldest first');
  t.end();
});

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g;
const reference = (s: string, max = 255) => {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
};

t.test('printable: as the regular expression, clean text returned as it is', (t) => {
  const char = fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0, max: 0x3000 }),
    fc.constantFrom(0x1f, 0x7f, 0x9f, 0xa0, 0x200a, 0x200b, 0x200f, 0x2010, 0x2027, 0x2028, 0x202e, 0x202f, 0x2065, 0x2066, 0x2069, 0x206a),
  );
  fc.assert(
    fc.property(fc.array(char, { maxLength: 40 }), fc.integer({ min: 1, max: 50 }), (codes, max) => {
      const s = String.fromCharCode(...codes);
      return printable(s, max) === reference(s, max) && printable(s) === reference(s);
    }),
    { numRuns: 5000 },
  );
  const clean = 'MS-UC-Client';
  t.equal(printable(clean), clean);
  t.end();
});

t.test('a phone\'s maps are made on first write, each its own', (t) => {
  const a = newPhone('02:00:00:00:00:01', 1);
  const b = newPhone('02:00:00:00:00:02', 1);
  t.equal(a.ucupdates.size, 0);
  writable(a, 'ucupdates').set('x A', { name: 'x', type: 'A', rcode: 'NOERROR', answers: 1, firstAt: 1, at: 1, count: 1, domain: null });
  t.equal(a.ucupdates.size, 1);
  t.equal(b.ucupdates.size, 0, 'another phone\'s map is not touched');
  t.equal(a.time.size + a.other.size + a.informs.size, 0);
  t.equal(writable(a, 'ucupdates'), a.ucupdates, 'the same map from then on');
  t.end();
});
