// Site -> DNS zones: every name an LPE phone looks up on the provisioning
// VLAN (docs/lpe-facts.md, "Names the phone looks up"), derived from the site file,
// plus the admin's dns.records. Pure: the DNS daemon only turns this into bytes.
//
// Built-in records, per zone:
//   every zone           SOA and NS -> provlab.<primary> (the appliance, one name for all zones)
//   primary + search     ucupdates-r2.<d> A -> lync.address; _ntp._udp.<d> SRV -> ntp.<d>; ntp.<d> A -> first NTP server
//   primary              provlab.<primary> A -> address; <reservation name>.<primary> A -> its ip,
//                        unless that name is already one of the above or of dns.records (check warns)
//   sip                  _sipinternaltls._tcp, _sip._tls (5061) and _sipinternal._tcp (5060) SRV -> lync.pool;
//                        sipinternal.<sip>, sip.<sip> A -> lync.address
//   anywhere             lync.pool, lync.web A -> lync.address; time.windows.com A -> first NTP server
//   reverse              PTR for the appliance, the Lync address and named reservations inside a DHCP scope's subnet
// dns.records replace the built-in RRset of the same name and type (a CNAME replaces every
// built-in record at its name). A name outside every domain becomes a zone of its own.
// Records equal in value (owner and RDATA bytes, names case-folded) are kept once (RFC 2181 §5).

import { UCUPDATES } from '../lpe/domains.js';
import { DnsClass, MessageWriter } from '../wire/dns-message.js';
import { intToIp, parseCidr } from '../wire/ipv4.js';
import type { DnsPlan, DnsRecordData, DnsRecordPlan, DnsZonePlan } from './plan.js';
import type { DnsRecord, Site } from './schema.js';
import { siteScopes } from './scopes.js';

/** Long enough for a phone's boot, short enough that a changed site is seen within minutes. */
export const DEFAULT_TTL = 300;
/** SOA minimum: RFC 2308 negative-caching TTL; a phone that asked too early retries soon. */
export const NEGATIVE_TTL = 60;
export const LEASE_TTL = 60;

/** The name of the appliance as a name server, in every zone's SOA and NS. */
export function nameServerName(primary: string): string {
  return `provlab.${primary.toLowerCase()}`;
}

const lower = (s: string) => s.toLowerCase();

/** True when name is domain or below it (case-insensitive, label boundaries). */
export function isWithin(name: string, domain: string): boolean {
  const n = lower(name);
  const d = lower(domain);
  return n === d || n.endsWith(`.${d}`);
}

/** RFC 1035 §3.5 reverse name of an IPv4 address. */
export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

/**
 * in-addr.arpa zones covering the subnet. Zones fall on octet boundaries: a
 * /20 becomes sixteen /24 zones (so nothing outside the subnet is claimed);
 * anything longer than /24 is served as its whole /24.
 */
export function reverseZoneApexes(subnet: string): string[] {
  const net = parseCidr(subnet);
  if (!net) return [];
  const boundary = net.prefix >= 24 ? 24 : Math.max(8, Math.ceil(net.prefix / 8) * 8);
  const octets = boundary / 8;
  const count = net.prefix >= boundary ? 1 : 2 ** (boundary - net.prefix);
  const step = 2 ** (32 - boundary);
  const base = (net.network & (boundary === 0 ? 0 : (0xffffffff << (32 - boundary)) >>> 0)) >>> 0;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const parts = intToIp((base + i * step) >>> 0).split('.').slice(0, octets);
    out.push(`${parts.reverse().join('.')}.in-addr.arpa`);
  }
  return out;
}

/**
 * FNV-1a 32-bit of the zone's content, name server included: the same for the
 * same site, different when anything served changes. It is the serial only
 * where there is no state (`provlab export bind`); the DNS daemon turns it
 * into one that only goes up (dns/zone-serials.ts).
 */
function serialOf(ns: string, records: readonly DnsRecordPlan[]): number {
  let h = 0x811c9dc5;
  const text = `${ns}\n${records.map((r) => `${r.name} ${r.ttl} ${JSON.stringify(r.data)}`).sort().join('\n')}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Split TXT text into 255-byte character-strings (RFC 1035 §3.3.14); the schema allows longer text. */
function txtStrings(text: string | string[]): string[] {
  const out: string[] = [];
  for (const s of Array.isArray(text) ? text : [text]) {
    if (s.length === 0) out.push('');
    for (let i = 0; i < s.length; i += 255) out.push(s.slice(i, i + 255));
  }
  return out;
}

function siteRecordData(r: DnsRecord): DnsRecordData {
  switch (r.type) {
    case 'A':
    case 'AAAA':
      return { type: r.type, address: r.address };
    case 'CNAME':
    case 'PTR':
      return { type: r.type, target: lower(r.target) };
    case 'TXT':
      return { type: 'TXT', strings: txtStrings(r.text) };
    case 'SRV':
      return { type: 'SRV', priority: r.priority, weight: r.weight, port: r.port, target: lower(r.target) };
  }
}

/** The domain an SRV record belongs to: its owner without the leading _service._proto labels. */
export function srvDomain(owner: string): string {
  const labels = lower(owner).split('.');
  let i = 0;
  while (i < labels.length - 1 && labels[i]!.startsWith('_')) i++;
  return labels.slice(i).join('.');
}

/**
 * What makes two records one (RFC 2181 §5): the type and the RDATA as wire
 * bytes, names in it lower case (RFC 4343), so 2001:db8::11 and 2001:0db8:0::11
 * are the same AAAA.
 */
export function rdataKey(d: DnsRecordData): string {
  const data: DnsRecordData =
    d.type === 'CNAME' || d.type === 'NS' || d.type === 'PTR' || d.type === 'SRV'
      ? { ...d, target: lower(d.target) }
      : d.type === 'SOA'
        ? { ...d, mname: lower(d.mname), rname: lower(d.rname) }
        : d;
  const w = new MessageWriter(false, 64);
  w.record(1, { name: '', class: DnsClass.IN, ttl: 0, data });
  // Header (12), root owner (1), type/class/TTL/rdlength (10): the rest is RDATA.
  return `${d.type} ${Buffer.from(w.finish(KEY_HEADER).subarray(23)).toString('hex')}`;
}
const KEY_HEADER = { id: 0, qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 } as const;

function sameData(a: DnsRecordData, b: DnsRecordData): boolean {
  return rdataKey(a) === rdataKey(b);
}

/** One record per (owner, RDATA value), the first kept: an RRset is a set (RFC 2181 §5). */
function uniqueRecords(records: readonly DnsRecordPlan[]): DnsRecordPlan[] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const key = `${r.name} ${rdataKey(r.data)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Warnings that start with this code: a reservation host name that is already a
 * name of the site (a built-in name, a dns.records name, a zone apex, or a name
 * above one of those). Such a reservation gets no A and no PTR.
 */
export const NAME_COLLISION = 'dns-name-collision';

export function parseForwarder(text: string): { address: string; port: number } {
  const [address, port] = text.split(':');
  return { address: address!, port: port === undefined ? 53 : Number(port) };
}

/** `phoneDomains`: the plan's domains (options 15 and 119 as sent, compile.ts), each of which gets ucupdates-r2 and time records. */
export function compileDns(site: Site, phoneDomains: readonly string[]): { plan: DnsPlan; warnings: string[] } {
  const warnings: string[] = [];
  const primary = lower(site.domains.primary);
  const search = site.domains.search.map(lower);
  const sip = lower(site.domains.sip);
  const ns = nameServerName(primary);
  const lyncAddress = site.lync.address;
  const ntpServer = site.ntp.servers[0]!;
  const pool = lower(site.lync.pool);
  const web = lower(site.lync.web);

  const builtin: DnsRecordPlan[] = [];
  const add = (name: string, data: DnsRecordData, why: string, ttl = DEFAULT_TTL) => builtin.push({ name: lower(name), ttl, data, why });

  const domainApexes = [...new Set([...phoneDomains, sip])];
  // Every scope's subnet (two /25 scopes share one /24 zone).
  const scopes = siteScopes(site);
  const reverseApexes = [...new Set(scopes.flatMap((s) => reverseZoneApexes(s.subnet)))];

  add(ns, { type: 'A', address: site.address }, 'the appliance, name server of every zone');
  for (const d of phoneDomains) {
    const what = d === primary ? `primary domain ${d} (option 15)` : search.includes(d) ? `search domain ${d} (option 119)` : `domain ${d} (option 15 or 119 of a client class)`;
    // The phone appends each DHCP domain to ucupdates-r2 to reach Device Update before sign-in (docs/lpe-facts.md).
    add(`${UCUPDATES}.${d}`, { type: 'A', address: lyncAddress }, `Device Update for the ${what}`);
    // Time: SRV _ntp._udp.<domain> first, its target inside the same domain (docs/lpe-facts.md).
    add(`_ntp._udp.${d}`, { type: 'SRV', priority: 0, weight: 0, port: 123, target: `ntp.${d}` }, `NTP discovery for the ${what}`);
    add(`ntp.${d}`, { type: 'A', address: ntpServer }, `NTP server for the ${what}`);
  }
  // Registrar discovery (docs/lpe-facts.md): SRV first, then A sipinternal.<sip>, sip.<sip>.
  // _sip._tls goes to the pool's 5061 too: the VLAN has no Edge server to answer 443.
  const sipSrv: [string, number][] = [
    ['_sipinternaltls._tcp', 5061],
    ['_sipinternal._tcp', 5060],
    ['_sip._tls', 5061],
  ];
  for (const [service, port] of sipSrv) {
    add(`${service}.${sip}`, { type: 'SRV', priority: 0, weight: 0, port, target: pool }, `Lync registrar discovery in SIP domain ${sip}`);
  }
  add(`sipinternal.${sip}`, { type: 'A', address: lyncAddress }, `Lync registrar fallback in SIP domain ${sip}`);
  add(`sip.${sip}`, { type: 'A', address: lyncAddress }, `Lync registrar fallback in SIP domain ${sip}`);
  add(pool, { type: 'A', address: lyncAddress }, 'Lync pool (lync.pool)');
  if (web !== pool) add(web, { type: 'A', address: lyncAddress }, 'Lync web services (lync.web)');
  // The phone's time fallback; the VLAN has no internet (docs/lpe-facts.md).
  add('time.windows.com', { type: 'A', address: ntpServer }, 'the phone time fallback');
  // dns.records: one RRset per (name, type) replaces the built-in one; a CNAME takes its whole name.
  const siteRecords: DnsRecordPlan[] = site.dns.records.map((r, i) => ({
    name: lower(r.name),
    ttl: r.ttl ?? DEFAULT_TTL,
    data: siteRecordData(r),
    why: `dns.records[${i}]`,
  }));
  const allApexes = new Set([...domainApexes, ...reverseApexes]);

  // A reservation name never adds to a name the site already has (ntp.<d> is the
  // phones' time source): such a name gets no A and no PTR, and check says why.
  const siteNames = [...builtin, ...siteRecords, ...[...allApexes].map((apex) => ({ name: apex, why: 'a zone apex' }))];
  const named: { mac: string; ip: string; fqdn: string }[] = [];
  for (const r of scopes.flatMap((s) => s.reservations)) {
    if (r.name === undefined) continue;
    const fqdn = `${lower(r.name)}.${primary}`;
    const hit = siteNames.find((n) => isWithin(n.name, fqdn));
    if (hit) {
      const what = hit.name === fqdn ? `(${hit.why})` : `(${hit.name}, ${hit.why}, is below it)`;
      warnings.push(`${NAME_COLLISION}: reservation ${r.mac} (${r.ip}) is named ${r.name}, but ${fqdn} is already a name of the site ${what}; the reservation gets no A or PTR record: rename it`);
      continue;
    }
    named.push({ mac: r.mac, ip: r.ip, fqdn });
    add(fqdn, { type: 'A', address: r.ip }, `reservation ${r.mac}`);
  }
  const inReverse = (ip: string) => reverseApexes.some((z) => isWithin(reverseName(ip), z));
  const ptr = (ip: string, target: string, why: string) => {
    if (inReverse(ip)) add(reverseName(ip), { type: 'PTR', target }, why);
  };
  ptr(site.address, ns, 'the appliance');
  ptr(lyncAddress, pool, 'the Lync address');
  for (const r of named) ptr(r.ip, r.fqdn, `reservation ${r.mac}`);
  const cnameNames = new Set<string>();
  for (const r of siteRecords) {
    if (r.data.type !== 'CNAME') continue;
    if (allApexes.has(r.name)) {
      warnings.push(`${r.why}: a CNAME at ${r.name} is ignored: that name is a zone apex, which must hold SOA and NS (RFC 1034 §3.6.2)`);
      continue;
    }
    if (cnameNames.has(r.name)) warnings.push(`${r.why}: ${r.name} already has a CNAME; only the first is served`);
    cnameNames.add(r.name);
  }
  const kept: DnsRecordPlan[] = [];
  const firstCname = new Set<string>();
  for (const r of siteRecords) {
    if (cnameNames.has(r.name)) {
      if (r.data.type !== 'CNAME') {
        warnings.push(`${r.why}: ${r.name} ${r.data.type} is ignored: ${r.name} is a CNAME, which cannot have other data (RFC 1034 §3.6.2)`);
        continue;
      }
      if (firstCname.has(r.name)) continue;
      firstCname.add(r.name);
    } else if (r.data.type === 'CNAME') continue; // the apex case, warned above
    kept.push(r);
  }
  const siteTypes = new Set(kept.map((r) => `${r.name} ${r.data.type}`));
  const overridden = builtin.filter((b) => cnameNames.has(b.name) || siteTypes.has(`${b.name} ${b.data.type}`));
  for (const b of overridden) {
    const by = kept.find((k) => k.name === b.name && (k.data.type === b.data.type || k.data.type === 'CNAME'))!;
    if (!sameData(by.data, b.data)) warnings.push(`${by.why} replaces the built-in ${b.name} ${b.data.type} (${b.why})`);
  }
  const records = uniqueRecords([...builtin.filter((b) => !overridden.includes(b)), ...kept]);

  // SRV targets inside the SRV's own domain: firmware CU7+ refuses others (docs/lpe-facts.md).
  for (const r of records) {
    if (r.data.type !== 'SRV') continue;
    const domain = srvDomain(r.name);
    if (isWithin(r.data.target, domain)) continue;
    const fix =
      r.why.startsWith('dns.records')
        ? `point it at a name inside ${domain}`
        : `put lync.pool inside ${domain}, or override this SRV in dns.records with a target inside ${domain} that the pool certificate names (such as sip.${domain})`;
    warnings.push(`SRV ${r.name} points to ${r.data.target}, outside ${domain}: phones with firmware CU7 or later refuse that; ${fix}`);
  }

  // Zones: the domains, the reverse zones, and one host zone per name outside them.
  const covered = (name: string) => [...allApexes].some((z) => isWithin(name, z));
  const hostApexes = [...new Set(records.map((r) => r.name).filter((n) => !covered(n)))];
  const apexes: { apex: string; kind: DnsZonePlan['kind'] }[] = [
    ...domainApexes.map((apex) => ({ apex, kind: 'domain' as const })),
    ...reverseApexes.map((apex) => ({ apex, kind: 'reverse' as const })),
    ...hostApexes.map((apex) => ({ apex, kind: 'host' as const })),
  ];
  const owner = (name: string): string => {
    let best = '';
    for (const { apex } of apexes) if (isWithin(name, apex) && apex.length > best.length) best = apex;
    return best;
  };
  const zones: DnsZonePlan[] = apexes.map(({ apex, kind }) => {
    const content = records.filter((r) => owner(r.name) === apex);
    const soa: DnsRecordPlan = {
      name: apex,
      ttl: DEFAULT_TTL,
      data: { type: 'SOA', mname: ns, rname: `hostmaster.${primary}`, serial: serialOf(ns, content), refresh: 3600, retry: 600, expire: 86400, minimum: NEGATIVE_TTL },
      why: 'zone apex',
    };
    const nsRecord: DnsRecordPlan = { name: apex, ttl: DEFAULT_TTL, data: { type: 'NS', target: ns }, why: 'zone apex' };
    return { apex, kind, records: [soa, nsRecord, ...content] };
  });

  if (site.dns.enabled && !site.dhcp.dns.includes(site.address)) {
    warnings.push(`dhcp.dns (${site.dhcp.dns.join(', ')}) does not list the appliance address ${site.address}: phones will not ask provlab's DNS for ucupdates-r2 and the SRV records`);
  }

  return {
    plan: {
      enabled: site.dns.enabled,
      port: site.listen.dns,
      servers: [...site.dhcp.dns],
      zones,
      leaseDomain: primary,
      leaseTtl: LEASE_TTL,
      forwarders: site.dns.forwarders.map(parseForwarder),
      allowRecursion: ['127.0.0.0/8', ...scopes.map((s) => s.subnet), `${site.address}/32`],
    },
    warnings: site.dns.enabled ? warnings : [],
  };
}

/** Every record of the plan, zone by zone (for `provlab check` and tests). */
export function allRecords(plan: DnsPlan): DnsRecordPlan[] {
  return plan.zones.flatMap((z) => z.records);
}
