// LeaseTable allocation: new clients take never-used addresses without a
// lookup per address (a bitmap of used pool indices), which must stay right
// across reloads that move the pool, and must never hand out an address that
// is not free, nor an old lease's address while a never-used one is left.
import t from 'tap';
import fc from 'fast-check';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import type { DhcpPlan } from '../../src/site/plan.js';
import { flatPlan } from './fixtures/engine-plan.js';

function plan(pools: { start: string; end: string }[]): DhcpPlan {
  return flatPlan({
    enabled: true,
    port: 67,
    serverId: '10.1.0.1',
    subnet: { network: '10.1.0.0', prefix: 24, mask: '255.255.255.0', broadcast: '10.1.0.255' },
    pools,
    reservations: [{ mac: '00:00:00:00:00:09', ip: '10.1.0.12' }],
    leaseSeconds: 100,
    renewSeconds: 50,
    rebindSeconds: 87,
    offerHoldSeconds: 10,
    declineHoldSeconds: 30,
    baseOptions: new Map(),
    classes: [],
  });
}

const mac = (c: number) => `00:00:00:00:01:${c.toString(16).padStart(2, '0')}`;
const id = (c: number) => `mac:${mac(c)}`;
const NOW = 1_000_000;

t.test('a reload that moves the pool keeps leased and held addresses out of new offers', (t) => {
  const table = new LeaseTable(plan([{ start: '10.1.0.10', end: '10.1.0.14' }]));
  table.apply({ ip: '10.1.0.20', clientId: id(1), mac: mac(1), state: 'bound', expiresAt: NOW + 100_000, updatedAt: NOW });
  table.hold('10.1.0.21', id(2), NOW + 10_000);
  // 10.1.0.20 and .21 were outside the pool; now the pool starts there.
  table.setPlan(plan([{ start: '10.1.0.20', end: '10.1.0.23' }]));
  const first = table.choose(id(3), mac(3), undefined, NOW);
  t.equal(first, '10.1.0.22', 'the leased .20 and the held .21 are skipped');
  table.hold(first!, id(3), NOW + 10_000);
  const second = table.choose(id(4), mac(4), undefined, NOW);
  t.equal(second, '10.1.0.23');
  table.hold(second!, id(4), NOW + 10_000);
  t.equal(table.choose(id(5), mac(5), undefined, NOW), null, 'full: .20 leased, .21 to .23 held');
  t.end();
});

t.test('records loaded at start count as used', (t) => {
  const records = [10, 11, 13].map((n, i) => ({ ip: `10.1.0.${n}`, clientId: id(i), mac: mac(i), state: 'bound' as const, expiresAt: NOW + 100_000, updatedAt: NOW }));
  const table = new LeaseTable(plan([{ start: '10.1.0.10', end: '10.1.0.15' }]), records);
  t.equal(table.choose(id(9), mac(9), undefined, NOW), '10.1.0.14', '.12 is reserved, .10, .11 and .13 are leased');
  t.end();
});

t.test('property: an offer is free for the client, and old leases are reused only when no never-used address is left', (t) => {
  const pools = [
    [{ start: '10.1.0.10', end: '10.1.0.14' }],
    [{ start: '10.1.0.12', end: '10.1.0.13' }, { start: '10.1.0.20', end: '10.1.0.22' }],
  ];
  const all = ['10.1.0.10', '10.1.0.11', '10.1.0.12', '10.1.0.13', '10.1.0.14', '10.1.0.20', '10.1.0.21', '10.1.0.22'];
  const client = fc.integer({ min: 0, max: 9 });
  const op = fc.oneof(
    fc.record({ k: fc.constant('discover' as const), c: client }),
    fc.record({ k: fc.constant('bind' as const), c: client, ip: fc.constantFrom(...all) }),
    fc.record({ k: fc.constant('release' as const), c: client, ip: fc.constantFrom(...all) }),
    fc.record({ k: fc.constant('unhold' as const), c: client }),
    fc.record({ k: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 200_000 }) }),
    fc.record({ k: fc.constant('reload' as const), p: fc.integer({ min: 0, max: 1 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const table = new LeaseTable(plan(pools[0]!));
      let now = NOW;
      for (const o of ops) {
        if (o.k === 'wait') now += o.ms;
        else if (o.k === 'reload') table.setPlan(plan(pools[o.p]!));
        else if (o.k === 'unhold') table.releaseHold(id(o.c));
        else if (o.k === 'discover') {
          const offered = all.filter((ip) => table.heldFor(ip, now) === id(o.c));
          const got = table.choose(id(o.c), mac(o.c), undefined, now);
          const inPool = all.filter((ip) => table.inPool(ip));
          const free = inPool.filter((ip) => table.availableTo(ip, id(o.c), mac(o.c), now));
          if (got === null) {
            if (free.length > 0) return false;
            continue;
          }
          if (!table.availableTo(got, id(o.c), mac(o.c), now)) return false;
          const r = table.get(got);
          // Reusing someone's old lease (not the address already offered to this client): only if no address without any record is free.
          if (r && r.clientId !== id(o.c) && !offered.includes(got) && free.some((ip) => table.get(ip) === undefined)) return false;
          table.hold(got, id(o.c), now + 10_000);
        } else if (o.k === 'bind' ? table.inPool(o.ip) && table.availableTo(o.ip, id(o.c), mac(o.c), now) : true) {
          table.apply({ ip: o.ip, clientId: id(o.c), mac: mac(o.c), state: o.k === 'bind' ? 'bound' : 'released', expiresAt: now + (o.k === 'bind' ? 100_000 : 0), updatedAt: now });
        }
      }
      return true;
    }),
    { numRuns: 3000 },
  );
  t.end();
});

t.test('expiredSince reports exactly the bound leases past their time, however applies and sweeps interleave', async (t) => {
  // The sweep skips its walk until the earliest known expiry: checked against the plain walk.
  type Op = { k: 'apply'; ip: number; state: 'bound' | 'released'; ttl: number } | { k: 'sweep'; dt: number; markExpired: boolean };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ k: fc.constant('apply' as const), ip: fc.integer({ min: 10, max: 19 }), state: fc.constantFrom('bound' as const, 'released' as const), ttl: fc.integer({ min: 0, max: 5_000 }) }),
    fc.record({ k: fc.constant('sweep' as const), dt: fc.integer({ min: 0, max: 3_000 }), markExpired: fc.boolean() }),
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const table = new LeaseTable(plan([{ start: '10.1.0.10', end: '10.1.0.19' }]));
        const model = new Map<string, { state: string; expiresAt: number }>();
        let now = NOW;
        for (const o of ops) {
          if (o.k === 'apply') {
            const ip = `10.1.0.${o.ip}`;
            const r = { ip, clientId: id(o.ip), mac: mac(o.ip), state: o.state, expiresAt: now + o.ttl, updatedAt: now };
            table.apply(r);
            model.set(ip, r);
          } else {
            now += o.dt;
            const got = table.expiredSince(now).map((r) => r.ip).sort();
            const want = [...model].filter(([, r]) => r.state === 'bound' && r.expiresAt <= now).map(([ip]) => ip).sort();
            if (JSON.stringify(got) !== JSON.stringify(want)) return false;
            // The daemon marks them expired; a caller that does not is told again next time.
            if (o.markExpired) {
              for (const ip of got) {
                const r = { ...table.get(ip)!, state: 'expired' as const, updatedAt: now };
                table.apply(r);
                model.set(ip, r);
              }
            }
          }
        }
        return true;
      }),
      { numRuns: 1000 },
    ),
  );
});
