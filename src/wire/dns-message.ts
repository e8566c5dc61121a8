// RFC 1035 §4 DNS messages: header, questions, resource records, and the
// EDNS0 OPT pseudo-record (RFC 6891). Names go through rfc1035-names.ts.
// Record data for A, AAAA (RFC 3596), CNAME, NS, SOA, PTR, TXT, SRV (RFC 2782)
// is typed; any other type is kept as opaque bytes (RFC 3597).
//
// Encoder and decoder side by side, and the two ends of a stub resolver (the
// probe's): a one-question query, and the answer section of a response read
// with where each record sits. Decoders never throw and never read past
// the buffer; encoders throw RangeError only on values the plan should never
// contain (an invalid name, a TXT string over 255 bytes).

import { latin1 } from './bytes.js';
import { formatIPv6, parseIPv6 } from './ipv6.js';
import { readIp, writeIp } from './ipv4.js';
import { decodeName, encodeName } from './rfc1035-names.js';
import { fail, ok, type Result } from './result.js';

export const HEADER_LENGTH = 12;

/** RR types we know by name (IANA DNS parameters). */
export const DnsType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const DnsClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

/** RFC 1035 §4.1.1 and RFC 6891 §9 (BADVERS needs the OPT's extended bits). */
export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, NOTAUTH: 9, BADVERS: 16 } as const;

const TYPE_NAMES = new Map<number, string>(Object.entries(DnsType).map(([k, v]) => [v, k]));
const RCODE_NAMES = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));

/** `A`, `SRV`, or RFC 3597 §5's `TYPE65` for the rest. */
export function typeName(code: number): string {
  return TYPE_NAMES.get(code) ?? `TYPE${code}`;
}

export function rcodeName(code: number): string {
  return RCODE_NAMES.get(code) ?? `RCODE${code}`;
}

// ---------------------------------------------------------------- header

export interface DnsHeader {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  /** The reserved bit; must be zero on the wire (RFC 1035), kept so a decode shows what was sent. */
  readonly z: boolean;
  /** RFC 4035 §3.2 (authentic data, checking disabled): copied, never set by us. */
  readonly ad: boolean;
  readonly cd: boolean;
  /** The low 4 bits; the high 8 bits of a 12-bit rcode live in the OPT record (RFC 6891 §6.1.3). */
  readonly rcode: number;
}

export interface DnsCounts {
  readonly qdcount: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
}

export function encodeHeader(out: Uint8Array, h: DnsHeader, c: DnsCounts): void {
  out[0] = h.id >> 8;
  out[1] = h.id & 0xff;
  out[2] = (h.qr ? 0x80 : 0) | ((h.opcode & 0xf) << 3) | (h.aa ? 4 : 0) | (h.tc ? 2 : 0) | (h.rd ? 1 : 0);
  out[3] = (h.ra ? 0x80 : 0) | (h.z ? 0x40 : 0) | (h.ad ? 0x20 : 0) | (h.cd ? 0x10 : 0) | (h.rcode & 0xf);
  out[4] = c.qdcount >> 8;
  out[5] = c.qdcount & 0xff;
  out[6] = c.ancount >> 8;
  out[7] = c.ancount & 0xff;
  out[8] = c.nscount >> 8;
  out[9] = c.nscount & 0xff;
  out[10] = c.arcount >> 8;
  out[11] = c.arcount & 0xff;
}

export function decodeHeader(buf: Uint8Array): Result<DnsHeader & DnsCounts> {
  if (buf.length < HEADER_LENGTH) return fail('short-header', `a DNS header is 12 bytes, got ${buf.length}`, 0);
  const b2 = buf[2]!;
  const b3 = buf[3]!;
  return ok({
    id: (buf[0]! << 8) | buf[1]!,
    qr: (b2 & 0x80) !== 0,
    opcode: (b2 >> 3) & 0xf,
    aa: (b2 & 4) !== 0,
    tc: (b2 & 2) !== 0,
    rd: (b2 & 1) !== 0,
    ra: (b3 & 0x80) !== 0,
    z: (b3 & 0x40) !== 0,
    ad: (b3 & 0x20) !== 0,
    cd: (b3 & 0x10) !== 0,
    rcode: b3 & 0xf,
    qdcount: (buf[4]! << 8) | buf[5]!,
    ancount: (buf[6]! << 8) | buf[7]!,
    nscount: (buf[8]! << 8) | buf[9]!,
    arcount: (buf[10]! << 8) | buf[11]!,
  });
}

// ---------------------------------------------------------------- values

export interface DnsQuestion {
  /** Dotted, no trailing dot, as sent (case kept); the root is ''. */
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface SoaData {
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  /** RFC 2308 §4: also the TTL of negative answers. */
  readonly minimum: number;
}

export type RecordData =
  | { readonly type: 'A'; readonly address: string }
  | { readonly type: 'AAAA'; readonly address: string }
  | { readonly type: 'CNAME'; readonly target: string }
  | { readonly type: 'NS'; readonly target: string }
  | { readonly type: 'PTR'; readonly target: string }
  | ({ readonly type: 'SOA' } & SoaData)
  /** Character-strings of at most 255 bytes each, as Latin-1 text so any byte survives a round trip. */
  | { readonly type: 'TXT'; readonly strings: readonly string[] }
  | { readonly type: 'SRV'; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }
  /** RFC 3597: any other type, RDATA as opaque bytes (a view into the message when decoded). */
  | { readonly type: 'unknown'; readonly code: number; readonly bytes: Uint8Array };

export interface ResourceRecord {
  readonly name: string;
  readonly class: number;
  readonly ttl: number;
  readonly data: RecordData;
}

export interface EdnsOption {
  readonly code: number;
  readonly data: Uint8Array;
}

/** RFC 6891 §6.1: the OPT pseudo-record, lifted out of the additional section. */
export interface Edns {
  /** The sender's largest UDP payload (the OPT's class field). */
  readonly udpPayloadSize: number;
  /** The upper 8 bits of the 12-bit rcode. */
  readonly extendedRcode: number;
  readonly version: number;
  /** RFC 3225 DO bit. */
  readonly dnssecOk: boolean;
  /** The other 15 flag bits, must be zero (kept for display). */
  readonly flags: number;
  readonly options: readonly EdnsOption[];
}

export interface DnsMessage {
  readonly header: DnsHeader;
  readonly questions: readonly DnsQuestion[];
  readonly answers: readonly ResourceRecord[];
  readonly authorities: readonly ResourceRecord[];
  /** Without the OPT record, which is `edns`. */
  readonly additionals: readonly ResourceRecord[];
  readonly edns: Edns | null;
}

export function recordTypeCode(data: RecordData): number {
  return data.type === 'unknown' ? data.code : DnsType[data.type];
}

/** The full 12-bit rcode of a message (RFC 6891 §6.1.3). */
export function fullRcode(m: Pick<DnsMessage, 'header' | 'edns'>): number {
  return ((m.edns?.extendedRcode ?? 0) << 4) | m.header.rcode;
}

// ---------------------------------------------------------------- encoder

/** Lower-case (ASCII only, RFC 4343) Latin-1 view of wire bytes: compression keys can't be confused by a '.' inside a label. */
function wireKey(wire: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const b = wire[i]!;
    s += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b | 0x20 : b);
  }
  return s;
}

/** Pointers hold 14 bits (RFC 1035 §4.1.4). */
const MAX_POINTER = 0x3fff;

/**
 * Builds one message section by section, in order (questions, answers,
 * authority, additional, OPT). Names are compressed against every name written
 * before, case-insensitively, so an answer's owner points at the question and
 * reads back in the client's own case (the 0x20 trick keeps working).
 * SRV targets are never compressed (RFC 2782) and never pointed into.
 */
export class MessageWriter {
  private buf: Uint8Array;
  private pos = HEADER_LENGTH;
  private readonly counts = [0, 0, 0, 0];
  private section = 0;
  private readonly names = new Map<string, number>();

  constructor(
    private readonly compress = true,
    capacity = 512,
  ) {
    this.buf = new Uint8Array(Math.max(capacity, 64));
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  private u16(v: number): void {
    this.ensure(2);
    this.buf[this.pos++] = (v >> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  private u32(v: number): void {
    this.ensure(4);
    this.buf[this.pos++] = (v >>> 24) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  private bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Remembers every suffix of an uncompressed wire name written at `at` (label starts only). */
  private remember(wire: Uint8Array, at: number, upTo: number): void {
    for (let i = 0; i < upTo && wire[i] !== 0; i += 1 + wire[i]!) {
      if (at + i > MAX_POINTER) return;
      const key = wireKey(wire, i, wire.length);
      if (!this.names.has(key)) this.names.set(key, at + i);
    }
  }

  /** Writes a name, compressed when allowed. Throws RangeError on an invalid name. */
  name(name: string, compressible = true): void {
    const wire = encodeName(name);
    if (!this.compress || !compressible) {
      this.bytes(wire);
      return;
    }
    let i = 0;
    for (; wire[i] !== 0; i += 1 + wire[i]!) {
      const at = this.names.get(wireKey(wire, i, wire.length));
      if (at !== undefined) {
        const start = this.pos;
        this.bytes(wire.subarray(0, i));
        this.u16(0xc000 | at);
        this.remember(wire, start, i);
        return;
      }
    }
    const start = this.pos;
    this.bytes(wire);
    this.remember(wire, start, wire.length);
  }

  private enter(section: number): void {
    if (section < this.section) throw new RangeError('DNS sections must be written in order');
    this.section = section;
    this.counts[section]!++;
  }

  question(q: DnsQuestion): void {
    this.enter(0);
    this.name(q.name);
    this.u16(q.type);
    this.u16(q.class);
  }

  /**
   * A question copied byte for byte from a query: names whose labels may hold
   * any byte (spaces, dots, 0x20 case) are echoed exactly. `wire` must be an
   * uncompressed name followed by type and class; its suffixes become
   * compression targets.
   */
  rawQuestion(wire: Uint8Array): void {
    this.enter(0);
    const start = this.pos;
    this.bytes(wire);
    if (this.compress) {
      const nameEnd = wire.length - 4;
      this.remember(wire.subarray(0, nameEnd), start, nameEnd);
    }
  }

  record(section: 1 | 2 | 3, rr: ResourceRecord): void {
    this.enter(section);
    this.name(rr.name);
    const d = rr.data;
    this.u16(recordTypeCode(d));
    this.u16(rr.class);
    this.u32(rr.ttl);
    const lengthAt = this.pos;
    this.u16(0);
    const rdataAt = this.pos;
    switch (d.type) {
      case 'A':
        this.ensure(4);
        writeIp(this.buf, this.pos, d.address);
        this.pos += 4;
        break;
      case 'AAAA': {
        const b = parseIPv6(d.address);
        if (!b) throw new RangeError(`not an IPv6 address: ${d.address}`);
        this.bytes(b);
        break;
      }
      case 'CNAME':
      case 'NS':
      case 'PTR':
        // RFC 3597 §4: compression is allowed in these RFC 1035 types only.
        this.name(d.target);
        break;
      case 'SOA':
        this.name(d.mname);
        this.name(d.rname);
        this.u32(d.serial);
        this.u32(d.refresh);
        this.u32(d.retry);
        this.u32(d.expire);
        this.u32(d.minimum);
        break;
      case 'TXT':
        for (const s of d.strings) {
          if (s.length > 255) throw new RangeError(`TXT string of ${s.length} bytes: at most 255`);
          this.u8(s.length);
          this.ensure(s.length);
          for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i) & 0xff;
        }
        break;
      case 'SRV':
        this.u16(d.priority);
        this.u16(d.weight);
        this.u16(d.port);
        // RFC 2782: "name compression is not to be used for this field".
        this.name(d.target, false);
        break;
      case 'unknown':
        this.bytes(d.bytes);
        break;
    }
    const rdlength = this.pos - rdataAt;
    if (rdlength > 0xffff) throw new RangeError('RDATA longer than 65535 bytes');
    this.buf[lengthAt] = rdlength >> 8;
    this.buf[lengthAt + 1] = rdlength & 0xff;
  }

  /** RFC 6891 §6.1.2: root owner, class = payload size, TTL = extended rcode, version, DO and flags. */
  opt(e: Edns): void {
    this.enter(3);
    this.u8(0);
    this.u16(DnsType.OPT);
    this.u16(e.udpPayloadSize);
    this.u8(e.extendedRcode);
    this.u8(e.version);
    this.u16((e.dnssecOk ? 0x8000 : 0) | (e.flags & 0x7fff));
    const size = e.options.reduce((n, o) => n + 4 + o.data.length, 0);
    this.u16(size);
    for (const o of e.options) {
      this.u16(o.code);
      this.u16(o.data.length);
      this.bytes(o.data);
    }
  }

  /** The message with this header; counts come from what was written. */
  finish(header: DnsHeader): Uint8Array {
    const [qdcount, ancount, nscount, arcount] = this.counts as [number, number, number, number];
    encodeHeader(this.buf, header, { qdcount, ancount, nscount, arcount });
    return this.buf.slice(0, this.pos);
  }
}

/** The whole message; names compressed unless `compress: false`. */
export function encodeDnsMessage(m: DnsMessage, options: { compress?: boolean } = {}): Uint8Array {
  const w = new MessageWriter(options.compress ?? true);
  for (const q of m.questions) w.question(q);
  for (const rr of m.answers) w.record(1, rr);
  for (const rr of m.authorities) w.record(2, rr);
  for (const rr of m.additionals) w.record(3, rr);
  if (m.edns) w.opt(m.edns);
  return w.finish(m.header);
}

/** A standard query with RD set, one question of class IN, as a stub resolver (the phone's) sends it. Throws RangeError on an invalid name. */
export function encodeDnsQuery(id: number, name: string, type: number): Uint8Array {
  const w = new MessageWriter(false);
  w.question({ name, type, class: DnsClass.IN });
  return w.finish({ id, qr: false, opcode: Opcode.QUERY, aa: false, tc: false, rd: true, ra: false, z: false, ad: false, cd: false, rcode: 0 });
}

// ---------------------------------------------------------------- decoder

/** Smallest question: root name (1) + type + class. Smallest RR: root + type, class, ttl, rdlength. */
const MIN_QUESTION = 5;
const MIN_RECORD = 11;

export function decodeQuestion(buf: Uint8Array, offset: number): Result<{ question: DnsQuestion; next: number }> {
  const n = decodeName(buf, offset);
  if (!n.ok) return n;
  const p = n.value.next;
  if (p + 4 > buf.length) return fail('truncated', 'question ends before its type and class', p);
  return ok({ question: { name: n.value.name, type: (buf[p]! << 8) | buf[p + 1]!, class: (buf[p + 2]! << 8) | buf[p + 3]! }, next: p + 4 });
}

function decodeData(buf: Uint8Array, type: number, start: number, end: number): Result<RecordData> {
  const len = end - start;
  const wholeName = (at: number): Result<{ name: string; next: number }> => {
    const n = decodeName(buf, at, { end });
    if (!n.ok) return n;
    return ok({ name: n.value.name, next: n.value.next });
  };
  const exactly = (name: string, next: number): Result<never> | null =>
    next === end ? null : fail('bad-rdata', `${name} RDATA has ${end - next} bytes left over`, next);
  switch (type) {
    case DnsType.A:
      if (len !== 4) return fail('bad-rdata', `A RDATA is 4 bytes, got ${len}`, start);
      return ok({ type: 'A', address: readIp(buf, start) });
    case DnsType.AAAA:
      if (len !== 16) return fail('bad-rdata', `AAAA RDATA is 16 bytes, got ${len}`, start);
      return ok({ type: 'AAAA', address: formatIPv6(buf, start) });
    case DnsType.CNAME:
    case DnsType.NS:
    case DnsType.PTR: {
      const n = wholeName(start);
      if (!n.ok) return n;
      const t = type === DnsType.CNAME ? 'CNAME' : type === DnsType.NS ? 'NS' : 'PTR';
      return exactly(t, n.value.next) ?? ok({ type: t, target: n.value.name });
    }
    case DnsType.SOA: {
      const m = wholeName(start);
      if (!m.ok) return m;
      const r = wholeName(m.value.next);
      if (!r.ok) return r;
      const p = r.value.next;
      if (p + 20 !== end) return fail('bad-rdata', 'SOA RDATA must end with exactly five 32-bit numbers', p);
      const u32 = (at: number) => ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
      return ok({ type: 'SOA', mname: m.value.name, rname: r.value.name, serial: u32(p), refresh: u32(p + 4), retry: u32(p + 8), expire: u32(p + 12), minimum: u32(p + 16) });
    }
    case DnsType.TXT: {
      const strings: string[] = [];
      let p = start;
      while (p < end) {
        const l = buf[p]!;
        if (p + 1 + l > end) return fail('bad-rdata', `TXT string of ${l} bytes runs past the RDATA`, p);
        strings.push(latin1(buf.subarray(p + 1, p + 1 + l)));
        p += 1 + l;
      }
      return ok({ type: 'TXT', strings });
    }
    case DnsType.SRV: {
      if (len < 7) return fail('bad-rdata', `SRV RDATA is at least 7 bytes, got ${len}`, start);
      // Lenient on input: dns2 and others compress the target although RFC 2782 says not to.
      const n = wholeName(start + 6);
      if (!n.ok) return n;
      const u16 = (at: number) => (buf[at]! << 8) | buf[at + 1]!;
      return exactly('SRV', n.value.next) ?? ok({ type: 'SRV', priority: u16(start), weight: u16(start + 2), port: u16(start + 4), target: n.value.name });
    }
    default:
      return ok({ type: 'unknown', code: type, bytes: buf.subarray(start, end) });
  }
}

function decodeEdns(buf: Uint8Array, cls: number, ttl: number, start: number, end: number): Result<Edns> {
  const options: EdnsOption[] = [];
  let p = start;
  while (p < end) {
    if (p + 4 > end) return fail('bad-opt', 'EDNS option header runs past the OPT RDATA', p);
    const code = (buf[p]! << 8) | buf[p + 1]!;
    const l = (buf[p + 2]! << 8) | buf[p + 3]!;
    if (p + 4 + l > end) return fail('bad-opt', `EDNS option ${code} of ${l} bytes runs past the OPT RDATA`, p);
    options.push({ code, data: buf.subarray(p + 4, p + 4 + l) });
    p += 4 + l;
  }
  return ok({
    udpPayloadSize: cls,
    extendedRcode: ttl >>> 24,
    version: (ttl >>> 16) & 0xff,
    dnssecOk: (ttl & 0x8000) !== 0,
    flags: ttl & 0x7fff,
    options,
  });
}

/** `rdata`: where the record's data starts (after RDLENGTH). */
/** The question section, right after the header. */
function decodeQuestions(buf: Uint8Array, count: number): Result<{ questions: DnsQuestion[]; next: number }> {
  let p = HEADER_LENGTH;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < count; i++) {
    const q = decodeQuestion(buf, p);
    if (!q.ok) return q;
    questions.push(q.value.question);
    p = q.value.next;
  }
  return ok({ questions, next: p });
}

type Decoded = { kind: 'rr'; record: ResourceRecord; rdata: number; next: number } | { kind: 'opt'; name: string; edns: Edns; next: number };

export function decodeRecord(buf: Uint8Array, offset: number): Result<Decoded> {
  const n = decodeName(buf, offset);
  if (!n.ok) return n;
  const p = n.value.next;
  if (p + 10 > buf.length) return fail('truncated', 'record ends inside its fixed fields', p);
  const type = (buf[p]! << 8) | buf[p + 1]!;
  const cls = (buf[p + 2]! << 8) | buf[p + 3]!;
  const ttl = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
  const rdlength = (buf[p + 8]! << 8) | buf[p + 9]!;
  const start = p + 10;
  const end = start + rdlength;
  if (end > buf.length) return fail('truncated', `RDATA of ${rdlength} bytes runs past the end`, p + 8);
  if (type === DnsType.OPT) {
    const e = decodeEdns(buf, cls, ttl, start, end);
    if (!e.ok) return e;
    return ok({ kind: 'opt', name: n.value.name, edns: e.value, next: end });
  }
  const d = decodeData(buf, type, start, end);
  if (!d.ok) return d;
  return ok({ kind: 'rr', record: { name: n.value.name, class: cls, ttl, data: d.value }, rdata: start, next: end });
}

/**
 * A whole message. Fails on counts that cannot fit in the datagram (checked
 * before any parsing, so 0xffff counts cost nothing), on an OPT anywhere but
 * the additional section or with a name other than the root, on more than one
 * OPT (RFC 6891 §6.1.1), and on bytes left over after the last record.
 */
export function decodeDnsMessage(buf: Uint8Array): Result<DnsMessage> {
  const h = decodeHeader(buf);
  if (!h.ok) return h;
  const { qdcount, ancount, nscount, arcount } = h.value;
  if (qdcount * MIN_QUESTION + (ancount + nscount + arcount) * MIN_RECORD > buf.length - HEADER_LENGTH) {
    return fail('counts-exceed-length', `${qdcount}/${ancount}/${nscount}/${arcount} entries cannot fit in ${buf.length} bytes`, 4);
  }
  const { qdcount: _q, ancount: _a, nscount: _n, arcount: _r, ...header } = h.value;
  const qs = decodeQuestions(buf, qdcount);
  if (!qs.ok) return qs;
  const questions = qs.value.questions;
  let p = qs.value.next;
  const sections: ResourceRecord[][] = [[], [], []];
  let edns: Edns | null = null;
  const counts = [ancount, nscount, arcount];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const at = p;
      const r = decodeRecord(buf, p);
      if (!r.ok) return r;
      p = r.value.next;
      if (r.value.kind === 'rr') {
        sections[s]!.push(r.value.record);
        continue;
      }
      if (s !== 2) return fail('misplaced-opt', 'an OPT record outside the additional section', at);
      if (r.value.name !== '') return fail('bad-opt', 'an OPT record whose owner is not the root', at);
      if (edns) return fail('multiple-opt', 'more than one OPT record', at);
      edns = r.value.edns;
    }
  }
  if (p !== buf.length) return fail('trailing-bytes', `${buf.length - p} bytes after the last record`, p);
  return ok({ header, questions, answers: sections[0]!, authorities: sections[1]!, additionals: sections[2]!, edns });
}

/** An answer record and where it sits in the message, for hex excerpts. */
export interface LocatedRecord {
  readonly record: ResourceRecord;
  /** Offset of the record's owner name. */
  readonly offset: number;
  /** Offset just after the record. */
  readonly end: number;
  /** SRV only: the target is compressed, which RFC 2782 forbids (whether the phone's resolver follows the pointer is unknown). */
  readonly targetCompressed: boolean;
}

export interface DnsAnswers {
  readonly header: DnsHeader;
  readonly questions: readonly DnsQuestion[];
  readonly answers: readonly LocatedRecord[];
}

/**
 * What a stub resolver reads of a response: header, questions and the answer
 * section, records read as decodeDnsMessage reads them. The authority and
 * additional sections are not read, so damage there (or their counts) does
 * not hide the answers. A count larger than the data fails 'truncated' as
 * soon as the bytes run out.
 */
export function decodeDnsAnswers(buf: Uint8Array): Result<DnsAnswers> {
  const h = decodeHeader(buf);
  if (!h.ok) return h;
  const { qdcount, ancount, nscount: _n, arcount: _r, ...header } = h.value;
  const qs = decodeQuestions(buf, qdcount);
  if (!qs.ok) return qs;
  const questions = qs.value.questions;
  let p = qs.value.next;
  const answers: LocatedRecord[] = [];
  for (let i = 0; i < ancount; i++) {
    const offset = p;
    const r = decodeRecord(buf, p);
    if (!r.ok) return r;
    if (r.value.kind === 'opt') return fail('misplaced-opt', 'an OPT record outside the additional section', offset);
    const { record, rdata, next } = r.value;
    let targetCompressed = false;
    if (record.data.type === 'SRV') {
      const t = decodeName(buf, rdata + 6, { end: next });
      targetCompressed = t.ok && t.value.compressed;
    }
    answers.push({ record, offset, end: next, targetCompressed });
    p = next;
  }
  return ok({ header, questions, answers });
}
