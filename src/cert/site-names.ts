// The names the web-services certificate must carry for a site, taken from
// the compiled plan: the domains are the ones the phone really receives in
// options 15 and 119 (decoded back from the plan's bytes, so a class that
// overrides 15 or 119 with raw hex counts too), not the ones we think we sent.

import { compilePlan } from '../site/compile.js';
import { loadSite } from '../site/load.js';
import type { Plan } from '../site/plan.js';
import type { Site } from '../site/schema.js';
import { decodeSearchList } from '../wire/rfc3397-search.js';

/** Hard-coded in every LPE firmware: the phone resolves ucupdates-r2.<domain> and connects with the short name (docs/seed-article.md). */
export const UCUPDATES = 'ucupdates-r2';

export interface SiteCertNames {
  site: string;
  /** Option 15 and every option 119 domain, lower case, first-seen order, no duplicates. */
  dhcpDomains: string[];
  /** lync.pool: option 120, the SIP registrar. */
  pool: string;
  /** lync.web: option 43 sub-option 3, the internal web services (CertProv) host. */
  web: string;
}

const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

function pushUnique(list: string[], name: string): void {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n !== '' && !list.includes(n)) list.push(n);
}

/** Domains of options 15 and 119 in the base options and in every client class that overrides them. */
export function planDhcpDomains(plan: Plan): string[] {
  const out: string[] = [];
  const sets = [plan.dhcp.baseOptions, ...plan.dhcp.classes.map((c) => c.options)];
  for (const opts of sets) {
    const o15 = opts.get(15);
    if (o15) pushUnique(out, text(o15).replace(/\0+$/, ''));
    const o119 = opts.get(119);
    if (o119) {
      const r = decodeSearchList(o119);
      // A raw-hex 119 that does not decode gives the phone no names either: nothing to add.
      if (r.ok) for (const d of r.value) pushUnique(out, d);
    }
  }
  return out;
}

export function siteCertNames(site: Site, plan: Plan): SiteCertNames {
  return { site: site.site, dhcpDomains: planDhcpDomains(plan), pool: site.lync.pool.toLowerCase(), web: site.lync.web.toLowerCase() };
}

/** Throws SiteFileError (file:line:col) when the site file is wrong. */
export function loadSiteCertNames(file: string): SiteCertNames {
  const site = loadSite(file);
  return siteCertNames(site, compilePlan(site, file));
}

/** SAN order: the short name the phone connects with, its FQDN per DHCP domain, then the pool and web FQDNs. */
export function webCertSans(n: SiteCertNames): string[] {
  const out: string[] = [];
  pushUnique(out, UCUPDATES);
  for (const d of n.dhcpDomains) pushUnique(out, `${UCUPDATES}.${d}`);
  pushUnique(out, n.pool);
  pushUnique(out, n.web);
  return out;
}
