// What the client's own options say about it: option 60 (is this a Lync
// Phone Edition phone?) and option 55 (does it ask for 43 and 120?).

import { MS_UC_CLIENT } from '../wire/ms-uc-client.js';
import { latin1 } from '../wire/bytes.js';
import { finding, type Finding } from './findings.js';

/** Option 60: the phone sends MS-UC-Client, case-sensitive (docs/lpe-facts.md [S]); CPE-OCPHONE asks for its VLAN ID. */
export function judgeVendorClass(v: Uint8Array): Finding[] {
  const text = latin1(v);
  const bare = text.replace(/\0+$/, '');
  if (text === MS_UC_CLIENT) return [finding('info', 'lpe-vendor-class', 'MS-UC-Client: a Lync Phone Edition phone (or a client acting as one)')];
  if (bare === MS_UC_CLIENT) return [finding('warning', 'vendor-class-nul', 'MS-UC-Client followed by NUL bytes: a server that compares the class exactly will not match it')];
  if (bare.toLowerCase() === MS_UC_CLIENT.toLowerCase()) return [finding('warning', 'vendor-class-case', `${JSON.stringify(bare)} differs from MS-UC-Client in letter case only; Microsoft treats the vendor class as case-sensitive`)];
  if (bare === 'CPE-OCPHONE') return [finding('info', 'cpe-ocphone', 'CPE-OCPHONE: the phone asking for its VLAN ID through option 43 (layout not documented)')];
  if (v.length === 0) return [finding('warning', 'empty', 'option 60 is empty')];
  return [finding('info', 'other-vendor-class', 'not a Lync Phone Edition vendor class')];
}

/** Option 55: the phone's INFORM asks for 43 and 120 (docs/lpe-facts.md [S]); its full list is not known. */
export function judgeParameterRequestList(v: Uint8Array): Finding[] {
  if (v.length === 0) return [finding('warning', 'empty', 'option 55 requests nothing')];
  const set = new Set(v);
  const wants = [43, 120].filter((x) => set.has(x));
  if (wants.length === 2) return [finding('info', 'asks-43-120', 'asks for 43 and 120, as a Lync Phone Edition phone does')];
  if (wants.length === 1) return [finding('info', 'asks-some', `asks for ${wants[0]} but not ${wants[0] === 43 ? 120 : 43}`)];
  return [];
}
