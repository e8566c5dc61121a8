// Shared by the peer-server tests (kea, isc-dhcpd, dnsmasq): a site for a
// namespace lab, the option bytes written out by hand, and one dhclient run as
// an MS-UC-Client with a tshark capture on the client side, so that the
// bytes compared are those on the wire, as a third-party decoder reads them.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Lab } from '../helpers/netns.js';

export const WEB = 'lyncweb.schertz.name';
export const CERTPROV = '/CertProv/CertProvisioningService.svc';

const tlvHex = (code: number, s: string) => Buffer.concat([Buffer.from([code, s.length]), Buffer.from(s, 'ascii')]).toString('hex');

/** Option 43 sub-options as DHCPUtil writes them (lpe-facts): 1..5, ASCII, port as text, no NUL. */
export const SUBS_43: readonly string[] = [
  tlvHex(1, 'MS-UC-Client'),
  tlvHex(2, 'https'),
  tlvHex(3, WEB),
  tlvHex(4, '443'),
  tlvHex(5, CERTPROV),
];
/** Ascending, no 0xFF: the bytes provlab sends. */
export const EXPECTED_43 = SUBS_43.join('');
/** Option 120, encoding 0, one uncompressed RFC 1035 name (DHCPUtil's form). */
export const EXPECTED_120 = '00' + '086c796e63706f6f6c' + '077363686572747a' + '046e616d65' + '00';
/**
 * Option 119 for [schertz.name, corp.schertz.name] under RFC 3397 §2: the
 * first name in full at offset 0, the second as the label "corp" and a
 * pointer to offset 0 (c0 00).
 */
export const EXPECTED_119 = '07' + '7363686572747a' + '04' + '6e616d65' + '00' + '04' + '636f7270' + 'c000';

export function labSite(lab: Lab, state: string): string {
  return `site: export-e2e
interface: ${lab.serverIf}
address: ${lab.serverIp}
dhcp:
  subnet: ${lab.prefix}.0/24
  pool: ${lab.prefix}.100-${lab.prefix}.150
  router: ${lab.serverIp}
  lease: 1h
domains:
  primary: schertz.name
  search: [schertz.name, corp.schertz.name]
lync:
  pool: lyncpool.schertz.name
  web: ${WEB}
  address: ${lab.prefix}.10
state: ${state}
`;
}

/** Resolves when the child's stdout or stderr matches, rejects on exit or after timeoutMs. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const done = (err: Error | null) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(seen);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (pattern.test(seen)) done(null);
    };
    const onExit = (code: number | null) => done(new Error(`exited (${code}) before ${pattern}; output:\n${seen.slice(-3000)}`));
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}; output:\n${seen.slice(-3000)}`)), timeoutMs);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

export interface Received {
  /** Option code -> value bytes as hex, from tshark's decode of the ACK. */
  ack: Map<number, string>;
  /** What dhclient handed to its script (KEY=VALUE). */
  env: Record<string, string>;
}

/**
 * One dhclient run as an LPE phone (option 60 MS-UC-Client). `askFor43and120`
 * false leaves 43 and 120 out of option 55, to see whether the server sends
 * them anyway (provlab always does to this class).
 */
export async function requestAsPhone(lab: Lab, dir: string, tag: string, askFor43and120: boolean): Promise<Received> {
  const conf = join(dir, `dhclient-${tag}.conf`);
  const asked = ['subnet-mask', 'routers', 'domain-name', 'domain-name-servers', 'domain-search', 'ntp-servers', 'time-servers'];
  if (askFor43and120) asked.push('vendor-encapsulated-options', 'lync-sip-server');
  // No vendor option space: dhclient then hands option 43 to the script as raw bytes.
  writeFileSync(conf, `send vendor-class-identifier "MS-UC-Client";\noption lync-sip-server code 120 = string;\nrequest ${asked.join(', ')};\n`);
  const hook = join(dir, `hook-${tag}.sh`);
  // Never the stock dhclient-script: it rewrites the host's /etc/resolv.conf.
  writeFileSync(hook, `#!/bin/sh\nenv > "${dir}/dhclient-${tag}.$reason.env"\nexit 0\n`);
  chmodSync(hook, 0o755);
  const pcap = join(dir, `${tag}.pcap`);
  const capture = lab.spawn(lab.client, 'timeout', ['60', 'tshark', '-q', '-i', lab.clientIf, '-f', 'udp port 67 or udp port 68', '-w', pcap]);
  for (let i = 0; i < 50 && !existsSync(pcap); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 300));
  const pid = join(dir, `dhclient-${tag}.pid`);
  try {
    lab.exec(lab.client, 'timeout', ['30', 'dhclient', '-4', '-1', '-cf', conf, '-sf', hook, '-lf', join(dir, `dhclient-${tag}.leases`), '-pf', pid, lab.clientIf], 40_000);
  } finally {
    lab.exec(lab.client, 'sh', ['-c', `kill $(cat ${pid}) 2>/dev/null; true`]);
    await new Promise((r) => setTimeout(r, 300));
    capture.kill('SIGINT');
    await new Promise((r) => (capture.exitCode !== null ? r(null) : capture.once('exit', r)));
  }
  const lines = lab
    .exec(lab.client, 'tshark', ['-r', pcap, '-Y', 'dhcp.option.dhcp == 5', '-T', 'fields', '-E', 'separator=|', '-e', 'dhcp.option.type', '-e', 'dhcp.option.value'])
    .trim()
    .split('\n')
    .filter(Boolean);
  if (lines.length === 0) throw new Error('tshark saw no DHCPACK');
  const [types, values] = lines[0]!.split('|');
  // Pad (0) and end (255) carry no value: drop them so the two lists line up.
  const codes = types!.split(',').map(Number).filter((c) => c !== 0 && c !== 255);
  const vals = values!.split(',');
  if (codes.length !== vals.length) throw new Error(`tshark lists ${codes.length} options but ${vals.length} values: ${lines[0]}`);
  const ack = new Map(codes.map((c, i) => [c, vals[i]!.toLowerCase()]));
  const env: Record<string, string> = {};
  const envFile = join(dir, `dhclient-${tag}.BOUND.env`);
  if (existsSync(envFile)) {
    for (const line of readFileSync(envFile, 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return { ack, env };
}

/** dhclient prints string options as colon hex without leading zeros (1:c:4d…). */
export function dhclientHex(value: string | undefined): string {
  return (value ?? '').split(':').map((h) => h.padStart(2, '0')).join('');
}

/**
 * Stops a server started with lab.spawn(ns, 'timeout', [...]): SIGTERM reaches
 * `timeout`, which passes it on to the server and waits for it. (The lab's own
 * cleanup sends SIGKILL, which `timeout` cannot pass on: the server would
 * outlive the test.)
 */
export async function stopChild(child: ChildProcess, ms = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, ms))]);
}

/**
 * A system tool's absolute path, skipping node_modules/.bin: under `npm test`
 * and `npx tap` that comes first in PATH, and the `dhcp` dev dependency puts a
 * `dhcpd` of its own there (node-dhcp's CLI, which answers "Invalid argument").
 */
export function systemTool(name: string): string {
  const dirs = (process.env.PATH ?? '').split(':').filter((d) => d !== '' && !d.includes('node_modules'));
  for (const dir of [...dirs, '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    const path = `${dir}/${name}`;
    if (existsSync(path)) return path;
  }
  return name;
}
