// Candidate (b) of docs/dns-design.md: provlab's own DnsDaemon (precomputed
// responses, patched ID and question case). Run by bench/dns-load.mjs; needs dist/.
//   node bench/dns-provlab-server.mjs SITE.yaml PORT [--no-query-log | --log-every-query] [--rrl-loopback | --no-rrl] [--kernel-rcvbuf] [--udp-sockets N]
// --rrl-loopback: dnsperf's 127.0.0.1 goes through the rate limiter too, at a rate it never reaches (the limiter's cost).
// JSON logs (one line per query unless --no-query-log) go to stderr like `provlab up`.
import { pino } from 'pino';
import { DnsDaemon } from '../dist/dns/daemon.js';
import { createLogger } from '../dist/log.js';
import { loadSite } from '../dist/site/load.js';
import { compilePlan } from '../dist/site/compile.js';

const [file, port] = process.argv.slice(2);
const compiled = compilePlan(loadSite(file), file);
const rrlLoopback = process.argv.includes('--rrl-loopback');
// --no-rrl: dns.rate_limit off (the flood row's comparison).
const rrlRate = rrlLoopback ? 1_000_000_000 : process.argv.includes('--no-rrl') ? 0 : undefined;
const plan = rrlRate === undefined ? compiled : { ...compiled, dns: { ...compiled.dns, rateLimit: { ...compiled.dns.rateLimit, responsesPerSecond: rrlRate } } };
// Experiments with the log destination (src/log.ts uses pino.destination({ dest: 2, sync: false })):
//   --min-length N   sonic-boom buffers until N bytes before each write
//   --log-sync       write(2) from the main thread instead of libuv's thread pool
//   --log-worker     pino.transport('pino/file'): JSON built here, written by a worker thread
const i = process.argv.indexOf('--min-length');
const minLength = i > 0 ? Number(process.argv[i + 1]) : 0;
const sync = process.argv.includes('--log-sync');
const dest = minLength > 0 || sync ? pino.destination({ dest: 2, sync, minLength }) : null;
if (dest && minLength > 0) setInterval(() => dest.flush(), 1000).unref();
const logger = process.argv.includes('--log-worker')
  ? pino({ level: 'info', base: { pid: process.pid } }, pino.transport({ target: 'pino/file', options: { destination: 2 } }))
  : dest
    ? pino({ level: 'info', base: { pid: process.pid } }, dest)
    : createLogger({ level: 'info', pretty: false });
const k = process.argv.indexOf('--udp-sockets');
const udpSockets = k > 0 ? { udpSockets: Number(process.argv[k + 1]) } : {};
const daemon = await DnsDaemon.start(
  { ...plan, dns: { ...plan.dns, port: Number(port) } },
  { logger, rateLimitLoopback: rrlLoopback, ...udpSockets, ...(process.argv.includes('--kernel-rcvbuf') ? { udpRcvbuf: 0 } : {}), logQueries: !process.argv.includes('--no-query-log'), ...(process.argv.includes('--log-every-query') ? { queryLogPerClient: Infinity } : {}) },
);
process.stdout.write(`${JSON.stringify({ listening: daemon.address() })}\n`);
process.on('SIGTERM', async () => {
  await daemon.stop();
  process.stdout.write(`${JSON.stringify(daemon.counters)}\n`, () => process.exit(0));
});
