// One DNS query in, the response bytes out (or nothing, or "forward this").
// No sockets, no clock. The hot path reads the header and the question in one
// pass, looks the lower-cased name up, copies a precomputed response and
// patches it: ID, RD/CD, the client's question bytes (0x20 case kept), OPT.
// Everything else (errors, NXDOMAIN/NODATA, REFUSED) is built from the query's
// own bytes plus a precomputed SOA, so a query's labels are echoed exactly as
// sent and never re-encoded from text.
//
// The outcome of the last call (rcode, type, name, what happened) is left in
// public fields instead of a result object: the daemon logs it right away and
// the hot path allocates nothing but the response buffer.

import { decodeName } from '../wire/rfc1035-names.js';
import { DnsType, Rcode } from '../wire/dns-message.js';
import type { Authority, Zone } from './authority.js';

/** RFC 1035 §4.2.1 without EDNS; also the floor for any EDNS size (RFC 6891 §6.2.5). */
export const CLASSIC_UDP = 512;
/** DNS flag day 2020: never more than this over UDP, to stay clear of IP fragmentation. */
export const DEFAULT_MAX_UDP = 1232;
export const OPT_LENGTH = 11;
/** RFC 8945: the TSIG meta-RR, its BADKEY error, and the header's NOTAUTH. */
const TSIG = 250;
const BADKEY = 17;
const ROOT = new Uint8Array(1);
const MAX_LABELS = 128;

export type Action = 'answer' | 'drop' | 'forward';
export type DropReason = 'short' | 'response';

export class Responder {
  /** Swapped on reload: one reference assignment, so a query sees one whole authority. */
  authority: Authority;
  readonly maxUdp: number;

  // ---- outcome of the last respond() call
  action: Action = 'drop';
  dropReason: DropReason = 'short';
  /** Response code as sent (12-bit with EDNS), or -1 when nothing was sent. */
  rcode = -1;
  /** The question's type, or -1 when there was no readable question. */
  qtype = -1;
  /** Lower-case query name ('' for the root or when unreadable). */
  name = '';
  /** True when NOERROR carried no answer (RFC 2308 NODATA). */
  nodata = false;
  truncated = false;
  /** Why the query was refused or malformed, for debug logs. */
  detail = '';
  /** Offset just after the question (name, type, class), or -1: what a forwarder must see echoed. */
  questionEnd = -1;

  // ---- what readRecords() found after the question
  private ednsSize = -1;
  private ednsVersion = 0;
  private dnssecOk = false;
  /** Offset of a TSIG record (the last one), or -1. */
  private tsigAt = -1;

  // ---- scratch for the question scan
  private readonly keyBytes = Buffer.alloc(256);
  private readonly labelStarts = new Int32Array(MAX_LABELS);

  constructor(authority: Authority, maxUdp = DEFAULT_MAX_UDP) {
    this.authority = authority;
    this.maxUdp = maxUdp;
  }

  /**
   * Answers one query. `tcp` lifts the size limit to 65535 (RFC 7766). Returns
   * the response, or null for drop/forward (see `action`). Never throws on any
   * input; a thrown error here is a bug in our data, and the daemon counts it.
   * `mayRecurse`: the client is one we forward for (BCP 140: the site's subnets
   * and loopback). With forwarders set it gets 'forward' outside our zones and
   * RA=1 on its answers, others get REFUSED and RA=0. Like BIND, RA=1 only on
   * answers from the lookup (NOERROR, NXDOMAIN), not on errors about the message.
   */
  respond(q: Uint8Array, tcp: boolean, mayRecurse = true): Uint8Array | null {
    const recursion = mayRecurse && this.authority.forwarders.length > 0;
    const out = this.answer(q, tcp, recursion);
    if (out !== null && recursion && (this.rcode === Rcode.NOERROR || this.rcode === Rcode.NXDOMAIN)) out[3]! |= 0x80;
    return out;
  }

  private answer(q: Uint8Array, tcp: boolean, recursion: boolean): Uint8Array | null {
    this.rcode = -1;
    this.qtype = -1;
    this.name = '';
    this.nodata = false;
    this.truncated = false;
    this.detail = '';
    this.questionEnd = -1;
    const len = q.length;
    if (len < 12) return this.drop('short');
    // RFC 1035 §4.1.1: a response is never answered (no loops, no reflection).
    if (q[2]! & 0x80) return this.drop('response');
    const opcode = (q[2]! >> 3) & 0xf;
    const qdcount = (q[4]! << 8) | q[5]!;

    // ---- the question: plain labels only (a pointer could only point into the header)
    let qEnd = -1;
    let weird = -1;
    let labels = 0;
    let keyLen = 0;
    let nameEnd = -1;
    if (qdcount >= 1) {
      let p = 12;
      let wire = 1;
      const key = this.keyBytes;
      for (;;) {
        if (p >= len) break;
        const l = q[p]!;
        if (l === 0) {
          nameEnd = p + 1;
          break;
        }
        if (l & 0xc0 || p + 1 + l > len || (wire += l + 1) > 255) break;
        if (labels > 0) key[keyLen++] = 0x2e;
        if (labels === MAX_LABELS) break;
        this.labelStarts[labels++] = keyLen;
        for (let i = p + 1, last = p + 1 + l; i < last; i++) {
          const c = q[i]!;
          // A '.' inside a label would make the text key ambiguous: such a name matches no node.
          if (c === 0x2e) weird = labels - 1;
          key[keyLen++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
        }
        p += 1 + l;
      }
      if (nameEnd > 0 && nameEnd + 4 <= len) {
        qEnd = nameEnd + 4;
        this.questionEnd = qEnd;
        this.qtype = (q[nameEnd]! << 8) | q[nameEnd + 1]!;
        this.name = key.toString('latin1', 0, keyLen);
      }
    }

    // ---- the records after the question: at most one OPT, TSIG last. When they
    // do not parse there is no OPT to trust and errors go without one (as Knot);
    // otherwise every answer, errors included, carries an OPT (RFC 6891 §6.1.1).
    const recordsFrom = qdcount === 1 ? qEnd : qdcount === 0 ? 12 : -1;
    const broken = recordsFrom < 0 ? 'unreadable question' : this.readRecords(q, recordsFrom);
    const edns = broken === null && this.ednsSize >= 0;
    const dnssecOk = edns && this.dnssecOk;

    if (opcode !== 0) {
      this.detail = `opcode ${opcode}`;
      return this.simple(q, Rcode.NOTIMP, qdcount === 1 ? qEnd : -1, edns, dnssecOk, false);
    }
    if (qdcount !== 1 || qEnd < 0) {
      this.detail = qdcount !== 1 ? `${qdcount} questions` : 'unreadable question';
      return this.simple(q, Rcode.FORMERR, -1, edns, dnssecOk, false);
    }
    if (((q[6]! << 8) | q[7]!) !== 0 || ((q[8]! << 8) | q[9]!) !== 0) {
      this.detail = 'answer or authority records in a query';
      return this.simple(q, Rcode.FORMERR, qEnd, edns, dnssecOk, false);
    }
    if (broken !== null) return this.formerr(q, qEnd, broken);
    const limit = answerLimit(tcp, edns ? this.ednsSize : -1, this.maxUdp);

    // RFC 6891 §6.1.3: we speak version 0 only.
    if (edns && this.ednsVersion !== 0) {
      this.detail = `EDNS version ${this.ednsVersion}`;
      return this.simple(q, Rcode.BADVERS, qEnd, true, dnssecOk, false);
    }
    const qtype = this.qtype;
    const authority = this.authority;
    const qclass = (q[qEnd - 2]! << 8) | q[qEnd - 1]!;
    if (qclass !== 1) {
      this.detail = `class ${qclass}`;
      return this.simple(q, Rcode.REFUSED, qEnd, edns, dnssecOk, false);
    }
    // RFC 8945 §5.2.2: we hold no keys, so a signed query for our zones is NOTAUTH/BADKEY.
    // Outside them it is refused (as Knot) or forwarded as it came.
    if (this.tsigAt >= 0 && ((weird < 0 && authority.names.has(this.name)) || authority.zoneFor(this.name, this.labelStarts, labels, weird + 1) !== undefined)) {
      return this.badKey(q, qEnd, edns, dnssecOk);
    }
    if (qtype === DnsType.OPT) {
      // The records parsed: the FORMERR carries an OPT like every other error here (RFC 6891 §6.1.1).
      this.detail = 'OPT as a question type';
      return this.simple(q, Rcode.FORMERR, qEnd, edns, dnssecOk, false);
    }
    if (qtype === DnsType.AXFR || qtype === DnsType.IXFR) {
      this.detail = 'zone transfers are not offered';
      return this.simple(q, Rcode.REFUSED, qEnd, edns, dnssecOk, false);
    }
    if (qtype === 253 || qtype === 254) {
      this.detail = 'MAILB/MAILA are obsolete';
      return this.simple(q, Rcode.NOTIMP, qEnd, edns, dnssecOk, false);
    }

    // ---- lookup
    const node = weird < 0 ? authority.names.get(this.name) : undefined;
    if (node !== undefined) {
      let prepared: Uint8Array | null | undefined;
      if (qtype === DnsType.ANY) prepared = node.any;
      else prepared = node.prepared.get(qtype) ?? (node.cname ? authority.chase(node, qtype) : undefined);
      if (prepared) return this.copyPrepared(q, qEnd, prepared, limit, edns, dnssecOk);
      this.nodata = true;
      return this.negative(q, qEnd, nameEnd, node.zone, Rcode.NOERROR, limit, edns, dnssecOk);
    }
    const zone = authority.zoneFor(this.name, this.labelStarts, labels, weird + 1);
    if (zone !== undefined) return this.negative(q, qEnd, nameEnd, zone, Rcode.NXDOMAIN, limit, edns, dnssecOk);
    if (recursion) {
      this.action = 'forward';
      return null;
    }
    this.detail = 'outside our zones';
    return this.simple(q, Rcode.REFUSED, qEnd, edns, dnssecOk, false);
  }

  /** SERVFAIL for a query we could not get answered (forwarding timed out): header, question, and an OPT when the query had one. */
  servfail(q: Uint8Array, qEnd: number): Uint8Array {
    const edns = qEnd > 0 && this.readRecords(q, qEnd) === null && this.ednsSize >= 0;
    return this.simple(q, Rcode.SERVFAIL, qEnd, edns, edns && this.dnssecOk, false);
  }

  private drop(reason: DropReason): null {
    this.action = 'drop';
    this.dropReason = reason;
    return null;
  }

  /** FORMERR for a query whose records do not parse: no OPT, since the query's cannot be trusted (as Knot). */
  private formerr(q: Uint8Array, qEnd: number, detail: string): Uint8Array {
    this.detail = detail;
    return this.simple(q, Rcode.FORMERR, qEnd, false, false, false);
  }

  /**
   * Walks the answer, authority and additional records after `from` and
   * leaves the OPT's size, version and DO bit, and the TSIG's offset, in
   * fields. Returns why the records are malformed, or null.
   */
  private readRecords(q: Uint8Array, from: number): string | null {
    this.ednsSize = -1;
    this.ednsVersion = 0;
    this.dnssecOk = false;
    this.tsigAt = -1;
    const len = q.length;
    const before = ((q[6]! << 8) | q[7]!) + ((q[8]! << 8) | q[9]!);
    const total = before + ((q[10]! << 8) | q[11]!);
    if (total === 0 && from === len) return null;
    let p = from;
    if (total * 11 > len - p) return 'record counts exceed the message';
    for (let i = 0; i < total; i++) {
      const start = p;
      let owner: number;
      let rootOwner = false;
      if (p < len && q[p] === 0) {
        owner = p + 1;
        rootOwner = true;
      } else {
        const n = decodeName(q, p);
        if (!n.ok) return `record name: ${n.error.message}`;
        owner = n.value.next;
      }
      if (owner + 10 > len) return 'record cut short';
      const type = (q[owner]! << 8) | q[owner + 1]!;
      const rdlength = (q[owner + 8]! << 8) | q[owner + 9]!;
      const end = owner + 10 + rdlength;
      if (end > len) return 'record data cut short';
      if (type === DnsType.OPT) {
        if (i < before) return 'OPT outside the additional section';
        if (!rootOwner || this.ednsSize >= 0) return rootOwner ? 'more than one OPT' : 'OPT owner is not the root';
        for (let o = owner + 10; o < end; ) {
          if (o + 4 > end) return 'EDNS option cut short';
          o += 4 + ((q[o + 2]! << 8) | q[o + 3]!);
          if (o > end) return 'EDNS option cut short';
        }
        this.ednsSize = (q[owner + 2]! << 8) | q[owner + 3]!;
        this.ednsVersion = q[owner + 5]!;
        this.dnssecOk = (q[owner + 6]! & 0x80) !== 0;
      } else if (type === TSIG) {
        // RFC 8945 §5.1: only as the last record of the additional section, else FORMERR.
        if (i !== total - 1 || i < before) return 'TSIG is not the last record';
        const alg = decodeName(q, owner + 10, { allowCompression: false, end });
        // algorithm, time signed (6), fudge (2), MAC size (2), MAC, original ID, error, other length (2 each), other
        if (!alg.ok || alg.value.next + 10 > end) return 'malformed TSIG';
        const mac = (q[alg.value.next + 8]! << 8) | q[alg.value.next + 9]!;
        const tail = alg.value.next + 10 + mac;
        if (tail + 6 > end || tail + 6 + ((q[tail + 4]! << 8) | q[tail + 5]!) !== end) return 'malformed TSIG';
        this.tsigAt = start;
      }
      p = end;
    }
    if (p !== len) return `${len - p} bytes after the last record`;
    return null;
  }

  /**
   * RFC 8945 §5.3.2: NOTAUTH with an unsigned TSIG, error BADKEY: key name
   * (pointers expanded), algorithm, time signed and fudge copied, MAC size 0.
   * Original ID is the message ID, as Knot and BIND write it. The OPT, when
   * the query had one, goes before the TSIG (which is last).
   */
  private badKey(q: Uint8Array, qEnd: number, edns: boolean, dnssecOk: boolean): Uint8Array {
    this.detail = 'TSIG: no keys configured';
    const key = this.expandName(q, this.tsigAt);
    const owner = decodeName(q, this.tsigAt);
    const rdata = owner.ok ? owner.value.next + 10 : 0;
    const alg = decodeName(q, rdata, { allowCompression: false });
    const algEnd = alg.ok ? alg.value.next : rdata;
    const rdLength = algEnd - rdata + 16;
    const out = this.simple(q, Rcode.NOTAUTH, qEnd, edns, dnssecOk, false);
    const tsig = Buffer.allocUnsafe(key.length + 10 + rdLength);
    let p = key.length;
    key.copy(tsig, 0);
    tsig.writeUInt16BE(TSIG, p);
    tsig.writeUInt16BE(255, p + 2); // class ANY
    tsig.writeUInt32BE(0, p + 4);
    tsig.writeUInt16BE(rdLength, p + 8);
    p += 10;
    tsig.set(q.subarray(rdata, algEnd + 8), p); // algorithm, time signed, fudge
    p += algEnd + 8 - rdata;
    tsig.writeUInt16BE(0, p); // MAC size
    tsig[p + 2] = q[0]!;
    tsig[p + 3] = q[1]!;
    tsig.writeUInt16BE(BADKEY, p + 4);
    tsig.writeUInt16BE(0, p + 6); // other length
    const res = Buffer.concat([out, tsig]);
    res[11] = res[11]! + 1;
    return res;
  }

  /** The uncompressed wire form of a name already checked by decodeName. */
  private expandName(q: Uint8Array, at: number): Buffer {
    const labels: Uint8Array[] = [];
    let p = at;
    for (let hops = 0; q[p] !== 0 && hops < 128; hops++) {
      const l = q[p]!;
      if ((l & 0xc0) === 0xc0) {
        p = ((l & 0x3f) << 8) | q[p + 1]!;
        continue;
      }
      labels.push(q.subarray(p, p + 1 + l));
      p += 1 + l;
    }
    labels.push(ROOT);
    return Buffer.concat(labels);
  }

  /** Errors, REFUSED, BADVERS, TC=1: header with the query's opcode and RD, the question when readable (qEnd > 0), OPT when the query had a valid one. */
  private simple(q: Uint8Array, rcode: number, qEnd: number, edns: boolean, dnssecOk: boolean, aa: boolean): Uint8Array {
    this.action = 'answer';
    this.rcode = rcode;
    const end = qEnd > 0 ? qEnd : 12;
    const out = Buffer.allocUnsafe(end + (edns ? OPT_LENGTH : 0));
    out[0] = q[0]!;
    out[1] = q[1]!;
    out[2] = 0x80 | (aa ? 4 : 0) | (q[2]! & 0x79);
    out[3] = (q[3]! & 0x10) | (rcode & 0xf);
    out[4] = 0;
    out[5] = qEnd > 0 ? 1 : 0;
    out.fill(0, 6, 10);
    out[10] = 0;
    out[11] = edns ? 1 : 0;
    for (let i = 12; i < end; i++) out[i] = q[i]!;
    if (edns) this.writeOpt(out, end, rcode >> 4, dnssecOk);
    return out;
  }

  private copyPrepared(q: Uint8Array, qEnd: number, prepared: Uint8Array, limit: number, edns: boolean, dnssecOk: boolean): Uint8Array {
    this.action = 'answer';
    const rcode = prepared[3]! & 0xf;
    this.rcode = rcode;
    this.nodata = rcode === 0 && prepared[6] === 0 && prepared[7] === 0;
    const opt = edns ? OPT_LENGTH : 0;
    let length = prepared.length;
    let ar = (prepared[10]! << 8) | prepared[11]!;
    if (length + opt > limit) {
      // RFC 2181 §9: whole additional RRsets go first; TC only when the answer itself does not fit.
      const fit = this.authority.fit(prepared, limit - opt);
      if (fit === null) return this.truncate(q, qEnd, rcode, edns, dnssecOk);
      [length, ar] = fit;
    }
    const out = Buffer.allocUnsafe(length + opt);
    out.set(length === prepared.length ? prepared : prepared.subarray(0, length));
    out[0] = q[0]!;
    out[1] = q[1]!;
    out[2] = prepared[2]! | (q[2]! & 1);
    // RFC 4035 §3.1.6: CD is copied from the query.
    out[3] = prepared[3]! | (q[3]! & 0x10);
    // Same length and labels as ours (the name matched), only the case may differ: the client gets its own case back.
    for (let i = 12; i < qEnd; i++) out[i] = q[i]!;
    if (edns) {
      this.writeOpt(out, length, 0, dnssecOk);
      ar++;
    }
    out[10] = ar >> 8;
    out[11] = ar & 0xff;
    return out;
  }

  /** NXDOMAIN or NODATA: the SOA in the authority section, its owner a pointer to the apex inside the question (RFC 2308 §2). */
  private negative(q: Uint8Array, qEnd: number, nameEnd: number, zone: Zone, rcode: number, limit: number, edns: boolean, dnssecOk: boolean): Uint8Array {
    this.action = 'answer';
    this.rcode = rcode;
    const neg = zone.negative;
    const size = qEnd + 2 + neg.length + (edns ? OPT_LENGTH : 0);
    if (size > limit) return this.truncate(q, qEnd, rcode, edns, dnssecOk);
    const out = Buffer.allocUnsafe(size);
    out[0] = q[0]!;
    out[1] = q[1]!;
    out[2] = 0x84 | (q[2]! & 1);
    out[3] = (q[3]! & 0x10) | rcode;
    out[4] = 0;
    out[5] = 1;
    out[6] = 0;
    out[7] = 0;
    out[8] = 0;
    out[9] = 1;
    out[10] = 0;
    out[11] = edns ? 1 : 0;
    for (let i = 12; i < qEnd; i++) out[i] = q[i]!;
    const pointer = nameEnd - zone.apexWire;
    out[qEnd] = 0xc0 | (pointer >> 8);
    out[qEnd + 1] = pointer & 0xff;
    out.set(neg, qEnd + 2);
    if (edns) this.writeOpt(out, qEnd + 2 + neg.length, 0, dnssecOk);
    return out;
  }

  /** RFC 2181 §9 / RFC 7766: TC=1 with the question (and OPT) only; the client retries over TCP. */
  private truncate(q: Uint8Array, qEnd: number, rcode: number, edns: boolean, dnssecOk: boolean): Uint8Array {
    this.truncated = true;
    const out = this.simple(q, rcode, qEnd, edns, dnssecOk, true);
    out[2]! |= 0x02;
    return out;
  }

  private writeOpt(out: Uint8Array, at: number, extendedRcode: number, dnssecOk: boolean): void {
    writeOpt(out, at, this.maxUdp, extendedRcode, dnssecOk);
  }
}

/** The largest answer a client takes: 65535 over TCP (RFC 7766), its EDNS size clamped to 512..maxUdp, 512 without EDNS (ednsSize -1). */
export function answerLimit(tcp: boolean, ednsSize: number, maxUdp: number): number {
  return tcp ? 65535 : ednsSize >= 0 ? Math.min(Math.max(ednsSize, CLASSIC_UDP), maxUdp) : CLASSIC_UDP;
}

/** RFC 6891 §6.1.2: root, OPT, our UDP size, extended rcode, version 0, DO copied (RFC 3225 §3); 11 bytes. */
export function writeOpt(out: Uint8Array, at: number, udpSize: number, extendedRcode: number, dnssecOk: boolean): void {
  out[at] = 0;
  out[at + 1] = 0;
  out[at + 2] = DnsType.OPT;
  out[at + 3] = udpSize >> 8;
  out[at + 4] = udpSize & 0xff;
  out[at + 5] = extendedRcode;
  out[at + 6] = 0;
  out[at + 7] = dnssecOk ? 0x80 : 0;
  out[at + 8] = 0;
  out[at + 9] = 0;
  out[at + 10] = 0;
}
