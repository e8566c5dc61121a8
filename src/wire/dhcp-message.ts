// DHCPv4 messages: the RFC 2131 §2 fixed header, the magic cookie, and the
// RFC 2132 options area, with long options split and joined per RFC 3396 and
// option overload (52, RFC 2132 §9.3) into the file and sname fields.
// Pure: bytes in, a message out, and back. No sockets, no clocks.

import { hex, putU32 } from './bytes.js';
import { parseIPv4, readIp } from './ipv4.js';
import { fail, ok, type Result } from './result.js';

export const DHCP_MAGIC = 0x63825363;

/** RFC 2132 §9.6, option 53. A const object rather than an enum so it survives type stripping. */
export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Indexed by type code: the daemon names the type of every packet it logs. */
const MESSAGE_TYPE_NAMES: readonly (string | undefined)[] = (() => {
  const names: (string | undefined)[] = [];
  for (const [name, code] of Object.entries(MessageType)) names[code] = name;
  return names;
})();

/** `DISCOVER` … `INFORM` for an option 53 value (RFC 2132 §9.6); undefined for any other, so each caller words the unknown. */
export function messageTypeName(type: number): string | undefined {
  return MESSAGE_TYPE_NAMES[type];
}

export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  /** Unsigned 32-bit. */
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** 16 bytes (shorter is zero-padded on encode). */
  chaddr: Uint8Array;
  /** 64 bytes; zeroed after decode when it carried overloaded options. */
  sname: Uint8Array;
  /** 128 bytes; zeroed after decode when it carried overloaded options. */
  file: Uint8Array;
  /**
   * Option code -> value bytes, in first-seen (send) order. Repeated instances
   * are joined (RFC 3396). Pad (0), end (255) and overload (52) are framing and
   * never appear here: the encoder adds 52 itself when it needs the fields.
   */
  options: Map<number, Uint8Array>;
}

// RFC 2131 §2, figure 1.
const SNAME = 44;
const FILE = 108;
const COOKIE = 236;
const OPTIONS = 240;
const SNAME_LEN = 64;
const FILE_LEN = 128;
/** RFC 951/1542: BOOTP relays and old clients drop anything shorter. */
const BOOTP_MIN = 300;

const PAD = 0;
const END = 255;
const OVERLOAD = 52;

/**
 * Values in `map` are views into `buf` unless joined from several instances.
 * Returns an error for an option whose length byte is missing or runs past `to`.
 */
function scanOptions(buf: Uint8Array, from: number, to: number, map: Map<number, Uint8Array>, where: string): Result<true> {
  let p = from;
  while (p < to) {
    const code = buf[p]!;
    if (code === PAD) {
      p++;
      continue;
    }
    if (code === END) break;
    if (p + 1 >= to) return fail('truncated-option', `option ${code} in ${where} has no length byte`, p);
    const len = buf[p + 1]!;
    const last = p + 2 + len;
    if (last > to) return fail('truncated-option', `option ${code} in ${where} declares ${len} bytes, only ${to - p - 2} remain`, p);
    const value = buf.subarray(p + 2, last);
    const prev = map.get(code);
    if (prev === undefined) {
      map.set(code, value);
    } else {
      // RFC 3396 §7: instances of one option are concatenated in the order met.
      const joined = new Uint8Array(prev.length + len);
      joined.set(prev, 0);
      joined.set(value, prev.length);
      map.set(code, joined);
    }
    p = last;
  }
  return ok(true);
}

/**
 * Never throws and never reads past the buffer. A missing end option is
 * tolerated (many clients stop at the last option); option overload is honoured:
 * file, then sname, are read as options (RFC 3396 §6 order) and returned zeroed.
 */
export function decodeDhcpMessage(buf: Uint8Array): Result<DhcpMessage> {
  if (buf.length < OPTIONS) return fail('too-short', `a DHCP message is at least ${OPTIONS} bytes, got ${buf.length}`, 0);
  const hlen = buf[2]!;
  if (hlen > 16) return fail('bad-hlen', `hardware address length ${hlen} exceeds the 16-byte chaddr field`, 2);
  const cookie = ((buf[COOKIE]! << 24) | (buf[COOKIE + 1]! << 16) | (buf[COOKIE + 2]! << 8) | buf[COOKIE + 3]!) >>> 0;
  if (cookie !== DHCP_MAGIC) return fail('bad-cookie', `magic cookie is 0x${cookie.toString(16).padStart(8, '0')}, not 0x63825363`, COOKIE);

  const options = new Map<number, Uint8Array>();
  const main = scanOptions(buf, OPTIONS, buf.length, options, 'the options field');
  if (!main.ok) return main;

  let sname = buf.subarray(SNAME, SNAME + SNAME_LEN);
  let file = buf.subarray(FILE, FILE + FILE_LEN);
  const overload = options.get(OVERLOAD);
  if (overload !== undefined) {
    options.delete(OVERLOAD);
    const v = overload.length === 1 ? overload[0]! : 0;
    if (v < 1 || v > 3) return fail('bad-overload', `option overload (52) must be one byte 1, 2 or 3, got ${overload.length} bytes [${Array.from(overload).join(', ')}]`);
    if (v & 1) {
      const r = scanOptions(buf, FILE, FILE + FILE_LEN, options, 'the file field');
      if (!r.ok) return r;
      file = new Uint8Array(FILE_LEN);
    }
    if (v & 2) {
      const r = scanOptions(buf, SNAME, SNAME + SNAME_LEN, options, 'the sname field');
      if (!r.ok) return r;
      sname = new Uint8Array(SNAME_LEN);
    }
    // An overload option inside the overloaded fields has no meaning (RFC 2132 §9.3).
    options.delete(OVERLOAD);
  }

  return ok({
    op: buf[0]!,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0,
    secs: (buf[8]! << 8) | buf[9]!,
    flags: (buf[10]! << 8) | buf[11]!,
    ciaddr: readIp(buf, 12),
    yiaddr: readIp(buf, 16),
    siaddr: readIp(buf, 20),
    giaddr: readIp(buf, 24),
    chaddr: buf.subarray(28, 44),
    sname,
    file,
    options,
  });
}

function isByte(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xff;
}

function isAllZero(a: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

interface HeaderAddresses {
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
}

function checkHeader(msg: DhcpMessage): Result<HeaderAddresses> {
  const bad = (field: string, why: string): Result<never> => fail('bad-field', `${field} ${why}`);
  if (!isByte(msg.op)) return bad('op', 'is not a byte');
  if (!isByte(msg.htype)) return bad('htype', 'is not a byte');
  if (!isByte(msg.hlen) || msg.hlen > 16) return bad('hlen', 'is not 0..16');
  if (!isByte(msg.hops)) return bad('hops', 'is not a byte');
  if (!Number.isInteger(msg.xid) || msg.xid < 0 || msg.xid > 0xffffffff) return bad('xid', 'is not an unsigned 32-bit integer');
  if (!Number.isInteger(msg.secs) || msg.secs < 0 || msg.secs > 0xffff) return bad('secs', 'is not an unsigned 16-bit integer');
  if (!Number.isInteger(msg.flags) || msg.flags < 0 || msg.flags > 0xffff) return bad('flags', 'is not an unsigned 16-bit integer');
  const ciaddr = parseIPv4(msg.ciaddr);
  if (ciaddr < 0) return bad('ciaddr', `is not an IPv4 address: ${msg.ciaddr}`);
  const yiaddr = parseIPv4(msg.yiaddr);
  if (yiaddr < 0) return bad('yiaddr', `is not an IPv4 address: ${msg.yiaddr}`);
  const siaddr = parseIPv4(msg.siaddr);
  if (siaddr < 0) return bad('siaddr', `is not an IPv4 address: ${msg.siaddr}`);
  const giaddr = parseIPv4(msg.giaddr);
  if (giaddr < 0) return bad('giaddr', `is not an IPv4 address: ${msg.giaddr}`);
  if (msg.chaddr.length > 16) return bad('chaddr', `is ${msg.chaddr.length} bytes; the field holds 16`);
  if (msg.sname.length > SNAME_LEN) return bad('sname', `is ${msg.sname.length} bytes; the field holds ${SNAME_LEN}`);
  if (msg.file.length > FILE_LEN) return bad('file', `is ${msg.file.length} bytes; the field holds ${FILE_LEN}`);
  return ok({ ciaddr, yiaddr, siaddr, giaddr });
}

function writeHeader(out: Uint8Array, msg: DhcpMessage, a: HeaderAddresses): void {
  out[0] = msg.op;
  out[1] = msg.htype;
  out[2] = msg.hlen;
  out[3] = msg.hops;
  out[4] = msg.xid >>> 24;
  out[5] = (msg.xid >>> 16) & 0xff;
  out[6] = (msg.xid >>> 8) & 0xff;
  out[7] = msg.xid & 0xff;
  out[8] = msg.secs >>> 8;
  out[9] = msg.secs & 0xff;
  out[10] = msg.flags >>> 8;
  out[11] = msg.flags & 0xff;
  putU32(out, 12, a.ciaddr);
  putU32(out, 16, a.yiaddr);
  putU32(out, 20, a.siaddr);
  putU32(out, 24, a.giaddr);
  out.set(msg.chaddr, 28);
  out.set(msg.sname, SNAME);
  out.set(msg.file, FILE);
  out[COOKIE] = 0x63;
  out[COOKIE + 1] = 0x82;
  out[COOKIE + 2] = 0x53;
  out[COOKIE + 3] = 0x63;
}

/** Bytes the option takes on the wire: one code/length pair per 255-byte instance (RFC 3396 §5). */
function wireSize(len: number): number {
  return len === 0 ? 2 : len + 2 * Math.ceil(len / 255);
}

interface Area {
  start: number;
  /** Last usable byte + 1, with room kept for the area's end option. */
  limit: number;
  pos: number;
  bit: number;
}

/**
 * Header, cookie, then options in Map order, each value over 255 bytes split
 * into consecutive instances (RFC 3396), end option, zero padding to 300 bytes.
 * `maxSize` is the whole UDP payload (default 576; callers pass what option 57
 * allows, less IP and UDP headers); values under 300 count as 300. When the
 * options do not fit, they continue into file and then sname with option 52
 * (RFC 2132 §9.3), using only fields that are all zero. There an option of
 * up to 255 bytes is never cut across fields (clients without RFC 3396 would
 * misread it): fails 'too-big' when the options cannot be placed that way, so
 * the caller can drop one and retry; 'bad-field' on a header field or option
 * code that cannot be written.
 */
export function encodeDhcpMessage(msg: DhcpMessage, options?: { maxSize?: number }): Result<Uint8Array> {
  const header = checkHeader(msg);
  if (!header.ok) return header;
  const requested = options?.maxSize;
  const maxSize = Math.max(BOOTP_MIN, requested !== undefined && Number.isFinite(requested) ? Math.floor(requested) : 576);

  let optionBytes = 0;
  for (const [code, data] of msg.options) {
    if (!Number.isInteger(code) || code < 1 || code > 254 || code === OVERLOAD) {
      return fail('bad-field', `option code ${code} cannot be set by hand (pad 0, end 255 and overload 52 are written by the encoder)`);
    }
    optionBytes += wireSize(data.length);
  }

  const plain = OPTIONS + optionBytes + 1;
  if (plain <= maxSize) {
    const out = new Uint8Array(Math.max(BOOTP_MIN, plain));
    writeHeader(out, msg, header.value);
    let p = OPTIONS;
    for (const [code, data] of msg.options) p = writeInstances(out, p, code, data);
    out[p] = END;
    return ok(out);
  }
  return encodeOverloaded(msg, maxSize, plain, header.value);
}

/** Writes one option as consecutive instances of at most 255 bytes; returns the position after them. */
function writeInstances(out: Uint8Array, p: number, code: number, data: Uint8Array): number {
  if (data.length === 0) {
    out[p] = code;
    out[p + 1] = 0;
    return p + 2;
  }
  if (data.length <= 255) {
    // The usual case: one instance, copied without a subarray view.
    out[p] = code;
    out[p + 1] = data.length;
    out.set(data, p + 2);
    return p + 2 + data.length;
  }
  for (let off = 0; off < data.length; off += 255) {
    const n = Math.min(255, data.length - off);
    out[p] = code;
    out[p + 1] = n;
    out.set(data.subarray(off, off + n), p + 2);
    p += 2 + n;
  }
  return p;
}

function encodeOverloaded(msg: DhcpMessage, maxSize: number, plain: number, addresses: HeaderAddresses): Result<Uint8Array> {
  const tooBig = (why: string): Result<never> => fail('too-big', `options need ${plain} bytes, ${maxSize} allowed; ${why}`);
  // The options field keeps 3 bytes for option 52 and 1 for the end option.
  const areas: Area[] = [{ start: OPTIONS, limit: maxSize - 4, pos: OPTIONS, bit: 0 }];
  // RFC 3396 §6: the receiver reads options, then file, then sname.
  if (isAllZero(msg.file)) areas.push({ start: FILE, limit: FILE + FILE_LEN - 1, pos: FILE, bit: 1 });
  if (isAllZero(msg.sname)) areas.push({ start: SNAME, limit: SNAME + SNAME_LEN - 1, pos: SNAME, bit: 2 });
  if (areas.length === 1) return tooBig('the file and sname fields are in use');

  const out = new Uint8Array(maxSize);
  writeHeader(out, msg, addresses);

  // Instances of at most 255 bytes, in Map order; pieces of one long option stay consecutive.
  interface Piece { code: number; data: Uint8Array; off: number; n: number; seq: number }
  const pieces: Piece[] = [];
  for (const [code, data] of msg.options) {
    if (data.length === 0) pieces.push({ code, data, off: 0, n: 0, seq: pieces.length });
    for (let off = 0; off < data.length; off += 255) pieces.push({ code, data, off, n: Math.min(255, data.length - off), seq: pieces.length });
  }
  // First fit, largest first, so that big options get the options field and
  // small ones fill the gaps; the message type stays first in the options
  // field, where the least careful clients look for it.
  // Pieces of one option keep their order whatever their sizes.
  const rank = (p: Piece): number => (p.code === 53 ? 0 : 1);
  pieces.sort((x, y) => (x.code === y.code ? x.seq - y.seq : rank(x) - rank(y) || y.n - x.n || x.seq - y.seq));

  // A piece never goes to a field read before one holding an earlier piece of the same option.
  const firstArea = new Map<number, number>();
  const put = (a: number, p: Piece, off: number, n: number): void => {
    const area = areas[a]!;
    out[area.pos] = p.code;
    out[area.pos + 1] = n;
    out.set(p.data.subarray(off, off + n), area.pos + 2);
    area.pos += 2 + n;
    firstArea.set(p.code, a);
  };
  for (const p of pieces) {
    // Whole instances only, so a client without RFC 3396 never meets a cut it
    // cannot join. Only a value over 255 bytes, which such a client cannot read
    // anyway, may be cut further to fill a field.
    const splittable = p.data.length > 255;
    let off = p.off;
    let n = p.n;
    for (;;) {
      let a = firstArea.get(p.code) ?? 0;
      while (a < areas.length && areas[a]!.limit - areas[a]!.pos < 2 + n) a++;
      if (a < areas.length) {
        put(a, p, off, n);
        break;
      }
      if (!splittable) return tooBig(`option ${p.code} (${n} bytes) fits whole in no free field, and cutting it would break clients without RFC 3396`);
      a = firstArea.get(p.code) ?? 0;
      while (a < areas.length && areas[a]!.limit - areas[a]!.pos < 3) a++;
      if (a === areas.length) return tooBig(`no room left for option ${p.code}`);
      const part = areas[a]!.limit - areas[a]!.pos - 2;
      put(a, p, off, part);
      off += part;
      n -= part;
    }
  }

  let overload = 0;
  for (const area of areas) {
    if (area.bit !== 0 && area.pos > area.start) {
      overload |= area.bit;
      out[area.pos] = END;
    }
  }
  const main = areas[0]!;
  let p = main.pos;
  if (overload !== 0) {
    out[p++] = OVERLOAD;
    out[p++] = 1;
    out[p++] = overload;
  }
  out[p++] = END;
  return ok(out.slice(0, Math.max(BOOTP_MIN, p)));
}

/** Lower-case colon form of the first hlen bytes of chaddr, "00:04:f2:95:31:a2". */
export function macOf(msg: DhcpMessage): string {
  return hex(msg.chaddr.subarray(0, Math.min(msg.hlen, 16)), ':');
}

/** Option 53's value when it is the one byte RFC 2132 §9.6 says it is. */
export function messageTypeOf(msg: DhcpMessage): number | undefined {
  const v = msg.options.get(53);
  return v !== undefined && v.length === 1 ? v[0] : undefined;
}

/** A zeroed BOOTREPLY for Ethernet (htype 1, hlen 6), no options: the server fills in the rest. */
export function emptyMessage(): DhcpMessage {
  return {
    op: 2,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: new Uint8Array(16),
    sname: new Uint8Array(SNAME_LEN),
    file: new Uint8Array(FILE_LEN),
    options: new Map(),
  };
}
