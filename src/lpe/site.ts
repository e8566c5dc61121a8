// The LPE rules applied to a compiled site: what a phone (vendor class
// MS-UC-Client) would make of the options the site sends. The lab switches
// (lync.option43 order/end, sip_encoding) and raw class options show up here,
// in `provlab check`, before a phone meets them.

import type { Plan } from '../site/plan.js';
import { MS_UC_CLIENT } from '../wire/ms-uc-client.js';
import type { Finding } from './findings.js';
import { judgeReply } from './reply.js';

/** The options an MS-UC-Client phone of a scope (default the first) gets: the scope's options, overridden by its class. */
export function phoneOptions(plan: Plan, scope = 0): Map<number, Uint8Array> {
  const merged = new Map(plan.dhcp.scopes[scope]!.baseOptions);
  const lync = plan.dhcp.classes.find((c) => c.vendorClass === MS_UC_CLIENT);
  for (const [code, v] of lync?.options ?? []) merged.set(code, v);
  return merged;
}

/** Warnings and errors on the ACK a phone would get from this site (notes left out). */
export function phoneFindings(plan: Plan): { option: number; finding: Finding }[] {
  // Every scope: one may override 15/119 with what a phone cannot use. A finding shared by scopes is told once.
  const seen = new Set<string>();
  return plan.dhcp.scopes.flatMap((_, i) =>
    judgeReply(phoneOptions(plan, i), 'ack').options.flatMap((o) =>
      o.findings
        .filter((f) => f.severity !== 'info' && !seen.has(`${o.code} ${f.code} ${f.message}`) && seen.add(`${o.code} ${f.code} ${f.message}`))
        .map((finding) => ({ option: o.code, finding })),
    ),
  );
}
