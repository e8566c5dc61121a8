// The in-memory view of every address the server knows about: leases (from the
// journal), short offer holds, DECLINE quarantines, and reservations from the plan.
// Choosing an address costs the same whatever the pool's size and state: free
// addresses are found in a bitmap from a next-fit cursor, reusable ones come off
// a heap by age, and holds and quarantines end lazily when their time is reached
// (a full pool yields `null` at once; node-dhcp loops forever there).
import type { LeaseRecord } from './lease-record.js';
import type { DhcpPlan, ScopePlan } from '../site/plan.js';
import { intToIp, ipToInt, parseIPv4 } from '../wire/ipv4.js';
import { MinHeap } from './min-heap.js';
import { ShardedMap } from './sharded-map.js';

interface Hold {
  clientId: string;
  until: number;
}

interface Range {
  start: number;
  end: number;
}

/** A hold in a queue, valid while it is still the address's hold. */
interface QueuedHold {
  ip: string;
  hold: Hold;
}

/** A lease record in a queue, valid while it is still the address's latest record. */
interface QueuedRecord {
  ip: string;
  index: number;
  record: LeaseRecord;
}

const byUntil = (a: QueuedHold, b: QueuedHold): boolean => a.hold.until < b.hold.until;
const byExpiry = (a: QueuedRecord, b: QueuedRecord): boolean => a.record.expiresAt < b.record.expiresAt;
// Oldest record first, so a phone that comes back soon still finds its address; then the lower address.
const byAge = (a: QueuedRecord, b: QueuedRecord): boolean => a.record.updatedAt < b.record.updatedAt || (a.record.updatedAt === b.record.updatedAt && a.index < b.index);

/** Still taken once its time is reached: a bound lease (until it expires) and a DECLINE quarantine. */
function timed(r: LeaseRecord): boolean {
  return r.state === 'bound' || r.state === 'declined';
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
  /**
   * Client id -> its other addresses still bound to it (its latest record moved
   * elsewhere: an INIT-REBOOT granted another address). Rare; free for that
   * client only, so kept apart from the queues every client takes from.
   */
  private readonly alsoBound = new Map<string, Set<string>>();
  /** Every hold by its end: lapsed ones are dropped when an address is next chosen (or at the sweep). */
  private readonly holdEnds = new MinHeap<QueuedHold>(byUntil);
  /** One per scope of the plan, in its order: pools, their allocation state, reservations. */
  private scopes: ScopePool[] = [];
  private serverIp = '';
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
    this.serverIp = plan.serverId;
    this.scopes = plan.scopes.map((sc, i) => new ScopePool(sc, old[i]?.cursor ?? 0, this.serverIp));
    // Pool indices moved: queue again what is known.
    for (const r of this.byIp.values()) {
      this.markUsed(r.ip);
      this.queueRecord(r);
    }
    for (const [ip, hold] of this.holds) {
      this.markUsed(ip);
      this.queueHold(ip, hold);
    }
  }

  /** The scope whose pools hold `ip`, with its pool index. */
  private poolOf(ip: string): { sc: ScopePool; index: number } | undefined {
    const n = parseIPv4(ip);
    if (n < 0) return undefined;
    for (const sc of this.scopes) {
      const index = sc.indexOf(n);
      if (index >= 0) return { sc, index };
    }
    return undefined;
  }

  /** A pool address's hold, in the queue of those that give way when the scope is full. */
  private queueHold(ip: string, hold: Hold): void {
    const at = this.poolOf(ip);
    if (at && !at.sc.isExcluded(at.index)) at.sc.holds.push({ ip, hold });
  }

  private markUsed(ip: string): void {
    const at = this.poolOf(ip);
    if (at) at.sc.setUsed(at.index);
  }

  /** Puts a record where choose() will find it once it is reusable. */
  private queueRecord(r: LeaseRecord): void {
    const at = this.poolOf(r.ip);
    if (!at || at.sc.isExcluded(at.index)) return;
    const q: QueuedRecord = { ip: r.ip, index: at.index, record: r };
    (timed(r) ? at.sc.pending : at.sc.reusable).push(q);
  }

  /** Applies a record (from the journal at start, or after it was made durable). */
  apply(record: LeaseRecord): void {
    const previous = this.byIp.get(record.ip);
    if (previous && previous.clientId !== record.clientId && this.byClient.get(previous.clientId) === record.ip) {
      this.byClient.delete(previous.clientId);
    }
    if (previous === undefined) this.markUsed(record.ip);
    const before = this.byClient.get(record.clientId);
    if (before !== undefined && before !== record.ip && this.byIp.get(before)?.state === 'bound' && this.byIp.get(before)?.clientId === record.clientId) {
      const set = this.alsoBound.get(record.clientId) ?? new Set<string>();
      this.alsoBound.set(record.clientId, set.add(before));
    }
    if (record.state === 'bound' && record.expiresAt < this.earliestExpiry) this.earliestExpiry = record.expiresAt;
    this.byIp.set(record.ip, record);
    this.byClient.set(record.clientId, record.ip);
    this.queueRecord(record);
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
    if (previous) {
      this.byIp.set(record.ip, previous);
      this.queueRecord(previous);
    } else {
      this.byIp.delete(record.ip);
      // Never leased and not held: free as if never used.
      if (!this.holds.has(record.ip)) this.holdGone(record.ip);
    }
    if (this.byClient.get(record.clientId) === record.ip) {
      if (clientIp !== undefined && clientIp !== record.ip && this.byIp.get(clientIp)?.clientId === record.clientId) this.byClient.set(record.clientId, clientIp);
      else if (previous?.clientId !== record.clientId) this.byClient.delete(record.clientId);
    }
    if (previous && !this.byClient.has(previous.clientId)) this.byClient.set(previous.clientId, record.ip);
  }

  private dropHold(ip: string, hold: Hold): void {
    this.holds.delete(ip);
    if (this.heldByClient.get(hold.clientId) === ip) this.heldByClient.delete(hold.clientId);
    this.holdGone(ip);
  }

  /** An address no longer held: never leased, it is free as if never used; else its record is reusable again. */
  private holdGone(ip: string): void {
    const r = this.byIp.get(ip);
    if (r) return this.queueRecord(r);
    const at = this.poolOf(ip);
    if (at) at.sc.clearUsed(at.index);
  }

  /** Drops the holds whose time has come (each once: they leave the queue). */
  private lapseHolds(now: number): void {
    for (let top = this.holdEnds.peek(); top !== undefined && top.hold.until <= now; top = this.holdEnds.peek()) {
      this.holdEnds.pop();
      if (this.holds.get(top.ip) === top.hold) this.dropHold(top.ip, top.hold);
    }
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
    return this.heldByOther(ip, clientId, now) || this.leasedToOther(ip, clientId, now);
  }

  /** A lease of another client, or a quarantine, still running. */
  private leasedToOther(ip: string, clientId: string, now: number): boolean {
    const r = this.byIp.get(ip);
    if (!r) return false;
    if (r.state === 'declined') return r.expiresAt > now;
    if (r.state === 'bound') return r.clientId !== clientId && r.expiresAt > now;
    return false;
  }

  private heldByOther(ip: string, clientId: string, now: number): boolean {
    const hold = this.holds.get(ip);
    return hold !== undefined && hold.until > now && hold.clientId !== clientId;
  }

  /**
   * Chooses an address for a DISCOVER, in the order an admin expects from
   * dnsmasq and Kea: reservation, the client's previous address, the address
   * it asked for (option 50), then the next never-used address, then the
   * longest-expired one. When none is left, the oldest offer hold of another
   * client gives way: an OFFER holds its address only while the pool has room,
   * so DISCOVERs that never REQUEST cannot starve a phone that does (Kea holds
   * nothing). Returns null when every address is leased or quarantined.
   * O(log n) amortised: each queued hold or record is popped once.
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

    this.lapseHolds(now);
    const sc = this.scopes[scope]!;
    // Never leased and not held: nobody's, nothing to look up.
    const fresh = sc.nextFree();
    if (fresh >= 0) {
      sc.cursor = fresh + 1 < sc.size ? fresh + 1 : 0;
      return sc.addressAt(fresh);
    }
    // Someone's old lease: reuse only if nothing fresh is left, oldest first.
    for (let top = sc.pending.peek(); top !== undefined && top.record.expiresAt <= now; top = sc.pending.peek()) {
      sc.pending.pop();
      if (this.byIp.get(top.ip) === top.record) sc.reusable.push(top);
    }
    let oldest: QueuedRecord | undefined;
    for (let top = sc.reusable.peek(); top !== undefined; top = sc.reusable.peek()) {
      // Stale (a newer record), or held by another client (queued again when the hold goes).
      if (this.byIp.get(top.ip) !== top.record || this.heldByOther(top.ip, clientId, now)) {
        sc.reusable.pop();
        continue;
      }
      oldest = top;
      break;
    }
    const own = this.alsoBound.get(clientId);
    if (own !== undefined) oldest = this.olderOwn(own, clientId, sc, oldest, now);
    if (oldest !== undefined) return oldest.ip;
    for (let top = sc.holds.peek(); top !== undefined; top = sc.holds.peek()) {
      sc.holds.pop();
      if (this.holds.get(top.ip) !== top.hold || top.hold.until <= now || top.hold.clientId === clientId || this.leasedToOther(top.ip, clientId, now)) continue;
      this.dropHold(top.ip, top.hold);
      return top.ip;
    }
    return null;
  }

  /** The oldest of `best` and the client's other unexpired leases in this scope; forgets those no longer its own. */
  private olderOwn(own: Set<string>, clientId: string, sc: ScopePool, best: QueuedRecord | undefined, now: number): QueuedRecord | undefined {
    for (const ip of own) {
      const r = this.byIp.get(ip);
      // Expired ones are in the queues already.
      if (!r || r.clientId !== clientId || r.state !== 'bound' || r.expiresAt <= now) {
        own.delete(ip);
        continue;
      }
      const at = this.poolOf(ip);
      if (!at || at.sc !== sc || at.sc.isExcluded(at.index) || this.heldByOther(ip, clientId, now)) continue;
      const q: QueuedRecord = { ip, index: at.index, record: r };
      if (best === undefined || byAge(q, best)) best = q;
    }
    if (own.size === 0) this.alsoBound.delete(clientId);
    return best;
  }

  hold(ip: string, clientId: string, until: number): void {
    const previous = this.holds.get(ip);
    if (previous && previous.clientId !== clientId) {
      this.holds.delete(ip);
      if (this.heldByClient.get(previous.clientId) === ip) this.heldByClient.delete(previous.clientId);
    }
    const other = this.heldByClient.get(clientId);
    if (other !== undefined && other !== ip) {
      const h = this.holds.get(other);
      if (h && h.clientId === clientId) {
        this.holds.delete(other);
        this.holdGone(other);
      }
    }
    if (previous === undefined) this.markUsed(ip);
    const hold: Hold = { clientId, until };
    this.holds.set(ip, hold);
    this.heldByClient.set(clientId, ip);
    this.holdEnds.push({ ip, hold });
    this.queueHold(ip, hold);
  }

  releaseHold(clientId: string): void {
    const ip = this.heldByClient.get(clientId);
    if (ip === undefined) return;
    const h = this.holds.get(ip);
    this.heldByClient.delete(clientId);
    if (h && h.clientId === clientId) {
      this.holds.delete(ip);
      this.holdGone(ip);
    }
  }

  /** When the address's offer hold ends (Infinity: none). */
  holdEnd(ip: string): number {
    return this.holds.get(ip)?.until ?? Infinity;
  }

  heldFor(ip: string, now: number): string | undefined {
    const h = this.holds.get(ip);
    return h && h.until > now ? h.clientId : undefined;
  }

  /** Bound leases whose time has passed; the daemon journals them as expired. Drops lapsed offer holds. */
  expiredSince(now: number): LeaseRecord[] {
    this.lapseHolds(now);
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

  /** Addresses in the pools of one scope. */
  poolSize(scope: number): number {
    return this.scopes[scope]!.size;
  }
}

/** One scope's pools, their allocation state and its reservations. */
class ScopePool {
  private readonly ranges: Range[];
  readonly size: number;
  /**
   * One bit per pool index, set while the address has a lease record (any
   * state) or an offer hold: a clear bit is an address nobody has, free
   * without looking it up (new phones by the thousand each take the next one;
   * two lookups in maps of every lease, for a miss, were most of a DISCOVER's cost).
   */
  private readonly used: Uint32Array;
  /** The server's address and the reservations: never handed out from the pool. */
  private readonly excluded: Uint32Array;
  /** Pool indices neither used nor excluded. */
  private free: number;
  readonly reservedByMac: Map<string, string>;
  readonly reservedIps: Set<string>;
  /** Next-fit cursor: an index into the pool, so busy pools don't rescan from the start. */
  cursor: number;
  /** Bound leases and quarantines by expiry: reusable once it passes. */
  readonly pending = new MinHeap<QueuedRecord>(byExpiry);
  /** Released and expired leases, oldest first. */
  readonly reusable = new MinHeap<QueuedRecord>(byAge);
  /** Offer holds on pool addresses by end: the oldest gives way when nothing else is left. */
  readonly holds = new MinHeap<QueuedHold>(byUntil);

  constructor(scope: ScopePlan, cursor: number, serverIp: string) {
    this.ranges = scope.pools.map((p) => ({ start: ipToInt(p.start), end: ipToInt(p.end) }));
    this.size = this.ranges.reduce((n, r) => n + (r.end - r.start + 1), 0);
    this.used = new Uint32Array(Math.ceil(this.size / 32));
    this.excluded = new Uint32Array(this.used.length);
    this.free = this.size;
    this.reservedByMac = new Map(scope.reservations.map((r) => [r.mac, r.ip]));
    this.reservedIps = new Set(scope.reservations.map((r) => r.ip));
    for (const ip of [serverIp, ...this.reservedIps]) {
      const n = parseIPv4(ip);
      const i = n < 0 ? -1 : this.indexOf(n);
      if (i >= 0 && !this.isExcluded(i)) {
        this.excluded[i >>> 5]! |= 1 << (i & 31);
        this.free--;
      }
    }
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

  isExcluded(i: number): boolean {
    return (this.excluded[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  setUsed(i: number): void {
    const bit = 1 << (i & 31);
    if ((this.used[i >>> 5]! & bit) !== 0) return;
    this.used[i >>> 5]! |= bit;
    if (!this.isExcluded(i)) this.free--;
  }

  clearUsed(i: number): void {
    const bit = 1 << (i & 31);
    if ((this.used[i >>> 5]! & bit) === 0) return;
    this.used[i >>> 5]! &= ~bit;
    if (!this.isExcluded(i)) this.free++;
  }

  /**
   * The first free index at or after the cursor, wrapping; -1 when none.
   * Free indices are counted, so a full pool costs nothing; a scan reads 32
   * indices per word and, new phones taking addresses in cursor order, the
   * next free one is usually in the cursor's word.
   */
  nextFree(): number {
    if (this.free === 0) return -1;
    const words = this.used.length;
    const first = this.cursor >>> 5;
    for (let k = 0; k <= words; k++) {
      const w = first + k < words ? first + k : first + k - words;
      let taken = this.used[w]! | this.excluded[w]!;
      // The cursor's own word, first time round: indices before the cursor count as taken.
      if (k === 0) taken |= (1 << (this.cursor & 31)) - 1;
      if (taken === -1) continue;
      const i = (w << 5) + (31 - Math.clz32(~taken & (taken + 1)));
      if (i < this.size) return i;
    }
    return -1;
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
