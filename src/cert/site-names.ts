// The names the web-services certificate must carry for a site, taken from
// the compiled plan: the domains are the ones the phone really receives in
// options 15 and 119 (decoded back from the plan's bytes, so a class that
// overrides 15 or 119 with raw hex counts too), not the ones we think we sent.

import { compilePlan } from '../site/compile.js';
import { loadSite } from '../site/load.js';
import type { Plan } from '../site/plan.js';
import type { Site } from '../site/schema.js';
import { UCUPDATES, addDomain } from '../lpe/domains.js';

export { UCUPDATES };

export interface SiteCertNames {
  site: string;
  /** Option 15 and every option 119 domain, lower case, first-seen order, no duplicates. */
  dhcpDomains: string[];
  /** lync.pool: option 120, the SIP registrar. */
  pool: string;
  /** lync.web: option 43 sub-option 3, the internal web services (CertProv) host. */
  web: string;
}

export function siteCertNames(site: Site, plan: Plan): SiteCertNames {
  return { site: site.site, dhcpDomains: [...plan.domains], pool: site.lync.pool.toLowerCase(), web: site.lync.web.toLowerCase() };
}

/** Throws SiteFileError (file:line:col) when the site file is wrong. */
export function loadSiteCertNames(file: string): SiteCertNames {
  const site = loadSite(file);
  return siteCertNames(site, compilePlan(site, file));
}

/** SAN order: the short name the phone connects with, its FQDN per DHCP domain, then the pool and web FQDNs. */
export function webCertSans(n: SiteCertNames): string[] {
  const out: string[] = [];
  addDomain(out, UCUPDATES);
  for (const d of n.dhcpDomains) addDomain(out, `${UCUPDATES}.${d}`);
  addDomain(out, n.pool);
  addDomain(out, n.web);
  return out;
}
