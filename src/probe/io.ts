// The probe's sockets: the DHCP link (a device-bound socket on port 68, or a
// relay agent's socket on giaddr), and one-shot UDP queries for DNS and NTP.
// All through the UDP transport of src/net/, except a query from a bound
// address: a connected dgram socket, the only kind that hears ICMP port
// unreachable (ECONNREFUSED) at once.
// Everything here is bounded by a timeout and closes what it opens.

import dgram from 'node:dgram';
import { readFileSync, existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { openUdpTransport, type UdpHandlers, type UdpTransport } from '../net/udp-transport.js';
import { intToIp } from '../wire/ipv4.js';

/** Unix milliseconds with sub-millisecond precision, for NTP timestamps. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface DhcpLink {
  readonly describe: string;
  /** Relay mode with an INFORM: why the phone's own socket (ciaddr, client port) could not be opened; absent when it was or was not needed. */
  readonly informUnheard?: string;
  send(bytes: Uint8Array): void;
  close(): void;
}

export type OnDatagram = (buf: Uint8Array, from: string) => void;

/** Raised when the probe cannot even start (no root, no such interface, port taken): exit 2, not 1. */
export class ProbeSetupError extends Error {}

/** Largest datagram the probe reads: any UDP payload (a DNS answer may be big). */
const PROBE_SLOT = 65536;

/** A link's send: queued, then flushed at once, so a refused send throws here as a sendto() would. */
function sendNow(sock: UdpTransport, failure: { err?: Error }, bytes: Uint8Array, address: string, port: number): void {
  sock.sendTo(bytes, address, port);
  sock.flush();
  const err = failure.err;
  failure.err = undefined;
  if (err) throw err;
}

/** Handlers that pass datagrams on and keep the last send failure for sendNow(). */
function linkHandlers(onDatagram: OnDatagram, failure: { err?: Error }): UdpHandlers {
  return {
    datagram: (buf, from) => onDatagram(buf, intToIp(from.srcIp)),
    sendFailed: (err) => (failure.err = err),
    socketError: () => {
      /* a receive error loses one datagram; the exchange times out and says so */
    },
  };
}

/**
 * On an interface: 0.0.0.0:68 bound to the device, requests broadcast to
 * 255.255.255.255:67, as the phone does. Needs root (port 68, SO_BINDTODEVICE).
 */
export async function openInterfaceLink(interfaceName: string, onDatagram: OnDatagram): Promise<DhcpLink> {
  const failure: { err?: Error } = {};
  let sock: UdpTransport;
  try {
    sock = await openUdpTransport({ address: '0.0.0.0', port: 68, device: interfaceName, service: 'DHCP', slots: 8, slotSize: PROBE_SLOT }, linkHandlers(onDatagram, failure));
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const hint = /EADDRINUSE|in use/i.test(text) ? ' (a DHCP client such as dhclient may hold port 68 on this interface)' : '';
    throw new ProbeSetupError(`${text.replace(/ \(another DHCP server[^)]*\)/, '')}${hint}`);
  }
  return {
    describe: `interface ${interfaceName} (0.0.0.0:68 → 255.255.255.255:67)`,
    send: (bytes) => sendNow(sock, failure, bytes, '255.255.255.255', 67),
    close: () => void sock.close(),
  };
}

/**
 * As a relay agent: bound to giaddr:port, to the server's port. The server
 * answers a relayed request to giaddr on the server port (RFC 2131 §4.1), so
 * the bind must be that exact address and port. The ACK to a relayed INFORM
 * goes to ciaddr on the client port instead (§4.3.5; Kea, dhcpd and provlab),
 * so with `informFrom` the link also listens there, as the phone would.
 */
export async function openRelayLink(giaddr: string, server: string, port: number, onDatagram: OnDatagram, informFrom?: string): Promise<DhcpLink> {
  const failure: { err?: Error } = {};
  let sock: UdpTransport;
  try {
    sock = await openUdpTransport({ address: giaddr, port, slots: 8, slotSize: PROBE_SLOT }, linkHandlers(onDatagram, failure));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'EADDRNOTAVAIL' ? ` (${giaddr} is not an address of this host; on loopback any 127.x.y.z works)`
      : code === 'EACCES' ? ` (port ${port} needs root; the loopback default of npm start uses --port 6767)`
      : code === 'EADDRINUSE' ? ` (something already holds ${giaddr}:${port})`
      : '';
    throw new ProbeSetupError(`cannot bind the relay socket ${giaddr}:${port}: ${(err as Error).message}${hint}`);
  }
  let phone: UdpTransport | undefined;
  let informUnheard: string | undefined;
  if (informFrom !== undefined && informFrom !== giaddr) {
    try {
      phone = await openUdpTransport({ address: informFrom, port: port + 1, slots: 8, slotSize: PROBE_SLOT }, linkHandlers(onDatagram, failure));
    } catch (err) {
      informUnheard = `cannot listen on ${informFrom}:${port + 1}, where the ACK to a relayed INFORM is sent: ${(err as Error).message}`;
    }
  }
  return {
    describe: `relay ${giaddr}:${port} → ${server}:${port}${phone ? `, INFORM ACK on ${informFrom}:${port + 1}` : ''}`,
    ...(informUnheard !== undefined ? { informUnheard } : {}),
    send: (bytes) => sendNow(sock, failure, bytes, server, port),
    close: () => {
      sock.close();
      phone?.close();
    },
  };
}

/** How DNS and NTP queries leave: from a given address (relay mode), or bound to the interface. */
export type QueryRoute = { kind: 'bind'; address: string } | { kind: 'device'; interfaceName: string };

export type QueryResult =
  | { kind: 'answer'; bytes: Uint8Array; receivedAtMs: number; rttMs: number }
  | { kind: 'timeout'; waitedMs: number }
  | { kind: 'error'; message: string };

/**
 * One request, one answer. `build` runs right before sending (so an NTP
 * transmit timestamp is as fresh as possible); `accept` filters strays
 * (wrong id, wrong sender). With a 'bind' route the socket is connected, so
 * "nothing listens there" comes back at once as ECONNREFUSED instead of a timeout.
 */
export function udpQuery(route: QueryRoute, to: string, port: number, build: () => Uint8Array, accept: (buf: Uint8Array, from: string, fromPort: number) => boolean, timeoutMs: number): Promise<QueryResult> {
  return new Promise((resolve) => {
    let done = false;
    let sentAt = 0;
    let timer: NodeJS.Timeout | undefined;
    let closeSock = (): void => {};
    const finish = (r: QueryResult): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      try {
        closeSock();
      } catch {
        /* already closed */
      }
      resolve(r);
    };
    const onAnswer = (buf: Uint8Array, from: string, fromPort: number): void => {
      const at = nowMs();
      if (done || !accept(buf, from, fromPort)) return;
      finish({ kind: 'answer', bytes: new Uint8Array(buf), receivedAtMs: at, rttMs: at - sentAt });
    };
    const start = (send: (b: Uint8Array) => void): void => {
      timer = setTimeout(() => finish({ kind: 'timeout', waitedMs: timeoutMs }), timeoutMs);
      const payload = build();
      sentAt = nowMs();
      try {
        send(payload);
      } catch (err) {
        finish({ kind: 'error', message: (err as Error).message });
      }
    };

    if (route.kind === 'device') {
      const failure: { err?: Error } = {};
      openUdpTransport(
        { address: '0.0.0.0', port: 0, device: route.interfaceName, service: 'DHCP', slots: 2, slotSize: PROBE_SLOT },
        {
          datagram: (buf, from) => onAnswer(buf, intToIp(from.srcIp), from.srcPort),
          sendFailed: (err) => (failure.err = err),
          socketError: (err) => finish({ kind: 'error', message: err.message }),
        },
      ).then(
        (sock) => {
          // Closed on the next turn: never from inside the addon's own receive callback.
          closeSock = () => setImmediate(() => void sock.close());
          start((b) => sendNow(sock, failure, b, to, port));
        },
        (err: unknown) => finish({ kind: 'error', message: (err as Error).message }),
      );
      return;
    }
    const sock = dgram.createSocket('udp4');
    closeSock = () => sock.close();
    sock.on('error', (err: NodeJS.ErrnoException) => {
      const text = err.code === 'ECONNREFUSED' ? `nothing listens on ${to}:${port} (ICMP port unreachable)` : err.message;
      finish({ kind: 'error', message: text });
    });
    sock.on('message', (buf, rinfo) => onAnswer(buf, rinfo.address, rinfo.port));
    sock.bind(0, route.address, () => {
      sock.connect(port, to, (err?: Error) => {
        if (err) finish({ kind: 'error', message: err.message });
        else start((b) => sock.send(b));
      });
    });
  });
}

/** The interface's IPv4 addresses (none when it has no address, or does not exist). */
export function interfaceAddresses(interfaceName: string): string[] {
  return (networkInterfaces()[interfaceName] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address);
}

export function interfaceExists(interfaceName: string): boolean {
  return /^[^/\0]{1,15}$/.test(interfaceName) && existsSync(`/sys/class/net/${interfaceName}`);
}

/** The interface's own MAC (what the phone on that port would have), or null. */
export function interfaceMac(interfaceName: string): string | null {
  try {
    const mac = readFileSync(`/sys/class/net/${interfaceName}/address`, 'utf8').trim();
    return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac) && mac !== '00:00:00:00:00:00' ? mac : null;
  } catch {
    return null;
  }
}
