// Capture files for `provlab decode --pcap`: classic pcap (both byte orders,
// micro- and nanosecond), pcapng (SHB, IDB, EPB, SPB and the obsolete PB), then
// link layer (Ethernet with 802.1Q/802.1ad tags, Linux cooked SLL and SLL2,
// raw IP, BSD loopback), IPv4 and UDP down to the DHCP payload.
// Pure: bytes in, frames out; never throws, never reads past the buffer.
// Formats: the pcap and pcapng specifications (IETF opsawg drafts), linktype list at tcpdump.org.

import { fail, ok, type Result } from '../wire/result.js';

export interface Frame {
  /** 1-based, as Wireshark numbers frames. */
  number: number;
  /** Seconds since 1970 and the nanoseconds within that second. */
  sec: number;
  nsec: number;
  /** LINKTYPE_* value of the interface. */
  linkType: number;
  /** Captured bytes (possibly fewer than `originalLength`). */
  data: Uint8Array;
  originalLength: number;
}

export interface Capture {
  format: 'pcap' | 'pcapng';
  frames: Frame[];
  /** Things worth saying about the file: a cut last record, unknown blocks. */
  notes: string[];
}

export const LINKTYPE = { NULL: 0, ETHERNET: 1, RAW: 101, LINUX_SLL: 113, IPV4: 228, LINUX_SLL2: 276 } as const;

class Reader {
  readonly view: DataView;
  constructor(
    readonly buf: Uint8Array,
    public little: boolean,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u16(at: number): number {
    return this.view.getUint16(at, this.little);
  }
  u32(at: number): number {
    return this.view.getUint32(at, this.little);
  }
}

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Reads a whole capture file. Fails only when the file is not a capture at all. */
export function readCapture(buf: Uint8Array): Result<Capture> {
  if (buf.length < 4) return fail('not-a-capture', `${buf.length} bytes: too short for a capture file`, 0);
  const be = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(0, false);
  if (be === PCAPNG_SHB) return readPcapng(buf);
  for (const little of [false, true]) {
    const magic = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(0, little);
    if (magic === PCAP_US || magic === PCAP_NS) return readPcap(new Reader(buf, little), magic === PCAP_NS);
  }
  if (be === 0xa1b2cd34 || be === 0x34cdb2a1) return fail('unsupported', 'Kuznetzov\'s modified pcap format is not supported; convert it with `editcap -F pcap`', 0);
  return fail('not-a-capture', `magic number 0x${be.toString(16).padStart(8, '0')} is neither pcap nor pcapng`, 0);
}

function readPcap(r: Reader, nano: boolean): Result<Capture> {
  const { buf } = r;
  if (buf.length < 24) return fail('truncated', 'the pcap file header is cut short', 0);
  // The upper bits may carry FCS information (pcap spec, LinkType field).
  const linkType = r.u32(20) & 0x0fffffff;
  const frames: Frame[] = [];
  const notes: string[] = [];
  let p = 24;
  while (p < buf.length) {
    if (p + 16 > buf.length) {
      notes.push(`the last record header is cut short at byte ${p} (capture stopped while writing?)`);
      break;
    }
    const sec = r.u32(p);
    const frac = r.u32(p + 4);
    const incl = r.u32(p + 8);
    const orig = r.u32(p + 12);
    if (p + 16 + incl > buf.length) {
      notes.push(`record ${frames.length + 1} declares ${incl} bytes but the file ends after ${buf.length - p - 16}`);
      break;
    }
    frames.push({ number: frames.length + 1, sec, nsec: nano ? frac : frac * 1000, linkType, data: buf.subarray(p + 16, p + 16 + incl), originalLength: orig });
    p += 16 + incl;
  }
  return ok({ format: 'pcap', frames, notes });
}

interface Interface {
  linkType: number;
  snapLength: number;
  /** Ticks per second as a BigInt, from if_tsresol (default microseconds). */
  ticks: bigint;
}

function tsresol(v: number): bigint {
  // High bit clear: negative power of 10; set: negative power of 2.
  return v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
}

function splitTime(high: number, low: number, ticks: bigint): { sec: number; nsec: number } {
  const t = (BigInt(high) << 32n) | BigInt(low);
  return { sec: Number(t / ticks), nsec: Number(((t % ticks) * 1_000_000_000n) / ticks) };
}

function readPcapng(buf: Uint8Array): Result<Capture> {
  const frames: Frame[] = [];
  const notes: string[] = [];
  let r = new Reader(buf, true);
  let interfaces: Interface[] = [];
  let p = 0;
  const skipped = new Map<number, number>();
  while (p < buf.length) {
    if (p + 12 > buf.length) {
      notes.push(`the last block is cut short at byte ${p}`);
      break;
    }
    const type = new DataView(buf.buffer, buf.byteOffset + p, 4).getUint32(0, r.little);
    if (type === PCAPNG_SHB) {
      // Each section states its own byte order.
      const bom = new DataView(buf.buffer, buf.byteOffset + p + 8, 4);
      if (bom.getUint32(0, true) === BYTE_ORDER_MAGIC) r = new Reader(buf, true);
      else if (bom.getUint32(0, false) === BYTE_ORDER_MAGIC) r = new Reader(buf, false);
      else return fail('bad-block', `section header at byte ${p} has no byte-order magic`, p);
      interfaces = [];
    }
    const total = r.u32(p + 4);
    if (total < 12 || total % 4 !== 0) return fail('bad-block', `block at byte ${p} has length ${total} (at least 12, a multiple of 4)`, p);
    if (p + total > buf.length) {
      notes.push(`block at byte ${p} declares ${total} bytes but the file ends after ${buf.length - p} (capture stopped while writing?)`);
      break;
    }
    const body = p + 8;
    const end = p + total - 4;
    switch (type) {
      case PCAPNG_SHB:
        break;
      case 1: {
        // Interface Description Block: linktype, reserved, snaplen, options.
        if (end - body < 8) return fail('bad-block', `interface block at byte ${p} is too short`, p);
        let ticks = 1_000_000n;
        for (let o = body + 8; o + 4 <= end; ) {
          const code = r.u16(o);
          const len = r.u16(o + 2);
          if (code === 0) break;
          if (code === 9 && len === 1 && o + 5 <= end) ticks = tsresol(buf[o + 4]!);
          o += 4 + ((len + 3) & ~3);
        }
        interfaces.push({ linkType: r.u16(body), snapLength: r.u32(body + 4), ticks });
        break;
      }
      case 6:
      case 2: {
        // Enhanced Packet Block; the obsolete Packet Block has a 16-bit interface id and a drops count.
        if (end - body < 20) return fail('bad-block', `packet block at byte ${p} is too short`, p);
        const id = type === 6 ? r.u32(body) : r.u16(body);
        const iface = interfaces[id];
        if (iface === undefined) return fail('bad-block', `packet block at byte ${p} names interface ${id}, which was not described`, p);
        const captured = r.u32(body + 12);
        const original = r.u32(body + 16);
        if (body + 20 + captured > end) return fail('bad-block', `packet block at byte ${p} declares ${captured} captured bytes, more than the block holds`, p);
        const { sec, nsec } = splitTime(r.u32(body + 4), r.u32(body + 8), iface.ticks);
        frames.push({ number: frames.length + 1, sec, nsec, linkType: iface.linkType, data: buf.subarray(body + 20, body + 20 + captured), originalLength: original });
        break;
      }
      case 3: {
        // Simple Packet Block: interface 0, no timestamp; captured = min(original, snaplen, room).
        const iface = interfaces[0];
        if (iface === undefined) return fail('bad-block', `simple packet block at byte ${p} comes before any interface block`, p);
        const original = r.u32(body);
        let captured = Math.min(original, end - body - 4);
        if (iface.snapLength > 0) captured = Math.min(captured, iface.snapLength);
        frames.push({ number: frames.length + 1, sec: 0, nsec: 0, linkType: iface.linkType, data: buf.subarray(body + 4, body + 4 + captured), originalLength: original });
        if (!notes.includes('simple packet blocks carry no timestamp: their time shows as 1970-01-01')) notes.push('simple packet blocks carry no timestamp: their time shows as 1970-01-01');
        break;
      }
      case 4:
      case 5:
        // Name resolution and interface statistics: nothing DHCP needs.
        break;
      default:
        skipped.set(type, (skipped.get(type) ?? 0) + 1);
    }
    p += total;
  }
  const names: Record<number, string> = { 0x0bad: 'custom', 0x40000bad: 'custom', 10: 'decryption secrets', 0x80000001: 'systemd journal' };
  for (const [type, n] of skipped) notes.push(`skipped ${n} ${names[type] ?? `type 0x${type.toString(16)}`} block${n === 1 ? '' : 's'}`);
  return ok({ format: 'pcapng', frames, notes });
}

// ------------------------------------------------------------ link and IP layers

export interface UdpDatagram {
  /** 802.1Q / 802.1ad VLAN IDs, outermost first. */
  vlans: number[];
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  /** True when the capture holds fewer bytes than the UDP header declares (snap length). */
  truncated: boolean;
}

const ETHERTYPE_IPV4 = 0x0800;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);

/** The IPv4 packet inside a frame, or a reason it has none. */
function ipv4Of(frame: Frame): Result<{ vlans: number[]; ip: Uint8Array }> {
  const d = frame.data;
  const vlans: number[] = [];
  const fromEthertype = (type: number, at: number): Result<{ vlans: number[]; ip: Uint8Array }> => {
    // 802.1Q: a 2-byte TCI (VLAN ID in the low 12 bits), then the next EtherType.
    while (VLAN_TAGS.has(type)) {
      if (at + 4 > d.length) return fail('truncated', 'VLAN tag cut short');
      vlans.push(((d[at]! << 8) | d[at + 1]!) & 0x0fff);
      type = (d[at + 2]! << 8) | d[at + 3]!;
      at += 4;
    }
    if (type !== ETHERTYPE_IPV4) return fail('not-ipv4', `EtherType 0x${type.toString(16).padStart(4, '0')}`);
    return ok({ vlans, ip: d.subarray(at) });
  };
  switch (frame.linkType) {
    case LINKTYPE.ETHERNET:
      if (d.length < 14) return fail('truncated', 'Ethernet header cut short');
      return fromEthertype((d[12]! << 8) | d[13]!, 14);
    case LINKTYPE.LINUX_SLL:
      if (d.length < 16) return fail('truncated', 'Linux cooked header cut short');
      return fromEthertype((d[14]! << 8) | d[15]!, 16);
    case LINKTYPE.LINUX_SLL2:
      if (d.length < 20) return fail('truncated', 'Linux cooked v2 header cut short');
      return fromEthertype((d[0]! << 8) | d[1]!, 20);
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
      return d.length > 0 && d[0]! >> 4 === 4 ? ok({ vlans, ip: d }) : fail('not-ipv4', 'not an IPv4 packet');
    case LINKTYPE.NULL: {
      // BSD loopback: the address family in the capturing host's byte order; AF_INET is 2 everywhere.
      if (d.length < 4) return fail('truncated', 'loopback header cut short');
      const le = d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24);
      const be = (d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!;
      return le === 2 || be === 2 ? ok({ vlans, ip: d.subarray(4) }) : fail('not-ipv4', 'not AF_INET');
    }
    default:
      return fail('unsupported-link', `link type ${frame.linkType} is not supported (Ethernet, Linux cooked SLL/SLL2, raw IP, BSD loopback are)`);
  }
}

/** The UDP datagram in a frame, or a failure saying why there is none ('not-ipv4', 'not-udp', 'fragment', 'truncated', 'unsupported-link'). */
export function udpOf(frame: Frame): Result<UdpDatagram> {
  const l = ipv4Of(frame);
  if (!l.ok) return l;
  const ip = l.value.ip;
  if (ip.length < 20 || ip[0]! >> 4 !== 4) return fail('not-ipv4', 'IPv4 header cut short or not version 4');
  const ihl = (ip[0]! & 0x0f) * 4;
  if (ihl < 20 || ip.length < ihl) return fail('truncated', 'IPv4 header length is wrong or cut short');
  if (ip[9] !== 17) return fail('not-udp', `IP protocol ${ip[9]}`);
  const fragment = ((ip[6]! << 8) | ip[7]!) & 0x3fff;
  if (fragment !== 0) return fail('fragment', 'IPv4 fragment: reassembly is not supported');
  const totalLength = (ip[2]! << 8) | ip[3]!;
  const ipEnd = Math.min(ip.length, totalLength >= ihl ? totalLength : ip.length);
  const udp = ip.subarray(ihl, ipEnd);
  if (udp.length < 8) return fail('truncated', 'UDP header cut short');
  const udpLength = (udp[4]! << 8) | udp[5]!;
  const end = Math.min(udp.length, Math.max(8, udpLength));
  const dotted = (o: number) => `${ip[o]}.${ip[o + 1]}.${ip[o + 2]}.${ip[o + 3]}`;
  return ok({
    vlans: l.value.vlans,
    src: dotted(12),
    dst: dotted(16),
    srcPort: (udp[0]! << 8) | udp[1]!,
    dstPort: (udp[2]! << 8) | udp[3]!,
    payload: udp.subarray(8, end),
    truncated: udpLength > udp.length,
  });
}

/** ISO 8601 in UTC with microseconds, like Wireshark's absolute time. */
export function frameTime(frame: Pick<Frame, 'sec' | 'nsec'>): string {
  const base = new Date(frame.sec * 1000).toISOString().slice(0, 19);
  return `${base}.${String(Math.floor(frame.nsec / 1000)).padStart(6, '0')}Z`;
}
