// The staging timeline's inputs (what the daemons report) and its view (what
// `provlab status`, /api/status and the web page show). The view is plain JSON:
// numbers are ms since the epoch, absent values are null, never undefined.
import type { QueryState } from './state.js';

/** One DHCP exchange as the DHCP daemon saw it (see adapters.ts for the wiring). */
export interface DhcpExchangeEvent {
  /** Lower-case colon form. */
  mac: string;
  /**
   * The client address this exchange tells of: the offered address for
   * DISCOVER/OFFER, the leased address for REQUEST/ACK, ciaddr for INFORM.
   */
  ip?: string;
  /** DISCOVER, REQUEST, INFORM, DECLINE, RELEASE, ... */
  type: string;
  /** OFFER, ACK, NAK; absent when nothing was sent. */
  replyType?: string;
  /** Option 60, trailing NULs dropped. */
  vendorClass?: string;
  /** Option 55 as asked. */
  prl: number[];
  /** Option codes in the reply, after any trimming to the client's size limit. */
  optionsSent: number[];
  /** Why nothing was sent, or the NAK reason. */
  note?: string;
  /** Option 12, when the client sent one. */
  hostname?: string;
  /** When the packet arrived, ms since the epoch. */
  at: number;
}

/** One answered DNS question, keyed by the client's address (the DNS daemon's shape). */
export interface DnsQueryEvent {
  /** Client IPv4 address. */
  client: string;
  /** Query name as asked (a trailing dot and letter case do not matter). */
  name: string;
  /** A, AAAA, SRV, ... */
  type: string;
  /** NOERROR, NXDOMAIN, REFUSED, SERVFAIL, ... */
  rcode: string;
  /** Answer records sent; 0 with NOERROR means "no data". Optional. */
  answers?: number;
  at: number;
}

/** What the NTP daemon reports per answered request (a subset of its NtpClientEvent). */
export interface NtpClientInput {
  address: string;
  version: number;
  /** The client's clock minus ours (plus one-way delay), ms. */
  clientOffsetMs: number;
  kind: 'reply' | 'kiss';
  /** Defaults to the timeline's clock: the NTP daemon's event carries no time. */
  at?: number;
}

/** A lease record as the DHCP journal holds it (only the fields the timeline reads). */
export interface LeaseNote {
  ip: string;
  mac: string;
  state: string;
  updatedAt: number;
}

// ---------------------------------------------------------------- view

/**
 * done: the step happened as an LPE phone needs it.
 * warn: it happened, but not as it should (wrong vendor class, NXDOMAIN...).
 * waiting: not seen yet.
 * skipped: not needed (no time lookup when NTP was answered anyway).
 */
export type StepState = 'done' | 'warn' | 'waiting' | 'skipped';

export interface StepView {
  state: StepState;
  /** When the step was done (or last attempted); null when never. */
  at: number | null;
  /** A few words for a table cell. */
  summary: string;
}

export interface LeaseStepView extends StepView {
  address: string | null;
  vendorClass: string | null;
  prl: number[] | null;
  discoverAt: number | null;
  offerAt: number | null;
  offered: string | null;
  requestAt: number | null;
  ackAt: number | null;
  nak: { at: number; note: string } | null;
  /** dhcp: seen since provlab started; journal: only known from the lease journal. */
  source: 'dhcp' | 'journal' | null;
}

export interface InformView {
  firstAt: number;
  at: number;
  count: number;
  vendorClass: string | null;
  prl: number[];
  optionsSent: number[];
  answered: boolean;
  note: string | null;
}

export interface InformStepView extends StepView {
  /** The latest INFORM per vendor class (MS-UC-Client, CPE-OCPHONE, none). */
  informs: InformView[];
}

/** A query as remembered (state.ts), judged against the site. */
export interface QueryView extends QueryState {
  /** Is `domain` one the site hands out in options 15/119? null when not applicable. */
  inSite: boolean | null;
}

export interface QueryStepView extends StepView {
  queries: QueryView[];
}

export interface NtpStepView extends StepView {
  firstAt: number | null;
  replies: number;
  kisses: number;
  /** Last answered request: the client's offset from our clock, ms. */
  offsetMs: number | null;
  version: number | null;
}

export interface EventView {
  at: number;
  /** Last repetition, when `count` > 1. */
  lastAt: number;
  count: number;
  kind: 'dhcp' | 'dns' | 'ntp';
  text: string;
}

export interface PhoneView {
  mac: string;
  ip: string | null;
  hostname: string | null;
  /** Every option 60 value seen, oldest first. */
  vendorClasses: string[];
  /** Sent MS-UC-Client at least once: an LPE phone, as far as DHCP tells. */
  lpe: boolean;
  firstSeen: number;
  lastSeen: number;
  lease: LeaseStepView;
  inform: InformStepView;
  ucupdates: QueryStepView;
  timeLookup: QueryStepView;
  ntp: NtpStepView;
  /** Other names this phone asked (SIP SRV lookups...), newest last. */
  otherQueries: QueryView[];
  /** What an LPE boot still lacks or got wrong, in boot order. */
  missing: string[];
  /** Worth knowing, not wrong. */
  notes: string[];
  /** Oldest first; a repeat of either of the two latest events is counted on it (`count`, `lastAt`). */
  events: EventView[];
}

export interface UnknownClientView {
  ip: string;
  firstAt: number;
  at: number;
  dns: number;
  ntp: number;
  lastName: string | null;
}

export interface TimelineLease {
  ip: string;
  mac: string;
  at: number;
  /** What told us: an ACK, an INFORM's ciaddr, or the lease journal. */
  source: 'ack' | 'inform' | 'journal';
}

export interface TimelineView {
  site: string;
  /** Domains the site hands out in options 15 and 119: what ucupdates-r2.<domain> should use. */
  domains: string[];
  generatedAt: number;
  /** Bumped on every event: a cheap "has anything changed" for pollers. */
  version: number;
  limits: { maxPhones: number; maxEventsPerPhone: number };
  counts: { phones: number; evictedPhones: number; unmatchedDns: number; unmatchedNtp: number };
  /** Oldest first (the order phones were plugged in). */
  phones: PhoneView[];
  /** DNS/NTP clients whose address no DHCP exchange or lease explains (static addresses, other VLANs). */
  unknownClients: UnknownClientView[];
}
