// The probe's sockets: the DHCP link (a device-bound socket on port 68, or a
// relay agent's socket on giaddr), and one-shot UDP queries for DNS and NTP.
// Everything here is bounded by a timeout and closes what it opens.

import dgram from 'node:dgram';
import { readFileSync, existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { openDeviceSocket, type DeviceSocket } from '../dhcp/device-socket.js';

/** Unix milliseconds with sub-millisecond precision, for NTP timestamps. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface DhcpLink {
  readonly describe: string;
  send(bytes: Uint8Array): void;
  close(): void;
}

export type OnDatagram = (buf: Uint8Array, from: string) => void;

/** Raised when the probe cannot even start (no root, no such interface, port taken): exit 2, not 1. */
export class ProbeSetupError extends Error {}

/**
 * On an interface: 0.0.0.0:68 bound to the device, requests broadcast to
 * 255.255.255.255:67, as the phone does. Needs root (port 68, SO_BINDTODEVICE).
 */
export function openInterfaceLink(interfaceName: string, onDatagram: OnDatagram): DhcpLink {
  let sock: DeviceSocket;
  try {
    sock = openDeviceSocket({
      interfaceName,
      port: 68,
      onMessage: (buf, info) => onDatagram(buf, info.address),
      onError: () => {
        /* a receive error loses one datagram; the exchange times out and says so */
      },
    });
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const hint = /EADDRINUSE|in use/i.test(text) ? ' (a DHCP client such as dhclient may hold port 68 on this interface)' : '';
    throw new ProbeSetupError(`${text.replace(/ \(another DHCP server[^)]*\)/, '')}${hint}`);
  }
  return {
    describe: `interface ${interfaceName} (0.0.0.0:68 → 255.255.255.255:67)`,
    send: (bytes) => sock.send(bytes, '255.255.255.255', 67),
    close: () => sock.close(),
  };
}

/**
 * As a relay agent: bound to giaddr:port, to the server's port. The server
 * answers a relayed request to giaddr on the server port (RFC 2131 §4.1), so
 * the bind must be that exact address and port.
 */
export async function openRelayLink(giaddr: string, server: string, port: number, onDatagram: OnDatagram): Promise<DhcpLink> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  sock.on('message', (buf, rinfo) => onDatagram(buf, rinfo.address));
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, giaddr, () => {
        sock.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    sock.close();
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'EADDRNOTAVAIL' ? ` (${giaddr} is not an address of this host; on loopback any 127.x.y.z works)`
      : code === 'EACCES' ? ` (port ${port} needs root; the loopback default of npm start uses --port 6767)`
      : code === 'EADDRINUSE' ? ` (something already holds ${giaddr}:${port})`
      : '';
    throw new ProbeSetupError(`cannot bind the relay socket ${giaddr}:${port}: ${(err as Error).message}${hint}`);
  }
  sock.on('error', () => {
    /* ICMP errors for a datagram: the exchange times out and says so */
  });
  return {
    describe: `relay ${giaddr}:${port} → ${server}:${port}`,
    send: (bytes) => sock.send(bytes, port, server),
    close: () => sock.close(),
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
      let sock: DeviceSocket;
      try {
        sock = openDeviceSocket({
          interfaceName: route.interfaceName,
          port: 0,
          onMessage: (buf, info) => onAnswer(buf, info.address, info.port),
          onError: (err) => finish({ kind: 'error', message: err.message }),
        });
      } catch (err) {
        finish({ kind: 'error', message: (err as Error).message });
        return;
      }
      // Closed on the next turn: never from inside the addon's own receive callback.
      closeSock = () => setImmediate(() => sock.close());
      start((b) => sock.send(b, to, port));
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
