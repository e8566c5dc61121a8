// The names an LPE phone looks up after DHCP, and the checks on the answers.
// Pure: the questions come from the DHCP facts, the answers are bytes.

import { updateNames } from '../lpe/domains.js';
import { check, gradeAlternatives, type Check } from './check.js';
import { decodeDnsAnswers, DnsType, rcodeName, recordTypeCode, type LocatedRecord } from '../wire/dns-message.js';

export type DnsGroup = 'ucupdates' | 'sip-srv' | 'time' | 'web' | 'pool';

export interface DnsQuestion {
  group: DnsGroup;
  name: string;
  type: 'A' | 'SRV';
  /** Shown after the name: why the phone asks. */
  purpose: string;
}

export interface DhcpFacts {
  /** Option 15, then option 119, deduplicated. */
  domains: readonly string[];
  /** Option 43 sub-option 3. */
  webFqdn?: string;
  /** Option 120 names. */
  sipServers: readonly string[];
}

/**
 * docs/lpe-facts.md §Names: ucupdates-r2.<option 15 and each 119 domain> (Device Update
 * before sign-in); SRV _ntp._udp.<domain>, then A time.windows.com (time);
 * SRV _sipinternaltls._tcp.<domain> (registrar discovery). Beyond the brief's
 * list, the web services FQDN from 43 and the pool FQDN from 120 must resolve
 * too, or the phone cannot reach Certificate Provisioning or the registrar.
 */
export function phoneQuestions(f: DhcpFacts): DnsQuestion[] {
  const q: DnsQuestion[] = [];
  for (const name of updateNames(f.domains)) q.push({ group: 'ucupdates', name, type: 'A', purpose: 'Device Update before sign-in' });
  for (const d of f.domains) q.push({ group: 'time', name: `_ntp._udp.${d}`, type: 'SRV', purpose: 'time server' });
  q.push({ group: 'time', name: 'time.windows.com', type: 'A', purpose: 'time server fallback' });
  for (const d of f.domains) q.push({ group: 'sip-srv', name: `_sipinternaltls._tcp.${d}`, type: 'SRV', purpose: 'registrar discovery' });
  if (f.webFqdn !== undefined) q.push({ group: 'web', name: f.webFqdn, type: 'A', purpose: 'Certificate Provisioning (43 sub-option 3)' });
  for (const n of f.sipServers) {
    if (!q.some((x) => x.type === 'A' && x.name.toLowerCase() === n.toLowerCase())) q.push({ group: 'pool', name: n, type: 'A', purpose: 'SIP server (option 120)' });
  }
  return q;
}

export type DnsOutcome =
  | { kind: 'answer'; server: string; bytes: Uint8Array; rttMs: number }
  | { kind: 'timeout'; servers: readonly string[]; waitedMs: number }
  | { kind: 'error'; server: string; message: string }
  | { kind: 'skip'; reason: string };

export interface DnsFinding {
  question: DnsQuestion;
  check: Check;
  /** A records found (for A questions, following CNAMEs inside the answer). */
  addresses: string[];
  srv: { priority: number; weight: number; port: number; target: string }[];
}

const same = (a: string, b: string): boolean => a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();

/** Records of `type` owned by `name`, following a CNAME chain inside the answer section. */
function recordsFor(answers: readonly LocatedRecord[], name: string, type: number): { records: LocatedRecord[]; via: string[] } {
  let owner = name;
  const via: string[] = [];
  for (let hops = 0; hops < 8; hops++) {
    const direct = answers.filter((a) => recordTypeCode(a.record.data) === type && same(a.record.name, owner));
    if (direct.length > 0) return { records: direct, via };
    const cname = answers.find((a) => a.record.data.type === 'CNAME' && same(a.record.name, owner));
    if (cname === undefined || cname.record.data.type !== 'CNAME') break;
    owner = cname.record.data.target;
    via.push(owner);
  }
  return { records: [], via };
}

export function checkDnsAnswer(q: DnsQuestion, outcome: DnsOutcome): DnsFinding {
  const id = `dns.${q.type}.${q.name}`;
  const title = `${q.type} ${q.name}`;
  const finding = (status: Check['status'], detail: string, extra?: { bytes?: Uint8Array; offset?: number }, addresses: string[] = [], srv: DnsFinding['srv'] = []): DnsFinding => ({
    question: q,
    check: check('dns', id, title, status, detail, extra),
    addresses,
    srv,
  });
  switch (outcome.kind) {
    case 'skip':
      return finding('skip', outcome.reason);
    case 'timeout':
      return finding('fail', `no answer from ${outcome.servers.join(', ')} within ${outcome.waitedMs} ms`);
    case 'error':
      return finding('fail', `no answer from ${outcome.server}: ${outcome.message}`);
    case 'answer':
      break;
  }
  const r = decodeDnsAnswers(outcome.bytes);
  if (!r.ok) {
    const at = r.error.offset ?? 0;
    return finding('fail', `answer from ${outcome.server} does not decode: ${r.error.message}`, { bytes: outcome.bytes.subarray(at, at + 32), offset: at });
  }
  const res = r.value.header;
  const flags = outcome.bytes.subarray(2, 4);
  if (!res.qr) return finding('fail', `reply from ${outcome.server} has QR=0 (not a response)`, { bytes: flags, offset: 2 });
  if (res.rcode !== 0) {
    const hint = res.rcode === 5 ? ' (not authoritative for this name and not recursing for us?)' : '';
    return finding('fail', `${rcodeName(res.rcode)} from ${outcome.server}${hint}`, { bytes: flags, offset: 2 });
  }
  const type = DnsType[q.type];
  const { records, via } = recordsFor(r.value.answers, q.name, type);
  const tc = res.tc ? ' (TC set: answer truncated)' : '';
  if (records.length === 0) return finding('fail', `NOERROR but no ${q.type} record from ${outcome.server}${via.length > 0 ? ` (CNAME to ${via.join(' → ')})` : ''}${tc}`);
  const viaText = via.length > 0 ? ` via CNAME ${via.join(' → ')}` : '';
  if (q.type === 'A') {
    const addresses = records.flatMap((a) => (a.record.data.type === 'A' ? [a.record.data.address] : []));
    return finding('pass', `${addresses.join(', ')}${viaText}${tc}`, undefined, addresses);
  }
  const srv = records.flatMap((a) => (a.record.data.type === 'SRV' ? [{ ...a.record.data, targetCompressed: a.targetCompressed, offset: a.offset, end: a.end }] : []));
  const shown = srv.map((s) => `${s.priority} ${s.weight} ${s.port} ${s.target}`).join(', ');
  const list = srv.map(({ priority, weight, port, target }) => ({ priority, weight, port, target }));
  const notes: string[] = [];
  const compressed = srv.find((s) => s.targetCompressed);
  if (compressed) notes.push('target name is compressed (RFC 2782 forbids it; whether the phone follows the pointer is unknown)');
  if (q.group === 'sip-srv') {
    const domain = q.name.replace(/^_sipinternaltls\._tcp\./i, '').toLowerCase();
    const outside = srv.find((s) => !s.target.toLowerCase().endsWith(`.${domain}`));
    if (outside) notes.push(`target ${outside.target} is outside ${domain} (firmware CU7+ wants it inside the SRV record's domain)`);
  }
  if (notes.length > 0) {
    const at = compressed ?? srv[0]!;
    return finding('warn', `${shown}: ${notes.join('; ')}`, { bytes: outcome.bytes.subarray(at.offset, at.end), offset: at.offset }, [], list);
  }
  return finding('pass', `${shown}${viaText}${tc}`, undefined, [], list);
}

/**
 * The phone tries alternatives in turn, so a group passes when one of its
 * names answers: ucupdates-r2 under any domain; time via any _ntp._udp SRV
 * or time.windows.com; the SIP SRV records are only a fallback when option
 * 120 carries a usable FQDN.
 */
export function gradeDns(findings: readonly DnsFinding[], has120: boolean): Check[] {
  const of = (g: DnsGroup): Check[] => findings.filter((f) => f.question.group === g).map((f) => f.check);
  const out: Check[] = [];
  out.push(...gradeAlternatives(of('ucupdates'), 'another domain answers'));
  out.push(...gradeAlternatives(of('time'), 'the phone finds time through another name'));
  const sip = gradeAlternatives(of('sip-srv'), 'another domain answers');
  out.push(...(has120 ? sip.map((c) => (c.status === 'fail' ? { ...c, status: 'warn' as const, detail: `${c.detail}; the phone uses option 120's FQDN` } : c)) : sip));
  out.push(...of('web'), ...of('pool'));
  return out;
}
