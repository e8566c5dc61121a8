// SOA serials that only go up (RFC 1982; RFC 1035 §3.3.13), also across
// restarts. The plan is compiled without state, so its SOA serial is a hash
// of the zone's content (site/dns-zones.ts); here, at the edge, each zone's
// hash is remembered with the serial served for it in `dns-serials.json` in
// the state directory. Same hash: same serial. New hash: max(old + 1, unix
// time) in serial arithmetic. A zone never seen before starts at unix time.
//
// The file is small and written off the query path, atomically (temporary
// file, fsync, rename, directory fsync). A missing or unreadable file only
// costs a warn line: the serials then restart from the clock, which is
// higher than any serial we wrote unless the clock went back.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { DnsPlan, DnsZonePlan } from '../site/plan.js';
import { createFresh, openExisting, syncDir, writeAll } from '../dhcp/durable-file.js';

export const SERIALS_FILE = 'dns-serials.json';

export interface SerialEntry {
  /** The zone's content hash (the plan's SOA serial). */
  readonly hash: number;
  /** The serial served for that content. */
  readonly serial: number;
}
export type SerialState = Readonly<Record<string, SerialEntry>>;

/** RFC 1982 §3.2: a is greater than b in 32-bit serial arithmetic. */
export function serialGreater(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}

/** RFC 1982 §3.1 addition: the next serial after `old`, jumping to `now` (unix seconds) when that is greater. */
export function nextSerial(old: number, now: number): number {
  const inc = (old + 1) >>> 0;
  const clock = now >>> 0;
  return serialGreater(clock, inc) ? clock : inc;
}

function soaSerialOf(zone: DnsZonePlan): number {
  for (const r of zone.records) if (r.data.type === 'SOA') return r.data.serial;
  return 0;
}

function withSerial(zone: DnsZonePlan, serial: number): DnsZonePlan {
  return { ...zone, records: zone.records.map((r) => (r.data.type === 'SOA' ? { ...r, data: { ...r.data, serial } } : r)) };
}

/**
 * Pure: the plan's zones with the serials to serve, and the state to keep.
 * Entries of zones no longer in the plan are kept, so a zone that comes back
 * still goes up.
 */
export function assignSerials(dns: DnsPlan, state: SerialState, nowSeconds: number): { dns: DnsPlan; state: SerialState; changed: boolean } {
  const next: Record<string, SerialEntry> = { ...state };
  let changed = false;
  const zones = dns.zones.map((zone) => {
    const hash = soaSerialOf(zone);
    const old = state[zone.apex];
    let serial: number;
    if (old !== undefined && old.hash === hash) {
      serial = old.serial;
    } else {
      serial = old === undefined ? nowSeconds >>> 0 : nextSerial(old.serial, nowSeconds);
      next[zone.apex] = { hash, serial };
      changed = true;
    }
    return withSerial(zone, serial);
  });
  return { dns: { ...dns, zones }, state: next, changed };
}

/** Decoder of the file: anything that is not an object of {hash, serial} uint32 pairs is left out. */
export function parseSerialState(text: string): SerialState {
  const out: Record<string, SerialEntry> = {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return out;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  const isU32 = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
  for (const [apex, e] of Object.entries(value as Record<string, unknown>)) {
    if (typeof e !== 'object' || e === null) continue;
    const { hash, serial } = e as { hash?: unknown; serial?: unknown };
    if (isU32(hash) && isU32(serial)) out[apex] = { hash, serial };
  }
  return out;
}

/** The state directory's serials: loaded once at start, applied to every plan, written after each change. */
export class ZoneSerials {
  private state: SerialState;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    state: SerialState,
    private readonly log: Logger,
    private readonly clock: () => number,
  ) {
    this.state = state;
  }

  /** Never throws: a missing or torn file starts from an empty state (with a warn line when it was there but unreadable). */
  static async open(dir: string, log: Logger, clock: () => number = Date.now): Promise<ZoneSerials> {
    const file = path.join(dir, SERIALS_FILE);
    let state: SerialState = {};
    try {
      // Never through a link planted in the state directory (CWE-59): O_NOFOLLOW, a regular file.
      const fh = await openExisting(file);
      const text = fh === undefined ? '{}' : await fh.readFile({ encoding: 'utf8' }).finally(() => fh.close());
      state = parseSerialState(text);
      if (Object.keys(state).length === 0 && text.trim() !== '{}') log.warn({ file }, 'DNS serial state unreadable: serials restart from the clock');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.warn({ file, err: String(err) }, 'DNS serial state unreadable: serials restart from the clock');
    }
    return new ZoneSerials(dir, state, log, clock);
  }

  /** The plan with monotonic serials; the state is written in the background when it changed. */
  apply(dns: DnsPlan): DnsPlan {
    const r = assignSerials(dns, this.state, Math.floor(this.clock() / 1000));
    if (r.changed) {
      this.state = r.state;
      const text = `${JSON.stringify(r.state)}\n`;
      this.writing = this.writing.then(() => this.write(text));
    }
    return r.dns;
  }

  /** Resolves when every write asked for so far has finished (or failed and been logged). */
  flush(): Promise<void> {
    return this.writing;
  }

  private async write(text: string): Promise<void> {
    const file = path.join(this.dir, SERIALS_FILE);
    const tmp = `${file}.tmp`;
    try {
      await fs.mkdir(this.dir, { recursive: true });
      // Whatever had the temporary name (a planted symlink) is removed, never followed.
      const fh = await createFresh(tmp);
      try {
        await writeAll(fh, Buffer.from(text), 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, file);
      await syncDir(this.dir);
    } catch (err) {
      this.log.warn({ file, err: String(err) }, 'DNS serial state not written: a restart may serve lower serials');
    }
  }
}
