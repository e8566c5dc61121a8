// The staging timeline: per phone (by MAC), which steps of a Lync Phone Edition
// boot provlab has seen. Fed by the DHCP, DNS and NTP daemons; read by the
// control endpoint. Pure memory: no sockets, no timers, no disk; the clock is
// only used for NTP events (they carry no time) and the view's timestamp.
//
// Bounded: at most `maxPhones` phones (the least recently seen goes first),
// `maxEventsPerPhone` events per phone (a repeat of either of the two latest
// collapses into its count), a few distinct query names per step, and a small
// table of unknown clients.
import { isIPv4 } from '../wire/ipv4.js';
import { normalizeDomain as normalizeName, updateDomainOf } from '../lpe/domains.js';
import type { TimelineSite } from './site-facts.js';
import { BoundedMap, TieredMap, formatOffset, newPhone, printable, setBounded, writable, type PhoneState, type QueryState } from './state.js';
import type { DhcpExchangeEvent, DnsQueryEvent, LeaseNote, NtpClientInput, TimelineLease, TimelineView, UnknownClientView } from './types.js';
import { phoneView } from './view.js';

export interface TimelineOptions {
  site?: TimelineSite;
  /** Default 1024. */
  maxPhones?: number;
  /** Default 50. */
  maxEventsPerPhone?: number;
  /** Distinct query names kept per step (ucupdates-r2, time, other). Default 16. */
  maxQueriesPerStep?: number;
  /** Default 64. */
  maxUnknownClients?: number;
  now?: () => number;
}

interface IpOwner {
  mac: string;
  at: number;
  source: TimelineLease['source'];
}

const NTP_SRV = '_ntp._udp';
const TIME_WINDOWS = 'time.windows.com';

function positiveInt(v: number | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  return v;
}

function codes(list: readonly number[]): number[] {
  return list.filter((c) => Number.isInteger(c) && c >= 0 && c <= 255).slice(0, 255);
}

function sameCodes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `e` has this kind and key: the event a new one repeats. */
function isRepeat(e: { kind: string; key: string } | undefined, kind: string, key: string): boolean {
  return e !== undefined && e.kind === kind && e.key === key;
}

/**
 * codes(), for lists that repeat: phones of one model send the same option 55,
 * so the copy kept per phone is one array shared by all of them (never mutated:
 * the view copies what it hands out, or serialises it).
 */
class CodeLists {
  private last: { input: readonly number[]; copy: number[] } | undefined;
  get(list: readonly number[]): number[] {
    const last = this.last;
    if (last !== undefined && sameCodes(last.input, list)) return last.copy;
    const copy = codes(list);
    // Remember a private copy of the input too: the caller may reuse its array.
    this.last = { input: [...list], copy };
    return copy;
  }
}

export class StagingTimeline {
  readonly maxPhones: number;
  readonly maxEventsPerPhone: number;
  private readonly maxQueries: number;
  private readonly maxUnknown: number;
  private readonly now: () => number;
  private site: TimelineSite;
  /** Least recently seen first (re-inserted on every event); phones with a lease are dropped last. */
  private readonly phones: TieredMap<string, PhoneState>;
  /** Client address -> the MAC that latest held it (ACK yiaddr, INFORM ciaddr, journal); leases dropped last. */
  private readonly owners: TieredMap<string, IpOwner>;
  private readonly unknown = new Map<string, UnknownClientView>();
  private readonly listeners = new Set<(version: number) => void>();
  /** MAC -> the address a journal lease gave it (checked against owners before use). */
  private readonly journalIpByMac: BoundedMap<string, string>;
  private evicted = 0;
  private unmatchedDns = 0;
  private unmatchedNtp = 0;
  private version = 0;
  private readonly prls = new CodeLists();

  constructor(options: TimelineOptions = {}) {
    this.maxPhones = positiveInt(options.maxPhones, 1024, 'maxPhones');
    this.maxEventsPerPhone = positiveInt(options.maxEventsPerPhone, 50, 'maxEventsPerPhone');
    this.maxQueries = positiveInt(options.maxQueriesPerStep, 16, 'maxQueriesPerStep');
    this.maxUnknown = positiveInt(options.maxUnknownClients, 64, 'maxUnknownClients');
    this.now = options.now ?? Date.now;
    this.site = options.site ?? { site: '', domains: [] };
    this.phones = new TieredMap(this.maxPhones);
    this.owners = new TieredMap(this.maxPhones * 2);
    this.journalIpByMac = new BoundedMap(this.maxPhones * 2);
  }

  /** On reload: new domains apply to every phone at once (the view judges, the state only records). */
  setSite(site: TimelineSite): void {
    this.site = { site: site.site, domains: site.domains.map(normalizeName) };
    this.changed();
  }

  /** Called with the version after every change; returns an unsubscribe function. */
  subscribe(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ------------------------------------------------------------ inputs

  onDhcpExchange(e: DhcpExchangeEvent): void {
    const mac = e.mac.toLowerCase();
    const at = e.at;
    const p = this.touch(mac, at);
    const vc = e.vendorClass !== undefined ? printable(e.vendorClass) : null;
    if (vc !== null && !p.vendorClasses.includes(vc)) {
      // A new phone's first class: a one-element array, not an empty one grown by push.
      if (p.vendorClasses.length === 0) p.vendorClasses = [vc];
      else p.vendorClasses.push(vc);
      if (p.vendorClasses.length > 8) p.vendorClasses.shift();
    }
    if (e.hostname !== undefined) p.hostname = printable(e.hostname, 64);
    const prl = this.prls.get(e.prl);
    // Only an INFORM keeps (and tells) the options sent.
    let sent: number[] | undefined;
    const ip = e.ip !== undefined && isIPv4(e.ip) && e.ip !== '0.0.0.0' ? e.ip : null;
    const type = printable(e.type, 16);
    const reply = e.replyType !== undefined ? printable(e.replyType, 16) : null;
    const note = e.note !== undefined ? printable(e.note, 200) : null;

    if (type === 'DISCOVER' || type === 'REQUEST') {
      p.leaseVendorClass = vc;
      p.leasePrl = prl;
      if (reply === null) p.unanswered = { at, type, note: note ?? 'no reply' };
    }
    if (type === 'DISCOVER') {
      p.discoverAt = at;
      if (reply === 'OFFER') {
        p.offerAt = at;
        p.offered = ip;
      }
    } else if (type === 'REQUEST') {
      p.requestAt = at;
      if (reply === 'ACK' && ip !== null) {
        p.ackAt = at;
        p.address = ip;
        p.ip = ip;
        p.unanswered = null;
        this.own(ip, { mac, at, source: 'ack' });
        this.phones.set(mac, p, true);
      } else if (reply === 'NAK') {
        p.nak = { at, note: note ?? 'refused' };
      }
    } else if (type === 'INFORM') {
      const key = vc ?? '';
      const informs = writable(p, 'informs');
      const prev = informs.get(key);
      setBounded(
        informs,
        key,
        { firstAt: prev?.firstAt ?? at, at, count: (prev?.count ?? 0) + 1, vendorClass: vc, prl, optionsSent: sent ??= codes(e.optionsSent), answered: reply === 'ACK', note },
        4,
      );
      if (ip !== null) {
        p.ip = ip;
        this.own(ip, { mac, at, source: 'inform' });
      }
    }

    let text = `${type}${vc !== null ? ` (${vc})` : ''}`;
    if (reply === null) text += ` → no reply${note ? `: ${note}` : ''}`;
    else {
      text += ` → ${reply}`;
      if (type === 'INFORM') {
        const all = (sent ??= codes(e.optionsSent));
        const lync = [43, 120].filter((c) => all.includes(c));
        text += lync.length === 2 ? ' with 43 and 120' : lync.length === 1 ? ` with ${lync[0]} only` : ' without 43/120';
      } else if (ip !== null && reply !== 'NAK') text += ` ${ip}`;
      if (reply === 'NAK' && note) text += `: ${note}`;
    }
    this.event(p, at, 'dhcp', text, text);
    this.changed();
  }

  onDnsQuery(e: DnsQueryEvent): void {
    const name = normalizeName(printable(e.name));
    const type = printable(e.type, 16).toUpperCase();
    const rcode = printable(e.rcode, 16).toUpperCase();
    const mac = this.macFor(e.client);
    if (mac === undefined) {
      this.unmatchedDns++;
      this.noteUnknown(e.client, e.at, 'dns', name);
      this.changed();
      return;
    }
    const p = this.touch(mac, e.at);
    let bucket: Map<string, QueryState>;
    let domain: string | null = updateDomainOf(name);
    if (domain !== null) {
      bucket = writable(p, 'ucupdates');
    } else if (name === NTP_SRV || name.startsWith(`${NTP_SRV}.`)) {
      bucket = writable(p, 'time');
      domain = name.slice(NTP_SRV.length + 1);
    } else if (name === TIME_WINDOWS) {
      bucket = writable(p, 'time');
      domain = null;
    } else {
      bucket = writable(p, 'other');
      domain = null;
    }
    const key = `${name} ${type}`;
    const prev = bucket.get(key);
    const answers = e.answers !== undefined && Number.isInteger(e.answers) && e.answers >= 0 ? e.answers : null;
    setBounded(bucket, key, { name, type, rcode, answers, firstAt: prev?.firstAt ?? e.at, at: e.at, count: (prev?.count ?? 0) + 1, domain }, this.maxQueries);
    const text = `DNS ${type} ${name} → ${rcode}${rcode === 'NOERROR' && answers === 0 ? ' (no data)' : ''}`;
    this.event(p, e.at, 'dns', text, text);
    this.changed();
  }

  onNtpClient(e: NtpClientInput): void {
    const at = e.at ?? this.now();
    const mac = this.macFor(e.address);
    if (mac === undefined) {
      this.unmatchedNtp++;
      this.noteUnknown(e.address, at, 'ntp', null);
      this.changed();
      return;
    }
    const p = this.touch(mac, at);
    const n = p.ntp ?? { firstAt: at, firstReplyAt: null, at, replies: 0, kisses: 0, offsetMs: null, version: e.version };
    n.at = at;
    n.version = e.version;
    if (e.kind === 'reply') {
      n.replies++;
      n.firstReplyAt ??= at;
      n.offsetMs = Number.isFinite(e.clientOffsetMs) ? e.clientOffsetMs : null;
    } else n.kisses++;
    p.ntp = n;
    const text =
      e.kind === 'reply'
        ? `NTP v${e.version} answered${n.offsetMs !== null ? ` (its clock was off by ${formatOffset(n.offsetMs)})` : ''}`
        : `NTP v${e.version} rate-limited (RATE kiss)`;
    this.event(p, at, 'ntp', text, e.kind);
    this.changed();
  }

  /**
   * A lease record from the journal (at start) or just made durable: lets DNS
   * and NTP from a phone leased before provlab restarted find its MAC.
   */
  onLease(r: LeaseNote): void {
    if (r.state !== 'bound' || !isIPv4(r.ip)) return;
    const mac = r.mac.toLowerCase();
    const cur = this.owners.get(r.ip);
    if (cur && cur.mac === mac) return; // an ACK or INFORM already said so, with a better source
    this.own(r.ip, { mac, at: r.updatedAt, source: 'journal' });
    this.journalIpByMac.set(mac, r.ip);
    const p = this.phones.get(mac);
    if (p && p.ip === null) p.ip = r.ip;
  }

  // ------------------------------------------------------------ outputs

  snapshot(): TimelineView {
    const phones = [...this.phones.values()].sort((a, b) => a.firstSeen - b.firstSeen || (a.mac < b.mac ? -1 : 1));
    return {
      site: this.site.site,
      domains: [...this.site.domains],
      generatedAt: this.now(),
      version: this.version,
      limits: { maxPhones: this.maxPhones, maxEventsPerPhone: this.maxEventsPerPhone },
      counts: { phones: this.phones.size, evictedPhones: this.evicted, unmatchedDns: this.unmatchedDns, unmatchedNtp: this.unmatchedNtp },
      phones: phones.map((p) => phoneView(p, this.site.domains)),
      unknownClients: [...this.unknown.values()].map((u) => ({ ...u })),
    };
  }

  /** Which MAC the timeline believes holds each address, as used to place DNS and NTP events. */
  leases(): TimelineLease[] {
    return [...this.owners.entries()].map(([ip, o]) => ({ ip, mac: o.mac, at: o.at, source: o.source }));
  }

  get currentVersion(): number {
    return this.version;
  }

  // ------------------------------------------------------------ internals

  private macFor(ip: string): string | undefined {
    return this.owners.get(ip)?.mac;
  }

  private own(ip: string, owner: IpOwner): void {
    this.owners.set(ip, owner, owner.source !== 'inform');
  }

  /** The phone for `mac`, created if new, marked most recently seen. */
  private touch(mac: string, at: number): PhoneState {
    let p = this.phones.get(mac);
    if (p === undefined) {
      p = newPhone(mac, at);
      // A phone first met through DNS/NTP on an address from the lease journal.
      // Looked up by MAC, not by scanning every owner: a new phone per exchange (perfdhcp's new clients) must stay O(1).
      const ip = this.journalIpByMac.get(mac);
      const owner = ip === undefined ? undefined : this.owners.get(ip);
      if (ip !== undefined && owner && owner.mac === mac && owner.source === 'journal') {
        p.journalLease = { ip, at: owner.at };
        p.ip = ip;
      }
    }
    this.evicted += this.phones.set(mac, p, leased(p));
    p.lastSeen = Math.max(p.lastSeen, at);
    return p;
  }

  /**
   * A repeat of either of the phone's two latest events (same kind and key) is
   * counted on that event: renewals and NTP polls, and also a phone going round
   * DISCOVER→OFFER, REQUEST→ACK again and again, which would otherwise push a
   * pair of new events per lease and, at thousands of exchanges a second, feed
   * the old generation enough garbage for a mark-compact every second
   * (BENCHMARKS.md). `lastAt` tells which of the two happened last.
   */
  private event(p: PhoneState, at: number, kind: 'dhcp' | 'dns' | 'ntp', text: string, key: string): void {
    const n = p.events.length;
    const seen = isRepeat(p.events[n - 1], kind, key) ? p.events[n - 1] : isRepeat(p.events[n - 2], kind, key) ? p.events[n - 2] : undefined;
    if (seen !== undefined) {
      seen.count++;
      seen.lastAt = at;
      seen.text = text;
      return;
    }
    const ev = { at, kind, text, key, lastAt: at, count: 1 };
    // A new phone's first event: a one-element array, not an empty one grown by push.
    if (p.events.length === 0) p.events = [ev];
    else p.events.push(ev);
    if (p.events.length > this.maxEventsPerPhone) p.events.splice(0, p.events.length - this.maxEventsPerPhone);
  }

  private noteUnknown(ip: string, at: number, kind: 'dns' | 'ntp', name: string | null): void {
    const key = printable(ip, 45);
    const u = this.unknown.get(key) ?? { ip: key, firstAt: at, at, dns: 0, ntp: 0, lastName: null };
    u.at = at;
    u[kind]++;
    if (name !== null) u.lastName = name;
    setBounded(this.unknown, key, u, this.maxUnknown);
  }

  private changed(): void {
    this.version++;
    if (this.listeners.size === 0) return;
    for (const l of this.listeners) {
      try {
        l(this.version);
      } catch {
        // A listener's bug must not break the daemon that reported the event.
      }
    }
  }
}

/** Holds a lease as far as the timeline knows: ACKed, or found in the journal. */
function leased(p: PhoneState): boolean {
  return p.address !== null || p.journalLease !== null;
}
