// The probe's own tiny DNS stub: one question out (RFC 1035 §4.1), the answer
// section back. Pure: bytes in, values out. Kept here rather than using dns2's
// client because the probe must (a) send over a device-bound socket, (b) show
// the raw bytes of a bad answer, (c) see whether an SRV target is compressed
// (RFC 2782 forbids it; whether the phone's resolver copes is unknown), and
// (d) report an unparseable answer as such, where dns2's client drops it and
// times out. Not a general codec: src/wire/dns-message.ts is that.

import { decodeName, encodeName } from '../wire/rfc1035-names.js';
import { readIp } from '../wire/ipv4.js';
import { fail, ok, type Result } from '../wire/result.js';

export const DnsType = { A: 1, CNAME: 5, AAAA: 28, SRV: 33 } as const;
export type DnsTypeName = keyof typeof DnsType;

export const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE ${rcode}`;
}

/** A standard query with RD set, as a stub resolver (the phone's) sends it. Throws RangeError on an invalid name. */
export function encodeQuery(id: number, name: string, type: DnsTypeName): Uint8Array {
  const qname = encodeName(name);
  const out = new Uint8Array(12 + qname.length + 4);
  out[0] = (id >>> 8) & 0xff;
  out[1] = id & 0xff;
  out[2] = 0x01; // QR=0, opcode QUERY, RD=1
  out[5] = 1; // QDCOUNT
  out.set(qname, 12);
  const p = 12 + qname.length;
  const code = DnsType[type];
  out[p] = code >>> 8;
  out[p + 1] = code & 0xff;
  out[p + 3] = 1; // class IN
  return out;
}

export type RecordData =
  | { kind: 'A'; address: string }
  | { kind: 'CNAME'; target: string }
  | { kind: 'SRV'; priority: number; weight: number; port: number; target: string; targetCompressed: boolean }
  | { kind: 'other'; type: number };

export interface AnswerRecord {
  name: string;
  type: number;
  cls: number;
  ttl: number;
  /** Offset of the record's owner name in the message, for hex excerpts. */
  offset: number;
  /** Offset just after the record. */
  end: number;
  data: RecordData;
}

export interface DnsResponse {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: { name: string; type: number; cls: number }[];
  answers: AnswerRecord[];
}

const u16 = (b: Uint8Array, p: number): number => (b[p]! << 8) | b[p + 1]!;
const u32 = (b: Uint8Array, p: number): number => ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;

/**
 * Header, question section and answer section; authority and additional are
 * not read. Never throws and never reads past the buffer: a count larger than
 * the data fails 'truncated' as soon as the bytes run out.
 */
export function decodeResponse(buf: Uint8Array): Result<DnsResponse> {
  if (buf.length < 12) return fail('truncated', `a DNS header is 12 bytes, got ${buf.length}`, 0);
  const flags = u16(buf, 2);
  const qd = u16(buf, 4);
  const an = u16(buf, 6);
  let p = 12;
  const questions: DnsResponse['questions'] = [];
  for (let i = 0; i < qd; i++) {
    const n = decodeName(buf, p);
    if (!n.ok) return n;
    p = n.value.next;
    if (p + 4 > buf.length) return fail('truncated', `question ${i + 1} has no type and class`, p);
    questions.push({ name: n.value.name, type: u16(buf, p), cls: u16(buf, p + 2) });
    p += 4;
  }
  const answers: AnswerRecord[] = [];
  for (let i = 0; i < an; i++) {
    const offset = p;
    const n = decodeName(buf, p);
    if (!n.ok) return n;
    p = n.value.next;
    if (p + 10 > buf.length) return fail('truncated', `answer ${i + 1} is cut short in its fixed fields`, p);
    const type = u16(buf, p);
    const cls = u16(buf, p + 2);
    const ttl = u32(buf, p + 4);
    const rdlength = u16(buf, p + 8);
    const rdata = p + 10;
    const end = rdata + rdlength;
    if (end > buf.length) return fail('truncated', `answer ${i + 1} declares ${rdlength} bytes of data, only ${buf.length - rdata} remain`, p + 8);
    let data: RecordData;
    if (type === DnsType.A) {
      if (rdlength !== 4) return fail('bad-rdata', `A record with ${rdlength} bytes of data, not 4`, rdata);
      data = { kind: 'A', address: readIp(buf, rdata) };
    } else if (type === DnsType.CNAME) {
      const t = decodeName(buf, rdata, { end });
      if (!t.ok) return t;
      data = { kind: 'CNAME', target: t.value.name };
    } else if (type === DnsType.SRV) {
      if (rdlength < 7) return fail('bad-rdata', `SRV record with ${rdlength} bytes of data`, rdata);
      const t = decodeName(buf, rdata + 6, { end });
      if (!t.ok) return t;
      data = { kind: 'SRV', priority: u16(buf, rdata), weight: u16(buf, rdata + 2), port: u16(buf, rdata + 4), target: t.value.name, targetCompressed: t.value.compressed };
    } else {
      data = { kind: 'other', type };
    }
    answers.push({ name: n.value.name, type, cls, ttl, offset, end, data });
    p = end;
  }
  return ok({
    id: u16(buf, 0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions,
    answers,
  });
}
