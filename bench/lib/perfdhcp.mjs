// perfdhcp (Kea 2.2) text output -> numbers. The tool always acts as a relay:
// `-l CLIENT_ADDR` is its source address and the giaddr it writes.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The command line for one bounded run: `-r` and `-p` always (without -r it
 * floods forever), `-u` so it counts addresses ACKed more than once (what the
 * durability check needs), `-W` so replies in flight when sending stops are
 * received rather than counted as drops, and an outer `timeout`.
 */
export function perfdhcpArgs({ clientIp, serverIp, rate, seconds, clients, vendorClassHex, cpu }) {
  const inner = ['-4', '-l', clientIp, '-r', String(rate), '-R', String(clients), '-u', '-W', '500000', '-p', String(seconds)];
  if (vendorClassHex) inner.push('-o', `60,${vendorClassHex}`);
  inner.push(serverIp);
  // bash's `times` reports perfdhcp's own CPU time (user, system) on stderr after it exits.
  // `cpu`: perfdhcp and its threads kept to that CPU (taskset), for runs that give the server and the load generator a core each.
  const run = cpu === undefined ? 'perfdhcp' : `taskset -c ${Number(cpu)} perfdhcp`;
  return ['-k', '2', String(seconds + 15), 'bash', '-c', `${run} "$@"; rc=$?; times >&2; exit $rc`, 'perfdhcp', ...inner];
}

const num = (text, re) => {
  const m = re.exec(text);
  return m ? Number(m[1]) : NaN;
};

function section(text, title) {
  const start = text.indexOf(`***Statistics for: ${title}***`);
  if (start < 0) return undefined;
  const next = text.indexOf('***', start + 5 + title.length + 20);
  const body = text.slice(start, next < 0 ? undefined : next);
  return {
    sent: num(body, /^sent packets: (\d+)/m),
    received: num(body, /^received packets: (\d+)/m),
    drops: num(body, /^drops: (\d+)/m),
    orphans: num(body, /^orphans: (\d+)/m),
    rejected: num(body, /^rejected leases: (\d+)/m),
    nonUnique: num(body, /^non unique addresses: (\d+)/m),
    minMs: num(body, /^min delay: ([\d.]+) ms/m),
    avgMs: num(body, /^avg delay: ([\d.]+) ms/m),
    maxMs: num(body, /^max delay: ([\d.]+) ms/m),
    stdMs: num(body, /^std deviation: ([\d.]+) ms/m),
  };
}

/**
 * Completed 4-way exchanges/s = ACKs received / test period (perfdhcp's own
 * "Rate" divides by the period plus the -W wait, so it is kept only for reference).
 * Drops = DISCOVERs without an ACK at the end (4-way view).
 */
export function parsePerfdhcp(text, seconds) {
  const doS = section(text, 'DISCOVER-OFFER');
  const raS = section(text, 'REQUEST-ACK');
  if (!doS || !raS) return { ok: false, error: `no statistics in perfdhcp output:\n${text.slice(-1500)}` };
  const completed = raS.received;
  const dropPct = doS.sent > 0 ? (100 * (doS.sent - completed)) / doS.sent : NaN;
  // Not a measured percentile: perfdhcp reports mean and standard deviation only.
  const p99Est = (s) => Math.min(s.avgMs + 2.326 * s.stdMs, s.maxMs);
  return {
    ok: true,
    toolRate: num(text, /^Rate: ([\d.]+) 4-way/m),
    malformed: num(text, /^Malformed packets: (\d+)/m),
    discovers: doS.sent,
    offers: doS.received,
    requests: raS.sent,
    acks: completed,
    // Addresses ACKed more than once (same client again, or two clients): distinct ACKed = acks - nonUnique.
    nonUniqueAcks: raS.nonUnique,
    distinctAcked: completed - raS.nonUnique,
    perSecond: completed / seconds,
    dropPct,
    latency: {
      discoverOffer: doS,
      requestAck: raS,
      avgMs: doS.avgMs + raS.avgMs,
      p99EstMs: p99Est(doS) + p99Est(raS),
      maxMs: Math.max(doS.maxMs, raS.maxMs),
    },
  };
}

/** perfdhcp's CPU seconds from bash `times` (second line: children's user and system time). */
export function perfdhcpCpuSeconds(stderr) {
  const lines = stderr.trim().split('\n').filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l.trim()));
  const last = lines[lines.length - 1];
  if (!last) return NaN;
  return last
    .trim()
    .split(' ')
    .map((t) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return Number(m[1]) * 60 + Number(m[2]);
    })
    .reduce((a, b) => a + b, 0);
}

/** The command as a person would type it (without the bash wrapper that only measures CPU). */
export function displayCommand(args) {
  const i = args.indexOf('perfdhcp'); // bash's $0: the perfdhcp arguments follow it
  const pin = /^taskset -c \d+ /.exec(args[i - 1] ?? '')?.[0] ?? '';
  return `timeout ${args.slice(0, 3).join(' ')} ${pin}perfdhcp ${args.slice(i + 1).join(' ')}`;
}

/** SO_RCVBUF values bench/lib/perfdhcp-rcvbuf.c reported on perfdhcp's stderr (the largest; NaN when none). */
export function grantedRcvbuf(stderr) {
  const got = [...stderr.matchAll(/^perfdhcp-rcvbuf: fd \d+ SO_RCVBUF (\d+)$/gm)].map((m) => Number(m[1]));
  return got.length ? Math.max(...got) : NaN;
}

/**
 * Compiles bench/lib/perfdhcp-rcvbuf.c (the LD_PRELOAD library that sets perfdhcp's
 * receive queue) into `outDir` with gcc. Without gcc: { ok: false, error } and the
 * rows that need it say why.
 */
export function buildRcvbufShim(root, outDir, bytes) {
  const lib = join(outDir, 'perfdhcp-rcvbuf.so');
  try {
    execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', lib, join(root, 'bench/lib/perfdhcp-rcvbuf.c'), '-ldl'], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { ok: true, lib, bytes, source: 'bench/lib/perfdhcp-rcvbuf.c' };
  } catch (e) {
    return { ok: false, bytes, error: `gcc could not build bench/lib/perfdhcp-rcvbuf.c: ${String(e.stderr || e.message).trim().split('\n')[0]}` };
  }
}
