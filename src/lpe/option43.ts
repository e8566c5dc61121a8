// Option 43 for vendor class MS-UC-Client, judged against the known-good form
// (docs/lpe-facts.md, DHCPUtil's output decoded byte by byte): RFC 2132 §8.4 TLVs 1..5,
// ascending, each once, ASCII without NUL, port as ASCII digits, no pad and no
// 0xFF. What is known to break a phone is an error; a deviation whose effect on
// the phone is not known (order, end marker, pad) is a warning: see README.md.

import { isValidDomainName } from '../wire/rfc1035-names.js';
import { MS_UC_CLIENT, msUcSubOptionName } from '../wire/ms-uc-client.js';
import { walkEncapsulated, type EncapsulatedWalk, type SubOption } from '../wire/rfc2132-encapsulated.js';
import { hex, latin1, latin1Bytes } from '../wire/bytes.js';
import { finding, type Finding } from './findings.js';
import { escapeText, firstNonPrintable, quoteText } from './text.js';

export const DEFAULT_CERTPROV_PATH = '/CertProv/CertProvisioningService.svc';
/** Cisco IOS 15.1(3)S and later cut `option 43 hex` to this many bytes (docs/lpe-facts.md). */
export const IOS_CUT = 90;

export interface Option43Reading {
  /** The bytes were read with the MS-UC-Client layout (vendor class MS-UC-Client, or not given). */
  msUc: boolean;
  walk: EncapsulatedWalk;
  findings: Finding[];
  /** Text of the sub-options 1..5 present and not cut, whether usable or not. */
  text: ReadonlyMap<number, string>;
  /** Sub-option 3 when no error was found in it: the name the phone resolves. */
  webFqdn: string | null;
  /** `<2>://<3>:<4><5>` when 2..5 are present and not cut, byte for byte (escapeText it for printing). */
  certProvUrl: string | null;
  /** The URL when no error was found in 2..5: what a phone would really fetch. */
  usableCertProvUrl: string | null;
  /**
   * True when the bytes are exactly the sub-options in ascending code order,
   * each once, with no pad, no cut and no 0xFF: the only form a server that
   * stores sub-options by code (Kea, dhcpd, Windows) reproduces.
   */
  canonical: boolean;
}

const label = (code: number): string => `sub-option ${code}${msUcSubOptionName(code) ? ` ${msUcSubOptionName(code)}` : ''}`;

/** Null when the value is printable ASCII; else the finding that says which byte is not. */
function asciiFinding(s: SubOption): Finding | null {
  const bad = firstNonPrintable(s.data);
  if (bad < 0) return null;
  const at = s.offset + 2 + bad;
  if (s.data[bad] === 0 && s.data.subarray(bad).every((x) => x === 0)) {
    return finding('error', 'nul-terminator', `${label(s.code)} ends with a NUL byte: the phone takes the value as is (no NUL terminator in the known-good form), so the NUL ends up inside the URL`, at, s.data.length - bad);
  }
  return finding('error', 'non-ascii', `${label(s.code)} holds byte 0x${s.data[bad]!.toString(16).padStart(2, '0')}, which is not printable ASCII: the phone builds a URL from these values`, at, 1);
}

/** The findings on one sub-option's value (1..5). */
function valueFindings(s: SubOption): Finding[] {
  const text = latin1(s.data);
  const at = s.offset + 2;
  switch (s.code) {
    case 1: {
      if (text === MS_UC_CLIENT) return [];
      const hint = text.toLowerCase() === MS_UC_CLIENT.toLowerCase() ? ' (only the letter case differs, and Microsoft treats the vendor class as case-sensitive)' : text.replace(/\0+$/, '') === MS_UC_CLIENT ? ' (a NUL terminator follows it)' : '';
      return [finding('error', 'uc-identifier', `sub-option 1 UCIdentifier is ${quoteText(s.data)}, not exactly "MS-UC-Client"${hint}`, at, s.length)];
    }
    case 2: {
      const bad = asciiFinding(s);
      if (bad) return [bad];
      if (text === 'https') return [];
      if (text.toLowerCase() === 'https') return [finding('warning', 'url-scheme', `sub-option 2 URLScheme is ${quoteText(s.data)}; every known-good server sends "https" in lower case`, at, s.length)];
      if (text.toLowerCase() === 'http') return [finding('warning', 'url-scheme', 'sub-option 2 URLScheme is "http": the Certificate Provisioning service is normally reached over https', at, s.length)];
      return [finding('error', 'url-scheme', `sub-option 2 URLScheme is ${quoteText(s.data)}, not a scheme the phone can use ("https")`, at, s.length)];
    }
    case 3: {
      const bad = asciiFinding(s);
      if (bad) return [bad];
      if (!isValidDomainName(text)) return [finding('error', 'bad-fqdn', `sub-option 3 WebServerFqdn ${quoteText(s.data)} is not a valid DNS name (the web services FQDN of the pool)`, at, s.length)];
      if (text.endsWith('.')) return [finding('warning', 'fqdn-trailing-dot', 'sub-option 3 WebServerFqdn ends with a dot; the URL and the TLS name check would carry it', at, s.length)];
      if (!text.includes('.')) return [finding('warning', 'short-name', `sub-option 3 WebServerFqdn "${text}" is a single label, not an FQDN: the phone resolves it through DNS and checks it against the certificate`, at, s.length)];
      return [];
    }
    case 4: {
      if (/^[0-9]{1,5}$/.test(text)) {
        const port = Number(text);
        if (port < 1 || port > 65535) return [finding('error', 'bad-port', `sub-option 4 WebServerPort "${text}" is not a port number (1..65535)`, at, s.length)];
        return port === 443 ? [] : [finding('info', 'port', `sub-option 4 WebServerPort is ${port}; Lync web services listen on 443 unless changed`, at, s.length)];
      }
      if (s.data.length === 2) {
        const n = (s.data[0]! << 8) | s.data[1]!;
        const ascii = hex(latin1Bytes(String(n)), ' ');
        return [finding('error', 'port-binary', `sub-option 4 WebServerPort is ${n} sent as a 16-bit integer, as dnsmasq does without quotes: ${hex(s.data, ' ')} where the phone wants the ASCII text "${n}" (${ascii}); quote it in dnsmasq (vendor:MS-UC-Client,4,"${n}")`, at, s.length)];
      }
      if (s.data.length === 1 && s.data[0]! < 0x30) {
        return [finding('error', 'port-binary', `sub-option 4 WebServerPort is the number ${s.data[0]} sent as a single byte; the phone wants ASCII digits such as "443" (34 34 33)`, at, s.length)];
      }
      return [finding('error', 'port-not-digits', `sub-option 4 WebServerPort is ${quoteText(s.data)}, not ASCII digits such as "443" (34 34 33)`, at, s.length)];
    }
    case 5: {
      const bad = asciiFinding(s);
      if (bad) return [bad];
      if (!text.startsWith('/')) return [finding('error', 'path-no-slash', `sub-option 5 CertProvRelPath ${quoteText(s.data)} does not start with "/": the phone appends it right after the port, giving ":443${escapeText(text)}"`, at, s.length)];
      return text === DEFAULT_CERTPROV_PATH ? [] : [finding('info', 'path-unusual', `sub-option 5 CertProvRelPath is not Lync's ${DEFAULT_CERTPROV_PATH}`, at, s.length)];
    }
    default:
      return [];
  }
}

function layoutFindings(v: Uint8Array, w: EncapsulatedWalk): Finding[] {
  const out: Finding[] = [];
  for (const p of w.pads) out.push(finding('warning', 'pad', `pad byte${p.length === 1 ? '' : 's'} between sub-options; the known-good form (DHCPUtil) has none`, p.offset, p.length));
  if (w.cut !== null) {
    const { offset, code, declared } = w.cut;
    let message =
      declared === undefined
        ? `${label(code)} has no length byte: the option was cut after its code`
        : `${label(code)} declares ${declared} bytes but only ${v.length - offset - 2} remain: the option was cut (the full value would be at least ${offset + 2 + declared} bytes, not ${v.length})`;
    if (v.length === IOS_CUT) message += `. It is exactly ${IOS_CUT} bytes: Cisco IOS 15.1(3)S and later cut \`option 43 hex\` at ${IOS_CUT} bytes (any web FQDN over 23 characters) and the phone never offers PIN sign-in; configure the option with \`option ext\` instead`;
    out.push(finding('error', 'truncated-sub-option', message, offset, v.length - offset));
  }
  if (w.end !== null) {
    out.push(finding('warning', 'end-marker', 'option 43 ends with a 0xFF end marker, as dnsmasq appends; DHCPUtil and Windows send none, and whether the phone tolerates it is not known', w.end, 1));
    if (w.trailing.length > 0) out.push(finding('warning', 'bytes-after-end', `${w.trailing.length} byte${w.trailing.length === 1 ? '' : 's'} after the 0xFF end marker`, w.end + 1, w.trailing.length));
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Reads option 43 and judges it. `vendorClass` is the client's option 60 when
 * known: the layout of 43 depends on it, and for another vendor only a cut is
 * worth a word (PXE ends its sub-options with 0xFF, for one).
 */
export function readOption43(v: Uint8Array, ctx: { vendorClass?: string | undefined } = {}): Option43Reading {
  const vendorClass = ctx.vendorClass?.replace(/\0+$/, '');
  const msUc = vendorClass === undefined || vendorClass === MS_UC_CLIENT;
  const w = walkEncapsulated(v);
  const subs = w.subOptions;
  const codes = subs.map((s) => s.code);
  const unique = new Set(codes).size === codes.length;
  const ascending = codes.every((c, i) => i === 0 || c > codes[i - 1]!);
  const canonical = w.cut === null && w.end === null && w.pads.length === 0 && unique && ascending;
  const reading: Option43Reading = { msUc, walk: w, findings: [], text: new Map(), webFqdn: null, certProvUrl: null, usableCertProvUrl: null, canonical };

  if (v.length === 0) {
    reading.findings.push(finding(msUc ? 'error' : 'warning', 'empty', 'option 43 is empty: the phone gets no Certificate Provisioning URL'));
    return reading;
  }
  const layout = layoutFindings(v, w);
  if (!msUc) {
    reading.findings.push(...layout.filter((f) => f.code === 'truncated-sub-option').map((f) => ({ ...f, severity: 'warning' as const })));
    reading.findings.push(finding('info', 'other-vendor', `the client's vendor class is ${JSON.stringify(vendorClass)}, not MS-UC-Client: sub-options shown without interpretation`));
    return reading;
  }
  const f = reading.findings;
  f.push(...layout);

  const text = new Map<number, string>();
  const bad = new Set<number>();
  const seen = new Map<number, SubOption>();
  for (const s of subs) {
    const first = seen.get(s.code);
    if (first !== undefined) {
      const same = sameBytes(first.data, s.data);
      f.push(finding(same ? 'warning' : 'error', 'duplicate-sub-option', `${label(s.code)} appears again at offset ${s.offset}${same ? ' with the same value' : ` with a different value (${quoteText(s.data)} after ${quoteText(first.data)}): which one the phone uses is unknown`}`, s.offset, 2 + s.length));
      if (!same) bad.add(s.code);
      continue;
    }
    seen.set(s.code, s);
    if (msUcSubOptionName(s.code) === undefined) {
      f.push(finding('warning', 'unknown-sub-option', `sub-option ${s.code} is not one of MS-UC-Client's five (1..5); the phone ignores it at best`, s.offset, 2 + s.length));
      continue;
    }
    text.set(s.code, latin1(s.data));
    const vf = valueFindings(s);
    if (vf.some((x) => x.severity === 'error')) bad.add(s.code);
    f.push(...vf);
  }

  const known = codes.filter((c) => msUcSubOptionName(c) !== undefined);
  if (!known.every((c, i) => i === 0 || c >= known[i - 1]!)) {
    const descending = known.length > 1 && known.every((c, i) => i === 0 || c < known[i - 1]!);
    const at = subs.find((s, i) => i > 0 && s.code < subs[i - 1]!.code)?.offset;
    f.push(finding('warning', 'order', `sub-options come in the order ${known.join(', ')}${descending ? ' (reversed, as dnsmasq sends them)' : ''}; the known-good form has them ascending 1..5, and whether the phone accepts another order is not known`, at));
  }
  const cutCode = w.cut?.code;
  const missing = [1, 2, 3, 4, 5].filter((c) => !seen.has(c) && c !== cutCode);
  if (missing.length > 0) {
    const list = missing.map((m) => `${m} ${msUcSubOptionName(m)}`).join(', ');
    const url = missing.some((m) => m !== 1) ? ': the phone cannot build its Certificate Provisioning URL' : ' (every known-good server sends it)';
    f.push(finding('error', 'missing-sub-option', `sub-option${missing.length === 1 ? '' : 's'} ${list} ${missing.length === 1 ? 'is' : 'are'} missing${url}`));
  }

  reading.text = text;
  const fqdn = text.get(3);
  if (fqdn !== undefined && !bad.has(3)) reading.webFqdn = fqdn;
  const [scheme, port, path] = [text.get(2), text.get(4), text.get(5)];
  if (scheme !== undefined && fqdn !== undefined && port !== undefined && path !== undefined) {
    reading.certProvUrl = `${scheme}://${fqdn}:${port}${path}`;
    if (![2, 3, 4, 5].some((c) => bad.has(c))) reading.usableCertProvUrl = reading.certProvUrl;
  }
  return reading;
}

/** A sentence naming how option 43 differs from the canonical form (for exports that must send raw bytes). */
export function describeNonCanonical43(r: Option43Reading): string {
  const codes = r.walk.subOptions.map((s) => s.code).join(', ');
  const how: string[] = [];
  if (r.walk.cut !== null) how.push('a sub-option cut short');
  if (r.walk.pads.length > 0) how.push('pad bytes');
  if (r.walk.end !== null) how.push('a 0xFF end marker');
  if (how.length === 0) how.push(`sub-options in the order ${codes}`);
  return `option 43 has ${how.join(', ')} (lync.option43 lab switches, or raw bytes in a class)`;
}
