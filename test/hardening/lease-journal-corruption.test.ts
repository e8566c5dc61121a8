// The lease store read back after damage: flipped bytes, a torn tail (kill -9
// or power loss mid-write), garbage appended. Opening it never throws, never
// invents a lease, and keeps every record whose line survived intact; each
// damaged line costs a warning, not the whole store.
import t from 'tap';
import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { LeaseJournal } from '../../src/dhcp/lease-journal.js';
import type { LeaseRecord } from '../../src/dhcp/lease-record.js';

const rec = (i: number): LeaseRecord => ({
  ip: `10.7.${i >> 8}.${i & 255}`,
  clientId: `01020000${i.toString(16).padStart(6, '0')}`,
  mac: `02:00:00:${[(i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`,
  state: 'bound',
  expiresAt: 1_900_000_000_000 + i,
  updatedAt: 1_800_000_000_000 + i,
  ...(i % 3 === 0 ? { hostname: `cx600-${i}` } : {}),
  ...(i % 2 === 0 ? { vendorClass: 'MS-UC-Client' } : {}),
});

type Damage =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'cut'; at: number }
  | { kind: 'append'; bytes: Uint8Array };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 80 }) }),
);

t.test('property: a damaged journal opens, keeps every intact record, invents none', async (t) => {
  const root = t.testdir();
  const N = 40;
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(damage, { minLength: 1, maxLength: 6 }), async (damages) => {
      const dir = join(root, `r${run++}`);
      const first = await LeaseJournal.open(dir, { fsync: false });
      const written = Array.from({ length: N }, (_, i) => rec(i));
      await Promise.all(written.map((r) => first.journal.append(r)));
      await first.journal.close();

      const file = join(dir, 'leases.journal');
      const original = await fs.readFile(file);
      let bytes = Buffer.from(original);
      // Which bytes still hold their original value at their original offset.
      let intactUpTo = bytes.length;
      const flipped = new Set<number>();
      for (const d of damages) {
        if (d.kind === 'flip') {
          const at = d.at % Math.max(1, bytes.length);
          if (bytes.length > 0 && bytes[at] !== d.value) {
            bytes[at] = d.value;
            flipped.add(at);
          }
        } else if (d.kind === 'cut') {
          const at = d.at % (bytes.length + 1);
          bytes = bytes.subarray(0, at);
          intactUpTo = Math.min(intactUpTo, at);
        } else {
          bytes = Buffer.concat([bytes, d.bytes]);
        }
      }
      await fs.writeFile(file, bytes);

      let load;
      try {
        load = await LeaseJournal.open(dir, { fsync: false });
      } catch (err) {
        throw new Error(`open threw: ${String(err)}`);
      }
      await load.journal.close();

      // A record line is intact when its bytes, its newline and the newline before it are untouched.
      let start = original.indexOf(0x0a) + 1; // after the header
      for (const r of written) {
        const end = original.indexOf(0x0a, start);
        const line = [start - 1, end];
        const touched = end >= intactUpTo || [...flipped].some((p) => p >= line[0]! && p <= line[1]!);
        const got = load.leases.get(r.ip);
        if (!touched && JSON.stringify(got) !== JSON.stringify(r)) throw new Error(`intact record for ${r.ip} lost or changed: ${JSON.stringify(got)}`);
        start = end + 1;
      }
      const known = new Map(written.map((r) => [r.ip, JSON.stringify(r)]));
      for (const [ip, r] of load.leases) {
        if (known.get(ip) !== JSON.stringify(r)) throw new Error(`a lease nobody wrote appeared: ${JSON.stringify(r)}`);
      }
      const damagedRecords = written.filter((r) => !load.leases.has(r.ip)).length;
      // (An empty file is what a crash between creating a journal and writing its header leaves,
      // with nothing acknowledged in it: the loader takes it silently, rightly. So is a file cut
      // exactly after a newline, with nothing else damaged before the cut: a shorter journal,
      // as a crash before the later appends were written leaves it, which nothing can tell apart.)
      const cleanCut = bytes.length === intactUpTo && original[intactUpTo - 1] === 0x0a && [...flipped].every((p) => p >= intactUpTo);
      if (damagedRecords > 0 && bytes.length > 0 && !cleanCut && load.warnings.length === 0) throw new Error(`${damagedRecords} records dropped without a warning`);
      return true;
    }),
    { numRuns: 60 },
  );
  t.pass('60 damaged journals opened; intact records kept, nothing invented, every loss warned about');
});
