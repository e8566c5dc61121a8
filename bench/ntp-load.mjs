#!/usr/bin/env node
// Bounded NTP load on loopback: one provlab NtpDaemon process, then chronyd
// (`local stratum 8`, no servers, -x so it never touches the clock), each
// served the same closed-loop load from this one process. Measures, asserts
// nothing. Needs the compiled dist/ (`npx tsc -p tsconfig.json`) and chronyd.
//
//   node bench/ntp-load.mjs [--count 200000] [--seconds 10] [--window 256] [--sockets 8] [--port 41230] [--only provlab|chronyd] [--cpu-prof DIR]
//
// Closed loop: `window` requests in flight, spread over `sockets` client
// sockets (distinct source ports); each reply frees a slot for the next
// request. A run ends after `count` replies or `seconds`, whichever is first.
// Requests lost (no reply) are re-sent after 200 ms of silence.
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROVLAB_NODE_FLAGS } from './lib/node-flags.mjs';
import { optionsOrExit } from './lib/args.mjs';

const args = process.argv.slice(2);
const USAGE = `
node bench/ntp-load.mjs [--count 200000] [--seconds 10] [--window 256] [--sockets 8] [--port 41230] [--only provlab|chronyd] [--cpu-prof DIR]`;

if (args[0] === '--serve') {
  // Child mode: one NtpDaemon, as `provlab up` would run it (info-level JSON logs).
  const { NtpDaemon } = await import('../dist/ntp/daemon.js');
  const { createLogger } = await import('../dist/log.js');
  const port = Number(args[1]);
  const plan = { address: '127.0.0.1', ntp: { enabled: true, port, servers: ['127.0.0.1'], stratum: 10, refId: 'LOCL', rateLimit: null } };
  const daemon = await NtpDaemon.start(plan, { logger: createLogger({ level: 'info', pretty: false }) });
  process.stdout.write('ready\n');
  process.on('SIGTERM', async () => {
    await daemon.stop();
    process.stdout.write(JSON.stringify(daemon.counters) + '\n', () => process.exit(0));
  });
} else {
  await main();
}

async function main() {
  const o = optionsOrExit(args, {
    count: { type: 'number', min: 1, max: 1e9, default: 200_000 },
    seconds: { type: 'number', min: 0.1, max: 3600, default: 10 },
    window: { type: 'number', min: 1, max: 65536, default: 256 },
    sockets: { type: 'number', min: 1, max: 1024, default: 8 },
    port: { type: 'number', min: 1024, max: 65535, default: 41230 },
    only: { type: 'string', choices: ['provlab', 'chronyd', 'both'], default: 'both' },
    'cpu-prof': { type: 'string', default: '' },
  }, USAGE);
  const { count, seconds, window, sockets, port: basePort, only } = o;
  const results = {};
  console.log(`NTP load: up to ${count} replies or ${seconds} s per server, ${window} in flight over ${sockets} sockets, loopback; ${cpus().length} CPUs, Node ${process.version}`);

  if (only !== 'chronyd') {
    const self = fileURLToPath(import.meta.url);
    const profDir = o['cpu-prof'];
    const nodeArgs = [...PROVLAB_NODE_FLAGS, ...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])];
    const child = spawn(process.execPath, [...nodeArgs, self, '--serve', String(basePort)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    try {
      await waitFor(() => out.includes('ready'), 10_000, 'provlab NtpDaemon did not start');
      results.provlab = await load('provlab NtpDaemon', basePort, child.pid, { count, seconds, window, sockets });
    } finally {
      const closed = new Promise((r) => child.on('close', r));
      child.kill('SIGTERM');
      await closed;
    }
    const counters = out.trim().split('\n').pop();
    console.log(`  daemon counters: ${counters}`);
  }

  if (only !== 'provlab') {
    const dir = mkdtempSync(join(tmpdir(), 'ntp-bench-chrony-'));
    const port = basePort + 1;
    const conf = join(dir, 'chrony.conf');
    writeFileSync(
      conf,
      [`local stratum 8`, `allow`, `port ${port}`, `bindaddress 127.0.0.1`, `cmdport 0`, `pidfile ${join(dir, 'chronyd.pid')}`, `driftfile ${join(dir, 'drift')}`, ''].join('\n'),
    );
    // -d: stay in the foreground so the child we spawned is chronyd itself, and we stop exactly it.
    const child = spawn('chronyd', ['-d', '-x', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    try {
      await waitForAnswer(port, 10_000).catch((e) => {
        throw new Error(`${e.message}; chronyd said:\n${err}`);
      });
      results.chronyd = await load('chronyd 4 (-x, local stratum 8)', port, child.pid, { count, seconds, window, sockets });
    } finally {
      const closed = new Promise((r) => child.on('close', r));
      child.kill('SIGTERM');
      await closed;
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(JSON.stringify(results));
}

async function waitFor(pred, ms, message) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends a client request every 200 ms until one is answered. */
async function waitForAnswer(port, ms) {
  const sock = dgram.createSocket('udp4');
  let answered = false;
  sock.on('message', () => (answered = true));
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const deadline = Date.now() + ms;
  try {
    while (!answered) {
      if (Date.now() > deadline) throw new Error(`nothing answered on 127.0.0.1:${port}`);
      sock.send(request(0), port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    sock.close();
  }
}

/** An NTPv4 client request whose transmit timestamp carries a sequence number (checked in the origin of the reply). */
function request(seq) {
  const b = Buffer.alloc(48);
  b[0] = 0x23;
  b.writeUInt32BE(0x5eed0000, 40);
  b.writeUInt32BE(seq >>> 0, 44);
  return b;
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

async function load(name, port, pid, { count, seconds, window, sockets }) {
  const socks = [];
  let sent = 0;
  let replies = 0;
  let bad = 0;
  let lastReplyAt = Date.now();
  let done = false;
  let finish;
  const finished = new Promise((r) => (finish = r));
  const perSocket = Math.max(1, Math.floor(window / sockets));
  const inFlight = new Array(sockets).fill(0);

  const sendOn = (i) => {
    if (done || sent >= count * 1.2) return;
    const seq = sent++;
    inFlight[i]++;
    socks[i].send(request(seq), port, '127.0.0.1');
  };

  for (let i = 0; i < sockets; i++) {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 21, sendBufferSize: 1 << 21 });
    s.on('message', (m) => {
      if (done) return;
      inFlight[i] = Math.max(0, inFlight[i] - 1);
      if (m.length === 48 && (m[0] & 7) === 4 && m.readUInt32BE(24) === 0x5eed0000) replies++;
      else bad++;
      lastReplyAt = Date.now();
      if (replies >= count) {
        done = true;
        finish();
        return;
      }
      sendOn(i);
    });
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    socks.push(s);
  }

  const cpu0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < sockets; i++) for (let k = 0; k < perSocket; k++) sendOn(i);
  const watchdog = setInterval(() => {
    // Lost datagrams would starve the loop: after 200 ms of silence, refill every socket's window.
    if (Date.now() - lastReplyAt > 200) {
      for (let i = 0; i < sockets; i++) {
        inFlight[i] = 0;
        for (let k = 0; k < perSocket; k++) sendOn(i);
      }
      lastReplyAt = Date.now();
    }
  }, 50);
  const timer = setTimeout(() => {
    done = true;
    finish();
  }, seconds * 1000);
  await finished;
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(watchdog);
  clearTimeout(timer);
  const cpu = cpuSeconds(pid) - cpu0;
  for (const s of socks) s.close();
  const result = {
    replies,
    sent,
    // Requests still in flight when the run stopped are not counted as lost.
    lost: Math.max(0, sent - replies - bad - inFlight.reduce((a, b) => a + b, 0)),
    bad,
    seconds: Number(elapsed.toFixed(3)),
    perSecond: Math.round(replies / elapsed),
    serverCpuPercent: Number(((cpu / elapsed) * 100).toFixed(0)),
  };
  console.log(
    `${name.padEnd(34)} ${String(result.perSecond).padStart(7)} replies/s  (${replies} replies in ${result.seconds} s, ${result.lost} lost, ${bad} bad; server CPU ${result.serverCpuPercent}%)`,
  );
  return result;
}
