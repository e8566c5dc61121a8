// The plan: everything the daemons need, compiled once from the site file.
// Immutable data; daemons receive it and never reach back into the YAML.
// A reload compiles a new plan and swaps the reference in one assignment.

import type { RecordData } from '../wire/dns-message.js';

/** Option values ready for the wire: code -> value bytes (no code, no length). Insertion order is send order. */
export type OptionBytes = ReadonlyMap<number, Uint8Array>;

export type VendorMatch = 'exact' | 'prefix' | 'substring';

/** Does option 60 (as text) select this class? Case-sensitive, as Kea's and dhcpd's tests are. */
export function vendorMatches(c: { readonly vendorClass: string; readonly match: VendorMatch }, optionSixty: string): boolean {
  return c.match === 'exact' ? optionSixty === c.vendorClass : c.match === 'prefix' ? optionSixty.startsWith(c.vendorClass) : optionSixty.includes(c.vendorClass);
}

export interface ClientClassPlan {
  /** Class name as written in the site file, e.g. "MS-UC-Client". */
  readonly name: string;
  /** Matched case-sensitively against option 60 (Microsoft says MS-UC-Client is case-sensitive). */
  readonly vendorClass: string;
  /** The whole of option 60 (MS-UC-Client always), its start, or anywhere in it. */
  readonly match: VendorMatch;
  /** Options this class adds to (or overrides in) the base options. */
  readonly options: OptionBytes;
  /** Codes sent whether or not the client's parameter request list (55) asks for them. */
  readonly alwaysSend: readonly number[];
}

export interface ReservationPlan {
  /** Lower-case colon form, "00:04:f2:95:31:a2". */
  readonly mac: string;
  readonly ip: string;
  readonly name?: string;
}

/** One served subnet (a scope, in Kea's and Windows' words): where its clients' addresses and subnet options come from. */
export interface ScopePlan {
  /** As in the site file (default: the subnet in CIDR form); exports and logs name the scope by it. */
  readonly name: string;
  readonly subnet: {
    readonly network: string;
    readonly prefix: number;
    readonly mask: string;
    readonly broadcast: string;
  };
  /** Inclusive ranges, validated inside the subnet and not overlapping. */
  readonly pools: readonly { readonly start: string; readonly end: string }[];
  /** Every reservation whose address is in this subnet. */
  readonly reservations: readonly ReservationPlan[];
  readonly leaseSeconds: number;
  /** T1 (option 58) and T2 (option 59): RFC 2131 defaults 0.5 and 0.875 of the lease. */
  readonly renewSeconds: number;
  readonly rebindSeconds: number;
  /**
   * Options every client of this scope gets (1, 3, 6, 15, 119, 42, 4, then the
   * scope's own), value bytes only. Lease-time options (51, 58, 59) and 54 are
   * added by the server per message type; a class overrides these.
   */
  readonly baseOptions: OptionBytes;
}

export interface DhcpPlan {
  readonly enabled: boolean;
  /** UDP port the server listens on (67 in production). Clients are answered on port + 1, relays on this port. */
  readonly port: number;
  /** Option 54 and the address replies come from. */
  readonly serverId: string;
  /**
   * The subnets served, never overlapping. Index 0 is the site file's
   * dhcp.subnet (the interface's subnet, which direct clients get); the rest
   * are reached through relays (rfc2131.ts picks one per message).
   */
  readonly scopes: readonly ScopePlan[];
  /** How long an offered address is held for the client before it can be offered to another. */
  readonly offerHoldSeconds: number;
  /** How long a DECLINEd address stays out of the pool. */
  readonly declineHoldSeconds: number;
  /** Conflict detection on the interface (dhcp.ping_check): wait this long for an echo reply before a first offer; absent: off. */
  readonly pingCheck?: { readonly timeoutMs: number } | null;
  /** Matched in order; the first class whose vendorClass equals option 60 applies. */
  readonly classes: readonly ClientClassPlan[];
}

export interface NtpPlan {
  readonly enabled: boolean;
  readonly port: number;
  readonly servers: readonly string[];
  readonly stratum: number;
  /** Reference ID, up to 4 ASCII characters. */
  readonly refId: string;
  /** Per-client rate limit; null = off (the default). */
  readonly rateLimit: { readonly intervalSeconds: number; readonly burst: number } | null;
}

/** Record data as the DNS wire codec writes it; the plan never holds opaque types. */
export type DnsRecordData = Exclude<RecordData, { type: 'unknown' }>;

export interface DnsRecordPlan {
  /** Owner name, lower case, no trailing dot. */
  readonly name: string;
  readonly ttl: number;
  readonly data: DnsRecordData;
  /** Why the record exists ("ucupdates-r2 for search domain corp.example.com", "dns.records[2]"), for check and logs. */
  readonly why: string;
}

export interface DnsZonePlan {
  /** Lower case, no trailing dot. */
  readonly apex: string;
  /**
   * domain: the option 15/119 and SIP domains; reverse: the DHCP subnet's in-addr.arpa;
   * host: one name outside those (time.windows.com, a pool in another domain), served alone like dnsmasq's host-record.
   */
  readonly kind: 'domain' | 'reverse' | 'host';
  /** Every record whose owner is at or below the apex and in no deeper zone; SOA and NS at the apex first. */
  readonly records: readonly DnsRecordPlan[];
}

export interface DnsPlan {
  readonly enabled: boolean;
  readonly port: number;
  readonly servers: readonly string[];
  /** Zones we answer for authoritatively (aa=1); the longest matching apex owns a name. */
  readonly zones: readonly DnsZonePlan[];
  /** Option 12 host names of leased clients become <name>.<leaseDomain> (A) and a PTR, like dnsmasq. */
  readonly leaseDomain: string;
  readonly leaseTtl: number;
  /** Where names outside the zones go; empty = REFUSED (never an open resolver). */
  readonly forwarders: readonly { readonly address: string; readonly port: number }[];
  /**
   * Sources we forward for, as CIDRs (BCP 140, RFC 5358): loopback, every DHCP
   * scope's subnet and the appliance address. Others get REFUSED outside the zones.
   */
  readonly allowRecursion: readonly string[];
  /** Response rate limiting of UDP answers (src/dns/rrl.ts); absent in hand-made plans = off. */
  readonly rateLimit?: DnsRateLimitPlan;
}

export interface DnsRateLimitPlan {
  /** 0 = off. */
  readonly responsesPerSecond: number;
  readonly slip: number;
  readonly windowSeconds: number;
  readonly ipv4PrefixLength: number;
}

/** The local control endpoint (provlab status/leases, the status page): always 127.0.0.1. */
export interface ControlPlan {
  readonly enabled: boolean;
  /** TCP port on 127.0.0.1. */
  readonly port: number;
}

export interface Plan {
  readonly site: string;
  /** Absolute path of the site file this plan came from. */
  readonly sourceFile: string;
  /** The appliance's address on the VLAN: DHCP server id, DNS and NTP address. */
  readonly address: string;
  /**
   * The site's domains: option 15, then each option 119 name, as the bytes sent
   * decode (the first scope's options, then classes that override them, then
   * the other scopes'); lower case, no
   * trailing dot, no repeats. The phone looks up ucupdates-r2.<each>.
   */
  readonly domains: readonly string[];
  /** The VLAN interface; null means relay-only (no broadcast is ever answered). */
  readonly interface: string | null;
  /** Directory where leases are kept (absolute). */
  readonly statePath: string;
  readonly dhcp: DhcpPlan;
  readonly dns: DnsPlan;
  readonly ntp: NtpPlan;
  readonly control: ControlPlan;
  /** The Certificate Provisioning URL the phone will build from option 43: <2>://<3>:<4><5>. */
  readonly certProvUrl: string;
  /** Things that work but may not do what the admin expects; `provlab check` prints them. */
  readonly warnings: readonly string[];
}
