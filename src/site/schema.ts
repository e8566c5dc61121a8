// The site file schema: one YAML file describes the provisioning VLAN.
// zod checks shape and each value on its own; a final pass (cross-checks.ts)
// checks what the values mean together (a pool inside its subnet, unique
// reservations, an option 43 that fits in 255 bytes). Every message says what
// is expected in words a network admin reads without the source code at hand.
// config/site.schema.json is generated from this file (scripts/gen-schema.mjs).

import { z } from 'zod';
import { ipToInt, isIPv4, parseCidr } from '../wire/ipv4.js';
import { isValidDomainName } from '../wire/rfc1035-names.js';
import { checkMeaning } from './cross-checks.js';
import { formatDuration, normalizeMac, parseDuration, parseHexValue, parseRange, type IpRange } from './values.js';

// ---------------------------------------------------------------- messages

/** How a YAML value reads in a message: `"abc"`, `the number 5`, `a list`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return v === '' ? 'empty text' : `"${v.length > 60 ? `${v.slice(0, 57)}...` : v}"`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `${v}`;
  if (Array.isArray(v)) return 'a list';
  return 'a mapping';
}

interface RawIssue {
  readonly code?: string;
  readonly input?: unknown;
}

/**
 * Error function for a schema: "expected <what>, got <value>" on a wrong type,
 * "<value> is not <what>" on a malformed value, "expected <what>" when missing
 * (the loader prefixes "missing").
 */
function words(what: string): (iss: RawIssue) => string {
  return (iss) => {
    if (iss.input === undefined) return `expected ${what}`;
    if (iss.code === 'invalid_type' || iss.code === 'invalid_union' || typeof iss.input !== 'string') {
      return `expected ${what}, got ${describeValue(iss.input)}`;
    }
    return `${describeValue(iss.input)} is not ${what}`;
  };
}

// ---------------------------------------------------------------- values

const IPV4 = 'an IPv4 address such as 10.20.0.1';
const ipv4 = z.ipv4({ error: words(IPV4) });
const ipv4List = (what: string) =>
  z.array(ipv4, { error: words(`a list of IPv4 addresses (${what})`) }).min(1, { error: `expected at least one IPv4 address (${what})` });

const cidr = z
  .string({ error: words('a subnet in CIDR form such as 10.20.0.0/24') })
  .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { error: words('a subnet in CIDR form such as 10.20.0.0/24'), abort: true })
  .refine((s) => parseCidr(s) !== null, {
    error: (iss) => {
      const s = String(iss.input);
      const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s);
      if (m && isIPv4(m[1]!) && Number(m[2]) <= 32) {
        const prefix = Number(m[2]);
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const net = (ipToInt(m[1]!) & mask) >>> 0;
        const dotted = `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}`;
        return `"${s}" has host bits set: the network is ${dotted}/${prefix}`;
      }
      return `"${s}" is not a subnet in CIDR form such as 10.20.0.0/24`;
    },
  })
  .meta({ description: 'IPv4 network in CIDR form, no host bits set', examples: ['10.20.0.0/24'] });

const RANGE = 'an address range such as 10.20.0.100-10.20.0.199';
const range = z
  .string({ error: words(RANGE) })
  .regex(/^\s*[0-9.]+\s*-\s*[0-9.]+\s*$/, { error: words(RANGE), abort: true })
  .refine((s) => parseRange(s) !== null, { error: (iss) => `${describeValue(iss.input)} is not ${RANGE}: both ends must be IPv4 addresses`, abort: true })
  .refine(
    (s) => {
      const r = parseRange(s);
      return r === null || ipToInt(r.start) <= ipToInt(r.end);
    },
    { error: (iss) => `range ${String(iss.input).trim()} starts after it ends: write the lower address first` },
  );

const pool = z
  .union([range, z.array(range).min(1, { error: 'expected at least one address range' })], {
    error: words(`${RANGE}, or a list of such ranges`),
  })
  .transform((v): IpRange[] => (Array.isArray(v) ? v : [v]).map((s) => parseRange(s)!))
  .meta({ description: 'Dynamic pool: one range "start-end" or a list of ranges, inclusive' });

const DURATION_RE = /^(?=\d)(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$/;
const DURATION = 'a duration such as 8h, 30m, 45s, 1d, 1h30m or a number of seconds';
function duration(min: number, max: number) {
  return z
    .union(
      [
        z.string().regex(DURATION_RE, { error: (iss) => `${describeValue(iss.input)} is not ${DURATION} (units d, h, m, s, in that order)` }),
        z.int({ error: words(DURATION) }).min(0, { error: (iss) => `${describeValue(iss.input)} is not ${DURATION}` }),
      ],
      { error: words(DURATION) },
    )
    .transform((v, ctx) => {
      const s = parseDuration(v)!;
      if (s < min || s > max) {
        ctx.addIssue({
          code: 'custom',
          input: v,
          message: `${describeValue(v)} is out of range: expected between ${formatDuration(min)} and ${formatDuration(max)}`,
        });
        return z.NEVER;
      }
      return s;
    });
}

const port = z
  .int({ error: words('a port number from 1 to 65535') })
  .min(1, { error: words('a port number from 1 to 65535') })
  .max(65535, { error: words('a port number from 1 to 65535') });

const enabled = z.boolean({ error: words('true or false') }).default(true);

/** Domain names go on the wire (15, 119, 120): RFC 1035 rules from the wire layer. */
const domainName = z
  .string({ error: words('a domain name such as schertz.name') })
  .transform((s) => (s.endsWith('.') && s.length > 1 ? s.slice(0, -1) : s))
  .refine(isValidDomainName, {
    error: (iss) =>
      `${describeValue(iss.input)} is not a valid domain name: letters, digits and hyphens in labels of 1-63 characters separated by dots, 253 characters at most`,
  })
  .meta({ description: 'Domain name (RFC 1035)', examples: ['schertz.name'] });

/** Lync needs a fully qualified name in option 120 and option 43 sub-option 3. */
const fqdn = domainName
  .refine((s) => s.includes('.'), {
    error: (iss) => `${describeValue(iss.input)} is not a fully qualified domain name: Lync needs the full name with its domain, such as lyncpool.schertz.name`,
  })
  .meta({ description: 'Fully qualified domain name', examples: ['lyncpool.schertz.name'] });

/** Record owner names: the wire layer's rules, which allow the underscores of _sip._tls. */
const ownerName = z
  .string({ error: words('a DNS name such as _sip._tls.schertz.name') })
  .transform((s) => (s.endsWith('.') && s.length > 1 ? s.slice(0, -1) : s))
  .refine(isValidDomainName, { error: (iss) => `${describeValue(iss.input)} is not a valid DNS name` });

const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

const MAC = 'a MAC address such as 00:04:f2:95:31:a2, 00-04-F2-95-31-A2 or 0004.f295.31a2';
const mac = z
  .string({ error: words(MAC) })
  .regex(/^\s*([0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12})\s*$/, { error: words(MAC), abort: true })
  .refine((s) => normalizeMac(s) !== null, { error: words(`${MAC} (one separator style throughout)`) })
  .transform((s) => normalizeMac(s)!);

// ---------------------------------------------------------------- sections

const mapping = (what: string) => ({ error: words(`a mapping of ${what}`) });

/**
 * Why a MAC cannot be one client's own address, or null. A reservation keys on
 * chaddr, which is a station address: never all zeros, never broadcast, and
 * never with the I/G (group) bit set (IEEE 802, the low bit of the first octet).
 */
export function notAStationMac(mac: string): string | null {
  if (mac === '00:00:00:00:00:00') return `${mac} is not a network card's address (all zeros): reserve the phone's own MAC, printed on its label`;
  if (mac === 'ff:ff:ff:ff:ff:ff') return `${mac} is the broadcast MAC address, which no network card has: reserve the phone's own MAC, printed on its label`;
  const first = parseInt(mac.slice(0, 2), 16);
  if ((first & 1) === 1) {
    return `${mac} is a multicast MAC address (its first byte, ${mac.slice(0, 2)}, has the group bit set), which no network card has as its own: check the first byte for a typo`;
  }
  return null;
}

const reservation = z.strictObject({
  mac: mac
    .refine((m) => notAStationMac(m) === null, { error: (iss) => notAStationMac(String(iss.input)) ?? 'not a station MAC address' })
    .meta({ description: "Client hardware address (any common spelling; stored lower-case with colons); the phone's own, not broadcast, multicast or all zeros" }),
  ip: ipv4.meta({ description: 'Address always given to this MAC' }),
  name: z
    .string({ error: words('a host name such as cx600-lobby') })
    .refine((s) => HOST_LABEL.test(s), { error: words('a host name such as cx600-lobby (letters, digits, hyphens)') })
    .optional()
    .meta({ description: 'Host name for logs and DNS' }),
}, mapping('mac, ip and name'));

/** Codes the server fills in itself per message (lease times, server id, message type...). */
export const SERVER_MANAGED_CODES: ReadonlySet<number> = new Set([0, 50, 51, 52, 53, 54, 55, 57, 58, 59, 61, 255]);

const codeText = (s: string) => /^\d{1,3}$/.test(s) && Number(s) >= 1 && Number(s) <= 254 && !SERVER_MANAGED_CODES.has(Number(s));
const optionCodeKey = z
  .string()
  .regex(/^\d{1,3}$/, { error: (iss) => `option code ${describeValue(iss.input)} is not a number from 1 to 254`, abort: true })
  .refine(codeText, {
    error: (iss) =>
      `option code ${describeValue(iss.input)} cannot be set here: expected a number from 1 to 254, other than the ones the server fills in itself (50-55, 57-59, 61)`,
  });
const optionCode = z
  .int({ error: words('a DHCP option code from 1 to 254') })
  .refine((n) => codeText(String(n)), {
    error: (iss) => `option ${describeValue(iss.input)} cannot be listed here: expected a code from 1 to 254, other than 50-55, 57-59, 61`,
  });

const PRINTABLE = /^[\x20-\x7e]*$/;
const asciiText = (what: string) =>
  z.string({ error: words(what) }).refine((s) => PRINTABLE.test(s), { error: `expected printable ASCII text (${what})` });

const hexBytes = z
  .string({ error: words('hex bytes such as "0a0b0c" or "0a:0b:0c"') })
  .refine((s) => parseHexValue(s) !== null, { error: words('hex bytes such as "0a0b0c" or "0a:0b:0c" (an even number of hex digits)') });

const subValue = z.union([asciiText('sub-option text'), z.strictObject({ hex: hexBytes })], {
  error: words('sub-option text, or { hex: "..." }'),
});
const subCodeKey = z
  .string()
  .refine((s) => /^\d{1,3}$/.test(s) && Number(s) >= 1 && Number(s) <= 254, {
    error: (iss) => `sub-option code ${describeValue(iss.input)} is not a number from 1 to 254`,
  });

const optionValue = z.union(
  [
    z.strictObject({ hex: hexBytes }).meta({ description: 'Raw value bytes in hex' }),
    z.strictObject({ text: asciiText('option text') }).meta({ description: 'ASCII text, no NUL terminator' }),
    z.strictObject({ ipv4: ipv4List('option value') }).meta({ description: 'IPv4 addresses, 4 bytes each' }),
    z
      .strictObject({ suboptions: z.record(subCodeKey, subValue) })
      .meta({ description: 'RFC 2132 §8.4 TLVs (code, length, value), in ascending code order, no end marker' }),
  ],
  {
    error: (iss) => {
      const what = 'exactly one of hex, text, ipv4 or suboptions, such as { hex: "0a0b" } or { text: "abc" }';
      const v = iss.input;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const keys = Object.keys(v);
        return keys.length === 0 ? `expected ${what}, got an empty mapping` : `expected ${what}, got ${keys.join(', ')}`;
      }
      return words(what)(iss);
    },
  },
);

const vendorClass = z.strictObject({
  vendor: z
    .string({ error: words('the exact option 60 vendor class, such as CPE-OCPHONE') })
    .min(1, { error: 'expected the exact option 60 vendor class, such as CPE-OCPHONE' })
    .max(255, { error: 'a vendor class has at most 255 characters' })
    .meta({ description: 'Option 60 as the class matches it (case-sensitive), see match' }),
  match: z
    .enum(['exact', 'prefix', 'substring'], { error: words('exact, prefix or substring') })
    .default('exact')
    .meta({ description: 'How vendor is matched against option 60: the whole value (exact), its start (prefix, e.g. Polycom for every Polycom model) or anywhere in it (substring); always case-sensitive. MS-UC-Client is matched first and exactly' }),
  options: z.record(optionCodeKey, optionValue).default({}).meta({ description: 'Option code -> value this class adds or overrides' }),
  always: z.array(optionCode).default([]).meta({ description: 'Codes sent whether or not option 55 asks for them' }),
}, mapping('vendor, match, options and always'));

/** A subnet served through a relay (README "Staging several VLANs"): its own pool, router, lease and, where they differ, domains and options. */
const scope = z.strictObject({
  name: z
    .string({ error: words('a name for this scope, such as vlan30') })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: words('a scope name such as vlan30 (letters, digits, ".", "_" and "-", at most 63 characters)') })
    .optional()
    .meta({ description: 'Name in exports and logs; default the subnet' }),
  subnet: cidr,
  pool,
  router: ipv4.optional().meta({ description: 'Option 3 for this subnet (usually the relay\'s address in it)' }),
  dns: ipv4List('option 6').optional().meta({ description: 'Option 6; default dhcp.dns' }),
  lease: duration(60, 0xfffffffe).optional().meta({ description: 'Lease time (option 51); default dhcp.lease' }),
  reservations: z.array(reservation, { error: words('a list of { mac, ip, name }') }).default([]),
  domains: z
    .strictObject({
      primary: domainName.optional().meta({ description: 'Option 15 for this subnet; default domains.primary' }),
      search: z.array(domainName, { error: words('a list of domain names') }).min(1).optional().meta({ description: 'Option 119 for this subnet; default [primary] when primary is set, else domains.search' }),
    }, mapping('domains (primary, search)'))
    .optional()
    .meta({ description: 'Options 15 and 119 where this subnet differs from the site' }),
  options: z.record(optionCodeKey, optionValue).default({}).meta({ description: 'Option code -> value for clients of this subnet (overrides the site\'s; a class still overrides these)' }),
}, mapping('a scope (name, subnet, pool, router, dns, lease, reservations, domains, options)'));

const dhcp = z.strictObject({
  enabled,
  subnet: cidr,
  pool,
  router: ipv4.optional().meta({ description: 'Option 3 (and the relay giaddr for relayed requests)' }),
  dns: ipv4List('option 6').optional().meta({ description: 'Option 6; default [address]' }),
  lease: duration(60, 0xfffffffe).prefault('8h').meta({ description: 'Lease time (option 51)' }),
  offer_hold: duration(1, 3600).prefault('30s').meta({ description: 'How long an offered address waits for its REQUEST' }),
  decline_hold: duration(0, 30 * 86400).prefault('10m').meta({ description: 'How long a DECLINEd address stays out of the pool' }),
  ping_check: z.boolean({ error: words('true or false') }).default(true).meta({
    description: 'On the interface: an ICMP echo to an address before it is first offered; one that answers is quarantined for decline_hold (ISC dhcpd ping-check)',
  }),
  ping_timeout: z.int({ error: words('a whole number of milliseconds') }).min(50, { error: 'at least 50 (milliseconds)' }).max(5000, { error: 'at most 5000 (milliseconds)' }).default(500).meta({
    description: 'How long the ping check waits for an echo reply, in milliseconds',
  }),
  reservations: z.array(reservation, { error: words('a list of { mac, ip, name }') }).default([]),
  classes: z.array(vendorClass, { error: words('a list of { vendor, options, always }') }).default([]).meta({
    description: 'Extra vendor classes (option 60), e.g. CPE-OCPHONE; MS-UC-Client is built in (see lync)',
  }),
  scopes: z.array(scope, { error: words('a list of scopes ({ subnet, pool, ... })') }).default([]).meta({
    description: 'More subnets, served through relays (giaddr, option 82 link selection or option 118 picks one); the subnet above is the first scope',
  }),
}, mapping('DHCP settings (subnet, pool, ...)'));

const domains = z.strictObject({
  primary: domainName.meta({ description: 'Option 15; the phone looks up ucupdates-r2.<primary>' }),
  search: z.array(domainName, { error: words('a list of domain names') }).min(1).optional().meta({ description: 'Option 119; default [primary]' }),
  sip: domainName.optional().meta({ description: 'SIP domain for SRV records; default primary' }),
}, mapping('domains (primary, search, sip)'));

const option43Order = z
  .array(z.int({ error: words('a sub-option number from 1 to 5') }).min(1, { error: words('a sub-option number from 1 to 5') }).max(5, { error: words('a sub-option number from 1 to 5') }), {
    error: words('a list of sub-option numbers such as [1, 2, 3, 4, 5]'),
  })
  .min(1, { error: 'expected at least one sub-option number' })
  .refine((a) => new Set(a).size === a.length, { error: 'each sub-option may appear only once in option43.order' });

const lync = z.strictObject({
  pool: fqdn.meta({ description: 'Front End pool FQDN: option 120 (encoding 0) and the SIP SRV target' }),
  web: fqdn.optional().meta({ description: 'Internal web services FQDN: option 43 sub-option 3; default pool' }),
  address: ipv4.meta({ description: 'Where pool, web and ucupdates-r2 resolve' }),
  scheme: z.enum(['https', 'http'], { error: words('https or http') }).default('https').meta({ description: 'Option 43 sub-option 2' }),
  port: port.default(443).meta({ description: 'Option 43 sub-option 4, sent as ASCII text' }),
  certprov: asciiText('a path such as /CertProv/CertProvisioningService.svc')
    .refine((s) => s.startsWith('/') && !/\s/.test(s), { error: words('a path starting with / such as /CertProv/CertProvisioningService.svc') })
    .default('/CertProv/CertProvisioningService.svc')
    .meta({ description: 'Option 43 sub-option 5' }),
  option43: z
    .strictObject({
      order: option43Order.default([1, 2, 3, 4, 5]).meta({ description: 'Sub-options to send, in this order (lab experiments)' }),
      end: z.boolean({ error: words('true or false') }).default(false).meta({ description: 'Append 0xFF inside option 43 (dnsmasq does; DHCPUtil does not)' }),
    }, mapping('order and end'))
    .prefault({})
    .meta({ description: 'Lab experiment switches for option 43; the defaults are what DHCPUtil writes' }),
  sip_encoding: z
    .enum(['fqdn', 'ipv4'], { error: words('fqdn or ipv4') })
    .default('fqdn')
    .meta({ description: 'Option 120 encoding: fqdn (0, what Lync needs) or ipv4 (1, lync.address; experiments only)' }),
}, mapping('Lync settings (pool, web, address, ...)'));

const ntp = z
  .strictObject({
    enabled,
    servers: ipv4List('options 42 and 4').optional().meta({ description: 'Options 42 and 4; default [address]' }),
    stratum: z
      .int({ error: words('a stratum from 1 to 15') })
      .min(1, { error: words('a stratum from 1 to 15') })
      .max(15, { error: words('a stratum from 1 to 15') })
      .default(10),
    refid: z
      .string({ error: words('up to 4 ASCII letters or digits, such as LOCL') })
      .regex(/^[A-Za-z0-9.]{1,4}$/, { error: words('up to 4 ASCII letters or digits, such as LOCL') })
      .default('LOCL')
      .meta({ description: 'Reference ID sent in replies (chrony local mode sends LOCL)' }),
    rate_limit: z
      .strictObject({
        interval: duration(0, 3600).prefault('2s').meta({ description: 'Average time allowed between requests from one address' }),
        burst: z.int({ error: words('a number of requests from 1 to 64') }).min(1).max(64).default(8),
      }, mapping('a rate limit ({ interval, burst })'))
      .optional()
      .meta({ description: 'Per-client rate limit with a RATE kiss-o-death; off when absent' }),
  }, mapping('NTP settings (enabled, servers, stratum, refid, rate_limit)'))
  .prefault({});

const ttl = z.int({ error: words('a TTL in seconds') }).min(0, { error: words('a TTL in seconds') }).max(2147483647).optional();
const dnsRecord = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ name: ownerName, type: z.literal('A'), address: ipv4, ttl }),
    z.strictObject({ name: ownerName, type: z.literal('AAAA'), address: z.ipv6({ error: words('an IPv6 address') }), ttl }),
    z.strictObject({ name: ownerName, type: z.literal('CNAME'), target: ownerName, ttl }),
    z.strictObject({ name: ownerName, type: z.literal('PTR'), target: ownerName, ttl }),
    z.strictObject({
      name: ownerName,
      type: z.literal('TXT'),
      text: z.union([asciiText('TXT text'), z.array(asciiText('TXT text')).min(1)], { error: words('text or a list of texts') }),
      ttl,
    }),
    z.strictObject({
      name: ownerName,
      type: z.literal('SRV'),
      target: ownerName,
      port: z.int({ error: words('a port number from 0 to 65535') }).min(0).max(65535),
      priority: z.int({ error: words('a number from 0 to 65535') }).min(0).max(65535).default(0),
      weight: z.int({ error: words('a number from 0 to 65535') }).min(0).max(65535).default(0),
      ttl,
    }),
  ],
  {
    error: (iss) => {
      const types = 'A, AAAA, CNAME, PTR, TXT or SRV';
      const v = iss.input;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return words(`a record such as { name: ..., type: A, address: ... }`)(iss);
      const t = (v as Record<string, unknown>)['type'];
      return t === undefined ? `expected the record type: ${types}` : `record type ${describeValue(t)} is not supported: expected ${types}`;
    },
  },
);

const forwarder = z
  .string({ error: words('an IPv4 address, optionally with :port') })
  .refine(
    (s) => {
      const m = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(s);
      return !!m && isIPv4(m[1]!) && (m[2] === undefined || (Number(m[2]) >= 1 && Number(m[2]) <= 65535));
    },
    { error: words('an IPv4 address, optionally with :port, such as 10.0.0.53 or 127.0.0.1:5300') },
  );

// Defaults (src/dns/README.md, "Response rate limiting"): per address, not the
// references' /24, because one VLAN is one /24 of phones and a flooding device
// there would otherwise throttle them all; 20 a second per (phone, answer) is
// far above what a booting phone asks and far below any flood.
const dnsRateLimit = z
  .strictObject({
    responses_per_second: z.int({ error: words('a number of responses from 0 (off) to 1000000') }).min(0).max(1_000_000).default(20).meta({
      description: 'UDP responses a second per (client prefix, answer), NXDOMAIN per zone, errors per rcode; 0 = off',
    }),
    slip: z.int({ error: words('a number from 0 to 10') }).min(0).max(10).default(2).meta({ description: 'Every slip-th limited response goes out as TC=1 (the client retries over TCP); 0 = drop them all' }),
    window: z.int({ error: words('a number of seconds from 1 to 3600') }).min(1).max(3600).default(5).meta({ description: 'Seconds a flood is remembered: limiting ends this long after it stops' }),
    ipv4_prefix_length: z.int({ error: words('a prefix length from 8 to 32') }).min(8).max(32).default(32).meta({ description: 'Clients one bucket covers (BIND/Knot/NSD: 24)' }),
  }, mapping('a rate limit ({ responses_per_second, slip, window, ipv4_prefix_length })'))
  .prefault({});

const dns = z
  .strictObject({
    enabled,
    records: z.array(dnsRecord, { error: words('a list of DNS records') }).default([]).meta({ description: 'Extra records: A, AAAA, CNAME, PTR, TXT, SRV' }),
    forwarders: z.array(forwarder, { error: words('a list of IPv4 addresses') }).default([]).meta({
      description: 'Where names outside the site zones go; empty = REFUSED (never an open resolver)',
    }),
    rate_limit: dnsRateLimit.meta({ description: 'Response rate limiting (RRL) of UDP answers from the site zones' }),
  }, mapping('DNS settings (enabled, records, forwarders, rate_limit)'))
  .prefault({});

const listen = z
  .strictObject({ dhcp: port.default(67), dns: port.default(53), ntp: port.default(123) }, mapping('ports (dhcp, dns, ntp)'))
  .prefault({})
  .meta({ description: 'Port overrides for tests and unprivileged labs' });

// Loopback only by design: the address is not configurable (src/control/README.md).
const control = z
  .strictObject({
    enabled,
    port: port.default(9067).meta({ description: 'TCP port on 127.0.0.1 for provlab status / leases and the status web page' }),
  }, mapping('control endpoint settings (enabled, port)'))
  .prefault({})
  .meta({ description: 'Local-only control endpoint: HTTP on 127.0.0.1 (never another address) serving the staging timeline and leases' });

// Linux IFNAMSIZ is 16 with the NUL; SO_BINDTODEVICE takes no alias (eth0:1).
const ifname = z
  .string({ error: words('an interface name such as eth1') })
  .refine((s) => /^[^\s/:]{1,15}$/.test(s) && s !== '.' && s !== '..', {
    error: words('an interface name such as eth1 or vlan20 (at most 15 characters, no spaces, / or :)'),
  });

const fields = z.strictObject({
  site: z
    .string({ error: words('a name for this site, such as staging-lab') })
    .min(1, { error: 'expected a name for this site, such as staging-lab' })
    .refine((s) => !/[\x00-\x1f\x7f]/.test(s), { error: 'the site name must not contain control characters' })
    .meta({ description: 'Name for logs and the plan' }),
  interface: ifname
    .nullable()
    .default(null)
    .meta({ description: 'VLAN interface whose broadcasts are answered; absent or null = relay-only (only relayed DHCP is answered)' }),
  address: ipv4.meta({
    description: 'The appliance on the VLAN: DHCP server id, DNS and NTP address; inside dhcp.subnet when interface is set (relay-only sites may sit elsewhere)',
  }),
  dhcp,
  domains,
  lync,
  ntp,
  dns,
  listen,
  control,
  state: z.string({ error: words('a directory path') }).min(1, { error: 'expected a directory path' }).default('./state').meta({
    description: 'Where leases are kept, relative to the site file',
  }),
}, { error: words('a site file: a YAML mapping with site, address, dhcp, domains and lync') });

/** The file's values once each passed its own check, before defaults that depend on others are filled. */
export type SiteFields = z.output<typeof fields>;

// ---------------------------------------------------------------- output

export type DnsRecord = z.output<typeof dnsRecord>;
export type OptionValue = z.output<typeof optionValue>;
export type VendorClass = z.output<typeof vendorClass>;
export type LyncSettings = Site['lync'];

export interface Reservation {
  mac: string;
  ip: string;
  name?: string;
}

/** One served subnet with its defaults filled from the top-level dhcp and domains keys. */
export interface SiteScope {
  name: string;
  subnet: string;
  pool: IpRange[];
  router: string | null;
  dns: string[];
  /** Seconds. */
  lease: number;
  reservations: Reservation[];
  /** Options 15 and 119 as this scope sends them. */
  domains: { primary: string; search: string[] };
  options: Record<string, OptionValue>;
}

/** A validated site with every default filled in. Keys are those of the file. */
export interface Site {
  site: string;
  /** null: relay-only, no broadcast is ever answered. */
  interface: string | null;
  address: string;
  dhcp: {
    enabled: boolean;
    subnet: string;
    pool: IpRange[];
    router: string | null;
    dns: string[];
    /** Seconds. */
    lease: number;
    offer_hold: number;
    decline_hold: number;
    ping_check: boolean;
    /** Milliseconds. */
    ping_timeout: number;
    reservations: Reservation[];
    classes: VendorClass[];
    /** Relayed subnets after the first (dhcp.subnet); defaults filled from the top. */
    scopes: SiteScope[];
  };
  domains: { primary: string; search: string[]; sip: string };
  lync: {
    pool: string;
    web: string;
    address: string;
    scheme: 'https' | 'http';
    port: number;
    certprov: string;
    option43: { order: number[]; end: boolean };
    sip_encoding: 'fqdn' | 'ipv4';
  };
  ntp: { enabled: boolean; servers: string[]; stratum: number; refid: string; rate_limit?: { interval: number; burst: number } | undefined };
  dns: { enabled: boolean; records: DnsRecord[]; forwarders: string[]; rate_limit: { responses_per_second: number; slip: number; window: number; ipv4_prefix_length: number } };
  listen: { dhcp: number; dns: number; ntp: number };
  control: { enabled: boolean; port: number };
  state: string;
}

function withDefaults(f: SiteFields): Site {
  const dns = f.dhcp.dns ?? [f.address];
  const domains = { primary: f.domains.primary, search: f.domains.search ?? [f.domains.primary], sip: f.domains.sip ?? f.domains.primary };
  const scopes = f.dhcp.scopes.map((s): SiteScope => {
    const primary = s.domains?.primary ?? domains.primary;
    const search = s.domains?.search ?? (s.domains?.primary !== undefined ? [primary] : domains.search);
    return {
      name: s.name ?? s.subnet,
      subnet: s.subnet,
      pool: s.pool,
      router: s.router ?? null,
      dns: s.dns ?? dns,
      lease: s.lease ?? f.dhcp.lease,
      reservations: s.reservations,
      domains: { primary, search },
      options: s.options,
    };
  });
  return {
    ...f,
    dhcp: { ...f.dhcp, router: f.dhcp.router ?? null, dns, scopes },
    domains,
    lync: { ...f.lync, web: f.lync.web ?? f.lync.pool },
    ntp: { ...f.ntp, servers: f.ntp.servers ?? [f.address] },
  };
}

export const SiteSchema = fields
  .superRefine(
    (f, ctx) => {
      checkMeaning(f, (path, message) => ctx.addIssue({ code: 'custom', path, message, input: undefined }));
    },
    // Only on values that passed their own checks, so the cross checks never see raw input.
    { when: (payload) => payload.issues.length === 0 },
  )
  .transform(withDefaults)
  .meta({
    title: 'provlab site file',
    description: 'One provisioning VLAN for Lync Phone Edition phones: DHCP (options 43, 120, 119), DNS and NTP',
  });

export type SiteInput = z.input<typeof SiteSchema>;
