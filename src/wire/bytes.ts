// Bytes shown as text and text written as bytes, one contract each, for every
// layer (codecs, decoders that explain bytes to a person, exports, logs).
// Pure, no sockets.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex, two digits a byte, separated by `sep` (none by default): "0a0b", "0a:0b", "0a 0b". */
export function hex(bytes: Uint8Array, sep = ''): string {
  // Node's own hex writer where it can be used: client ids are hexed per DHCP packet.
  if (sep === '') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = HEX[bytes[i]!]!;
  return parts.join(sep);
}

/** Each byte as the character with the same code (ISO 8859-1): lossless, so a decode shows exactly what was sent. */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * Text as one byte per character, the inverse of `latin1` (ASCII text is the
 * common case). Throws RangeError on a character beyond U+00FF: the plan only
 * holds validated text, so that is a bug upstream, never silently truncated.
 */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`a character beyond Latin-1 in ${JSON.stringify(text)}`);
    out[i] = c;
  }
  return out;
}

/** Big-endian (network order) unsigned 32-bit write; the caller guarantees the bounds. */
export function putU32(out: Uint8Array, offset: number, n: number): void {
  out[offset] = n >>> 24;
  out[offset + 1] = (n >>> 16) & 0xff;
  out[offset + 2] = (n >>> 8) & 0xff;
  out[offset + 3] = n & 0xff;
}

/** Big-endian unsigned 32-bit read; the caller guarantees the bounds. */
export function getU32(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/** Big-endian unsigned 16-bit read; the caller guarantees the bounds. */
export function getU16(buf: Uint8Array, offset: number): number {
  return (buf[offset]! << 8) | buf[offset + 1]!;
}
