// The server side of RFC 5905 client/server mode, as a pure function: request
// bytes and two timestamps in, reply bytes (or a reason to stay silent) out.
// No sockets and no clock of its own: the daemon passes the receive time it took
// on arrival and a clock to read for the transmit time, which is read last.
import {
  NTP_HEADER_LENGTH,
  NtpMode,
  ZERO_TIMESTAMP,
  asciiRefId,
  decodeNtp,
  encodeNtp,
  ntpDiffSeconds,
  type LeapIndicator,
  type NtpPacket,
  type NtpTimestamp,
} from '../wire/ntp-packet.js';

/** RFC 5905 §7.2: MINPOLL and MAXPOLL. */
export const MIN_POLL = 4;
export const MAX_POLL = 17;
/** RFC 5905 §7.2: frequency tolerance, 15 ppm: how fast our error bound grows since the reference time. */
export const PHI = 15e-6;

export interface ResponderSettings {
  /** 1..15; provlab's default is 10, like chrony's `local stratum 10`. */
  readonly stratum: number;
  /** 4 bytes. `LOCL` by default: we serve the local clock, not an upstream server. */
  readonly referenceId: Uint8Array;
  /** When our clock was last known good (the daemon: the last check of its clock against the system clock). */
  readonly referenceTime: NtpTimestamp;
  /** log2 seconds of the clock's resolution, measured by the daemon. */
  readonly precision: number;
  /** 0 (synchronised) by default, like chrony's local mode; 3 would tell clients not to trust us. */
  readonly leap: LeapIndicator;
  /** Seconds; 0 because we are the root of our own little tree. */
  readonly rootDelay: number;
  /** Seconds at referenceTime; PHI per second is added for the time since (RFC 5905 §10). */
  readonly rootDispersion: number;
}

export const DEFAULT_SETTINGS: ResponderSettings = {
  stratum: 10,
  referenceId: asciiRefId('LOCL'),
  referenceTime: ZERO_TIMESTAMP,
  precision: -20,
  leap: 0,
  rootDelay: 0,
  rootDispersion: 0,
};

/** What to do with a client that is over its rate: answer, send one RATE kiss, or stay silent. */
export type RateVerdict = 'allow' | 'kiss' | 'drop';

export type DropReason = 'malformed' | 'version' | 'mode' | 'rate-limited';

export type Answer =
  | { readonly kind: 'reply'; readonly bytes: Uint8Array; readonly request: NtpPacket }
  | { readonly kind: 'kiss'; readonly code: 'RATE'; readonly bytes: Uint8Array; readonly request: NtpPacket }
  | { readonly kind: 'drop'; readonly reason: DropReason; readonly detail: string; readonly request?: NtpPacket };

/**
 * Answers one datagram. Only client mode (3) of versions 1..4 is answered;
 * everything else (symmetric, server, broadcast, control 6, private 7, short,
 * version 0 or > 4) gets no reply at all, so the server can never be used to
 * amplify: a reply is 48 bytes, never longer than the request that caused it.
 *
 * `rateLimit` is asked only for requests that would be answered.
 */
export function respond(
  datagram: Uint8Array,
  receiveTime: NtpTimestamp,
  settings: ResponderSettings,
  transmitClock: () => NtpTimestamp,
  rateLimit?: () => RateVerdict,
): Answer {
  const decoded = decodeNtp(datagram);
  if (!decoded.ok) return { kind: 'drop', reason: 'malformed', detail: decoded.error.message };
  const request = decoded.value;
  if (request.version < 1 || request.version > 4) {
    return { kind: 'drop', reason: 'version', detail: `version ${request.version} is not 1..4`, request };
  }
  if (request.mode !== NtpMode.CLIENT) {
    return { kind: 'drop', reason: 'mode', detail: `mode ${request.mode} is not a client request`, request };
  }
  const verdict = rateLimit ? rateLimit() : 'allow';
  if (verdict === 'drop') return { kind: 'drop', reason: 'rate-limited', detail: 'over the rate limit', request };
  if (verdict === 'kiss') return { kind: 'kiss', code: 'RATE', bytes: rateKiss(request), request };

  const sinceReference = Math.max(0, ntpDiffSeconds(receiveTime, settings.referenceTime));
  const bytes = encodeNtp({
    leap: settings.leap,
    // §7.3/§9.2: a server answers in the client's version, mode 4.
    version: request.version,
    mode: NtpMode.SERVER,
    stratum: settings.stratum,
    poll: Math.max(MIN_POLL, Math.min(MAX_POLL, request.poll)),
    precision: settings.precision,
    rootDelay: settings.rootDelay,
    rootDispersion: settings.rootDispersion + PHI * sinceReference,
    referenceId: settings.referenceId,
    referenceTime: settings.referenceTime,
    // §8: origin = the client's transmit timestamp, copied as bytes, never re-encoded.
    originTime: request.transmitTime,
    receiveTime,
    transmitTime: ZERO_TIMESTAMP,
  });
  // Read the clock last: everything between this and the send is the only delay the client cannot see.
  bytes.set(transmitClock(), NTP_HEADER_LENGTH - 8);
  return { kind: 'reply', bytes, request };
}

/**
 * RFC 5905 §7.4 kiss-o'-death: stratum 0 and the kiss code as reference id.
 * LI 3 marks it unusable as time; origin is the client's transmit timestamp so
 * the client can tell it is genuine, and receive/transmit repeat that same value
 * (as ntpd does) so a client that ignores the kiss learns no time from it.
 */
function rateKiss(request: NtpPacket): Uint8Array {
  return encodeNtp({
    leap: 3,
    version: request.version,
    mode: NtpMode.SERVER,
    stratum: 0,
    poll: Math.max(MIN_POLL, Math.min(MAX_POLL, request.poll)),
    precision: 0,
    rootDelay: 0,
    rootDispersion: 0,
    referenceId: asciiRefId('RATE'),
    referenceTime: ZERO_TIMESTAMP,
    originTime: request.transmitTime,
    receiveTime: request.transmitTime,
    transmitTime: request.transmitTime,
  });
}
