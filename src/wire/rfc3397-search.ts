// DHCP option 119, Domain Search List (RFC 3397): RFC 1035 names back to back,
// compressed, with pointer offsets relative to the start of the option data.
// When the list is longer than 255 bytes the message encoder cuts it into
// several option-119 instances and the receiver joins them first (RFC 3396);
// these functions always see the joined data.

import { decodeName, encodeNames } from './rfc1035-names.js';
import { fail, ok, type Result } from './result.js';

/** Throws RangeError on an invalid domain (the site file is validated before this runs). */
export function encodeSearchList(domains: readonly string[]): Uint8Array {
  return encodeNames(domains, { compress: true });
}

export function decodeSearchList(data: Uint8Array): Result<string[]> {
  if (data.length === 0) return fail('empty', 'option 119 carries no names', 0);
  const names: string[] = [];
  let pos = 0;
  while (pos < data.length) {
    const r = decodeName(data, pos, { allowCompression: true, start: 0, end: data.length });
    if (!r.ok) return r;
    names.push(r.value.name);
    pos = r.value.next;
  }
  return ok(names);
}
