// DHCP option 43 for vendor class MS-UC-Client (Lync Phone Edition), and the
// generic RFC 2132 §8.4 encapsulated-options TLV walker the option codec uses.
// What the phone wants (docs/lpe-facts.md §Option 43, from DHCPUtil output): sub-options 1..5 in
// ascending order, ASCII values without a NUL terminator, no 0xFF end marker,
// and the port as ASCII text ("443" = 34 34 33), not a 16-bit integer.

import { fail, ok, type Result } from './result.js';

export const MS_UC_CLIENT = 'MS-UC-Client';

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

export interface SubOption {
  code: number;
  /** Offset of the sub-option's code byte in the option data. */
  offset: number;
  length: number;
  /** A view into the option data, not a copy. */
  data: Uint8Array;
}

const PAD = 0;
const END = 255;

/** Code/length/value triples back to back; appendEnd adds the 0xFF end marker. Throws RangeError on a value over 255 bytes. */
export function encodeEncapsulated(
  subOptions: readonly { readonly code: number; readonly data: Uint8Array }[],
  options?: { appendEnd?: boolean },
): Uint8Array {
  let size = options?.appendEnd ? 1 : 0;
  for (const s of subOptions) {
    if (!Number.isInteger(s.code) || s.code < 1 || s.code > 254) throw new RangeError(`sub-option code ${s.code} is not 1..254`);
    if (s.data.length > 255) throw new RangeError(`sub-option ${s.code} is ${s.data.length} bytes; at most 255 fit`);
    size += 2 + s.data.length;
  }
  const out = new Uint8Array(size);
  let pos = 0;
  for (const s of subOptions) {
    out[pos++] = s.code;
    out[pos++] = s.data.length;
    out.set(s.data, pos);
    pos += s.data.length;
  }
  if (options?.appendEnd) out[pos] = END;
  return out;
}

/**
 * Walks RFC 2132 §8.4 encapsulated options: pad (0) is skipped, end (255)
 * stops the walk (whatever follows is returned as `trailing`). Never reads
 * past the data; a declared length that runs past it fails 'truncated'.
 */
export function decodeEncapsulated(data: Uint8Array): Result<{ subOptions: SubOption[]; endMarker: boolean; trailing: Uint8Array }> {
  const subOptions: SubOption[] = [];
  let pos = 0;
  while (pos < data.length) {
    const code = data[pos]!;
    if (code === PAD) {
      pos++;
      continue;
    }
    if (code === END) return ok({ subOptions, endMarker: true, trailing: data.subarray(pos + 1) });
    if (pos + 1 >= data.length) return fail('truncated', `sub-option ${code} has no length byte`, pos);
    const length = data[pos + 1]!;
    if (pos + 2 + length > data.length) return fail('truncated', `sub-option ${code} declares ${length} bytes, only ${data.length - pos - 2} remain`, pos);
    subOptions.push({ code, offset: pos, length, data: data.subarray(pos + 2, pos + 2 + length) });
    pos += 2 + length;
  }
  return ok({ subOptions, endMarker: false, trailing: data.subarray(data.length) });
}

/** ASCII without NUL: the phone reads these as plain strings (docs/lpe-facts.md §Option 43: no NUL terminator). */
function asciiBytes(code: number, text: string): Uint8Array {
  if (text.length > 255) throw new RangeError(`MS-UC-Client sub-option ${code} is ${text.length} bytes; at most 255 fit`);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c > 0x7f) throw new RangeError(`MS-UC-Client sub-option ${code} must be ASCII without NUL: ${JSON.stringify(text)}`);
    out[i] = c;
  }
  return out;
}

/**
 * Option 43 value for MS-UC-Client. `order` (sub-option codes in send order,
 * default 1..5) and `appendEnd` (add 0xFF, as dnsmasq does) are lab switches
 * for testing what the phone tolerates; the defaults are the known-good form.
 */
export function encodeMsUcClient(s: MsUcClientSettings, options?: { order?: readonly number[]; appendEnd?: boolean }): Uint8Array {
  const values: Record<number, string> = {
    1: s.ucIdentifier,
    2: s.urlScheme,
    3: s.webServerFqdn,
    4: s.webServerPort,
    5: s.certProvRelPath,
  };
  const order = options?.order ?? [1, 2, 3, 4, 5];
  const subs = order.map((code) => {
    const text = values[code];
    if (text === undefined) throw new RangeError(`MS-UC-Client has no sub-option ${code} (1..5)`);
    return { code, data: asciiBytes(code, text) };
  });
  return encodeEncapsulated(subs, { appendEnd: options?.appendEnd ?? false });
}

/** The URL the phone builds from sub-options 2, 3, 4 and 5 (docs/lpe-facts.md §Option 43). */
export function certProvUrl(s: MsUcClientSettings): string {
  return `${s.urlScheme}://${s.webServerFqdn}:${s.webServerPort}${s.certProvRelPath}`;
}
