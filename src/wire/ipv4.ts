// IPv4 addresses as dotted strings at the edges and as unsigned 32-bit numbers
// inside (pool arithmetic, subnet matching). Pure helpers, no sockets.

/**
 * The one dotted-quad contract: a dotted quad as uint32, or -1 when it is not
 * one. Four decimal parts 0..255 without leading zeros, and nothing else: no
 * spaces, signs, hex, octal (`010` would be 8 to inet_aton) or empty parts.
 * No regular expression: the DHCP encoder parses four addresses per reply.
 */
export function parseIPv4(text: string): number {
  const len = text.length;
  if (len < 7 || len > 15) return -1;
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? text.charCodeAt(i) : 46; // a virtual '.' closes the last part
    if (c === 46) {
      if (digits === 0 || parts === 4) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1; // leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  return parts === 4 ? value : -1;
}

export function isIPv4(text: string): boolean {
  return parseIPv4(text) >= 0;
}

/** Dotted quad to uint32. Throws on malformed input: callers validate first with isIPv4, or use parseIPv4. */
export function ipToInt(text: string): number {
  const n = parseIPv4(text);
  if (n < 0) throw new Error(`not an IPv4 address: ${text}`);
  return n;
}

export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Reads four bytes at offset as a dotted quad. Caller guarantees the bounds. */
export function readIp(buf: Uint8Array, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** Writes a dotted quad as four bytes at offset. */
export function writeIp(buf: Uint8Array, offset: number, text: string): void {
  const n = ipToInt(text);
  buf[offset] = n >>> 24;
  buf[offset + 1] = (n >>> 16) & 255;
  buf[offset + 2] = (n >>> 8) & 255;
  buf[offset + 3] = n & 255;
}

export function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export interface Cidr {
  readonly network: number;
  readonly prefix: number;
  readonly mask: number;
  readonly broadcast: number;
}

/** Parses "10.20.0.0/24"; returns null when malformed or when host bits are set. */
export function parseCidr(text: string): Cidr | null {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m || !isIPv4(m[1]!)) return null;
  const prefix = Number(m[2]);
  if (prefix > 32) return null;
  const mask = prefixToMask(prefix);
  const network = ipToInt(m[1]!);
  if ((network & mask) >>> 0 !== network) return null;
  return { network, prefix, mask, broadcast: (network | (~mask >>> 0)) >>> 0 };
}

export function inCidr(ip: number, cidr: Cidr): boolean {
  return ((ip & cidr.mask) >>> 0) === cidr.network;
}
