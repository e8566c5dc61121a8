// The one place tests get a site file from. siteYaml writes YAML text (what an
// admin writes), so that a failing test shows exactly what provlab was given;
// planOf parses and compiles it as `provlab up` does. Line numbers matter to
// the tests that check error positions: the key order below is fixed (that of
// the site file in the README), and a test's own keys come after it.
import { compilePlan } from '../../src/site/compile.js';
import { loadSite, parseSite } from '../../src/site/load.js';
import type { Plan } from '../../src/site/plan.js';

type Scalar = string | number | boolean;
/** One line of a block list, written as one flow mapping: `- { mac: "…", ip: … }`. */
export type SiteRow = Readonly<Record<string, Scalar | readonly Scalar[] | undefined>>;
/**
 * A value as written: a scalar verbatim (quote it yourself where YAML needs
 * it; a string with line breaks is a block written as given, under its key),
 * a list of scalars as a flow list (quoted where needed), a list of rows as a
 * block list.
 */
export type SiteValue = Scalar | readonly Scalar[] | readonly SiteRow[];
/** A section's keys over its defaults: `null` leaves a default out. */
export type SiteSection = Readonly<Record<string, SiteValue | null | undefined>>;

export interface SiteSpec {
  /** Default "lab". */
  site?: string;
  /** Absent: relay-only. */
  interface?: string;
  /** Default 10.20.0.1. */
  address?: string;
  /** Defaults: subnet 10.20.0.0/24, pool 10.20.0.100-10.20.0.199. */
  dhcp?: SiteSection;
  /** Default: primary schertz.name. */
  domains?: SiteSection;
  /** Defaults: pool lyncpool.schertz.name, address 10.20.0.10. */
  lync?: SiteSection;
  ntp?: SiteSection;
  dns?: SiteSection;
  /** A number N stands for { dhcp: N, dns: N + 1, ntp: N + 2 }; written as one flow mapping. */
  listen?: number | { dhcp: number; dns: number; ntp: number };
  /** Written as one flow mapping. */
  control?: SiteSection;
  state?: string;
  /** Text appended as it is, after everything else. */
  tail?: string;
}

const SECTIONS = ['dhcp', 'domains', 'lync', 'ntp', 'dns', 'control'] as const;
// The order of the README's site file; keys it does not name follow, in the order given.
const ORDER: Readonly<Record<string, readonly string[]>> = {
  dhcp: ['enabled', 'subnet', 'pool', 'router', 'dns', 'lease', 'reservations', 'classes'],
  domains: ['primary', 'search', 'sip'],
  lync: ['pool', 'web', 'address', 'scheme', 'port', 'certprov', 'option43', 'sip_encoding'],
  ntp: ['enabled', 'servers', 'stratum', 'refid', 'rate_limit'],
  dns: ['enabled', 'records', 'forwarders'],
  control: ['enabled', 'port'],
};
const DEFAULTS: Readonly<Record<string, SiteSection>> = {
  dhcp: { subnet: '10.20.0.0/24', pool: '10.20.0.100-10.20.0.199' },
  domains: { primary: 'schertz.name' },
  lync: { pool: 'lyncpool.schertz.name', address: '10.20.0.10' },
};

/** A flow-context scalar: quoted when a colon, comma, bracket or space would change what it reads as. */
const flowScalar = (v: Scalar): string => (typeof v === 'string' && (v === '' || /[:#,[\]{}"'\s]/.test(v)) ? JSON.stringify(v) : String(v));
const flowRow = (row: SiteRow): string =>
  `{ ${Object.entries(row)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? `[${(v as readonly Scalar[]).map(flowScalar).join(', ')}]` : flowScalar(v as Scalar)}`)
    .join(', ')} }`;
const isRows = (v: SiteValue): v is readonly SiteRow[] => Array.isArray(v) && v.length > 0 && typeof v[0] === 'object';

function entries(section: string, given: SiteSection | undefined): [string, SiteValue][] {
  const merged: Record<string, SiteValue | null | undefined> = { ...DEFAULTS[section], ...given };
  const order = ORDER[section] ?? [];
  const keys = [...order.filter((k) => k in merged), ...Object.keys(merged).filter((k) => !order.includes(k))];
  return keys.flatMap((k) => (merged[k] === null || merged[k] === undefined ? [] : [[k, merged[k] as SiteValue]]));
}

function valueLines(key: string, v: SiteValue, indent: string): string[] {
  if (typeof v === 'string' && v.includes('\n')) return [`${indent}${key}:`, ...v.replace(/\n$/, '').split('\n').map((l) => `${indent}  ${l}`)];
  if (isRows(v)) return [`${indent}${key}:`, ...v.map((row) => `${indent}  - ${flowRow(row)}`)];
  if (Array.isArray(v)) return [`${indent}${key}: [${(v as readonly Scalar[]).map(flowScalar).join(', ')}]`];
  return [`${indent}${key}: ${String(v)}`];
}

/** A site file from a few choices; everything not chosen is the smallest valid site (relay-only, 10.20.0.0/24). */
export function siteYaml(spec: SiteSpec = {}): string {
  const lines = [`site: ${spec.site ?? 'lab'}`];
  if (spec.interface !== undefined) lines.push(`interface: ${spec.interface}`);
  lines.push(`address: ${spec.address ?? '10.20.0.1'}`);
  for (const section of SECTIONS.filter((s) => s !== 'control')) {
    const keys = entries(section, spec[section]);
    if (keys.length === 0) continue;
    lines.push(`${section}:`, ...keys.flatMap(([k, v]) => valueLines(k, v, '  ')));
  }
  if (spec.listen !== undefined) {
    const l = typeof spec.listen === 'number' ? { dhcp: spec.listen, dns: spec.listen + 1, ntp: spec.listen + 2 } : spec.listen;
    lines.push(`listen: { dhcp: ${l.dhcp}, dns: ${l.dns}, ntp: ${l.ntp} }`);
  }
  if (spec.control !== undefined) lines.push(`control: { ${entries('control', spec.control).map(([k, v]) => `${k}: ${String(v)}`).join(', ')} }`);
  if (spec.state !== undefined) lines.push(`state: ${spec.state}`);
  return `${lines.join('\n')}\n${spec.tail ?? ''}`;
}

/** `over` on top of `base`, section by section (a section's keys merge; the rest replaces). */
export function mergeSite(base: SiteSpec, over: SiteSpec): SiteSpec {
  const merged: SiteSpec = { ...base, ...over };
  for (const s of SECTIONS) if (base[s] && over[s]) merged[s] = { ...base[s], ...over[s] };
  return merged;
}

/** What the loopback tests' sites share: provlab on 127.0.0.1, example.local, Lync at 127.0.0.10 (any 127/8 address is this host's). */
export const LOOPBACK_SITE: SiteSpec = { address: '127.0.0.1', domains: { primary: 'example.local' }, lync: { pool: 'lyncpool.example.local', address: '127.0.0.10' } };

/** The plan `provlab up` would serve from this text, as if read from `file` (state resolves next to it). */
export function planOf(yaml: string, file = '/srv/provlab/site.yaml'): Plan {
  return compilePlan(parseSite(yaml, file), file);
}

/** The plan of a site file on disk (the shipped ones, or one a test wrote). */
export function planOfFile(file: string): Plan {
  return compilePlan(loadSite(file), file);
}

/** The smallest valid site: no interface (relay-only), every default left alone. 10 lines. */
export function minimalSite(name = 'minimal'): string {
  return siteYaml({ site: name });
}

/** What labSite needs of a namespace lab (test/helpers/netns.ts `Lab`, or a bridge made by hand). */
export interface LabAddresses {
  /** The interface provlab serves on. */
  serverIf: string;
  /** provlab's address on it: PREFIX.1. */
  serverIp: string;
  /** The lab's /24 without its last octet, e.g. "10.99.7". */
  prefix: string;
}

export interface LabSiteOptions {
  name: string;
  state: string;
  /** Option 3; default the server itself, null: no router key. */
  router?: string | null;
  /** Default 1h, null: no lease key (the site default, 8h). */
  lease?: string | null;
  /** Default the DHCPUtil example's two domains (option 119 with a compression pointer); null: no search key. */
  search?: readonly string[] | null;
  /** lync.web; default lyncweb.schertz.name, null: no web key (web = pool). */
  web?: string | null;
  /** Written as one flow mapping each: `- { mac: "…", ip: …, name: … }`. */
  reservations?: readonly { mac: string; ip: string; name?: string }[];
  /** ntp.stratum, written out for tests that check the stratum they see. */
  stratum?: number;
  listen?: { dhcp: number; dns: number; ntp: number };
}

export const LAB_WEB = 'lyncweb.schertz.name';
export const LAB_SEARCH: readonly string[] = ['schertz.name', 'corp.schertz.name'];

/**
 * provlab on a namespace lab's server interface: the lab's /24, pool
 * PREFIX.100-150, Lync at PREFIX.10, domain schertz.name. The defaults are
 * those of the phone-facing tests (router, 1h lease, two search domains, a
 * separate web FQDN); `null` leaves a key out.
 */
export function labSite(lab: LabAddresses, o: LabSiteOptions): string {
  return siteYaml(labSpec(lab, o));
}

/**
 * labSite without an interface key: relay-only, so it runs on loopback
 * without root (`serverIp` is then e.g. 127.0.0.1 and `prefix` the relayed
 * subnet). Everything else as in labSite, Lync at PREFIX.10 included.
 */
export function relayLabSite(lab: Omit<LabAddresses, 'serverIf'>, o: LabSiteOptions): string {
  return siteYaml(labSpec({ serverIp: lab.serverIp, prefix: lab.prefix }, o));
}

/** What labSite (with `serverIf`) or relayLabSite (without) write, for a test to add to with mergeSite. */
export function labSpec(lab: Omit<LabAddresses, 'serverIf'> & { serverIf?: string }, o: LabSiteOptions): SiteSpec {
  return {
    site: o.name,
    ...(lab.serverIf === undefined ? {} : { interface: lab.serverIf }),
    address: lab.serverIp,
    dhcp: {
      subnet: `${lab.prefix}.0/24`,
      pool: `${lab.prefix}.100-${lab.prefix}.150`,
      router: o.router === undefined ? lab.serverIp : o.router,
      lease: o.lease === undefined ? '1h' : o.lease,
      reservations: o.reservations && o.reservations.length > 0 ? o.reservations : null,
    },
    domains: { search: o.search === undefined ? LAB_SEARCH : o.search },
    lync: { web: o.web === undefined ? LAB_WEB : o.web, address: `${lab.prefix}.10` },
    ...(o.stratum === undefined ? {} : { ntp: { stratum: o.stratum } }),
    ...(o.listen ? { listen: o.listen } : {}),
    state: o.state,
  };
}
