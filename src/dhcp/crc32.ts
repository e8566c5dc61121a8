// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the lease files' line
// checksum. zlib.crc32 (Node >= 20.15) is the same function in C and far
// faster; the table is for older Node 20s.
import * as zlib from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array | string) => number }).crc32;

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (nativeCrc32 !== undefined) return nativeCrc32(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)) >>> 0;
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** crc32 of a string's UTF-8 bytes; zlib.crc32 takes the string as is, without a Buffer per line. */
export function crc32Utf8(text: string): number {
  return nativeCrc32 !== undefined ? nativeCrc32(text) >>> 0 : crc32(Buffer.from(text, 'utf8'));
}
