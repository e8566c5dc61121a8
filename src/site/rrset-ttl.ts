// One TTL per RRset (RFC 2181 §5.2). A site may give the records of one name
// and type different TTLs in dns.records; BIND loads such a zone with "TTL
// set to prior TTL", Knot serves one TTL for the RRset. RFC 2181 §5.2 says to
// treat the records as if all had the lowest TTL: the plan is given that, and
// `provlab check` warns so the admin can write what is served.
import { DEFAULT_TTL } from './dns-zones.js';
import type { DnsPlan, DnsRecordPlan } from './plan.js';
import type { Site } from './schema.js';

/** The warnings: one per dns.records entry whose TTL differs from an earlier one of its RRset. */
export function rrsetTtlWarnings(site: Site): string[] {
  if (!site.dns.enabled) return [];
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
