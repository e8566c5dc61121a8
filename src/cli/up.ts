// `provlab up`: one appliance process from one plan. Start-up order matters:
// validate the site, look for another DHCP server on the interface, bind every
// socket, then (optionally) give up root. Reload swaps the plan in place.
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { loadSite, SiteFileError } from '../site/load.js';
import { compilePlan } from '../site/compile.js';
import type { Plan } from '../site/plan.js';
import { intToIp, ipToInt } from '../wire/ipv4.js';
import { DhcpDaemon } from '../dhcp/daemon.js';
import { findOtherDhcpServers } from '../dhcp/rogue-guard.js';
import { NtpDaemon } from '../ntp/daemon.js';
import { DnsDaemon } from '../dns/daemon.js';
import type { LeaseRecord } from '../dhcp/lease-record.js';
import { createTimeline, timelineDhcpEvents, timelineNtpEvents } from '../timeline/index.js';
import { startControl, type ControlHandle } from '../control/server.js';

export interface UpOptions {
  /** Serve DHCP even when another server answers on the interface. */
  allowOtherDhcp: boolean;
  /** How long to listen for other servers' OFFERs, ms. */
  otherDhcpWaitMs: number;
  /** Drop root to this user (and its group, or USER:GROUP) once every socket is bound. */
  user?: string;
}

export const PID_FILE = 'provlab.pid';

/** Loads and compiles, or prints file:line:col errors and exits 1. */
export function planOrExit(file: string): Plan {
  try {
    return compilePlan(loadSite(file), file);
  } catch (err) {
    if (err instanceof SiteFileError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

interface Daemons {
  dhcp?: DhcpDaemon;
  dns?: DnsDaemon;
  ntp?: NtpDaemon;
  control?: ControlHandle;
}

async function stopAll(d: Daemons): Promise<void> {
  await Promise.all([d.dhcp?.stop(), d.dns?.stop(), d.ntp?.stop(), d.control?.stop()]);
}

function resolveUser(spec: string): { uid: number; gid: number; name: string } {
  const [user, group] = spec.split(':');
  const id = (args: string[]): number => Number(execFileSync('id', args, { encoding: 'utf8' }).trim());
  try {
    const uid = id(['-u', user!]);
    const gid = group ? Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]) : id(['-g', user!]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('bad id');
    return { uid, gid, name: spec };
  } catch {
    throw new Error(`--user ${spec}: no such user or group`);
  }
}

/** Hands the state directory to the unprivileged user, then drops root for good. */
function dropPrivileges(spec: string, plan: Plan, logger: Logger): void {
  const { uid, gid } = resolveUser(spec);
  const chownTree = (dir: string): void => {
    chownSync(dir, uid, gid);
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      if (f.isDirectory()) chownTree(join(dir, f.name));
      else chownSync(join(dir, f.name), uid, gid);
    }
  };
  if (existsSync(plan.statePath)) chownTree(plan.statePath);
  process.setgroups?.([gid]);
  process.setgid?.(gid);
  process.setuid?.(uid);
  logger.info({ uid, gid }, `running as ${spec} (uid ${uid}); ARP injection now falls back to broadcast replies`);
}

/** What to type next, so a newcomer can see the appliance answer. */
function tryItHint(plan: Plan): string {
  const lines = ['try it:'];
  const domain = plan.dns.zones.find((z) => z.kind === 'domain')?.apex;
  if (plan.dhcp.enabled && plan.interface === null) {
    // A relay's giaddr must lie in the subnet: the router (option 3) if set, else the subnet's first address.
    const router = plan.dhcp.baseOptions.get(3);
    const giaddr = router && router.length >= 4 ? Array.from(router.subarray(0, 4)).join('.') : intToIp(ipToInt(plan.dhcp.subnet.network) + 1);
    lines.push(`  provlab probe --relay ${giaddr} --server ${plan.address} --port ${plan.dhcp.port} --dns-port ${plan.dns.port} --ntp-port ${plan.ntp.port}`);
  } else if (plan.dhcp.enabled) {
    lines.push(`  on the VLAN: provlab probe --interface <the phone side's interface>`);
  }
  if (plan.dns.enabled && domain) lines.push(`  dig @${plan.address} -p ${plan.dns.port} ucupdates-r2.${domain}`);
  if (plan.ntp.enabled) lines.push(`  chronyd -Q -f /dev/null "server ${plan.address} port ${plan.ntp.port} iburst maxsamples 4"`);
  if (plan.control.enabled) lines.push(`  provlab status --site ${plan.sourceFile}   (or http://127.0.0.1:${plan.control.port}/)`);
  return lines.join('\n');
}

export async function up(file: string, logger: Logger, options: UpOptions): Promise<void> {
  let plan = planOrExit(file);
  const started = performance.now();
  const daemons: Daemons = {};
  try {
    if (plan.dhcp.enabled && plan.interface !== null) {
      const others = await findOtherDhcpServers(plan.interface, plan.dhcp.port, options.otherDhcpWaitMs);
      if (others.length > 0) {
        const names = others.map((o) => `${o.serverId} (offered ${o.offered}, from ${o.from})`).join(', ');
        if (!options.allowOtherDhcp) {
          logger.fatal({ interface: plan.interface, others }, `another DHCP server answers on ${plan.interface}: ${names}. Refusing to start; use --allow-other-dhcp if that is intended`);
          process.exit(1);
        }
        logger.warn({ interface: plan.interface, others }, `another DHCP server answers on ${plan.interface}: ${names} (--allow-other-dhcp given)`);
      }
    }
    // Every daemon reports to the staging timeline; the control endpoint serves it.
    const timeline = createTimeline(plan);
    // DNS first, so that names of leases already in the journal are served from the first query.
    if (plan.dns.enabled) daemons.dns = await DnsDaemon.start(plan, { logger, events: { onQuery: (e) => timeline.onDnsQuery(e) } });
    // Option 12 host names become <name>.<primary domain> while the lease is bound, as with dnsmasq.
    // Addresses the DNS daemon was given a name for: only those need clearing. Most
    // phones send no option 12, and a DNS update per lease, for nothing, is a cost
    // every lease pays when thousands of phones are staged at once.
    const named = new Set<string>();
    const onLease = (r: LeaseRecord): void => {
      const name = r.state === 'bound' ? (r.hostname ?? null) : null;
      if (name !== null) {
        named.add(r.ip);
        daemons.dns?.setLeaseName(r.ip, name);
      } else if (named.size > 0 && named.delete(r.ip)) {
        daemons.dns?.setLeaseName(r.ip, null);
      }
      timeline.onLease(r);
    };
    if (plan.dhcp.enabled) {
      daemons.dhcp = await DhcpDaemon.start(plan, { logger, events: { ...timelineDhcpEvents(timeline), onLease } });
      for (const r of daemons.dhcp.leases.all()) if (r.state === 'bound') onLease(r);
    }
    if (plan.ntp.enabled) {
      const { refId, rateLimit } = plan.ntp;
      daemons.ntp = await NtpDaemon.start(plan, { logger, refId, ...(rateLimit ? { rateLimit } : {}), events: timelineNtpEvents(timeline) });
    }
    daemons.control = await startControl(plan, { logger, timeline, leases: () => daemons.dhcp?.leases.all() ?? [] });
    mkdirSync(plan.statePath, { recursive: true });
    writeFileSync(join(plan.statePath, PID_FILE), `${process.pid}\n`);
    if (options.user) dropPrivileges(options.user, plan, logger);
  } catch (err) {
    // A daemon that cannot start (port taken, interface missing) stops the appliance: half a VLAN is worse than none.
    logger.fatal({ err: (err as Error).message }, `provlab could not start: ${(err as Error).message}`);
    await Promise.allSettled([stopAll(daemons)]);
    process.exit(1);
  }
  const gc = gcMode();
  logger.info({ site: plan.site, readyMs: Math.round(performance.now() - started), gc }, `provlab up: site ${plan.site} ready`);
  if (gc !== 'single-threaded') {
    logger.info('V8 collects garbage on helper threads here: start node with --single-threaded-gc --max-semi-space-size=4 (as `npm start`, the provlab command and the Docker image do) to keep provlab on one core, leaving the others to the box');
  }
  logger.info(tryItHint(plan));

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: flushing leases');
    stopAll(daemons).then(
      () => {
        rmSync(join(plan.statePath, PID_FILE), { force: true });
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    try {
      const next = compilePlan(loadSite(file), file);
      daemons.dhcp?.reload(next);
      daemons.dns?.reload(next);
      daemons.ntp?.reload(next);
      daemons.control?.reload(next);
      plan = next;
      logger.info({ site: plan.site }, 'site file reloaded');
    } catch (err) {
      const message = err instanceof SiteFileError ? err.message : String(err);
      logger.error({ errors: message }, 'site file refused on reload; the previous plan keeps serving');
    }
  });
}

/**
 * `provlab reload`: validate the file here (so the admin sees line:col at once),
 * then SIGHUP the running appliance found through its pid file.
 */
export function reload(file: string): void {
  const plan = planOrExit(file);
  const pidFile = join(plan.statePath, PID_FILE);
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    process.stderr.write(`provlab is not running for this site (no ${pidFile})\n`);
    process.exit(1);
  }
  try {
    process.kill(pid, 'SIGHUP');
  } catch {
    process.stderr.write(`provlab (pid ${pid} from ${pidFile}) is not running\n`);
    process.exit(1);
  }
  process.stdout.write(`site file valid; reload signalled to provlab pid ${pid}\n`);
}

/**
 * provlab is meant to run with V8's --single-threaded-gc (and a 4 MiB young
 * generation, so that each collection on the main thread is short): on a
 * small box GC helper threads took CPU from everything else (README,
 * "Runtime: one core").
 */
function gcMode(): 'single-threaded' | 'helper-threads' {
  return process.execArgv.includes('--single-threaded-gc') ? 'single-threaded' : 'helper-threads';
}
