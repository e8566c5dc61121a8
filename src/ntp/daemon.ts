// The NTP daemon: a UDP socket and a clock around the pure responder.
// Per datagram: read the clock first, decide, read the clock again last, send.
// With the batch path of the UDP transport (src/net/) "first" is the kernel's
// receive time (SO_TIMESTAMPNS) and "last" is stamped by the addon right
// before sendmmsg(): the event loop's delays fall outside both. Without the
// addon (or with an injected test clock), Node's dgram and the anchored JS clock.
// Nothing a client sends can throw out of here; anything that is not a client
// request is counted and dropped without a reply.
import type { Logger } from '../log.js';
import { intToIp } from '../wire/ipv4.js';
import { openUdpTransport, type Datagram, type UdpTransport } from '../net/udp-transport.js';
import type { NtpPlan, Plan } from '../site/plan.js';
import { asciiRefId, NTP_UNIX_OFFSET_SECONDS, ntpDiffSeconds, ntpTimestamp, ntpToUnixMs, unixMsToNtp, ZERO_TIMESTAMP, type LeapIndicator, type NtpTimestamp } from '../wire/ntp-packet.js';
import { AnchoredClock, measurePrecision, type ClockSource } from './clock.js';
import { RateLimiter, DEFAULT_RATE_LIMIT } from './rate-limit.js';
import { DEFAULT_SETTINGS, respond, type ResponderSettings } from './responder.js';

/** Longest NTP request read (the UDP transport's slot); NTS-sized requests are not served (no NTS here). */
const NTP_SLOT = 512;

export interface NtpCounters {
  received: number;
  replies: number;
  /** Shorter than 48 bytes, or longer than the transport's slot (NTP_SLOT bytes). */
  malformed: number;
  /** Version 0 or above 4. */
  badVersion: number;
  /** Any mode but client (3): symmetric, server, broadcast, control (6), private (7). */
  badMode: number;
  rateLimited: number;
  kisses: number;
  sendErrors: number;
  internalErrors: number;
  clockSteps: number;
}

/** One answered request, for the staging timeline ("time synced" per phone). */
export interface NtpClientEvent {
  readonly address: string;
  readonly port: number;
  readonly version: number;
  /** The client's transmit timestamp minus our receive time, ms: how wrong its clock was (plus the one-way delay). */
  readonly clientOffsetMs: number;
  /** The time the client believed it was, ISO 8601, or null if it sent zero. */
  readonly clientTime: string | null;
  readonly firstSeen: boolean;
  readonly kind: 'reply' | 'kiss';
}

/** Stratum, refid and rate limit come from the plan (`plan.ntp`), at start and on every reload. */
export interface NtpDaemonOptions {
  logger: Logger;
  /** 0 by default (we are the VLAN's time source); 3 tells clients we are unsynchronised. */
  leap?: LeapIndicator;
  /** How many client addresses to remember for the "first seen" info line. */
  maxKnownClients?: number;
  /** Injectable for tests; by default the system wall clock at sub-millisecond resolution. */
  clock?: ClockSource & { verify?(): number | null; lastVerifiedMs?: number };
  events?: { onClient?: (e: NtpClientEvent) => void };
  /** Node's dgram and the JS clock even where the batch socket is available (tests of the fallback). */
  dgram?: boolean;
}

/** How often the served clock is checked against the system clock; each good check is the new reference time. */
const VERIFY_INTERVAL_MS = 1000;

export class NtpDaemon {
  readonly counters: NtpCounters = {
    received: 0,
    replies: 0,
    malformed: 0,
    badVersion: 0,
    badMode: 0,
    rateLimited: 0,
    kisses: 0,
    sendErrors: 0,
    internalErrors: 0,
    clockSteps: 0,
  };
  private settings: ResponderSettings;
  private readonly log: Logger;
  private readonly clock: NonNullable<NtpDaemonOptions['clock']>;
  /** Per-client rate limit (plan.ntp.rateLimit), null when off; replaced only when the plan's setting changes. */
  private limiter: RateLimiter | null = null;
  private rateLimit: NtpPlan['rateLimit'] = null;
  /** Client addresses (as uint32) seen, oldest first. */
  private readonly known = new Map<number, true>();
  private readonly maxKnown: number;
  private readonly precision: number;
  private readonly transmitClock = (): NtpTimestamp => unixMsToNtp(this.clock.nowMs());
  private udp!: UdpTransport;
  /** The addon stamps our transmit time at send: the responder leaves zeros. */
  private kernelStamps = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    /** The plan the socket was bound with; reload never rebinds. */
    private readonly boundPlan: Plan,
    private readonly options: NtpDaemonOptions,
  ) {
    this.log = options.logger.child({ daemon: 'ntp' });
    this.clock = options.clock ?? new AnchoredClock();
    this.precision = measurePrecision(this.clock);
    this.maxKnown = options.maxKnownClients ?? 4096;
    this.settings = this.makeSettings(boundPlan);
    this.setRateLimit(boundPlan.ntp.rateLimit);
  }

  static async start(plan: Plan, options: NtpDaemonOptions): Promise<NtpDaemon> {
    const daemon = new NtpDaemon(plan, options);
    daemon.warmUp();
    await daemon.bind();
    daemon.timer = setInterval(() => daemon.verifyClock(), VERIFY_INTERVAL_MS);
    daemon.timer.unref();
    const s = daemon.settings;
    const { address, port } = daemon.address();
    if (daemon.udp.fallbackReason !== null) daemon.log.warn({ reason: daemon.udp.fallbackReason }, `NTP through Node's dgram, timestamps from the event loop: ${daemon.udp.fallbackReason}`);
    daemon.log.info(
      { listen: `${address}:${port}`, stratum: s.stratum, refId: plan.ntp.refId, precision: s.precision, rateLimit: daemon.limiter !== null },
      `NTP serving on ${address}:${port} (stratum ${s.stratum}, local clock)`,
    );
    return daemon;
  }

  /** Takes the new stratum, refid and rate limit; the socket stays (a new address or port needs a restart). */
  reload(plan: Plan): void {
    if (plan.address !== this.boundPlan.address || plan.ntp.port !== this.boundPlan.ntp.port) {
      this.log.warn(
        { listening: `${this.boundPlan.address}:${this.boundPlan.ntp.port}`, wanted: `${plan.address}:${plan.ntp.port}` },
        'address or NTP port changed: restart provlab for that to take effect',
      );
    }
    this.settings = this.makeSettings(plan);
    this.setRateLimit(plan.ntp.rateLimit);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.udp.close();
  }

  /** The address and port actually bound (useful when the plan says port 0). */
  address(): { address: string; port: number } {
    return { address: this.udp.address, port: this.udp.port };
  }

  /** 'kernel': receive and transmit times stamped by the kernel and the addon; 'js': by the event loop. */
  get timestamping(): 'kernel' | 'js' {
    return this.kernelStamps ? 'kernel' : 'js';
  }

  /**
   * Runs the request path a few hundred times on a synthetic request so the
   * first phone is not answered by cold, unoptimised code: a slow first answer
   * is harmless, but time spent before our receive stamp or after our transmit
   * stamp is invisible to the client and skews the offset it computes.
   */
  private warmUp(): void {
    const request = new Uint8Array(48);
    request[0] = 0x23;
    for (let i = 0; i < 300; i++) {
      request[47] = i & 0xff;
      respond(request, unixMsToNtp(this.clock.nowMs()), this.settings, this.transmitClock);
    }
  }

  private makeSettings(plan: Plan): ResponderSettings {
    const verified = this.clock.lastVerifiedMs ?? this.clock.nowMs();
    return {
      ...DEFAULT_SETTINGS,
      stratum: plan.ntp.stratum,
      referenceId: asciiRefId(plan.ntp.refId),
      referenceTime: unixMsToNtp(verified),
      precision: this.precision,
      leap: this.options.leap ?? 0,
      rootDelay: 0,
      // What we know of our own error at the reference time: one clock reading.
      rootDispersion: 2 ** this.precision,
    };
  }

  /** A changed setting starts with fresh buckets; an unchanged one keeps each client's. */
  private setRateLimit(next: NtpPlan['rateLimit']): void {
    const cur = this.rateLimit;
    if (cur === next || (cur && next && cur.intervalSeconds === next.intervalSeconds && cur.burst === next.burst)) return;
    this.rateLimit = next;
    this.limiter = next ? new RateLimiter({ ...DEFAULT_RATE_LIMIT, ...next }) : null;
  }

  private verifyClock(): void {
    if (!this.clock.verify) return;
    const step = this.clock.verify();
    if (step !== null) {
      this.counters.clockSteps++;
      this.log.warn({ stepMs: step }, `system clock stepped by ${(-step).toFixed(3)} ms: served clock re-anchored`);
    }
    this.settings = { ...this.settings, referenceTime: unixMsToNtp(this.clock.lastVerifiedMs ?? this.clock.nowMs()) };
  }

  private async bind(): Promise<void> {
    this.udp = await openUdpTransport(
      {
        address: this.boundPlan.address,
        port: this.boundPlan.ntp.port,
        // Requests are 48 bytes (an SNTP phone) plus any extension fields; longer
        // ones are counted as malformed. 512, not 2048: a 64-slot batch in 32 KiB
        // instead of 128 KiB served 3-4 % more replies/s (A/B in session 7's note).
        slotSize: NTP_SLOT,
        timestamps: true,
        // An injected clock must also be the receive clock.
        dgram: this.options.dgram === true || this.options.clock !== undefined,
      },
      {
        datagram: (msg, from) => this.receive(msg, from),
        oversized: (bytes, from) => {
          if (this.stopped) return;
          this.counters.received++;
          this.counters.malformed++;
          if (this.log.isLevelEnabled('debug')) this.log.debug({ client: intToIp(from.srcIp), port: from.srcPort, bytes, reason: 'malformed', detail: `longer than ${NTP_SLOT} bytes` }, 'NTP packet dropped');
        },
        sendFailed: (err, count, to) => {
          this.counters.sendErrors += count;
          this.log.warn({ err: err.message, client: to }, 'NTP reply not sent');
        },
        socketError: (err) => {
          this.counters.internalErrors++;
          this.log.error({ err }, 'NTP socket error');
        },
      },
    );
    this.kernelStamps = this.udp.kernelTimestamps;
  }

  /** Entry point for every datagram. Never throws. */
  private receive(msg: Uint8Array, from: Datagram): void {
    let receiveTime: NtpTimestamp;
    let receivedMs: number;
    if (from.hasTimestamp) {
      const sec = from.tsSec;
      const nsec = from.tsNsec;
      // Exact: 2^32 fractions of a second from nanoseconds, no detour through milliseconds.
      receiveTime = ntpTimestamp((sec + NTP_UNIX_OFFSET_SECONDS) % 2 ** 32, Math.floor((nsec * 2 ** 32) / 1e9));
      receivedMs = sec * 1000 + nsec / 1e6;
    } else {
      // Without the kernel's time, the first thing done: after kernel and event-loop latency, which Node cannot see past.
      receivedMs = this.clock.nowMs();
      receiveTime = unixMsToNtp(receivedMs);
    }
    const out = this.handle(msg, from.srcIp, from.srcPort, receiveTime, receivedMs);
    // A kiss repeats the client's own time; only real replies get our transmit time.
    if (out !== null) this.udp.send(out.bytes, from.srcIp, from.srcPort, !out.kiss);
  }

  /** The reply to send (its transmit time still to be stamped), or null. Never throws. */
  private handle(msg: Uint8Array, ip: number, port: number, receiveTime: NtpTimestamp, receivedMs: number): { bytes: Uint8Array; kiss: boolean } | null {
    if (this.stopped) return null;
    this.counters.received++;
    try {
      const limiter = this.limiter;
      const transmit = this.kernelStamps ? zeroTransmit : this.transmitClock;
      const answer = respond(msg, receiveTime, this.settings, transmit, limiter ? () => limiter.check(intToIp(ip), receivedMs) : undefined);
      if (answer.kind === 'drop') {
        if (answer.reason === 'malformed') this.counters.malformed++;
        else if (answer.reason === 'version') this.counters.badVersion++;
        else if (answer.reason === 'mode') this.counters.badMode++;
        else this.counters.rateLimited++;
        if (this.log.isLevelEnabled('debug')) {
          this.log.debug({ client: intToIp(ip), port, bytes: msg.length, reason: answer.reason, detail: answer.detail }, 'NTP packet dropped');
        }
        return null;
      }
      if (port === 0) return null; // nothing can be sent to port 0
      if (answer.kind === 'kiss') this.counters.kisses++;
      else this.counters.replies++;
      this.noteClient(ip, port, answer.request.version, answer.request.transmitTime, receiveTime, receivedMs, answer.kind);
      return { bytes: answer.bytes, kiss: answer.kind === 'kiss' };
    } catch (err) {
      // A bug, not a bad packet: keep serving, but make it loud.
      this.counters.internalErrors++;
      this.log.error({ err }, 'internal error while handling an NTP packet');
      return null;
    }
  }

  private noteClient(ip: number, port: number, version: number, clientTransmit: NtpTimestamp, receiveTime: NtpTimestamp, receivedMs: number, kind: 'reply' | 'kiss'): void {
    const firstSeen = !this.known.has(ip);
    const wantDebug = this.log.isLevelEnabled('debug');
    const onClient = this.options.events?.onClient;
    if (!firstSeen && !wantDebug && !onClient) return;
    if (firstSeen) {
      // Bounded memory: forget the longest-known address first.
      if (this.known.size >= this.maxKnown) {
        const oldest = this.known.keys().next().value;
        if (oldest !== undefined) this.known.delete(oldest);
      }
      this.known.set(ip, true);
    }
    const address = intToIp(ip);
    const zero = clientTransmit.every((b) => b === 0);
    const event: NtpClientEvent = {
      address,
      port,
      version,
      clientOffsetMs: zero ? 0 : ntpDiffSeconds(clientTransmit, receiveTime) * 1000,
      clientTime: zero ? null : isoOrNull(ntpToUnixMs(clientTransmit, receivedMs)),
      firstSeen,
      kind,
    };
    const line = { client: event.address, port: event.port, version, clientOffsetMs: round3(event.clientOffsetMs), clientTime: event.clientTime, kind };
    const text = `NTP v${version} ${kind === 'kiss' ? 'RATE kiss to' : 'time served to'} ${address} (its clock was off by ${(event.clientOffsetMs / 1000).toFixed(3)} s)`;
    if (firstSeen) this.log.info(line, text);
    else if (wantDebug) this.log.debug(line, text);
    onClient?.(event);
  }
}

/** The addon writes the real transmit time at send; the responder leaves zeros. */
const zeroTransmit = (): NtpTimestamp => ZERO_TIMESTAMP;

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function isoOrNull(ms: number): string | null {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
