// RFC 1035 §3.1 domain names on the wire: length-prefixed labels ending with
// the root label, and §4.1.4 compression pointers. Shared by DHCP options 119
// (RFC 3397) and 120 (RFC 3361), and by the DNS server.

import { fail, ok, type Result } from './result.js';

/** RFC 1035 §2.3.4: 255 octets for the whole name on the wire, root label included. */
const MAX_WIRE = 255;
/** 14-bit pointer offsets (RFC 1035 §4.1.4). */
const MAX_POINTER = 0x3fff;
/** A 255-octet name has at most 127 labels, so more jumps than that is a loop or an attack. */
const MAX_JUMPS = 127;

// Letters, digits, hyphen, and underscore for SRV owner names (_sip._tls, _ntp._udp).
// Hyphen position is not checked on purpose: be lenient with what sites already run.
const NAME = /^[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*\.?$/;

/**
 * True for a name with at least one label, each 1..63 letters, digits, '-' or '_',
 * whose wire form fits in 255 octets; one trailing dot is allowed.
 * The root ('' or '.') is not a valid *configured* name here, though encodeName accepts it.
 */
export function isValidDomainName(name: string): boolean {
  if (!NAME.test(name)) return false;
  const textLength = name.endsWith('.') ? name.length - 1 : name.length;
  // Wire length = one length byte per label + label bytes + root = text length + 2.
  return textLength + 2 <= MAX_WIRE;
}

function labelsOf(name: string): string[] {
  if (name === '' || name === '.') return [];
  if (!isValidDomainName(name)) throw new RangeError(`invalid domain name: ${JSON.stringify(name)}`);
  const text = name.endsWith('.') ? name.slice(0, -1) : name;
  return text.split('.');
}

/** Writes labels (ASCII, validated) at pos; returns the position after them (no root byte). */
function writeLabels(out: Uint8Array, pos: number, labels: readonly string[], from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const label = labels[i]!;
    out[pos++] = label.length;
    for (let j = 0; j < label.length; j++) out[pos++] = label.charCodeAt(j);
  }
  return pos;
}

/** Uncompressed wire form ending with the root label. '' and '.' encode the root (one zero byte). */
export function encodeName(name: string): Uint8Array {
  const labels = labelsOf(name);
  const size = labels.reduce((n, l) => n + 1 + l.length, 1);
  const out = new Uint8Array(size);
  writeLabels(out, 0, labels, 0, labels.length);
  out[size - 1] = 0;
  return out;
}

/**
 * Names back to back. With compress, each name's longest suffix that already
 * occurred earlier in this output becomes a pointer whose offset is relative to
 * the start of this output (RFC 3397 §2: pointers only to prior occurrences).
 * Suffixes are matched case-sensitively so that decoding gives back exactly what was encoded.
 */
export function encodeNames(names: readonly string[], options: { compress: boolean }): Uint8Array {
  const parsed = names.map(labelsOf);
  const worst = parsed.reduce((n, labels) => labels.reduce((m, l) => m + 1 + l.length, n + 1), 0);
  const out = new Uint8Array(worst);
  const seen = new Map<string, number>();
  let pos = 0;
  for (const labels of parsed) {
    let cut = labels.length;
    let target = -1;
    if (options.compress) {
      for (let i = 0; i < labels.length; i++) {
        const at = seen.get(labels.slice(i).join('.'));
        if (at !== undefined) {
          cut = i;
          target = at;
          break;
        }
      }
      // Remember the suffixes this name writes in full, for the names after it.
      let p = pos;
      for (let i = 0; i < cut; i++) {
        const key = labels.slice(i).join('.');
        if (p <= MAX_POINTER && !seen.has(key)) seen.set(key, p);
        p += 1 + labels[i]!.length;
      }
    }
    pos = writeLabels(out, pos, labels, 0, cut);
    if (target >= 0) {
      out[pos++] = 0xc0 | (target >> 8);
      out[pos++] = target & 0xff;
    } else {
      out[pos++] = 0;
    }
  }
  return out.subarray(0, pos);
}

export interface DecodedName {
  /** Labels joined with '.', no trailing dot; the root is ''. Label bytes are read as Latin-1. */
  name: string;
  /** Offset just after the name in the original stream (after the first pointer, if any). */
  next: number;
  /** True when at least one compression pointer was followed. */
  compressed: boolean;
}

// One scratch buffer for the name text: names are decoded synchronously, and
// building the string once avoids per-byte string concatenation on the hot path.
const scratch = Buffer.allocUnsafe(MAX_WIRE);

/**
 * Reads one name at offset. Pointers are relative to `start` (default 0: a DNS
 * message; the option data for 119/120) and must point strictly before the
 * label that holds them, so every jump goes backwards. Never reads at or past `end`.
 */
export function decodeName(
  buf: Uint8Array,
  offset: number,
  options?: { allowCompression?: boolean; start?: number; end?: number },
): Result<DecodedName> {
  const allowCompression = options?.allowCompression ?? true;
  const start = options?.start ?? 0;
  const end = Math.min(options?.end ?? buf.length, buf.length);
  let pos = offset;
  let next = -1;
  let wire = 0;
  let textLength = 0;
  let jumps: number[] | undefined;
  for (;;) {
    if (pos >= end || pos < 0) return fail('no-root', 'name ends without the root label', pos);
    const b = buf[pos]!;
    if (b === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = b & 0xc0;
    if (kind === 0xc0) {
      if (!allowCompression) return fail('compression-not-allowed', 'compression pointer where only plain labels are allowed', pos);
      if (pos + 1 >= end) return fail('truncated', 'compression pointer cut short', pos);
      const target = start + (((b & 0x3f) << 8) | buf[pos + 1]!);
      if (target >= pos) return fail('forward-pointer', `pointer to offset ${target - start} does not point before itself`, pos);
      jumps ??= [];
      if (jumps.length >= MAX_JUMPS || jumps.includes(pos)) return fail('pointer-loop', 'compression pointers form a loop', pos);
      jumps.push(pos);
      if (next < 0) next = pos + 2;
      pos = target;
      continue;
    }
    if (kind !== 0) return fail('bad-label-type', `reserved label type 0x${kind.toString(16)}`, pos);
    if (pos + 1 + b > end) return fail('truncated', `label of ${b} bytes runs past the end`, pos);
    wire += 1 + b;
    if (wire + 1 > MAX_WIRE) return fail('name-too-long', 'name longer than 255 octets', pos);
    if (textLength > 0) scratch[textLength++] = 0x2e;
    for (let i = pos + 1, last = pos + 1 + b; i < last; i++) scratch[textLength++] = buf[i]!;
    pos += 1 + b;
  }
  return ok({ name: scratch.toString('latin1', 0, textLength), next, compressed: jumps !== undefined });
}
