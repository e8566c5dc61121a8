// One SNTP exchange as the phone makes it, and the checks on the answer
// (RFC 5905 §8, §9): without good time the phone cannot do TLS (docs/lpe-facts.md §NTP).
// Pure: the caller passes the clock readings.

import { decodeNtp, encodeNtp, NtpMode, ntpDiffSeconds, refIdText, ZERO_TIMESTAMP, isZeroTimestamp, type NtpTimestamp } from '../wire/ntp-packet.js';
import { hex } from '../wire/bytes.js';
import { check, gradeAlternatives, type Check } from './check.js';

/**
 * An RFC 4330 SNTP request: client mode, version 3 (Windows' W32Time sends
 * version 3; assumed for the phone [I]), only the transmit timestamp set: the server must echo it byte
 * for byte as the origin.
 */
export function buildNtpRequest(transmit: NtpTimestamp): Uint8Array {
  return encodeNtp({
    leap: 0,
    version: 3,
    mode: NtpMode.CLIENT,
    stratum: 0,
    poll: 0,
    precision: 0,
    rootDelay: 0,
    rootDispersion: 0,
    referenceId: new Uint8Array(4),
    referenceTime: ZERO_TIMESTAMP,
    originTime: ZERO_TIMESTAMP,
    receiveTime: ZERO_TIMESTAMP,
    transmitTime: transmit,
  });
}

export interface NtpTarget {
  address: string;
  port: number;
  /** Where the address came from: "option 42", "time.windows.com". */
  source: string;
}

export type NtpOutcome =
  | { kind: 'answer'; bytes: Uint8Array; /** our clock at receipt */ t4: NtpTimestamp }
  | { kind: 'timeout'; waitedMs: number }
  | { kind: 'error'; message: string }
  | { kind: 'skip'; reason: string };

export interface NtpFinding {
  check: Check;
  offsetSeconds?: number;
}

/** `t1` is the transmit timestamp the request carried (our clock at sending). */
export function checkNtpAnswer(target: NtpTarget, t1: NtpTimestamp, outcome: NtpOutcome, maxOffsetSeconds: number): NtpFinding {
  const where = `${target.address}:${target.port}`;
  const c = (status: Check['status'], detail: string, extra?: { bytes?: Uint8Array; offset?: number }): NtpFinding => ({
    check: check('ntp', `ntp.${where}`, `NTP ${where} (${target.source})`, status, detail, extra),
  });
  if (outcome.kind === 'skip') return c('skip', outcome.reason);
  if (outcome.kind === 'timeout') return c('fail', `no answer within ${outcome.waitedMs} ms`);
  if (outcome.kind === 'error') return c('fail', `no answer: ${outcome.message}`);
  const d = decodeNtp(outcome.bytes);
  if (!d.ok) return c('fail', d.error.message, { bytes: outcome.bytes.subarray(0, 48), offset: 0 });
  const p = d.value;
  if (p.mode !== NtpMode.SERVER) return c('fail', `mode ${p.mode}, not 4 (server)`, { bytes: outcome.bytes.subarray(0, 1), offset: 0 });
  if (hex(p.originTime) !== hex(t1)) {
    return c('fail', `origin timestamp ${hex(p.originTime)} is not the request's transmit timestamp ${hex(t1)} echoed byte for byte: clients drop this reply`, { bytes: outcome.bytes.subarray(24, 32), offset: 24 });
  }
  if (p.stratum === 0) return c('fail', `stratum 0: kiss-o'-death${refIdText(p.referenceId) ? ` "${refIdText(p.referenceId)}"` : ''}`, { bytes: outcome.bytes.subarray(1, 2), offset: 1 });
  if (p.stratum >= 16) return c('fail', `stratum ${p.stratum}: the server says it is not synchronised`, { bytes: outcome.bytes.subarray(1, 2), offset: 1 });
  if (p.leap === 3) return c('fail', 'leap indicator 3 (alarm): the server clock is not synchronised', { bytes: outcome.bytes.subarray(0, 1), offset: 0 });
  if (isZeroTimestamp(p.transmitTime) || isZeroTimestamp(p.receiveTime)) {
    return c('fail', 'receive or transmit timestamp is zero', { bytes: outcome.bytes.subarray(32, 48), offset: 32 });
  }
  // RFC 5905 §8: offset = ((T2 - T1) + (T3 - T4)) / 2, delay = (T4 - T1) - (T3 - T2).
  const offset = (ntpDiffSeconds(p.receiveTime, t1) + ntpDiffSeconds(p.transmitTime, outcome.t4)) / 2;
  const delay = ntpDiffSeconds(outcome.t4, t1) - ntpDiffSeconds(p.transmitTime, p.receiveTime);
  const ref = refIdText(p.referenceId);
  const text = `stratum ${p.stratum}${ref && p.stratum <= 1 ? ` (${ref})` : ''}, offset ${offset >= 0 ? '+' : ''}${offset.toFixed(3)} s from this host, delay ${(delay * 1000).toFixed(1)} ms`;
  if (Math.abs(offset) > maxOffsetSeconds) {
    return { ...c('fail', `${text}: more than ${maxOffsetSeconds} s from this host's clock (is this host's clock or the server's wrong?)`, { bytes: outcome.bytes.subarray(32, 48), offset: 32 }), offsetSeconds: offset };
  }
  return { ...c('pass', text), offsetSeconds: offset };
}

/** Any good time source will do: failures of the others are warnings then. */
export function gradeNtp(findings: readonly NtpFinding[]): Check[] {
  return gradeAlternatives(findings.map((f) => f.check), 'another time source answers');
}
