// What a socket bound to one network device needs besides the socket
// (./udp-transport.ts opens it, SO_BINDTODEVICE in native/devsock.c): an
// error an operator can act on, and ARP entries for RFC 2131 §4.1 unicasts.
// Node's dgram cannot bind to a device nor say on which interface a
// broadcast arrived; without that, a DHCP server on 0.0.0.0:67 of a
// multi-homed host answers on every network it touches.
import { networkInterfaces } from 'node:os';
import { loadNativeAddon } from './native-addon.js';

interface Addon {
  setArp(ifname: string, ip: string, mac: string): boolean;
}

function errCode(err: unknown): string | undefined {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' ? (err as NodeJS.ErrnoException).code : undefined;
}

/** Turns "setsockopt(SO_BINDTODEVICE): No such device" into what an operator can act on. */
export function interfaceBindError(service: string, ifname: string, port: number, err: unknown): Error {
  const code = errCode(err);
  const text = err instanceof Error ? err.message.replace(/^[^:]*: /, '') : String(err);
  const hint =
    code === 'EPERM' ? ' (needs root or CAP_NET_RAW)'
    : code === 'EACCES' ? ` (port ${port} needs root or CAP_NET_BIND_SERVICE)`
    : code === 'EADDRINUSE' ? ` (another ${service} server already holds port ${port} on ${ifname}?)`
    : '';
  const e = new Error(`cannot bind ${service} to interface ${ifname}: ${text}${hint}`, { cause: err });
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

/**
 * Whether `ip` is one of the device's own IPv4 addresses (primary or
 * secondary): only then may a device-bound socket send from it.
 */
export function isDeviceAddress(interfaceName: string, ip: string): boolean {
  return (networkInterfaces()[interfaceName] ?? []).some((a) => a.family === 'IPv4' && a.address === ip);
}
