// `provlab demo`: a throwaway lab in two network namespaces — provlab on one
// side of a veth pair, an emulated Lync Phone Edition phone (`provlab probe`)
// on the other — runs the phone's boot sequence, prints the staging timeline,
// and removes everything again, also on Ctrl-C. Nothing touches the host's
// own interfaces: the subnet exists only inside the namespaces.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Logger } from '../../log.js';

const CLI = fileURLToPath(new URL('../main.js', import.meta.url));

interface Lab {
  server: string;
  phone: string;
  serverIf: string;
  phoneIf: string;
  dir: string;
  children: ChildProcess[];
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

function inNs(ns: string, args: string[], timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, CLI, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function cleanup(lab: Lab): void {
  for (const c of lab.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  for (const ns of [lab.server, lab.phone]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  rmSync(lab.dir, { recursive: true, force: true });
}

function demoSite(lab: Lab, prefix: string): string {
  return `site: provlab-demo
interface: ${lab.serverIf}
address: ${prefix}.1
dhcp:
  subnet: ${prefix}.0/24
  pool: ${prefix}.100-${prefix}.150
  router: ${prefix}.1
  lease: 1h
domains:
  primary: demo.example
  search: [demo.example, corp.demo.example]
lync:
  pool: lyncpool.demo.example
  web: lyncweb.demo.example
  address: ${prefix}.10
state: ${join(lab.dir, 'state')}
`;
}

async function waitReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`provlab did not become ready:\n${err.slice(-2000)}`)), timeoutMs);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      err += chunk;
      if (err.includes('provlab up: site')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`provlab exited (${code}):\n${err.slice(-2000)}`));
    });
  });
}

export async function runDemo(out: NodeJS.WritableStream): Promise<number> {
  if (process.platform !== 'linux' || (process.getuid && process.getuid() !== 0)) {
    out.write('provlab demo needs root on Linux: it creates network namespaces (ip netns) and a veth pair.\n');
    return 2;
  }
  const id = process.pid.toString(36);
  const lab: Lab = { server: `pldemo-srv-${id}`, phone: `pldemo-phone-${id}`, serverIf: `pld${id}s`.slice(0, 15), phoneIf: `pld${id}p`.slice(0, 15), dir: mkdtempSync(join(tmpdir(), 'provlab-demo-')), children: [] };
  const prefix = `10.254.${process.pid % 250}`;
  const onSignal = (): void => {
    out.write('\ninterrupted: removing the lab\n');
    cleanup(lab);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    out.write(`lab: namespaces ${lab.server} (provlab, ${prefix}.1 on ${lab.serverIf}) and ${lab.phone} (the phone, ${lab.phoneIf}), subnet ${prefix}.0/24 inside them only\n`);
    ip(['netns', 'add', lab.server]);
    ip(['netns', 'add', lab.phone]);
    ip(['link', 'add', lab.serverIf, 'type', 'veth', 'peer', 'name', lab.phoneIf]);
    ip(['link', 'set', lab.serverIf, 'netns', lab.server]);
    ip(['link', 'set', lab.phoneIf, 'netns', lab.phone]);
    ip(['-n', lab.server, 'addr', 'add', `${prefix}.1/24`, 'dev', lab.serverIf]);
    for (const ns of [lab.server, lab.phone]) ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', lab.server, 'link', 'set', lab.serverIf, 'up']);
    ip(['-n', lab.phone, 'link', 'set', lab.phoneIf, 'up']);

    const site = join(lab.dir, 'site.yaml');
    writeFileSync(site, demoSite(lab, prefix));
    const server = spawn('ip', ['netns', 'exec', lab.server, process.execPath, CLI, '--log-format', 'json', 'up', '--site', site, '--other-dhcp-wait', '300'], { stdio: ['ignore', 'ignore', 'pipe'] });
    lab.children.push(server);
    await waitReady(server, 15_000);
    out.write('provlab is up; the phone boots:\n\n');

    // 1. DISCOVER/REQUEST, as a phone with no address yet.
    const lease = inNs(lab.phone, ['probe', '--interface', lab.phoneIf, '--no-dns', '--no-ntp', '--json']);
    const leased = (JSON.parse(lease.stdout || '{}') as { address?: string }).address;
    if (!leased) throw new Error(`the phone got no lease:\n${lease.stdout}${lease.stderr}`);
    out.write(`1. lease: ${leased}\n`);
    // 2. The phone configures it, then sends its DHCPINFORM for 43/120 and asks DNS and NTP.
    ip(['-n', lab.phone, 'addr', 'add', `${leased}/24`, 'dev', lab.phoneIf]);
    const inform = inNs(lab.phone, ['probe', '--interface', lab.phoneIf, '--inform', leased]);
    out.write(`2. INFORM, DNS and NTP from ${leased}:\n${inform.stdout.replace(/^/gm, '   ')}\n`);

    // 3. What provlab saw, per phone.
    const status = inNs(lab.server, ['status', '--site', site]);
    out.write(`3. provlab status:\n${status.stdout}${status.stderr}`);
    return inform.status === 0 && status.status === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup(lab);
    out.write('lab removed\n');
  }
}

export function register(program: Command, _logger: () => Logger): void {
  program
    .command('demo')
    .description('build a throwaway namespace lab (provlab + an emulated phone), run a phone boot, print the staging timeline, clean up (needs root)')
    .action(async () => {
      try {
        process.exitCode = await runDemo(process.stdout);
      } catch (err) {
        process.stderr.write(`provlab demo: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
