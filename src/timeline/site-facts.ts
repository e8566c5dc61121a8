// What the timeline needs to know of the site: its name and the domains a phone
// is handed. Taken from the option 15 and 119 bytes the DHCP server really
// sends, decoded by the wire layer: those, not the YAML, are what the phone
// appends to ucupdates-r2 (docs/seed-article.md: the AD domain from DHCP).
import type { Plan } from '../site/plan.js';
import { decodeOptionValue } from '../wire/option-codec.js';
import { findOptionDef } from '../wire/option-defs.js';

export interface TimelineSite {
  site: string;
  /** Lower case, no trailing dot, option 15 first, then option 119 in order, no repeats. */
  domains: string[];
}

export function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export function timelineSite(plan: Plan): TimelineSite {
  const domains: string[] = [];
  const add = (d: string): void => {
    const n = normalizeName(d);
    if (n !== '' && !domains.includes(n)) domains.push(n);
  };
  for (const code of [15, 119]) {
    const bytes = plan.dhcp.baseOptions.get(code);
    const def = findOptionDef(code);
    if (!bytes || !def) continue;
    const v = decodeOptionValue(def, bytes);
    if (!v.ok) continue;
    if (v.value.type === 'text') add(v.value.value);
    else if (v.value.type === 'fqdn-list') v.value.value.forEach(add);
  }
  return { site: plan.site, domains };
}
