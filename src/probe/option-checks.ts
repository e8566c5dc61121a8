// What an LPE phone needs from the options of the final DHCPACK, checked
// byte by byte against docs/lpe-facts.md. Pure: option bytes in,
// checklist lines and the facts the DNS and NTP steps need out.

import { decodeEncapsulated, MS_UC_CLIENT } from '../wire/ms-uc-client.js';
import { decodeName, isValidDomainName } from '../wire/rfc1035-names.js';
import { decodeSearchList } from '../wire/rfc3397-search.js';
import { readIp } from '../wire/ipv4.js';
import { check, firstNonAscii, hex, isPrintableAscii, latin1, type Check } from './check.js';

const SUB_NAMES: Readonly<Record<number, string>> = {
  1: 'UCIdentifier',
  2: 'URLScheme',
  3: 'WebServerFqdn',
  4: 'WebServerPort',
  5: 'CertProvRelPath',
};

export interface Option43Result {
  checks: Check[];
  /** Sub-option 3 when it is a usable name: the DNS step resolves it. */
  webFqdn?: string;
  /** `<2>://<3>:<4><5>` when all four are usable. */
  certProvUrl?: string;
}

const opt43 = (id: string, title: string, ...rest: [Check['status'], string, { bytes?: Uint8Array; offset?: number }?]): Check =>
  check('options', `opt43.${id}`, `option 43 ${title}`, ...rest);

/** A sub-option with its code and length bytes, for the hex excerpt. */
function tlvBytes(data: Uint8Array, offset: number, length: number): Uint8Array {
  return data.subarray(offset, Math.min(data.length, offset + 2 + length));
}

function isFqdn(name: string): boolean {
  return isValidDomainName(name) && name.replace(/\.$/, '').includes('.');
}

/**
 * Option 43 for vendor class MS-UC-Client: plain RFC 2132 §8.4 TLVs 1..5 in
 * ascending order, ASCII without NUL, port as ASCII digits, no 0xFF (docs/lpe-facts.md §Option 43,
 * from DHCPUtil's output). Every deviation is its own line so that dnsmasq's
 * two mistakes (`01 bb`, trailing `ff`) both show.
 */
export function checkOption43(data: Uint8Array | undefined): Option43Result {
  if (data === undefined) {
    return {
      checks: [
        opt43('present', '(MS-UC-Client)', 'fail', 'not in the reply: the phone gets no Certificate Provisioning URL and never offers PIN sign-in (does the server match option 60 "MS-UC-Client", case-sensitive, and send 43 for that class?)'),
      ],
    };
  }
  const checks: Check[] = [];
  const walk = decodeEncapsulated(data);
  if (!walk.ok) {
    const at = walk.error.offset ?? 0;
    checks.push(
      opt43('structure', 'sub-option layout', 'fail', `${walk.error.message} (${data.length} bytes in all; Cisco IOS cuts "option 43 hex" at 90 bytes: use "option ext")`, { bytes: data.subarray(at), offset: at }),
    );
    return { checks };
  }
  const { subOptions, endMarker, trailing } = walk.value;
  checks.push(opt43('present', '(MS-UC-Client)', 'pass', `${data.length} bytes, ${subOptions.length} sub-options`));

  if (endMarker) {
    const at = data.length - trailing.length - 1;
    checks.push(
      opt43('end', 'end marker', 'fail', `0xFF end marker at offset ${at}${trailing.length > 0 ? ` followed by ${trailing.length} more bytes` : ''}: the phone's parser expects none (DHCPUtil sends none; dnsmasq appends one)`, { bytes: data.subarray(at), offset: at }),
    );
  } else {
    checks.push(opt43('end', 'end marker', 'pass', 'no 0xFF end marker'));
  }

  const used = subOptions.reduce((n, s) => n + 2 + s.length, 0) + (endMarker ? 1 + trailing.length : 0);
  if (used !== data.length) {
    const firstPad = data.indexOf(0);
    checks.push(opt43('padding', 'padding', 'warn', `${data.length - used} pad bytes (0x00) between sub-options; DHCPUtil sends none`, { bytes: data.subarray(Math.max(0, firstPad), Math.max(0, firstPad) + 1), offset: Math.max(0, firstPad) }));
  }

  const codes = subOptions.map((s) => s.code);
  const dupes = codes.filter((c, i) => codes.indexOf(c) !== i);
  const unknown = codes.filter((c) => c < 1 || c > 5);
  const ascending = codes.every((c, i) => i === 0 || c > codes[i - 1]!);
  if (dupes.length > 0) {
    checks.push(opt43('order', 'sub-option order', 'fail', `sub-options in the order ${codes.join(',')}: ${[...new Set(dupes)].join(',')} repeated; the phone expects 1,2,3,4,5 once each`));
  } else if (!ascending) {
    checks.push(opt43('order', 'sub-option order', 'fail', `sub-options in the order ${codes.join(',')}; the phone expects 1,2,3,4,5 ascending (dnsmasq sends them reversed)`));
  } else if (unknown.length > 0) {
    checks.push(opt43('order', 'sub-option order', 'warn', `sub-options ${codes.join(',')}: ${unknown.join(',')} not known for MS-UC-Client`));
  } else {
    checks.push(opt43('order', 'sub-option order', 'pass', codes.join(',')));
  }

  const text: Record<number, string> = {};
  for (let code = 1; code <= 5; code++) {
    const title = `sub-option ${code} (${SUB_NAMES[code]})`;
    const sub = subOptions.find((s) => s.code === code);
    if (sub === undefined) {
      checks.push(opt43(`sub${code}`, title, 'fail', 'missing'));
      continue;
    }
    const excerpt = { bytes: tlvBytes(data, sub.offset, sub.length), offset: sub.offset };
    const bad = firstNonAscii(sub.data);
    if (code === 4) {
      const r = checkPort(sub.data);
      if (r === null) {
        text[4] = latin1(sub.data);
        checks.push(opt43('sub4', title, 'pass', `"${text[4]}"`));
      } else {
        checks.push(opt43('sub4', title, 'fail', r, excerpt));
      }
      continue;
    }
    if (sub.length === 0) {
      checks.push(opt43(`sub${code}`, title, 'fail', 'empty', excerpt));
      continue;
    }
    if (bad >= 0) {
      const what = sub.data[bad] === 0 ? (bad === sub.length - 1 ? 'a NUL terminator' : 'a NUL byte') : `byte 0x${sub.data[bad]!.toString(16).padStart(2, '0')}`;
      checks.push(opt43(`sub${code}`, title, 'fail', `${what} at value offset ${bad}: the phone wants printable ASCII without NUL`, excerpt));
      continue;
    }
    const value = latin1(sub.data);
    let problem: { status: 'warn' | 'fail'; why: string } | null = null;
    if (code === 1 && value !== MS_UC_CLIENT) {
      problem = { status: 'fail', why: `"${value}" is not exactly "${MS_UC_CLIENT}" (case-sensitive)` };
    } else if (code === 2 && value !== 'https') {
      problem = value === 'http' ? { status: 'warn', why: '"http": Certificate Provisioning normally runs over https' } : { status: 'fail', why: `"${value}" is not a URL scheme the phone can use (https)` };
    } else if (code === 3 && !isFqdn(value)) {
      problem = { status: 'fail', why: `"${value}" is not a fully qualified domain name (the web services FQDN of the pool)` };
    } else if (code === 5 && !value.startsWith('/')) {
      problem = { status: 'fail', why: `"${value}" does not start with "/": the phone appends it right after the port` };
    }
    if (problem === null) {
      text[code] = value;
      checks.push(opt43(`sub${code}`, title, 'pass', `"${value}"`));
    } else {
      if (problem.status === 'warn') text[code] = value;
      checks.push(opt43(`sub${code}`, title, problem.status, problem.why, excerpt));
    }
  }

  const result: Option43Result = { checks };
  if (text[3] !== undefined) result.webFqdn = text[3];
  if (text[2] !== undefined && text[3] !== undefined && text[4] !== undefined && text[5] !== undefined) {
    result.certProvUrl = `${text[2]}://${text[3]}:${text[4]}${text[5]}`;
    checks.push(opt43('url', 'Certificate Provisioning URL', 'pass', result.certProvUrl));
  } else {
    checks.push(opt43('url', 'Certificate Provisioning URL', 'fail', 'cannot be built from sub-options 2..5 (see above): no PIN sign-in'));
  }
  return result;
}

/** null when the port is ASCII digits 1..65535; else why not. */
function checkPort(data: Uint8Array): string | null {
  if (data.length === 0) return 'empty';
  if (isPrintableAscii(data) && /^[0-9]{1,5}$/.test(latin1(data))) {
    const n = Number(latin1(data));
    return n >= 1 && n <= 65535 ? null : `"${latin1(data)}" is not a port number 1..65535`;
  }
  if (data.length === 2) {
    const n = (data[0]! << 8) | data[1]!;
    const ascii = Array.from(String(n), (c) => c.charCodeAt(0).toString(16)).join(' ');
    return `${hex(data)} is the 16-bit integer ${n}, not ASCII text: the phone wants "${n}" as ${ascii} (dnsmasq sends an unquoted port this way: write vendor:MS-UC-Client,4,"${n}")`;
  }
  return `${hex(data)} is not ASCII digits: the phone wants the port as text, "443" = 34 34 33`;
}

export interface Option120Result {
  checks: Check[];
  names: string[];
}

/**
 * RFC 3361: encoding 0 + RFC 1035 names. Lync needs an FQDN (TLS), not
 * addresses; DHCPUtil writes one uncompressed name, and whether the phone
 * accepts compression or several names is unknown (docs/lpe-facts.md §Option 120 [U]): warnings.
 */
export function checkOption120(data: Uint8Array | undefined): Option120Result {
  const c = (status: Check['status'], detail: string, extra?: { bytes?: Uint8Array; offset?: number }): Check =>
    check('options', 'opt120', 'option 120 (SIP server)', status, detail, extra);
  if (data === undefined) {
    return { checks: [c('fail', 'not in the reply: the phone learns no Lync pool FQDN from DHCP')], names: [] };
  }
  if (data.length === 0) return { checks: [c('fail', 'empty: no encoding byte')], names: [] };
  const enc = data[0]!;
  if (enc === 1) {
    return { checks: [c('fail', `encoding 1 (IPv4 addresses, ${Math.floor((data.length - 1) / 4)}): Lync needs encoding 0 with the pool FQDN, TLS cannot use addresses`, { bytes: data.subarray(0, 1), offset: 0 })], names: [] };
  }
  if (enc !== 0) {
    const text = latin1(data);
    if (isPrintableAscii(data) && isValidDomainName(text)) {
      return {
        checks: [c('fail', `no encoding byte: the bare ASCII text "${text}" (a published script sends it this way); the phone wants 00 then RFC 1035 labels (length-prefixed, ending in 00)`, { bytes: data.subarray(0, Math.min(16, data.length)), offset: 0 })],
        names: [],
      };
    }
    return { checks: [c('fail', `encoding byte 0x${enc.toString(16).padStart(2, '0')} is neither 0 (names) nor 1 (addresses)`, { bytes: data.subarray(0, 1), offset: 0 })], names: [] };
  }
  if (data.length === 1) return { checks: [c('fail', 'encoding 0 with no name', { bytes: data, offset: 0 })], names: [] };
  const names: string[] = [];
  let compressed = false;
  let pos = 1;
  while (pos < data.length) {
    const r = decodeName(data, pos, { allowCompression: true, start: 1, end: data.length });
    if (!r.ok) {
      const at = r.error.offset ?? pos;
      return { checks: [c('fail', `name at offset ${pos}: ${r.error.message}`, { bytes: data.subarray(at), offset: at })], names };
    }
    names.push(r.value.name);
    compressed ||= r.value.compressed;
    pos = r.value.next;
  }
  const notFqdn = names.filter((n) => !isFqdn(n));
  if (notFqdn.length > 0) return { checks: [c('fail', `"${notFqdn[0]}" is not a fully qualified domain name`, { bytes: data, offset: 0 })], names };
  const notes: string[] = [];
  if (compressed) notes.push('uses compression pointers (DHCPUtil does not; whether the phone follows them is unknown)');
  if (names.length > 1) notes.push(`${names.length} names (DHCPUtil sends one; whether the phone tries more than the first is unknown)`);
  if (notes.length > 0) return { checks: [c('warn', `${names.join(', ')}: ${notes.join('; ')}`, { bytes: data, offset: 0 })], names };
  return { checks: [c('pass', `encoding 0, ${names[0]}`)], names };
}

export interface AddressListResult {
  checks: Check[];
  addresses: string[];
}

/** An RFC 2132 list of IPv4 addresses (3, 4, 6, 42). `missing` says how bad its absence is. */
export function checkAddressList(code: number, title: string, data: Uint8Array | undefined, missing: { status: Check['status']; why: string }): AddressListResult {
  const id = `opt${code}`;
  const t = `option ${code} (${title})`;
  if (data === undefined) return { checks: [check('options', id, t, missing.status, `not in the reply: ${missing.why}`)], addresses: [] };
  if (data.length === 0 || data.length % 4 !== 0) {
    return { checks: [check('options', id, t, 'fail', `${data.length} bytes: not a list of 4-byte addresses`, { bytes: data, offset: 0 })], addresses: [] };
  }
  const addresses: string[] = [];
  for (let p = 0; p < data.length; p += 4) addresses.push(readIp(data, p));
  return { checks: [check('options', id, t, 'pass', addresses.join(', '))], addresses };
}

export interface DomainResult {
  checks: Check[];
  /** Option 15 first, then each option 119 name, without duplicates: the suffixes the phone tries. */
  domains: string[];
}

/** Options 15 and 119: the suffixes for ucupdates-r2 and the SRV look-ups. */
export function checkDomains(opt15: Uint8Array | undefined, opt119: Uint8Array | undefined): DomainResult {
  const checks: Check[] = [];
  const domains: string[] = [];
  const add = (d: string): void => {
    const name = d.replace(/\.$/, '');
    if (name !== '' && !domains.some((x) => x.toLowerCase() === name.toLowerCase())) domains.push(name);
  };
  if (opt15 === undefined) {
    checks.push(check('options', 'opt15', 'option 15 (domain name)', opt119 === undefined ? 'fail' : 'warn', opt119 === undefined ? 'not in the reply, nor option 119: the phone has no domain to look up ucupdates-r2.<domain> in' : 'not in the reply: the phone uses the option 119 domains only'));
  } else {
    // RFC 2132 §2: trailing NULs may be dropped by the receiver; some servers send one.
    let end = opt15.length;
    while (end > 0 && opt15[end - 1] === 0) end--;
    const body = opt15.subarray(0, end);
    const value = latin1(body);
    if (end === 0 || !isPrintableAscii(body) || !isValidDomainName(value)) {
      checks.push(check('options', 'opt15', 'option 15 (domain name)', 'fail', `${JSON.stringify(latin1(opt15))} is not a domain name`, { bytes: opt15, offset: 0 }));
    } else if (end < opt15.length) {
      add(value);
      checks.push(check('options', 'opt15', 'option 15 (domain name)', 'warn', `"${value}" with ${opt15.length - end} trailing NUL byte(s)`, { bytes: opt15.subarray(end), offset: end }));
    } else {
      add(value);
      checks.push(check('options', 'opt15', 'option 15 (domain name)', 'pass', value));
    }
  }
  if (opt119 !== undefined) {
    const r = decodeSearchList(opt119);
    if (!r.ok) {
      const at = r.error.offset ?? 0;
      checks.push(check('options', 'opt119', 'option 119 (domain search)', 'fail', r.error.message, { bytes: opt119.subarray(at, at + 32), offset: at }));
    } else {
      for (const d of r.value) add(d);
      checks.push(check('options', 'opt119', 'option 119 (domain search)', 'pass', r.value.join(', ')));
    }
  } else {
    checks.push(check('options', 'opt119', 'option 119 (domain search)', 'warn', 'not in the reply: the phone tries ucupdates-r2 only under the option 15 domain'));
  }
  return { checks, domains };
}

export interface ReplyFacts {
  dnsServers: string[];
  domains: string[];
  ntpServers: string[];
  timeServers: string[];
  webFqdn?: string;
  certProvUrl?: string;
  sipServers: string[];
  /** Option 120 carries a usable FQDN: SIP SRV records are then only a fallback. */
  has120: boolean;
}

/** Every option check on the reply the phone acts on (the ACK), in checklist order. */
export function checkReplyOptions(opts: ReadonlyMap<number, Uint8Array>, after: 'ack' | 'inform'): { checks: Check[]; facts: ReplyFacts } {
  const inform = after === 'inform';
  const notForInform = { status: 'skip' as const, why: 'not needed after an INFORM' };
  const checks: Check[] = [];
  checks.push(...checkAddressList(1, 'subnet mask', opts.get(1), inform ? notForInform : { status: 'warn', why: 'the phone would guess a classful mask' }).checks);
  checks.push(...checkAddressList(3, 'router', opts.get(3), inform ? notForInform : { status: 'warn', why: 'no default gateway: fine only if Lync is on this subnet' }).checks);
  const dns = checkAddressList(6, 'DNS servers', opts.get(6), { status: 'fail', why: 'the phone cannot look up ucupdates-r2, time or Lync names' });
  checks.push(...dns.checks);
  const dom = checkDomains(opts.get(15), opts.get(119));
  checks.push(...dom.checks);
  const ntp42 = checkAddressList(42, 'NTP servers', opts.get(42), { status: 'warn', why: 'the phone must find time through DNS (_ntp._udp SRV, time.windows.com)' });
  const ntp4 = checkAddressList(4, 'time servers', opts.get(4), { status: 'warn', why: 'sources disagree whether the phone reads 42 or 4: send both' });
  checks.push(...ntp42.checks, ...ntp4.checks);
  const o43 = checkOption43(opts.get(43));
  checks.push(...o43.checks);
  const o120 = checkOption120(opts.get(120));
  checks.push(...o120.checks);
  const facts: ReplyFacts = {
    dnsServers: dns.addresses,
    domains: dom.domains,
    ntpServers: ntp42.addresses,
    timeServers: ntp4.addresses,
    sipServers: o120.names,
    has120: o120.names.length > 0 && o120.checks.every((c) => c.status !== 'fail'),
  };
  if (o43.webFqdn !== undefined) facts.webFqdn = o43.webFqdn;
  if (o43.certProvUrl !== undefined) facts.certProvUrl = o43.certProvUrl;
  return { checks, facts };
}
