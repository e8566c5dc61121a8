// The timeline's per-phone memory: what has been seen, not yet judged. view.ts
// turns it into steps and "what is missing"; timeline.ts feeds and bounds it.

export interface QueryState {
  name: string;
  type: string;
  rcode: string;
  answers: number | null;
  firstAt: number;
  at: number;
  count: number;
  /** After the fixed prefix; '' for a bare name; null when there is no domain part (time.windows.com). */
  domain: string | null;
}

export interface InformState {
  firstAt: number;
  at: number;
  count: number;
  vendorClass: string | null;
  prl: number[];
  optionsSent: number[];
  answered: boolean;
  note: string | null;
}

export interface EventState {
  at: number;
  lastAt: number;
  count: number;
  kind: 'dhcp' | 'dns' | 'ntp';
  text: string;
  /** Repeats with the same kind and key collapse into one row (renewals, NTP polls). */
  key: string;
}

export interface PhoneState {
  mac: string;
  ip: string | null;
  hostname: string | null;
  vendorClasses: string[];
  firstSeen: number;
  lastSeen: number;

  discoverAt: number | null;
  offerAt: number | null;
  offered: string | null;
  requestAt: number | null;
  ackAt: number | null;
  address: string | null;
  /** Option 60 and 55 of the latest DISCOVER/REQUEST. */
  leaseVendorClass: string | null;
  leasePrl: number[] | null;
  nak: { at: number; note: string } | null;
  /** The latest DISCOVER/REQUEST that got no reply, and why. */
  unanswered: { at: number; type: string; note: string } | null;
  /** Known only from the lease journal (provlab restarted since the lease). */
  journalLease: { ip: string; at: number } | null;

  // Made on first use (most phones seen at a rate never get some of them; see EMPTY).
  /** Key: vendor class, '' for none. */
  informs: ReadonlyMap<string, InformState>;
  /** Key: name + ' ' + type. */
  ucupdates: ReadonlyMap<string, QueryState>;
  time: ReadonlyMap<string, QueryState>;
  other: ReadonlyMap<string, QueryState>;
  ntp: { firstAt: number; firstReplyAt: number | null; at: number; replies: number; kisses: number; offsetMs: number | null; version: number } | null;
  events: EventState[];
}

/**
 * The one empty map every new phone starts with, for each of its maps: a phone
 * staged at thousands a second costs a record, not four maps. Written to
 * never: writers go through `writable`.
 */
const EMPTY: ReadonlyMap<string, never> = new Map<string, never>();

/** The phone's map `key`, made its own on the first write. */
export function writable<K extends 'informs' | 'ucupdates' | 'time' | 'other'>(p: PhoneState, key: K): PhoneState[K] extends ReadonlyMap<string, infer V> ? Map<string, V> : never {
  let m = p[key] as ReadonlyMap<string, unknown>;
  if (m === EMPTY) {
    m = new Map();
    (p as unknown as Record<K, ReadonlyMap<string, unknown>>)[key] = m;
  }
  return m as PhoneState[K] extends ReadonlyMap<string, infer V> ? Map<string, V> : never;
}

export function newPhone(mac: string, at: number): PhoneState {
  return {
    mac,
    ip: null,
    hostname: null,
    vendorClasses: [],
    firstSeen: at,
    lastSeen: at,
    discoverAt: null,
    offerAt: null,
    offered: null,
    requestAt: null,
    ackAt: null,
    address: null,
    leaseVendorClass: null,
    leasePrl: null,
    nak: null,
    unanswered: null,
    journalLease: null,
    informs: EMPTY,
    ucupdates: EMPTY,
    time: EMPTY,
    other: EMPTY,
    ntp: null,
    events: [],
  };
}

/**
 * A map that keeps at most `cap` entries: `set` makes its key the newest and
 * drops the oldest beyond the cap. As setBounded, but the oldest entry is
 * found in O(1): a fresh `keys()` iterator would first skip every entry
 * deleted since the map last compacted itself, and under a stream of new
 * phones that is hundreds per call. The iterator kept here resumes where it
 * stopped; everything before it has been deleted (entries are only ever
 * appended), so its next key is the oldest live one.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  private oldest: Iterator<K> | undefined;

  constructor(private readonly cap: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Sets `key` as the newest entry; returns how many old entries were dropped. */
  set(key: K, value: V): number {
    const size = this.map.size;
    this.map.set(key, value);
    // It was there already: set kept its place, move it to the newest end. (A new key, the usual case, costs one lookup.)
    if (this.map.size === size) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    let dropped = 0;
    while (this.map.size > this.cap && this.dropOldest()) dropped++;
    return dropped;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Drops the oldest entry; false when empty. */
  dropOldest(): boolean {
    let next = this.oldest?.next();
    if (next === undefined || next.done) {
      this.oldest = this.map.keys();
      next = this.oldest.next();
    }
    if (next.done) return false;
    this.map.delete(next.value);
    return true;
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  /** Oldest first. */
  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}

/**
 * At most `cap` entries in two least-recently-set tiers: beyond the cap, the
 * oldest entry not kept goes first (never the one just set), a kept one only
 * when no other is left. A flood
 * of INFORMs from random MACs then never pushes a phone that holds a lease off
 * the status page (issue 20).
 */
export class TieredMap<K, V> {
  private readonly kept: BoundedMap<K, Entry<V>>;
  private readonly rest: BoundedMap<K, Entry<V>>;
  /** Order of setting across both tiers: entries() is oldest first, as one map would be. */
  private seq = 0;

  constructor(private readonly cap: number) {
    this.kept = new BoundedMap(cap);
    this.rest = new BoundedMap(cap);
  }

  get size(): number {
    return this.kept.size + this.rest.size;
  }

  get(key: K): V | undefined {
    return (this.kept.get(key) ?? this.rest.get(key))?.value;
  }

  /** Sets `key` as the newest entry of its tier; returns how many entries were dropped. */
  set(key: K, value: V, keep: boolean): number {
    (keep ? this.rest : this.kept).delete(key);
    let dropped = (keep ? this.kept : this.rest).set(key, { value, seq: this.seq++ });
    // The entry just set is the newest of its tier: never the one dropped.
    while (this.size > this.cap && ((this.rest.size > (keep ? 0 : 1) && this.rest.dropOldest()) || this.kept.dropOldest())) dropped++;
    return dropped;
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  /** Oldest first, over both tiers. */
  *entries(): IterableIterator<[K, V]> {
    const a = this.kept.entries();
    const b = this.rest.entries();
    let x = a.next();
    let y = b.next();
    while (!x.done || !y.done) {
      if (y.done || (!x.done && x.value[1].seq < y.value[1].seq)) {
        yield [x.value[0], x.value[1].value];
        x = a.next();
      } else {
        yield [y.value[0], y.value[1].value];
        y = b.next();
      }
    }
  }
}

interface Entry<V> {
  value: V;
  seq: number;
}

/** Sets `key` as the newest entry; drops the oldest beyond `cap`. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, cap: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > cap) {
    const oldest = map.keys().next();
    if (oldest.done) break;
    map.delete(oldest.value);
  }
}

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * Text that came off the wire (vendor class, host name, query names) made safe
 * to print at a terminal: control and bidi characters escaped, length capped.
 * The web page still inserts it as text, never as HTML.
 */
export function printable(s: string, max = 255): string {
  // Most text (a vendor class, a message type) is short and clean: returned as it is, without a regular expression.
  if (s.length <= max && isSafe(s)) return s;
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** No character UNSAFE matches. */
function isSafe(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
    if (c >= 0x200b && (c <= 0x200f || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))) return false;
  }
  return true;
}

/** A clock offset for people: +0.012 s, -3 min, +4018 days. */
export function formatOffset(ms: number): string {
  const s = ms / 1000;
  const sign = s >= 0 ? '+' : '-';
  const a = Math.abs(s);
  if (a >= 86400 * 2) return `${sign}${(a / 86400).toFixed(0)} days`;
  if (a >= 120) return `${sign}${(a / 60).toFixed(0)} min`;
  return `${sign}${a.toFixed(3)} s`;
}
