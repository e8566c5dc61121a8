// Site -> Plan: every option byte computed once, here, through the wire
// encoders; the daemons only copy bytes. A plan is rebuilt, never patched.

import { dirname, resolve } from 'node:path';
import { latin1Bytes } from '../wire/bytes.js';
import { inCidr, intToIp, ipToInt, parseCidr, writeIp } from '../wire/ipv4.js';
import { MS_UC_CLIENT } from '../wire/ms-uc-client.js';
import { encodeEncapsulated } from '../wire/rfc2132-encapsulated.js';
import { encodeOptionValue, type OptionValue as WireValue } from '../wire/option-codec.js';
import { findOptionDef } from '../wire/option-defs.js';
import { addDomain, readOption119, readOption15 } from '../lpe/domains.js';
import { compileDns } from './dns-zones.js';
import { dnsWarnings, lowestTtlPerRRset } from './dns-findings.js';
import { encodeOption43, lyncCertProvUrl } from './lync-options.js';
import type { ClientClassPlan, OptionBytes, Plan, ReservationPlan, ScopePlan } from './plan.js';
import type { OptionValue, Site, SiteScope, VendorClass } from './schema.js';
import { siteScopes } from './scopes.js';
import { parseHexValue } from './values.js';

function encodeStd(code: number, value: WireValue): Uint8Array {
  const def = findOptionDef(code);
  if (!def) throw new Error(`option ${code} has no row in option-defs`);
  return encodeOptionValue(def, value);
}

/** Order is send order: 1, 3, 6, 15, 119, 42, 4 (docs/lpe-facts.md §Names: sources disagree on 4 vs 42, so both), then the scope's own options. */
function baseOptions(site: Site, scope: SiteScope, mask: string): OptionBytes {
  const m = new Map<number, Uint8Array>();
  m.set(1, encodeStd(1, { type: 'ipv4', value: mask }));
  if (scope.router !== null) m.set(3, encodeStd(3, { type: 'ipv4-list', value: [scope.router] }));
  m.set(6, encodeStd(6, { type: 'ipv4-list', value: scope.dns }));
  // The phone looks up ucupdates-r2.<option 15 domain> before sign-in (docs/lpe-facts.md §Names).
  m.set(15, encodeStd(15, { type: 'text', value: scope.domains.primary }));
  m.set(119, encodeStd(119, { type: 'fqdn-list', value: scope.domains.search }));
  m.set(42, encodeStd(42, { type: 'ipv4-list', value: site.ntp.servers }));
  m.set(4, encodeStd(4, { type: 'ipv4-list', value: site.ntp.servers }));
  for (const [code, v] of Object.entries(scope.options)) m.set(Number(code), encodeRawOption(v));
  return m;
}

function scopePlan(site: Site, scope: SiteScope, all: readonly ReservationPlan[]): ScopePlan {
  const net = parseCidr(scope.subnet);
  if (!net) throw new Error(`compilePlan: subnet ${scope.subnet} was not validated`);
  const mask = intToIp(net.mask);
  const lease = scope.lease;
  return {
    name: scope.name,
    subnet: { network: intToIp(net.network), prefix: net.prefix, mask, broadcast: intToIp(net.broadcast) },
    pools: scope.pool.map((r) => ({ start: r.start, end: r.end })),
    reservations: all.filter((r) => inCidr(ipToInt(r.ip), net)),
    leaseSeconds: lease,
    // RFC 2131 §4.4.5 defaults: T1 = 0.5 and T2 = 0.875 of the lease.
    renewSeconds: Math.floor(lease * 0.5),
    rebindSeconds: Math.floor(lease * 0.875),
    baseOptions: baseOptions(site, scope, mask),
  };
}

function msUcClientClass(site: Site): ClientClassPlan {
  const options = new Map<number, Uint8Array>();
  options.set(43, encodeOption43(site.lync));
  // Lync needs encoding 0 with an FQDN (TLS); encoding 1 is a lab experiment (docs/lpe-facts.md §Option 120).
  options.set(
    120,
    encodeStd(120, {
      type: 'sip-servers',
      value: site.lync.sip_encoding === 'fqdn' ? { encoding: 0, names: [site.lync.pool] } : { encoding: 1, addresses: [site.lync.address] },
    }),
  );
  // The phone's INFORM asks for 43 and 120, but send them even when a client's 55 does not.
  return { name: MS_UC_CLIENT, vendorClass: MS_UC_CLIENT, match: 'exact', options, alwaysSend: [43, 120] };
}

/** Raw option forms of `dhcp.classes`: the admin states the bytes, we only pack them. */
export function encodeRawOption(v: OptionValue): Uint8Array {
  if ('hex' in v) return parseHexValue(v.hex)!;
  if ('text' in v) return latin1Bytes(v.text);
  if ('ipv4' in v) {
    const out = new Uint8Array(4 * v.ipv4.length);
    v.ipv4.forEach((a, i) => writeIp(out, 4 * i, a));
    return out;
  }
  // RFC 2132 §8.4 TLVs in ascending code order (object keys that are integers iterate ascending).
  const subs = Object.entries(v.suboptions).map(([code, sv]) => ({
    code: Number(code),
    data: typeof sv === 'string' ? latin1Bytes(sv) : parseHexValue(sv.hex)!,
  }));
  return encodeEncapsulated(subs);
}

function vendorClassPlan(c: VendorClass): ClientClassPlan {
  const options = new Map<number, Uint8Array>();
  for (const [code, v] of Object.entries(c.options)) options.set(Number(code), encodeRawOption(v));
  return { name: c.vendor, vendorClass: c.vendor, match: c.match, options, alwaysSend: [...c.always] };
}

/**
 * The site's domains: option 15 then each option 119 name, as the bytes sent
 * decode (the first scope's options, then every class that overrides them,
 * then the other scopes'), read by the LPE rules. The DNS zones, the timeline and the certificate names use
 * this one list.
 */
export function phoneDomains(base: OptionBytes, classes: readonly ClientClassPlan[], otherScopes: readonly OptionBytes[] = []): string[] {
  const out: string[] = [];
  for (const opts of [base, ...classes.map((c) => c.options), ...otherScopes]) {
    const o15 = opts.get(15);
    const d15 = o15 === undefined ? null : readOption15(o15).domain;
    if (d15 !== null) addDomain(out, d15);
    const o119 = opts.get(119);
    // A raw 119 that does not decode gives the phone no names either: nothing to add.
    if (o119 !== undefined) for (const d of readOption119(o119).domains) addDomain(out, d);
  }
  return out;
}

export function compilePlan(site: Site, sourceFile: string): Plan {
  const source = resolve(sourceFile);
  // Reservations are listed at the top or in a scope; each belongs to the scope its address is in.
  const reservations: ReservationPlan[] = siteScopes(site)
    .flatMap((sc) => sc.reservations)
    .map((r) => (r.name === undefined ? { mac: r.mac, ip: r.ip } : { mac: r.mac, ip: r.ip, name: r.name }));
  const scopes = siteScopes(site).map((sc) => scopePlan(site, sc, reservations));
  const classes = [msUcClientClass(site), ...site.dhcp.classes.map(vendorClassPlan)];
  const domains = phoneDomains(scopes[0]!.baseOptions, classes, scopes.slice(1).map((sc) => sc.baseOptions));
  const dns = compileDns(site, domains);

  return {
    site: site.site,
    sourceFile: source,
    address: site.address,
    domains,
    interface: site.interface,
    statePath: resolve(dirname(source), site.state),
    dhcp: {
      enabled: site.dhcp.enabled,
      port: site.listen.dhcp,
      serverId: site.address,
      scopes,
      offerHoldSeconds: site.dhcp.offer_hold,
      declineHoldSeconds: site.dhcp.decline_hold,
      pingCheck: site.dhcp.ping_check ? { timeoutMs: site.dhcp.ping_timeout } : null,
      classes,
    },
    dns: {
      ...lowestTtlPerRRset(dns.plan),
      rateLimit: {
        responsesPerSecond: site.dns.rate_limit.responses_per_second,
        slip: site.dns.rate_limit.slip,
        windowSeconds: site.dns.rate_limit.window,
        ipv4PrefixLength: site.dns.rate_limit.ipv4_prefix_length,
      },
    },
    ntp: {
      enabled: site.ntp.enabled,
      port: site.listen.ntp,
      servers: [...site.ntp.servers],
      stratum: site.ntp.stratum,
      refId: site.ntp.refid,
      rateLimit: site.ntp.rate_limit ? { intervalSeconds: site.ntp.rate_limit.interval, burst: site.ntp.rate_limit.burst } : null,
    },
    control: { enabled: site.control.enabled, port: site.control.port },
    certProvUrl: lyncCertProvUrl(site.lync),
    warnings: [...dns.warnings, ...dnsWarnings(site)],
  };
}
