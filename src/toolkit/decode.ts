// `provlab decode`: an annotated byte-by-byte reading of DHCP options 43
// (MS-UC-Client), 119, 120, 60 and 55, with every pitfall known to stop a Lync
// Phone Edition phone flagged (docs/lpe-facts.md). Pure: bytes or pasted hex in, a
// report out; no I/O. Built on the wire codecs, so what this tool accepts is
// what the daemon would have sent.

import { msUcSubOptionName } from '../wire/ms-uc-client.js';
import { decodeName } from '../wire/rfc1035-names.js';
import { findOptionDef, findOptionDefByName, optionName } from '../wire/option-defs.js';
import { decodeOptionValue } from '../wire/option-codec.js';
import { fail, ok, type Result } from '../wire/result.js';
import { judgeParameterRequestList, judgeVendorClass } from '../lpe/client.js';
import { readOption15, readOption119, updateNames } from '../lpe/domains.js';
import { exitCodeFor, sortFindings as sorted, statusOf, verdict, type Finding, type Severity, type Status } from '../lpe/findings.js';
import type { NameList } from '../lpe/names.js';
import { readOption43 } from '../lpe/option43.js';
import { readOption120 } from '../lpe/option120.js';
import { escapeText, quoteText } from '../lpe/text.js';
import { parsePastedHex, type HexForm } from './hex-input.js';
import { hex as toHex, latin1 } from '../wire/bytes.js';

// The judging is the LPE rules' (src/lpe/): this module lays the bytes out and renders the findings.
export { exitCodeFor, quoteText, verdict, type Finding, type Severity, type Status };

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

const hexOf = (b: Uint8Array): string => toHex(b, ' ');

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

// ---------------------------------------------------------------- option 43

function rowsForSubOption(c: Collector, v: Uint8Array, offset: number, code: number, declared: number | undefined, msUc: boolean): void {
  const name = msUc ? msUcSubOptionName(code) : undefined;
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

function analyze43(v: Uint8Array, ctx: DecodeContext): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  const r = readOption43(v, { vendorClass: ctx.vendorClass });
  c.findings.push(...r.findings);
  const w = r.walk;
  // The bytes in wire order: sub-options, pads, the cut, the end marker and what follows it.
  const pieces: { offset: number; put: () => void }[] = [
    ...w.subOptions.map((s) => ({ offset: s.offset, put: () => rowsForSubOption(c, v, s.offset, s.code, s.length, r.msUc) })),
    ...w.pads.map((p) => ({ offset: p.offset, put: () => c.row(p.offset, p.length, 'pad', p.length === 1 ? 'pad (0x00)' : `${p.length} pad bytes (0x00)`) })),
  ];
  if (w.cut !== null) {
    const cut = w.cut;
    pieces.push({ offset: cut.offset, put: () => rowsForSubOption(c, v, cut.offset, cut.code, cut.declared, r.msUc) });
  }
  if (w.end !== null) {
    const end = w.end;
    pieces.push({ offset: end, put: () => c.row(end, 1, 'end', 'end marker (0xFF)') });
    if (w.trailing.length > 0) pieces.push({ offset: end + 1, put: () => c.row(end + 1, w.trailing.length, 'trailing', 'bytes after the end marker (ignored by RFC 2132 readers)') });
  }
  for (const p of pieces.sort((a, b) => a.offset - b.offset)) p.put();

  const reports: MsUcSubOptionReport[] = w.subOptions.map((s) => ({ code: s.code, name: r.msUc ? msUcSubOptionName(s.code) ?? null : null, offset: s.offset, length: s.length, hex: toHex(s.data), text: latin1(s.data), truncated: false }));
  if (w.cut !== null) reports.push({ code: w.cut.code, name: r.msUc ? msUcSubOptionName(w.cut.code) ?? null : null, offset: w.cut.offset, length: w.cut.declared ?? 0, hex: toHex(w.cut.data), text: latin1(w.cut.data), truncated: true });
  if (!r.msUc) {
    return { c, decoded: { kind: 'encapsulated', vendorClass: ctx.vendorClass?.replace(/\0+$/, '') ?? null, subOptions: reports.map(({ code, offset, length, hex, text }) => ({ code, offset, length, hex, text })) } };
  }
  if (v.length > 0) {
    if (r.certProvUrl !== null) c.summary.push(`Certificate Provisioning URL the phone builds: ${escapeText(r.certProvUrl)}`);
    else {
      const absent = [2, 3, 4, 5].filter((x) => !r.text.has(x)).map((x) => `${x} ${msUcSubOptionName(x)}`);
      c.summary.push(`no Certificate Provisioning URL: sub-option${absent.length === 1 ? '' : 's'} ${absent.join(', ')} ${absent.length === 1 ? 'is' : 'are'} missing or cut`);
    }
    if (ctx.vendorClass === undefined) c.summary.push('read with the MS-UC-Client layout (vendor class not given)');
  }
  return { c, decoded: { kind: 'ms-uc-client', subOptions: reports, endMarker: w.end !== null, certProvUrl: r.certProvUrl } };
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

/** Rows for every name of a list the LPE rules read, and for the bytes after a name that could not be read. */
function listRows(c: Collector, v: Uint8Array, list: NameList, start: number): void {
  for (const at of list.starts) nameRows(c, v, at, start, v.length);
  if (list.error === null) return;
  const stop = nameRows(c, v, list.error.at, start, v.length);
  if (stop < v.length) c.row(stop, v.length - stop, 'undecoded', 'not decoded (after the error)');
}

// --------------------------------------------------------------- option 120

function analyze120(v: Uint8Array): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  const r = readOption120(v);
  c.findings.push(...r.findings);
  const decoded = { kind: 'sip-servers' as const, encoding: null as number | null, names: r.names, addresses: [] as string[] };
  const form = r.form;
  switch (form.kind) {
    case 'empty':
      break;
    case 'names':
      decoded.encoding = 0;
      c.row(0, 1, 'encoding', 'encoding 0: DNS names follow (RFC 3361)');
      listRows(c, v, form.list, 1);
      if (r.names.length > 0) c.summary.push(`SIP server (pool FQDN) the phone uses: ${r.names[0]}`);
      break;
    case 'addresses':
      decoded.encoding = 1;
      decoded.addresses = form.addresses;
      c.row(0, 1, 'encoding', 'encoding 1: IPv4 addresses follow (RFC 3361)');
      form.addresses.forEach((a, i) => c.row(1 + 4 * i, 4, 'address', a));
      if (form.stray > 0) c.row(v.length - form.stray, form.stray, 'undecoded', 'stray bytes: not a whole address');
      break;
    case 'bare-text':
      c.row(0, v.length, 'text', `the ASCII text ${quoteText(v)}`);
      break;
    case 'bare-labels':
      nameRows(c, v, 0, 0, v.length);
      break;
    case 'bad-encoding':
      c.row(0, 1, 'encoding', `encoding ${form.encoding}: not defined (0 = names, 1 = addresses)`);
      if (v.length > 1) c.row(1, v.length - 1, 'undecoded', 'not decoded');
      break;
  }
  return { c, decoded };
}

// --------------------------------------------------------------- option 119

function analyze119(v: Uint8Array): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  const r = readOption119(v);
  c.findings.push(...r.findings);
  listRows(c, v, r.list, 0);
  const lookups = updateNames(r.domains);
  if (r.list.names.length > 0) c.summary.push(`search domains: ${r.list.names.join(', ')}`);
  if (lookups.length > 0) c.summary.push(`the phone looks up for Device Update: ${lookups.join(', ')}`);
  return { c, decoded: { kind: 'domain-search', names: r.list.names, updateLookups: lookups } };
}

// ---------------------------------------------------------------- option 15

function analyze15(v: Uint8Array): { c: Collector; decoded: DecodedValue } {
  const { c, decoded } = analyzeGeneric(15, v);
  const r = readOption15(v);
  c.findings.push(...r.findings);
  if (r.domain !== null) c.summary.push(`the phone looks up for Device Update: ${updateNames([r.domain]).join(', ')}`);
  return { c, decoded };
}

// ------------------------------------------------------------ options 60, 55

function analyze60(v: Uint8Array): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  if (v.length > 0) c.row(0, v.length, 'text', quoteText(v));
  c.findings.push(...judgeVendorClass(v));
  return { c, decoded: { kind: 'vendor-class', text: latin1(v) } };
}

function analyze55(v: Uint8Array): { c: Collector; decoded: DecodedValue } {
  const c = new Collector(v);
  const codes = Array.from(v, (code) => ({ code, name: findOptionDef(code)?.name ?? null }));
  codes.forEach((x, i) => c.row(i, 1, 'code', `${x.code} ${x.name ?? '(no name in provlab\'s table)'}`));
  c.summary.push(`requests ${v.length} option${v.length === 1 ? '' : 's'}: ${Array.from(v).join(', ')}`);
  c.findings.push(...judgeParameterRequestList(v));
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
    code === 43 ? analyze43(value, ctx) : code === 15 ? analyze15(value) : code === 120 ? analyze120(value) : code === 119 ? analyze119(value) : code === 60 ? analyze60(value) : code === 55 ? analyze55(value) : analyzeGeneric(code, value);
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
  const parsed = parsePastedHex(text);
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
