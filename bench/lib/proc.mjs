// Processes and network namespaces the benchmark creates, and nothing else:
// every child is tracked by pid, every namespace by name, and one cleanup
// (normal end, error, Ctrl-C, SIGTERM, or the global deadline) stops them
// and deletes them. Nothing here touches a process or interface it did not make.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const children = new Set();
const namespaces = new Set();
const dirs = new Set();
let cleaned = false;

/** Spawns and tracks a child. `ns` runs it inside one of our namespaces. */
export function start(cmd, args, { ns, env, stdio = ['ignore', 'pipe', 'pipe'] } = {}) {
  const argv = ns ? ['netns', 'exec', ns, cmd, ...args] : args;
  const child = spawn(ns ? 'ip' : cmd, argv, { stdio, env: env ? { ...process.env, ...env } : process.env });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function alive(child) {
  return child.exitCode === null && child.signalCode === null;
}

export function exited(child) {
  return alive(child) ? new Promise((r) => child.once('exit', (code, sig) => r(code ?? sig))) : Promise.resolve(child.exitCode ?? child.signalCode);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or signal. */
export async function stop(child, graceMs = 5000) {
  if (!alive(child)) return child.exitCode ?? child.signalCode;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => alive(child) && child.kill('SIGKILL'), graceMs);
  const r = await done;
  clearTimeout(timer);
  return r;
}

/** Runs to completion with a hard time limit (the child is killed at the limit). */
export function run(cmd, args, { ns, env, timeoutMs = 60_000, input } = {}) {
  return new Promise((resolve) => {
    const child = start(cmd, args, { ns, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function ip(...args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Two namespaces joined by a veth pair: `server` gets SERVER_IP/prefix,
 * `client` gets CLIENT_IP/prefix. The subnet exists only inside them.
 */
export function createLab(tag, { serverIp, clientIp, prefix }) {
  const id = `${tag}${process.pid.toString(36)}`;
  const lab = { server: `pbS${id}`, client: `pbC${id}`, serverIf: `pbs${id}`.slice(0, 15), clientIf: `pbc${id}`.slice(0, 15), serverIp, clientIp, prefix };
  for (const ns of [lab.server, lab.client]) {
    ip('netns', 'add', ns);
    namespaces.add(ns);
  }
  ip('link', 'add', lab.serverIf, 'type', 'veth', 'peer', 'name', lab.clientIf);
  ip('link', 'set', lab.serverIf, 'netns', lab.server);
  ip('link', 'set', lab.clientIf, 'netns', lab.client);
  ip('-n', lab.server, 'addr', 'add', `${serverIp}/${prefix}`, 'dev', lab.serverIf);
  ip('-n', lab.client, 'addr', 'add', `${clientIp}/${prefix}`, 'dev', lab.clientIf);
  for (const ns of [lab.server, lab.client]) {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'], { stdio: 'ignore' });
  }
  ip('-n', lab.server, 'link', 'set', lab.serverIf, 'up');
  ip('-n', lab.client, 'link', 'set', lab.clientIf, 'up');
  return lab;
}

/** A namespace with only its own loopback: a private 127.0.0.1 for the NTP and start-up runs. */
export function createLoopbackNs(tag) {
  const ns = `pbL${tag}${process.pid.toString(36)}`;
  ip('netns', 'add', ns);
  namespaces.add(ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  return ns;
}

export function trackDir(dir) {
  dirs.add(dir);
  return dir;
}

/** Synchronous, idempotent: safe from 'exit' and signal handlers. */
export function cleanupSync({ keepDirs = false } = {}) {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) {
    if (alive(c)) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  for (const ns of namespaces) {
    // Anything still running inside a namespace we made was started by us.
    let pids = [];
    try {
      pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    } catch {
      /* namespace already gone */
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  }
  namespaces.clear();
  if (!keepDirs) for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

export function installCleanup(options) {
  process.on('exit', () => cleanupSync(options));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}: stopping every child and deleting the namespaces\n`);
      cleanupSync(options);
      process.exit(130);
    });
  }
}

/** VmRSS in MiB, or NaN when the process is gone. */
export function rssMiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) used so far, from /proc/PID/stat. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Samples VmRSS every `everyMs` until stopped; returns the peak. */
export function rssSampler(pid, everyMs = 200) {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    const v = rssMiB(pid);
    if (v > peak || Number.isNaN(peak)) peak = v;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const v = rssMiB(pid);
      return Number.isNaN(v) ? peak : Math.max(peak, v);
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Whole-box CPU counters from /proc/stat: busy and total jiffies over all cores. */
export function boxCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Percent of the whole box (all cores) that was busy between two boxCpu() readings. */
export function boxBusyPercent(a, b) {
  const t = b.total - a.total;
  return t > 0 ? Math.round((100 * (b.busy - a.busy)) / t) : NaN;
}

/** UDP counters of a namespace (/proc/net/snmp): RcvbufErrors = datagrams dropped because a socket's receive buffer was full. */
export function udpCounters(ns) {
  const text = execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' });
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  const keys = lines[0].split(/\s+/).slice(1);
  const vals = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(keys.map((k, i) => [k, vals[i]]));
}

/**
 * Writes back every dirty page (sync) before a run: the lease files and logs of
 * the previous server's run must not be flushed during the next one, where they
 * would slow its fsyncs (provlab's ACKs wait for one; Kea's memfile and dnsmasq
 * do not sync). Returns the dirty data there was and how long the sync took.
 */
export function settleDisk() {
  const dirtyKiB = Number(/^Dirty:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? NaN);
  const t0 = Date.now();
  execFileSync('sync');
  return { dirtyKiB, syncMs: Date.now() - t0 };
}

/**
 * On a shared box, waits (at most `maxMs`) for a second in which the whole box
 * is at most `threshold` % busy, so a peer's run and provlab's see the same
 * quiet machine rather than whatever else happened to run. Returns what it saw.
 */
export async function waitQuiet({ threshold = 25, maxMs = 30_000 } = {}) {
  const t0 = Date.now();
  let busy = NaN;
  for (;;) {
    const a = boxCpu();
    await sleep(1000);
    busy = boxBusyPercent(a, boxCpu());
    if (busy <= threshold || Date.now() - t0 >= maxMs) return { waitedMs: Date.now() - t0, busyPercent: busy, quiet: busy <= threshold };
  }
}
