// Capture files built by hand, for the capture readers' edge cases: a classic
// pcap around any frames (the libpcap file format: 24-byte header, 16-byte
// record headers), and IPv4 + UDP headers (RFC 791, RFC 768) around a payload.

/** A classic pcap in microseconds (little-endian unless `little` is false) holding `frames`; frame i is stamped 1700000000.25 + i s. */
export function pcap(linkType: number, frames: Uint8Array[], little = true): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, at: number) => (little ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  w32(h, 0xa1b2c3d4, 0);
  little ? h.writeUInt16LE(2, 4) : h.writeUInt16BE(2, 4);
  little ? h.writeUInt16LE(4, 6) : h.writeUInt16BE(4, 6);
  w32(h, 65535, 16);
  w32(h, linkType, 20);
  parts.push(h);
  frames.forEach((f, i) => {
    const r = Buffer.alloc(16);
    w32(r, 1700000000 + i, 0);
    w32(r, 250000, 4);
    w32(r, f.length, 8);
    w32(r, f.length, 12);
    parts.push(r, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

/** IPv4 + UDP around a payload (checksums left zero: the readers do not check them). */
export function ipUdp(payload: Uint8Array, sport = 67, dport = 68, proto = 17, flagsFrag = 0): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip.writeUInt16BE(flagsFrag, 6);
  ip[8] = 64;
  ip[9] = proto;
  Buffer.from([10, 0, 0, 1]).copy(ip, 12);
  Buffer.from([10, 0, 0, 2]).copy(ip, 16);
  return Buffer.concat([ip, udp, Buffer.from(payload)]);
}
