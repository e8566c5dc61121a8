// The DHCP servers under test, each started inside the bench's server
// namespace with its state in a temp dir, and configured to send the same
// option bytes: the MS-UC-Client class of provlab's own plan (provlab
// `encode --json`), forced into every reply, so every server sends a reply of
// about the same size and the comparison is of servers, not of option lists.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { start, stop, alive, run, waitUntil, sleep } from './proc.mjs';
import { PROVLAB_NODE_FLAGS } from './node-flags.mjs';

export const VENDOR_CLASS_HEX = Buffer.from('MS-UC-Client', 'latin1').toString('hex');

/** Site file for provlab on the server veth: the whole /14 as a pool, so unique clients never run out. */
export function provlabSite({ lab, pool, state, dnsPort = 5300, ntpPort = 12300, iface = lab.serverIf }) {
  return `site: bench
interface: ${iface}
address: ${lab.serverIp}
dhcp:
  subnet: ${lab.subnet}
  pool: ${pool.start}-${pool.end}
  router: ${lab.clientIp}
  lease: 8h
domains:
  primary: example.local
lync:
  pool: lyncpool.example.local
  address: ${lab.serverIp}
listen: { dhcp: 67, dns: ${dnsPort}, ntp: ${ntpPort} }
state: ${state}
`;
}

/** The option bytes provlab's plan sends to an MS-UC-Client phone: [{code, hex}]. */
export async function lyncOptions(root, siteFile) {
  const r = await run(process.execPath, [join(root, 'dist/cli/main.js'), 'encode', '--json', '--site', siteFile], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`provlab encode failed: ${r.stderr}`);
  const report = JSON.parse(r.stdout);
  const cls = report.classes.find((c) => c.vendorClass === 'MS-UC-Client');
  return cls.options.map((o) => ({ code: o.code, hex: o.hex }));
}

const colonHex = (hex) => hex.match(/../g).join(':');

/** dnsmasq parses options it knows by type (addresses for 3, 6, 42, 4; text for 15); the rest go as raw hex. */
function dnsmasqValue(o) {
  const bytes = Buffer.from(o.hex, 'hex');
  if ([3, 4, 6, 42].includes(o.code)) {
    const ips = [];
    for (let i = 0; i + 4 <= bytes.length; i += 4) ips.push([...bytes.subarray(i, i + 4)].join('.'));
    return ips.join(',');
  }
  if (o.code === 15) return bytes.toString('latin1');
  return colonHex(o.hex);
}

async function udp67Bound(ns) {
  const r = await run('ss', ['-Hlun', 'sport = :67'], { ns, timeoutMs: 5000 });
  return r.stdout.trim().length > 0;
}

/**
 * provlab `up` as an admin runs it, fsync on. Ready = the pid file `up` writes
 * right before its "ready" line (that line is info level, and the load runs at warn).
 */
export async function startProvlab({ root, lab, dir, pool, logLevel = 'warn', cpuProf = false, cli = join(root, 'dist/cli/main.js'), daemonOnly = false, nodeFlags = PROVLAB_NODE_FLAGS }) {
  const state = join(dir, 'state');
  const site = join(dir, 'site.yaml');
  writeFileSync(site, provlabSite({ lab, pool, state }));
  const logFile = join(dir, 'provlab.log');
  const nodeArgs = [...nodeFlags, ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(dir, 'cpu-prof')] : [])];
  const args = daemonOnly
    ? [...nodeArgs, join(root, 'bench/lib/dhcp-only.mjs'), dirname(dirname(cli)), logLevel, site]
    : [...nodeArgs, cli, '--log-format', 'json', '--log-level', logLevel, 'up', '--site', site];
  // Logs go straight to a file (as under systemd): the bench process is not in their path.
  // stdout too: empty normally, V8's --trace-gc lines when PROVLAB_EXTRA_NODE_FLAGS asks for them.
  const fd = openSync(logFile, 'w');
  const t0 = performance.now();
  const child = start(process.execPath, args, { ns: lab.server, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  await waitUntil(() => existsSync(join(state, 'provlab.pid')) || !alive(child), 15_000, 'provlab to write its pid file');
  if (!alive(child)) throw new Error(`provlab exited at start: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
  const readyWallMs = performance.now() - t0;
  return {
    name: 'provlab',
    pid: child.pid,
    child,
    state,
    logFile,
    readyWallMs,
    command: `ip netns exec ${lab.server} node ${args.map((a) => a.replace(`${root}/`, '')).join(' ').replace(site, 'site.yaml')} 2>provlab.log`,
    config: readFileSync(site, 'utf8').replace(state, 'STATE_DIR'),
    stop: () => stop(child, 10_000),
  };
}

export async function startKea({ lab, dir, pool, options }) {
  const leases = join(dir, 'kea-leases4.csv');
  const std = options.filter((o) => o.code !== 43 && o.code !== 120 && o.code !== 1);
  const conf = {
    Dhcp4: {
      'interfaces-config': { interfaces: [lab.serverIf], 'dhcp-socket-type': 'udp' },
      'lease-database': { type: 'memfile', persist: true, name: leases, 'lfc-interval': 0 },
      'valid-lifetime': 28800,
      'option-def': [{ name: 'lync-sip-server', code: 120, type: 'binary', space: 'dhcp4' }],
      'client-classes': [
        {
          name: 'lync',
          test: "option[60].text == 'MS-UC-Client'",
          // Class-local definition: option 43 as the raw MS-UC-Client TLV bytes.
          'option-def': [{ name: 'vendor-encapsulated-options', code: 43, type: 'binary' }],
          'option-data': [
            { name: 'vendor-encapsulated-options', 'csv-format': false, data: options.find((o) => o.code === 43).hex, 'always-send': true },
            { name: 'lync-sip-server', 'csv-format': false, data: options.find((o) => o.code === 120).hex, 'always-send': true },
          ],
        },
      ],
      subnet4: [
        {
          subnet: lab.subnet,
          pools: [{ pool: `${pool.start} - ${pool.end}` }],
          'option-data': std.map((o) => ({ code: o.code, 'csv-format': false, data: o.hex, 'always-send': true })),
        },
      ],
      loggers: [{ name: 'kea-dhcp4', severity: 'WARN', output_options: [{ output: join(dir, 'kea.log') }] }],
    },
  };
  const file = join(dir, 'kea-dhcp4.json');
  writeFileSync(file, JSON.stringify(conf, null, 2));
  const env = { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir };
  const check = await run('kea-dhcp4', ['-t', file], { ns: lab.server, env, timeoutMs: 20_000 });
  if (check.code !== 0) throw new Error(`kea-dhcp4 -t refused the config: ${check.stdout}${check.stderr}`);
  const t0 = performance.now();
  const child = start('kea-dhcp4', ['-c', file], { ns: lab.server, env });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  await waitUntil(async () => !alive(child) || (await udp67Bound(lab.server)), 15_000, 'kea-dhcp4 to bind :67');
  if (!alive(child)) throw new Error(`kea-dhcp4 exited: ${out.slice(-2000)}`);
  return {
    name: 'kea',
    pid: child.pid,
    child,
    readyWallMs: performance.now() - t0,
    command: `ip netns exec ${lab.server} env KEA_PIDFILE_DIR=TMP KEA_LOCKFILE_DIR=TMP kea-dhcp4 -c kea-dhcp4.json`,
    config: JSON.stringify(conf, null, 2).replaceAll(dir, 'TMP'),
    stop: () => stop(child),
  };
}

export async function startDnsmasq({ lab, dir, pool, options }) {
  const mask = lab.mask;
  const args = [
    '-k',
    '--conf-file=/dev/null',
    '--port=0',
    '--user=root',
    `--interface=${lab.serverIf}`,
    '--bind-interfaces',
    '--no-ping',
    '--quiet-dhcp',
    `--log-facility=${join(dir, 'dnsmasq.log')}`,
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
    `--dhcp-range=${pool.start},${pool.end},${mask},8h`,
    // The default cap is 1000 leases; unique-client runs need far more.
    '--dhcp-lease-max=4000000',
    '--dhcp-vendorclass=set:lync,MS-UC-Client',
  ];
  // --dhcp-option-force: sent whatever the client's 55 asks, as provlab and Kea (always-send) do.
  for (const o of options) {
    if (o.code === 1) continue;
    const tag = o.code === 43 || o.code === 120 ? 'tag:lync,' : '';
    args.push(`--dhcp-option-force=${tag}${o.code},${dnsmasqValue(o)}`);
  }
  const t0 = performance.now();
  const child = start('dnsmasq', args, { ns: lab.server });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  await waitUntil(async () => !alive(child) || (await udp67Bound(lab.server)), 15_000, 'dnsmasq to bind :67');
  if (!alive(child)) throw new Error(`dnsmasq exited: ${out.slice(-2000)}`);
  return {
    name: 'dnsmasq',
    pid: child.pid,
    child,
    readyWallMs: performance.now() - t0,
    command: `ip netns exec ${lab.server} dnsmasq ${args.join(' ').replaceAll(dir, 'TMP')}`,
    stop: () => stop(child),
  };
}

/** chronyd as a reference NTP server on loopback in `ns`: never touches the clock (-x). */
export async function startChronyd({ ns, dir, port }) {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'chrony.conf');
  writeFileSync(conf, ['local stratum 8', 'allow', `port ${port}`, 'bindaddress 127.0.0.1', 'cmdport 0', `pidfile ${join(dir, 'chronyd.pid')}`, `driftfile ${join(dir, 'drift')}`, ''].join('\n'));
  const child = start('chronyd', ['-d', '-x', '-f', conf], { ns });
  child.stdout.resume();
  child.stderr.resume();
  await sleep(300);
  if (!alive(child)) throw new Error('chronyd exited at start');
  return { child, pid: child.pid, stop: () => stop(child) };
}
