// `provlab export` as a command: registered on a fresh commander program (the
// way main.ts does), run in-process. --help lists every target on one line;
// stdout, --output FILE and --output DIR; warnings on stderr.
import t from 'tap';
import { Command, CommanderError } from 'commander';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeSite } from '../helpers/provlab.js';
import { siteYaml } from '../helpers/sites.js';
import { register } from '../../src/cli/commands/export.js';
import { TARGETS } from '../../src/export/index.js';
import { silentLogger } from '../../src/log.js';

// A web FQDN over 23 characters makes option 43 longer than the 90 bytes IOS takes in one hex line (src/export/cisco-ios.ts).
const SITE = siteYaml({ site: 'cli-export', lync: { web: 'a-web-name-longer-than-23.schertz.name' } });

/** Runs `provlab ARGS` in-process; returns what went to stdout and stderr. */
async function run(args: string[]): Promise<{ out: string; err: string; help: string }> {
  const program = new Command('provlab');
  let help = '';
  program.exitOverride().configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
  register(program, () => silentLogger());
  let out = '';
  let err = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'provlab', ...args]);
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  return { out, err, help };
}

const dir = tempDir('provlab-export-cli-');
const site = writeSite(dir, SITE);

t.test('--help lists every target, one line each', async (t) => {
  const { help } = await run(['export', '--help']);
  t.match(help, /Usage: provlab export \[options\] <target>/);
  t.match(help, /--site <file>/);
  t.match(help, /--output <path>/);
  for (const target of TARGETS) {
    t.match(help, new RegExp(`^  ${target.name} +\\S.*$`, 'm'), `${target.name} has its line`);
  }
});

t.test('an unknown target is refused with the list of targets', async (t) => {
  const { help } = await run(['export', 'junos', '--site', site]);
  t.match(help, /'junos' is invalid for argument 'target'\. Allowed choices are windows, kea, isc-dhcpd, dnsmasq, cisco-ios, bind/);
});

t.test('stdout, with warnings on stderr', async (t) => {
  const { out, err } = await run(['export', 'cisco-ios', '--site', site]);
  t.match(out, /^ip dhcp pool PROVLAB-cli-export$/m);
  t.match(out, /^ option ext 43 hex /m, 'the long option 43 is split');
  t.match(err, /^warning: cisco-ios: class MS-UC-Client: option 43 is \d+ bytes/m);
});

t.test('--output FILE for a one-file target', async (t) => {
  const file = join(dir, 'dnsmasq.conf');
  const { out, err } = await run(['export', 'dnsmasq', '--site', site, '--output', file]);
  t.equal(out, '', 'nothing on stdout');
  t.match(err, `wrote ${file}`);
  t.match(readFileSync(file, 'utf8'), /^dhcp-option-force=vendor:MS-UC-Client,4,"443"$/m);
});

t.test('--output DIR for the targets with several files; stdout shows them one after the other', async (t) => {
  const out = join(dir, 'windows');
  await run(['export', 'windows', '--site', site, '--output', out]);
  t.same(readdirSync(out).sort(), ['provlab-dhcp-netsh.cmd', 'provlab-dhcp.ps1']);
  const bind = join(dir, 'bind');
  await run(['export', 'bind', '-s', site, '-o', bind]);
  t.ok(existsSync(join(bind, 'named.conf.provlab')));
  t.ok(existsSync(join(bind, 'db.schertz.name')));
  const { out: stdout } = await run(['export', 'bind', '--site', site]);
  t.match(stdout, /^\/\/ ==== named\.conf\.provlab ====$/m);
  t.match(stdout, /^; ==== db\.schertz\.name ====$/m);
});
