// Conflict detection before an address is offered (issue 17): a static
// device already using a pool address must not have it offered to a phone.
// ISC dhcpd pings before every offer (ping-check) and abandons an address
// that answers; dnsmasq pings too, waits a bounded time, remembers a silent
// address for a while and skips one that answered. Same here: the engine
// (rfc2131.ts, pure) asks the gate whether an address must be probed first
// and returns a "probe" decision; the daemon runs the probe with this class
// and hands the message back to the engine with the result.
import type { Logger } from '../log.js';
import { openIcmpEcho, type IcmpEcho } from '../net/icmp-echo.js';

/** A silent address is offered without a new probe for this long (dnsmasq: 30 s; an admin's static device rarely appears within minutes). */
const CLEAR_FOR_MS = 2 * 60_000;
/**
 * Probes waiting at once. More first offers than this at the same moment (a
 * flood of new MACs) are offered unprobed rather than queued: the probe is a
 * courtesy to static devices, never a way to slow DHCP under load.
 */
const MAX_IN_FLIGHT = 64;
/** Forget silent addresses past CLEAR_FOR_MS once this many are remembered. */
const PRUNE_AT = 4096;

interface Pending {
  readonly done: Promise<boolean>;
  resolve(answered: boolean): void;
  readonly timer: NodeJS.Timeout;
}

/** Who sends echo requests: the raw socket, or a test's stand-in. */
export type EchoSender = Pick<IcmpEcho, 'send' | 'close'>;

export interface ProbeStats {
  probes: number;
  conflicts: number;
  /** First offers made unprobed because MAX_IN_FLIGHT probes were waiting. */
  unprobed: number;
}

export class ConflictProbe {
  readonly stats: ProbeStats = { probes: 0, conflicts: 0, unprobed: 0 };
  /** ip -> when a probe found nothing there. */
  private readonly silent = new Map<string, number>();
  private readonly pending = new Map<string, Pending>();
  private readonly id = process.pid & 0xffff;
  private seq = 0;
  private echo: EchoSender | null = null;

  constructor(
    private timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The socket the probes go out by (set once it is open). */
  attach(echo: EchoSender): void {
    this.echo = echo;
  }

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  /** The engine's gate (rfc2131.ts `ProbeGate`): must `ip` be probed before it is offered? */
  readonly mustProbe = (ip: string): boolean => {
    if (this.echo === null) return false;
    if (this.pending.has(ip)) return true;
    const at = this.silent.get(ip);
    if (at !== undefined && this.now() - at < CLEAR_FOR_MS) return false;
    if (this.pending.size >= MAX_IN_FLIGHT) {
      this.stats.unprobed++;
      return false;
    }
    return true;
  };

  /** Resolves true when something answered at `ip` within the timeout. One probe per address at a time. */
  probe(ip: string): Promise<boolean> {
    const waiting = this.pending.get(ip);
    if (waiting !== undefined) return waiting.done;
    let resolve!: (answered: boolean) => void;
    const done = new Promise<boolean>((r) => (resolve = r));
    const settle = (answered: boolean): void => {
      const p = this.pending.get(ip);
      if (p === undefined) return;
      clearTimeout(p.timer);
      this.pending.delete(ip);
      if (answered) {
        this.stats.conflicts++;
        this.silent.delete(ip);
      } else {
        this.remember(ip);
      }
      resolve(answered);
    };
    const timer = setTimeout(() => settle(false), this.timeoutMs);
    this.pending.set(ip, { done, resolve: settle, timer });
    this.stats.probes++;
    try {
      this.seq = (this.seq + 1) & 0xffff;
      this.echo!.send(ip, this.id, this.seq);
    } catch {
      // Not sendable (no route): nothing can be learnt, the address is offered.
      settle(false);
    }
    return done;
  }

  /** An echo reply from the raw socket. Ours (our id) from an address being probed: a conflict. */
  reply(from: string, id: number): void {
    if (id !== this.id) return;
    this.pending.get(from)?.resolve(true);
  }

  close(): void {
    for (const p of this.pending.values()) p.resolve(false);
    this.echo?.close();
    this.echo = null;
  }

  private remember(ip: string): void {
    const now = this.now();
    if (this.silent.size >= PRUNE_AT) for (const [k, at] of this.silent) if (now - at >= CLEAR_FOR_MS) this.silent.delete(k);
    this.silent.set(ip, now);
  }
}

/**
 * The probe of a daemon serving an interface, with its raw socket open (call
 * it before privileges are dropped), or null with one warn line saying why
 * conflict detection is off. The socket is not bound to the device: the
 * connected route sends the echo out of it anyway, and a device-bound socket
 * would stay bound to the old index of an interface deleted and re-created
 * (src/net/link-watch.ts), which cannot be reopened once root is dropped.
 * Replies are matched by our echo id and the address being probed.
 */
export function openConflictProbe(timeoutMs: number, log: Logger): ConflictProbe | null {
  const probe = new ConflictProbe(timeoutMs);
  const opened = openIcmpEcho(
    null,
    (from, id) => probe.reply(from, id),
    (err) => log.warn({ err: err.message }, 'DHCP conflict probe socket error'),
  );
  if (!opened.ok) {
    log.warn({ reason: opened.reason }, `DHCP conflict detection is off (addresses are offered without an ICMP echo first): ${opened.reason}`);
    return null;
  }
  probe.attach(opened.echo);
  return probe;
}
