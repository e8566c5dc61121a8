// The lease table alone under address reuse (issue 20): 10,240 addresses, 1-minute
// leases, 200 new MACs a second (DISCOVER, hold, ACK), the expiry sweep every 10 s,
// on a simulated clock; time per choose+hold+apply over the last minute.
//   node bench/lease-reuse.mjs DIST_DIR [SECONDS=300]   (e.g. dist, or another build's dist for a before/after)
import { resolve } from 'node:path';
const USAGE = 'usage: node bench/lease-reuse.mjs DIST_DIR [SECONDS=300]';
if (process.argv.length > 4 || process.argv.slice(2).some((a) => a.startsWith('-')) || !(Number(process.argv[3] ?? 300) >= 61 && Number(process.argv[3] ?? 300) <= 3600)) {
  console.error(`${USAGE} (SECONDS from 61 to 3600)`);
  process.exit(2);
}
const dist = resolve(process.argv[2] ?? 'dist');
const { LeaseTable } = await import(`file://${dist}/dhcp/lease-table.js`);
const scope = { name: 's', subnet: { network: '10.100.0.0', prefix: 18, mask: '255.255.192.0', broadcast: '10.100.63.255' }, pools: [{ start: '10.100.0.10', end: '10.100.40.9' }], reservations: [], leaseSeconds: 60, renewSeconds: 30, rebindSeconds: 52, baseOptions: new Map() };
const plan = { enabled: true, port: 67, serverId: '10.100.0.1', offerHoldSeconds: 30, declineHoldSeconds: 600, classes: [], scopes: [scope] };
const t = new LeaseTable(plan);
let now = 1_800_000_000_000, c = 0, nulls = 0;
const seconds = Number(process.argv[3] ?? 300);
const lat = [];
for (let s = 0; s < seconds; s++) {
  for (let i = 0; i < 200; i++, c++, now += 5) {
    const id = `mac:${c}`;
    const t0 = process.hrtime.bigint();
    const ip = t.choose(id, String(c), undefined, now);
    if (ip === null) { nulls++; continue; }
    t.hold(ip, id, now + 30_000);
    t.apply({ ip, clientId: id, mac: String(c), state: 'bound', expiresAt: now + 60_000, updatedAt: now });
    lat.push(Number(process.hrtime.bigint() - t0) / 1000);

  }
  if (s % 10 === 0) for (const r of t.expiredSince(now)) t.apply({ ...r, state: 'expired', updatedAt: now });
}
const last = lat.slice(-200 * 60).sort((a, b) => a - b);
const sum = last.reduce((a, b) => a + b, 0);
console.log(`${dist}: ${c} exchanges, ${nulls} refused; last minute: mean ${(sum / last.length).toFixed(1)} µs, p99 ${last[Math.floor(last.length * 0.99)].toFixed(1)} µs per choose+hold+apply; CPU for 200/s: ${(sum * 200 / last.length / 1e6).toFixed(3)} core`);
