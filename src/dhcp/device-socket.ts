// A UDP socket bound to one network device (SO_BINDTODEVICE), through the
// native addon in native/devsock.c. Node's dgram cannot bind to a device nor
// say on which interface a broadcast arrived; without that, a DHCP server on
// 0.0.0.0:67 of a multi-homed host answers on every network it touches.
import { handleLifetime, loadNativeAddon } from '../net/native-addon.js';

export interface DatagramInfo {
  address: string;
  port: number;
  /** Interface the datagram arrived on (IP_PKTINFO ipi_ifindex). */
  ifindex: number;
  /** Our address on that interface (ipi_spec_dst): where a reply comes from. */
  localAddress: string;
  /** Destination in the IP header (ipi_addr): 255.255.255.255 for a broadcast. */
  destinationAddress: string;
}

export interface DeviceSocket {
  /** Synchronous sendto; throws an Error with `code` (e.g. ENETUNREACH). */
  send(buf: Uint8Array, address: string, port: number): void;
  /** RFC 2131 §4.1 unicast to a client without an address: ip -> mac in the ARP table. Throws on failure. */
  setArp(ip: string, mac: string): boolean;
  /** Idempotent. After it the socket no longer keeps the process alive. */
  close(): void;
  /** Let the process exit while the socket is open (like dgram's unref), or undo that. */
  unref(): void;
  ref(): void;
  readonly interfaceName: string;
  /** Kernel index of interfaceName when the socket was opened. */
  readonly ifindex: number;
  /** The bound UDP port (the kernel's choice when opened with port 0). */
  readonly port: number;
}

export interface OpenDeviceSocketOptions {
  interfaceName: string;
  port: number;
  onMessage: (buf: Buffer, info: DatagramInfo) => void;
  onError: (err: Error) => void;
}

type Handle = { readonly ifindex: number; readonly port: number };
interface Addon {
  open(
    ifname: string,
    port: number,
    onMessage: (buf: Buffer, address: string, port: number, ifindex: number, localAddress: string, destination: string) => void,
    onError: (err: Error) => void,
  ): Handle;
  send(handle: Handle, buf: Uint8Array, address: string, port: number): number;
  setArp(ifname: string, ip: string, mac: string): boolean;
  close(handle: Handle): void;
  ref(handle: Handle): void;
  unref(handle: Handle): void;
}

export function deviceSocketsAvailable(): { ok: true } | { ok: false; reason: string } {
  const l = loadNativeAddon<Addon>();
  return l.ok ? { ok: true } : { ok: false, reason: l.reason };
}

function errCode(err: unknown): string | undefined {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' ? (err as NodeJS.ErrnoException).code : undefined;
}

/** Turns "setsockopt(SO_BINDTODEVICE): No such device" into what an operator can act on. */
export function interfaceBindError(ifname: string, port: number, err: unknown): Error {
  const code = errCode(err);
  const text = err instanceof Error ? err.message.replace(/^[^:]*: /, '') : String(err);
  const hint =
    code === 'EPERM' ? ' (needs root or CAP_NET_RAW)'
    : code === 'EACCES' ? ` (port ${port} needs root or CAP_NET_BIND_SERVICE)`
    : code === 'EADDRINUSE' ? ` (another DHCP server already holds port ${port} on ${ifname}?)`
    : '';
  const e = new Error(`cannot bind DHCP to interface ${ifname}: ${text}${hint}`, { cause: err });
  if (code !== undefined) (e as NodeJS.ErrnoException).code = code;
  return e;
}

/**
 * RFC 2131 §4.1 unicast to a client without an address: ip -> mac in the
 * ARP table of interfaceName. Throws (EPERM without CAP_NET_ADMIN).
 */
export function addArpEntry(interfaceName: string, ip: string, mac: string): boolean {
  const l = loadNativeAddon<Addon>();
  if (!l.ok) throw new Error(`cannot add ARP entry ${ip} -> ${mac} on ${interfaceName}: ${l.reason}`);
  try {
    return l.addon.setArp(interfaceName, ip, mac);
  } catch (err) {
    if (err instanceof TypeError) throw err; // a bad ip or mac: the caller's bug, as it is
    const code = errCode(err);
    const hint = code === 'EPERM' ? ' (needs root or CAP_NET_ADMIN)' : '';
    const e = new Error(`cannot add ARP entry ${ip} -> ${mac} on ${interfaceName}: ${err instanceof Error ? err.message : String(err)}${hint}`, { cause: err });
    if (code !== undefined) (e as NodeJS.ErrnoException).code = code;
    throw e;
  }
}

export function openDeviceSocket(opts: OpenDeviceSocketOptions): DeviceSocket {
  const { interfaceName, port, onMessage, onError } = opts;
  const l = loadNativeAddon<Addon>();
  if (!l.ok) throw new Error(`cannot bind DHCP to interface ${interfaceName}: ${l.reason}`);
  const addon = l.addon;

  // Callbacks run from the libuv poll; a throw there would be an uncaught
  // exception, so route it to onError, and never let onError's own throw out.
  const reportError = (err: unknown): void => {
    try {
      onError(err instanceof Error ? err : new Error(String(err)));
    } catch (inner) {
      process.emitWarning(`device socket onError handler threw: ${String(inner)}`);
    }
  };
  let handle: Handle | undefined;
  try {
    handle = addon.open(
      interfaceName,
      port,
      (buf, address, srcPort, ifindex, localAddress, destinationAddress) => {
        // SO_BINDTODEVICE already guarantees this; checked again because
        // answering on the wrong network is the one failure we cannot afford.
        if (handle !== undefined && handle.ifindex !== 0 && ifindex !== handle.ifindex) {
          reportError(new Error(`dropped a datagram from ${address} that arrived on ifindex ${ifindex}, not ${interfaceName}`));
          return;
        }
        try {
          onMessage(buf, { address, port: srcPort, ifindex, localAddress, destinationAddress });
        } catch (err) {
          reportError(err);
        }
      },
      reportError,
    );
  } catch (err) {
    throw interfaceBindError(interfaceName, port, err);
  }
  const h: Handle = handle;
  const life = handleLifetime(addon, h);
  return {
    interfaceName,
    ifindex: h.ifindex,
    port: h.port,
    send(buf, address, dstPort) {
      if (life.closed) throw new Error(`device socket on ${interfaceName} is closed`);
      addon.send(h, buf, address, dstPort);
    },
    setArp: (ip, mac) => addArpEntry(interfaceName, ip, mac),
    close: life.close,
    ref: life.ref,
    unref: life.unref,
  };
}
