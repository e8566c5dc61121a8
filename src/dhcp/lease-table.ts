// The in-memory view of every address the server knows about: leases (from the
// journal), short offer holds, DECLINE quarantines, and reservations from the plan.
// Allocation is bounded: one pass over the pool at most, so a full pool yields
// `null` at once instead of a hang (node-dhcp loops forever there).
import type { LeaseRecord } from './lease-journal.js';
import type { DhcpPlan } from '../site/plan.js';
import { intToIp, ipToInt } from '../wire/ipv4.js';

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
  /** Latest record per address, as in the journal. */
  private readonly byIp = new Map<string, LeaseRecord>();
  /** Client id -> address of its latest lease record (any state). */
  private readonly byClient = new Map<string, string>();
  /** Addresses offered but not yet requested. Memory only: an offer is a promise, not a lease. */
  private readonly holds = new Map<string, Hold>();
  private ranges: Range[] = [];
  private poolSize = 0;
  private reservedByMac = new Map<string, string>();
  private reservedIps = new Set<string>();
  private serverIp = '';
  /** Next-fit cursor: an index into the pool, so busy pools don't rescan from the start. */
  private cursor = 0;

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
  }

  /** Applies a record (from the journal at start, or after it was made durable). */
  apply(record: LeaseRecord): void {
    const previous = this.byIp.get(record.ip);
    if (previous && previous.clientId !== record.clientId && this.byClient.get(previous.clientId) === record.ip) {
      this.byClient.delete(previous.clientId);
    }
    this.byIp.set(record.ip, record);
    this.byClient.set(record.clientId, record.ip);
    const hold = this.holds.get(record.ip);
    if (hold && hold.clientId === record.clientId) this.holds.delete(record.ip);
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
    const n = ipToInt(ip);
    return this.ranges.some((r) => n >= r.start && n <= r.end);
  }

  /**
   * May this client have this address now? True when nobody else holds it
   * (an active lease, an offer hold, a quarantine), and it is either the
   * client's reservation or a pool address that is nobody's reservation.
   */
  availableTo(ip: string, clientId: string, mac: string, now: number): boolean {
    if (ip === this.serverIp) return false;
    const reserved = this.reservedByMac.get(mac);
    if (reserved !== undefined) {
      if (reserved !== ip) return false;
    } else if (this.reservedIps.has(ip) || !this.inPool(ip)) {
      return false;
    }
    return !this.busyForOthers(ip, clientId, now);
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
    const reserved = this.reservedByMac.get(mac);
    if (reserved !== undefined) return this.busyForOthers(reserved, clientId, now) ? null : reserved;

    const previous = this.forClient(clientId);
    if (previous && previous.state !== 'declined' && this.availableTo(previous.ip, clientId, mac, now)) return previous.ip;
    if (requested !== undefined && this.availableTo(requested, clientId, mac, now)) return requested;

    let reusable: string | null = null;
    let reusableAge = Infinity;
    for (let step = 0; step < this.poolSize; step++) {
      const index = (this.cursor + step) % this.poolSize;
      const ip = this.addressAt(index);
      if (ip === this.serverIp || this.reservedIps.has(ip)) continue;
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
    return reusable;
  }

  hold(ip: string, clientId: string, until: number): void {
    this.holds.set(ip, { clientId, until });
  }

  releaseHold(clientId: string): void {
    for (const [ip, h] of this.holds) if (h.clientId === clientId) this.holds.delete(ip);
  }

  heldFor(ip: string, now: number): string | undefined {
    const h = this.holds.get(ip);
    return h && h.until > now ? h.clientId : undefined;
  }

  /** Bound leases whose time has passed; the daemon journals them as expired. */
  expiredSince(now: number): LeaseRecord[] {
    const out: LeaseRecord[] = [];
    for (const r of this.byIp.values()) if (r.state === 'bound' && r.expiresAt <= now) out.push(r);
    for (const [ip, h] of this.holds) if (h.until <= now) this.holds.delete(ip);
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
