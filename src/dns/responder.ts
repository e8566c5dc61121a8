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

    if (opcode !== 0) {
      this.detail = `opcode ${opcode}`;
      return this.error(q, Rcode.NOTIMP, qdcount === 1 ? qEnd : -1);
    }
    if (qdcount !== 1 || qEnd < 0) {
      this.detail = qdcount !== 1 ? `${qdcount} questions` : 'unreadable question';
      return this.error(q, Rcode.FORMERR, -1);
    }
    if (((q[6]! << 8) | q[7]!) !== 0 || ((q[8]! << 8) | q[9]!) !== 0) {
      this.detail = 'answer or authority records in a query';
      return this.error(q, Rcode.FORMERR, qEnd);
    }

    // ---- additional section: at most one OPT (RFC 6891 §6.1.1); anything else is skipped
    let ednsSize = -1;
    let ednsVersion = 0;
    let dnssecOk = false;
    const arcount = (q[10]! << 8) | q[11]!;
    if (arcount > 0 || qEnd !== len) {
      let p = qEnd;
      if (arcount * 11 > len - p) {
        this.detail = 'additional count exceeds the message';
        return this.error(q, Rcode.FORMERR, qEnd);
      }
      for (let i = 0; i < arcount; i++) {
        let owner = p;
        let rootOwner = false;
        if (p < len && q[p] === 0) {
          owner = p + 1;
          rootOwner = true;
        } else {
          const n = decodeName(q, p);
          if (!n.ok) return this.formerr(q, qEnd, `additional record name: ${n.error.message}`);
          owner = n.value.next;
        }
        if (owner + 10 > len) return this.formerr(q, qEnd, 'additional record cut short');
        const type = (q[owner]! << 8) | q[owner + 1]!;
        const rdlength = (q[owner + 8]! << 8) | q[owner + 9]!;
        const end = owner + 10 + rdlength;
        if (end > len) return this.formerr(q, qEnd, 'additional record data cut short');
        if (type === DnsType.OPT) {
          if (!rootOwner || ednsSize >= 0) return this.formerr(q, qEnd, rootOwner ? 'more than one OPT' : 'OPT owner is not the root');
          for (let o = owner + 10; o < end; ) {
            if (o + 4 > end) return this.formerr(q, qEnd, 'EDNS option cut short');
            o += 4 + ((q[o + 2]! << 8) | q[o + 3]!);
            if (o > end) return this.formerr(q, qEnd, 'EDNS option cut short');
          }
          ednsSize = (q[owner + 2]! << 8) | q[owner + 3]!;
          ednsVersion = q[owner + 5]!;
          dnssecOk = (q[owner + 6]! & 0x80) !== 0;
        }
        p = end;
      }
      if (p !== len) return this.formerr(q, qEnd, `${len - p} bytes after the last record`);
    }
    const edns = ednsSize >= 0;
    const limit = answerLimit(tcp, ednsSize, this.maxUdp);

    // RFC 6891 §6.1.3: we speak version 0 only.
    if (edns && ednsVersion !== 0) {
      this.detail = `EDNS version ${ednsVersion}`;
      return this.simple(q, Rcode.BADVERS, qEnd, true, dnssecOk, false);
    }
    const qtype = this.qtype;
    const qclass = (q[qEnd - 2]! << 8) | q[qEnd - 1]!;
    if (qclass !== 1) {
      this.detail = `class ${qclass}`;
      return this.simple(q, Rcode.REFUSED, qEnd, edns, dnssecOk, false);
    }
    if (qtype === DnsType.OPT) return this.formerr(q, qEnd, 'OPT as a question type');
    if (qtype === DnsType.AXFR || qtype === DnsType.IXFR) {
      this.detail = 'zone transfers are not offered';
      return this.simple(q, Rcode.REFUSED, qEnd, edns, dnssecOk, false);
    }
    if (qtype === 253 || qtype === 254) {
      this.detail = 'MAILB/MAILA are obsolete';
      return this.simple(q, Rcode.NOTIMP, qEnd, edns, dnssecOk, false);
    }

    // ---- lookup
    const authority = this.authority;
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

  /** SERVFAIL for a query we could not get answered (forwarding timed out): header and question, no OPT. */
  servfail(q: Uint8Array, qEnd: number): Uint8Array {
    return this.error(q, Rcode.SERVFAIL, qEnd);
  }

  private drop(reason: DropReason): null {
    this.action = 'drop';
    this.dropReason = reason;
    return null;
  }

  private formerr(q: Uint8Array, qEnd: number, detail: string): Uint8Array {
    this.detail = detail;
    return this.error(q, Rcode.FORMERR, qEnd);
  }

  /** FORMERR/NOTIMP: the ID, opcode and RD of the query, its question when readable, never an OPT. */
  private error(q: Uint8Array, rcode: number, qEnd: number): Uint8Array {
    this.action = 'answer';
    this.rcode = rcode;
    const qlen = qEnd > 0 ? qEnd - 12 : 0;
    const out = Buffer.allocUnsafe(12 + qlen);
    out[0] = q[0]!;
    out[1] = q[1]!;
    out[2] = 0x80 | (q[2]! & 0x79);
    out[3] = (q[3]! & 0x10) | rcode;
    out[4] = 0;
    out[5] = qlen > 0 ? 1 : 0;
    out.fill(0, 6, 12);
    for (let i = 12; i < 12 + qlen; i++) out[i] = q[i]!;
    return out;
  }

  /** REFUSED, NOTIMP, BADVERS: header, the question as sent, OPT when the query had one. */
  private simple(q: Uint8Array, rcode: number, qEnd: number, edns: boolean, dnssecOk: boolean, aa: boolean): Uint8Array {
    this.action = 'answer';
    this.rcode = rcode;
    const out = Buffer.allocUnsafe(qEnd + (edns ? OPT_LENGTH : 0));
    out[0] = q[0]!;
    out[1] = q[1]!;
    out[2] = 0x80 | (aa ? 4 : 0) | (q[2]! & 1);
    out[3] = (q[3]! & 0x10) | (rcode & 0xf);
    out[4] = 0;
    out[5] = 1;
    out.fill(0, 6, 10);
    out[10] = 0;
    out[11] = edns ? 1 : 0;
    for (let i = 12; i < qEnd; i++) out[i] = q[i]!;
    if (edns) this.writeOpt(out, qEnd, rcode >> 4, dnssecOk);
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
