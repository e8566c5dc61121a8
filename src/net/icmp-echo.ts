// ICMP echo (RFC 792) over the native addon's raw socket (`openIcmp` in
// native/devsock.c): DHCP's conflict probe asks "does anything answer at
// this address?" before offering it. A raw socket needs CAP_NET_RAW, so it is
// opened when the daemon starts, before `provlab up --user` drops root; the
// open fd keeps working after. Node has no raw sockets of its own.
import { handleLifetime, loadNativeAddon } from './native-addon.js';
import { ipToInt } from '../wire/ipv4.js';

interface IcmpAddon {
  openIcmp(
    ifname: string | null,
    onMessage: (buf: Buffer, address: string) => void,
    onError: (err: Error) => void,
  ): object;
  sendTo(handle: object, bytes: Uint8Array, ip: number, port: number): number;
  close(handle: object): void;
  ref(handle: object): void;
  unref(handle: object): void;
}

export interface IcmpEcho {
  /** One echo request to `ip`; throws when the kernel refuses it. */
  send(ip: string, id: number, seq: number): void;
  close(): void;
}

const ECHO_REQUEST = 8;
const ECHO_REPLY = 0;
const PAYLOAD = new TextEncoder().encode('provlab-probe');

/** RFC 1071 Internet checksum. */
function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length & 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An echo request (type 8): id and seq as given, a short fixed payload. */
export function echoRequest(id: number, seq: number): Uint8Array {
  const b = new Uint8Array(8 + PAYLOAD.length);
  b[0] = ECHO_REQUEST;
  b[4] = (id >> 8) & 255;
  b[5] = id & 255;
  b[6] = (seq >> 8) & 255;
  b[7] = seq & 255;
  b.set(PAYLOAD, 8);
  const c = checksum(b);
  b[2] = c >> 8;
  b[3] = c & 255;
  return b;
}

/** id and seq of an echo reply in a whole IPv4 datagram (what a raw socket reads); null for anything else. Never throws. */
export function parseEchoReply(datagram: Uint8Array): { id: number; seq: number } | null {
  if (datagram.length < 20 || datagram[0]! >> 4 !== 4) return null;
  const ihl = (datagram[0]! & 15) * 4;
  if (ihl < 20 || datagram.length < ihl + 8 || datagram[ihl] !== ECHO_REPLY) return null;
  return { id: (datagram[ihl + 4]! << 8) | datagram[ihl + 5]!, seq: (datagram[ihl + 6]! << 8) | datagram[ihl + 7]! };
}

/**
 * Opens the raw socket (bound to `device` when given) or says why it cannot
 * (the addon is missing, or EPERM without CAP_NET_RAW).
 */
export function openIcmpEcho(
  device: string | null,
  onReply: (from: string, id: number, seq: number) => void,
  onError: (err: Error) => void,
): { ok: true; echo: IcmpEcho } | { ok: false; reason: string } {
  const l = loadNativeAddon<IcmpAddon>();
  if (!l.ok) return { ok: false, reason: l.reason };
  if (typeof l.addon.openIcmp !== 'function') return { ok: false, reason: 'the native addon was built before ICMP support (rebuild it: npx node-gyp rebuild)' };
  const addon = l.addon;
  let handle: object;
  try {
    handle = addon.openIcmp(
      device,
      (buf, address) => {
        const r = parseEchoReply(buf);
        if (r !== null) onReply(address, r.id, r.seq);
      },
      onError,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: code === 'EPERM' ? `${why} (needs root or CAP_NET_RAW)` : why };
  }
  const life = handleLifetime(addon, handle);
  // A probe socket never keeps the process alive on its own.
  life.unref();
  return {
    ok: true,
    echo: {
      send(ip, id, seq) {
        if (life.closed) throw new Error('ICMP socket is closed');
        addon.sendTo(handle, echoRequest(id, seq), ipToInt(ip), 1);
      },
      close: () => life.close(),
    },
  };
}
