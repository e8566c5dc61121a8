import t from 'tap';
import fc from 'fast-check';
import { decodeSearchList, encodeSearchList } from '../../src/wire/rfc3397-search.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// RFC 3397 §3's example, as quoted in docs/lpe-facts.md.
const RFC3397_EXAMPLE = '03 65 6e 67 05 61 70 70 6c 65 03 63 6f 6d 00 09 6d 61 72 6b 65 74 69 6e 67 c0 04';

t.test('RFC 3397 example: eng.apple.com + marketing.apple.com', async (t) => {
  const out = encodeSearchList(['eng.apple.com', 'marketing.apple.com']);
  t.equal(out.length, 27);
  t.equal(toHex(out), toHex(hex(RFC3397_EXAMPLE)));
  t.same(decodeSearchList(hex(RFC3397_EXAMPLE)), { ok: true, value: ['eng.apple.com', 'marketing.apple.com'] });
});

t.test('a single domain, and an invalid one', async (t) => {
  t.equal(toHex(encodeSearchList(['contoso.local'])), '07636f6e746f736f056c6f63616c00');
  t.throws(() => encodeSearchList(['contoso..local']), RangeError);
});

t.test('decodeSearchList refuses broken data', async (t) => {
  const code = (s: string) => {
    const r = decodeSearchList(hex(s));
    return r.ok ? 'ok' : r.error.code;
  };
  t.equal(code(''), 'empty');
  t.equal(code('c0 02 03636f6d00'), 'forward-pointer', 'pointer to a later name');
  t.equal(code('03636f6d00 0161 c0 07'), 'forward-pointer', 'pointer to itself');
  t.equal(code('03636f6d00 0161 c0 00'), 'ok', 'pointer to a prior name');
  t.equal(code('0161 c0 00'), 'pointer-loop', 'pointer back to its own name\'s first label');
  t.equal(code('03656e67 05 6170'), 'truncated', 'label cut short (e.g. a lost RFC 3396 piece)');
  t.equal(code('03656e67 c0'), 'truncated', 'pointer cut short');
  t.equal(code('03656e67'), 'no-root');
  t.equal(code('03636f6d00 03656e67'), 'no-root', 'the second name has no root');
  t.equal(code('43 41'), 'bad-label-type');
});

t.test('property: round trip of any valid list', async (t) => {
  const label = fc.stringMatching(/^[a-z0-9-]{1,10}$/);
  const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 10 }), (names) => {
        const r = decodeSearchList(encodeSearchList(names));
        return r.ok && JSON.stringify(r.value) === JSON.stringify(names);
      }),
    ),
    'property held',
  );
});
