// Knot DNS (knotd) and NSD as reference authoritative servers for the
// differential test: each started by the test itself, in the foreground, on
// 127.0.0.1 and a free high port, from a temp dir with its own config file,
// loaded with the zone files `provlab export bind -o DIR` wrote. Never as a
// service: no systemd, no /etc, no /var/lib. Each runs in a process group of
// its own, so stop() (and the exit hook, should the test die first) ends it
// and every child it forked (NSD forks its server and xfrd processes).
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from './netns.js';

export type ReferenceName = 'knot' | 'nsd';

/** One zone as the BIND export wrote it: `zone "APEX" { file "db.APEX"; }` in named.conf.provlab. */
export interface ExportedZone {
  apex: string;
  /** Absolute path of the zone file. */
  file: string;
}

export interface ReferenceServer {
  name: ReferenceName;
  port: number;
  /** What the server wrote to stdout/stderr (and NSD's log file), for a failure message. */
  log(): string;
  stop(): Promise<void>;
}

/** The binaries, where Debian's `knot` and `nsd` packages put them; null when not installed. */
export function referenceBinaries(): Record<ReferenceName, string | null> {
  return { knot: which('knotd'), nsd: which('nsd') };
}

/** The zones of a BIND export directory, from its named.conf.provlab. */
export function exportedZones(dir: string): ExportedZone[] {
  const conf = readFileSync(join(dir, 'named.conf.provlab'), 'utf8');
  return [...conf.matchAll(/zone "([^"]*)" \{[^}]*file "([^"]+)";/g)].map((m) => ({ apex: m[1]!, file: join(dir, m[2]!) }));
}

/** A port free for both UDP and TCP on 127.0.0.1 right now (the kernel picks it for TCP; UDP is checked). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
    const udp = dgram.createSocket('udp4');
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    udp.close();
    await new Promise((r) => server.close(r));
    if (udpFree) return port;
  }
  throw new Error('no port free for both UDP and TCP on 127.0.0.1');
}

const groups = new Set<number>();
function killGroups(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  groups.clear();
}
// Should the test process end before its teardown (an exception, tap's
// timeout signal), the servers end with it: they sit in groups of their own,
// where no terminal or parent signal reaches them.
process.once('exit', killGroups);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killGroups();
    process.kill(process.pid, signal);
  });
}

function knotConf(dir: string, port: number, zones: readonly ExportedZone[]): string {
  return [
    'server:',
    `    rundir: "${dir}"`,
    `    listen: 127.0.0.1@${port}`,
    '    udp-workers: 1',
    '    tcp-workers: 1',
    '    background-workers: 1',
    'database:',
    `    storage: "${join(dir, 'db')}"`,
    'log:',
    '  - target: stderr',
    '    any: notice',
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    // Serve the files as they are: never write them back, keep no journal.
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    'zone:',
    ...zones.flatMap((z) => [`  - domain: "${z.apex}."`, `    file: "${z.file}"`]),
    '',
  ].join('\n');
}

function nsdConf(dir: string, port: number, zones: readonly ExportedZone[]): string {
  return [
    'server:',
    `    ip-address: 127.0.0.1@${port}`,
    `    port: ${port}`,
    '    do-ip6: no',
    // Stay root in the temp dir: no chroot, no user switch, no zone database.
    '    username: ""',
    '    chroot: ""',
    `    zonesdir: "${dir}"`,
    '    database: ""',
    `    pidfile: "${join(dir, 'nsd.pid')}"`,
    `    xfrdfile: "${join(dir, 'xfrd.state')}"`,
    `    zonelistfile: "${join(dir, 'zone.list')}"`,
    `    xfrdir: "${dir}"`,
    `    logfile: "${join(dir, 'nsd.log')}"`,
    '    server-count: 1',
    '    verbosity: 1',
    // NSD is built with response rate limiting on; the test's burst of queries must not be slipped.
    '    rrl-ratelimit: 0',
    '    rrl-whitelist-ratelimit: 0',
    // No NS RRset in the authority section of positive answers (and no glue
    // for it): what Knot does, and BIND's default (no-auth). RFC 2181 §6.1 lets
    // a server leave it out; without this every answer would differ.
    '    minimal-responses: yes',
    'remote-control:',
    '    control-enable: no',
    ...zones.flatMap((z) => ['zone:', `    name: "${z.apex}."`, `    zonefile: "${z.file}"`]),
    '',
  ].join('\n');
}

/** Resolves once every zone's SOA is answered authoritatively, or rejects (the server's log in the message). */
async function waitServing(child: ChildProcess, port: number, zones: readonly ExportedZone[], log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  try {
    for (const [i, z] of zones.entries()) {
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before serving:\n${log()}`);
        if (Date.now() > deadline) throw new Error(`zone ${z.apex} not served after ${timeoutMs} ms:\n${log()}`);
        const answer = await soaProbe(sock, port, z.apex, 0x7000 + i);
        // QR, AA and NOERROR: the zone is loaded.
        if (answer && answer.length >= 12 && (answer[2]! & 0x84) === 0x84 && (answer[3]! & 0x0f) === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    sock.close();
  }
}

function soaProbe(sock: dgram.Socket, port: number, apex: string, id: number): Promise<Buffer | null> {
  const labels = apex === '' ? [] : apex.split('.');
  const q = Buffer.concat([
    Buffer.from([id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])),
    Buffer.from([0, 0, 6, 0, 1]),
  ]);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      sock.off('message', onMessage);
      resolve(null);
    }, 200);
    const onMessage = (m: Buffer) => {
      if (m.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      sock.off('message', onMessage);
      resolve(m);
    };
    sock.on('message', onMessage);
    sock.send(q, port, '127.0.0.1');
  });
}

/**
 * Starts knotd or nsd in `dir` (a fresh temp dir) on a free port with the
 * given zones; resolves when every zone answers. Retries on another port if
 * the one picked was taken meanwhile.
 */
export async function startReference(name: ReferenceName, dir: string, zones: readonly ExportedZone[], timeoutMs = 15_000): Promise<ReferenceServer> {
  const bin = referenceBinaries()[name];
  if (!bin) throw new Error(`${name === 'knot' ? 'knotd' : 'nsd'} is not installed (Debian package ${name})`);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const home = join(dir, `${name}-${attempt}`);
    mkdirSync(home, { recursive: true });
    const conf = join(home, `${name}.conf`);
    writeFileSync(conf, name === 'knot' ? knotConf(home, port, zones) : nsdConf(home, port, zones));
    const args = name === 'knot' ? ['-c', conf] : ['-d', '-c', conf];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    groups.add(child.pid!);
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => void (output += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => void (output += s));
    const log = () => {
      let file = '';
      try {
        if (name === 'nsd') file = readFileSync(join(home, 'nsd.log'), 'utf8');
      } catch {
        // no log yet
      }
      return `${output}${file}`.slice(-4000);
    };
    const server: ReferenceServer = {
      name,
      port,
      log,
      stop: () => stopGroup(child),
    };
    try {
      await waitServing(child, port, zones, log, timeoutMs);
      return server;
    } catch (e) {
      lastError = e;
      await server.stop();
    }
  }
  throw new Error(`${name}: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

/** SIGTERM to the whole group (NSD stops its children itself), SIGKILL after 3 s. */
function stopGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid!;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      // the group is gone
    }
  };
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal('SIGKILL'); // forked children that outlived the leader
      groups.delete(pid);
      resolve();
    };
    const timer = setTimeout(done, 3000);
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', done);
    signal('SIGTERM');
  });
}
