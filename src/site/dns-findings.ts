// What reference servers load but warn about in dns.records, as warnings of
// the plan (`provlab check` prints them, `provlab up` logs them). Checked with
// named-checkzone (BIND 9.18) on the exported zones:
//   - an SRV target that is a CNAME: "SRV 'x' is a CNAME (illegal)", loaded
//     (refused only with -S fail; named's default check-srv-cname is warn);
//     RFC 2782 says the target must not be an alias;
//   - a CNAME loop: loaded silently; it can never be answered (RFC 1034 §3.6.2);
//   - one RRset with several TTLs: "TTL set to prior TTL", loaded. RFC 2181
//     §5.2 says to treat the records as if all had the lowest TTL: the plan
//     is given that (lowestTtlPerRRset), and the warning says so.
// They stay warnings, not errors, so such a site still serves (the answers to
// a loop or a dangling CNAME follow Knot, see src/dns/README.md).
import { DEFAULT_TTL } from './dns-zones.js';
import type { DnsPlan, DnsRecordPlan } from './plan.js';
import type { Site } from './schema.js';

export function dnsWarnings(site: Site): string[] {
  if (!site.dns.enabled) return [];
  return [...cnameWarnings(site), ...ttlWarnings(site)];
}

function cnameWarnings(site: Site): string[] {
  const out: string[] = [];
  const lower = (s: string) => s.toLowerCase();
  const records = site.dns.records;
  // The first CNAME at a name is the one served (dns-zones.ts).
  const cnames = new Map<string, { target: string; index: number }>();
  records.forEach((r, i) => {
    if (r.type === 'CNAME' && !cnames.has(lower(r.name))) cnames.set(lower(r.name), { target: lower(r.target), index: i });
  });
  if (cnames.size === 0) return out;

  // SRV targets: the site's own SRVs, and the built-in ones they do not replace.
  const srvOwners = new Set<string>();
  records.forEach((r, i) => {
    if (r.type !== 'SRV') return;
    srvOwners.add(lower(r.name));
    if (cnames.has(lower(r.target))) out.push(`dns.records[${i}]: SRV ${r.name} points to ${r.target}, which is a CNAME: an SRV target must be a name with addresses (RFC 2782; BIND calls it illegal)`);
  });
  const primary = lower(site.domains.primary);
  const builtinSrv: [string, string][] = [
    ...['_sipinternaltls._tcp', '_sipinternal._tcp', '_sip._tls'].map((s): [string, string] => [`${s}.${lower(site.domains.sip)}`, lower(site.lync.pool)]),
    ...[primary, ...site.domains.search.map(lower)].map((d): [string, string] => [`_ntp._udp.${d}`, `ntp.${d}`]),
  ];
  const reported = new Set<number>();
  for (const [owner, target] of builtinSrv) {
    const c = cnames.get(target);
    if (c === undefined || srvOwners.has(owner) || reported.has(c.index)) continue;
    reported.add(c.index);
    out.push(`dns.records[${c.index}]: ${target} is the target of the built-in SRV ${owner}, and a CNAME: an SRV target must be a name with addresses (RFC 2782; BIND calls it illegal); give it an A record instead`);
  }

  // CNAME loops: each once, at its first record in the file.
  const inLoop = new Set<string>();
  for (const [start, { index }] of [...cnames].sort((a, b) => a[1].index - b[1].index)) {
    if (inLoop.has(start)) continue;
    const path = [start];
    let at = cnames.get(start)!.target;
    while (cnames.has(at) && !path.includes(at)) {
      path.push(at);
      at = cnames.get(at)!.target;
    }
    if (at !== start) continue;
    for (const n of path) inLoop.add(n);
    out.push(`dns.records[${index}]: CNAME loop: ${[...path, start].join(' -> ')}; no query for these names can get an address`);
  }
  return out;
}

/** One per dns.records entry whose TTL differs from an earlier one of its RRset. */
function ttlWarnings(site: Site): string[] {
  const out: string[] = [];
  const seen = new Map<string, { ttl: number; index: number; lowest: number }>();
  const late: { i: number; key: string; ttl: number }[] = [];
  site.dns.records.forEach((r, i) => {
    const key = `${r.name.toLowerCase()} ${r.type}`;
    const ttl = r.ttl ?? DEFAULT_TTL;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, { ttl, index: i, lowest: ttl });
    else {
      first.lowest = Math.min(first.lowest, ttl);
      if (first.ttl !== ttl) late.push({ i, key, ttl });
    }
  });
  for (const { i, key, ttl } of late) {
    const first = seen.get(key)!;
    const r = site.dns.records[i]!;
    out.push(`dns.records[${i}]: ${r.name} ${r.type} has TTL ${ttl}, dns.records[${first.index}] of the same RRset ${first.ttl}: one RRset has one TTL (RFC 2181 §5.2); all its records are served with the lowest, ${first.lowest}`);
  }
  return out;
}

/** The plan with every RRset's records at the RRset's lowest TTL (the same plan when nothing differs). */
export function lowestTtlPerRRset(dns: DnsPlan): DnsPlan {
  let changed = false;
  const zones = dns.zones.map((zone) => {
    const lowest = new Map<string, number>();
    for (const r of zone.records) {
      const key = `${r.name} ${r.data.type}`;
      lowest.set(key, Math.min(lowest.get(key) ?? r.ttl, r.ttl));
    }
    if (!zone.records.some((r) => r.ttl !== lowest.get(`${r.name} ${r.data.type}`))) return zone;
    changed = true;
    const records = zone.records.map((r): DnsRecordPlan => {
      const ttl = lowest.get(`${r.name} ${r.data.type}`)!;
      return ttl === r.ttl ? r : { ...r, ttl };
    });
    return { ...zone, records };
  });
  return changed ? { ...dns, zones } : dns;
}
