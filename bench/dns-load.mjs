#!/usr/bin/env node
// DNS benchmark for docs/dns-design.md: the same local records served by
//   provlab   provlab's DnsDaemon with its per-query log on, as `provlab up` runs it: a line per
//             query, 50 a second per client at most (the flood guard sums up the rest each second;
//             dnsperf is one client, so most of its queries are counted, not written)
//   provlab-everyline  the same with a JSON log line for every single query (no flood guard)
//   provlab-nolog  the same with per-query logging off
//   dns2      dns2 3.0.0 behind the audit's guard (bench/dns-dns2-server.mjs), per-query log on
//   dnsmasq   dnsmasq 2.90 with --host-record/--srv-host/--local, log-queries off
// each measured with the command from the issue, loopback only, bounded:
//   dnsperf -s 127.0.0.1 -p PORT -d QUERYFILE -l SECONDS -c 4 -T 1
// then two shorter runs with -v whose per-query latencies give p50/p99: one
// saturated like the first, one paced at --paced QPS (-Q; default 20000), far
// above what a VLAN of phones asks yet below every server's ceiling, so its p99
// is the server's own latency rather than dnsperf's queue.
// Build first (npx tsc -p tsconfig.json); needs dnsperf and dnsmasq.
//   node bench/dns-load.mjs [--seconds 10] [--latency-seconds 5] [--paced 20000] [--rounds 1] [--only provlab,dnsmasq]
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { PROVLAB_NODE_FLAGS } from './lib/node-flags.mjs';
import { optionsOrExit } from './lib/args.mjs';
import { DNS_BENCH_QUERIES, dnsBenchSite } from './lib/dns-site.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Each server's command for a port; called only once the site and dnsmasq's arguments exist below.
const SERVERS = {
  provlab: (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port)]],
  'provlab-nolog': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--no-query-log']],
  // The rate limiter on dnsperf's queries too, at a rate it never reaches: what it costs per query. Only with --only.
  'provlab-rrl': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--rrl-loopback']],
  'provlab-everyline': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--log-every-query']],
  // Log destination experiments (not what src/log.ts does today); only with --only.
  'provlab-sync': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--log-sync']],
  'provlab-sync4k': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--log-sync', '--min-length', '4096']],
  'provlab-worker': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--log-worker']],
  'provlab-async4k': (port) => [process.execPath, [...PROVLAB_NODE_FLAGS, join(root, 'bench/dns-provlab-server.mjs'), site, String(port), '--min-length', '4096']],
  dns2: (port) => [process.execPath, [join(root, 'bench/dns-dns2-server.mjs'), site, String(port)]],
  dnsmasq: (port) => ['dnsmasq', dnsmasqArgs(port)],
};
const DEFAULT = ['provlab', 'provlab-everyline', 'provlab-nolog', 'dns2', 'dnsmasq'];
const o = optionsOrExit(process.argv.slice(2), {
  seconds: { type: 'number', min: 1, max: 600, default: 10 },
  'latency-seconds': { type: 'number', min: 1, max: 600, default: 5 },
  rounds: { type: 'number', min: 1, max: 100, default: 1 },
  paced: { type: 'number', min: 1, max: 10_000_000, default: 20000 },
  only: { type: 'string', list: true, choices: Object.keys(SERVERS), default: [] },
}, 'node bench/dns-load.mjs [--seconds 10] [--latency-seconds 5] [--paced 20000] [--rounds 1] [--only provlab,provlab-everyline,provlab-nolog,dns2,dnsmasq]');
const SECONDS = o.seconds;
const LATENCY_SECONDS = o['latency-seconds'];
const ROUNDS = o.rounds;
const PACED = o.paced;
const ONLY = o.only;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const tool of ['dnsperf', 'dnsmasq']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`${tool} is not installed`);
    process.exit(2);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'provlab-dns-bench-'));
const site = join(dir, 'site.yaml');
writeFileSync(site, dnsBenchSite(join(dir, 'state')));
const QUERIES = DNS_BENCH_QUERIES;
const queryFile = join(dir, 'queries.txt');
writeFileSync(queryFile, `${QUERIES.join('\n')}\n`);

// dnsmasq gets the same records from the compiled plan (A and SRV; NXDOMAIN/NODATA through --local).
const { compilePlan } = await import(join(root, 'dist/site/compile.js'));
const { loadSite } = await import(join(root, 'dist/site/load.js'));
const plan = compilePlan(loadSite(site), site);
const records = plan.dns.zones.flatMap((z) => z.records);
const hostRecords = new Map();
for (const r of records) if (r.data.type === 'A') hostRecords.set(r.name, [...(hostRecords.get(r.name) ?? []), r.data.address]);
const dnsmasqArgs = (port) => [
  '-d', '-k', '-p', String(port), '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '-C', '/dev/null',
  ...[...hostRecords].map(([name, addrs]) => `--host-record=${name},${addrs.join(',')}`),
  ...records.filter((r) => r.data.type === 'SRV').map((r) => `--srv-host=${r.name},${r.data.target},${r.data.port},${r.data.priority},${r.data.weight}`),
  ...plan.dns.zones.filter((z) => z.kind !== 'reverse').map((z) => `--local=/${z.apex}/`),
];

const names = ONLY.length ? Object.keys(SERVERS).filter((n) => ONLY.includes(n)) : DEFAULT;

function cpuTicks(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
  } catch {
    return NaN;
  }
}

async function startServer(name, port) {
  const [cmd, argv] = SERVERS[name](port);
  const logFile = join(dir, `${name}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', fd] });
  closeSync(fd);
  child.stdout.resume();
  // Ready when a query is answered.
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=1', '+short', 'ucupdates-r2.schertz.name', 'A'], { encoding: 'utf8' });
    if (r.stdout.trim() === '127.88.0.10') return { child, logFile };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not start`);
}

function dnsperf(port, seconds, verbose, maxQps = 0) {
  return new Promise((resolve) => {
    const argv = ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-c', '4', '-T', '1', ...(maxQps ? ['-Q', String(maxQps)] : []), ...(verbose ? ['-v'] : [])];
    const p = spawn('dnsperf', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const latencies = [];
    let text = '';
    createInterface({ input: p.stdout }).on('line', (line) => {
      if (verbose && line.startsWith('> ')) {
        const v = Number(line.slice(line.lastIndexOf(' ') + 1));
        if (Number.isFinite(v)) latencies.push(v);
      } else text += `${line}\n`;
    });
    p.stderr.on('data', (d) => (text += d));
    p.on('close', () => {
      const num = (re) => Number(re.exec(text)?.[1] ?? NaN);
      resolve({
        command: `dnsperf ${argv.join(' ')}`,
        qps: num(/Queries per second:\s+([\d.]+)/),
        sent: num(/Queries sent:\s+(\d+)/),
        lost: num(/Queries lost:\s+(\d+)/),
        avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
        codes: /Response codes:\s+(.*)/.exec(text)?.[1] ?? '',
        latencies,
      });
    });
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const results = [];
const basePort = 15400 + (process.pid % 500);
console.log(`# ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average before: ${loadavg().map((x) => x.toFixed(2)).join(' ')}; node ${process.version}`);
console.log(`# queries: ${QUERIES.length} names cycled (${queryFile})`);
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order so no server always runs first (or last) on a busy machine.
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const [i, name] of order.entries()) {
    const port = basePort + i;
    const { child, logFile } = await startServer(name, port);
    try {
      await dnsperf(port, 2, false); // warm-up (JIT, caches)
      const cpu0 = cpuTicks(child.pid);
      const load = loadavg()[0];
      const tp = await dnsperf(port, SECONDS, false);
      const cpu1 = cpuTicks(child.pid);
      const completed = tp.sent - tp.lost;
      const lat = await dnsperf(port, LATENCY_SECONDS, true);
      const sorted = Float64Array.from(lat.latencies).sort();
      const paced = await dnsperf(port, LATENCY_SECONDS, true, PACED);
      const pacedSorted = Float64Array.from(paced.latencies).sort();
      const r = {
        round: round + 1,
        server: name,
        qps: Math.round(tp.qps),
        lost: tp.lost,
        avgMs: +tp.avgMs.toFixed(3),
        cpuPct: Math.round(((cpu1 - cpu0) / 100 / SECONDS) * 100),
        // CPU time per answered query: what the server costs whoever the bottleneck is (dnsperf -T 1 tops out near dnsmasq's rate).
        cpuUsPerQuery: +((((cpu1 - cpu0) / 100) * 1e6) / completed).toFixed(2),
        load1: +load.toFixed(2),
        latencyRunQps: Math.round(lat.qps),
        p50Ms: +(percentile(sorted, 50) * 1000).toFixed(3),
        p99Ms: +(percentile(sorted, 99) * 1000).toFixed(3),
        p999Ms: +(percentile(sorted, 99.9) * 1000).toFixed(3),
        pacedQps: Math.round(paced.qps),
        pacedP50Ms: +(percentile(pacedSorted, 50) * 1000).toFixed(3),
        pacedP99Ms: +(percentile(pacedSorted, 99) * 1000).toFixed(3),
        codes: tp.codes,
        command: tp.command,
      };
      results.push(r);
      console.log(JSON.stringify(r));
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const size = statSync(logFile).size;
    // Streamed: at 200k+ queries/s the log outgrows what one string can hold.
    let lines = 0;
    for await (const line of createInterface({ input: createReadStream(logFile) })) if (line.includes('"dns query"')) lines++;
    if (name !== 'dnsmasq') console.log(`#   ${name}: ${lines} query log lines (${(size / 1e6).toFixed(1)} MB)`);
    rmSync(logFile, { force: true });
  }
}

console.log(`\nmedians of ${ROUNDS} round(s); p50/p99 saturated, then paced at ${PACED} qps`);
console.log('server          qps(median)  p50 ms  p99 ms  paced p50  paced p99  cpu%  cpu us/query  vs dnsmasq');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const dm = median(results.filter((r) => r.server === 'dnsmasq').map((r) => r.qps));
for (const name of names) {
  const rs = results.filter((r) => r.server === name);
  const q = median(rs.map((r) => r.qps));
  console.log(
    `${name.padEnd(15)} ${String(q).padStart(11)}  ${median(rs.map((r) => r.p50Ms)).toFixed(3).padStart(6)}  ${median(rs.map((r) => r.p99Ms)).toFixed(3).padStart(6)}  ${median(rs.map((r) => r.pacedP50Ms)).toFixed(3).padStart(9)}  ${median(rs.map((r) => r.pacedP99Ms)).toFixed(3).padStart(9)}  ${String(median(rs.map((r) => r.cpuPct))).padStart(4)}  ${median(rs.map((r) => r.cpuUsPerQuery)).toFixed(2).padStart(12)}  ${dm ? `${(q / dm).toFixed(2)}x` : '-'}`,
  );
}
rmSync(dir, { recursive: true, force: true });
