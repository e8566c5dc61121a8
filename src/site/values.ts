// Parsers for the value forms a network admin writes in a site file:
// durations, MAC addresses in the three common spellings, address ranges.
// Pure: they return null on bad input and let the schema word the error.

import { isIPv4 } from '../wire/ipv4.js';

const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** "8h", "30m", "45s", "1d", "1h30m" (units in d, h, m, s order) or whole seconds; null when malformed. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const m = DURATION.exec(value.trim());
  if (!m || value.trim() === '') return null;
  const [, d, h, min, s] = m;
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** Seconds back to the shortest site-file form, for messages ("1h30m"). */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}

const MAC_COLON = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;
const MAC_CISCO = /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i;
const MAC_BARE = /^[0-9a-f]{12}$/i;

/**
 * "00:04:F2:95:31:A2", "00-04-f2-95-31-a2", Cisco "0004.f295.31a2" or bare
 * "0004f29531a2" to the lower-case colon form the DHCP server keys on.
 */
export function normalizeMac(text: string): string | null {
  const t = text.trim();
  if (!MAC_COLON.test(t) && !MAC_CISCO.test(t) && !MAC_BARE.test(t)) return null;
  const hex = t.replace(/[:.-]/g, '').toLowerCase();
  return hex.match(/../g)!.join(':');
}

export interface IpRange {
  readonly start: string;
  readonly end: string;
}

/** "10.20.0.100-10.20.0.199" (spaces around the dash allowed); null when malformed. Order is checked later. */
export function parseRange(text: string): IpRange | null {
  const m = /^\s*([0-9.]+)\s*-\s*([0-9.]+)\s*$/.exec(text);
  if (!m || !isIPv4(m[1]!) || !isIPv4(m[2]!)) return null;
  return { start: m[1]!, end: m[2]! };
}

/**
 * The site file's hex bytes, strictly: an even number of hex digits, an
 * optional leading 0x, separators ':', '.', '-' or spaces anywhere; null
 * otherwise. (`provlab decode` reads pasted dumps more forgivingly:
 * toolkit/hex-input.ts parsePastedHex.)
 */
export function parseHexValue(text: string): Uint8Array | null {
  const t = text.trim().replace(/^0x/i, '').replace(/[\s:.-]/g, '');
  if (t.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(t)) return null;
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(i * 2, i * 2 + 2), 16);
  return out;
}
