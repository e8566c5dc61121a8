// Any local user can open sockets to the control endpoint. Silent ones, slow
// ones (headers a byte at a time) and a full set of event streams must not
// keep `provlab status` out: the endpoint closes the oldest idle connection to
// make room, drops sockets whose headers do not arrive within seconds, and
// keeps event streams to half of its connections.
import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log.js';
import { admit, startControl, type Conn } from '../../src/control/server.js';
import { controlPlan, sampleLeases, sampleTimeline, T0 } from './fixtures/site.js';

async function started(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'provlab-control-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const plan = controlPlan(dir, 0);
  const control = await startControl(plan, { logger: silentLogger(), timeline: sampleTimeline(plan), leases: () => sampleLeases(), now: () => T0 + 60_000 });
  t.teardown(() => control.stop());
  const u = new URL(control.url!);
  return { port: Number(u.port) };
}

/** A GET the way `provlab status` does it; its own generous timeout only ends a hung test. */
function status(port: number, path = '/api/status'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
    req.end();
  });
}

/** Opens `n` sockets; `onOpen` may write to each. Closed at teardown. */
async function sockets(t: Test, port: number, n: number, onOpen: (s: net.Socket) => void = () => {}): Promise<{ all: net.Socket[]; closed: () => number }> {
  const all: net.Socket[] = [];
  let closed = 0;
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.on('close', () => closed++);
    s.resume();
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    onOpen(s);
    all.push(s);
  }
  t.teardown(() => all.forEach((s) => s.destroy()));
  return { all, closed: () => closed };
}

t.test('64 silent sockets do not keep a status request out', async (t) => {
  const { port } = await started(t);
  const idle = await sockets(t, port, 64);
  t.equal(await status(port), 200, 'answered while they are open');
  t.ok(idle.closed() >= 1, 'the oldest silent socket made room');
});

t.test('64 slow sockets (headers a byte at a time) do not keep it out, and are dropped', async (t) => {
  const { port } = await started(t);
  const timers: NodeJS.Timeout[] = [];
  t.teardown(() => timers.forEach(clearInterval));
  const header = 'GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(200);
  const slow = await sockets(t, port, 64, (s) => {
    let i = 0;
    s.write(header[i++]!);
    timers.push(setInterval(() => !s.destroyed && s.write(header[i++ % header.length]!), 250));
  });
  t.equal(await status(port), 200, 'answered while they trickle');
  // headersTimeout: 5 s, checked every second; wait for the rest of them to be cut.
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (slow.closed() === 64) {
        clearInterval(poll);
        resolve();
      }
    }, 200);
  });
  t.equal(slow.closed(), 64, 'every slow socket was closed by the endpoint');
});

t.test('a full set of event streams plus silent sockets leave room for requests', async (t) => {
  const { port } = await started(t);
  // Each stream answered (its first event) before the silent sockets come.
  const answered: Promise<unknown>[] = [];
  await sockets(t, port, 32, (s) => {
    answered.push(new Promise((resolve) => s.once('data', resolve)));
    s.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  });
  await Promise.all(answered);
  await sockets(t, port, 32);
  t.equal(await status(port), 200, 'plain request answered');
  t.equal(await status(port, '/api/events?probe'), 503, 'a 33rd stream is refused (the page then polls)');
});

t.test('admit: the oldest idle connection makes room; busy and streaming ones are kept', async (t) => {
  const c = (address: string, state: Conn['state']) => ({ socket: {} as net.Socket, address, state }) as Conn;
  const a1 = c('127.0.0.1', 'busy');
  const a2 = c('127.0.0.1', 'idle');
  const b1 = c('127.0.0.2', 'idle');
  t.same(admit([a1, a2, b1], '127.0.0.3', 4, 2), { ok: true }, 'room left');
  t.equal((admit([a1, a2, b1], '127.0.0.3', 3, 2) as { evict?: Conn }).evict, a2, 'full: the oldest idle one');
  t.equal((admit([a1, b1, a2], '127.0.0.1', 8, 2) as { evict?: Conn }).evict, a2, 'address at its cap: its own oldest idle one');
  t.same(admit([a1, c('127.0.0.1', 'stream')], '127.0.0.1', 8, 2), { ok: false }, 'nothing idle to close: refused');
});
