// `provlab status` and `provlab leases` as processes (compiled CLI commands),
// against a control endpoint served from this test process: the table, --json,
// provlab not running, a control port answered by another site's provlab, and
// the lease journal read directly only when nobody holds it.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/log.js';
import { startControl, type StatusResponse } from '../../src/control/server.js';
import type { Plan } from '../../src/site/plan.js';
import { LeaseJournal } from '../../src/dhcp/lease-journal.js';
import { controlSite, sampleLeases, sampleTimeline, DONE, HALF, T0 } from './fixtures/site.js';
import { planOfFile } from '../helpers/sites.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--log-level', 'warn', '--log-format', 'json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function site(t: Test, port: number, name = 'cli-test') {
  const dir = mkdtempSync(join(tmpdir(), 'provlab-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'site.yaml');
  writeFileSync(file, controlSite({ name, control: { port }, state: './state' }));
  return { dir, file, plan: planOfFile(file) };
}

async function serve(t: Test, plan: Plan) {
  const control = await startControl(plan, { logger: silentLogger(), timeline: sampleTimeline(plan), leases: () => sampleLeases(), required: true, now: () => T0 + 60_000 });
  t.teardown(() => control.stop());
  return control;
}

t.test('provlab status: a table per phone with what is missing, and --json', async (t) => {
  const s = await site(t, await freePort());
  await serve(t, s.plan);
  const r = await run(['status', '--site', s.file]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.match(lines[0], /^site cli-test · domains schertz\.name, corp\.schertz\.name · 2 phones · \d\d:\d\d:\d\d$/);
  const header = lines.find((l) => l.startsWith('PHONE'))!;
  t.match(header, /^PHONE\s+ADDRESS\s+LEASE\s+INFORM 43\/120\s+UCUPDATES-R2\s+TIME LOOKUP\s+NTP$/);
  const done = lines.find((l) => l.startsWith(DONE))!;
  t.match(done, /10\.20\.0\.101\s+✓ \d\d:\d\d:\d\d\s+✓ \d\d:\d\d:\d\d 43\+120\s+✓ \d\d:\d\d:\d\d schertz\.name\s+✓ .*_ntp\._udp\s+✓ \d\d:\d\d:\d\d off by \+1\.500 s/);
  const half = lines.findIndex((l) => l.startsWith(HALF));
  t.match(lines[half], /10\.20\.0\.102\s+✓ \d\d:\d\d:\d\d\s+·\s+! \d\d:\d\d:\d\d corp\.x \(not in site\)\s+·\s+·$/);
  const below = lines.slice(half + 1, half + 6).join('\n');
  t.match(below, /✗ never sent INFORM/);
  t.match(below, /✗ asked ucupdates-r2\.corp\.x but that domain is not in the site \(schertz\.name, corp\.schertz\.name\)/);
  t.match(below, /✗ no NTP request yet/);
  t.notMatch(r.stdout, /\u001b\[/, 'no colours with NO_COLOR');

  const j = await run(['status', '--json', '--site', s.file]);
  t.equal(j.code, 0);
  const doc = JSON.parse(j.stdout) as StatusResponse;
  t.same(doc.phones.map((p) => p.mac), [DONE, HALF]);
  t.equal(doc.appliance.statePath, s.plan.statePath);
});

t.test('provlab status when provlab is not running, or another site answers', async (t) => {
  const port = await freePort();
  const s = await site(t, port);
  const r = await run(['status', '--site', s.file]);
  t.equal(r.code, 3);
  t.match(r.stderr, new RegExp(`provlab is not running for site cli-test \\(nothing listens on 127\\.0\\.0\\.1:${port}\\)`));

  const other = await site(t, port, 'other-site');
  await serve(t, other.plan);
  const f = await run(['status', '--site', s.file]);
  t.equal(f.code, 1);
  t.match(f.stderr, /is the control endpoint of another provlab \(site other-site/);
  t.equal(f.stdout, '', 'never shows another site\'s phones');
});

t.test('provlab leases: from the running provlab', async (t) => {
  const s = await site(t, await freePort());
  await serve(t, s.plan);
  const r = await run(['leases', '--site', s.file]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.match(lines[0], /^ADDRESS\s+MAC\s+STATE\s+EXPIRES\s+HOST NAME\s+VENDOR CLASS$/);
  t.match(lines[1], /^10\.20\.0\.99\s+02:00:00:00:00:01\s+expired/);
  t.match(lines[2], /^10\.20\.0\.101\s+00:04:f2:95:31:a2\s+bound\s+\d\d:\d\d:\d\d \(in 59m\)\s+cx600-lobby\s+MS-UC-Client$/);
  t.equal(lines.length, 4);
  const j = JSON.parse((await run(['leases', '--json', '--site', s.file])).stdout) as { source: string; leases: unknown[] };
  t.equal(j.source, 'control');
  t.equal(j.leases.length, 3);
  t.notOk(existsSync(join(s.plan.statePath, 'leases.lock')), 'the journal was not touched while provlab runs');
});

t.test('provlab leases: from the journal when provlab is not running', async (t) => {
  const s = await site(t, await freePort());
  const none = await run(['leases', '--site', s.file]);
  t.equal(none.code, 0);
  t.equal(none.stdout, 'no leases\n');
  t.notOk(existsSync(s.plan.statePath), 'no state dir is created by reading');

  const { journal } = await LeaseJournal.open(s.plan.statePath, { fsync: false });
  for (const r of sampleLeases()) await journal.append(r);
  await journal.close();
  const r = await run(['leases', '--json', '--site', s.file]);
  t.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { source: string; leases: { ip: string; hostname: string | null }[] };
  t.equal(j.source, 'journal');
  t.same(j.leases.map((l) => l.ip), ['10.20.0.99', '10.20.0.101', '10.20.0.102']);
  t.notOk(existsSync(join(s.plan.statePath, 'leases.lock')), 'the lock was released');
  const table = await run(['leases', '--site', s.file]);
  t.match(table.stderr, /provlab is not running: read from the lease journal/);
  t.match(table.stdout, /10\.20\.0\.101\s+00:04:f2:95:31:a2\s+bound/);

  // Someone holds the journal (a provlab whose endpoint is off or unreachable): refuse, never take it.
  const held = await LeaseJournal.open(s.plan.statePath, { fsync: false });
  t.teardown(() => held.journal.close());
  const locked = await run(['leases', '--site', s.file]);
  t.equal(locked.code, 1);
  t.match(locked.stderr, new RegExp(`provlab \\(pid ${process.pid}\\) is running and holds the lease journal, but its control endpoint could not be asked: provlab is not running`));
});
