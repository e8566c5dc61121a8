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
  t.equal(table.choose(id(5), mac(5), undefined, NOW), '10.1.0.21', 'only holds left: the oldest gives way, never the lease');
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

/**
 * The plain walk the table replaced (one pass over the pool per DISCOVER),
 * through the table's public queries: after reservation, previous, offered and
 * requested, the first address from the cursor that is free and has no record,
 * else the free one with the oldest record (first from the cursor on a tie).
 */
function walk(table: LeaseTable, pool: string[], cursor: { at: number }, c: string, m: string, now: number): string | null {
  const reserved = table.reservationUsable(m, c, now);
  if (reserved !== undefined) return reserved;
  const previous = table.forClient(c);
  if (previous && previous.state !== 'declined' && table.availableTo(previous.ip, c, m, now)) return previous.ip;
  const offered = pool.find((ip) => table.heldFor(ip, now) === c);
  if (offered !== undefined && table.availableTo(offered, c, m, now)) return offered;
  let reusable: string | null = null;
  for (let step = 0; step < pool.length; step++) {
    const index = (cursor.at + step) % pool.length;
    const ip = pool[index]!;
    if (!table.availableTo(ip, c, m, now)) continue;
    const r = table.get(ip);
    if (!r) {
      cursor.at = (index + 1) % pool.length;
      return ip;
    }
    if (reusable === null || r.updatedAt < table.get(reusable)!.updatedAt) reusable = ip;
  }
  return reusable;
}

type Layout = { start: string; end: string }[];

/**
 * The invariant: the same address as the walk when it picks a reservation,
 * the previous or offered address, or a never-leased one (next-fit from the
 * same cursor); when it picks an old lease, an available one exactly as old
 * (the walk breaks ties by cursor order, the queue by address); when it finds
 * nothing, the hold of another client that ends first, or null if none.
 */
function choosesLikeTheWalk(layouts: Layout[], clients: number, maxLength: number, numRuns: number): void {
  const poolOf = (l: { start: string; end: string }[]) => l.flatMap((r) => {
    const out: string[] = [];
    for (let n = Number(r.start.split('.')[3]); n <= Number(r.end.split('.')[3]); n++) out.push(`10.1.0.${n}`);
    return out;
  });
  const all = [...new Set(layouts.flatMap(poolOf))];
  // Client 9 has the reservation (10.1.0.12).
  const macOf = (c: number) => (c === 9 ? '00:00:00:00:00:09' : mac(c));
  const idOf = (c: number) => `mac:${macOf(c)}`;
  const client = fc.integer({ min: 0, max: clients - 1 });
  const op = fc.oneof(
    { arbitrary: fc.record({ k: fc.constant('discover' as const), c: client, hold: fc.integer({ min: 1, max: 20_000 }) }), weight: 4 },
    fc.record({ k: fc.constant('ack' as const), c: client, ip: fc.constantFrom(...all), ms: fc.integer({ min: 1, max: 100_000 }) }),
    fc.record({ k: fc.constant('release' as const), c: client }),
    fc.record({ k: fc.constant('decline' as const), c: client }),
    fc.record({ k: fc.constant('failedAck' as const), c: client, ip: fc.constantFrom(...all) }),
    fc.record({ k: fc.constant('expire' as const) }),
    fc.record({ k: fc.constant('unhold' as const), c: client }),
    fc.record({ k: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 60_000 }) }),
    fc.record({ k: fc.constant('reload' as const), p: fc.integer({ min: 0, max: layouts.length - 1 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength }), (ops) => {
      let layout = layouts[0]!;
      const table = new LeaseTable(plan(layout));
      const cursor = { at: 0 };
      let now = NOW;
      for (const o of ops) {
        const pool = poolOf(layout);
        if (o.k === 'wait') now += o.ms;
        else if (o.k === 'reload') {
          layout = layouts[o.p]!;
          table.setPlan(plan(layout));
          if (cursor.at >= poolOf(layout).length) cursor.at = 0;
        } else if (o.k === 'unhold') table.releaseHold(idOf(o.c));
        else if (o.k === 'expire') {
          for (const r of table.expiredSince(now)) table.apply({ ...r, state: 'expired', updatedAt: now });
        } else if (o.k === 'ack') {
          if (table.availableTo(o.ip, idOf(o.c), macOf(o.c), now)) table.apply({ ip: o.ip, clientId: idOf(o.c), mac: macOf(o.c), state: 'bound', expiresAt: now + o.ms, updatedAt: now });
        } else if (o.k === 'failedAck') {
          // An ACK whose journal write failed: applied, then undone.
          if (!table.availableTo(o.ip, idOf(o.c), macOf(o.c), now)) continue;
          const previous = table.get(o.ip);
          const clientIp = table.forClient(idOf(o.c))?.ip;
          const rec = { ip: o.ip, clientId: idOf(o.c), mac: macOf(o.c), state: 'bound' as const, expiresAt: now + 60_000, updatedAt: now };
          table.apply(rec);
          table.revert(rec, previous, clientIp);
        } else if (o.k === 'release' || o.k === 'decline') {
          const r = table.forClient(idOf(o.c));
          if (r && r.state === 'bound') table.apply({ ...r, state: o.k === 'release' ? 'released' : 'declined', expiresAt: now + (o.k === 'release' ? 0 : 30_000), updatedAt: now });
        } else {
          const c = idOf(o.c);
          const m = macOf(o.c);
          const before = { at: cursor.at };
          const expected = walk(table, pool, cursor, c, m, now);
          // Which hold would give way: the earliest-ending hold of another client on a pool address nobody reserved.
          const leasedToOther = (ip: string) => {
            const r = table.get(ip);
            return r !== undefined && r.expiresAt > now && (r.state === 'declined' || (r.state === 'bound' && r.clientId !== c));
          };
          const holds = pool.filter((ip) => ip !== '10.1.0.1' && ip !== '10.1.0.12' && table.heldFor(ip, now) !== undefined && table.heldFor(ip, now) !== c && !leasedToOther(ip));
          const ends = new Map(holds.map((ip) => [ip, table.holdEnd(ip)]));
          const firstEnd = Math.min(...ends.values());
          const got = table.choose(c, m, undefined, now);
          if (expected === null) {
            // Nothing free: null, or a hold of another client gives way.
            if (got !== null && ends.get(got) !== firstEnd) return false;
            if (got === null && holds.length > 0) return false;
          } else if (table.get(expected) === undefined || expected === table.reservationFor(m) || table.get(expected)!.clientId === c) {
            // Reservation, previous, offered or never leased: the same address.
            if (got !== expected) return false;
          } else {
            // An old lease: one as old (the walk breaks ties by cursor order, the queue by address).
            if (got === null || !table.availableTo(got, c, m, now) || table.get(got)?.updatedAt !== table.get(expected)!.updatedAt) return false;
            cursor.at = before.at;
          }
          if (got !== null) table.hold(got, c, now + o.hold);
        }
      }
      return true;
    }),
    { numRuns },
  );
}

t.test('property: choosing from queues picks what the plain walk picks, whatever the sequence', (t) => {
  choosesLikeTheWalk([
    [{ start: '10.1.0.10', end: '10.1.0.14' }],
    [{ start: '10.1.0.12', end: '10.1.0.13' }, { start: '10.1.0.20', end: '10.1.0.22' }],
    [{ start: '10.1.0.1', end: '10.1.0.3' }, { start: '10.1.0.11', end: '10.1.0.12' }],
  ], 12, 120, 4000);
  // Pools of several bitmap words, filled and freed again.
  choosesLikeTheWalk([
    [{ start: '10.1.0.1', end: '10.1.0.70' }],
    [{ start: '10.1.0.5', end: '10.1.0.12' }, { start: '10.1.0.40', end: '10.1.0.99' }],
  ], 90, 400, 300);
  t.end();
});

t.test('choosing costs the same whatever the pool state: lookups per DISCOVER do not grow with the pool', async (t) => {
  const { ShardedMap } = await import('../../src/dhcp/sharded-map.js');
  const get = ShardedMap.prototype.get;
  let lookups = 0;
  t.teardown(() => void (ShardedMap.prototype.get = get));
  ShardedMap.prototype.get = function (this: InstanceType<typeof ShardedMap>, key: string) {
    lookups++;
    return get.call(this, key);
  } as typeof get;
  for (const size of [256, 4096]) {
    const last = 10 + size - 1;
    const end = `10.1.${last >> 8}.${last & 255}`;
    const { scopes, ...flat } = plan([]);
    const big = flatPlan({ ...scopes[0]!, ...flat, subnet: { network: '10.1.0.0', prefix: 16, mask: '255.255.0.0', broadcast: '10.1.255.255' }, pools: [{ start: '10.1.0.10', end }] });
    // Every address leased once, then expired (1-minute leases, new MACs): all must be reused.
    const records = [];
    for (let i = 0; i < size; i++) {
      const n = 10 + i;
      records.push({ ip: `10.1.${n >> 8}.${n & 255}`, clientId: `old-${i}`, mac: mac(i & 255), state: 'expired' as const, expiresAt: NOW - 1, updatedAt: NOW - size + i });
    }
    const table = new LeaseTable(big, records);
    lookups = 0;
    let offered = 0;
    for (let c = 0; c < 200; c++) {
      const ip = table.choose(`new-${c}`, mac(c & 255), undefined, NOW);
      if (ip === null) continue;
      offered++;
      table.hold(ip, `new-${c}`, NOW + 10_000);
    }
    t.equal(offered, 200);
    t.ok(lookups < 200 * 40, `${size} addresses: ${lookups} lookups for 200 DISCOVERs`);
  }
});
