// RFC 2132 §8.4 encapsulated vendor options: code/length/value sub-options back
// to back, pad (0) skipped, end (255) closing the list. Generic over the vendor
// space: the option table (option-defs.ts) names the sub-options of each space.

import { fail, ok, type Result } from './result.js';

export interface SubOption {
  code: number;
  /** Offset of the sub-option's code byte in the option data. */
  offset: number;
  /** Declared length. */
  length: number;
  /** A view into the option data, not a copy. */
  data: Uint8Array;
}

/** Everything a walk of the bytes found, in wire order, without stopping at the first problem. */
export interface EncapsulatedWalk {
  subOptions: SubOption[];
  /** Runs of pad bytes (0x00) between sub-options. */
  pads: { offset: number; length: number }[];
  /** Offset of the 0xFF end marker, or null. */
  end: number | null;
  /** Bytes after the end marker (RFC 2132 readers ignore them). */
  trailing: Uint8Array;
  /** The sub-option the data was cut inside: its code, and its declared length when the length byte is there. */
  cut: { offset: number; code: number; declared: number | undefined; data: Uint8Array } | null;
}

const PAD = 0;
const END = 255;

/** Code/length/value triples back to back; appendEnd adds the 0xFF end marker. Throws RangeError on a value over 255 bytes. */
export function encodeEncapsulated(
  subOptions: readonly { readonly code: number; readonly data: Uint8Array }[],
  options?: { appendEnd?: boolean },
): Uint8Array {
  let size = options?.appendEnd ? 1 : 0;
  for (const s of subOptions) {
    if (!Number.isInteger(s.code) || s.code < 1 || s.code > 254) throw new RangeError(`sub-option code ${s.code} is not 1..254`);
    if (s.data.length > 255) throw new RangeError(`sub-option ${s.code} is ${s.data.length} bytes; at most 255 fit`);
    size += 2 + s.data.length;
  }
  const out = new Uint8Array(size);
  let pos = 0;
  for (const s of subOptions) {
    out[pos++] = s.code;
    out[pos++] = s.data.length;
    out.set(s.data, pos);
    pos += s.data.length;
  }
  if (options?.appendEnd) out[pos] = END;
  return out;
}

/** Walks the whole value; never reads past it and never fails: a cut is reported in `cut`. */
export function walkEncapsulated(data: Uint8Array): EncapsulatedWalk {
  const walk: EncapsulatedWalk = { subOptions: [], pads: [], end: null, trailing: data.subarray(data.length), cut: null };
  let pos = 0;
  while (pos < data.length) {
    const code = data[pos]!;
    if (code === PAD) {
      const last = walk.pads[walk.pads.length - 1];
      if (last !== undefined && last.offset + last.length === pos) last.length++;
      else walk.pads.push({ offset: pos, length: 1 });
      pos++;
      continue;
    }
    if (code === END) {
      walk.end = pos;
      walk.trailing = data.subarray(pos + 1);
      return walk;
    }
    const declared = pos + 1 < data.length ? data[pos + 1]! : undefined;
    if (declared === undefined || pos + 2 + declared > data.length) {
      walk.cut = { offset: pos, code, declared, data: data.subarray(Math.min(data.length, pos + 2)) };
      return walk;
    }
    walk.subOptions.push({ code, offset: pos, length: declared, data: data.subarray(pos + 2, pos + 2 + declared) });
    pos += 2 + declared;
  }
  return walk;
}

/**
 * The strict reading: fails 'truncated' when a declared length runs past the
 * data; end (255) stops the walk and what follows is returned as `trailing`.
 */
export function decodeEncapsulated(data: Uint8Array): Result<{ subOptions: SubOption[]; endMarker: boolean; trailing: Uint8Array }> {
  const w = walkEncapsulated(data);
  if (w.cut !== null) {
    const { offset, code, declared } = w.cut;
    return declared === undefined
      ? fail('truncated', `sub-option ${code} has no length byte`, offset)
      : fail('truncated', `sub-option ${code} declares ${declared} bytes, only ${data.length - offset - 2} remain`, offset);
  }
  return ok({ subOptions: w.subOptions, endMarker: w.end !== null, trailing: w.trailing });
}
