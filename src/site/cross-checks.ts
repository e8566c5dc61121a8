// The site file's cross-field checks: what several values mean together (the
// pool inside the subnet and clear of the addresses it must not hand out,
// unique reservations, vendor classes, option 43 within 255 bytes, one port per
// service, DNS records that a reference server refuses). Run by the schema
// (schema.ts) only once every value passed its own check, so nothing here sees
// raw input; each finding names the key it is reported at, which the loader
// turns into file:line:col. What references only warn about is a warning of
// the plan (dns-findings.ts, dns-zones.ts).

import { inCidr, ipToInt, parseCidr, type Cidr } from '../wire/ipv4.js';
import { findOptionDef } from '../wire/option-defs.js';
import { option43Length } from './lync-options.js';
import { checkScopes } from './scope-checks.js';
import type { OptionValue, SiteFields } from './schema.js';
import { parseHexValue } from './values.js';
import { nameServerName, parseForwarder } from './dns-zones.js';

type Path = (string | number)[];
/** Where in the file (the keys down to the value) and what is wrong. */
export type Report = (path: Path, message: string) => void;

/** A raw form that cannot be right for a known option (text for the routers option...); hex always fits. */
function formClash(code: number, v: OptionValue): string | null {
  const def = findOptionDef(code);
  if (!def || def.type === 'binary' || 'hex' in v) return null;
  const form = 'text' in v ? 'text' : 'ipv4' in v ? 'ipv4' : 'suboptions';
  const fits =
    'text' in v ? def.type === 'text' : 'ipv4' in v ? def.type === 'ipv4-list' || (def.type === 'ipv4' && v.ipv4.length === 1) : def.type === 'encapsulated';
  if (fits) return null;
  const expected =
    def.type === 'ipv4'
      ? 'one IPv4 address: { ipv4: [a.b.c.d] }'
      : def.type === 'ipv4-list'
        ? 'IPv4 addresses: { ipv4: [...] }'
        : def.type === 'text'
          ? 'text: { text: "..." }'
          : def.type === 'encapsulated'
            ? 'sub-options: { suboptions: { ... } }'
            : `a value of type ${def.type}: write it as { hex: "..." }`;
  return `option ${code} (${def.name}) cannot be given as ${form}: expected ${expected}`;
}

/** Checks that need several values at once; run once every value is valid on its own. */
export function checkMeaning(f: SiteFields, report: Report): void {
  const net: Cidr = parseCidr(f.dhcp.subnet)!;
  const subnet = f.dhcp.subnet;
  // On an interface, provlab is a server on the segment: clients unicast their
  // renewals to option 54 and use it for DNS and NTP, so it must be one of the
  // subnet's hosts. Relay-only sites (no interface) usually sit elsewhere and
  // are reached through the relay, so any address is fine there.
  const self = ipToInt(f.address);
  if (f.interface !== null && f.dhcp.enabled && !inCidr(self, net)) {
    report(
      ['address'],
      `address ${f.address} is outside subnet ${subnet}: provlab answers DHCP on interface ${f.interface}, so its own address must be in the subnet it serves (use the interface's address in ${subnet}, or remove "interface" for a relay-only site)`,
    );
  }
  checkScopes(f, report);

  const vendors = new Map<string, number>();
  f.dhcp.classes.forEach((c, i) => {
    if (c.vendor === 'MS-UC-Client') {
      report(['dhcp', 'classes', i, 'vendor'], 'MS-UC-Client is built in: its options 43 and 120 come from the lync section');
    } else if (vendors.has(`${c.match}:${c.vendor}`)) {
      report(['dhcp', 'classes', i, 'vendor'], `vendor class ${c.vendor} (${c.match} match) is already defined (class ${vendors.get(`${c.match}:${c.vendor}`)! + 1})`);
    } else vendors.set(`${c.match}:${c.vendor}`, i);
    for (const [code, v] of Object.entries(c.options)) {
      const clash = formClash(Number(code), v);
      if (clash) report(['dhcp', 'classes', i, 'options', code], clash);
      if ('suboptions' in v) {
        for (const [sub, sv] of Object.entries(v.suboptions)) {
          const len = typeof sv === 'string' ? sv.length : parseHexValue(sv.hex)!.length;
          if (len > 255) report(['dhcp', 'classes', i, 'options', code, 'suboptions', sub], `sub-option ${sub} is ${len} bytes: at most 255 fit`);
        }
      }
    }
  });

  // Option 43 is one TLV: no RFC 3396 splitting for a vendor option the phone parses itself.
  const web = f.lync.web ?? f.lync.pool;
  const len43 = option43Length({ ...f.lync, web });
  if (len43 > 255) {
    report(
      f.lync.web !== undefined ? ['lync', 'web'] : ['lync', 'pool'],
      `option 43 would be ${len43} bytes with web server ${web}; DHCP allows 255: use a web FQDN of at most ${web.length - (len43 - 255)} characters or a shorter certprov path`,
    );
  }

  // DHCP, DNS and NTP all use UDP: two enabled services cannot share a port.
  const services = (['dhcp', 'dns', 'ntp'] as const).filter((s) => f[s].enabled);
  services.forEach((s, i) => {
    const other = services.slice(0, i).find((o) => f.listen[o] === f.listen[s]);
    if (other) report(['listen', s], `port ${f.listen[s]} is already used by ${other}`);
  });
  // DNS also answers on TCP: the control endpoint (TCP) must not take its port.
  if (f.control.enabled && f.dns.enabled && f.control.port === f.listen.dns) {
    report(['control', 'port'], `port ${f.control.port} is already used by dns (DNS listens on TCP too)`);
  }
  if (f.dns.enabled) checkDns(f, report);
}

const isLoopback = (ip: string): boolean => ip.startsWith('127.') || ip === '0.0.0.0';

/**
 * What a reference server refuses in dns.records, and forwarders that loop.
 * named-checkzone (BIND 9.18) on the exported zone: "NS 'x' is a CNAME
 * (illegal)", zone not loaded. What references only warn about (SRV targets
 * that are CNAMEs, CNAME loops, several TTLs in one RRset) is a warning of the
 * plan: dns-findings.ts.
 */
function checkDns(f: SiteFields, report: Report): void {
  const lower = (s: string) => s.toLowerCase();
  const primary = lower(f.domains.primary);
  const ns = nameServerName(primary);
  const ownCname = f.dns.records.findIndex((r) => r.type === 'CNAME' && lower(r.name) === ns);
  if (ownCname >= 0) report(['dns', 'records', ownCname, 'name'], `${ns} is the name server of every zone (SOA and NS): it cannot be a CNAME (RFC 1034 §3.6.2; named-checkzone refuses the zone)`);

  // A forwarder that is provlab itself: every forwarded query comes back, is forwarded again, and fills the pending table.
  f.dns.forwarders.forEach((text, i) => {
    const fw = parseForwarder(text);
    if (fw.port !== f.listen.dns) return;
    if (fw.address === f.address || fw.address === '0.0.0.0' || (isLoopback(fw.address) && isLoopback(f.address))) {
      report(['dns', 'forwarders', i], `forwarder ${text} is provlab's own DNS (${f.address}:${f.listen.dns}): every query would be forwarded to itself`);
    }
  });
}
