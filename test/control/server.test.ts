// The control endpoint over real HTTP on loopback: routes, JSON shapes, the
// loopback-only bind, the Host check against DNS rebinding, read-only
// methods, server-sent change notices, and what happens when the port is taken.
import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { silentLogger } from '../../src/log.js';
import { startControl, hostAllowed, type LeasesResponse, type StatusResponse } from '../../src/control/server.js';
import { controlPlan, sampleLeases, sampleTimeline, DONE, HALF, T0 } from './fixtures/site.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'provlab-control-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, path: string, options: { method?: string; host?: string } = {}): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path, method: options.method ?? 'GET', headers: options.host ? { Host: options.host } : {}, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function started(t: Test) {
  const dir = tempDir(t);
  const plan = controlPlan(dir, 0);
  const timeline = sampleTimeline(plan);
  const control = await startControl(plan, { logger: silentLogger(), timeline, leases: () => sampleLeases(), now: () => T0 + 60_000 });
  t.teardown(() => control.stop());
  return { plan, timeline, control, url: control.url! };
}

t.test('GET /api/status: the timeline and who serves it', async (t) => {
  const { plan, url } = await started(t);
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const r = await request(url, '/api/status');
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /^application\/json/);
  t.equal(r.headers['cache-control'], 'no-store');
  t.equal(r.headers['access-control-allow-origin'], undefined, 'no CORS: other origins cannot read it');
  const s = JSON.parse(r.body) as StatusResponse;
  t.equal(s.site, 'control-test');
  t.same(s.domains, ['schertz.name', 'corp.schertz.name']);
  t.same(s.appliance, { site: 'control-test', sourceFile: plan.sourceFile, statePath: plan.statePath, pid: process.pid, startedAt: T0 + 60_000 });
  t.same(s.phones.map((p) => p.mac), [DONE, HALF]);
  t.same(s.phones[0]!.missing, []);
  t.ok(s.phones[1]!.missing.includes('asked ucupdates-r2.corp.x but that domain is not in the site (schertz.name, corp.schertz.name)'));
});

t.test('GET /api/leases: rows sorted by address, active worked out', async (t) => {
  const { url } = await started(t);
  const r = await request(url, '/api/leases');
  t.equal(r.status, 200);
  const l = JSON.parse(r.body) as LeasesResponse;
  t.same(l.leases.map((x) => [x.ip, x.state, x.active]), [
    ['10.20.0.99', 'expired', false],
    ['10.20.0.101', 'bound', true],
    ['10.20.0.102', 'bound', true],
  ]);
  t.equal(l.leases[1]!.hostname, 'cx600-lobby');
  t.equal(l.leases[0]!.hostname, null);
  t.same(l.addresses.map((a) => [a.ip, a.mac]), [
    ['10.20.0.101', DONE],
    ['10.20.0.102', HALF],
  ]);
});

t.test('GET /: a self-contained page under a strict CSP', async (t) => {
  const { url } = await started(t);
  const r = await request(url, '/');
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /^text\/html/);
  const csp = String(r.headers['content-security-policy']);
  t.match(csp, /default-src 'none'/);
  t.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
  t.notMatch(csp, /unsafe-inline/);
  t.equal(r.headers['x-frame-options'], 'DENY');
  t.notMatch(r.body, /\b(src|href)=/i, 'no external assets');
  t.notMatch(r.body, /innerHTML/, 'data is inserted as text only');
  const head = await request(url, '/', { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(head.body, '');
});

t.test('read-only, unknown paths, and the Host check', async (t) => {
  const { url } = await started(t);
  const post = await request(url, '/api/status', { method: 'POST' });
  t.equal(post.status, 405);
  t.equal(post.headers.allow, 'GET, HEAD');
  t.equal((await request(url, '/nope')).status, 404);
  t.equal((await request(url, '/api/status?x=1')).status, 200, 'a query string is ignored');
  const port = new URL(url).port;
  t.equal((await request(url, '/api/status', { host: `localhost:${port}` })).status, 200);
  t.equal((await request(url, '/api/status', { host: 'localhost:8080' })).status, 200, 'an SSH tunnel on another local port still works');
  const rebound = await request(url, '/api/status', { host: `attacker.example:${port}` });
  t.equal(rebound.status, 421, 'DNS rebinding: a foreign Host is refused');
  t.notMatch(rebound.body, /phones/);
  t.equal((await request(url, '/', { host: '10.20.0.1' })).status, 421);

  t.ok(hostAllowed(undefined));
  t.ok(hostAllowed('127.0.0.1:9067'));
  t.ok(hostAllowed('LOCALHOST'));
  t.ok(hostAllowed('localhost.:9067'));
  t.notOk(hostAllowed('127.0.0.1.nip.io'));
  t.notOk(hostAllowed('[::1]:9067'), 'we do not listen on ::1');
  t.notOk(hostAllowed('localhost:9067:1'));
});

t.test('it listens on 127.0.0.1 only', async (t) => {
  const { url } = await started(t);
  const port = Number(new URL(url).port);
  // 127.0.0.2 is loopback too: a wildcard bind would answer there.
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const s = net.connect({ host: '127.0.0.2', port }, () => {
      s.destroy();
      resolve(null);
    });
    s.on('error', (e) => resolve(e as NodeJS.ErrnoException));
  });
  t.equal(err?.code, 'ECONNREFUSED', 'nothing on 127.0.0.2');
});

t.test('/api/events tells a live page when the timeline changed', async (t) => {
  const { url, timeline, control } = await started(t);
  const u = new URL(url);
  const frames: string[] = [];
  let res!: http.IncomingMessage;
  await new Promise<void>((resolve, reject) => {
    http
      .get({ host: u.hostname, port: u.port, path: '/api/events' }, (r) => {
        res = r;
        r.setEncoding('utf8');
        r.on('data', (c: string) => frames.push(c));
        resolve();
      })
      .on('error', reject);
  });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^text\/event-stream/);
  const until = async (pred: () => boolean) => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
    return pred();
  };
  const v0 = timeline.currentVersion;
  t.ok(await until(() => frames.join('').includes(`data: ${v0}`)), 'the current version on connect');
  // A burst of events is one notice.
  for (let i = 0; i < 5; i++) timeline.onNtpClient({ address: '10.20.0.102', version: 4, clientOffsetMs: 0, kind: 'reply', at: T0 + 7000 + i });
  t.ok(await until(() => frames.join('').includes(`data: ${v0 + 5}`)), 'the new version after the burst');
  t.equal(frames.join('').split('event: version').length - 1, 2, 'coalesced into one push');
  const ended = new Promise<void>((resolve) => res.on('end', () => resolve()));
  await control.stop();
  await ended;
  t.pass('stop() ends live streams');
});

t.test('a taken port: a warning and no endpoint, or an error when required', async (t) => {
  const dir = tempDir(t);
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())));
  const port = (blocker.address() as net.AddressInfo).port;
  const plan = controlPlan(dir, port);
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const timeline = sampleTimeline(plan);
  const c = await startControl(plan, { logger, timeline, leases: () => [] });
  t.equal(c.url, null);
  t.match(String(lines.find((l) => l.level === 40)?.msg), new RegExp(`control endpoint not started: port ${port} is in use`));
  await c.stop();
  await t.rejects(startControl(plan, { logger: silentLogger(), timeline, leases: () => [], required: true }), /is in use/);
});

t.test('control.enabled: false serves nothing, and stop() frees the port', async (t) => {
  const dir = tempDir(t);
  const off = await startControl(controlPlan(dir, 9067, false), { logger: silentLogger(), timeline: sampleTimeline(controlPlan(dir, 0)), leases: () => [] });
  t.equal(off.url, null);
  await off.stop();

  const { control, url } = await started(t);
  await control.stop();
  await control.stop();
  await t.rejects(request(url, '/api/status'), { code: 'ECONNREFUSED' });
});

t.test('reload: the endpoint reports the new site name; the timeline is not its to change', async (t) => {
  const { plan, control, url } = await started(t);
  control.reload({ ...plan, site: 'renamed' });
  const s = JSON.parse((await request(url, '/api/status')).body) as StatusResponse;
  t.equal(s.appliance.site, 'renamed');
  t.equal(s.appliance.statePath, plan.statePath, 'the state directory of the start');
  // The appliance gives the timeline the new site (test/appliance/appliance.test.ts).
  t.equal(s.site, 'control-test');
});
