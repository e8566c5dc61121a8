#!/usr/bin/env node
// provlab command line. Each command is a thin shell over the site loader,
// the plan and the daemons; output for people on stdout, logs on stderr.
import { Command, Option } from 'commander';
import { createLogger, type Logger } from '../log.js';
import { loadSite, SiteFileError } from '../site/load.js';
import { compilePlan } from '../site/compile.js';
import type { Plan } from '../site/plan.js';
import { findOptionDef } from '../wire/option-defs.js';
import { DhcpDaemon } from '../dhcp/daemon.js';
import { NtpDaemon } from '../ntp/daemon.js';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Loads and compiles, or prints file:line:col errors and exits 1. */
function planOrExit(file: string): Plan {
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

function optionName(code: number): string {
  return findOptionDef(code)?.name ?? `option-${code}`;
}

function summary(plan: Plan): string {
  const d = plan.dhcp;
  const lines = [
    `site ${plan.site} (${plan.sourceFile})`,
    `  appliance address ${plan.address}, interface ${plan.interface ?? '(none: relay-only, broadcasts are never answered)'}`,
    `  DHCP ${d.enabled ? `on port ${d.port}` : 'off'}: subnet ${d.subnet.network}/${d.subnet.prefix}, pool ${d.pools.map((p) => `${p.start}-${p.end}`).join(', ')}, lease ${d.leaseSeconds}s (T1 ${d.renewSeconds}s, T2 ${d.rebindSeconds}s)`,
    `  reservations: ${d.reservations.length === 0 ? 'none' : d.reservations.map((r) => `${r.mac}=${r.ip}${r.name ? ` (${r.name})` : ''}`).join(', ')}`,
    `  options for every client: ${[...d.baseOptions].map(([c, v]) => `${c} ${optionName(c)} (${v.length} bytes)`).join(', ')}`,
  ];
  for (const c of d.classes) {
    lines.push(`  class ${c.name} (option 60 = "${c.vendorClass}"): ${[...c.options].map(([code, v]) => `${code} ${optionName(code)} (${v.length} bytes)`).join(', ')}; always sent: ${c.alwaysSend.join(', ') || 'none'}`);
  }
  lines.push(`  Certificate Provisioning URL the phone will build: ${plan.certProvUrl}`);
  lines.push(`  DNS ${plan.dns.enabled ? `port ${plan.dns.port}` : 'off'}, NTP ${plan.ntp.enabled ? `port ${plan.ntp.port}, stratum ${plan.ntp.stratum}` : 'off'}`);
  lines.push(`  leases kept in ${plan.statePath}`);
  return lines.join('\n');
}

function encodeReport(plan: Plan): { classes: { name: string; vendorClass: string | null; options: { code: number; name: string; length: number; hex: string }[] }[]; certProvUrl: string } {
  const entry = (code: number, v: Uint8Array) => ({ code, name: optionName(code), length: v.length, hex: hex(v) });
  const classes = [{ name: 'default', vendorClass: null as string | null, options: [...plan.dhcp.baseOptions].map(([c, v]) => entry(c, v)) }];
  for (const c of plan.dhcp.classes) {
    const merged = new Map(plan.dhcp.baseOptions);
    for (const [code, v] of c.options) merged.set(code, v);
    classes.push({ name: c.name, vendorClass: c.vendorClass, options: [...merged].map(([code, v]) => entry(code, v)) });
  }
  return { classes, certProvUrl: plan.certProvUrl };
}

async function up(file: string, logger: Logger): Promise<void> {
  let plan = planOrExit(file);
  const daemons: { dhcp?: DhcpDaemon; ntp?: NtpDaemon } = {};
  try {
    if (plan.dhcp.enabled) daemons.dhcp = await DhcpDaemon.start(plan, { logger });
    if (plan.ntp.enabled) {
      const { refId, rateLimit } = plan.ntp;
      daemons.ntp = await NtpDaemon.start(plan, { logger, refId, ...(rateLimit ? { rateLimit } : {}) });
    }
  } catch (err) {
    // A daemon that cannot start (port taken, interface missing) stops the appliance: half a VLAN is worse than none.
    logger.fatal({ err: (err as Error).message }, 'provlab could not start');
    await Promise.allSettled([daemons.dhcp?.stop(), daemons.ntp?.stop()]);
    process.exit(1);
  }
  logger.info({ site: plan.site }, `provlab up: site ${plan.site} ready`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: flushing leases');
    void Promise.all([daemons.dhcp?.stop(), daemons.ntp?.stop()]).then(
      () => process.exit(0),
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
      daemons.ntp?.reload(next);
      plan = next;
      logger.info({ site: plan.site }, 'site file reloaded');
    } catch (err) {
      const message = err instanceof SiteFileError ? err.message : String(err);
      logger.error({ errors: message }, 'site file refused on reload; the previous plan keeps serving');
    }
  });
}

export function buildProgram(): Command {
  const program = new Command('provlab')
    .description('Provisioning VLAN in a box for Lync Phone Edition phones: DHCP (43/120/119), DNS and NTP from one YAML site file')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'))
    .addOption(new Option('--log-format <format>', 'log format (default: pretty at a terminal, JSON otherwise)').choices(['json', 'pretty']))
    .showHelpAfterError();

  const logger = (): Logger => {
    const o = program.opts<{ logLevel: 'info'; logFormat?: 'json' | 'pretty' }>();
    return createLogger({ level: o.logLevel, ...(o.logFormat ? { pretty: o.logFormat === 'pretty' } : {}) });
  };

  program
    .command('up')
    .description('run the daemons the site file enables (DHCP and NTP; DNS joins later) until SIGTERM/SIGINT; SIGHUP reloads the site file')
    .requiredOption('-s, --site <file>', 'site file (YAML)')
    .action(async (o: { site: string }) => up(o.site, logger()));

  program
    .command('check')
    .description('validate a site file and print a summary of the plan; exit 1 with file:line:col errors when it is wrong')
    .requiredOption('-s, --site <file>', 'site file (YAML)')
    .option('--json', 'print the summary as JSON')
    .action((o: { site: string; json?: boolean }) => {
      const plan = planOrExit(o.site);
      if (o.json) process.stdout.write(`${JSON.stringify({ ok: true, site: plan.site, ...encodeReport(plan) }, null, 2)}\n`);
      else process.stdout.write(`${summary(plan)}\nOK\n`);
    });

  program
    .command('encode')
    .description('print, per client class, each option value in hex (without code and length) and the Certificate Provisioning URL')
    .requiredOption('-s, --site <file>', 'site file (YAML)')
    .option('--json', 'machine-readable output')
    .action((o: { site: string; json?: boolean }) => {
      const report = encodeReport(planOrExit(o.site));
      if (o.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      for (const c of report.classes) {
        process.stdout.write(`class ${c.name}${c.vendorClass ? ` (option 60 "${c.vendorClass}")` : ' (every client)'}\n`);
        for (const opt of c.options) process.stdout.write(`  ${String(opt.code).padStart(3)} ${opt.name.padEnd(28)} ${String(opt.length).padStart(3)} bytes  ${opt.hex}\n`);
      }
      process.stdout.write(`Certificate Provisioning URL: ${report.certProvUrl}\n`);
    });

  return program;
}

await buildProgram().parseAsync(process.argv);
