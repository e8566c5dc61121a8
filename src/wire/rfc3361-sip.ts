// DHCP option 120, SIP Servers (RFC 3361): an encoding byte, then either
// RFC 1035 names (enc 0) or IPv4 addresses (enc 1). Lync needs enc 0 with the
// pool FQDN (docs/lpe-facts.md §Option 120: addresses do not work for Lync, TLS wants a name).

import { decodeName, encodeNames } from './rfc1035-names.js';
import { isIPv4, readIp, writeIp } from './ipv4.js';
import { fail, ok, type Result } from './result.js';

export type SipServers = { encoding: 0; names: string[] } | { encoding: 1; addresses: string[] };

/**
 * Default is DHCPUtil's form, `00` + uncompressed name(s), the one form known to
 * work on the phone; whether LPE accepts compression is unknown (docs/lpe-facts.md §Option 120 [U]),
 * hence the switch. Throws RangeError on an empty list, a bad name or address.
 */
export function encodeSipServers(value: SipServers, options?: { compress?: boolean }): Uint8Array {
  if (value.encoding === 0) {
    if (value.names.length === 0) throw new RangeError('option 120 needs at least one name');
    const names = encodeNames(value.names, { compress: options?.compress ?? false });
    const out = new Uint8Array(1 + names.length);
    out[0] = 0;
    out.set(names, 1);
    return out;
  }
  if (value.addresses.length === 0) throw new RangeError('option 120 needs at least one address');
  const out = new Uint8Array(1 + 4 * value.addresses.length);
  out[0] = 1;
  value.addresses.forEach((a, i) => {
    if (!isIPv4(a)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(a)}`);
    writeIp(out, 1 + 4 * i, a);
  });
  return out;
}

/**
 * Compression pointers in enc 0 are read relative to the first byte after the
 * encoding byte, i.e. the start of the name list, as RFC 3397 does for 119. [I]
 */
export function decodeSipServers(data: Uint8Array): Result<SipServers> {
  if (data.length === 0) return fail('empty', 'option 120 has no encoding byte', 0);
  const encoding = data[0];
  if (encoding === 0) {
    if (data.length === 1) return fail('empty', 'option 120 encoding 0 carries no names', 1);
    const names: string[] = [];
    let pos = 1;
    while (pos < data.length) {
      const r = decodeName(data, pos, { allowCompression: true, start: 1, end: data.length });
      if (!r.ok) return r;
      names.push(r.value.name);
      pos = r.value.next;
    }
    return ok({ encoding: 0, names });
  }
  if (encoding === 1) {
    const n = data.length - 1;
    if (n === 0 || n % 4 !== 0) return fail('bad-length', `option 120 encoding 1 needs a multiple of 4 address bytes, got ${n}`, 1);
    const addresses: string[] = [];
    for (let p = 1; p < data.length; p += 4) addresses.push(readIp(data, p));
    return ok({ encoding: 1, addresses });
  }
  return fail('bad-encoding', `option 120 encoding byte ${encoding} is neither 0 (names) nor 1 (addresses)`, 0);
}
