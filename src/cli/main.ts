#!/usr/bin/env -S node --single-threaded-gc --max-semi-space-size=4
// provlab command line. Each command is a thin shell over the site loader,
// the plan and the daemons; output for people on stdout, logs on stderr.
import { Command, Option } from 'commander';
import { createLogger, type Logger } from '../log.js';
import type { Plan } from '../site/plan.js';
import { hex } from '../wire/bytes.js';
import { optionName } from '../wire/option-defs.js';
import { phoneFindings } from '../lpe/site.js';
import { planOrExit, reload, up } from './up.js';
import { register as registerStatus } from './commands/status.js';
import { register as registerLeases } from './commands/leases.js';
import { register as registerCert } from './commands/cert.js';
import { register as registerProbe } from './commands/probe.js';
import { register as registerDecode } from './commands/decode.js';
import { register as registerExplain } from './commands/explain.js';
import { register as registerExport } from './commands/export.js';
import { register as registerDemo } from './commands/demo.js';


function summary(plan: Plan): string {
  const d = plan.dhcp;
  const lines = [`site ${plan.site} (${plan.sourceFile})`, `  appliance address ${plan.address}, interface ${plan.interface ?? '(none: relay-only, broadcasts are never answered)'}`];
  d.scopes.forEach((s, i) => {
    // The first scope reads as it always did; the others (relayed subnets) are named.
    const head = i === 0 ? `  DHCP ${d.enabled ? `on port ${d.port}` : 'off'}: subnet` : `  scope ${s.name}: subnet`;
    const indent = i === 0 ? '  ' : '    ';
    lines.push(
      `${head} ${s.subnet.network}/${s.subnet.prefix}, pool ${s.pools.map((p) => `${p.start}-${p.end}`).join(', ')}, lease ${s.leaseSeconds}s (T1 ${s.renewSeconds}s, T2 ${s.rebindSeconds}s)`,
      `${indent}reservations: ${s.reservations.length === 0 ? 'none' : s.reservations.map((r) => `${r.mac}=${r.ip}${r.name ? ` (${r.name})` : ''}`).join(', ')}`,
      `${indent}options for every client${i === 0 ? '' : ' of the scope'}: ${[...s.baseOptions].map(([c, v]) => `${c} ${optionName(c)} (${v.length} bytes)`).join(', ')}`,
    );
  });
  for (const c of d.classes) {
    lines.push(`  class ${c.name} (option 60 ${c.match === 'exact' ? '= ' : ''}${matchWords(c)}): ${[...c.options].map(([code, v]) => `${code} ${optionName(code)} (${v.length} bytes)`).join(', ')}; always sent: ${c.alwaysSend.join(', ') || 'none'}`);
  }
  lines.push(`  Certificate Provisioning URL the phone will build: ${plan.certProvUrl}`);
  lines.push(`  DNS ${plan.dns.enabled ? `port ${plan.dns.port}` : 'off'}, NTP ${plan.ntp.enabled ? `port ${plan.ntp.port}, stratum ${plan.ntp.stratum}` : 'off'}`);
  lines.push(`  leases kept in ${plan.statePath}`);
  for (const w of plan.warnings) lines.push(`  warning: ${w}`);
  for (const { option, finding } of phoneFindings(plan)) lines.push(`  ${finding.severity === 'error' ? 'a phone would fail' : 'warning'}: option ${option} [${finding.code}]: ${finding.message}`);
  return lines.join('\n');
}

/** How a class's option 60 test reads in the check and encode output. */
function matchWords(c: { vendorClass: string; match: string }): string {
  return c.match === 'exact' ? `"${c.vendorClass}"` : c.match === 'prefix' ? `starts with "${c.vendorClass}"` : `contains "${c.vendorClass}"`;
}

function encodeReport(plan: Plan): { classes: { name: string; vendorClass: string | null; match: string | null; options: { code: number; name: string; length: number; hex: string }[] }[]; certProvUrl: string } {
  const entry = (code: number, v: Uint8Array) => ({ code, name: optionName(code), length: v.length, hex: hex(v) });
  const base = plan.dhcp.scopes[0]!.baseOptions;
  const classes = [{ name: 'default', vendorClass: null as string | null, match: null as string | null, options: [...base].map(([c, v]) => entry(c, v)) }];
  // The other scopes' options for a client of no class; a class overrides them as it does the first's.
  for (const s of plan.dhcp.scopes.slice(1)) classes.push({ name: `scope ${s.name}`, vendorClass: null, match: null, options: [...s.baseOptions].map(([c, v]) => entry(c, v)) });
  for (const c of plan.dhcp.classes) {
    const merged = new Map(base);
    for (const [code, v] of c.options) merged.set(code, v);
    classes.push({ name: c.name, vendorClass: c.vendorClass, match: c.match, options: [...merged].map(([code, v]) => entry(code, v)) });
  }
  return { classes, certProvUrl: plan.certProvUrl };
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
    .description('run the daemons the site file enables (DHCP, DNS, NTP) until SIGTERM/SIGINT; SIGHUP reloads the site file')
    .requiredOption('-s, --site <file>', 'site file (YAML)')
    .option('--allow-other-dhcp', 'serve DHCP even if another DHCP server answers on the interface')
    .option('--other-dhcp-wait <ms>', 'how long to listen for another DHCP server before serving', (v) => Number(v), 1000)
    .option('--user <user[:group]>', 'drop root to this user once every socket is bound')
    .action(async (o: { site: string; allowOtherDhcp?: boolean; otherDhcpWait: number; user?: string }) =>
      up(o.site, logger(), { allowOtherDhcp: Boolean(o.allowOtherDhcp), otherDhcpWaitMs: o.otherDhcpWait, ...(o.user ? { user: o.user } : {}) }),
    );

  program
    .command('reload')
    .description('validate the site file, then tell the running provlab of that site to reload it (SIGHUP)')
    .requiredOption('-s, --site <file>', 'site file (YAML)')
    .action((o: { site: string }) => reload(o.site));

  program
    .command('check')
    .description('validate a site file and print a summary of the plan; exit 1 with file:line:col errors when it is wrong')
    .requiredOption('-s, --site <file>', 'site file (YAML)')
    .option('--json', 'print the summary as JSON')
    .action((o: { site: string; json?: boolean }) => {
      const plan = planOrExit(o.site);
      if (o.json) process.stdout.write(`${JSON.stringify({ ok: true, site: plan.site, ...encodeReport(plan), phoneFindings: phoneFindings(plan).map(({ option, finding }) => ({ option, ...finding })) }, null, 2)}\n`);
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
        process.stdout.write(`class ${c.name}${c.vendorClass !== null && c.match !== null ? ` (option 60 ${matchWords({ vendorClass: c.vendorClass, match: c.match })})` : ' (every client)'}\n`);
        for (const opt of c.options) process.stdout.write(`  ${String(opt.code).padStart(3)} ${opt.name.padEnd(28)} ${String(opt.length).padStart(3)} bytes  ${opt.hex}\n`);
      }
      process.stdout.write(`Certificate Provisioning URL: ${report.certProvUrl}\n`);
    });

  registerStatus(program, logger);
  registerLeases(program, logger);
  registerCert(program, logger);
  registerProbe(program, logger);
  registerDecode(program, logger);
  registerExplain(program, logger);
  registerExport(program, logger);
  registerDemo(program, logger);
  return program;
}

await buildProgram().parseAsync(process.argv);
