// DHCP option 43 for vendor class MS-UC-Client (Lync Phone Edition).
// What the phone wants (docs/lpe-facts.md, from DHCPUtil output): sub-options 1..5 in
// ascending order, ASCII values without a NUL terminator, no 0xFF end marker,
// and the port as ASCII text ("443" = 34 34 33), not a 16-bit integer.
// The sub-options are rows of the option table (space 'ms-uc-client'); the
// TLV layout is the generic RFC 2132 §8.4 one (rfc2132-encapsulated.ts).

import { encodeOptionValue } from './option-codec.js';
import { MS_UC_CLIENT_SPACE, findOptionDef } from './option-defs.js';

export const MS_UC_CLIENT = 'MS-UC-Client';

/** Sub-option codes of the MS-UC-Client space, in the known-good send order. */
export const MS_UC_CLIENT_CODES: readonly number[] = [1, 2, 3, 4, 5];

export interface MsUcClientSettings {
  /** Sub-option 1, UCIdentifier: normally "MS-UC-Client". */
  ucIdentifier: string;
  /** Sub-option 2, URLScheme: normally "https". */
  urlScheme: string;
  /** Sub-option 3, WebServerFqdn: internal web services FQDN of the pool. */
  webServerFqdn: string;
  /** Sub-option 4, WebServerPort: ASCII text, "443". */
  webServerPort: string;
  /** Sub-option 5, CertProvRelPath: "/CertProv/CertProvisioningService.svc". */
  certProvRelPath: string;
}

/** The netsh name of an MS-UC-Client sub-option (UCIdentifier …), from the option table; undefined outside 1..5. */
export function msUcSubOptionName(code: number): string | undefined {
  return findOptionDef(code, MS_UC_CLIENT_SPACE)?.name;
}

/** ASCII without NUL: the phone reads these as plain strings (docs/lpe-facts.md: no NUL terminator). */
function checkAscii(code: number, text: string): string {
  if (text.length > 255) throw new RangeError(`MS-UC-Client sub-option ${code} is ${text.length} bytes; at most 255 fit`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c > 0x7f) throw new RangeError(`MS-UC-Client sub-option ${code} must be ASCII without NUL: ${JSON.stringify(text)}`);
  }
  return text;
}

/** The text of each sub-option, keyed by its code. */
export function msUcClientValues(s: MsUcClientSettings): ReadonlyMap<number, string> {
  return new Map([
    [1, s.ucIdentifier],
    [2, s.urlScheme],
    [3, s.webServerFqdn],
    [4, s.webServerPort],
    [5, s.certProvRelPath],
  ]);
}

/**
 * Option 43 value for MS-UC-Client. `order` (sub-option codes in send order,
 * default 1..5) and `appendEnd` (add 0xFF, as dnsmasq does) are lab switches
 * for testing what the phone tolerates; the defaults are the known-good form.
 */
export function encodeMsUcClient(s: MsUcClientSettings, options?: { order?: readonly number[]; appendEnd?: boolean }): Uint8Array {
  const values = msUcClientValues(s);
  const order = options?.order ?? MS_UC_CLIENT_CODES;
  const subOptions = order.map((code) => {
    const text = values.get(code);
    if (text === undefined || msUcSubOptionName(code) === undefined) throw new RangeError(`MS-UC-Client has no sub-option ${code} (1..5)`);
    return { code, value: { type: 'text' as const, value: checkAscii(code, text) } };
  });
  // Through option 43's row: its 'ms-uc-client' space types each sub-option.
  return encodeOptionValue(findOptionDef(43)!, { type: 'encapsulated', value: { subOptions, endMarker: options?.appendEnd ?? false } });
}

/** The URL the phone builds from sub-options 2, 3, 4 and 5 (docs/lpe-facts.md). */
export function certProvUrl(s: Pick<MsUcClientSettings, 'urlScheme' | 'webServerFqdn' | 'webServerPort' | 'certProvRelPath'>): string {
  return `${s.urlScheme}://${s.webServerFqdn}:${s.webServerPort}${s.certProvRelPath}`;
}
