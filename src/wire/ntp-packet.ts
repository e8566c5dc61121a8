// The 48-byte NTP header of RFC 5905 §7.3, and NTP timestamps (§6).
// Pure: bytes in, typed values out, and back. No clocks here; the daemon owns those.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |LI | VN  |Mode |    Stratum    |     Poll      |  Precision    |   0
// |                         Root Delay (16.16)                    |   4
// |                      Root Dispersion (16.16)                  |   8
// |                          Reference ID                         |  12
// |                     Reference Timestamp (64)                  |  16
// |                      Origin Timestamp (64)                    |  24
// |                      Receive Timestamp (64)                   |  32
// |                      Transmit Timestamp (64)                  |  40
// extension fields and/or key id + MAC may follow (§7.5): tolerated, ignored.
import { fail, ok, type Result } from './result.js';

export const NTP_HEADER_LENGTH = 48;

/** RFC 5905 §7.3 mode field. */
export const NtpMode = {
  RESERVED: 0,
  SYMMETRIC_ACTIVE: 1,
  SYMMETRIC_PASSIVE: 2,
  CLIENT: 3,
  SERVER: 4,
  BROADCAST: 5,
  CONTROL: 6, // ntpq (RFC 9327)
  PRIVATE: 7, // ntpdc; the monlist amplification vector
} as const;

/** 0 no warning, 1 last minute has 61 s, 2 last minute has 59 s, 3 alarm (clock unsynchronised). */
export type LeapIndicator = 0 | 1 | 2 | 3;

/**
 * A 64-bit NTP timestamp as its 8 wire bytes (32-bit seconds since the era
 * start, 32-bit fraction). Kept raw so a server can return the client's
 * transmit timestamp as its origin byte for byte (§8): chrony puts a random
 * value there and rejects any reply that does not echo it exactly.
 */
export type NtpTimestamp = Uint8Array;

export interface NtpHeader {
  readonly leap: LeapIndicator;
  /** 0..7 as sent; servers answer versions 1..4. */
  readonly version: number;
  /** 0..7, see NtpMode. */
  readonly mode: number;
  /** 0 unspecified / kiss-o'-death, 1 primary, 2..15 secondary, 16 unsynchronised. */
  readonly stratum: number;
  /** log2 seconds, signed 8-bit. */
  readonly poll: number;
  /** log2 seconds, signed 8-bit (e.g. -20 is about a microsecond). */
  readonly precision: number;
  /** Seconds, from the unsigned 16.16 short format (§6). */
  readonly rootDelay: number;
  /** Seconds, from the unsigned 16.16 short format (§6). */
  readonly rootDispersion: number;
  /** 4 bytes: ASCII kiss code or clock name at stratum 0/1, an IPv4 address (or hash) above. */
  readonly referenceId: Uint8Array;
  readonly referenceTime: NtpTimestamp;
  readonly originTime: NtpTimestamp;
  readonly receiveTime: NtpTimestamp;
  readonly transmitTime: NtpTimestamp;
}

export interface NtpPacket extends NtpHeader {
  /** Bytes after the 48-byte header (extension fields, key id, MAC): counted, not interpreted. */
  readonly trailingLength: number;
}

/** Decodes the header. Anything shorter than 48 bytes fails; anything after it is ignored. Never throws. */
export function decodeNtp(buf: Uint8Array): Result<NtpPacket> {
  if (buf.length < NTP_HEADER_LENGTH) {
    return fail('truncated', `an NTP header is ${NTP_HEADER_LENGTH} bytes, got ${buf.length}`, buf.length);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, NTP_HEADER_LENGTH);
  const first = buf[0]!;
  return ok({
    leap: (first >>> 6) as LeapIndicator,
    version: (first >>> 3) & 7,
    mode: first & 7,
    stratum: buf[1]!,
    poll: view.getInt8(2),
    precision: view.getInt8(3),
    rootDelay: view.getUint32(4) / 65536,
    rootDispersion: view.getUint32(8) / 65536,
    referenceId: buf.slice(12, 16),
    referenceTime: buf.slice(16, 24),
    originTime: buf.slice(24, 32),
    receiveTime: buf.slice(32, 40),
    transmitTime: buf.slice(40, 48),
    trailingLength: buf.length - NTP_HEADER_LENGTH,
  });
}

/** Encodes the 48-byte header (never extension fields). Throws only on a programming error (wrong-sized raw fields). */
export function encodeNtp(p: NtpHeader): Uint8Array {
  const out = new Uint8Array(NTP_HEADER_LENGTH);
  const view = new DataView(out.buffer);
  out[0] = ((p.leap & 3) << 6) | ((p.version & 7) << 3) | (p.mode & 7);
  out[1] = p.stratum & 0xff;
  view.setInt8(2, clampInt8(p.poll));
  view.setInt8(3, clampInt8(p.precision));
  view.setUint32(4, toShortFormat(p.rootDelay));
  view.setUint32(8, toShortFormat(p.rootDispersion));
  out.set(exact(p.referenceId, 4, 'referenceId'), 12);
  out.set(exact(p.referenceTime, 8, 'referenceTime'), 16);
  out.set(exact(p.originTime, 8, 'originTime'), 24);
  out.set(exact(p.receiveTime, 8, 'receiveTime'), 32);
  out.set(exact(p.transmitTime, 8, 'transmitTime'), 40);
  return out;
}

function exact(bytes: Uint8Array, length: number, name: string): Uint8Array {
  if (bytes.length !== length) throw new RangeError(`${name} must be ${length} bytes, got ${bytes.length}`);
  return bytes;
}

function clampInt8(n: number): number {
  return Math.max(-128, Math.min(127, Math.round(n)));
}

/** Seconds to the unsigned 16.16 short format, rounded, saturating (§6). */
function toShortFormat(seconds: number): number {
  if (!(seconds > 0)) return 0;
  return Math.min(0xffffffff, Math.round(seconds * 65536)) >>> 0;
}

// ---------------------------------------------------------------- reference ids

/** 4 ASCII characters (kiss codes, `LOCL`, `GPS`), NUL-padded (§7.3). */
export function asciiRefId(text: string): Uint8Array {
  if (!/^[\x20-\x7e]{0,4}$/.test(text)) throw new RangeError(`a reference id is up to 4 printable ASCII characters: ${JSON.stringify(text)}`);
  const out = new Uint8Array(4);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The reference id as ASCII when it is printable (stratum 0/1 and kiss codes), else null. */
export function refIdText(id: Uint8Array): string | null {
  let end = id.length;
  while (end > 0 && id[end - 1] === 0) end--;
  if (end === 0) return null;
  let s = '';
  for (let i = 0; i < end; i++) {
    const c = id[i]!;
    if (c < 0x20 || c > 0x7e) return null;
    s += String.fromCharCode(c);
  }
  return s;
}

// ---------------------------------------------------------------- timestamps

/** Seconds from the NTP prime epoch (1900-01-01, era 0) to the Unix epoch (RFC 5905 Figure 4). */
export const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;
const TWO_32 = 4_294_967_296;

export const ZERO_TIMESTAMP: NtpTimestamp = new Uint8Array(8);

export function ntpTimestamp(seconds: number, fraction: number): NtpTimestamp {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, seconds >>> 0);
  view.setUint32(4, fraction >>> 0);
  return out;
}

/** The two 32-bit halves of a timestamp. Caller passes 8 bytes. */
export function timestampParts(ts: NtpTimestamp): { seconds: number; fraction: number } {
  const view = new DataView(ts.buffer, ts.byteOffset, 8);
  return { seconds: view.getUint32(0), fraction: view.getUint32(4) };
}

export function isZeroTimestamp(ts: NtpTimestamp): boolean {
  for (let i = 0; i < 8; i++) if (ts[i] !== 0) return false;
  return true;
}

/**
 * Unix milliseconds (fractional: sub-millisecond time is kept) to an NTP
 * timestamp. The era number is not on the wire (§6): seconds are taken
 * modulo 2^32, so 2036-02-07T06:28:16Z encodes as 0 again.
 */
export function unixMsToNtp(unixMs: number): NtpTimestamp {
  const wholeSeconds = Math.floor(unixMs / 1000);
  let fraction = Math.round(((unixMs - wholeSeconds * 1000) / 1000) * TWO_32);
  let seconds = wholeSeconds;
  if (fraction >= TWO_32) {
    fraction -= TWO_32;
    seconds += 1;
  }
  return ntpTimestamp(mod32(seconds + NTP_UNIX_OFFSET_SECONDS), fraction);
}

/**
 * An NTP timestamp to Unix seconds plus a fraction of a second in [0, 1).
 * The era is the one that puts the result nearest `pivotUnixSeconds`
 * (within ±68 years, §6). Without a pivot the RFC 4330 §3 rule applies:
 * a seconds value with the top bit set is in era 0 (1968–2036), clear is in
 * era 1 (2036–2104), which is what Wireshark shows too.
 */
export function ntpToUnix(ts: NtpTimestamp, pivotUnixSeconds?: number): { seconds: number; fraction: number } {
  const { seconds, fraction } = timestampParts(ts);
  const era0 = seconds - NTP_UNIX_OFFSET_SECONDS;
  let unix: number;
  if (pivotUnixSeconds === undefined) {
    unix = seconds >= 0x80000000 ? era0 : era0 + TWO_32;
  } else {
    // Nearest era: add whole eras to bring era0 within half an era of the pivot.
    unix = era0 + Math.round((pivotUnixSeconds - era0) / TWO_32) * TWO_32;
  }
  return { seconds: unix, fraction: fraction / TWO_32 };
}

/** An NTP timestamp to Unix milliseconds (fractional), era chosen as in `ntpToUnix`. */
export function ntpToUnixMs(ts: NtpTimestamp, pivotUnixMs?: number): number {
  const { seconds, fraction } = ntpToUnix(ts, pivotUnixMs === undefined ? undefined : Math.floor(pivotUnixMs / 1000));
  return seconds * 1000 + fraction * 1000;
}

/**
 * a − b in seconds, era-independent: the seconds difference is taken as a
 * signed 32-bit number (§6: valid while the two are within 68 years).
 */
export function ntpDiffSeconds(a: NtpTimestamp, b: NtpTimestamp): number {
  const pa = timestampParts(a);
  const pb = timestampParts(b);
  const ds = (pa.seconds - pb.seconds) | 0;
  return ds + (pa.fraction - pb.fraction) / TWO_32;
}

function mod32(n: number): number {
  return ((n % TWO_32) + TWO_32) % TWO_32;
}
