// Lease records as `provlab leases` and /api/leases show them: one row per
// address, sorted by address, with "active" worked out against the clock.
import type { LeaseRecord } from '../dhcp/lease-record.js';
import { ipToInt, isIPv4 } from '../wire/ipv4.js';

export interface LeaseRow {
  ip: string;
  mac: string;
  clientId: string;
  state: LeaseRecord['state'];
  /** Bound and not yet expired. */
  active: boolean;
  expiresAt: number;
  updatedAt: number;
  hostname: string | null;
  vendorClass: string | null;
}

export function leaseRows(records: Iterable<LeaseRecord>, now: number): LeaseRow[] {
  const rows: LeaseRow[] = [];
  for (const r of records) {
    rows.push({
      ip: r.ip,
      mac: r.mac,
      clientId: r.clientId,
      state: r.state,
      active: r.state === 'bound' && r.expiresAt > now,
      expiresAt: r.expiresAt,
      updatedAt: r.updatedAt,
      hostname: r.hostname ?? null,
      vendorClass: r.vendorClass ?? null,
    });
  }
  const key = (ip: string): number => (isIPv4(ip) ? ipToInt(ip) : Number.MAX_SAFE_INTEGER);
  return rows.sort((a, b) => key(a.ip) - key(b.ip) || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}
