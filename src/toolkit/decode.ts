// `provlab decode`: an annotated byte-by-byte reading of DHCP options 43
// (MS-UC-Client), 119, 120, 60 and 55, with every pitfall known to stop a Lync
// Phone Edition phone flagged (docs/lpe-facts.md). Pure: bytes or pasted hex in, a
// report out; no I/O. Built on the wire codecs, so what this tool accepts is
// what the daemon would have sent.

import { decodeEncapsulated, MS_UC_CLIENT, type SubOption } from '../wire/ms-uc-client.js';
import { decodeName, isValidDomainName } from '../wire/rfc1035-names.js';
import { decodeSipServers, encodeSipServers } from '../wire/rfc3361-sip.js';
import { decodeSearchList } from '../wire/rfc3397-search.js';
import { findOptionDef, findOptionDefByName } from '../wire/option-defs.js';
import { decodeOptionValue } from '../wire/option-codec.js';
import { readIp } from '../wire/ipv4.js';
import { fail, ok, type Result } from '../wire/result.js';
import { parseHex, toHex, type HexForm } from './hex-input.js';

export type Severity = 'error' | 'warning' | 'info';

/** One problem or remark. 'error' means a phone would fail with these bytes. */
export interface Finding {
  severity: Severity;
  /** Stable, machine-readable, e.g. 'truncated-sub-option', 'port-binary'. */
  code: string;
  message: string;
  /** Offset in the option value, when the finding is about one place. */
  offset?: number;
}

/** One line of the byte-by-byte dump: a byte range of the value and what it means. */
export interface DumpRow {
  /** Offset of the first byte in the option value (code and length excluded). */
  offset: number;
  length: number;
  /** The bytes, lower-case hex separated by spaces. */
  hex: string;
  /** Machine-readable role: 'sub-option-code', 'sub-option-length', 'sub-option-value', 'pad', 'end', 'trailing', 'encoding', 'label-length', 'label', 'pointer', 'root', 'address', 'text', 'code', 'value', 'undecoded'. */
  field: string;
  meaning: string;
}

export interface MsUcSubOptionReport {
  code: number;
  /** netsh name (UCIdentifier …) or null for a code outside 1..5. */
  name: string | null;
  offset: number;
  /** Declared length. */
  length: number;
  /** Bytes actually present (less than `length` when truncated). */
  hex: string;
  /** Latin-1 text of the bytes present. */
  text: string;
  truncated: boolean;
}

export type DecodedValue =
  | { kind: 'ms-uc-client'; subOptions: MsUcSubOptionReport[]; endMarker: boolean; certProvUrl: string | null }
  | { kind: 'encapsulated'; vendorClass: string | null; subOptions: { code: number; offset: number; length: number; hex: string; text: string }[] }
  | { kind: 'sip-servers'; encoding: number | null; names: string[]; addresses: string[] }
  | { kind: 'domain-search'; names: string[]; updateLookups: string[] }
  | { kind: 'vendor-class'; text: string }
  | { kind: 'parameter-request-list'; codes: { code: number; name: string | null }[] }
  | { kind: 'generic'; type: string; text: string };

export type Status = 'ok' | 'warning' | 'error';

export interface InputInfo {
  /** How the pasted text was read (hex-input.ts). */
  hexForm: HexForm;
  hexFormDescription: string;
  /** value: the bytes are the value only; option: code + length + value; instances: several code + length pieces joined (RFC 3396). */
  form: 'value' | 'option' | 'instances';
  /** A sentence: which form was assumed and why. */
  assumed: string;
  /** Code/length bytes of the pasted option, offsets in the pasted bytes. */
  framing: DumpRow[];
}

export interface OptionReport {
  code: number;
  name: string;
  /** Present when the bytes came from pasted text, absent for a capture. */
  input?: InputInfo;
  /** Value length in bytes. */
  length: number;
  hex: string;
  rows: DumpRow[];
  decoded: DecodedValue;
  /** Lines worth reading after the dump, e.g. the Certificate Provisioning URL. */
  summary: string[];
  findings: Finding[];
  status: Status;
}

export interface DecodeContext {
  /** The client's option 60, when known: option 43's layout depends on it. */
  vendorClass?: string | undefined;
}

const MS_UC_NAMES: Record<number, string> = { 1: 'UCIdentifier', 2: 'URLScheme', 3: 'WebServerFqdn', 4: 'WebServerPort', 5: 'CertProvRelPath' };
const DEFAULT_CERTPROV_PATH = '/CertProv/CertProvisioningService.svc';
/** Cisco IOS 15.1(3)S and later cut `option 43 hex` to this many bytes (docs/lpe-facts.md §Option 43). */
const IOS_CUT = 90;

const hexOf = (b: Uint8Array): string => toHex(b, ' ');
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Text with control and non-ASCII bytes shown as \xNN, quoted. */
export function quoteText(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${s}"`;
}

/** The same escaping without quotes, for URLs. */
function escapeText(text: string): string {
  return quoteText(Buffer.from(text, 'latin1')).slice(1, -1).replace(/\\(["\\])/g, '$1');
}

function optionName(code: number): string {
  return findOptionDef(code)?.name ?? `option-${code}`;
}

class Collector {
  rows: DumpRow[] = [];
  findings: Finding[] = [];
  summary: string[] = [];
  constructor(private readonly value: Uint8Array) {}
  row(offset: number, length: number, field: string, meaning: string): void {
    this.rows.push({ offset, length, hex: hexOf(this.value.subarray(offset, offset + length)), field, meaning });
  }
  find(severity: Severity, code: string, message: string, offset?: number): void {
    this.findings.push(offset === undefined ? { severity, code, message } : { severity, code, message, offset });
  }
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Errors first, then warnings, then notes; by offset within each, findings about the whole value last. */
function sorted(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => RANK[a.severity] - RANK[b.severity] || (a.offset ?? Infinity) - (b.offset ?? Infinity));
}

function statusOf(findings: readonly Finding[]): Status {
  if (findings.some((f) => f.severity === 'error')) return 'error';
  if (findings.some((f) => f.severity === 'warning')) return 'warning';
  return 'ok';
}

// ---------------------------------------------------------------- option 43

function nonAsciiAt(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return i;
  return -1;
}

/** ASCII check shared by the text sub-options; returns true when clean. */
function checkAscii(c: Collector, s: SubOption, name: string): boolean {
  const bad = nonAsciiAt(s.data);
  if (bad < 0) return true;
  const at = s.offset + 2 + bad;
  if (s.data[bad] === 0 && s.data.subarray(bad).every((x) => x === 0)) {
    c.find('error', 'nul-terminator', `sub-option ${s.code} ${name} ends with a NUL byte: the phone takes the value as is (no NUL terminator in the known-good form), so the NUL ends up inside the URL`, at);
  } else {
    c.find('error', 'non-ascii', `sub-option ${s.code} ${name} holds byte 0x${s.data[bad]!.toString(16).padStart(2, '0')}, which is not printable ASCII: the phone builds a URL from these values`, at);
  }
  return false;
}

function checkMsUcValue(c: Collector, s: SubOption): void {
  const name = MS_UC_NAMES[s.code]!;
  const text = latin1(s.data);
  const at = s.offset + 2;
  switch (s.code) {
    case 1:
      if (text !== MS_UC_CLIENT) {
        const hint = text.toLowerCase() === MS_UC_CLIENT.toLowerCase() ? ' (only the letter case differs, and Microsoft treats the vendor class as case-sensitive)' : text.replace(/\0+$/, '') === MS_UC_CLIENT ? ' (a NUL terminator follows it)' : '';
        c.find('error', 'uc-identifier', `sub-option 1 UCIdentifier is ${quoteText(s.data)}, not exactly "MS-UC-Client"${hint}`, at);
      } else checkAscii(c, s, name);
      return;
    case 2:
      if (!checkAscii(c, s, name)) return;
      if (text === 'https') return;
      if (text.toLowerCase() === 'https') c.find('warning', 'url-scheme', `sub-option 2 URLScheme is ${quoteText(s.data)}; every known-good server sends "https" in lower case`, at);
      else if (text.toLowerCase() === 'http') c.find('warning', 'url-scheme', 'sub-option 2 URLScheme is "http": the Certificate Provisioning service is normally reached over https', at);
      else c.find('error', 'url-scheme', `sub-option 2 URLScheme is ${quoteText(s.data)}, not "https"`, at);
      return;
    case 3:
      if (!checkAscii(c, s, name)) return;
      if (!isValidDomainName(text)) c.find('error', 'bad-fqdn', `sub-option 3 WebServerFqdn ${quoteText(s.data)} is not a valid DNS name`, at);
      else if (text.endsWith('.')) c.find('warning', 'fqdn-trailing-dot', `sub-option 3 WebServerFqdn ends with a dot; the URL and the TLS name check would carry it`, at);
      else if (!text.includes('.')) c.find('warning', 'short-name', `sub-option 3 WebServerFqdn "${text}" is a single label, not an FQDN: the phone resolves it through DNS and checks it against the certificate`, at);
      return;
    case 4: {
      if (/^[0-9]{1,5}$/.test(text)) {
        const port = Number(text);
        if (port < 1 || port > 65535) c.find('error', 'bad-port', `sub-option 4 WebServerPort "${text}" is not a port number (1..65535)`, at);
        else if (port !== 443) c.find('info', 'port', `sub-option 4 WebServerPort is ${port}; Lync web services listen on 443 unless changed`, at);
        return;
      }
      if (s.data.length === 2) {
        const n = (s.data[0]! << 8) | s.data[1]!;
        const ascii = hexOf(Buffer.from(String(n), 'ascii'));
        c.find('error', 'port-binary', `sub-option 4 WebServerPort is ${n} sent as a 16-bit integer, as dnsmasq does without quotes: ${hexOf(s.data)} where the phone wants the ASCII text "${n}" (${ascii}); quote it in dnsmasq (vendor:MS-UC-Client,4,"${n}")`, at);
      } else if (s.data.length === 1 && s.data[0]! < 0x30) {
        c.find('error', 'port-binary', `sub-option 4 WebServerPort is the number ${s.data[0]} sent as a single byte; the phone wants ASCII digits such as "443" (34 34 33)`, at);
      } else {
        c.find('error', 'port-not-digits', `sub-option 4 WebServerPort is ${quoteText(s.data)}, not ASCII digits such as "443" (34 34 33)`, at);
      }
      return;
    }
    case 5:
      if (!checkAscii(c, s, name)) return;
      if (!text.startsWith('/')) c.find('error', 'path-no-slash', `sub-option 5 CertProvRelPath ${quoteText(s.data)} does not start with "/": the phone appends it right after the port, giving ":443${escapeText(text)}"`, at);
      else if (text !== DEFAULT_CERTPROV_PATH) c.find('info', 'path-unusual', `sub-option 5 CertProvRelPath is not Lync's ${DEFAULT_CERTPROV_PATH}`, at);
      return;
  }
}

function rowsForSubOption(c: Collector, v: Uint8Array, offset: number, code: number, declared: number | undefined, msUc: boolean): void {
  const name = msUc ? MS_UC_NAMES[code] : undefined;
  c.row(offset, 1, 'sub-option-code', `sub-option ${code}${name ? ` ${name}` : msUc ? ' (not an MS-UC-Client sub-option)' : ''}`);
  if (declared === undefined) return;
  const present = Math.max(0, Math.min(declared, v.length - offset - 2));
  c.row(offset + 1, 1, 'sub-option-length', present < declared ? `length ${declared}, but only ${present} byte${present === 1 ? '' : 's'} follow` : `length ${declared}`);
  if (present === 0) return;
  const data = v.subarray(offset + 2, offset + 2 + present);
  let meaning = quoteText(data);
  if (msUc && code === 4 && data.length === 2 && !/^[0-9]+$/.test(latin1(data))) meaning += ` = ${(data[0]! << 8) | data[1]!} as a 16-bit integer`;
  if (present < declared) meaning += ' (cut short)';
  c.row(offset + 2, present, 'sub-option-value', meaning);
}

function padRows(c: Collector, v: Uint8Array, from: number, to: number): void {
  if (to <= from) return;
  c.row(from, to - from, 'pad', to - from === 1 ? 'pad (0x00)' : `${to - from} pad bytes (0x00)`);
  c.find('warning', 'pad', `pad byte${to - from === 1 ? '' : 's'} between sub-options; the known-good form (DHCPUtil) has none`, from);
}

function analyze43(v: Uint8Array, ctx: DecodeContext): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  const vendorClass = ctx.vendorClass?.replace(/\0+$/, '');
  const msUc = vendorClass === undefined || vendorClass === MS_UC_CLIENT;
  if (v.length === 0) {
    c.find('error', 'empty', 'option 43 is empty: the phone gets no Certificate Provisioning URL');
    return { c, decoded: msUc ? { kind: 'ms-uc-client', subOptions: [], endMarker: false, certProvUrl: null } : { kind: 'encapsulated', vendorClass: vendorClass ?? null, subOptions: [] } };
  }

  // decodeEncapsulated stops at the first cut; the sub-options before it still decode.
  const whole = decodeEncapsulated(v);
  let cut: number | undefined;
  let subs: SubOption[];
  let endMarker = false;
  let trailing: Uint8Array = new Uint8Array(0);
  if (whole.ok) {
    ({ subOptions: subs, endMarker, trailing } = whole.value);
  } else {
    cut = whole.error.offset ?? 0;
    const before = decodeEncapsulated(v.subarray(0, cut));
    subs = before.ok ? before.value.subOptions : [];
  }

  let pos = 0;
  for (const s of subs) {
    padRows(c, v, pos, s.offset);
    rowsForSubOption(c, v, s.offset, s.code, s.length, msUc);
    pos = s.offset + 2 + s.length;
  }
  const reports: MsUcSubOptionReport[] = subs.map((s) => ({ code: s.code, name: msUc ? MS_UC_NAMES[s.code] ?? null : null, offset: s.offset, length: s.length, hex: toHex(s.data), text: latin1(s.data), truncated: false }));

  if (cut !== undefined) {
    padRows(c, v, pos, cut);
    const code = v[cut]!;
    const declared = cut + 1 < v.length ? v[cut + 1]! : undefined;
    rowsForSubOption(c, v, cut, code, declared, msUc);
    const data = v.subarray(Math.min(v.length, cut + 2));
    reports.push({ code, name: msUc ? MS_UC_NAMES[code] ?? null : null, offset: cut, length: declared ?? 0, hex: toHex(data), text: latin1(data), truncated: true });
    const label = `sub-option ${code}${msUc && MS_UC_NAMES[code] ? ` ${MS_UC_NAMES[code]}` : ''}`;
    let message =
      declared === undefined
        ? `${label} has no length byte: the option was cut after its code`
        : `${label} declares ${declared} bytes but only ${v.length - cut - 2} remain: the option was cut (the full value would be at least ${cut + 2 + declared} bytes, not ${v.length})`;
    if (v.length === IOS_CUT) message += `. It is exactly ${IOS_CUT} bytes: Cisco IOS 15.1(3)S and later cut \`option 43 hex\` at ${IOS_CUT} bytes (any web FQDN over 23 characters) and the phone never offers PIN sign-in; configure the option with \`option ext\` instead`;
    c.find('error', 'truncated-sub-option', message, cut);
  } else if (endMarker) {
    const at = v.length - trailing.length - 1;
    padRows(c, v, pos, at);
    c.row(at, 1, 'end', 'end marker (0xFF)');
    c.find('warning', 'end-marker', 'option 43 ends with a 0xFF end marker, as dnsmasq appends; DHCPUtil and Windows send none, and whether the phone tolerates it is not known', at);
    if (trailing.length > 0) {
      c.row(at + 1, trailing.length, 'trailing', 'bytes after the end marker (ignored by RFC 2132 readers)');
      c.find('warning', 'bytes-after-end', `${trailing.length} byte${trailing.length === 1 ? '' : 's'} after the 0xFF end marker`, at + 1);
    }
  } else {
    padRows(c, v, pos, v.length);
  }

  if (!msUc) {
    // Pads, 0xFF and the layout are fine for other vendors (PXE ends with 0xFF); a cut is still worth a word.
    c.findings = c.findings.filter((f) => f.code === 'truncated-sub-option').map((f) => ({ ...f, severity: 'warning' as const }));
    c.find('info', 'other-vendor', `the client's vendor class is ${JSON.stringify(vendorClass)}, not MS-UC-Client: sub-options shown without interpretation`);
    return { c, decoded: { kind: 'encapsulated', vendorClass: vendorClass ?? null, subOptions: reports.map(({ code, offset, length, hex, text }) => ({ code, offset, length, hex, text })) } };
  }

  for (const s of subs) {
    if (MS_UC_NAMES[s.code]) checkMsUcValue(c, s);
    else c.find('warning', 'unknown-sub-option', `sub-option ${s.code} is not one of MS-UC-Client's five (1..5); the phone ignores it at best`, s.offset);
  }

  const codes = reports.map((r) => r.code);
  const seen = new Map<number, SubOption>();
  for (const s of subs) {
    const first = seen.get(s.code);
    if (first === undefined) {
      seen.set(s.code, s);
      continue;
    }
    const same = toHex(first.data) === toHex(s.data);
    c.find(same ? 'warning' : 'error', 'duplicate-sub-option', `sub-option ${s.code}${MS_UC_NAMES[s.code] ? ` ${MS_UC_NAMES[s.code]}` : ''} appears again at offset ${s.offset}${same ? ' with the same value' : ` with a different value (${quoteText(s.data)} after ${quoteText(first.data)}): which one the phone uses is unknown`}`, s.offset);
  }
  const known = codes.filter((x) => MS_UC_NAMES[x] !== undefined);
  const ascending = known.every((x, i) => i === 0 || x >= known[i - 1]!);
  if (!ascending) {
    const descending = known.length > 1 && known.every((x, i) => i === 0 || x < known[i - 1]!);
    c.find('warning', 'order', `sub-options come in the order ${known.join(', ')}${descending ? ' (reversed, as dnsmasq sends them)' : ''}; the known-good form has them ascending 1..5, and whether the phone accepts another order is not known`, reports.find((r, i) => i > 0 && r.code < reports[i - 1]!.code)?.offset);
  }
  const truncatedCode = cut !== undefined ? reports[reports.length - 1]!.code : undefined;
  const missing = [1, 2, 3, 4, 5].filter((x) => !seen.has(x) && x !== truncatedCode);
  if (missing.length > 0) {
    const list = missing.map((m) => `${m} ${MS_UC_NAMES[m]}`).join(', ');
    const url = missing.some((m) => m !== 1) ? ': the phone cannot build its Certificate Provisioning URL' : ' (every known-good server sends it)';
    c.find('error', 'missing-sub-option', `sub-option${missing.length === 1 ? '' : 's'} ${list} ${missing.length === 1 ? 'is' : 'are'} missing${url}`);
  }

  let url: string | null = null;
  const text = (code: number): string | undefined => (seen.has(code) && code !== truncatedCode ? latin1(seen.get(code)!.data) : undefined);
  const [scheme, fqdn, port, path] = [text(2), text(3), text(4), text(5)];
  if (scheme !== undefined && fqdn !== undefined && port !== undefined && path !== undefined) {
    url = `${scheme}://${fqdn}:${port}${path}`;
    c.summary.push(`Certificate Provisioning URL the phone builds: ${escapeText(url)}`);
  } else {
    const absent = [2, 3, 4, 5].filter((x) => text(x) === undefined).map((x) => `${x} ${MS_UC_NAMES[x]}`);
    c.summary.push(`no Certificate Provisioning URL: sub-option${absent.length === 1 ? '' : 's'} ${absent.join(', ')} ${absent.length === 1 ? 'is' : 'are'} missing or cut`);
  }
  if (ctx.vendorClass === undefined) c.summary.push('read with the MS-UC-Client layout (vendor class not given)');
  return { c, decoded: { kind: 'ms-uc-client', subOptions: reports, endMarker, certProvUrl: url } };
}

// ------------------------------------------------------- names (119 and 120)

/**
 * Rows for one name read from `pos` without following pointers (the dump
 * follows the bytes in order); stops after the root, a pointer, or the first
 * byte it cannot read. Returns where it stopped.
 */
function nameRows(c: Collector, v: Uint8Array, pos: number, start: number, end: number): number {
  while (pos < end) {
    const b = v[pos]!;
    if (b === 0) {
      c.row(pos, 1, 'root', 'root label: end of name');
      return pos + 1;
    }
    const kind = b & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= end) {
        c.row(pos, 1, 'pointer', 'compression pointer, cut short');
        return end;
      }
      const target = ((b & 0x3f) << 8) | v[pos + 1]!;
      const suffix = target + start < pos ? decodeName(v, start + target, { allowCompression: true, start, end }) : undefined;
      c.row(pos, 2, 'pointer', `compression pointer to offset ${target}${start > 0 ? ` of the name list` : ''}${suffix?.ok ? ` ("${suffix.value.name}")` : ''}`);
      return pos + 2;
    }
    if (kind !== 0) {
      c.row(pos, 1, 'label-length', `reserved label type 0x${kind.toString(16)}`);
      return pos + 1;
    }
    c.row(pos, 1, 'label-length', `label length ${b}`);
    const present = Math.min(b, end - pos - 1);
    if (present > 0) c.row(pos + 1, present, 'label', `${quoteText(v.subarray(pos + 1, pos + 1 + present))}${present < b ? ` (cut short: ${b - present} byte${b - present === 1 ? '' : 's'} missing)` : ''}`);
    if (present < b) return end;
    pos += 1 + b;
  }
  return pos;
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

/** Walks names from `from` to the end; returns them and whether any used compression. Stops at the first bad name. */
function walkNames(c: Collector, v: Uint8Array, from: number, start: number, option: number): { names: string[]; compressed: boolean; failed: boolean } {
  const names: string[] = [];
  let compressed = false;
  let pos = from;
  while (pos < v.length) {
    const r = decodeName(v, pos, { allowCompression: true, start, end: v.length });
    const stop = nameRows(c, v, pos, start, v.length);
    if (!r.ok) {
      const e = r.error;
      const at = e.offset !== undefined && e.offset >= start ? e.offset - start : undefined;
      const where = at === undefined ? '' : start > 0 ? `, offset ${e.offset} (${at} in the name list)` : `, offset ${e.offset}`;
      c.find('error', e.code, `option ${option}, name ${names.length + 1}${where}: ${e.message}; ${NAME_ERRORS[e.code] ?? 'the name cannot be read'}`, e.offset);
      if (stop < v.length) c.row(stop, v.length - stop, 'undecoded', 'not decoded (after the error)');
      return { names, compressed, failed: true };
    }
    names.push(r.value.name);
    compressed ||= r.value.compressed;
    pos = r.value.next;
  }
  return { names, compressed, failed: false };
}

function checkNames(c: Collector, names: readonly string[], option: number): void {
  names.forEach((n, i) => {
    if (n === '') c.find('error', 'empty-name', `option ${option}, name ${i + 1} is the root alone (00): no domain`);
    else if (!isValidDomainName(n)) c.find('warning', 'bad-name', `option ${option}, name ${i + 1} ${JSON.stringify(n)} is not a valid host name (letters, digits, '-', '_')`);
    else if (!n.includes('.')) c.find('warning', 'short-name', `option ${option}, name ${i + 1} "${n}" is a single label, not an FQDN`);
  });
}

// --------------------------------------------------------------- option 120

function analyze120(v: Uint8Array): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  const decoded = { kind: 'sip-servers' as const, encoding: null as number | null, names: [] as string[], addresses: [] as string[] };
  if (v.length === 0) {
    c.find('error', 'empty', 'option 120 is empty: no encoding byte, no server');
    return { c, decoded };
  }
  const enc = v[0]!;
  if (enc === 0) {
    decoded.encoding = 0;
    c.row(0, 1, 'encoding', 'encoding 0: DNS names follow (RFC 3361)');
    if (v.length === 1) {
      c.find('error', 'empty', 'option 120 has encoding 0 but no name after it', 1);
      return { c, decoded };
    }
    const w = walkNames(c, v, 1, 1, 120);
    decoded.names = w.names;
    checkNames(c, w.names, 120);
    if (w.compressed) c.find('warning', 'compression', 'option 120 uses compression pointers; DHCPUtil sends one uncompressed name, and whether the phone follows pointers is not known');
    if (w.names.length > 1) c.find('warning', 'several-names', `option 120 carries ${w.names.length} names; DHCPUtil sends one, and how the phone treats more is not known`);
    // The wire decoder is the arbiter; the walk above only annotates.
    const check = decodeSipServers(v);
    if (!check.ok && !w.failed) c.find('error', check.error.code, check.error.message, check.error.offset);
    if (w.names.length > 0) c.summary.push(`SIP server (pool FQDN) the phone uses: ${w.names[0]}`);
    return { c, decoded };
  }
  if (enc === 1) {
    decoded.encoding = 1;
    c.row(0, 1, 'encoding', 'encoding 1: IPv4 addresses follow (RFC 3361)');
    let p = 1;
    for (; p + 4 <= v.length; p += 4) {
      const a = readIp(v, p);
      decoded.addresses.push(a);
      c.row(p, 4, 'address', a);
    }
    if (p < v.length) {
      c.row(p, v.length - p, 'undecoded', 'stray bytes: not a whole address');
      c.find('error', 'bad-length', `option 120 encoding 1 needs a multiple of 4 address bytes, got ${v.length - 1}`, p);
    }
    c.find('error', 'sip-addresses', 'option 120 gives IP addresses (encoding 1): Lync needs encoding 0 with the pool FQDN, because TLS checks the server name');
    return { c, decoded };
  }
  const text = latin1(v);
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(text)) {
    c.row(0, v.length, 'text', `the ASCII text ${quoteText(v)}`);
    let fix = '';
    if (isValidDomainName(text)) fix = `; send instead ${hexOf(encodeSipServers({ encoding: 0, names: [text.replace(/\.$/, '')] }))} (00, then the name in RFC 1035 labels)`;
    c.find('error', 'bare-ascii', `option 120 is the bare ASCII FQDN "${text}" with no encoding byte and no label lengths (as a published script sends it): the phone reads 0x${enc.toString(16).padStart(2, '0')} ('${text[0]}') as the encoding byte and finds no SIP server${fix}`, 0);
    decoded.names = [text];
    return { c, decoded };
  }
  // RFC 1035 labels without the encoding byte in front.
  const bare = decodeName(v, 0, { allowCompression: false });
  if (bare.ok && bare.value.next === v.length) {
    nameRows(c, v, 0, 0, v.length);
    c.find('error', 'no-encoding-byte', `option 120 holds the name "${bare.value.name}" in RFC 1035 labels but no encoding byte before it: the phone reads ${enc} as the encoding (0 or 1 expected); put 00 in front`, 0);
    decoded.names = [bare.value.name];
    return { c, decoded };
  }
  c.row(0, 1, 'encoding', `encoding ${enc}: not defined (0 = names, 1 = addresses)`);
  if (v.length > 1) c.row(1, v.length - 1, 'undecoded', 'not decoded');
  c.find('error', 'bad-encoding', `option 120 encoding byte is ${enc}, neither 0 (names) nor 1 (addresses)`, 0);
  return { c, decoded };
}

// --------------------------------------------------------------- option 119

function analyze119(v: Uint8Array): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  if (v.length === 0) {
    c.find('error', 'empty', 'option 119 carries no names');
    return { c, decoded: { kind: 'domain-search', names: [], updateLookups: [] } };
  }
  const w = walkNames(c, v, 0, 0, 119);
  checkNames(c, w.names, 119);
  const check = decodeSearchList(v);
  if (!check.ok && !w.failed) c.find('error', check.error.code, check.error.message, check.error.offset);
  const lookups = w.names.filter((n) => n !== '').map((n) => `ucupdates-r2.${n}`);
  if (w.names.length > 0) c.summary.push(`search domains: ${w.names.join(', ')}`);
  if (lookups.length > 0) c.summary.push(`the phone looks up for Device Update: ${lookups.join(', ')}`);
  return { c, decoded: { kind: 'domain-search', names: w.names, updateLookups: lookups } };
}

// ------------------------------------------------------------ options 60, 55

function analyze60(v: Uint8Array): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  const text = latin1(v);
  if (v.length > 0) c.row(0, v.length, 'text', quoteText(v));
  const bare = text.replace(/\0+$/, '');
  if (text === MS_UC_CLIENT) c.find('info', 'lpe-vendor-class', 'MS-UC-Client: a Lync Phone Edition phone (or a client acting as one)');
  else if (bare === MS_UC_CLIENT) c.find('warning', 'vendor-class-nul', 'MS-UC-Client followed by NUL bytes: a server that compares the class exactly will not match it');
  else if (bare.toLowerCase() === MS_UC_CLIENT.toLowerCase()) c.find('warning', 'vendor-class-case', `${JSON.stringify(bare)} differs from MS-UC-Client in letter case only; Microsoft treats the vendor class as case-sensitive`);
  else if (bare === 'CPE-OCPHONE') c.find('info', 'cpe-ocphone', 'CPE-OCPHONE: the phone asking for its VLAN ID through option 43 (layout not documented)');
  else if (v.length === 0) c.find('warning', 'empty', 'option 60 is empty');
  else c.find('info', 'other-vendor-class', 'not a Lync Phone Edition vendor class');
  return { c, decoded: { kind: 'vendor-class', text } };
}

function analyze55(v: Uint8Array): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  const codes = Array.from(v, (code) => ({ code, name: findOptionDef(code)?.name ?? null }));
  codes.forEach((x, i) => c.row(i, 1, 'code', `${x.code} ${x.name ?? '(no name in provlab\'s table)'}`));
  if (v.length === 0) c.find('warning', 'empty', 'option 55 requests nothing');
  const set = new Set(v);
  const wants = [43, 120].filter((x) => set.has(x));
  c.summary.push(`requests ${v.length} option${v.length === 1 ? '' : 's'}: ${Array.from(v).join(', ')}`);
  if (wants.length === 2) c.find('info', 'asks-43-120', 'asks for 43 and 120, as a Lync Phone Edition phone does');
  else if (wants.length === 1) c.find('info', 'asks-some', `asks for ${wants[0]} but not ${wants[0] === 43 ? 120 : 43}`);
  return { c, decoded: { kind: 'parameter-request-list', codes } };
}

// ------------------------------------------------------------- everything else

function analyzeGeneric(code: number, v: Uint8Array): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  const def = findOptionDef(code);
  if (def === undefined) {
    if (v.length > 0) c.row(0, v.length, 'value', `no definition in provlab's option table: ${quoteText(v)}`);
    return { c, decoded: { kind: 'generic', type: 'binary', text: toHex(v) } };
  }
  const r = decodeOptionValue(def, v);
  if (!r.ok) {
    if (v.length > 0) c.row(0, v.length, 'value', quoteText(v));
    c.find('error', r.error.code, `${def.name}: ${r.error.message}`, r.error.offset);
    return { c, decoded: { kind: 'generic', type: def.type, text: toHex(v) } };
  }
  const val = r.value;
  let text: string;
  switch (val.type) {
    case 'text':
      text = quoteText(v);
      break;
    case 'binary':
      text = toHex(val.value);
      break;
    case 'empty':
      text = '(empty)';
      break;
    case 'ipv4-list':
    case 'uint8-list':
    case 'uint16-list':
    case 'fqdn-list':
      text = val.value.join(', ');
      break;
    case 'sip-servers':
      text = val.value.encoding === 0 ? val.value.names.join(', ') : val.value.addresses.join(', ');
      break;
    case 'encapsulated':
      text = val.value.subOptions.map((s) => `${s.code}`).join(', ');
      break;
    default:
      text = String(val.value);
  }
  if (v.length > 0) c.row(0, v.length, 'value', text);
  return { c, decoded: { kind: 'generic', type: def.type, text } };
}

// ------------------------------------------------------------------ entry points

/** Annotates one option value (code and length already removed). */
export function analyzeOption(code: number, value: Uint8Array, ctx: DecodeContext = {}): OptionReport {
  const { c, decoded } =
    code === 43 ? analyze43(value, ctx) : code === 120 ? analyze120(value) : code === 119 ? analyze119(value) : code === 60 ? analyze60(value) : code === 55 ? analyze55(value) : analyzeGeneric(code, value);
  const name = code === 43 && decoded.kind === 'ms-uc-client' ? `${optionName(43)} (MS-UC-Client)` : optionName(code);
  return { code, name, length: value.length, hex: toHex(value), rows: c.rows, decoded, summary: c.summary, findings: sorted(c.findings), status: statusOf(c.findings) };
}

/** 43, "43", "0x2b", "vendor-encapsulated-options", "sip-server", "option120", … */
export function parseOptionCode(text: string): number | undefined {
  const s = text.trim().toLowerCase().replace(/^option[-_ ]?/, '');
  if (/^[0-9]{1,3}$/.test(s)) {
    const n = Number(s);
    return n >= 1 && n <= 254 ? n : undefined;
  }
  if (/^0x[0-9a-f]{1,2}$/.test(s)) {
    const n = parseInt(s.slice(2), 16);
    return n >= 1 && n <= 254 ? n : undefined;
  }
  const aliases: Record<string, number> = { 'ms-uc-client': 43, 'vendor-specific': 43, 'sip-servers': 120, 'domain-search-list': 119, 'vendor-class': 60, prl: 55, 'parameter-request-list': 55 };
  return aliases[s] ?? findOptionDefByName(s)?.code;
}

export type InputForm = 'auto' | 'value' | 'option';

/**
 * Decides whether pasted bytes are the value alone or the whole option with
 * code and length (possibly several RFC 3396 instances), and returns the value.
 */
export function unwrapOption(code: number, bytes: Uint8Array, form: InputForm = 'auto'): Result<{ value: Uint8Array; info: Omit<InputInfo, 'hexForm' | 'hexFormDescription'>; findings: Finding[] }> {
  const cc = code.toString(16).padStart(2, '0');
  const pieces: Uint8Array[] = [];
  const framing: DumpRow[] = [];
  let p = 0;
  while (p + 1 < bytes.length && bytes[p] === code && p + 2 + bytes[p + 1]! <= bytes.length) {
    const len = bytes[p + 1]!;
    framing.push({ offset: p, length: 1, hex: cc, field: 'option-code', meaning: `option ${code} ${optionName(code)}` }, { offset: p + 1, length: 1, hex: hexOf(bytes.subarray(p + 1, p + 2)), field: 'option-length', meaning: `length ${len}` });
    pieces.push(bytes.subarray(p + 2, p + 2 + len));
    p += 2 + len;
  }
  const tiles = pieces.length > 0 && p === bytes.length;
  if (form !== 'value' && tiles) {
    const value = pieces.length === 1 ? pieces[0]! : Uint8Array.from(pieces.flatMap((x) => Array.from(x)));
    const info =
      pieces.length === 1
        ? { form: 'option' as const, assumed: `whole option: ${cc} ${framing[1]!.hex} (code ${code}, length ${value.length}) precede the value; offsets below count from the value's first byte`, framing }
        : { form: 'instances' as const, assumed: `${pieces.length} instances of option ${code} joined into one ${value.length}-byte value (RFC 3396); offsets below count in the joined value`, framing };
    return ok({ value, info, findings: [] });
  }
  if (form !== 'value' && bytes.length >= 2 && bytes[0] === code && bytes[1]! > bytes.length - 2) {
    const value = bytes.subarray(2);
    const f: Finding = { severity: 'error', code: 'option-truncated', message: `the option's length byte says ${bytes[1]} bytes but only ${value.length} follow: the option was cut`, offset: 0 };
    return ok({
      value,
      info: { form: 'option', assumed: `whole option: starts with code ${code} (${cc}); its length byte says ${bytes[1]} but only ${value.length} bytes follow`, framing: [{ offset: 0, length: 1, hex: cc, field: 'option-code', meaning: `option ${code} ${optionName(code)}` }, { offset: 1, length: 1, hex: hexOf(bytes.subarray(1, 2)), field: 'option-length', meaning: `length ${bytes[1]}, but only ${value.length} bytes follow` }] },
      findings: [f],
    });
  }
  if (form === 'option') return fail('not-an-option', `--form option: the bytes do not start with code ${code} (${cc}) and a length that fits`, 0);
  const why = form === 'value' ? 'as asked (--form value)' : bytes[0] === code ? `its first bytes ${cc} ${hexOf(bytes.subarray(1, 2))} would be code ${code} and a length, but the rest does not fit them` : `it does not start with the option code ${code} (${cc})`;
  return ok({ value: bytes, info: { form: 'value', assumed: `value only, without code and length: ${why}`, framing: [] }, findings: [] });
}

/** `provlab decode OPTION HEX`: fails (exit 2) only when the text is not hex or the option code is unusable. */
export function decodeHexOption(option: number, text: string, options: { form?: InputForm; vendorClass?: string } = {}): Result<OptionReport> {
  if (!Number.isInteger(option) || option < 1 || option > 254) return fail('bad-option', `option code ${option} is not 1..254`);
  const parsed = parseHex(text);
  if (!parsed.ok) return parsed;
  const u = unwrapOption(option, parsed.value.bytes, options.form ?? 'auto');
  if (!u.ok) return u;
  const report = analyzeOption(option, u.value.value, options.vendorClass !== undefined ? { vendorClass: options.vendorClass } : {});
  const findings = sorted([...u.value.findings, ...report.findings]);
  return ok({
    ...report,
    input: { hexForm: parsed.value.form, hexFormDescription: parsed.value.description, ...u.value.info },
    findings,
    status: statusOf(findings),
  });
}

// ------------------------------------------------------------------ text output

const MARK: Record<Severity, string> = { error: '✘ error', warning: '⚠ warning', info: 'ℹ note' };
const PER_LINE = 16;

function range(offset: number, length: number): string {
  return length <= 1 ? String(offset) : `${offset}-${offset + length - 1}`;
}

/** The annotated dump as lines of text, each prefixed with `indent`. */
export function renderOptionReport(r: OptionReport, indent = ''): string[] {
  const out: string[] = [];
  out.push(`option ${r.code} ${r.name}: ${r.length} byte${r.length === 1 ? '' : 's'}`);
  if (r.input) {
    out.push(`  read as ${r.input.hexFormDescription}; ${r.input.assumed}`);
    for (const f of r.input.framing) out.push(`  ${`[${range(f.offset, f.length)}]`.padStart(9)}  ${f.hex.padEnd(PER_LINE * 3)}${f.meaning}`);
  }
  if (r.rows.length > 0) out.push(`  ${'offset'.padStart(9)}  ${'bytes'.padEnd(PER_LINE * 3)}meaning`);
  for (const row of r.rows) {
    const bytes = row.hex.split(' ');
    for (let i = 0; i < Math.max(1, bytes.length); i += PER_LINE) {
      const chunk = bytes.slice(i, i + PER_LINE).join(' ');
      out.push(i === 0 ? `  ${range(row.offset, row.length).padStart(9)}  ${chunk.padEnd(PER_LINE * 3)}${row.meaning}` : `  ${''.padStart(9)}  ${chunk}`);
    }
  }
  for (const s of r.summary) out.push(`  ${s}`);
  for (const f of r.findings) out.push(`  ${MARK[f.severity]}${f.offset !== undefined ? ` at offset ${f.offset}` : ''} [${f.code}]: ${f.message}`);
  out.push(`  ${verdict(r.findings)}`);
  return out.map((l) => indent + l);
}

export function verdict(findings: readonly Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const w = warnings > 0 ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '';
  if (errors > 0) return `result: a phone would fail with these bytes (${errors} error${errors === 1 ? '' : 's'}${w ? `, ${w}` : ''})`;
  return w ? `result: usable, with ${w}` : 'result: OK';
}

/** 0 clean (or only warnings, unless strict), 1 when a phone would fail. */
export function exitCodeFor(findings: readonly Finding[], strict = false): 0 | 1 {
  if (findings.some((f) => f.severity === 'error')) return 1;
  if (strict && findings.some((f) => f.severity === 'warning')) return 1;
  return 0;
}
