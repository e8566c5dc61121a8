// The in-memory view of every address the server knows about: leases (from the
// journal), short offer holds, DECLINE quarantines, and reservations from the plan.
// Allocation is bounded: one pass over the pool at most, so a full pool yields
// `null` at once instead of a hang (node-dhcp loops forever there).
import type { LeaseRecord } from './lease-record.js';
import type { DhcpPlan, ScopePlan } from '../site/plan.js';
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
  /** One per scope of the plan, in its order: pools, their allocation state, reservations. */
  private scopes: ScopePool[] = [];
  private serverIp = '';
  /** Bumped on every change that can free or take an address. */
  private version = 0;
  /**
   * No bound lease expires before this (it may be earlier than the true first
   * expiry, never later): the 10-s sweep skips the walk over every lease until
   * then: at tens of thousands of leases that walk stalls the daemon (BENCHMARKS.md,
   * "DHCP: where the last drops were").
   */
  private earliestExpiry = Infinity;
  constructor(plan: DhcpPlan, records: Iterable<LeaseRecord> = []) {
    this.setPlan(plan);
    for (const r of records) this.apply(r);
  }

  /** Called on reload: the pools and reservations may change, leases stay. */
  setPlan(plan: DhcpPlan): void {
    const old = this.scopes;
    this.scopes = plan.scopes.map((sc, i) => new ScopePool(sc, old[i]?.cursor ?? 0));
    this.serverIp = plan.serverId;
    // Pool indices moved: mark again what is known.
    for (const ip of this.byIp.keys()) this.markUsed(ip);
    for (const ip of this.holds.keys()) this.markUsed(ip);
    this.version++;
  }

  private markUsed(ip: string): void {
    const n = parseIPv4(ip);
    if (n < 0) return;
    for (const sc of this.scopes) if (sc.markUsed(n)) return;
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

  /** The client's reservation in the scope (index into plan.scopes). */
  reservationFor(mac: string, scope = 0): string | undefined {
    return this.scopes[scope]!.reservedByMac.get(mac);
  }

  inPool(ip: string, scope = 0): boolean {
    return this.scopes[scope]!.indexOf(ipToInt(ip)) >= 0; // throws on anything but a dotted quad, as it always did here
  }

  /**
   * May this client have this address now? True when nobody else holds it
   * (an active lease, an offer hold, a quarantine), and it is either the
   * client's reservation or a pool address that is nobody's reservation, in
   * the scope the client's message was selected for (a client that moved to
   * another subnet gets nothing of its old one).
   */
  availableTo(ip: string, clientId: string, mac: string, now: number, scope = 0): boolean {
    if (ip === this.serverIp) return false;
    const reserved = this.reservationUsable(mac, clientId, now, scope);
    if (reserved !== undefined) return ip === reserved;
    // No reservation, or one another client still holds (a reservation added
    // on reload for a leased address): a pool address until that lease ends,
    // as Kea does; the holder is NAKed when it renews.
    if (this.scopes[scope]!.reservedIps.has(ip) || !this.inPool(ip, scope)) return false;
    return !this.busyForOthers(ip, clientId, now);
  }

  /** The client's reserved address, unless another client still holds it. */
  reservationUsable(mac: string, clientId: string, now: number, scope = 0): string | undefined {
    const reserved = this.scopes[scope]!.reservedByMac.get(mac);
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
  choose(clientId: string, mac: string, requested: string | undefined, now: number, scope = 0): string | null {
    const reserved = this.reservationUsable(mac, clientId, now, scope);
    if (reserved !== undefined) return reserved;

    const previous = this.forClient(clientId);
    if (previous && previous.state !== 'declined' && this.availableTo(previous.ip, clientId, mac, now, scope)) return previous.ip;
    // A client that DISCOVERs again before REQUESTing gets the address already offered to it,
    // rather than a second one held until the first offer times out.
    const offered = this.heldByClient.get(clientId);
    if (offered !== undefined && this.heldFor(offered, now) === clientId && this.availableTo(offered, clientId, mac, now, scope)) return offered;
    if (requested !== undefined && this.availableTo(requested, clientId, mac, now, scope)) return requested;

    const sc = this.scopes[scope]!;
    const full = sc.full;
    if (full && full.version === this.version && now < full.until && !full.owners.has(clientId)) return null;

    let reusable: string | null = null;
    let reusableAge = Infinity;
    for (let step = 0; step < sc.size; step++) {
      let index = sc.cursor + step;
      if (index >= sc.size) index -= sc.size;
      const ip = sc.addressAt(index);
      if (ip === this.serverIp || sc.reservedIps.has(ip)) continue;
      // Never leased nor held: nobody's, nothing to look up.
      if (!sc.isUsed(index)) {
        sc.cursor = index + 1 < sc.size ? index + 1 : 0;
        return ip;
      }
      if (this.busyForOthers(ip, clientId, now)) continue;
      const r = this.byIp.get(ip);
      if (!r) {
        sc.cursor = (index + 1) % sc.size;
        return ip;
      }
      // Someone's old lease: reuse only if nothing fresh is left, oldest first,
      // so a phone that comes back soon still finds its address.
      if (r.updatedAt < reusableAge) {
        reusable = ip;
        reusableAge = r.updatedAt;
      }
    }
    if (reusable === null) sc.full = this.provenFull(sc, now);
    return reusable;
  }

  /** After a scan found nothing: when the first pool address frees up, and who holds them. */
  private provenFull(sc: ScopePool, now: number): ProvenFull {
    let until = Infinity;
    const owners = new Set<string>();
    for (let index = 0; index < sc.size; index++) {
      const ip = sc.addressAt(index);
      if (ip === this.serverIp || sc.reservedIps.has(ip)) continue;
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
    return { size: this.scopes.reduce((n, sc) => n + sc.size, 0), bound, offered, declined };
  }

  /** Addresses in the pools of one scope. */
  poolSize(scope: number): number {
    return this.scopes[scope]!.size;
  }
}

/**
 * What the last failed pool scan proved: until `until`, with nothing changed since,
 * no pool address is free for a client that owns none of them. A starvation flood
 * of new MACs against a full pool then costs O(1) per DISCOVER, not a pool scan each.
 */
interface ProvenFull {
  version: number;
  until: number;
  owners: Set<string>;
}

/** One scope's pools, their allocation state and its reservations. */
class ScopePool {
  private readonly ranges: Range[];
  readonly size: number;
  /**
   * One bit per pool index, set once the address has had a lease record or an
   * offer hold: a clear bit is an address never used, free without looking it
   * up (new phones by the thousand each take the next one; two lookups in
   * maps of every lease, for a miss, were most of a DISCOVER's cost).
   */
  private readonly used: Uint32Array;
  readonly reservedByMac: Map<string, string>;
  readonly reservedIps: Set<string>;
  /** Next-fit cursor: an index into the pool, so busy pools don't rescan from the start. */
  cursor: number;
  full: ProvenFull | undefined;

  constructor(scope: ScopePlan, cursor: number) {
    this.ranges = scope.pools.map((p) => ({ start: ipToInt(p.start), end: ipToInt(p.end) }));
    this.size = this.ranges.reduce((n, r) => n + (r.end - r.start + 1), 0);
    this.used = new Uint32Array(Math.ceil(this.size / 32));
    this.reservedByMac = new Map(scope.reservations.map((r) => [r.mac, r.ip]));
    this.reservedIps = new Set(scope.reservations.map((r) => r.ip));
    this.cursor = cursor < this.size ? cursor : 0;
  }

  /** The pool index of address `n`, or -1 outside the pools. */
  indexOf(n: number): number {
    let base = 0;
    for (const r of this.ranges) {
      if (n >= r.start && n <= r.end) return base + (n - r.start);
      base += r.end - r.start + 1;
    }
    return -1;
  }

  /** False when `n` is not in this scope's pools. */
  markUsed(n: number): boolean {
    const i = this.indexOf(n);
    if (i < 0) return false;
    this.used[i >>> 5]! |= 1 << (i & 31);
    return true;
  }

  isUsed(index: number): boolean {
    return (this.used[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  addressAt(index: number): string {
    for (const r of this.ranges) {
      const n = r.end - r.start + 1;
      if (index < n) return intToIp(r.start + index);
      index -= n;
    }
    throw new RangeError('pool index out of range');
  }
}
