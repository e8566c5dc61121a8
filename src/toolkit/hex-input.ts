// The hex forms admins paste into `provlab decode`: what DHCPUtil, netsh,
// PowerShell, Cisco IOS, dhclient, udhcpc and Wireshark print. Pure: text in,
// bytes out, with a sentence saying which form was recognised.

import { fail, ok, type Result } from '../wire/result.js';

export type HexForm =
  | 'plain'
  | '0x-prefixed'
  | 'colon-separated'
  | 'dash-separated'
  | 'space-separated'
  | 'cisco-dotted'
  | 'windows-0x-list';

export interface ParsedHex {
  bytes: Uint8Array;
  form: HexForm;
  /** e.g. "Cisco IOS dotted hex (0102.0304…)". */
  description: string;
}

const DESCRIPTIONS: Record<HexForm, string> = {
  plain: 'plain hex',
  '0x-prefixed': 'hex with a 0x prefix',
  'colon-separated': 'hex bytes separated by colons (Wireshark, dhclient)',
  'dash-separated': 'hex bytes separated by dashes',
  'space-separated': 'hex separated by spaces',
  'cisco-dotted': 'Cisco IOS dotted hex (0102.0304…)',
  'windows-0x-list': 'Windows list of 0x bytes (netsh, PowerShell)',
};

const HEX_DIGITS = /^[0-9a-f]*$/i;

function pairs(digits: string, where: string, at: number): Result<number[]> {
  if (!HEX_DIGITS.test(digits)) {
    const i = digits.search(/[^0-9a-f]/i);
    return fail('bad-hex', `${JSON.stringify(digits[i])} is not a hex digit (${where})`, at + i);
  }
  if (digits.length % 2 !== 0) return fail('odd-digits', `${digits.length} hex digits: an odd count cannot be whole bytes (${where})`, at);
  const out: number[] = [];
  for (let i = 0; i < digits.length; i += 2) out.push(parseInt(digits.slice(i, i + 2), 16));
  return ok(out);
}

interface Token {
  text: string;
  at: number;
}

function tokens(text: string, sep: RegExp): Token[] {
  const out: Token[] = [];
  const re = new RegExp(`[^${sep.source}]+`, 'g');
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push({ text: m[0], at: m.index });
  return out;
}

function done(bytes: number[], form: HexForm): Result<ParsedHex> {
  if (bytes.length === 0) return fail('empty', 'no hex bytes in the input', 0);
  return ok({ bytes: Uint8Array.from(bytes), form, description: DESCRIPTIONS[form] });
}

/**
 * Parses one pasted hex value. Accepted: `010c4d53`, `0x010C4D53`,
 * `01:0c:4d:53` and `1:c:4d:53` (dhclient drops leading zeros), `01-0c-…`,
 * `01 0c 4d 53` or `010c 4d53`, Cisco `010c.4d53.2d55`, Windows `0x01 0x0C`
 * or `0x01,0x0C` (optionally in braces), an IOS `hex` keyword in front, and
 * line breaks anywhere. Error offsets are character positions in `text`.
 */
export function parsePastedHex(text: string): Result<ParsedHex> {
  let s = text.replace(/\r?\n/g, ' ');
  let lead = s.length - s.trimStart().length;
  s = s.trim();
  // Quotes and braces from a shell or PowerShell paste carry no bytes.
  const strip = /^["'{[(]\s*|\s*["'}\])]$/;
  while (strip.test(s)) {
    const m = /^["'{[(]\s*/.exec(s);
    if (m) lead += m[0].length;
    s = s.replace(/^["'{[(]\s*/, '').replace(/\s*["'}\])]$/, '');
  }
  // `option 43 hex 010c.4d53…` pasted from an IOS config: keep what follows `hex`.
  const ios = /^(?:option\s+\d+\s+)?hex\s+/i.exec(s);
  if (ios) {
    lead += ios[0].length;
    s = s.slice(ios[0].length);
  }
  if (s === '') return fail('empty', 'no hex bytes in the input', 0);
  const offset = (t: Token): number => lead + t.at;

  // Windows: every token is 0x + one or two digits.
  const list = tokens(s, /\s,;/);
  if (list.length > 1 && list.every((t) => /^0x/i.test(t.text))) {
    const bytes: number[] = [];
    for (const t of list) {
      const d = t.text.slice(2);
      if (d.length < 1 || d.length > 2 || !HEX_DIGITS.test(d)) return fail('bad-hex', `${JSON.stringify(t.text)} is not one byte like 0x0C`, offset(t));
      bytes.push(parseInt(d, 16));
    }
    return done(bytes, 'windows-0x-list');
  }
  if (list.length === 1 && /^0x/i.test(s)) {
    const r = pairs(s.slice(2), 'after 0x', lead + 2);
    return r.ok ? done(r.value, '0x-prefixed') : r;
  }
  if (/^[0-9a-f]+(\.[0-9a-f]+)+$/i.test(s)) {
    const bytes: number[] = [];
    for (const t of tokens(s, /./)) {
      if (t.text.length !== 2 && t.text.length !== 4) return fail('odd-digits', `Cisco dotted groups hold 4 hex digits (2 in the last): ${JSON.stringify(t.text)}`, offset(t));
      const r = pairs(t.text, 'in a dotted group', offset(t));
      if (!r.ok) return r;
      bytes.push(...r.value);
    }
    return done(bytes, 'cisco-dotted');
  }
  for (const [sep, form] of [
    [/:/, 'colon-separated'],
    [/-/, 'dash-separated'],
  ] as const) {
    if (!sep.test(s)) continue;
    const bytes: number[] = [];
    for (const t of tokens(s, new RegExp(`${sep.source}\\s`))) {
      if (t.text.length > 2 || !HEX_DIGITS.test(t.text)) return fail('bad-hex', `${JSON.stringify(t.text)} is not one hex byte`, offset(t));
      bytes.push(parseInt(t.text, 16));
    }
    return done(bytes, form);
  }
  const words = tokens(s, /\s/);
  if (words.length > 1) {
    const bytes: number[] = [];
    // `0 6 73 65` (one byte per word) or `010c 4d53` (xxd-style groups).
    const byteWords = words.every((t) => t.text.length <= 2);
    for (const t of words) {
      if (byteWords) {
        if (!HEX_DIGITS.test(t.text)) return fail('bad-hex', `${JSON.stringify(t.text)} is not a hex byte`, offset(t));
        bytes.push(parseInt(t.text, 16));
      } else {
        const r = pairs(t.text, `in ${JSON.stringify(t.text)}`, offset(t));
        if (!r.ok) return r;
        bytes.push(...r.value);
      }
    }
    return done(bytes, 'space-separated');
  }
  const r = pairs(s, 'plain hex', lead);
  return r.ok ? done(r.value, 'plain') : r;
}

// Old names, kept only until toolkit/decode.ts imports parsePastedHex and wire/bytes.ts `hex`.
/** @deprecated use parsePastedHex */
/** @deprecated use `hex` from wire/bytes.ts */
