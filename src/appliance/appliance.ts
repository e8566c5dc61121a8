// The appliance: the DHCP, DNS and NTP daemons, the staging timeline and the
// control endpoint, composed from one plan (Kea's ControlledDhcpv4Srv role).
// start binds every socket the plan enables, or none: a daemon that cannot
// start stops the ones already started. reload is the one place a new plan
// reaches every part. Process matters (site file, signals, pid file, root, the
// other-DHCP-server check) stay in the CLI, src/cli/up.ts.
import type { Logger } from '../log.js';
import type { Plan } from '../site/plan.js';
import { DhcpDaemon } from '../dhcp/daemon.js';
import type { LeaseRecord } from '../dhcp/lease-record.js';
import { DnsDaemon } from '../dns/daemon.js';
import { ZoneSerials } from '../dns/zone-serials.js';
import { NtpDaemon } from '../ntp/daemon.js';
import { startControl, type ControlHandle } from '../control/server.js';
import { createTimeline, timelineDhcpEvents, timelineDnsEvents, timelineNtpEvents, timelineSite, type StagingTimeline } from '../timeline/index.js';

export interface ApplianceOptions {
  logger: Logger;
  /** Tests that say so may turn the lease journal's fsync off. */
  fsync?: boolean;
}

interface Parts {
  dhcp?: DhcpDaemon;
  dns?: DnsDaemon;
  ntp?: NtpDaemon;
  control?: ControlHandle;
}

export class Appliance {
  private stopped = false;
  private current: Plan;
  private readonly log: Logger;
  /** Every daemon reports here; the control endpoint serves it. */
  readonly timeline: StagingTimeline;
  private parts: Parts = {};
  /** Addresses the DNS daemon was given an option 12 name for: only those need clearing. */
  private readonly named = new Set<string>();
  /** SOA serials that only go up, kept in the state directory (dns/zone-serials.ts). */
  private serials: ZoneSerials | null = null;

  private constructor(
    /** The plan the sockets were bound with and the state directory opened. */
    readonly boundPlan: Plan,
    options: ApplianceOptions,
  ) {
    this.current = boundPlan;
    this.log = options.logger;
    this.timeline = createTimeline(boundPlan);
  }

  /** Starts what the plan enables; throws (with everything started stopped again) if any part cannot start. */
  static async start(plan: Plan, options: ApplianceOptions): Promise<Appliance> {
    const appliance = new Appliance(plan, options);
    try {
      await appliance.startParts(options);
    } catch (err) {
      await appliance.stop();
      throw err;
    }
    return appliance;
  }

  /** The plan serving now (the last one reloaded). */
  get plan(): Plan {
    return this.current;
  }

  get dhcp(): DhcpDaemon | null {
    return this.parts.dhcp ?? null;
  }

  get dns(): DnsDaemon | null {
    return this.parts.dns ?? null;
  }

  get ntp(): NtpDaemon | null {
    return this.parts.ntp ?? null;
  }

  get control(): ControlHandle | null {
    return this.parts.control ?? null;
  }

  private async startParts(options: ApplianceOptions): Promise<void> {
    const { logger } = options;
    const plan = this.boundPlan;
    const timeline = this.timeline;
    const parts = this.parts;
    // DNS first, so that names of leases already in the journal are served from the first query.
    if (plan.dns.enabled) {
      this.serials = await ZoneSerials.open(plan.statePath, logger);
      parts.dns = await DnsDaemon.start(this.withSerials(plan), { logger, events: timelineDnsEvents(timeline) });
    }
    if (plan.dhcp.enabled) {
      const fsync = options.fsync === undefined ? {} : { fsync: options.fsync };
      const dhcp = await DhcpDaemon.start(plan, { logger, events: { ...timelineDhcpEvents(timeline), onLease: (r) => this.onLease(r) }, ...fsync });
      parts.dhcp = dhcp;
      // Leases from the journal, once: their option 12 names to DNS, their addresses to the
      // timeline (so DNS and NTP from phones leased before a restart are placed).
      for (const r of dhcp.leases.all()) if (r.state === 'bound') this.onLease(r);
    }
    if (plan.ntp.enabled) parts.ntp = await NtpDaemon.start(plan, { logger, events: timelineNtpEvents(timeline) });
    parts.control = await startControl(plan, { logger, timeline, leases: () => parts.dhcp?.leases.all() ?? [] });
  }

  /**
   * Swaps `next` into every part: pool, options and classes (DHCP), zones,
   * lease names and forwarders (DNS), stratum, refid and rate limit (NTP), the
   * site's name and domains (timeline, control). What needs a socket or the
   * state directory of the start is logged as needing a restart.
   */
  reload(next: Plan): void {
    if (this.stopped) return;
    this.warnRestartNeeded(next);
    this.dhcp?.reload(next);
    this.dns?.reload(this.withSerials(next));
    this.ntp?.reload(next);
    this.timeline.setSite(timelineSite(next));
    this.control?.reload(next);
    this.current = next;
  }

  /** Stops answering, flushes the lease journal, closes every socket. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const p = this.parts;
    await Promise.all([p.dhcp?.stop(), p.dns?.stop(), p.ntp?.stop(), p.control?.stop(), this.serials?.flush()]);
  }

  private withSerials(plan: Plan): Plan {
    return this.serials === null ? plan : { ...plan, dns: this.serials.apply(plan.dns) };
  }

  /** Option 12 host names become <name>.<primary domain> while the lease is bound, as with dnsmasq. */
  private onLease(r: LeaseRecord): void {
    const name = r.state === 'bound' ? (r.hostname ?? null) : null;
    // Most phones send no option 12, and a DNS update per lease, for nothing, is a
    // cost every lease pays when thousands of phones are staged at once.
    if (name !== null) {
      this.named.add(r.ip);
      this.dns?.setLeaseName(r.ip, name);
    } else if (this.named.size > 0 && this.named.delete(r.ip)) {
      this.dns?.setLeaseName(r.ip, null);
    }
    this.timeline.onLease(r);
  }

  /** The daemons warn about their own sockets; these are the appliance's. */
  private warnRestartNeeded(next: Plan): void {
    const bound = this.boundPlan;
    for (const part of ['dhcp', 'dns', 'ntp'] as const) {
      if (next[part].enabled !== bound[part].enabled) {
        this.log.warn({ [part]: next[part].enabled }, `${part}.enabled changed: restart provlab for that to take effect`);
      }
    }
    if (next.statePath !== bound.statePath) {
      this.log.warn({ stateDir: bound.statePath, wanted: next.statePath }, 'state directory changed: restart provlab for that to take effect');
    }
  }
}
