#!/usr/bin/env node
// `npm run bench`: provlab and its peers in the SAME run on this box, so a
// noisy shared machine still gives a fair ratio. Needs root (network
// namespaces), the compiled dist/, and perfdhcp, kea-dhcp4, dnsmasq, chronyd.
//
//   node bench/run.mjs [options]    (--help lists them)
//
// Traffic goes only to namespaces made here (a veth pair with 10.100.0.0/14
// inside, and a loopback-only namespace for NTP and start-up) and every load is
// bounded: perfdhcp always with -r and -p under `timeout`, the NTP generator by
// count and seconds. Every child and namespace is removed on exit, error,
// Ctrl-C or SIGTERM, and at the global deadline.
import { execFileSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildRcvbufShim, displayCommand, grantedRcvbuf, perfdhcpArgs, perfdhcpCpuSeconds, parsePerfdhcp } from './lib/perfdhcp.mjs';
import * as P from './lib/proc.mjs';
import { VENDOR_CLASS_HEX, lyncOptions, provlabSite, startChronyd, startDnsmasq, startKea, startProvlab } from './lib/servers.mjs';
import { mib, writeReport } from './lib/report.mjs';
import { optionsOrExit } from './lib/args.mjs';
import { PROVLAB_NODE_FLAGS } from './lib/node-flags.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const USAGE = `
node bench/run.mjs [options]   (npm run bench -- [options]; needs root)
  --seconds N            length of each DHCP run (10; 5 with --quick)
  --rates A,B,...        DHCP exchanges/s offered (1000,4000,8000; 8000 with --quick)
  --models new,phones    perfdhcp client models (both; new with --quick)
  --servers LIST         provlab,kea,dnsmasq (and provlab-daemon: the DHCP daemon alone)
  --skip LIST            leave out any of dhcp,kill9,ntp,startup,dns,dns-flood,dhcp-flood
  --repeat N             rounds of the DHCP rows, interleaved (1)
  --client-queue BYTES   perfdhcp receive queue for the extra top-rate rows (4194304; 0: no such rows)
  --no-info              leave out the rows with a log line per exchange
  --pin                  DHCP rows with a core each: the server on CPU 0, perfdhcp on CPU 1 (taskset)
  --compare DIST_DIR     also run another provlab build (its dist/), e.g. the code before a change
  --cpu-prof             write provlab CPU profiles
  --out FILE             report to rewrite (BENCHMARKS.md)
  --report-only RESULTS  rewrite the report from a saved results file, measure nothing
  --no-write             leave the report alone (the results JSON is still saved)
  --no-wait-quiet        do not wait for an idle box before each run
  --keep                 keep the temporary directories (each DHCP run's has perfdhcp.out, its whole report)
  --quick                a short run: 8000/s, new clients, 5 s
  --max-minutes N        give up after this long (25)
  -h, --help             this text`;
const O = optionsOrExit(argv, {
  quick: { type: 'boolean' },
  seconds: { type: 'number', min: 1, max: 600 },
  rates: { type: 'number', list: true, min: 1, max: 100000 },
  models: { type: 'string', list: true, choices: ['new', 'phones'] },
  servers: { type: 'string', list: true, choices: ['provlab', 'provlab-daemon', 'kea', 'dnsmasq'], default: ['provlab', 'kea', 'dnsmasq'] },
  skip: { type: 'string', list: true, choices: ['dhcp', 'kill9', 'ntp', 'startup', 'dns', 'dns-flood', 'dhcp-flood'], default: [] },
  'cpu-prof': { type: 'boolean' },
  'no-write': { type: 'boolean' },
  out: { type: 'string', default: join(ROOT, 'BENCHMARKS.md') },
  'max-minutes': { type: 'number', min: 1, max: 600, default: 25 },
  repeat: { type: 'number', min: 1, max: 100, default: 1 },
  'no-wait-quiet': { type: 'boolean' },
  'no-info': { type: 'boolean' },
  compare: { type: 'string' },
  'client-queue': { type: 'number', min: 0, max: 1 << 30, default: 4 * 1024 * 1024 },
  'report-only': { type: 'string' },
  keep: { type: 'boolean' },
  pin: { type: 'boolean' },
}, USAGE);
const quick = O.quick;
const SECONDS = O.seconds ?? (quick ? 5 : 10);
const RATES = O.rates ?? (quick ? [8000] : [1000, 4000, 8000]);
const MODELS = O.models ?? (quick ? ['new'] : ['new', 'phones']);
const SERVERS = O.servers;
const SKIP = new Set(O.skip);
const CPU_PROF = O['cpu-prof'];
const WRITE = !O['no-write'];
const OUT = resolve(O.out);
const MAX_MINUTES = O['max-minutes'];
const REPEAT = O.repeat;
const WAIT_QUIET = !O['no-wait-quiet'];
// Leave out the rows with a log line per exchange (quicker A/B runs).
const NO_INFO = O['no-info'];
// Another provlab build (its dist/ directory) run alongside, e.g. the code before an optimisation.
const COMPARE_DIST = O.compare;
// The compare build's Node flags instead of npm start's (an A/B of flags: --compare dist with this set).
const COMPARE_NODE_FLAGS = process.env.PROVLAB_COMPARE_NODE_FLAGS?.split(' ').filter(Boolean);
// At the top rate, provlab `up` and Kea run once more with perfdhcp's receive queue at this many
// bytes (bench/lib/perfdhcp-rcvbuf.c), so drops in the load generator's own queue are told apart
// from the server's. 0: leave those rows out.
const CLIENT_QUEUE = O['client-queue'];
// The DHCP rows' server (all its threads) on CPU 0 and perfdhcp on CPU 1, instead of both sharing the two.
const PIN = O.pin;
if (PIN && cpus().length < 2) {
  console.error('--pin needs two CPUs: the server on CPU 0, perfdhcp on CPU 1');
  process.exit(2);
}

// Client models for perfdhcp's -R: every exchange a phone never seen before
// (a batch being staged), or 200 phones coming back again and again (the
// lab-notes figures were taken that way).
const CLIENTS = { new: 4294967295, phones: 200 };

const log = (s) => process.stdout.write(`${s}\n`);

function preflight() {
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (it creates network namespaces)');
  const missing = ['ip', 'ss', 'perfdhcp', 'kea-dhcp4', 'dnsmasq', 'chronyd', 'timeout'].filter((t) => {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) throw new Error(`missing tools: ${missing.join(', ')} (Debian: kea-admin for perfdhcp, kea-dhcp4-server, dnsmasq-base, chrony)`);
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npx tsc -p tsconfig.json` (npm run bench does)');
}

function sh(cmd) {
  try {
    return execFileSync('sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    return `(${cmd}: ${String(e.stderr || e.message).trim().split('\n')[0]})`;
  }
}

function machine() {
  return {
    date: new Date().toISOString(),
    nproc: sh('nproc'),
    cpu: cpus()[0]?.model ?? '?',
    free: sh('free -h'),
    kernel: sh('uname -r'),
    node: process.version,
    perfdhcp: sh('perfdhcp -v 2>&1 | head -1'),
    kea: sh('kea-dhcp4 -v'),
    dnsmasq: sh('dnsmasq -v | head -1'),
    chronyd: sh('chronyd -v'),
    dnsperf: sh('dnsperf -h 2>&1 | grep -i version | head -1'),
    provlab: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    loadavg: sh('cat /proc/loadavg'),
  };
}

async function countBound(stateDir) {
  const { LeaseJournal } = await import(pathToFileURL(join(ROOT, 'dist/dhcp/lease-journal.js')).href);
  const load = await LeaseJournal.open(stateDir, { fsync: false });
  try {
    let bound = 0;
    for (const r of load.leases.values()) if (r.state === 'bound') bound++;
    return { bound, records: load.leases.size, warnings: load.warnings };
  } finally {
    await load.journal.close();
  }
}

// ---------------------------------------------------------------------------

async function dhcpRuns(base, results) {
  const lab = P.createLab('d', { serverIp: '10.100.0.1', clientIp: '10.100.0.2', prefix: 14 });
  lab.subnet = '10.100.0.0/14';
  lab.mask = '255.252.0.0';
  const pool = { start: '10.100.1.0', end: '10.103.255.254' };
  const optDir = mkdtempSync(join(base, 'options-'));
  const siteForOptions = join(optDir, 'site.yaml');
  writeFileSync(siteForOptions, provlabSite({ lab, pool, state: join(optDir, 'state') }));
  const options = await lyncOptions(ROOT, siteForOptions);
  results.dhcp = { lab: { subnet: lab.subnet, server: lab.serverIp, relay: lab.clientIp, pool }, options, runs: [], probes: {}, servers: {} };
  const maxRate = Math.max(...RATES);

  const variants = [];
  // provlab-daemon: the DHCP daemon alone (bench/lib/dhcp-only.mjs), to tell its cost from the rest of `up`.
  const compareCli = COMPARE_DIST ? join(resolve(COMPARE_DIST), 'cli/main.js') : undefined;
  for (const s of SERVERS) {
    const daemonOnly = s === 'provlab-daemon';
    const server = daemonOnly ? 'provlab' : s;
    variants.push({ server, logLevel: 'warn', daemonOnly });
    if (server === 'provlab' && compareCli) variants.push({ server, logLevel: 'warn', daemonOnly, cli: compareCli, ...(COMPARE_NODE_FLAGS ? { tag: `compare: ${COMPARE_NODE_FLAGS.join(' ')}`, nodeFlags: COMPARE_NODE_FLAGS } : { tag: 'compare' }) });
  }
  if (SERVERS.includes('provlab')) {
    // At the top rate only: the cost of the per-exchange info log line, and of everything in `up` besides the DHCP daemon.
    variants.push({ server: 'provlab', logLevel: 'info', onlyAt: maxRate });
    if (!SERVERS.includes('provlab-daemon')) variants.push({ server: 'provlab', logLevel: 'warn', daemonOnly: true, onlyAt: maxRate });
  }
  if (SERVERS.includes('provlab') || SERVERS.includes('provlab-daemon')) {
    // The per-exchange info line on the DHCP daemon alone: what logging costs, apart from the rest of `up`.
    variants.push({ server: 'provlab', logLevel: 'info', daemonOnly: true, onlyAt: maxRate });
  }
  if (CLIENT_QUEUE > 0) {
    // The same servers with a load generator that does not lose replies in its own receive queue.
    results.dhcp.clientQueue = buildRcvbufShim(ROOT, base, CLIENT_QUEUE);
    if (SERVERS.includes('provlab')) variants.push({ server: 'provlab', logLevel: 'warn', onlyAt: maxRate, clientQueue: CLIENT_QUEUE });
    if (SERVERS.includes('kea')) variants.push({ server: 'kea', onlyAt: maxRate, clientQueue: CLIENT_QUEUE });
  }

  for (const model of MODELS) {
    for (const rate of RATES) {
      for (let rep = 0; rep < REPEAT; rep++)
      for (const v of variants) {
        if (v.onlyAt !== undefined && v.onlyAt !== rate) continue;
        if (NO_INFO && v.logLevel === 'info') continue;
        if (!SERVERS.includes(v.server) && !(v.daemonOnly && (SERVERS.includes('provlab-daemon') || SERVERS.includes('provlab')))) continue;
        const queue = v.clientQueue ? `perfdhcp queue ${mib(v.clientQueue)}` : '';
        const label =
          v.server === 'provlab'
            ? `provlab${v.daemonOnly ? ' DhcpDaemon only' : ''}${v.tag ? ` [${v.tag}]` : ''} (${[v.logLevel, queue].filter(Boolean).join(', ')})`
            : `${v.server}${queue ? ` (${queue})` : ''}`;
        const dir = mkdtempSync(join(base, `${v.server}-${model}-${rate}-`));
        let srv;
        try {
          if (v.clientQueue && !results.dhcp.clientQueue.ok) throw new Error(`perfdhcp's receive queue cannot be set: ${results.dhcp.clientQueue.error}`);
          if (v.server === 'provlab') srv = await startProvlab({ root: ROOT, lab, dir, pool, logLevel: v.logLevel, cpuProf: CPU_PROF, daemonOnly: Boolean(v.daemonOnly), ...(v.cli ? { cli: v.cli } : {}), ...(v.nodeFlags ? { nodeFlags: v.nodeFlags } : {}) });
          else if (v.server === 'kea') srv = await startKea({ lab, dir, pool, options });
          else if (v.server === 'dnsmasq') srv = await startDnsmasq({ lab, dir, pool, options });
          else throw new Error(`unknown server ${v.server}`);
          if (!results.dhcp.servers[label]) results.dhcp.servers[label] = { command: srv.command, config: srv.config };
          await P.sleep(500);
          const rssIdle = P.rssMiB(srv.pid);
          let probeLeases = 0;
          if (!results.dhcp.probes[label]) {
            const pr = await P.run(process.execPath, [join(ROOT, 'bench/lib/probe-dhcp.mjs'), lab.serverIp, lab.clientIp], { ns: lab.client, timeoutMs: 15_000 });
            results.dhcp.probes[label] = pr.code === 0 ? JSON.parse(pr.stdout) : { ok: false, error: (pr.stdout + pr.stderr).trim() };
            if (pr.code === 0) probeLeases = 1;
          }
          if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '0', String(srv.pid)], { stdio: 'ignore' });
          const args = perfdhcpArgs({ clientIp: lab.clientIp, serverIp: lab.serverIp, rate, seconds: SECONDS, clients: CLIENTS[model], vendorClassHex: VENDOR_CLASS_HEX, cpu: PIN ? 1 : undefined });
          const disk = P.settleDisk();
          const quiet = WAIT_QUIET ? await P.waitQuiet({ maxMs: 10_000 }) : undefined;
          const udpS0 = P.udpCounters(lab.server);
          const udpC0 = P.udpCounters(lab.client);
          const box0 = P.boxCpu();
          const cpu0 = P.cpuSeconds(srv.pid);
          const sampler = P.rssSampler(srv.pid);
          const t0 = performance.now();
          const env = v.clientQueue ? { LD_PRELOAD: results.dhcp.clientQueue.lib, PROVLAB_PERFDHCP_RCVBUF: String(v.clientQueue) } : undefined;
          const pd = await P.run('timeout', args, { ns: lab.client, env, timeoutMs: (SECONDS + 30) * 1000 });
          const wall = (performance.now() - t0) / 1000;
          const cpu = P.cpuSeconds(srv.pid) - cpu0;
          const boxBusy = P.boxBusyPercent(box0, P.boxCpu());
          const udpS1 = P.udpCounters(lab.server);
          const udpC1 = P.udpCounters(lab.client);
          const rssPeak = sampler.stop();
          const rssAfter = P.rssMiB(srv.pid);
          const parsed = parsePerfdhcp(pd.stdout + pd.stderr, SECONDS);
          // Its whole report, for a look afterwards (--keep keeps the run's directory).
          writeFileSync(join(dir, 'perfdhcp.out'), pd.stdout + pd.stderr);
          const row = {
            rep,
            model,
            clients: CLIENTS[model],
            rate,
            server: v.server,
            label,
            logLevel: v.server === 'provlab' ? v.logLevel : undefined,
            command: `ip netns exec ${lab.client} ${env ? `env LD_PRELOAD=perfdhcp-rcvbuf.so PROVLAB_PERFDHCP_RCVBUF=${v.clientQueue} ` : ''}${displayCommand(args)}`,
            // Asked for, and what the kernel granted perfdhcp's sockets (SO_RCVBUF as read back: twice the request, Linux's bookkeeping).
            ...(v.clientQueue ? { clientQueueBytes: v.clientQueue, perfdhcpRcvbuf: grantedRcvbuf(pd.stderr) } : {}),
            quietBefore: quiet,
            diskBefore: disk,
            readyWallMs: Math.round(srv.readyWallMs),
            rssIdleMiB: round1(rssIdle),
            rssPeakMiB: round1(rssPeak),
            rssAfterMiB: round1(rssAfter),
            serverCpuPercent: Math.round((100 * cpu) / wall),
            // Everything on the box (server, perfdhcp, other users), % of all cores: a contended run shows here.
            boxBusyPercent: boxBusy,
            perfdhcpCpuPercent: Math.round((100 * perfdhcpCpuSeconds(pd.stderr)) / wall),
            // Datagrams the kernel dropped because a receive buffer was full: at the server, and at perfdhcp.
            rcvbufDrops: { server: udpS1.RcvbufErrors - udpS0.RcvbufErrors, client: udpC1.RcvbufErrors - udpC0.RcvbufErrors },
            loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
            ...(parsed.ok ? parsed : { error: parsed.error }),
          };
          const exit = await srv.stop();
          row.exit = exit;
          if (v.server === 'provlab') {
            row.daemonOnly = Boolean(v.daemonOnly);
            const d = await countBound(srv.state);
            row.durability = {
              boundInJournal: d.bound,
              probeLeases,
              ackedDistinct: parsed.ok ? parsed.distinctAcked : NaN,
              // Every address perfdhcp saw ACKed must be bound on disk (more is fine: an ACK lost on the way back).
              ok: parsed.ok && d.bound - probeLeases >= parsed.distinctAcked,
              journalWarnings: d.warnings,
            };
            const profDir = join(dir, 'cpu-prof');
            if (CPU_PROF && existsSync(profDir) && !v.tag) {
              const keep = join(ROOT, 'bench/results/profiles');
              mkdirSync(keep, { recursive: true });
              const name = `${model}-${rate}-${v.daemonOnly ? 'daemon-' : ''}${v.logLevel}`;
              for (const f of readdirSync(profDir)) cpSync(join(profDir, f), join(keep, `${name}-${f}`));
              row.cpuProfile = `bench/results/profiles/${name}-*.cpuprofile`;
            }
          }
          results.dhcp.runs.push(row);
          log(formatRow(row));
        } catch (err) {
          results.dhcp.runs.push({ model, rate, server: v.server, label, error: String(err.message ?? err) });
          log(`  ${label.padEnd(18)} ${model} ${rate}/s: ERROR ${err.message}`);
          if (srv) await srv.stop();
        }
      }
    }
  }
  if (!SKIP.has('kill9') && (SERVERS.includes('provlab') || SERVERS.includes('provlab-daemon'))) results.dhcp.kill9 = await kill9Run(base, lab, pool);
}

function formatRow(r) {
  if (r.error) return `  ${r.label.padEnd(18)} ${r.model.padEnd(6)} ${String(r.rate).padStart(5)}/s offered: ERROR ${r.error.split('\n')[0]}`;
  const dur = r.durability ? `  durable ${r.durability.ok ? 'yes' : 'NO'} (${r.durability.boundInJournal - r.durability.probeLeases} bound >= ${r.durability.ackedDistinct} ACKed)` : '';
  return `  ${r.label.padEnd(18)} ${r.model.padEnd(6)} ${String(r.rate).padStart(5)}/s offered: ${r.perSecond.toFixed(0).padStart(5)}/s completed, drops ${r.dropPct.toFixed(3)} %, latency avg ${r.latency.avgMs.toFixed(2)} ms, ~p99 ${r.latency.p99EstMs.toFixed(1)} ms, max ${r.latency.maxMs.toFixed(1)} ms, CPU ${r.serverCpuPercent} % (perfdhcp ${r.perfdhcpCpuPercent} %, box ${r.boxBusyPercent} % of 2 cores), rcvbuf drops srv ${r.rcvbufDrops.server}/cli ${r.rcvbufDrops.client}, RSS ${r.rssIdleMiB}/${r.rssPeakMiB} MiB, ${r.clientQueueBytes ? `perfdhcp SO_RCVBUF ${r.perfdhcpRcvbuf}, ` : ''}${r.diskBefore ? `synced ${Math.round(r.diskBefore.dirtyKiB / 1024)} MiB dirty before` : ''}${dur}`;
}

/** kill -9 provlab in the middle of an 8000/s run; every address perfdhcp saw ACKed must be in the store after restart. */
async function kill9Run(base, lab, pool) {
  const dir = mkdtempSync(join(base, 'kill9-'));
  const seconds = Math.max(4, Math.min(SECONDS, 8));
  const srv = await startProvlab({ root: ROOT, lab, dir, pool, logLevel: 'warn' });
  await P.sleep(300);
  const args = perfdhcpArgs({ clientIp: lab.clientIp, serverIp: lab.serverIp, rate: 8000, seconds, clients: CLIENTS.new, vendorClassHex: VENDOR_CLASS_HEX });
  const pd = P.run('timeout', args, { ns: lab.client, timeoutMs: (seconds + 30) * 1000 });
  await P.sleep((seconds * 1000) / 2);
  srv.child.kill('SIGKILL');
  await P.exited(srv.child);
  const out = await pd;
  const parsed = parsePerfdhcp(out.stdout + out.stderr, seconds);
  // Restart on the same state dir, as an admin would, then read the store it left.
  const again = await startProvlab({ root: ROOT, lab, dir, pool, logLevel: 'warn' });
  await again.stop();
  const d = await countBound(srv.state);
  const r = {
    command: `ip netns exec ${lab.client} ${displayCommand(args)}  (provlab SIGKILLed after ${seconds / 2} s, then restarted)`,
    acks: parsed.ok ? parsed.acks : NaN,
    ackedDistinct: parsed.ok ? parsed.distinctAcked : NaN,
    boundInJournal: d.bound,
    ok: parsed.ok && d.bound >= parsed.distinctAcked,
    journalWarnings: d.warnings,
  };
  log(`  kill -9 mid-run: ${r.ackedDistinct} addresses ACKed before the kill, ${r.boundInJournal} bound after restart: ${r.ok ? 'none lost' : 'LEASES LOST'}`);
  return r;
}

// ---------------------------------------------------------------------------

function loopbackSite(state, ntpPort) {
  return `site: bench-loopback
address: 127.0.0.1
dhcp:
  subnet: 127.88.0.0/24
  pool: 127.88.0.100-127.88.0.199
  router: 127.88.0.1
domains:
  primary: example.local
lync:
  pool: lyncpool.example.local
  address: 127.0.0.10
listen: { dhcp: 6767, dns: 5300, ntp: ${ntpPort} }
state: ${state}
`;
}

/** `provlab up` in a loopback-only namespace: wall time to the ready line, its readyMs, idle RSS. */
async function startLoopbackProvlab(ns, base, ntpPort) {
  const dir = mkdtempSync(join(base, 'startup-'));
  const site = join(dir, 'site.yaml');
  writeFileSync(site, loopbackSite(join(dir, 'state'), ntpPort));
  const t0 = performance.now();
  const child = P.start(process.execPath, [...PROVLAB_NODE_FLAGS, join(ROOT, 'dist/cli/main.js'), '--log-format', 'json', '--log-level', 'info', 'up', '--site', site], { ns });
  child.stdout.resume();
  let buf = '';
  let ready;
  await new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`provlab not ready in 15 s: ${buf.slice(-1500)}`)), 15_000);
    child.stderr.on('data', (b) => {
      buf += b;
      for (const line of buf.split('\n')) {
        if (!line.includes('ready')) continue;
        try {
          const j = JSON.parse(line);
          if (typeof j.readyMs === 'number' && !ready) {
            ready = { wallMs: performance.now() - t0, readyMs: j.readyMs };
            clearTimeout(timer);
            resolveReady();
          }
        } catch {
          /* partial line */
        }
      }
    });
    child.once('exit', (c) => reject(new Error(`provlab exited ${c}: ${buf.slice(-1500)}`)));
  });
  return { child, pid: child.pid, ...ready };
}

async function startupRuns(base, results) {
  const ns = P.createLoopbackNs('s');
  const runs = [];
  for (let i = 0; i < 5; i++) {
    const p = await startLoopbackProvlab(ns, base, 12300);
    await P.sleep(1000);
    const rss = P.rssMiB(p.pid);
    await P.stop(p.child);
    runs.push({ wallMs: Math.round(p.wallMs), readyMs: p.readyMs, rssIdleMiB: round1(rss) });
  }
  const med = (k) => median(runs.map((r) => r[k]));
  results.startup = {
    command: `ip netns exec NS node dist/cli/main.js --log-format json --log-level info up --site SITE  (relay-only loopback site, DHCP + NTP, fresh state dir)`,
    runs,
    medianWallMs: med('wallMs'),
    medianReadyMs: med('readyMs'),
    medianRssIdleMiB: med('rssIdleMiB'),
  };
  log(`  start-up (5 runs, relay-only): wall ${results.startup.medianWallMs} ms to the ready line (readyMs ${results.startup.medianReadyMs}), idle RSS ${results.startup.medianRssIdleMiB} MiB`);
}

// ---------------------------------------------------------------------------

async function ntpRuns(base, results) {
  const ns = P.createLoopbackNs('n');
  // Bounded by time in practice: the count only caps a run on a much faster machine.
  const count = 5_000_000;
  const args = [join(ROOT, 'bench/ntp-load.mjs'), '--count', String(count), '--seconds', String(SECONDS)];
  const r = await P.run(process.execPath, args, { ns, timeoutMs: (SECONDS * 2 + 60) * 1000 });
  const last = r.stdout.trim().split('\n').pop();
  let load;
  try {
    load = JSON.parse(last);
  } catch {
    load = { error: (r.stdout + r.stderr).slice(-1500) };
  }
  results.ntp = { command: `ip netns exec NS node ${args.map((a) => a.replace(`${ROOT}/`, '')).join(' ')}`, output: r.stdout.trim(), load };
  log(r.stdout.trim().split('\n').map((l) => `  ${l}`).join('\n'));

  // Accuracy: chronyd -Q (one-shot client, never sets the clock) against each server on the same loopback.
  const provlab = await startLoopbackProvlab(ns, base, 12300);
  const chrony = await startChronyd({ ns, dir: mkdtempSync(join(base, 'chrony-')), port: 12301 });
  const query = async (port) => {
    const q = await P.run('chronyd', ['-Q', '-f', '/dev/null', '-t', '15', `server 127.0.0.1 port ${port} iburst maxsamples 4`], { ns, timeoutMs: 25_000 });
    const m = /System clock wrong by (-?[\d.]+) seconds/.exec(q.stdout + q.stderr);
    return m ? Number(m[1]) : NaN;
  };
  const acc = { provlab: [], chronyd: [] };
  for (let i = 0; i < 3; i++) {
    acc.provlab.push(await query(12300));
    acc.chronyd.push(await query(12301));
  }
  await P.stop(provlab.child);
  await chrony.stop();
  const medAbs = (xs) => median(xs.filter(Number.isFinite).map((x) => Math.abs(x) * 1e6));
  results.ntp.accuracy = {
    command: `ip netns exec NS chronyd -Q -f /dev/null -t 15 "server 127.0.0.1 port PORT iburst maxsamples 4"  (3 runs per server, alternating)`,
    offsetsSeconds: acc,
    medianAbsOffsetUs: { provlab: medAbs(acc.provlab), chronyd: medAbs(acc.chronyd) },
  };
  log(`  chronyd -Q offset: provlab median |${results.ntp.accuracy.medianAbsOffsetUs.provlab?.toFixed(1)}| us, chronyd median |${results.ntp.accuracy.medianAbsOffsetUs.chronyd?.toFixed(1)}| us`);
}

// ---------------------------------------------------------------------------

function round1(x) {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : null;
}

function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main() {
  const reportOnly = O['report-only'];
  if (reportOnly) {
    // Rewrites BENCHMARKS.md's generated section from a saved results file (no measurement).
    const results = JSON.parse(readFileSync(resolve(reportOnly), 'utf8'));
    writeReport(OUT, results, { jsonFile: resolve(reportOnly).replace(`${ROOT}/`, '') });
    log(`${OUT.replace(`${ROOT}/`, '')} regenerated from ${reportOnly}`);
    return;
  }
  preflight();
  const base = P.trackDir(mkdtempSync(join(tmpdir(), 'provlab-bench-')));
  P.installCleanup({ keepDirs: O.keep });
  const deadline = setTimeout(() => {
    process.stderr.write(`bench: over ${MAX_MINUTES} minutes, giving up\n`);
    P.cleanupSync();
    process.exit(2);
  }, MAX_MINUTES * 60_000);

  const results = { machine: machine(), settings: { seconds: SECONDS, repeat: REPEAT, compare: COMPARE_DIST, rates: RATES, models: MODELS, servers: SERVERS, clients: CLIENTS, pin: Boolean(PIN), argv: argv.join(' ') } };
  log(`provlab bench ${results.machine.date}: ${results.machine.nproc} CPUs (${results.machine.cpu}), Node ${results.machine.node}, ${results.machine.perfdhcp}, Kea ${results.machine.kea}`);
  log(`DHCP: ${SECONDS} s per run, rates ${RATES.join('/')} offered, client models ${MODELS.join('/')}`);
  if (!SKIP.has('dhcp')) await dhcpRuns(base, results);
  if (!SKIP.has('ntp')) {
    log('NTP:');
    await ntpRuns(base, results);
  }
  if (!SKIP.has('startup')) {
    log('Start-up:');
    await startupRuns(base, results);
  }
  const dnsSkip = SKIP.has('dns') ? 'skipped with --skip dns' : dnsSkipReason();
  if (dnsSkip) {
    results.dns = { skipped: dnsSkip };
    log(`DNS: skipped: ${dnsSkip}`);
  } else {
    log('DNS:');
    await dnsRuns(results);
  }
  const floodSkip = SKIP.has('dns-flood') ? 'skipped with --skip dns-flood' : floodSkipReason();
  if (floodSkip) {
    results.dnsFlood = { skipped: floodSkip };
    log(`DNS flood: skipped: ${floodSkip}`);
  } else {
    log('DNS flood:');
    await floodRuns(results);
  }
  if (SKIP.has('dhcp-flood')) results.dhcpFlood = { skipped: 'skipped with --skip dhcp-flood' };
  else {
    log('DHCP flood (DNS and NTP latency meanwhile):');
    await dhcpFloodRuns(results);
  }
  clearTimeout(deadline);
  results.machine.loadavgAfter = sh('cat /proc/loadavg');

  const stamp = results.machine.date.replace(/[:.]/g, '-');
  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const json = join(resultsDir, `${stamp}.json`);
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  log(`results: ${json.replace(`${ROOT}/`, '')}`);
  if (WRITE) {
    writeReport(OUT, results, { jsonFile: json.replace(`${ROOT}/`, '') });
    log(`${OUT.replace(`${ROOT}/`, '')}: generated section rewritten (the analysis section is kept)`);
  }
  P.cleanupSync({ keepDirs: O.keep });
}

/** Why the DNS benchmark cannot run; undefined when it can. */
function dnsSkipReason() {
  // `provlab up` starts the DNS daemon through the appliance (src/appliance/appliance.ts); the old test
  // for the string DnsDaemon in src/cli skipped the DNS rows once the composition moved there.
  if (!existsSync(join(ROOT, 'dist/dns/daemon.js'))) return 'dist/dns/daemon.js is missing (npm run build)';
  if (!existsSync(join(ROOT, 'bench/dns-load.mjs'))) return 'bench/dns-load.mjs (the DNS load generator) is missing';
  return undefined;
}

/** The JSON result lines of a load generator's output (dns-load.mjs, dns-flood.mjs); other lines are comments. */
function jsonLines(stdout) {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return null;
      }
    })
    .filter(Boolean);
}

/** Why the flood row cannot run; undefined when it can. */
function floodSkipReason() {
  const missing = ['knotd', 'gcc', 'dig'].filter((t) => sh(`command -v ${t}`).startsWith('('));
  if (missing.length) return `missing ${missing.join(', ')} (Debian: knot, gcc, bind9-dnsutils)`;
  if (!existsSync(join(ROOT, 'dist/dns/daemon.js'))) return 'dist/dns/daemon.js is missing (npm run build)';
  return undefined;
}

/**
 * One source floods while 50 "phones" on other addresses measure their loss:
 * provlab (dns.rate_limit as defaulted, and off) and Knot (default configuration)
 * in the same run, in a loopback-only namespace (bench/dns-flood.mjs).
 */
async function floodRuns(results) {
  const ns = P.createLoopbackNs('f');
  const seconds = Math.min(SECONDS, 10);
  const args = [join(ROOT, 'bench/dns-flood.mjs'), '--seconds', String(seconds), '--rounds', '3'];
  const r = await P.run(process.execPath, args, { ns, timeoutMs: (seconds + 15) * 3 * 3 * 1000 + 60_000 });
  const rows = jsonLines(r.stdout);
  results.dnsFlood = { command: `ip netns exec NS node ${args.map((a) => a.replace(`${ROOT}/`, '')).join(' ')}`, rows, ...(rows.length ? {} : { error: (r.stdout + r.stderr).slice(-1500) }) };
  for (const x of rows) log(`  ${x.server.padEnd(14)} phones lost ${x.lossPct} % (flood ${x.floodRate}/s)`);
  if (!rows.length) log(`  DNS flood failed: ${results.dnsFlood.error.split('\n').slice(-3).join(' | ')}`);
}

/**
 * A DISCOVER flood (3000/s, 51,200-address pool, past the 30-s offer holds) and
 * an INFORM flood (20,000/s) from random MACs against provlab up, while DNS and
 * NTP are asked (bench/dhcp-flood.mjs); the --compare build too, in the same run.
 */
async function dhcpFloodRuns(results) {
  const ns = P.createLoopbackNs('h');
  const builds = [[join(ROOT, 'dist'), 'this build'], ...(COMPARE_DIST ? [[resolve(COMPARE_DIST), 'compare']] : [])];
  const rows = [];
  const commands = [];
  for (const [kind, rate, seconds] of [['discover', 3000, 45], ['inform', 20000, 10]]) {
    for (const [dist, label] of builds) {
      const args = [join(ROOT, 'bench/dhcp-flood.mjs'), '--dist', dist, '--kind', kind, '--rate', String(rate), '--seconds', String(seconds), '--label', label];
      commands.push(`ip netns exec NS node ${args.map((a) => a.replace(`${ROOT}/`, '')).join(' ')}`);
      const r = await P.run(process.execPath, args, { ns, timeoutMs: (seconds + 70) * 1000 });
      const got = jsonLines(r.stdout);
      rows.push(...got);
      for (const x of got.filter((x) => x.probe.endsWith('flood'))) log(`  ${label.padEnd(10)} ${kind.padEnd(8)} ${x.probe} ${x.answered}/${x.sent} p99 ${x.p99} ms max ${x.max} ms, server ${x.cpuCores} core, log ${x.logMB} MB`);
      if (!got.length) log(`  ${label} ${kind} failed: ${(r.stdout + r.stderr).split('\n').slice(-3).join(' | ')}`);
    }
  }
  results.dhcpFlood = { commands, rows };
}

/**
 * dnsperf against provlab's DnsDaemon (per-query log on, as `up` runs it; and with a line for every query) and dnsmasq with
 * the same local records: bench/dns-load.mjs (written with the DNS server), run here inside
 * a loopback-only namespace. Its JSON result lines are kept as they are.
 */
async function dnsRuns(results) {
  const ns = P.createLoopbackNs('q');
  const args = [join(ROOT, 'bench/dns-load.mjs'), '--seconds', String(SECONDS), '--latency-seconds', '5', '--rounds', '1', '--only', 'provlab,provlab-everyline,dnsmasq'];
  const r = await P.run(process.execPath, args, { ns, timeoutMs: (SECONDS + 20) * 3 * 1000 + 60_000 });
  const rows = jsonLines(r.stdout);
  results.dns = { command: `ip netns exec NS node ${args.map((a) => a.replace(`${ROOT}/`, '')).join(' ')}`, rows, ...(rows.length ? {} : { error: (r.stdout + r.stderr).slice(-1500) }) };
  const pl = rows.find((x) => x.server === 'provlab');
  const dm = rows.find((x) => x.server === 'dnsmasq');
  for (const x of rows) log(`  ${x.server.padEnd(10)} ${String(x.qps).padStart(7)} qps, p50 ${x.p50Ms} ms, p99 ${x.p99Ms} ms; paced ${x.pacedQps} qps p99 ${x.pacedP99Ms} ms; CPU ${x.cpuPct} %`);
  if (pl && dm) log(`  provlab / dnsmasq: ${(pl.qps / dm.qps).toFixed(2)}x`);
  if (!rows.length) log(`  DNS load failed: ${results.dns.error.split('\n').slice(-3).join(' | ')}`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  P.cleanupSync();
  process.exit(1);
});
