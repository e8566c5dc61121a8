// IPv4 addresses as dotted strings at the edges and as unsigned 32-bit numbers
// inside (pool arithmetic, subnet matching). Pure helpers, no sockets.

const DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(text: string): boolean {
  return DOTTED.test(text);
}

/** Dotted quad to uint32. Throws on malformed input: callers validate first with isIPv4. */
export function ipToInt(text: string): number {
  if (!DOTTED.test(text)) throw new Error(`not an IPv4 address: ${text}`);
  const p = text.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
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
