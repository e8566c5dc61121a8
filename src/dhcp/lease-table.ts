// The in-memory view of every address the server knows about: leases (from the
// journal), short offer holds, DECLINE quarantines, and reservations from the plan.
// Allocation is bounded: one pass over the pool at most, so a full pool yields
// `null` at once instead of a hang (node-dhcp loops forever there).
import type { LeaseRecord } from './lease-record.js';
import type { DhcpPlan } from '../site/plan.js';
import { intToIp, ipToInt, parseIPv4 } from '../wire/ipv4.js';
import { ShardedMap } from './sharded-map.js';

interface Hold {
  clientId: string;
  until: number;
}

export interface PoolStats {
  size: number;
  bound: number;
  offered: number;
  declined: number;
}

interface Range {
  start: number;
  end: number;
}

export class LeaseTable {
  /** Latest record per address, as in the journal. Sharded, as is byClient: one entry per lease each, grown without a long rehash. */
  private readonly byIp = new ShardedMap<LeaseRecord>();
  /** Client id -> address of its latest lease record (any state). */
  private readonly byClient = new ShardedMap<string>();
  /** Addresses offered but not yet requested. Memory only: an offer is a promise, not a lease. */
  private readonly holds = new Map<string, Hold>();
  /** Client id -> the address held for it (at most one: a new hold replaces the old). */
  private readonly heldByClient = new Map<string, string>();
  private ranges: Range[] = [];
  private poolSize = 0;
  /**
   * One bit per pool index, set once the address has had a lease record or an
   * offer hold: a clear bit is an address never used, free without looking it
   * up (new phones by the thousand each take the next one; two lookups in
   * maps of every lease, for a miss, were most of a DISCOVER's cost).
   */
  private used = new Uint32Array(0);
  private reservedByMac = new Map<string, string>();
  private reservedIps = new Set<string>();
  private serverIp = '';
  /** Next-fit cursor: an index into the pool, so busy pools don't rescan from the start. */
  private cursor = 0;
  /** Bumped on every change that can free or take an address. */
  private version = 0;
  /**
   * No bound lease expires before this (it may be earlier than the true first
   * expiry, never later): the 10-s sweep skips the walk over every lease until
   * then: at tens of thousands of leases that walk stalls the daemon (BENCHMARKS.md,
   * "DHCP: where the last drops were").
   */
  private earliestExpiry = Infinity;
  /**
   * What the last failed pool scan proved: until `until`, with nothing changed since,
   * no pool address is free for a client that owns none of them. A starvation flood
   * of new MACs against a full pool then costs O(1) per DISCOVER, not a pool scan each.
   */
  private full: { version: number; until: number; owners: Set<string> } | undefined;

  constructor(plan: DhcpPlan, records: Iterable<LeaseRecord> = []) {
    this.setPlan(plan);
    for (const r of records) this.apply(r);
  }

  /** Called on reload: the pool and reservations may change, leases stay. */
  setPlan(plan: DhcpPlan): void {
    this.ranges = plan.pools.map((p) => ({ start: ipToInt(p.start), end: ipToInt(p.end) }));
    this.poolSize = this.ranges.reduce((n, r) => n + (r.end - r.start + 1), 0);
    this.reservedByMac = new Map(plan.reservations.map((r) => [r.mac, r.ip]));
    this.reservedIps = new Set(plan.reservations.map((r) => r.ip));
    this.serverIp = plan.serverId;
    if (this.cursor >= this.poolSize) this.cursor = 0;
    // Pool indices moved: mark again what is known.
    this.used = new Uint32Array(Math.ceil(this.poolSize / 32));
    for (const ip of this.byIp.keys()) this.markUsed(ip);
    for (const ip of this.holds.keys()) this.markUsed(ip);
    this.version++;
  }

  /** The pool index of `ip`, or -1 outside the pool (or not a dotted quad). */
  private indexOf(ip: string): number {
    const n = parseIPv4(ip);
    if (n < 0) return -1;
    let base = 0;
    for (const r of this.ranges) {
      if (n >= r.start && n <= r.end) return base + (n - r.start);
      base += r.end - r.start + 1;
    }
    return -1;
  }

  private markUsed(ip: string): void {
    const i = this.indexOf(ip);
    if (i >= 0) this.used[i >>> 5]! |= 1 << (i & 31);
  }

  private isUsed(index: number): boolean {
    return (this.used[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  /** Applies a record (from the journal at start, or after it was made durable). */
  apply(record: LeaseRecord): void {
    this.version++;
    const previous = this.byIp.get(record.ip);
    if (previous && previous.clientId !== record.clientId && this.byClient.get(previous.clientId) === record.ip) {
      this.byClient.delete(previous.clientId);
    }
    if (previous === undefined) this.markUsed(record.ip);
    if (record.state === 'bound' && record.expiresAt < this.earliestExpiry) this.earliestExpiry = record.expiresAt;
    this.byIp.set(record.ip, record);
    this.byClient.set(record.clientId, record.ip);
    const hold = this.holds.get(record.ip);
    if (hold && hold.clientId === record.clientId) this.dropHold(record.ip, hold);
  }

  /**
   * Undoes `apply(record)` when its journal write failed: a lease is the
   * client's only once durable, or a refused REQUEST would keep its address and
   * be written as a full lease by the next compaction. `previous` is what the
   * table held for that ip, `clientIp` the client's address before the apply.
   * Nothing happens when the record was replaced since.
   */
  revert(record: LeaseRecord, previous: LeaseRecord | undefined, clientIp: string | undefined): void {
    if (this.byIp.get(record.ip) !== record) return;
    this.version++;
    if (previous) this.byIp.set(record.ip, previous);
    else this.byIp.delete(record.ip);
    if (this.byClient.get(record.clientId) === record.ip) {
      if (clientIp !== undefined && clientIp !== record.ip && this.byIp.get(clientIp)?.clientId === record.clientId) this.byClient.set(record.clientId, clientIp);
      else if (previous?.clientId !== record.clientId) this.byClient.delete(record.clientId);
    }
    if (previous && !this.byClient.has(previous.clientId)) this.byClient.set(previous.clientId, record.ip);
  }

  private dropHold(ip: string, hold: Hold): void {
    this.version++;
    this.holds.delete(ip);
    if (this.heldByClient.get(hold.clientId) === ip) this.heldByClient.delete(hold.clientId);
  }

  get(ip: string): LeaseRecord | undefined {
    return this.byIp.get(ip);
  }

  /** The client's latest record, whatever its state. */
  forClient(clientId: string): LeaseRecord | undefined {
    const ip = this.byClient.get(clientId);
    if (ip === undefined) return undefined;
    const r = this.byIp.get(ip);
    return r && r.clientId === clientId ? r : undefined;
  }

  reservationFor(mac: string): string | undefined {
    return this.reservedByMac.get(mac);
  }

  inPool(ip: string): boolean {
    const n = ipToInt(ip); // throws on anything but a dotted quad, as it always did here
    for (const r of this.ranges) if (n >= r.start && n <= r.end) return true;
    return false;
  }

  /**
   * May this client have this address now? True when nobody else holds it
   * (an active lease, an offer hold, a quarantine), and it is either the
   * client's reservation or a pool address that is nobody's reservation.
   */
  availableTo(ip: string, clientId: string, mac: string, now: number): boolean {
    if (ip === this.serverIp) return false;
    const reserved = this.reservationUsable(mac, clientId, now);
    if (reserved !== undefined) return ip === reserved;
    // No reservation, or one another client still holds (a reservation added
    // on reload for a leased address): a pool address until that lease ends,
    // as Kea does; the holder is NAKed when it renews.
    if (this.reservedIps.has(ip) || !this.inPool(ip)) return false;
    return !this.busyForOthers(ip, clientId, now);
  }

  /** The client's reserved address, unless another client still holds it. */
  reservationUsable(mac: string, clientId: string, now: number): string | undefined {
    const reserved = this.reservedByMac.get(mac);
    return reserved === undefined || this.busyForOthers(reserved, clientId, now) ? undefined : reserved;
  }

  private busyForOthers(ip: string, clientId: string, now: number): boolean {
    const hold = this.holds.get(ip);
    if (hold && hold.until > now && hold.clientId !== clientId) return true;
    const r = this.byIp.get(ip);
    if (!r) return false;
    if (r.state === 'declined') return r.expiresAt > now;
    if (r.state === 'bound') return r.clientId !== clientId && r.expiresAt > now;
    return false;
  }

  /**
   * Chooses an address for a DISCOVER, in the order an admin expects from
   * dnsmasq and Kea: reservation, the client's previous address, the address
   * it asked for (option 50), then the next never-used address, then the
   * longest-expired one. Returns null when the pool is full.
   */
  choose(clientId: string, mac: string, requested: string | undefined, now: number): string | null {
    const reserved = this.reservationUsable(mac, clientId, now);
    if (reserved !== undefined) return reserved;

    const previous = this.forClient(clientId);
    if (previous && previous.state !== 'declined' && this.availableTo(previous.ip, clientId, mac, now)) return previous.ip;
    // A client that DISCOVERs again before REQUESTing gets the address already offered to it,
    // rather than a second one held until the first offer times out.
    const offered = this.heldByClient.get(clientId);
    if (offered !== undefined && this.heldFor(offered, now) === clientId && this.availableTo(offered, clientId, mac, now)) return offered;
    if (requested !== undefined && this.availableTo(requested, clientId, mac, now)) return requested;

    const full = this.full;
    if (full && full.version === this.version && now < full.until && !full.owners.has(clientId)) return null;

    let reusable: string | null = null;
    let reusableAge = Infinity;
    for (let step = 0; step < this.poolSize; step++) {
      let index = this.cursor + step;
      if (index >= this.poolSize) index -= this.poolSize;
      const ip = this.addressAt(index);
      if (ip === this.serverIp || this.reservedIps.has(ip)) continue;
      // Never leased nor held: nobody's, nothing to look up.
      if (!this.isUsed(index)) {
        this.cursor = index + 1 < this.poolSize ? index + 1 : 0;
        return ip;
      }
      if (this.busyForOthers(ip, clientId, now)) continue;
      const r = this.byIp.get(ip);
      if (!r) {
        this.cursor = (index + 1) % this.poolSize;
        return ip;
      }
      // Someone's old lease: reuse only if nothing fresh is left, oldest first,
      // so a phone that comes back soon still finds its address.
      if (r.updatedAt < reusableAge) {
        reusable = ip;
        reusableAge = r.updatedAt;
      }
    }
    if (reusable === null) this.full = this.provenFull(now);
    return reusable;
  }

  /** After a scan found nothing: when the first pool address frees up, and who holds them. */
  private provenFull(now: number): { version: number; until: number; owners: Set<string> } {
    let until = Infinity;
    const owners = new Set<string>();
    for (let index = 0; index < this.poolSize; index++) {
      const ip = this.addressAt(index);
      if (ip === this.serverIp || this.reservedIps.has(ip)) continue;
      let freeAt = now;
      const h = this.holds.get(ip);
      if (h && h.until > now) {
        owners.add(h.clientId);
        freeAt = h.until;
      }
      const r = this.byIp.get(ip);
      if (r && (r.state === 'bound' || r.state === 'declined') && r.expiresAt > now) {
        if (r.state === 'bound') owners.add(r.clientId);
        freeAt = Math.max(freeAt, r.expiresAt);
      }
      until = Math.min(until, freeAt);
    }
    return { version: this.version, until, owners };
  }

  hold(ip: string, clientId: string, until: number): void {
    const previous = this.holds.get(ip);
    if (previous && previous.clientId !== clientId) this.dropHold(ip, previous);
    const other = this.heldByClient.get(clientId);
    if (other !== undefined && other !== ip) {
      const h = this.holds.get(other);
      if (h && h.clientId === clientId) this.holds.delete(other);
    }
    if (previous === undefined) this.markUsed(ip);
    this.holds.set(ip, { clientId, until });
    this.heldByClient.set(clientId, ip);
    this.version++;
  }

  releaseHold(clientId: string): void {
    const ip = this.heldByClient.get(clientId);
    if (ip === undefined) return;
    const h = this.holds.get(ip);
    if (h && h.clientId === clientId) this.holds.delete(ip);
    this.heldByClient.delete(clientId);
    this.version++;
  }

  heldFor(ip: string, now: number): string | undefined {
    const h = this.holds.get(ip);
    return h && h.until > now ? h.clientId : undefined;
  }

  /** Bound leases whose time has passed; the daemon journals them as expired. Drops lapsed offer holds. */
  expiredSince(now: number): LeaseRecord[] {
    for (const [ip, h] of this.holds) if (h.until <= now) this.dropHold(ip, h);
    const out: LeaseRecord[] = [];
    if (now < this.earliestExpiry) return out;
    let earliest = Infinity;
    for (const r of this.byIp.values()) {
      if (r.state !== 'bound') continue;
      if (r.expiresAt <= now) out.push(r);
      if (r.expiresAt < earliest) earliest = r.expiresAt;
    }
    // Those returned count too: until the caller marks them expired, the next sweep reports them again.
    this.earliestExpiry = earliest;
    return out;
  }

  all(): IterableIterator<LeaseRecord> {
    return this.byIp.values();
  }

  stats(now: number): PoolStats {
    let bound = 0;
    let declined = 0;
    for (const r of this.byIp.values()) {
      if (r.expiresAt <= now) continue;
      if (r.state === 'bound') bound++;
      else if (r.state === 'declined') declined++;
    }
    let offered = 0;
    for (const h of this.holds.values()) if (h.until > now) offered++;
    return { size: this.poolSize, bound, offered, declined };
  }

  private addressAt(index: number): string {
    for (const r of this.ranges) {
      const n = r.end - r.start + 1;
      if (index < n) return intToIp(r.start + index);
      index -= n;
    }
    throw new RangeError('pool index out of range');
  }
}
