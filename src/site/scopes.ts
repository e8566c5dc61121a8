// A site's DHCP scopes as one list: the top-level dhcp subnet is the first.
// Its own module (types only from schema.ts), so that dns-zones.ts, which the
// cross-checks import, does not import the schema module at run time.
import type { Site, SiteScope } from './schema.js';

/** Every scope of a site: the top-level dhcp subnet first (index 0), then dhcp.scopes in order. */
export function siteScopes(site: Site): SiteScope[] {
  const d = site.dhcp;
  const first: SiteScope = {
    name: d.subnet,
    subnet: d.subnet,
    pool: d.pool,
    router: d.router,
    dns: d.dns,
    lease: d.lease,
    reservations: d.reservations,
    domains: { primary: site.domains.primary, search: site.domains.search },
    options: {},
  };
  return [first, ...d.scopes];
}
