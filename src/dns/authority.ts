// The zones of one plan, ready to answer from: every owner name (and every
// empty non-terminal, RFC 8020) maps to a node that holds, per query type, the
// complete response message for the lower-case question. The responder copies
// it, patches the ID and flags and copies the client's question bytes over
// ours (same length, only the case differs), so answers are never encoded on
// the hot path. Built once per plan; a reload builds a new one and swaps it.
// Lease names (option 12) are added and removed in place, one node at a time.

import { DnsClass, DnsType, MessageWriter, Rcode, type ResourceRecord } from '../wire/dns-message.js';
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
  /** The SOA as it goes into a negative answer built here (after a CNAME chain, or DS at a child apex). */
  readonly soa: ResourceRecord;
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
/** RFC 4034 §5: the DS type (not in the codec's table: we serve no DS records). */
const DS = 43;
/** ANY: the one RRset we return (RFC 8482 §4.2), in this order of preference. */
const ANY_ORDER = [DnsType.CNAME, DnsType.A, DnsType.AAAA, DnsType.SRV, DnsType.TXT, DnsType.PTR, DnsType.SOA, DnsType.NS];

const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function toRecord(r: DnsRecordPlan): ResourceRecord {
  return { name: r.name, class: DnsClass.IN, ttl: r.ttl, data: r.data };
}

const RESPONSE_HEADER = { id: 0, qr: true, opcode: 0, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false, rcode: 0 } as const;

/** RFC 2308 §3: the SOA's TTL in a negative answer is the lesser of its TTL and its minimum. */
function negativeSoaRecord(soa: ResourceRecord): ResourceRecord {
  if (soa.data.type !== 'SOA') throw new Error('zone apex without SOA');
  return { ...soa, ttl: Math.min(soa.ttl, soa.data.minimum) };
}

function negativeSoa(soa: ResourceRecord): Uint8Array {
  const w = new MessageWriter(false);
  w.record(2, { ...soa, name: '' });
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
  /** name -> the nodes whose prepared answers looked at it (CNAME chain, SRV/NS target): rebuilt when a lease adds or removes it. */
  private readonly dependents = new Map<string, Set<NameNode>>();
  /**
   * prepared answer -> where its additional RRsets end, as [offset, arcount] pairs,
   * the first pair at the end of the authority section: the responder drops
   * additional RRsets that do not fit before it sets TC (RFC 2181 §9).
   */
  private readonly cuts = new WeakMap<Uint8Array, Uint32Array>();

  constructor(plan: DnsPlan) {
    this.forwarders = plan.forwarders;
    this.leaseDomain = plan.leaseDomain;
    this.leaseTtl = plan.leaseTtl;
    for (const z of plan.zones) {
      const soa = z.records.find((r) => r.name === z.apex && r.data.type === 'SOA');
      if (!soa) throw new Error(`zone ${z.apex} has no SOA`);
      const negSoa = negativeSoaRecord(toRecord(soa));
      this.zones.set(z.apex, { apex: z.apex, apexWire: z.apex.length + 2, kind: z.kind, negative: negativeSoa(negSoa), soa: negSoa });
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

  /**
   * The longest prefix of a prepared answer, dropping whole additional RRsets,
   * that fits in `room` bytes: [length, arcount], or null when even the answer
   * and authority sections do not fit (then the responder sets TC).
   */
  fit(prepared: Uint8Array, room: number): [number, number] | null {
    const cuts = this.cuts.get(prepared);
    if (!cuts) return prepared.length <= room ? [prepared.length, (prepared[10]! << 8) | prepared[11]!] : null;
    let best: [number, number] | null = null;
    for (let i = 0; i < cuts.length && cuts[i]! <= room; i += 2) best = [cuts[i]!, cuts[i + 1]!];
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
  /** <label>.<lease domain> for a client's option 12, or null when its first label is no host name. */
  private leaseName(hostname: string): string | null {
    // A client may send "name" or "name.some.domain": only the first label is ours to use.
    const label = hostname.split('.')[0]!.toLowerCase();
    return HOST_LABEL.test(label) ? `${label}.${this.leaseDomain}` : null;
  }

  /** The site's name a lease host name would take over (and is therefore refused), or null. */
  siteNameFor(hostname: string): string | null {
    const fqdn = this.leaseName(hostname);
    if (fqdn === null) return null;
    const node = this.names.get(fqdn);
    return node !== undefined && node.origin !== 'lease' ? fqdn : null;
  }

  setLease(ip: string, hostname: string | null): string | null {
    this.dropLease(ip);
    if (hostname === null) return null;
    const fqdn = this.leaseName(hostname);
    if (fqdn === null) return null;
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
      this.refresh(name);
      this.releaseAncestors(name, node.zone);
    }
    if (held.a !== null) this.leaseByName.delete(held.a);
  }

  private addLeaseNode(name: string, zone: Zone, rr: ResourceRecord): void {
    const node = this.makeNode(name, zone, [rr], 'lease');
    this.prepare(node);
    this.names.set(name, node);
    this.refresh(name);
    // Empty non-terminals between the name and its apex (a /16 reverse zone) must answer NODATA, not NXDOMAIN.
    for (let parent = parentOf(name); parent !== null && parent.length > zone.apex.length; parent = parentOf(parent)) {
      let p = this.names.get(parent);
      if (!p) {
        p = this.makeNode(parent, zone, [], 'ent');
        this.prepare(p);
        this.names.set(parent, p);
        this.refresh(parent);
      }
      p.leaseChildren++;
    }
  }

  /** A name came or went: answers that chased a CNAME to it, or added its addresses, are built again. */
  private refresh(name: string): void {
    const nodes = this.dependents.get(name);
    if (!nodes) return;
    for (const node of nodes) {
      if (this.names.get(node.name) !== node) {
        nodes.delete(node);
        continue;
      }
      node.prepared.clear();
      this.prepare(node);
    }
  }

  private depend(name: string, node: NameNode): void {
    let nodes = this.dependents.get(name);
    if (!nodes) this.dependents.set(name, (nodes = new Set()));
    nodes.add(node);
  }

  private releaseAncestors(name: string, zone: Zone): void {
    for (let parent = parentOf(name); parent !== null && parent.length > zone.apex.length; parent = parentOf(parent)) {
      const p = this.names.get(parent);
      if (!p) continue;
      p.leaseChildren--;
      if (p.origin === 'ent' && p.leaseChildren <= 0 && p.rrsets.size === 0 && !this.hasSiteChild(parent)) {
        this.names.delete(parent);
        this.refresh(parent);
      }
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
    // RFC 4035 §3.1.4.1: DS belongs to the parent side of a zone cut. When we
    // hold the parent too, DS at a child apex is the parent's NODATA (as NSD answers).
    const parent = node.name === node.zone.apex ? parentOf(node.name) : null;
    const above = parent === null ? undefined : this.zoneOfName(parent);
    if (above !== undefined && !node.rrsets.has(DS)) {
      const w = new MessageWriter(true, 128);
      w.question({ name: node.name, type: DS, class: DnsClass.IN });
      w.record(2, above.soa);
      node.prepared.set(DS, w.finish(RESPONSE_HEADER));
    }
  }

  /**
   * One complete response for qtype, following CNAMEs through every zone we
   * hold (as NSD does), each name once: a loop ends the chain with NOERROR
   * (Knot and NSD). A chain ending in our zones at a name that does not exist
   * is NXDOMAIN, at one without the type NODATA, both with that zone's SOA
   * (RFC 6604 §2, RFC 2308 §2.1/§2.2); one leaving our zones is the chain
   * alone. Additional: the addresses of SRV and NS targets, each target once.
   */
  private build(node: NameNode, qtype: number, questionType = qtype): Uint8Array {
    const w = new MessageWriter(true, 256);
    w.question({ name: node.name, type: questionType, class: DnsClass.IN });
    const targets: string[] = [];
    let rcode: number = Rcode.NOERROR;
    let negative: Zone | undefined;
    const seen = new Set([node.name]);
    for (let current = node; ; ) {
      const set = current.rrsets.get(qtype);
      if (set) {
        for (const rr of set) {
          w.record(1, rr);
          const d = rr.data;
          if ((d.type === 'SRV' || d.type === 'NS') && !targets.includes(d.target)) targets.push(d.target);
        }
        break;
      }
      const cname = current.cname;
      if (cname === null || cname.data.type !== 'CNAME') {
        if (current !== node) negative = current.zone;
        break;
      }
      w.record(1, cname);
      const target = cname.data.target;
      this.depend(target, node);
      if (seen.has(target)) break;
      seen.add(target);
      const next = this.names.get(target);
      if (next === undefined) {
        negative = this.zoneOfName(target);
        if (negative) rcode = Rcode.NXDOMAIN;
        break;
      }
      current = next;
    }
    if (negative) w.record(2, negative.soa);
    const cuts = [w.length, 0];
    for (const name of targets) {
      this.depend(name, node);
      const target = this.names.get(name);
      if (!target) continue;
      for (const type of ADDRESS_TYPES) {
        const set = target.rrsets.get(type);
        if (!set) continue;
        for (const rr of set) w.record(3, rr);
        cuts.push(w.length, cuts[cuts.length - 1]! + set.length);
      }
    }
    const bytes = w.finish({ ...RESPONSE_HEADER, rcode });
    if (cuts.length > 2) this.cuts.set(bytes, Uint32Array.from(cuts));
    return bytes;
  }
}

const ADDRESS_TYPES = [DnsType.A, DnsType.AAAA];

function parentOf(name: string): string | null {
  const i = name.indexOf('.');
  return i < 0 ? null : name.slice(i + 1);
}
