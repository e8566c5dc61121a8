// Option 120 (RFC 3361) for Lync: encoding 0 and the pool FQDN. DHCPUtil writes
// one uncompressed name; whether the phone follows compression or tries more
// than one name is not known (docs/lpe-facts.md [U]): warnings. Addresses (encoding 1)
// do not work for Lync, which needs a name for TLS [S2].

import { decodeName, isValidDomainName } from '../wire/rfc1035-names.js';
import { encodeSipServers } from '../wire/rfc3361-sip.js';
import { readIp } from '../wire/ipv4.js';
import { hex, latin1 } from '../wire/bytes.js';
import { finding, type Finding } from './findings.js';
import { nameListFindings, readNameList, type NameList } from './names.js';
import { quoteText } from './text.js';

export type Option120Form =
  | { kind: 'empty' }
  | { kind: 'names'; list: NameList }
  | { kind: 'addresses'; addresses: string[]; stray: number }
  /** The FQDN as bare text, with no encoding byte and no labels (a published script's mistake). */
  | { kind: 'bare-text'; text: string }
  /** RFC 1035 labels with no encoding byte in front. */
  | { kind: 'bare-labels'; name: string }
  | { kind: 'bad-encoding'; encoding: number };

export interface Option120Reading {
  form: Option120Form;
  findings: Finding[];
  /** The SIP server names read (whatever their quality). */
  names: string[];
  /** The name the phone would use, when no error was found. */
  usableName: string | null;
}


export function readOption120(v: Uint8Array): Option120Reading {
  const f: Finding[] = [];
  const done = (form: Option120Form, names: string[] = []): Option120Reading => ({
    form,
    findings: f,
    names,
    usableName: names.length > 0 && !f.some((x) => x.severity === 'error') ? names[0]! : null,
  });
  if (v.length === 0) {
    f.push(finding('error', 'empty', 'option 120 is empty: no encoding byte, no server'));
    return done({ kind: 'empty' });
  }
  const enc = v[0]!;
  if (enc === 0) {
    if (v.length === 1) {
      f.push(finding('error', 'empty', 'option 120 has encoding 0 but no name after it', 1));
      return done({ kind: 'names', list: { names: [], starts: [], compressed: false, error: null } });
    }
    const list = readNameList(v, 1, 1);
    f.push(...nameListFindings(list, 120, 1));
    if (list.compressed) f.push(finding('warning', 'compression', 'option 120 uses compression pointers; DHCPUtil sends one uncompressed name, and whether the phone follows pointers is not known'));
    if (list.names.length > 1) f.push(finding('warning', 'several-names', `option 120 carries ${list.names.length} names; DHCPUtil sends one, and how the phone treats more is not known`));
    return done({ kind: 'names', list }, list.names);
  }
  if (enc === 1) {
    const addresses: string[] = [];
    let p = 1;
    for (; p + 4 <= v.length; p += 4) addresses.push(readIp(v, p));
    if (p < v.length || addresses.length === 0) f.push(finding('error', 'bad-length', `option 120 encoding 1 needs a multiple of 4 address bytes, got ${v.length - 1}`, p));
    f.push(finding('error', 'sip-addresses', `option 120 gives IP addresses (encoding 1, ${addresses.length}): Lync needs encoding 0 with the pool FQDN, because TLS checks the server name`));
    return done({ kind: 'addresses', addresses, stray: v.length - p });
  }
  const text = latin1(v);
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(text)) {
    const fix = isValidDomainName(text) ? `; send instead ${hex(encodeSipServers({ encoding: 0, names: [text.replace(/\.$/, '')] }), ' ')} (00, then the name in RFC 1035 labels)` : '';
    f.push(finding('error', 'bare-ascii', `option 120 is the bare ASCII FQDN "${text}" with no encoding byte and no label lengths (as a published script sends it): the phone reads 0x${enc.toString(16).padStart(2, '0')} ('${text[0]}') as the encoding byte and finds no SIP server${fix}`, 0, Math.min(16, v.length)));
    return done({ kind: 'bare-text', text }, [text]);
  }
  const bare = decodeName(v, 0, { allowCompression: false });
  if (bare.ok && bare.value.next === v.length) {
    f.push(finding('error', 'no-encoding-byte', `option 120 holds the name "${bare.value.name}" in RFC 1035 labels but no encoding byte before it: the phone reads ${enc} as the encoding (0 or 1 expected); put 00 in front`, 0, 1));
    return done({ kind: 'bare-labels', name: bare.value.name }, [bare.value.name]);
  }
  f.push(finding('error', 'bad-encoding', `option 120 encoding byte is ${enc} (${quoteText(v.subarray(0, 1))}), neither 0 (names) nor 1 (addresses)`, 0, 1));
  return done({ kind: 'bad-encoding', encoding: enc });
}
