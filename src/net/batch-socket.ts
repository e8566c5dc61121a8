// A UDP socket read and written in batches (recvmmsg/sendmmsg in
// native/devsock.c): the addon's side of ./udp-transport.ts, through which
// every daemon and the probe open their sockets.
//
// Why: profiling the DNS daemon on Node's dgram showed ~70 % of its busy time
// in dgram's per-datagram send path (a request object, an address lookup,
// a syscall); receive costs a Buffer, a string address and a JS call each.
// Here a readiness event costs one recvmmsg, one call into JS for up to
// `slots` datagrams, and one sendmmsg for all the replies. NTP gets the
// kernel's receive timestamp (SO_TIMESTAMPNS) and a transmit timestamp
// written just before the send syscall, instead of event-loop times.
import { handleLifetime, loadNativeAddon } from './native-addon.js';

/** Words per received datagram in `inMeta` (see native/devsock.c). */
export const IN_WORDS = 10;
/** Words per reply in `outMeta`. */
export const OUT_WORDS = 6;
export const IN = { len: 0, flags: 1, srcIp: 2, srcPort: 3, dstIp: 4, localIp: 5, ifindex: 6, tsSec: 7, tsNsec: 8 } as const;
export const OUT = { len: 0, dstIp: 1, dstPort: 2, srcIp: 3, flags: 4 } as const;
export const IN_TRUNCATED = 1;
export const IN_TIMESTAMP = 2;
/** Reply flag: the addon writes CLOCK_REALTIME as an NTP timestamp at bytes 40..47 right before sending. */
export const OUT_NTP_TRANSMIT = 1;

export interface BatchStats {
  received: number;
  /** Datagrams longer than a slot and its overflow (only those bytes were kept). */
  truncated: number;
  batches: number;
  sent: number;
  sendErrors: number;
  /** errno of the last failed send (0: none). */
  lastSendErrno: number;
}

/**
 * What the batch handler sees. Slot i of `input` is
 * `input.subarray(i * slotSize, i * slotSize + inMeta[i * IN_WORDS + IN.len])`;
 * it is overwritten by the next batch, so copy what must outlive the call.
 * A datagram longer than slotSize (up to slotSize + overflow) continues in
 * `inOverflow.subarray(i * overflow, ...)`.
 * Replies go to slots 0..n-1 of `output`/`outMeta`; the handler returns n.
 */
export interface BatchView {
  readonly slots: number;
  readonly slotSize: number;
  /** Bytes a datagram may run past its slot (0: none; an addon built before this option also says 0). */
  readonly overflow: number;
  readonly inOverflow: Buffer;
  readonly input: Buffer;
  readonly inMeta: Uint32Array;
  readonly output: Buffer;
  readonly outMeta: Uint32Array;
}

export interface BatchSocket extends BatchView {
  readonly port: number;
  /** Kernel index of interfaceName when opened; 0 without one. */
  readonly ifindex: number;
  /** One reply outside a batch (e.g. a forwarded answer). Throws an Error with `code`. */
  sendTo(bytes: Uint8Array, ip: number, port: number): void;
  /**
   * Sends out slots 0..count-1 now, outside a batch handler (replies that
   * waited for something, e.g. a lease on disk). Failures are counted in
   * stats().sendErrors, as for a batch.
   */
  sendOut(count: number): void;
  stats(): BatchStats;
  /** Idempotent. */
  close(): void;
  ref(): void;
  unref(): void;
}

export interface OpenBatchSocketOptions {
  address: string;
  port: number;
  /** SO_BINDTODEVICE: only datagrams that arrived on this interface. */
  interfaceName?: string;
  /** Datagrams per batch (default 64). */
  slots?: number;
  /** Largest datagram kept in a slot, and largest reply (default 2048). */
  slotSize?: number;
  /** Bytes a datagram may run past its slot, kept per slot outside the slots (default 0). */
  overflow?: number;
  /** SO_TIMESTAMPNS: kernel receive times in inMeta (NTP). */
  timestamps?: boolean;
  /** SO_RCVBUF in bytes (capped by net.core.rmem_max). */
  rcvbuf?: number;
  /**
   * SO_REUSEPORT before bind: other sockets with it, of the same effective
   * UID, may bind the same address and port, and the kernel hashes each flow
   * (source address and port) to one of them.
   */
  reusePort?: boolean;
  /** Called with the number of datagrams in slots 0..count-1; returns the number of replies written. */
  onBatch: (count: number) => number;
  onError: (err: Error) => void;
}

type Handle = {
  readonly port: number;
  readonly ifindex: number;
  readonly slots: number;
  readonly slotSize: number;
  readonly overflow?: number;
  readonly inOverflow?: ArrayBuffer;
  readonly inData: ArrayBuffer;
  readonly inMeta: ArrayBuffer;
  readonly outData: ArrayBuffer;
  readonly outMeta: ArrayBuffer;
  readonly stats: ArrayBuffer;
};
interface Addon {
  openBatch(
    address: string,
    port: number,
    ifname: string | null,
    options: { slots?: number; slotSize?: number; overflow?: number; timestamps?: boolean; rcvbuf?: number; reusePort?: boolean },
    onBatch: (count: number) => number,
    onError: (err: Error) => void,
  ): Handle;
  sendTo(handle: Handle, bytes: Uint8Array, ip: number, port: number): number;
  sendBatch(handle: Handle, count: number): number;
  realtime(): [number, number];
  /** Absent in an addon built before openBatch took reusePort. */
  readonly reusePort?: boolean;
  close(handle: Handle): void;
  ref(handle: Handle): void;
  unref(handle: Handle): void;
}

export function batchSocketsAvailable(): { ok: true } | { ok: false; reason: string } {
  const l = loadNativeAddon<Addon>();
  return l.ok ? { ok: true } : { ok: false, reason: l.reason };
}

/** openBatch takes reusePort (an addon built before it would ignore it, and a second socket then fails to bind). */
export function reusePortAvailable(): boolean {
  const l = loadNativeAddon<Addon>();
  return l.ok && l.addon.reusePort === true;
}

/** CLOCK_REALTIME, the clock the addon stamps NTP transmit times with, as [seconds, nanoseconds]. */
export function realtime(): [number, number] {
  const l = loadNativeAddon<Addon>();
  if (!l.ok) throw new Error(l.reason);
  return l.addon.realtime();
}

/** Opens and binds the socket (throws an Error with `code`, e.g. EADDRINUSE); replies to batches start at once. */
export function openBatchSocket(opts: OpenBatchSocketOptions): BatchSocket {
  const l = loadNativeAddon<Addon>();
  if (!l.ok) throw new Error(l.reason);
  const addon = l.addon;
  const { onBatch, onError } = opts;
  // The handler runs from the libuv poll: a throw would be an uncaught
  // exception. A failed batch is reported and answers nothing.
  const reportError = (err: unknown): void => {
    try {
      onError(err instanceof Error ? err : new Error(String(err)));
    } catch (inner) {
      process.emitWarning(`batch socket onError handler threw: ${String(inner)}`);
    }
  };
  const h = addon.openBatch(
    opts.address,
    opts.port,
    opts.interfaceName ?? null,
    { slots: opts.slots, slotSize: opts.slotSize, overflow: opts.overflow, timestamps: opts.timestamps, rcvbuf: opts.rcvbuf, reusePort: opts.reusePort },
    (count) => {
      try {
        return onBatch(count);
      } catch (err) {
        reportError(err);
        return 0;
      }
    },
    reportError,
  );
  const stats = new Float64Array(h.stats);
  const life = handleLifetime(addon, h);
  return {
    port: h.port,
    ifindex: h.ifindex,
    slots: h.slots,
    slotSize: h.slotSize,
    overflow: h.inOverflow === undefined ? 0 : (h.overflow ?? 0),
    inOverflow: h.inOverflow === undefined ? Buffer.alloc(0) : Buffer.from(h.inOverflow),
    input: Buffer.from(h.inData),
    inMeta: new Uint32Array(h.inMeta),
    output: Buffer.from(h.outData),
    outMeta: new Uint32Array(h.outMeta),
    sendTo(bytes, ip, port) {
      if (life.closed) throw new Error('batch socket is closed');
      addon.sendTo(h, bytes, ip, port);
    },
    sendOut(count) {
      if (life.closed) throw new Error('batch socket is closed');
      addon.sendBatch(h, count);
    },
    stats() {
      return { received: stats[0]!, truncated: stats[1]!, batches: stats[2]!, sent: stats[3]!, sendErrors: stats[4]!, lastSendErrno: stats[5]! };
    },
    close: life.close,
    ref: life.ref,
    unref: life.unref,
  };
}


