// Shared by the peer-server tests (kea, isc-dhcpd, dnsmasq): one dhclient run
// as an MS-UC-Client with a tshark capture on the client side, so that the
// bytes compared are those on the wire, as a third-party decoder reads them.
// The lab site and its expected bytes: test/helpers/sites.ts and lab-bytes.ts.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import { hex } from '../../src/export/common.js';
import type { Plan } from '../../src/site/plan.js';
import { EXPECTED_119, EXPECTED_120, EXPECTED_43 } from '../helpers/lab-bytes.js';
import { createLab, readEnvFile, type Lab } from '../helpers/netns.js';
import { tempDir, writeSite } from '../helpers/provlab.js';
import { labSite, planOfFile } from '../helpers/sites.js';

/** A namespace lab and the plan of provlab's lab site on it: what each peer test exports and serves. */
export function exportLab(t: Test, tag: string): { lab: Lab; dir: string; plan: Plan } {
  const lab = createLab(t);
  const dir = tempDir(`provlab-export-${tag}-`);
  const file = writeSite(dir, labSite(lab, { name: 'export-e2e', state: join(dir, 'state') }));
  return { lab, dir, plan: planOfFile(file) };
}

/** A phone that asked for 43 and 120 got provlab's bytes, as tshark and dhclient decode them. */
export function assertProvlabBytes(t: Test, plan: Plan, asked: Received): void {
  t.equal(asked.ack.get(43), EXPECTED_43, 'option 43 on the wire = provlab\'s bytes (ascending, no 0xFF)');
  t.equal(asked.ack.get(120), EXPECTED_120, 'option 120 on the wire = provlab\'s bytes');
  t.equal(asked.ack.get(119), EXPECTED_119, 'option 119 on the wire = provlab\'s compressed bytes');
  t.equal(asked.ack.get(15), hex(plan.dhcp.scopes[0]!.baseOptions.get(15)!), 'option 15');
  t.equal(asked.ack.get(42), hex(plan.dhcp.scopes[0]!.baseOptions.get(42)!), 'option 42');
  t.equal(asked.ack.get(4), hex(plan.dhcp.scopes[0]!.baseOptions.get(4)!), 'option 4');
  t.equal(dhclientHex(asked.env.new_vendor_encapsulated_options), EXPECTED_43, 'dhclient read the same option 43');
  t.equal(dhclientHex(asked.env.new_lync_sip_server), EXPECTED_120, 'dhclient read the same option 120');
  t.equal(asked.env.new_domain_search, 'schertz.name. corp.schertz.name.', 'dhclient decodes option 119');
}

/** A phone that left 43 and 120 out of option 55 still got them (provlab always sends them to MS-UC-Client). */
export function assertAlwaysSent(t: Test, notAsked: Received): void {
  t.equal(notAsked.ack.get(43), EXPECTED_43, 'always-send: option 43 although option 55 does not ask for it');
  t.equal(notAsked.ack.get(120), EXPECTED_120, 'always-send: option 120 although option 55 does not ask for it');
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
  const envFile = join(dir, `dhclient-${tag}.BOUND.env`);
  return { ack, env: existsSync(envFile) ? readEnvFile(envFile) : {} };
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
