// `provlab decode --pcap`: every DHCP packet of a capture, with options 60
// and 55 of the client and 43, 119 and 120 of the server read byte by byte.
// Pure: capture bytes in, a report out.

import { hex, latin1 } from '../wire/bytes.js';
import { decodeDhcpMessage, macOf, messageTypeName, messageTypeOf } from '../wire/dhcp-message.js';
import { optionName } from '../wire/option-defs.js';
import { ok, type Result } from '../wire/result.js';
import { analyzeOption, renderOptionReport, verdict, type Finding, type OptionReport, type Status } from './decode.js';
import { frameTime, readCapture, udpOf } from './pcap.js';

/** Wireshark's spelling, `DHCPDISCOVER`. */
function pcapTypeName(type: number): string {
  const name = messageTypeName(type);
  return name === undefined ? `type ${type}` : `DHCP${name}`;
}

/** Options read byte by byte; every other option gets a one-line summary. */
const DETAILED = [60, 55, 43, 119, 120];

export interface PacketReport {
  /** Frame number in the capture (1-based, as in Wireshark). */
  frame: number;
  /** ISO 8601 UTC with microseconds. */
  time: string;
  /** Seconds since the first frame of the capture. */
  relative: number;
  vlans: number[];
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  /** 1 BOOTREQUEST (client or relay to server), 2 BOOTREPLY; null when the DHCP message could not be read. */
  op: number | null;
  messageType: number | null;
  messageTypeName: string | null;
  /** Transaction ID, 8 hex digits. */
  xid: string | null;
  mac: string | null;
  ciaddr: string | null;
  yiaddr: string | null;
  giaddr: string | null;
  /** Option 60 of this packet, or for a reply, of the request with the same xid. */
  vendorClass: string | null;
  /** Every option in send order, one line each. */
  options: { code: number; name: string; length: number; hex: string }[];
  /** Options 60, 55, 43, 119, 120 read byte by byte. */
  decoded: OptionReport[];
  /** Problems with the packet itself (not a DHCP message, cut by the snap length). */
  findings: Finding[];
  status: Status;
}

export interface CaptureReport {
  format: 'pcap' | 'pcapng';
  frames: number;
  /** File-level remarks (cut last record, skipped blocks, frames that are not IPv4). */
  notes: string[];
  packets: PacketReport[];
  status: Status;
}

function statusOf(findings: readonly Finding[]): Status {
  if (findings.some((f) => f.severity === 'error')) return 'error';
  if (findings.some((f) => f.severity === 'warning')) return 'warning';
  return 'ok';
}

export interface CaptureOptions {
  /** UDP ports that carry DHCP; default 67 and 68. provlab's loopback default serves on 6767. */
  ports?: readonly number[];
}

/** Fails only when the file is not a capture (exit 2); a capture without DHCP gives an empty list. */
export function decodeCapture(buf: Uint8Array, options: CaptureOptions = {}): Result<CaptureReport> {
  const cap = readCapture(buf);
  if (!cap.ok) return cap;
  const ports = new Set(options.ports ?? [67, 68]);
  const notes = [...cap.value.notes];
  const packets: PacketReport[] = [];
  // A reply rarely repeats option 60: remember each request's class by xid.
  const classByXid = new Map<number, string>();
  const first = cap.value.frames[0];
  const skipped = new Map<string, number>();
  for (const frame of cap.value.frames) {
    const udp = udpOf(frame);
    if (!udp.ok) {
      const key = udp.error.code === 'unsupported-link' ? udp.error.message : udp.error.code;
      skipped.set(key, (skipped.get(key) ?? 0) + 1);
      continue;
    }
    const u = udp.value;
    if (!ports.has(u.srcPort) && !ports.has(u.dstPort)) continue;
    const findings: Finding[] = [];
    const base = {
      frame: frame.number,
      time: frameTime(frame),
      relative: first ? Math.round(((frame.sec - first.sec) + (frame.nsec - first.nsec) / 1e9) * 1e6) / 1e6 : 0,
      vlans: u.vlans,
      src: u.src,
      srcPort: u.srcPort,
      dst: u.dst,
      dstPort: u.dstPort,
    };
    if (u.truncated) findings.push({ severity: 'warning', code: 'snap-length', message: 'the capture holds only part of this datagram (snap length): options at the end are missing' });
    const m = decodeDhcpMessage(u.payload);
    if (!m.ok) {
      const reply = u.payload[0] === 2;
      findings.push({ severity: reply && !u.truncated ? 'error' : 'warning', code: `dhcp-${m.error.code}`, message: `not a readable DHCP message: ${m.error.message}`, ...(m.error.offset !== undefined ? { offset: m.error.offset } : {}) });
      packets.push({ ...base, op: u.payload[0] ?? null, messageType: null, messageTypeName: null, xid: null, mac: null, ciaddr: null, yiaddr: null, giaddr: null, vendorClass: null, options: [], decoded: [], findings, status: statusOf(findings) });
      continue;
    }
    const msg = m.value;
    const own60 = msg.options.get(60);
    const ownClass = own60 ? latin1(own60) : undefined;
    if (msg.op === 1 && ownClass !== undefined) classByXid.set(msg.xid, ownClass);
    const vendorClass = ownClass ?? (msg.op === 2 ? classByXid.get(msg.xid) : undefined);
    const decoded: OptionReport[] = [];
    for (const code of DETAILED) {
      const v = msg.options.get(code);
      if (v === undefined) continue;
      const r = analyzeOption(code, v, code === 43 ? { vendorClass } : {});
      if (code === 43 && vendorClass === undefined) r.summary.push('the client\'s vendor class is not in the capture: read with the MS-UC-Client layout');
      decoded.push(r);
    }
    const type = messageTypeOf(msg) ?? null;
    const all = [...findings, ...decoded.flatMap((d) => d.findings)];
    packets.push({
      ...base,
      op: msg.op,
      messageType: type,
      messageTypeName: type === null ? null : pcapTypeName(type),
      xid: msg.xid.toString(16).padStart(8, '0'),
      mac: macOf(msg),
      ciaddr: msg.ciaddr,
      yiaddr: msg.yiaddr,
      giaddr: msg.giaddr,
      vendorClass: vendorClass ?? null,
      options: [...msg.options].map(([code, v]) => ({ code, name: optionName(code), length: v.length, hex: hex(v) })),
      decoded,
      findings,
      status: statusOf(all),
    });
  }
  for (const [why, n] of skipped) {
    if (why === 'not-udp' || why === 'not-ipv4') continue;
    notes.push(`${n} frame${n === 1 ? '' : 's'} skipped: ${why}`);
  }
  const worst: Status = packets.some((p) => p.status === 'error') ? 'error' : packets.some((p) => p.status === 'warning') ? 'warning' : 'ok';
  return ok({ format: cap.value.format, frames: cap.value.frames.length, notes, packets, status: worst });
}

/** Every finding of the capture, for the exit code. */
export function captureFindings(r: CaptureReport): Finding[] {
  return r.packets.flatMap((p) => [...p.findings, ...p.decoded.flatMap((d) => d.findings)]);
}

function summaryOf(code: number, hex: string): string {
  const b = Buffer.from(hex, 'hex');
  const r = analyzeOption(code, b);
  const d = r.decoded;
  if (d.kind === 'generic') return d.text;
  return hex;
}

export function renderCaptureReport(r: CaptureReport): string[] {
  const out: string[] = [];
  out.push(`${r.format} capture: ${r.frames} frame${r.frames === 1 ? '' : 's'}, ${r.packets.length} DHCP packet${r.packets.length === 1 ? '' : 's'}`);
  for (const n of r.notes) out.push(`  note: ${n}`);
  for (const p of r.packets) {
    out.push('');
    const vlan = p.vlans.length > 0 ? ` VLAN ${p.vlans.join('/')}` : '';
    out.push(`#${p.frame} ${p.time} (+${p.relative.toFixed(6)}s)${vlan}  ${p.src}:${p.srcPort} → ${p.dst}:${p.dstPort}  ${p.messageTypeName ?? (p.op === 2 ? 'BOOTREPLY' : p.op === 1 ? 'BOOTREQUEST' : 'unreadable')}`);
    if (p.xid !== null) {
      const addrs = [p.ciaddr !== '0.0.0.0' ? `ciaddr ${p.ciaddr}` : '', p.yiaddr !== '0.0.0.0' ? `yiaddr ${p.yiaddr}` : '', p.giaddr !== '0.0.0.0' ? `giaddr ${p.giaddr}` : ''].filter(Boolean).join(', ');
      out.push(`  xid ${p.xid}, MAC ${p.mac}${addrs ? `, ${addrs}` : ''}${p.vendorClass !== null ? `, vendor class ${JSON.stringify(p.vendorClass)}${p.options.some((o) => o.code === 60) ? '' : ' (from the request)'}` : ''}`);
    }
    if (p.op === 1 && !p.options.some((o) => o.code === 60)) out.push('  60 vendor-class-identifier: not sent');
    if (p.op === 1 && !p.options.some((o) => o.code === 55)) out.push('  55 dhcp-parameter-request-list: not sent');
    const others = p.options.filter((o) => !DETAILED.includes(o.code) && o.code !== 53);
    if (others.length > 0) out.push(`  other options: ${others.map((o) => `${o.code} ${o.name} = ${summaryOf(o.code, o.hex)}`).join('; ')}`);
    for (const f of p.findings) out.push(`  ${f.severity === 'error' ? '✘ error' : f.severity === 'warning' ? '⚠ warning' : 'ℹ note'} [${f.code}]: ${f.message}`);
    for (const d of p.decoded) {
      if (d.decoded.kind === 'vendor-class') out.push(`  60 vendor-class-identifier: ${JSON.stringify(d.decoded.text)}`);
      else if (d.decoded.kind === 'parameter-request-list') out.push(`  55 dhcp-parameter-request-list: ${d.decoded.codes.map((c) => `${c.code}${c.name ? ` ${c.name}` : ''}`).join(', ')}`);
      else {
        out.push(...renderOptionReport(d, '  '));
        continue;
      }
      for (const f of d.findings) if (f.severity !== 'info') out.push(`    ${f.severity === 'error' ? '✘ error' : '⚠ warning'} [${f.code}]: ${f.message}`);
    }
  }
  out.push('');
  if (r.packets.length === 0) out.push('no DHCP packets (UDP 67/68) in this capture');
  else out.push(verdict(captureFindings(r)).replace('with these bytes', 'with these answers'));
  return out;
}
