// The one UDP transport of the appliance and the probe: DHCP, DNS, NTP and
// `provlab probe` open their sockets here. Where the native addon is built,
// a batch socket (recvmmsg/sendmmsg, ./batch-socket.ts), optionally bound to
// a device (SO_BINDTODEVICE) and with kernel receive timestamps; otherwise
// Node's dgram, which can do neither (a device-bound socket then fails to
// open, with the reason). README.md says why each choice was made.
import dgram from 'node:dgram';
import { constants as osConstants } from 'node:os';
import { batchSocketsAvailable, IN, IN_TIMESTAMP, IN_TRUNCATED, IN_WORDS, OUT, OUT_NTP_TRANSMIT, OUT_WORDS, openBatchSocket, reusePortAvailable, type BatchSocket } from './batch-socket.js';
import { intToIp, parseIPv4 } from '../wire/ipv4.js';
import { addArpEntry, interfaceBindError } from './device-socket.js';

/**
 * Where a datagram came from, and what the kernel said about it. One object,
 * refilled for every datagram: read it during the call, never keep it.
 */
export interface Datagram {
  srcIp: number;
  srcPort: number;
  /** Destination in the IP header (255.255.255.255 for a broadcast); 0 on the dgram path. */
  dstIp: number;
  /** Our address on the arrival interface (where a reply comes from); 0 on the dgram path. */
  localIp: number;
  /** Arrival interface (IP_PKTINFO); 0 on the dgram path. */
  ifindex: number;
  /** The kernel's receive time (SO_TIMESTAMPNS) is in tsSec/tsNsec. */
  hasTimestamp: boolean;
  tsSec: number;
  tsNsec: number;
}

export interface UdpHandlers {
  /**
   * Every datagram of at most maxDatagram bytes. `bytes` is overwritten by the
   * next batch unless the transport was opened with keepBytes. Replies sent
   * from here leave together when the batch ends. A throw is reported to
   * socketError and costs this datagram only.
   */
  datagram(bytes: Uint8Array, from: Datagram): void;
  /** A datagram longer than maxDatagram: dropped unread; `bytes` is how much was read of it. */
  oversized?(bytes: number, from: Datagram): void;
  /** Before the first and after the last datagram of one receive (a batch, or one dgram message). */
  batchStart?(): void;
  batchEnd?(): void;
  /** `count` replies the kernel refused; `to` says which (one call for a whole batch). */
  sendFailed(err: Error, count: number, to: string): void;
  /** The socket itself failed (not one packet), or a handler threw. */
  socketError(err: Error): void;
}

export interface UdpTransportOptions {
  address: string;
  port: number;
  /** SO_BINDTODEVICE: only datagrams that arrived on this interface, sends leave by it (address should be 0.0.0.0). Needs the addon. */
  device?: string | null;
  /** Who binds, for the error an operator reads ("cannot bind DHCP to interface ..."). */
  service?: string;
  /** Datagrams per recvmmsg() (default 64). */
  slots?: number;
  /** Longest datagram read into a slot (default 2048); also the largest reply sent from a slot. */
  slotSize?: number;
  /**
   * Longest datagram accepted, on either path (default: slotSize). Longer
   * than a slot is the slow path: the batch socket reads the rest into a
   * per-slot overflow area and the datagram is handed over as one new Buffer.
   */
  maxDatagram?: number;
  /** SO_RCVBUF in bytes (SO_RCVBUFFORCE where privileged). */
  rcvbuf?: number;
  /** SO_TIMESTAMPNS: kernel receive times in each Datagram (batch path). */
  timestamps?: boolean;
  /** The datagram's bytes stay valid after the call (one copy per batch): replies that wait for the disk. */
  keepBytes?: boolean;
  /** Send what is queued once this many replies wait, not only at the end of the batch. */
  flushAfter?: number;
  /**
   * Batch path: this many sockets on the address and port (SO_REUSEPORT,
   * default 1). The kernel hashes each flow to one of them, so one flooding
   * source fills one queue and the clients hashed to the others never wait
   * behind it; the event loop serves each readable socket in turn. Node 20's
   * dgram has no reusePort: the fallback keeps one socket.
   */
  sockets?: number;
  /** Node's dgram even where the addon is built (tests of the fallback; NTP with a test clock). */
  dgram?: boolean;
  /**
   * Batch path: replies leave from this local address (IP_PKTINFO
   * `ipi_spec_dst` in sendmmsg()), not the kernel's choice. A socket on
   * 0.0.0.0 bound to a device otherwise sends from the interface's primary
   * address, while DHCP's option 54 may name a secondary one. Must be an
   * address of this host (the kernel refuses others with EINVAL).
   */
  sourceIp?: string | null;
}

export interface UdpStats {
  received: number;
  oversized: number;
  /** Datagrams that arrived on another interface than the device (dropped; SO_BINDTODEVICE should make it 0). */
  wrongInterface: number;
  batches: number;
  sent: number;
  sendErrors: number;
}

export interface UdpTransport {
  readonly kind: 'batch' | 'dgram';
  /** Why dgram serves though nobody asked for it (the addon is missing); null otherwise. For one warn line. */
  readonly fallbackReason: string | null;
  /** Receive times from the kernel, transmit times stamped right before sendmmsg() (what NTP wants). */
  readonly kernelTimestamps: boolean;
  /** Sockets serving the port (1 on the dgram path). */
  readonly sockets: number;
  readonly address: string;
  /** The bound port (the kernel's choice when opened with port 0). */
  readonly port: number;
  readonly device: string | null;
  /** Kernel index of the device when opened; 0 without one. */
  readonly ifindex: number;
  readonly slotSize: number;
  /** Longest datagram delivered to `datagram()`. */
  readonly maxDatagram: number;
  /**
   * Queues one reply; it leaves with the rest of the batch, or on the next
   * tick outside one. `stampNtpTransmit`: the batch path writes the send
   * time at bytes 40..47 (the dgram path sends the bytes as they are).
   * Throws only when closed.
   */
  send(bytes: Uint8Array, ip: number, port: number, stampNtpTransmit?: boolean): void;
  /** send() to a dotted quad; throws on anything else. */
  sendTo(bytes: Uint8Array, address: string, port: number): void;
  /** Sends what is queued now instead of on the next tick (a probe's request, whose send time matters); failures reach sendFailed before it returns. */
  flush(): void;
  /** RFC 2131 §4.1: ip -> mac in the device's ARP table before a unicast to a client without an address. Throws. */
  addArp(ip: string, mac: string): void;
  stats(): UdpStats;
  ref(): void;
  unref(): void;
  /** Sends what is queued, then closes. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_SLOT_SIZE = 2048;

/** Opens and binds (throws an Error with `code`, e.g. EADDRINUSE); datagrams are delivered from the next loop turn. */
export async function openUdpTransport(opts: UdpTransportOptions, handlers: UdpHandlers): Promise<UdpTransport> {
  const device = opts.device ?? null;
  const available = batchSocketsAvailable();
  if (device !== null) {
    if (!available.ok) throw new Error(`cannot bind ${opts.service ?? 'UDP'} to interface ${device}: ${available.reason}`);
    return openBatch(opts, device, handlers);
  }
  if (opts.dgram === true) return openDgram(opts, handlers, null);
  return available.ok ? openBatch(opts, null, handlers) : openDgram(opts, handlers, available.reason);
}

/** A fresh Datagram with every field present (one hidden class). */
function newDatagram(): Datagram {
  return { srcIp: 0, srcPort: 0, dstIp: 0, localIp: 0, ifindex: 0, hasTimestamp: false, tsSec: 0, tsNsec: 0 };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** One batch socket of a transport and the replies queued in its out slots. */
interface Lane {
  readonly sock: BatchSocket;
  queued: number;
  scheduled: boolean;
  errorsSeen: number;
}

function openBatch(opts: UdpTransportOptions, device: string | null, h: UdpHandlers): UdpTransport {
  const sourceIp = opts.sourceIp ? parseIPv4(opts.sourceIp) : 0;
  if (sourceIp < 0) throw new Error(`not an IPv4 address: ${opts.sourceIp}`);
  const from = newDatagram();
  let inBatch = false;
  let closed = false;
  let wrongInterface = 0;
  let oversized = 0;
  // An addon built before reusePort serves with one socket, as before.
  const count = reusePortAvailable() ? Math.max(1, opts.sockets ?? 1) : 1;
  const lanes: Lane[] = [];
  // The lane being served: replies to a datagram leave by the socket it came in on.
  // Outside a batch (a forwarded answer) the first: all share address and port.
  let cur!: Lane;

  const openOne = (port: number): Lane => {
    let lane: Lane;
    const sock = openBatchSocket({
      address: opts.address,
      port,
      interfaceName: device ?? undefined,
      slots: opts.slots,
      slotSize: opts.slotSize ?? DEFAULT_SLOT_SIZE,
      overflow: Math.max(0, (opts.maxDatagram ?? 0) - (opts.slotSize ?? DEFAULT_SLOT_SIZE)),
      rcvbuf: opts.rcvbuf,
      timestamps: opts.timestamps,
      reusePort: count > 1,
      onBatch: (n) => {
        cur = lane;
        inBatch = true;
        try {
          h.batchStart?.();
          deliver(sock, n);
          h.batchEnd?.();
        } finally {
          inBatch = false;
          flush();
          cur = lanes[0]!;
        }
        // Replies went out through flush() (its send errors are seen at once), with any queued outside the batch.
        return 0;
      },
      onError: (err) => h.socketError(err),
    });
    lane = { sock, queued: 0, scheduled: false, errorsSeen: 0 };
    return lane;
  };
  try {
    if (count > 1 && opts.port !== 0) exclusiveCheck(opts, device);
    lanes.push(openOne(opts.port));
    // Port 0: the others join the port the kernel gave the first.
    while (lanes.length < count) lanes.push(openOne(lanes[0]!.sock.port));
  } catch (err) {
    for (const l of lanes) l.sock.close();
    throw device !== null ? interfaceBindError(opts.service ?? 'UDP', device, opts.port, err) : err;
  }
  cur = lanes[0]!;
  const { slotSize, slots, ifindex, overflow } = cur.sock;
  const flushAfter = Math.min(opts.flushAfter ?? slots, slots);
  const keep = opts.keepBytes === true;

  function deliver(sock: BatchSocket, count: number): void {
    const { input, inMeta, inOverflow } = sock;
    let copy: Buffer | null = null;
    if (keep) {
      let total = 0;
      for (let i = 0; i < count; i++) total += Math.min(slotSize, inMeta[i * IN_WORDS + IN.len]!);
      // The slots are overwritten by the next recvmmsg(): one copy per batch keeps the bytes valid.
      copy = Buffer.allocUnsafe(total);
    }
    let off = 0;
    for (let i = 0; i < count; i++) {
      const m = i * IN_WORDS;
      const len = inMeta[m + IN.len]!;
      const flags = inMeta[m + IN.flags]!;
      from.srcIp = inMeta[m + IN.srcIp]!;
      from.srcPort = inMeta[m + IN.srcPort]!;
      from.dstIp = inMeta[m + IN.dstIp]!;
      from.localIp = inMeta[m + IN.localIp]!;
      from.ifindex = inMeta[m + IN.ifindex]!;
      from.hasTimestamp = (flags & IN_TIMESTAMP) !== 0;
      from.tsSec = inMeta[m + IN.tsSec]!;
      from.tsNsec = inMeta[m + IN.tsNsec]!;
      try {
        // SO_BINDTODEVICE already guarantees this; checked again because
        // answering on the wrong network is the one failure we cannot afford.
        if (ifindex !== 0 && from.ifindex !== ifindex) {
          wrongInterface++;
          h.socketError(new Error(`dropped a datagram from ${intToIp(from.srcIp)} that arrived on ifindex ${from.ifindex}, not ${device}`));
          continue;
        }
        if (flags & IN_TRUNCATED) {
          oversized++;
          h.oversized?.(len, from);
          continue;
        }
        let bytes: Uint8Array;
        if (len > slotSize) {
          // Rare (a DNS query over 2 KiB): slot and overflow joined in a Buffer of its own.
          bytes = Buffer.concat([input.subarray(i * slotSize, (i + 1) * slotSize), inOverflow.subarray(i * overflow, i * overflow + len - slotSize)]);
        } else if (copy !== null) {
          input.copy(copy, off, i * slotSize, i * slotSize + len);
          bytes = copy.subarray(off, off + len);
          off += len;
        } else {
          bytes = input.subarray(i * slotSize, i * slotSize + len);
        }
        h.datagram(bytes, from);
      } catch (err) {
        h.socketError(asError(err));
      }
      if (cur.queued >= flushAfter) flush();
    }
  }

  function flushLane(lane: Lane): void {
    lane.scheduled = false;
    if (lane.queued === 0 || closed) return;
    const n = lane.queued;
    lane.queued = 0;
    try {
      lane.sock.sendOut(n);
    } catch (err) {
      h.sendFailed(asError(err), n, 'a batch');
      return;
    }
    const st = lane.sock.stats();
    if (st.sendErrors > lane.errorsSeen) {
      const failed = st.sendErrors - lane.errorsSeen;
      lane.errorsSeen = st.sendErrors;
      const code = errnoName(st.lastSendErrno);
      h.sendFailed(Object.assign(new Error(`sendmmsg: ${code}`), { code }), failed, `${failed} of ${n} replies`);
    }
  }

  const flush = (): void => flushLane(cur);

  function send(bytes: Uint8Array, ip: number, port: number, stampNtpTransmit = false): void {
    if (closed) throw new Error('UDP socket is closed');
    const lane = cur;
    if (bytes.length > slotSize) {
      // Bigger than a slot (a DHCP client allowing > 4 KiB): on its own, now.
      try {
        lane.sock.sendTo(bytes, ip, port);
      } catch (err) {
        h.sendFailed(asError(err), 1, `${intToIp(ip)}:${port}`);
      }
      return;
    }
    if (lane.queued === slots) flushLane(lane);
    const q = lane.queued;
    lane.sock.output.set(bytes, q * slotSize);
    const outMeta = lane.sock.outMeta;
    const o = q * OUT_WORDS;
    outMeta[o + OUT.len] = bytes.length;
    outMeta[o + OUT.dstIp] = ip;
    outMeta[o + OUT.dstPort] = port;
    outMeta[o + OUT.srcIp] = sourceIp; // 0: the kernel's choice, the bound address or the interface's primary
    // A reply that must carry its own send time (NTP; a kiss repeats the client's time instead).
    outMeta[o + OUT.flags] = stampNtpTransmit ? OUT_NTP_TRANSMIT : 0;
    lane.queued = q + 1;
    // Outside a batch (a DHCP ACK whose lease just reached the disk, a
    // forwarded DNS answer): with the others of this tick, in one sendmmsg().
    if (!inBatch && !lane.scheduled) {
      lane.scheduled = true;
      process.nextTick(flushLane, lane);
    }
  }

  return {
    kind: 'batch',
    fallbackReason: null,
    kernelTimestamps: opts.timestamps === true,
    sockets: lanes.length,
    address: opts.address,
    port: lanes[0]!.sock.port,
    device,
    ifindex,
    slotSize,
    maxDatagram: slotSize + overflow,
    send,
    flush: () => lanes.forEach(flushLane),
    sendTo(bytes, address, port) {
      const ip = parseIPv4(address);
      if (ip < 0) throw new Error(`not an IPv4 address: ${address}`);
      send(bytes, ip, port);
    },
    addArp(ip, mac) {
      if (device === null) throw new Error(`cannot add ARP entry ${ip} -> ${mac}: the socket is not bound to a device`);
      addArpEntry(device, ip, mac);
    },
    stats() {
      let received = 0, batches = 0, sent = 0, sendErrors = 0;
      for (const l of lanes) {
        const st = l.sock.stats();
        received += st.received;
        batches += st.batches;
        sent += st.sent;
        sendErrors += st.sendErrors;
      }
      return { received, oversized, wrongInterface, batches, sent, sendErrors };
    },
    ref: () => lanes.forEach((l) => l.sock.ref()),
    unref: () => lanes.forEach((l) => l.sock.unref()),
    close() {
      if (!closed) {
        lanes.forEach(flushLane);
        closed = true;
        for (const l of lanes) l.sock.close();
      }
      return Promise.resolve();
    },
  };
}

/**
 * SO_REUSEPORT lets any socket of our effective UID that sets it too join the
 * port silently (the kernel refuses other UIDs). So first bind once without
 * it: whoever holds the port already (a second provlab, dnsmasq, Knot) makes
 * this fail with EADDRINUSE, as a single socket would; and a second provlab,
 * doing the same, fails against our sockets.
 */
function exclusiveCheck(opts: UdpTransportOptions, device: string | null): void {
  openBatchSocket({
    address: opts.address,
    port: opts.port,
    interfaceName: device ?? undefined,
    slots: 1,
    slotSize: 512,
    onBatch: () => 0,
    onError: () => undefined,
  }).close();
}

async function openDgram(opts: UdpTransportOptions, h: UdpHandlers, fallbackReason: string | null): Promise<UdpTransport> {
  const slotSize = opts.slotSize ?? DEFAULT_SLOT_SIZE;
  const maxDatagram = Math.max(slotSize, opts.maxDatagram ?? 0);
  const from = newDatagram();
  const stats: UdpStats = { received: 0, oversized: 0, wrongInterface: 0, batches: 0, sent: 0, sendErrors: 0 };
  // Replies go to IP literals: a synchronous lookup lets send() reach the
  // kernel at once (Node tries uv_udp_try_send first) instead of a tick later,
  // so nothing runs between an NTP transmit timestamp and the wire.
  const sock = dgram.createSocket({
    type: 'udp4',
    reuseAddr: false,
    lookup: (address, _options, callback) => callback(null, address, 4),
    ...(opts.rcvbuf ? { recvBufferSize: opts.rcvbuf } : {}),
  });
  sock.on('message', (msg, rinfo) => {
    stats.received++;
    stats.batches++;
    from.srcIp = parseIPv4(rinfo.address);
    from.srcPort = rinfo.port;
    try {
      h.batchStart?.();
      if (msg.length > maxDatagram) {
        // The batch path reads no more than this: the same limit here, so both paths answer the same datagrams.
        stats.oversized++;
        h.oversized?.(msg.length, from);
      } else {
        h.datagram(msg, from);
      }
      h.batchEnd?.();
    } catch (err) {
      h.socketError(asError(err));
    }
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(opts.port, opts.address, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  sock.on('error', (err) => h.socketError(err));
  // As the addon does for every socket it opens.
  sock.setBroadcast(true);
  let closed = false;
  let closing: Promise<void> | undefined;
  const sendTo = (bytes: Uint8Array, address: string, port: number): void => {
    if (closed) throw new Error('UDP socket is closed');
    sock.send(bytes, port, address, (err) => {
      if (err) {
        stats.sendErrors++;
        h.sendFailed(err, 1, `${address}:${port}`);
      } else {
        stats.sent++;
      }
    });
  };
  return {
    kind: 'dgram',
    fallbackReason,
    kernelTimestamps: false,
    sockets: 1,
    address: sock.address().address,
    port: sock.address().port,
    device: null,
    ifindex: 0,
    slotSize,
    maxDatagram,
    send: (bytes, ip, port) => sendTo(bytes, intToIp(ip), port),
    flush: () => undefined,
    sendTo(bytes, address, port) {
      if (parseIPv4(address) < 0) throw new Error(`not an IPv4 address: ${address}`);
      sendTo(bytes, address, port);
    },
    addArp(ip, mac) {
      throw new Error(`cannot add ARP entry ${ip} -> ${mac}: the socket is not bound to a device`);
    },
    stats: () => ({ ...stats }),
    ref: () => sock.ref(),
    unref: () => sock.unref(),
    close() {
      closed = true;
      closing ??= new Promise<void>((resolve) => sock.close(() => resolve()));
      return closing;
    },
  };
}

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

function errnoName(n: number): string {
  return ERRNO_NAMES.get(n) ?? `errno ${n}`;
}
