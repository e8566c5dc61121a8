// `provlab explain`: what a Lync Phone Edition "Last Update Status" code such
// as 0x2F0D/0 means and what to check on the provisioning VLAN. The codes are
// WinINet/WinHTTP error constants (Microsoft's headers); which failure on the
// VLAN produces which code comes from docs/seed-article.md and docs/lpe-facts.md, and
// is marked as inference where no report confirms it.

import { fail, ok, type Result } from '../wire/result.js';

export interface StatusCodeEntry {
  /** Win32 error number, e.g. 12045. */
  code: number;
  /** The constant's names in WinINet and WinHTTP (the phone's own reading first where known). */
  names: string[];
  meaning: string;
  /** Where the phone-side reading comes from. */
  source: string;
  /** What to check on the VLAN, most likely first. */
  checks: string[];
}

const SEEN = 'constant from Microsoft\'s WinINet/WinHTTP headers; reported by Lync Phone Edition phones (docs/seed-article.md, docs/lpe-facts.md)';
const LISTED = 'constant from Microsoft\'s WinINet/WinHTTP headers, listed in docs/lpe-facts.md; which VLAN fault makes the phone report it is inferred';
const INFERRED = 'constant from Microsoft\'s WinINet/WinHTTP headers, not in docs/lpe-facts.md; what it means for a phone update is inferred, not reported';

const CERT_CHECK = 'run `provlab cert check` on the web services certificate';

export const STATUS_CODES: readonly StatusCodeEntry[] = [
  {
    code: 12045,
    names: ['ERROR_INTERNET_INVALID_CA', 'ERROR_WINHTTP_SECURE_INVALID_CA'],
    meaning: 'the server\'s certificate chains to a root CA the phone does not trust',
    source: SEEN,
    checks: [
      'The phone trusts only the root it fetched from the Certificate Provisioning service (GetRootCertChains) during a PIN sign-in attempt. Start a PIN sign-in (a made-up extension and PIN are enough), let it fail, press Back until the Welcome screen and leave the phone alone: the update starts within minutes.',
      'PIN sign-in needs options 43 and 120 in the answer to the phone\'s DHCPINFORM with vendor class MS-UC-Client: check them with `provlab decode --pcap CAPTURE` or `provlab probe`; the Certificate Provisioning URL built from option 43 must answer over https.',
      `The web services certificate must chain to the internal (AD Enterprise) CA root that CertProv hands out; a public CA will not issue the short name ucupdates-r2: ${CERT_CHECK}.`,
      'With /200 after the code (reported when a load balancer passed https but not http): firmware downloads inside the network use plain http on port 80; check that the load balancer or reverse proxy forwards http too.',
    ],
  },
  {
    code: 12002,
    names: ['ERROR_INTERNET_TIMEOUT', 'ERROR_WINHTTP_TIMEOUT'],
    meaning: 'the request to the update web server timed out',
    source: SEEN,
    checks: [
      'From the phone\'s VLAN, the address of ucupdates-r2.<domain> (and the pool\'s web services) must be reachable on TCP 443 and 80: routing, ACLs, firewalls.',
      'Firmware files are downloaded over plain http inside the network (https only for external phones through the reverse proxy): port 80 must be open and served.',
      'In the web server\'s logs (DeviceUpdateLogs, IIS), the phone\'s update request should be followed by a GET for the CPE.nbt file; no GET means the phone never started the download.',
    ],
  },
  {
    code: 12038,
    names: ['ERROR_INTERNET_SEC_CERT_CN_INVALID', 'ERROR_WINHTTP_SECURE_CERT_CN_INVALID'],
    meaning: 'the certificate does not carry the name the phone connected with',
    source: LISTED,
    checks: [
      `The certificate on the web services must list both ucupdates-r2 (the short name: the phone connects with it) and ucupdates-r2.<domain> in its Subject Alternative Name: ${CERT_CHECK}.`,
      'The domain is the one DHCP gives (option 15 and each option 119 domain, the AD domain rather than the SIP domain): the certificate needs ucupdates-r2.<that domain>.',
    ],
  },
  {
    code: 12037,
    names: ['ERROR_INTERNET_SEC_CERT_DATE_INVALID', 'ERROR_WINHTTP_SECURE_CERT_DATE_INVALID'],
    meaning: 'the certificate is expired or not yet valid by the phone\'s clock',
    source: LISTED,
    checks: [
      'The phone\'s clock: without a time source it cannot do TLS. It looks up SRV _ntp._udp.<domain>, uses DHCP option 42 (send option 4 too), and falls back to the A record time.windows.com; `provlab probe` checks DNS and queries NTP.',
      'The NTP server must answer client requests (mode 3) with real time (mode 4, origin timestamp copied byte for byte).',
      `The certificate's validity dates: ${CERT_CHECK}.`,
    ],
  },
  {
    code: 12007,
    names: ['ERROR_INTERNET_NAME_NOT_RESOLVED', 'ERROR_WINHTTP_NAME_NOT_RESOLVED'],
    meaning: 'the phone could not resolve the server\'s name in DNS',
    source: LISTED,
    checks: [
      'DNS must have an A record ucupdates-r2.<domain> for the option 15 domain and each option 119 domain: the AD domain given by DHCP, not the SIP domain.',
      'DHCP must give option 15 (domain name) and option 6 (DNS servers) that answer for that domain: `provlab decode --pcap` shows them, `provlab probe` asks DNS as the phone does.',
    ],
  },
  {
    code: 12029,
    names: ['ERROR_INTERNET_CANNOT_CONNECT', 'ERROR_WINHTTP_CANNOT_CONNECT'],
    meaning: 'the name resolved, but the TCP connection to the server failed',
    source: LISTED,
    checks: [
      'The A record ucupdates-r2.<domain> must point at the pool\'s web services (or the load balancer address in front of them).',
      'TCP 443 (update request, CertProv) and 80 (firmware download) must be open from the phone\'s VLAN, and the web services must listen on them.',
    ],
  },
  {
    code: 12030,
    names: ['ERROR_INTERNET_CONNECTION_ABORTED', 'ERROR_WINHTTP_CONNECTION_ERROR'],
    meaning: 'the connection was dropped, often during the TLS handshake',
    source: INFERRED,
    checks: ['A load balancer or proxy between the VLAN and the web services closing the connection; TLS settings the old phone cannot meet (protocol versions, ciphers).'],
  },
  {
    code: 12031,
    names: ['ERROR_INTERNET_CONNECTION_RESET'],
    meaning: 'the server or a device in between reset the connection',
    source: INFERRED,
    checks: ['Firewalls or load balancers resetting TCP 443/80 from the phone\'s VLAN; the web services\' TLS settings.'],
  },
  {
    code: 12044,
    names: ['ERROR_INTERNET_CLIENT_AUTH_CERT_NEEDED', 'ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED'],
    meaning: 'the server asked for a client certificate',
    source: INFERRED,
    checks: ['The web site the phone reaches must not require client certificates (IIS SSL settings on the internal web services site).'],
  },
  {
    code: 12057,
    names: ['ERROR_INTERNET_SEC_CERT_REV_FAILED', 'ERROR_WINHTTP_SECURE_CERT_REV_FAILED'],
    meaning: 'the revocation status of the certificate could not be checked',
    source: INFERRED,
    checks: [`The CRL distribution points in the certificate chain must be reachable (over http) from the phone's VLAN: ${CERT_CHECK}.`],
  },
  {
    code: 12157,
    names: ['ERROR_INTERNET_SECURITY_CHANNEL_ERROR'],
    meaning: 'the TLS channel could not be set up',
    source: INFERRED,
    checks: ['TLS protocol versions and cipher suites the phone supports must be enabled on the web services (and any load balancer that ends TLS).'],
  },
  {
    code: 12175,
    names: ['ERROR_WINHTTP_SECURE_FAILURE', 'ERROR_INTERNET_DECODING_FAILED'],
    meaning: 'WinHTTP: one or more errors were found in the server\'s certificate (the same number is ERROR_INTERNET_DECODING_FAILED in WinINet)',
    source: INFERRED,
    checks: [`Chain, names and dates of the web services certificate: ${CERT_CHECK}.`],
  },
];

const byCode = new Map(STATUS_CODES.map((e) => [e.code, e]));
const byName = new Map(STATUS_CODES.flatMap((e) => e.names.map((n) => [n, e] as const)));

export interface ParsedStatus {
  /** The Win32 error number (low 16 bits of an HRESULT). */
  code: number;
  /** The number after the slash ("0x2F0D/0" → 0), or null. */
  detail: number | null;
  /** True when given as an HRESULT such as 0x80072F0D. */
  hresult: boolean;
}

function parseNumber(s: string): number | undefined {
  if (/^0x[0-9a-f]{1,8}$/i.test(s)) return parseInt(s.slice(2), 16);
  if (/^[0-9]{1,10}$/.test(s)) return Number(s);
  // The phone shows hex without 0x ("2f0d/0" when typed from memory): letters make it hex.
  if (/^[0-9a-f]{1,8}$/i.test(s) && /[a-f]/i.test(s)) return parseInt(s, 16);
  return undefined;
}

/** "0x2F0D/0", "0x2F0D", "2f0d", "12045", "(0x2ee2/0)", "0x80072F0D", "ERROR_INTERNET_INVALID_CA". */
export function parseStatusCode(text: string): Result<ParsedStatus> {
  const s = text.trim().replace(/^[("'[]+|[)"'\]]+$/g, '').trim();
  if (s === '') return fail('empty', 'no code given');
  const named = byName.get(s.toUpperCase());
  if (named) return ok({ code: named.code, detail: null, hresult: false });
  const [main, detail, ...rest] = s.split('/').map((x) => x.trim());
  if (rest.length > 0) return fail('bad-code', `${JSON.stringify(text)} has more than one "/"`);
  const n = parseNumber(main ?? '');
  if (n === undefined || n > 0xffffffff) return fail('bad-code', `${JSON.stringify(main)} is not a number (try 0x2F0D/0, 0x2F0D or 12045)`);
  let d: number | null = null;
  if (detail !== undefined) {
    const dn = /^[0-9]+$/.test(detail) ? Number(detail) : parseNumber(detail);
    if (dn === undefined) return fail('bad-code', `${JSON.stringify(detail)} after the "/" is not a number`);
    d = dn;
  }
  // HRESULT_FROM_WIN32: severity bit, facility 7 (Win32), the error in the low 16 bits.
  if ((n & 0xffff0000) >>> 0 === 0x80070000) return ok({ code: n & 0xffff, detail: d, hresult: true });
  return ok({ code: n, detail: d, hresult: false });
}

export interface Explanation {
  input: string;
  code: number;
  /** "0x2F0D". */
  hex: string;
  detail: number | null;
  hresult: boolean;
  known: boolean;
  entry: StatusCodeEntry | null;
  notes: string[];
}

const hex4 = (n: number): string => `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;

/** Fails only when the text is not a code at all (exit 2); an unknown number gives known: false (exit 1). */
export function explainStatus(text: string): Result<Explanation> {
  const p = parseStatusCode(text);
  if (!p.ok) return p;
  const { code, detail, hresult } = p.value;
  const entry = byCode.get(code) ?? null;
  const notes: string[] = [];
  if (hresult) notes.push(`given as the HRESULT 0x8007${code.toString(16).toUpperCase().padStart(4, '0')}: the Win32 error is its low 16 bits`);
  if (detail !== null) notes.push(detail === 0 ? 'the number after the slash is 0, as in most reports' : `the number after the slash is ${detail}; its meaning is not documented${detail >= 100 && detail <= 599 ? ' (it looks like an HTTP status)' : ''}`);
  if (entry === null) {
    notes.push(code >= 12000 && code < 12200 ? `${code} is in the WinINet/WinHTTP range (12000-12199) but provlab has no explanation for it: look it up in Microsoft's WinINet error list` : `provlab does not know this code`);
  }
  return ok({ input: text, code, hex: hex4(code), detail, hresult, known: entry !== null, entry, notes });
}

export function renderExplanation(e: Explanation): string[] {
  const out: string[] = [];
  const head = `${e.hex}${e.detail !== null ? `/${e.detail}` : ''} = ${e.code}`;
  if (e.entry === null) {
    out.push(`${head}: unknown code`);
    for (const n of e.notes) out.push(`  ${n}`);
    return out;
  }
  out.push(`${head} = ${e.entry.names.join(' / ')}`);
  out.push(`  ${e.entry.meaning}`);
  for (const n of e.notes) out.push(`  note: ${n}`);
  out.push('  check on the VLAN:');
  e.entry.checks.forEach((c, i) => out.push(`  ${i + 1}. ${c}`));
  out.push(`  (${e.entry.source})`);
  return out;
}
