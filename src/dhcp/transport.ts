// How DHCP datagrams reach the daemon and its replies leave.
//
// Normally one batch socket (native/devsock.c): recvmmsg() hands the daemon
// up to 64 datagrams per call into JS, and replies go out together through
// sendmmsg(). Profiling at 8000 exchanges/s on Node's dgram showed ~37 % of
// the main thread in the per-reply send path, and a Buffer plus three
// strings of garbage per datagram received. Replies are not sent from the
// batch handler alone: an ACK waits for its lease record's fsync, so the
// replies of one group commit are queued and sent together on the next tick.
//
// Node's dgram remains for the relay-only socket where the addon is not
// built (or a test asks for it).
import dgram from 'node:dgram';
import { constants as osConstants } from 'node:os';
import { IN, IN_TRUNCATED, IN_WORDS, OUT, OUT_WORDS, batchSocketsAvailable, openBatchSocket } from '../net/batch-socket.js';
import { parseIPv4 } from '../wire/ipv4.js';
import { addArpEntry, interfaceBindError } from './device-socket.js';
import { BROADCAST, type Destination, type Ingress } from './rfc2131.js';

export interface Transport {
  /** For the start-up log line. */
  readonly describe: string;
  readonly kind: 'batch' | 'dgram';
  /** Queues one reply (sent within this tick). Throws when it cannot be. */
  send(bytes: Uint8Array, to: Destination): void;
  /** Sends what is queued, then closes. Idempotent. */
  close(): void;
}

export interface TransportHooks {
  /** Every datagram; its bytes stay valid after the call (replies may wait for the disk). */
  receive(buf: Uint8Array, ingress: Ingress): void;
  /** A datagram longer than a slot: only its first `bytesKept` bytes (the slot size) were read. */
  truncated(bytesKept: number): void;
  /** `count` replies the kernel refused (one line for a whole batch). */
  sendFailed(err: Error, to: string, count: number): void;
  /** The socket itself failed (not one packet). */
  socketError(err: Error): void;
  /** The ARP entry for a unicast to an unconfigured client could not be added; the reply is broadcast. */
  arpFailed(err: Error, arp: { ip: string; mac: string }): void;
}

export interface TransportOptions {
  /** Serve this VLAN interface (SO_BINDTODEVICE on 0.0.0.0:port); null: relayed packets only, on address:port. */
  interfaceName: string | null;
  address: string;
  port: number;
  /** Node's dgram for the relay-only socket even where the addon is built (tests of the fallback). */
  dgram?: boolean;
}

/** Datagrams per recvmmsg(). */
const SLOTS = 64;
/** Largest DHCP datagram read whole, and largest reply sent from a slot; RFC 2131 needs 576, Ethernet carries 1472. */
const SLOT_SIZE = 4096;
/**
 * Replies ready in a batch leave once this many are queued, not after the
 * whole batch: a reply is not held while up to 63 more datagrams are
 * decided, and after a stall the backlog's replies leave spread over the
 * time it takes to work through it rather than as one burst, which would
 * overflow the receive queue of a relay agent (or of perfdhcp: measured).
 */
const FLUSH_AFTER = 16;
/**
 * SO_RCVBUF: a queue that rides out a GC pause. At 16,000 datagrams/s
 * (8000 four-way exchanges) Linux's default 208 KiB held ~10 ms; 4 MiB holds
 * well over 100 ms. Only what is queued uses memory.
 */
const RCVBUF = 4 * 1024 * 1024;

export async function openTransport(opts: TransportOptions, hooks: TransportHooks): Promise<Transport> {
  if (opts.interfaceName === null && (opts.dgram === true || !batchSocketsAvailable().ok)) return openDgram(opts, hooks);
  return openBatch(opts, hooks);
}

function openBatch(opts: TransportOptions, hooks: TransportHooks): Transport {
  const iface = opts.interfaceName;
  const ingress: Ingress = iface !== null ? 'interface' : 'relay-socket';
  let queued = 0;
  let inBatch = false;
  let scheduled = false;
  let closed = false;
  let errorsSeen = 0;

  let sock: ReturnType<typeof openBatchSocket>;
  try {
    sock = openBatchSocket({
      address: iface !== null ? '0.0.0.0' : opts.address,
      port: opts.port,
      interfaceName: iface ?? undefined,
      slots: SLOTS,
      slotSize: SLOT_SIZE,
      rcvbuf: RCVBUF,
      onBatch: (count) => {
        inBatch = true;
        try {
          deliver(count);
        } finally {
          inBatch = false;
          flush();
        }
        return 0; // replies went out through flush(), together with any that waited for the disk
      },
      onError: (err) => hooks.socketError(err),
    });
  } catch (err) {
    throw iface !== null ? interfaceBindError(iface, opts.port, err) : err;
  }
  const { input, inMeta, output, outMeta, slotSize, slots } = sock;

  function deliver(count: number): void {
    let total = 0;
    for (let i = 0; i < count; i++) total += inMeta[i * IN_WORDS + IN.len]!;
    // The slots are overwritten by the next recvmmsg(), before an ACK's lease
    // is on disk: one copy per batch keeps the messages valid until then.
    const copy = Buffer.allocUnsafe(total);
    let off = 0;
    for (let i = 0; i < count; i++) {
      const m = i * IN_WORDS;
      const len = inMeta[m + IN.len]!;
      if (inMeta[m + IN.flags]! & IN_TRUNCATED) {
        hooks.truncated(len);
        continue;
      }
      input.copy(copy, off, i * slotSize, i * slotSize + len);
      hooks.receive(copy.subarray(off, off + len), ingress);
      off += len;
      if (queued >= FLUSH_AFTER) flush();
    }
  }

  function flush(): void {
    scheduled = false;
    if (queued === 0 || closed) return;
    const n = queued;
    queued = 0;
    try {
      sock.sendOut(n);
    } catch (err) {
      hooks.sendFailed(err as Error, 'a batch', n);
      return;
    }
    const st = sock.stats();
    if (st.sendErrors > errorsSeen) {
      const failed = st.sendErrors - errorsSeen;
      errorsSeen = st.sendErrors;
      const code = errnoName(st.lastSendErrno);
      const err = Object.assign(new Error(`sendmmsg: ${code}`), { code });
      hooks.sendFailed(err, `${failed} of ${n} replies`, failed);
    }
  }

  return {
    kind: 'batch',
    describe: iface !== null ? `${iface} (0.0.0.0:${sock.port}, bound to the device)` : `${opts.address}:${sock.port} (relay only)`,
    send(bytes, to) {
      if (closed) throw new Error('DHCP socket is closed');
      if (to.arp && iface !== null) {
        try {
          addArpEntry(iface, to.arp.ip, to.arp.mac);
        } catch (err) {
          hooks.arpFailed(err as Error, to.arp);
          to = { address: BROADCAST, port: to.port };
        }
      }
      const ip = parseIPv4(to.address);
      if (ip < 0) throw new Error(`not an IPv4 address: ${to.address}`);
      if (bytes.length > slotSize) {
        sock.sendTo(bytes, ip, to.port); // a reply bigger than a slot (a client allowing > 4 KiB)
        return;
      }
      if (queued === slots) flush();
      output.set(bytes, queued * slotSize);
      const m = queued * OUT_WORDS;
      outMeta[m + OUT.len] = bytes.length;
      outMeta[m + OUT.dstIp] = ip;
      outMeta[m + OUT.dstPort] = to.port;
      outMeta[m + OUT.srcIp] = 0; // the kernel's choice: the bound address, or the interface's
      outMeta[m + OUT.flags] = 0;
      queued++;
      // Outside a batch (an ACK whose lease just reached the disk): after the
      // other replies of the same group commit, all in one sendmmsg().
      if (!inBatch && !scheduled) {
        scheduled = true;
        process.nextTick(flush);
      }
    },
    close() {
      if (closed) return;
      flush();
      closed = true;
      sock.close();
    },
  };
}

async function openDgram(opts: TransportOptions, hooks: TransportHooks): Promise<Transport> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  sock.on('message', (buf) => hooks.receive(buf, 'relay-socket'));
  sock.on('error', (err) => hooks.socketError(err));
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(opts.port, opts.address, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  let closed = false;
  return {
    kind: 'dgram',
    describe: `${opts.address}:${sock.address().port} (relay only)`,
    send: (bytes, to) =>
      sock.send(bytes, to.port, to.address, (err) => {
        if (err) hooks.sendFailed(err, `${to.address}:${to.port}`, 1);
      }),
    close() {
      if (closed) return;
      closed = true;
      sock.close();
    },
  };
}

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

function errnoName(n: number): string {
  return ERRNO_NAMES.get(n) ?? `errno ${n}`;
}
