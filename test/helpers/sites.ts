// Site files the tests share, written out as YAML text (what an admin writes),
// so that a failing test shows exactly what provlab was given. Line numbers
// matter to the tests that check error positions: keep the key order.

/** The smallest valid site: no interface (relay-only), every default left alone. 10 lines. */
export function minimalSite(name = 'minimal'): string {
  return minimalSiteWith(name, {});
}

export interface MinimalSiteExtras {
  /** domains.search, written as a flow list after `primary`. */
  search?: readonly string[];
  /** lync.web, written after lync.pool (absent: web = pool). */
  web?: string;
}

/** minimalSite with a search list and/or a web FQDN of its own; nothing else changes (relay-only, 10.20.0.0/24). */
export function minimalSiteWith(name: string, extras: MinimalSiteExtras): string {
  const lines = [`site: ${name}`, 'address: 10.20.0.1', 'dhcp:', '  subnet: 10.20.0.0/24', '  pool: 10.20.0.100-10.20.0.199', 'domains:', '  primary: schertz.name'];
  if (extras.search) lines.push(`  search: [${extras.search.join(', ')}]`);
  lines.push('lync:', '  pool: lyncpool.schertz.name');
  if (extras.web) lines.push(`  web: ${extras.web}`);
  lines.push('  address: 10.20.0.10', '');
  return lines.join('\n');
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
  return labSiteText(lab.serverIf, lab, o);
}

/**
 * labSite without an interface key: relay-only, so it runs on loopback
 * without root (`serverIp` is then e.g. 127.0.0.1 and `prefix` the relayed
 * subnet). Everything else as in labSite, Lync at PREFIX.10 included.
 */
export function relayLabSite(lab: Omit<LabAddresses, 'serverIf'>, o: LabSiteOptions): string {
  return labSiteText(null, lab, o);
}

function labSiteText(serverIf: string | null, lab: Omit<LabAddresses, 'serverIf'>, o: LabSiteOptions): string {
  const router = o.router === undefined ? lab.serverIp : o.router;
  const lease = o.lease === undefined ? '1h' : o.lease;
  const search = o.search === undefined ? LAB_SEARCH : o.search;
  const web = o.web === undefined ? LAB_WEB : o.web;
  const lines = [
    `site: ${o.name}`,
    ...(serverIf === null ? [] : [`interface: ${serverIf}`]),
    `address: ${lab.serverIp}`,
    'dhcp:',
    `  subnet: ${lab.prefix}.0/24`,
    `  pool: ${lab.prefix}.100-${lab.prefix}.150`,
  ];
  if (router !== null) lines.push(`  router: ${router}`);
  if (lease !== null) lines.push(`  lease: ${lease}`);
  if (o.reservations && o.reservations.length > 0) {
    lines.push('  reservations:');
    for (const r of o.reservations) lines.push(`    - { mac: "${r.mac}", ip: ${r.ip}${r.name ? `, name: ${r.name}` : ''} }`);
  }
  lines.push('domains:', '  primary: schertz.name');
  if (search !== null) lines.push(`  search: [${search.join(', ')}]`);
  lines.push('lync:', '  pool: lyncpool.schertz.name');
  if (web !== null) lines.push(`  web: ${web}`);
  lines.push(`  address: ${lab.prefix}.10`);
  if (o.stratum !== undefined) lines.push('ntp:', `  stratum: ${o.stratum}`);
  if (o.listen) lines.push(`listen: { dhcp: ${o.listen.dhcp}, dns: ${o.listen.dns}, ntp: ${o.listen.ntp} }`);
  lines.push(`state: ${o.state}`, '');
  return lines.join('\n');
}
