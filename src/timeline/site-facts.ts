// What the timeline needs to know of the site: its name and the domains a phone
// is handed. The domains are the plan's one list (options 15 and 119 as the
// bytes sent decode): those, not the YAML, are what the phone appends to
// ucupdates-r2 (seed article: the AD domain from DHCP).
import type { Plan } from '../site/plan.js';

export interface TimelineSite {
  site: string;
  /** Lower case, no trailing dot, option 15 first, then option 119 in order, no repeats. */
  domains: string[];
}

export function timelineSite(plan: Plan): TimelineSite {
  return { site: plan.site, domains: [...plan.domains] };
}
