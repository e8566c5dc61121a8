// The LPE rules applied to a compiled site: what a phone (vendor class
// MS-UC-Client) would make of the options the site sends. The lab switches
// (lync.option43 order/end, sip_encoding) and raw class options show up here,
// in `provlab check`, before a phone meets them.

import type { Plan } from '../site/plan.js';
import { MS_UC_CLIENT } from '../wire/ms-uc-client.js';
import type { Finding } from './findings.js';
import { judgeReply } from './reply.js';

/** The options an MS-UC-Client phone gets: the base options, overridden by its class. */
export function phoneOptions(plan: Plan): Map<number, Uint8Array> {
  const merged = new Map(plan.dhcp.baseOptions);
  const lync = plan.dhcp.classes.find((c) => c.vendorClass === MS_UC_CLIENT);
  for (const [code, v] of lync?.options ?? []) merged.set(code, v);
  return merged;
}

/** Warnings and errors on the ACK a phone would get from this site (notes left out). */
export function phoneFindings(plan: Plan): { option: number; finding: Finding }[] {
  return judgeReply(phoneOptions(plan), 'ack').options.flatMap((o) => o.findings.filter((f) => f.severity !== 'info').map((finding) => ({ option: o.code, finding })));
}
