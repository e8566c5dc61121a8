// Options 15 and 119: the domains the phone appends to ucupdates-r2 to reach
// Device Update before sign-in, and to the Lync and time names (docs/lpe-facts.md; the
// seed article: the AD domain from DHCP, not the SIP domain).

import { isValidDomainName } from '../wire/rfc1035-names.js';
import { latin1 } from '../wire/bytes.js';
import { finding, type Finding } from './findings.js';
import { nameListFindings, readNameList, type NameList } from './names.js';

/** Hard-coded in every LPE firmware: the phone resolves ucupdates-r2.<domain> and connects with the short name (docs/seed-article.md). */
export const UCUPDATES = 'ucupdates-r2';

/** Lower case, no trailing dot: the form domains are compared and listed in. */
export function normalizeDomain(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** Adds a domain to a list unless it is empty or already there (case-insensitive). */
export function addDomain(list: string[], name: string): void {
  const n = normalizeDomain(name);
  if (n !== '' && !list.includes(n)) list.push(n);
}

/** The Device Update names a phone looks up for these domains. */
export function updateNames(domains: readonly string[]): string[] {
  return domains.map((d) => `${UCUPDATES}.${d}`);
}

/** The domain a ucupdates-r2 query was made in: '' for the bare name, null for another name. */
export function updateDomainOf(name: string): string | null {
  const n = normalizeDomain(name);
  if (n === UCUPDATES) return '';
  return n.startsWith(`${UCUPDATES}.`) ? n.slice(UCUPDATES.length + 1) : null;
}

export interface Option15Reading {
  findings: Finding[];
  /** The domain, when usable (trailing NULs dropped). */
  domain: string | null;
}

/** RFC 2132 §3.17: a domain name as text; RFC 2132 §2 lets a receiver drop trailing NULs, which some servers send. */
export function readOption15(v: Uint8Array): Option15Reading {
  let end = v.length;
  while (end > 0 && v[end - 1] === 0) end--;
  const body = v.subarray(0, end);
  const value = latin1(body);
  const printable = body.every((b) => b >= 0x20 && b <= 0x7e);
  if (end === 0 || !printable || !isValidDomainName(value)) {
    return { findings: [finding('error', 'bad-domain', `option 15 ${JSON.stringify(latin1(v))} is not a domain name: the phone has no domain for ucupdates-r2`, 0, v.length)], domain: null };
  }
  const f: Finding[] = [];
  if (end < v.length) f.push(finding('warning', 'trailing-nul', `option 15 "${value}" ends with ${v.length - end} NUL byte(s); RFC 2132 lets the receiver drop them, DHCPUtil sends none`, end, v.length - end));
  if (!value.replace(/\.$/, '').includes('.')) f.push(finding('warning', 'short-name', `option 15 "${value}" is a single label, not an FQDN`, 0, v.length));
  return { findings: f, domain: normalizeDomain(value) };
}

export interface Option119Reading {
  list: NameList;
  findings: Finding[];
  /** The usable domains, normalized, in order, no repeats. */
  domains: string[];
}

/** RFC 3397: names back to back, compression pointers relative to the option data (joined first when over 255 bytes, RFC 3396). */
export function readOption119(v: Uint8Array): Option119Reading {
  if (v.length === 0) return { list: { names: [], starts: [], compressed: false, error: null }, findings: [finding('error', 'empty', 'option 119 carries no names')], domains: [] };
  const list = readNameList(v, 0, 0);
  const domains: string[] = [];
  for (const n of list.names) if (isValidDomainName(n)) addDomain(domains, n);
  return { list, findings: nameListFindings(list, 119, 0), domains };
}
