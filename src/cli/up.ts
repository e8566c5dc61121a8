// `provlab up`: one appliance process from one plan. Start-up order matters:
// validate the site, look for another DHCP server on the interface, bind every
// socket (src/appliance/), then (optionally) give up root. This file keeps the
// process: arguments, pid file, signals, privileges; SIGHUP hands the new plan
// to Appliance.reload.
import { mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { loadSite, SiteFileError } from '../site/load.js';
import { compilePlan } from '../site/compile.js';
import type { Plan } from '../site/plan.js';
import { intToIp, ipToInt } from '../wire/ipv4.js';
import { findOtherDhcpServers } from '../dhcp/rogue-guard.js';
import { Appliance } from '../appliance/appliance.js';
import { checkStateDir, chownStateDir, openExisting, writeFreshSync } from '../dhcp/durable-file.js';

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

/**
 * Hands the state directory and its files to the unprivileged user (through
 * descriptors, never by name: see durable-file.ts), then drops root for good.
 */
function dropPrivileges(user: { uid: number; gid: number; name: string }, plan: Plan, logger: Logger): void {
  const { uid, gid, name: spec } = user;
  chownStateDir(plan.statePath, uid, gid, [PID_FILE]);
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
    const first = plan.dhcp.scopes[0]!;
    const router = first.baseOptions.get(3);
    const giaddr = router && router.length >= 4 ? Array.from(router.subarray(0, 4)).join('.') : intToIp(ipToInt(first.subnet.network) + 1);
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
  const plan = planOrExit(file);
  const started = performance.now();
  let appliance: Appliance | undefined;
  try {
    const user = options.user === undefined ? undefined : resolveUser(options.user);
    // Before anything is written there: root must not follow names someone else planted (CWE-59).
    checkStateDir(plan.statePath, user?.uid);
    await refuseOtherDhcpServers(plan, logger, options);
    appliance = await Appliance.start(plan, { logger });
    mkdirSync(plan.statePath, { recursive: true });
    // Information only (for `provlab reload`); the lease lock is the single-writer guard.
    writeFreshSync(join(plan.statePath, PID_FILE), `${process.pid}\n`);
    if (user) dropPrivileges(user, plan, logger);
  } catch (err) {
    // A daemon that cannot start (port taken, interface missing) stops the appliance: half a VLAN is worse than none.
    logger.fatal({ err: (err as Error).message }, `provlab could not start: ${(err as Error).message}`);
    await Promise.allSettled([appliance?.stop()]);
    process.exit(1);
  }
  const gc = gcMode();
  logger.info({ site: plan.site, readyMs: Math.round(performance.now() - started), gc }, `provlab up: site ${plan.site} ready`);
  if (gc !== 'single-threaded') {
    logger.info('V8 collects garbage on helper threads here: start node with --single-threaded-gc --max-semi-space-size=4 (as `npm start`, the provlab command and the Docker image do) to keep provlab on one core, leaving the others to the box');
  }
  logger.info(tryItHint(plan));
  handleSignals(file, appliance, logger);
}

/**
 * Before any socket is bound: another DHCP server answering on the interface
 * means two servers handing out addresses, so provlab refuses to start (exit 1)
 * unless --allow-other-dhcp says that is intended. Relay-only sites answer no
 * broadcast and skip it. A CLI matter, not the appliance's: it is asked once per
 * process, its answer is a process exit, and two CLI flags govern it; a reload
 * never asks again.
 */
async function refuseOtherDhcpServers(plan: Plan, logger: Logger, options: UpOptions): Promise<void> {
  if (!plan.dhcp.enabled || plan.interface === null) return;
  const others = await findOtherDhcpServers(plan.interface, plan.dhcp.port, options.otherDhcpWaitMs);
  if (others.length === 0) return;
  const names = others.map((o) => `${o.serverId} (offered ${o.offered}, from ${o.from})`).join(', ');
  if (!options.allowOtherDhcp) {
    logger.fatal({ interface: plan.interface, others }, `another DHCP server answers on ${plan.interface}: ${names}. Refusing to start; use --allow-other-dhcp if that is intended`);
    process.exit(1);
  }
  logger.warn({ interface: plan.interface, others }, `another DHCP server answers on ${plan.interface}: ${names} (--allow-other-dhcp given)`);
}

/** SIGHUP re-reads the site file into the appliance; SIGTERM/SIGINT stop it and remove the pid file. */
function handleSignals(file: string, appliance: Appliance, logger: Logger): void {
  // The pid file stays where it was written, whatever a reload says about the state directory.
  const pidFile = join(appliance.boundPlan.statePath, PID_FILE);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: flushing leases');
    appliance.stop().then(
      () => {
        rmSync(pidFile, { force: true });
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
      appliance.reload(next);
      logger.info({ site: next.site }, 'site file reloaded');
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
export async function reload(file: string): Promise<void> {
  const plan = planOrExit(file);
  const pidFile = join(plan.statePath, PID_FILE);
  let pid: number;
  try {
    // Not through a symlink, and (as root) only a file root or the service user wrote.
    const fh = await openExisting(pidFile, true);
    if (fh === undefined) throw new Error(`no ${pidFile}`);
    try {
      pid = Number((await fh.readFile({ encoding: 'utf8' })).trim());
    } finally {
      await fh.close();
    }
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${pidFile} holds no pid`);
  } catch (err) {
    process.stderr.write(`provlab is not running for this site (${(err as Error).message})\n`);
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
