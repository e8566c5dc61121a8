// One lease as the DHCP engine decides it, the lease table holds it and the
// journal stores it. Pure: the shape, its check, and its on-disk field order.

export interface LeaseRecord {
  ip: string; // key: the latest record per ip wins
  clientId: string; // hex of option 61, or "mac:" + mac when no option 61
  mac: string; // lower-case colon form
  state: 'bound' | 'released' | 'declined' | 'expired';
  expiresAt: number; // ms since epoch (for 'declined' = end of quarantine)
  hostname?: string;
  vendorClass?: string;
  updatedAt: number; // ms since epoch
}

const STATES: ReadonlySet<string> = new Set(['bound', 'released', 'declined', 'expired']);

/**
 * Why `v` is not a lease record, or undefined when it is. Checked on every
 * append and every snapshot record: plain tests, no arrays built per call.
 */
export function recordProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const r = v as Record<string, unknown>;
  if (typeof r.ip !== 'string' || r.ip === '') return 'ip must be a non-empty string';
  if (typeof r.clientId !== 'string' || r.clientId === '') return 'clientId must be a non-empty string';
  if (typeof r.mac !== 'string' || r.mac === '') return 'mac must be a non-empty string';
  if (typeof r.state !== 'string' || !STATES.has(r.state)) return `state must be one of ${[...STATES].join('/')}`;
  if (typeof r.expiresAt !== 'number' || !Number.isFinite(r.expiresAt)) return 'expiresAt must be a finite number';
  if (typeof r.updatedAt !== 'number' || !Number.isFinite(r.updatedAt)) return 'updatedAt must be a finite number';
  if (r.hostname !== undefined && typeof r.hostname !== 'string') return 'hostname must be a string when present';
  if (r.vendorClass !== undefined && typeof r.vendorClass !== 'string') return 'vendorClass must be a string when present';
  return undefined;
}

/** Copy only the known fields, in a fixed order, so callers' extra properties never reach disk. */
export function normalizeRecord(r: LeaseRecord): LeaseRecord {
  const out: LeaseRecord = {
    ip: r.ip,
    clientId: r.clientId,
    mac: r.mac,
    state: r.state,
    expiresAt: r.expiresAt,
    updatedAt: r.updatedAt,
  };
  if (r.hostname !== undefined) out.hostname = r.hostname;
  if (r.vendorClass !== undefined) out.vendorClass = r.vendorClass;
  return out;
}
