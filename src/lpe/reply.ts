// Every option a phone acts on in one reply (the ACK to its REQUEST, or to its
// DHCPINFORM), judged in one pass: the probe renders this as its checklist,
// `provlab check` as the phone's view of a site, `provlab decode` per option.

import { readIp } from '../wire/ipv4.js';
import { finding, sortFindings, type Finding } from './findings.js';
import { addDomain, readOption119, readOption15 } from './domains.js';
import { readOption43 } from './option43.js';
import { readOption120 } from './option120.js';
import { escapeText } from './text.js';

export type ReplyKind = 'ack' | 'inform';

export interface OptionJudgement {
  code: number;
  /** For people: "option 43 (MS-UC-Client)". */
  title: string;
  present: boolean;
  /** Absent and not needed for this kind of reply (router and mask after an INFORM). */
  notNeeded: boolean;
  findings: Finding[];
  /** The value as the phone reads it, for a line that passes. */
  summary: string;
}

export interface ReplyFacts {
  dnsServers: string[];
  /** Option 15 first, then each option 119 name, normalized, without repeats: the suffixes the phone tries. */
  domains: string[];
  ntpServers: string[];
  timeServers: string[];
  webFqdn?: string;
  certProvUrl?: string;
  sipServers: string[];
  /** Option 120 carries a usable FQDN: SIP SRV records are then only a fallback. */
  has120: boolean;
}

export interface ReplyJudgement {
  /** In checklist order: 1, 3, 6, 15, 119, 42, 4, 43, 120. */
  options: OptionJudgement[];
  facts: ReplyFacts;
}

/** An RFC 2132 list of IPv4 addresses (options 1, 3, 4, 6, 42). */
export function readAddressList(code: number, v: Uint8Array): { addresses: string[]; findings: Finding[] } {
  if (v.length === 0 || v.length % 4 !== 0) return { addresses: [], findings: [finding('error', 'bad-length', `option ${code} is ${v.length} bytes: not a list of 4-byte addresses`, 0, v.length)] };
  const addresses: string[] = [];
  for (let p = 0; p < v.length; p += 4) addresses.push(readIp(v, p));
  return { addresses, findings: [] };
}

const TITLES: Record<number, string> = {
  1: 'option 1 (subnet mask)',
  3: 'option 3 (router)',
  6: 'option 6 (DNS servers)',
  15: 'option 15 (domain name)',
  119: 'option 119 (domain search)',
  42: 'option 42 (NTP servers)',
  4: 'option 4 (time servers)',
  43: 'option 43 (MS-UC-Client)',
  120: 'option 120 (SIP server)',
};

/** What a missing option costs the phone; null when it does not matter after this kind of reply. */
function absence(code: number, kind: ReplyKind, opts: ReadonlyMap<number, Uint8Array>): Finding | null {
  const missing = (severity: 'error' | 'warning', why: string): Finding => finding(severity, 'missing', `not in the reply: ${why}`);
  switch (code) {
    case 1:
      return kind === 'inform' ? null : missing('warning', 'the phone would guess a classful mask');
    case 3:
      return kind === 'inform' ? null : missing('warning', 'no default gateway: fine only if Lync is on this subnet');
    case 6:
      return missing('error', 'the phone cannot look up ucupdates-r2, time or Lync names');
    case 15:
      return opts.has(119) ? missing('warning', 'the phone uses the option 119 domains only') : missing('error', 'nor option 119: the phone has no domain to look up ucupdates-r2.<domain> in');
    case 119:
      return missing('warning', 'the phone tries ucupdates-r2 only under the option 15 domain');
    case 42:
      return missing('warning', 'the phone must find time through DNS (_ntp._udp SRV, time.windows.com)');
    case 4:
      return missing('warning', 'sources disagree whether the phone reads 42 or 4: send both');
    case 43:
      return missing('error', 'the phone gets no Certificate Provisioning URL and never offers PIN sign-in (does the server match option 60 "MS-UC-Client", case-sensitive, and send 43 for that class?)');
    case 120:
      return missing('error', 'the phone learns no Lync pool FQDN from DHCP');
    default:
      return null;
  }
}

/** Judges the options of the reply a phone acts on; `kind` says whether it answers a REQUEST or an INFORM. */
export function judgeReply(opts: ReadonlyMap<number, Uint8Array>, kind: ReplyKind): ReplyJudgement {
  const facts: ReplyFacts = { dnsServers: [], domains: [], ntpServers: [], timeServers: [], sipServers: [], has120: false };
  const options: OptionJudgement[] = [];
  for (const code of [1, 3, 6, 15, 119, 42, 4, 43, 120]) {
    const v = opts.get(code);
    const j: OptionJudgement = { code, title: TITLES[code]!, present: v !== undefined, notNeeded: false, findings: [], summary: '' };
    options.push(j);
    if (v === undefined) {
      const f = absence(code, kind, opts);
      if (f === null) j.notNeeded = true;
      else j.findings.push(f);
      continue;
    }
    switch (code) {
      case 15: {
        const r = readOption15(v);
        j.findings = r.findings;
        if (r.domain !== null) addDomain(facts.domains, r.domain);
        j.summary = r.domain ?? '';
        break;
      }
      case 119: {
        const r = readOption119(v);
        j.findings = r.findings;
        for (const d of r.domains) addDomain(facts.domains, d);
        j.summary = r.list.names.join(', ');
        break;
      }
      case 43: {
        const r = readOption43(v);
        j.findings = r.findings;
        if (r.webFqdn !== null) facts.webFqdn = r.webFqdn;
        if (r.usableCertProvUrl !== null) facts.certProvUrl = r.usableCertProvUrl;
        j.summary = r.certProvUrl === null ? `${v.length} bytes` : `${v.length} bytes, Certificate Provisioning URL ${escapeText(r.certProvUrl)}`;
        break;
      }
      case 120: {
        const r = readOption120(v);
        j.findings = r.findings;
        facts.sipServers = r.names;
        facts.has120 = r.usableName !== null;
        j.summary = r.form.kind === 'names' ? `encoding 0, ${r.names.join(', ')}` : '';
        break;
      }
      default: {
        const r = readAddressList(code, v);
        j.findings = r.findings;
        j.summary = r.addresses.join(', ');
        if (code === 6) facts.dnsServers = r.addresses;
        if (code === 42) facts.ntpServers = r.addresses;
        if (code === 4) facts.timeServers = r.addresses;
      }
    }
  }
  for (const j of options) j.findings = sortFindings(j.findings);
  return { options, facts };
}
