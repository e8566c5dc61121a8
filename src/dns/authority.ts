// The zones of one plan, ready to answer from: every owner name (and every
// empty non-terminal, RFC 8020) maps to a node that holds, per query type, the
// complete response message for the lower-case question. The responder copies
// it, patches the ID and flags and copies the client's question bytes over
// ours (same length, only the case differs), so answers are never encoded on
// the hot path. Built once per plan; a reload builds a new one and swaps it.
// Lease names (option 12) are added and removed in place, one node at a time.

import { DnsClass, DnsType, MessageWriter, type ResourceRecord } from '../wire/dns-message.js';
import type { DnsPlan, DnsRecordPlan, DnsZonePlan } from '../site/plan.js';
import { isWithin, reverseName } from '../site/dns-zones.js';

export interface Zone {
  readonly apex: string;
  /** Wire length of the apex name, root label included. */
  readonly apexWire: number;
  readonly kind: DnsZonePlan['kind'];
  /**
   * The SOA for negative answers (RFC 2308 §3), without its owner: type, class,
   * TTL = min(SOA TTL, minimum), rdlength and uncompressed RDATA. The responder
   * writes the owner as a pointer to the apex inside the client's own question.
   */
  readonly negative: Uint8Array;
}

export interface NameNode {
  readonly name: string;
  readonly zone: Zone;
  readonly rrsets: ReadonlyMap<number, readonly ResourceRecord[]>;
  readonly cname: ResourceRecord | null;
  /** qtype -> response for the lower-case question, ID 0, RD/CD clear, no OPT. */
  readonly prepared: Map<number, Uint8Array>;
  /** RFC 8482 minimal answer to ANY: one RRset; null = NODATA (an empty non-terminal). */
  readonly any: Uint8Array | null;
  /** 'lease' nodes come and go with DHCP; 'ent' counts lease names below it. */
  readonly origin: 'site' | 'lease' | 'ent';
  leaseChildren: number;
}

/** How many CNAME-chased answers a node remembers; other query types are built on demand. */
const MAX_CHASED = 16;
/** RFC 1034 §3.6.2 chains are followed inside our own data only, and not forever. */
const MAX_CHAIN = 8;
/** ANY: the one RRset we return (RFC 8482 §4.2), in this order of preference. */
const ANY_ORDER = [DnsType.CNAME, DnsType.A, DnsType.AAAA, DnsType.SRV, DnsType.TXT, DnsType.PTR, DnsType.SOA, DnsType.NS];

const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function toRecord(r: DnsRecordPlan): ResourceRecord {
  return { name: r.name, class: DnsClass.IN, ttl: r.ttl, data: r.data };
}

const RESPONSE_HEADER = { id: 0, qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 } as const;

function negativeSoa(soa: ResourceRecord): Uint8Array {
  if (soa.data.type !== 'SOA') throw new Error('zone apex without SOA');
  const w = new MessageWriter(false);
  // RFC 2308 §3: the SOA's TTL in a negative answer is the lesser of its TTL and its minimum.
  w.record(2, { ...soa, name: '', ttl: Math.min(soa.ttl, soa.data.minimum) });
  // Header (12) and the root owner (1) dropped: the responder writes a pointer instead.
  return w.finish(RESPONSE_HEADER).slice(13);
}

export class Authority {
  readonly zones = new Map<string, Zone>();
  readonly names = new Map<string, NameNode>();
  readonly forwarders: DnsPlan['forwarders'];
  private readonly leaseDomain: string;
  private readonly leaseTtl: number;
  /** ip -> the names it holds (the A owner and the PTR owner, either may be absent). */
  private readonly leases = new Map<string, { a: string | null; ptr: string | null }>();
  private readonly leaseByName = new Map<string, string>();

  constructor(plan: DnsPlan) {
    this.forwarders = plan.forwarders;
    this.leaseDomain = plan.leaseDomain;
    this.leaseTtl = plan.leaseTtl;
    for (const z of plan.zones) {
      const soa = z.records.find((r) => r.name === z.apex && r.data.type === 'SOA');
      if (!soa) throw new Error(`zone ${z.apex} has no SOA`);
      this.zones.set(z.apex, { apex: z.apex, apexWire: z.apex.length + 2, kind: z.kind, negative: negativeSoa(toRecord(soa)) });
    }
    const byName = new Map<string, { zone: Zone; records: ResourceRecord[] }>();
    for (const z of plan.zones) {
      const zone = this.zones.get(z.apex)!;
      for (const r of z.records) {
        let entry = byName.get(r.name);
        if (!entry) byName.set(r.name, (entry = { zone, records: [] }));
        entry.records.push(toRecord(r));
      }
    }
    // Nodes first, answers second: additional data and CNAME chains look at other nodes.
    for (const [name, { zone, records }] of byName) this.names.set(name, this.makeNode(name, zone, records, 'site'));
    for (const [name, { zone }] of byName) {
      for (let parent = parentOf(name); parent !== null && parent.length > zone.apex.length; parent = parentOf(parent)) {
        if (!this.names.has(parent)) this.names.set(parent, this.makeNode(parent, zone, [], 'ent'));
      }
    }
    for (const node of this.names.values()) this.prepare(node);
  }

  /** The zone owning a name: the longest apex among its suffixes, from label `from` on. */
  zoneFor(key: string, labelStarts: Int32Array, labels: number, from: number): Zone | undefined {
    for (let i = from; i < labels; i++) {
      const z = this.zones.get(i === 0 ? key : key.slice(labelStarts[i]));
      if (z) return z;
    }
    return undefined;
  }

  /** The zone owning a name given as text (lease names, tests). */
  zoneOfName(name: string): Zone | undefined {
    let best: Zone | undefined;
    for (const z of this.zones.values()) if (isWithin(name, z.apex) && (!best || z.apex.length > best.apex.length)) best = z;
    return best;
  }

  /** A CNAME node's answer for a type it has not been asked before; cached for a few types. */
  chase(node: NameNode, qtype: number): Uint8Array {
    const bytes = this.build(node, qtype);
    if (node.prepared.size < MAX_CHASED) node.prepared.set(qtype, bytes);
    return bytes;
  }

  // ------------------------------------------------------------ leases

  /**
   * Option 12 names (dnsmasq's behaviour): <label>.<primary> A ip, and the PTR
   * when ip is inside a reverse zone. Names from the site always win; the newest
   * lease of a name takes it from an older one. Returns the FQDN served, or null.
   */
  setLease(ip: string, hostname: string | null): string | null {
    this.dropLease(ip);
    if (hostname === null) return null;
    // A client may send "name" or "name.some.domain": only the first label is ours to use.
    const label = hostname.split('.')[0]!.toLowerCase();
    if (!HOST_LABEL.test(label)) return null;
    const fqdn = `${label}.${this.leaseDomain}`;
    const zone = this.zoneOfName(fqdn);
    if (!zone) return null;
    const previous = this.leaseByName.get(fqdn);
    if (previous !== undefined) this.dropLease(previous);
    // A name the site uses (or an empty non-terminal of it) is never taken over, and then no PTR either.
    if (this.names.has(fqdn)) return null;
    const held = { a: fqdn as string | null, ptr: null as string | null };
    this.addLeaseNode(fqdn, zone, { name: fqdn, class: DnsClass.IN, ttl: this.leaseTtl, data: { type: 'A', address: ip } });
    this.leaseByName.set(fqdn, ip);
    const rev = reverseName(ip);
    const revZone = this.zoneOfName(rev);
    if (revZone && revZone.kind === 'reverse' && !this.names.has(rev)) {
      this.addLeaseNode(rev, revZone, { name: rev, class: DnsClass.IN, ttl: this.leaseTtl, data: { type: 'PTR', target: fqdn } });
      held.ptr = rev;
    }
    this.leases.set(ip, held);
    return fqdn;
  }

  leaseCount(): number {
    return this.leases.size;
  }

  private dropLease(ip: string): void {
    const held = this.leases.get(ip);
    if (!held) return;
    this.leases.delete(ip);
    for (const name of [held.a, held.ptr]) {
      if (name === null) continue;
      const node = this.names.get(name);
      if (node?.origin !== 'lease') continue;
      this.names.delete(name);
      this.releaseAncestors(name, node.zone);
    }
    if (held.a !== null) this.leaseByName.delete(held.a);
  }

  private addLeaseNode(name: string, zone: Zone, rr: ResourceRecord): void {
    const node = this.makeNode(name, zone, [rr], 'lease');
    this.prepare(node);
    this.names.set(name, node);
    // Empty non-terminals between the name and its apex (a /16 reverse zone) must answer NODATA, not NXDOMAIN.
    for (let parent = parentOf(name); parent !== null && parent.length > zone.apex.length; parent = parentOf(parent)) {
      let p = this.names.get(parent);
      if (!p) {
        p = this.makeNode(parent, zone, [], 'ent');
        this.prepare(p);
        this.names.set(parent, p);
      }
      p.leaseChildren++;
    }
  }

  private releaseAncestors(name: string, zone: Zone): void {
    for (let parent = parentOf(name); parent !== null && parent.length > zone.apex.length; parent = parentOf(parent)) {
      const p = this.names.get(parent);
      if (!p) continue;
      p.leaseChildren--;
      if (p.origin === 'ent' && p.leaseChildren <= 0 && p.rrsets.size === 0 && !this.hasSiteChild(parent)) this.names.delete(parent);
    }
  }

  private hasSiteChild(name: string): boolean {
    for (const [n, node] of this.names) if (node.origin !== 'ent' && n.endsWith(`.${name}`)) return true;
    return false;
  }

  // ------------------------------------------------------------ building

  private makeNode(name: string, zone: Zone, records: readonly ResourceRecord[], origin: NameNode['origin']): NameNode {
    const rrsets = new Map<number, ResourceRecord[]>();
    let cname: ResourceRecord | null = null;
    for (const r of records) {
      const type = r.data.type === 'unknown' ? r.data.code : DnsType[r.data.type];
      if (r.data.type === 'CNAME') cname = r;
      let set = rrsets.get(type);
      if (!set) rrsets.set(type, (set = []));
      set.push(r);
    }
    return { name, zone, rrsets, cname, prepared: new Map(), any: null, origin, leaseChildren: 0 };
  }

  private prepare(node: NameNode): void {
    for (const type of node.rrsets.keys()) node.prepared.set(type, this.build(node, type));
    const anyType = ANY_ORDER.find((t) => node.rrsets.has(t)) ?? node.rrsets.keys().next().value;
    (node as { any: Uint8Array | null }).any = anyType === undefined ? null : this.build(node, anyType, DnsType.ANY);
  }

  /** One complete response: answers for qtype (through CNAMEs), additional addresses for SRV and NS targets. */
  private build(node: NameNode, qtype: number, questionType = qtype): Uint8Array {
    const w = new MessageWriter(true, 256);
    w.question({ name: node.name, type: questionType, class: DnsClass.IN });
    const additional: ResourceRecord[] = [];
    let current: NameNode | undefined = node;
    for (let hops = 0; current && hops < MAX_CHAIN; hops++) {
      const set = current.rrsets.get(qtype);
      if (set) {
        for (const rr of set) {
          w.record(1, rr);
          const d = rr.data;
          const target = d.type === 'SRV' || d.type === 'NS' ? d.target : null;
          if (target !== null) additional.push(...this.addressesOf(target));
        }
        break;
      }
      if (!current.cname || current.cname.data.type !== 'CNAME') break;
      w.record(1, current.cname);
      current = this.names.get(current.cname.data.target);
    }
    for (const rr of additional) w.record(3, rr);
    return w.finish(RESPONSE_HEADER);
  }

  private addressesOf(name: string): ResourceRecord[] {
    const node = this.names.get(name);
    if (!node) return [];
    return [...(node.rrsets.get(DnsType.A) ?? []), ...(node.rrsets.get(DnsType.AAAA) ?? [])];
  }
}

function parentOf(name: string): string | null {
  const i = name.indexOf('.');
  return i < 0 ? null : name.slice(i + 1);
}
