// The DHCP scopes' cross-field checks (part of checkMeaning, cross-checks.ts):
// each subnet big enough and clear of the others, its pools and router inside
// it and clear of the addresses a pool must not hand out, every reservation
// inside some scope with unique MACs and addresses, scope names unique. Each
// finding names its key, for the loader's file:line:col.

import { inCidr, ipToInt, parseCidr, type Cidr } from '../wire/ipv4.js';
import type { Report } from './cross-checks.js';
import type { SiteFields } from './schema.js';
import type { IpRange } from './values.js';

type Path = (string | number)[];

function rangeText(r: IpRange): string {
  return r.start === r.end ? r.start : `${r.start}-${r.end}`;
}

interface RawScope {
  /** Key path of the scope: ['dhcp'] for the first, ['dhcp', 'scopes', i] for the others. */
  path: Path;
  name: string;
  subnet: string;
  net: Cidr;
  pool: IpRange[];
  router: string | undefined;
  reservations: { mac: string; ip: string }[];
}

function rawScopes(f: SiteFields): RawScope[] {
  const first: RawScope = { path: ['dhcp'], name: f.dhcp.subnet, subnet: f.dhcp.subnet, net: parseCidr(f.dhcp.subnet)!, pool: f.dhcp.pool, router: f.dhcp.router, reservations: f.dhcp.reservations };
  return [
    first,
    ...f.dhcp.scopes.map((s, i) => ({ path: ['dhcp', 'scopes', i], name: s.name ?? s.subnet, subnet: s.subnet, net: parseCidr(s.subnet)!, pool: s.pool, router: s.router, reservations: s.reservations })),
  ];
}

/** The scope checks; `net` of the first scope is dhcp.subnet. */
export function checkScopes(f: SiteFields, report: Report): void {
  const scopes = rawScopes(f);
  const names = new Map<string, number>();
  scopes.forEach((sc, i) => {
    if (sc.net.prefix > 30) report([...sc.path, 'subnet'], `subnet ${sc.subnet} is too small for DHCP: expected a prefix of /30 or shorter`);
    // A message is served from the one scope whose subnet holds its relay's address: they cannot overlap.
    for (let j = 0; j < i; j++) {
      const o = scopes[j]!;
      if (sc.net.network <= o.net.broadcast && o.net.network <= sc.net.broadcast) report([...sc.path, 'subnet'], `subnet ${sc.subnet} overlaps subnet ${o.subnet}${j === 0 ? ' (dhcp.subnet)' : ` (scope ${o.name})`}`);
    }
    const seen = names.get(sc.name);
    if (seen !== undefined) report([...sc.path, f.dhcp.scopes[i - 1]?.name !== undefined ? 'name' : 'subnet'], `scope name ${sc.name} is already used (${seen === 0 ? 'dhcp.subnet' : `dhcp.scopes[${seen - 1}]`})`);
    else names.set(sc.name, i);
  });

  const self = ipToInt(f.address);
  const takenIn = scopes.map((sc) => {
    const { net, subnet } = sc;
    if (inCidr(self, net) && (self === net.network || self === net.broadcast)) {
      report(['address'], `address ${f.address} is the ${self === net.network ? 'network' : 'broadcast'} address of ${subnet}: expected a host address in it`);
    }
    // Addresses the pool must never hand out, with the reason shown to the admin.
    const taken: { ip: number; what: string }[] = [
      { ip: net.network, what: `the network address of ${subnet}` },
      { ip: net.broadcast, what: `the broadcast address of ${subnet}` },
      { ip: self, what: `the appliance address ${f.address}` },
      { ip: ipToInt(f.lync.address), what: `the Lync address ${f.lync.address}` },
    ];
    if (sc.router !== undefined) {
      const r = ipToInt(sc.router);
      if (!inCidr(r, net)) report([...sc.path, 'router'], `router ${sc.router} is outside subnet ${subnet}`);
      else if (r === net.network || r === net.broadcast) report([...sc.path, 'router'], `router ${sc.router} is the network or broadcast address of ${subnet}`);
      taken.push({ ip: r, what: `the router ${sc.router}` });
    }
    const ranges = sc.pool.map((r) => ({ r, s: ipToInt(r.start), e: ipToInt(r.end) }));
    ranges.forEach(({ r, s, e }, i) => {
      const path: Path = [...sc.path, 'pool', i];
      if (!inCidr(s, net) || !inCidr(e, net)) {
        report(path, `${rangeText(r)} is outside subnet ${subnet}`);
        return;
      }
      const hit = taken.find((t) => t.ip >= s && t.ip <= e);
      if (hit) report(path, `${rangeText(r)} includes ${hit.what}: the pool must not hand it out`);
      for (let j = 0; j < i; j++) {
        const o = ranges[j]!;
        if (s <= o.e && o.s <= e) report(path, `${rangeText(r)} overlaps ${rangeText(o.r)}`);
      }
    });
    return taken;
  });

  // A reservation may be listed at the top or in a scope: it belongs to the scope its address is in.
  const macs = new Map<string, string>();
  const ips = new Map<string, { mac: string; where: string }>();
  const served = scopes.map((sc) => sc.subnet).join(', ');
  for (const sc of scopes) {
    sc.reservations.forEach((res, i) => {
      const path: Path = [...sc.path, 'reservations', i];
      const where = sc.path.length === 1 ? `reservation ${i + 1}` : `reservation ${i + 1} of dhcp.scopes[${sc.path[2]}]`;
      const ip = ipToInt(res.ip);
      const home = scopes.findIndex((o) => inCidr(ip, o.net));
      if (home < 0) {
        report([...path, 'ip'], scopes.length === 1 ? `reservation ${res.ip} is outside subnet ${sc.subnet}` : `reservation ${res.ip} is outside every subnet served (${served})`);
      } else {
        const hit = takenIn[home]!.find((t) => t.ip === ip);
        if (hit) report([...path, 'ip'], `reservation ${res.ip} is ${hit.what}`);
      }
      const m = macs.get(res.mac);
      if (m !== undefined) report([...path, 'mac'], `MAC ${res.mac} is already reserved (${m})`);
      else macs.set(res.mac, where);
      const p = ips.get(res.ip);
      if (p !== undefined) report([...path, 'ip'], `${res.ip} is already reserved for ${p.mac} (${p.where})`);
      else ips.set(res.ip, { mac: res.mac, where });
    });
  }
}
