// RFC 1035 name lists as options 119 and 120 carry them, read name by name so
// that every name before a bad one is still reported, with where each starts.

import { decodeName } from '../wire/rfc1035-names.js';
import { isValidDomainName } from '../wire/rfc1035-names.js';
import { finding, type Finding } from './findings.js';

export interface NameList {
  names: string[];
  /** Offset of each name's first byte. */
  starts: number[];
  compressed: boolean;
  /** Set when a name could not be read; the names before it are in `names`. */
  error: { code: string; message: string; offset: number | undefined; at: number } | null;
}

const NAME_ERRORS: Record<string, string> = {
  'forward-pointer': 'a compression pointer must point to an earlier name (RFC 1035 §4.1.4, RFC 3397 §2)',
  'pointer-loop': 'compression pointers that loop would hang a careless client',
  truncated: 'the data ends inside a name: the option was cut (or an RFC 3396 piece was lost)',
  'no-root': 'a name must end with the root label (00)',
  'bad-label-type': 'label types 01 and 10 are reserved',
  'name-too-long': 'a name is at most 255 bytes',
  'compression-not-allowed': 'compression is not allowed here',
};

/** Names from `from` to the end; pointers count from `start` (RFC 3397: the option data; 120: after the encoding byte). */
export function readNameList(v: Uint8Array, from: number, start: number): NameList {
  const list: NameList = { names: [], starts: [], compressed: false, error: null };
  let pos = from;
  while (pos < v.length) {
    const r = decodeName(v, pos, { allowCompression: true, start, end: v.length });
    if (!r.ok) {
      list.error = { code: r.error.code, message: r.error.message, offset: r.error.offset, at: pos };
      return list;
    }
    list.names.push(r.value.name);
    list.starts.push(pos);
    list.compressed ||= r.value.compressed;
    pos = r.value.next;
  }
  return list;
}

/** The finding for an unreadable name, and one per name that is not a usable domain. */
export function nameListFindings(list: NameList, option: number, start: number): Finding[] {
  const out: Finding[] = [];
  const e = list.error;
  if (e !== null) {
    const at = e.offset !== undefined && e.offset >= start ? e.offset - start : undefined;
    const where = at === undefined ? '' : start > 0 ? `, offset ${e.offset} (${at} in the name list)` : `, offset ${e.offset}`;
    out.push(finding('error', e.code, `option ${option}, name ${list.names.length + 1}${where}: ${e.message}; ${NAME_ERRORS[e.code] ?? 'the name cannot be read'}`, e.offset));
  }
  list.names.forEach((n, i) => {
    const at = list.starts[i];
    if (n === '') out.push(finding('error', 'empty-name', `option ${option}, name ${i + 1} is the root alone (00): no domain`, at));
    else if (!isValidDomainName(n)) out.push(finding('warning', 'bad-name', `option ${option}, name ${i + 1} ${JSON.stringify(n)} is not a valid host name (letters, digits, '-', '_')`, at));
    else if (!n.includes('.')) out.push(finding('warning', 'short-name', `option ${option}, name ${i + 1} "${n}" is a single label, not an FQDN`, at));
  });
  return out;
}
