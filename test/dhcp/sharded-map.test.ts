// ShardedMap behaves as a Map<string, V> would (same answers, same contents;
// iteration order aside), and spreads pool addresses and client ids over its shards.
import t from 'tap';
import fc from 'fast-check';
import { ShardedMap } from '../../src/dhcp/sharded-map.js';

const key = fc.oneof(
  fc.string({ maxLength: 6 }), // short keys, empty included
  fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `10.100.${a}.${b}`),
  fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => `01${Buffer.from(b).toString('hex')}`),
);
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), key }),
  fc.record({ kind: fc.constant('get' as const), key }),
);

t.test('the same answers and contents as a Map under any sequence of set/get/has/delete', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const model = new Map<string, number>();
        const m = new ShardedMap<number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            if (m.set(o.key, o.value) !== m) return false;
            model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            if (m.delete(o.key) !== model.delete(o.key)) return false;
          } else if (m.get(o.key) !== model.get(o.key) || m.has(o.key) !== model.has(o.key)) return false;
        }
        const sorted = (it: Iterable<[string, number]>) => [...it].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        const expected = sorted(model);
        return (
          m.size === model.size &&
          JSON.stringify(sorted(m)) === JSON.stringify(expected) &&
          JSON.stringify(sorted(m.entries())) === JSON.stringify(expected) &&
          JSON.stringify([...m.keys()].sort()) === JSON.stringify([...model.keys()].sort()) &&
          JSON.stringify([...m.values()].sort()) === JSON.stringify([...model.values()].sort()) &&
          JSON.stringify(sorted(new ShardedMap(m))) === JSON.stringify(expected)
        );
      }),
      { numRuns: 500 },
    ),
  );
});

t.test('a /16 of pool addresses and as many client ids spread over the shards', async (t) => {
  // The point of the shards: no one of them holds a large part of the leases (a
  // growth then rehashes a small map). The shards are private: read through a cast.
  for (const [what, keyOf] of [
    ['addresses', (i: number) => `10.100.${i >> 8}.${i & 255}`],
    ['client ids', (i: number) => `01020000${(i >> 8).toString(16).padStart(2, '0')}${(i & 255).toString(16).padStart(2, '0')}`],
  ] as const) {
    const m = new ShardedMap<number>();
    for (let i = 0; i < 65536; i++) m.set(keyOf(i), i);
    const shards = (m as unknown as { shards: Map<string, number>[] }).shards.map((s) => s.size);
    t.equal(shards.length, 64, what);
    t.ok(Math.max(...shards) <= 65536 / 16, `${what}: the largest shard holds ${Math.max(...shards)} of 65,536 (at most 1/16)`);
  }
});
