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
  /** Repeats with the same key collapse into one row (renewals, NTP polls). */
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

  /** Key: vendor class, '' for none. */
  informs: Map<string, InformState>;
  /** Key: name + ' ' + type. */
  ucupdates: Map<string, QueryState>;
  time: Map<string, QueryState>;
  other: Map<string, QueryState>;
  ntp: { firstAt: number; firstReplyAt: number | null; at: number; replies: number; kisses: number; offsetMs: number | null; version: number } | null;
  events: EventState[];
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
    informs: new Map(),
    ucupdates: new Map(),
    time: new Map(),
    other: new Map(),
    ntp: null,
    events: [],
  };
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
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
