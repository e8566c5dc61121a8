// CWE-59: `up --user nobody` hands the state directory to nobody; nobody then
// plants symlinks there (provlab.pid and leases.journal.next pointing at
// root-owned 0600 files elsewhere). The next start as root must neither write
// through them nor chown their targets: it refuses a directory owned by someone
// it does not run as, and with --user set to that owner it replaces the links.
import t from 'tap';
import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { CLI, startProvlab, tempDir, writeSite, type Running } from '../helpers/provlab.js';
import { LOOPBACK_SITE, mergeSite, siteYaml } from '../helpers/sites.js';

const skip = process.getuid?.() !== 0 ? 'needs root (start as root, plant as nobody)' : false;

const NET = `127.${200 + (process.pid % 40)}.0`;
const PORT = 40000 + (process.pid % 3000) * 3;

function setup(name: string, plant = ['provlab.pid', 'leases.journal.next']): { dir: string; state: string; site: string; targets: Record<string, string>; nobody: { uid: number; gid: number } } {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  const nobody = {
    uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim()),
  };
  const state = join(dir, 'state');
  // What an earlier `up --user nobody` left: the state directory owned by nobody.
  mkdirSync(state, { mode: 0o755 });
  chownSync(state, nobody.uid, nobody.gid);
  const targets: Record<string, string> = {};
  for (const planted of plant) {
    const target = join(dir, `root-secret-${planted}`);
    writeFileSync(target, `root's own ${planted} target\n`, { mode: 0o600 });
    targets[planted] = target;
    symlinkSync(target, join(state, planted));
    lchownSync(join(state, planted), nobody.uid, nobody.gid); // as if nobody ran ln -s
  }
  const site = writeSite(
    dir,
    siteYaml(mergeSite(LOOPBACK_SITE, { site: name, dhcp: { subnet: `${NET}.0/24`, pool: `${NET}.10-${NET}.200` }, listen: PORT, state })),
  );
  return { dir, state, site, targets, nobody };
}

/** The exit code, or 'started' when it came up instead of refusing (the old behaviour). */
async function exitOrReady(p: Running): Promise<number | null | 'started'> {
  const exited = new Promise<number | null>((r) => p.child.once('exit', r));
  const ready = p.waitForLog((l) => String(l.msg).startsWith('provlab up:'), 60_000).then(
    () => 'started' as const,
    () => exited,
  );
  return Promise.race([exited, ready]);
}

function assertUntouched(t: Tap.Test, targets: Record<string, string>): void {
  for (const [planted, target] of Object.entries(targets)) {
    const st = statSync(target);
    t.equal(readFileSync(target, 'utf8'), `root's own ${planted} target\n`, `${planted}'s target not written`);
    t.equal(st.uid, 0, `${planted}'s target still owned by root`);
    t.equal(st.gid, 0, `${planted}'s target still in group root`);
    t.equal(st.mode & 0o777, 0o600, `${planted}'s target still 0600`);
  }
}

t.test('as root, a state directory owned by another user is refused, nothing written through it', { skip }, async (t) => {
  const { state, site, targets, nobody } = setup('cwe59-refuse');
  const p = startProvlab(['up', '--site', site]);
  t.teardown(() => p.stop('SIGKILL'));
  const code = await exitOrReady(p);
  t.equal(code, 1, 'exit 1');
  const fatal = String(p.logs.find((l) => l.level === 60)?.msg);
  t.match(fatal, `state directory ${state} is owned by another user (owner uid ${nobody.uid}, mode 0755)`, 'says which directory, its owner and mode');
  t.match(fatal, `chown root:root ${state}`, 'and what to do');
  assertUntouched(t, targets);
  t.ok(lstatSync(join(state, 'provlab.pid')).isSymbolicLink(), 'the planted link is left for the admin to see');
});

t.test('as root with --user set to its owner: a planted lease file stops the start, its target untouched', { skip }, async (t) => {
  const { state, site, targets } = setup('cwe59-user-journal');
  const p = startProvlab(['up', '--site', site, '--user', 'nobody']);
  t.teardown(() => p.stop('SIGKILL'));
  const code = await exitOrReady(p);
  t.equal(code, 1, 'exit 1');
  const fatal = String(p.logs.find((l) => l.level === 60)?.msg);
  t.match(fatal, `${join(state, 'leases.journal.next')}: a symbolic link; not opened`, 'names the planted file');
  assertUntouched(t, targets);
});

t.test('as root with --user set to its owner: a planted pid file is replaced, never followed', { skip }, async (t) => {
  const { state, site, targets, nobody } = setup('cwe59-user-pid', ['provlab.pid', 'leases.lock', 'leases.snapshot.tmp']);
  // A lock file planted as a link cannot be opened either: remove that one, keep the rest.
  execFileSync('rm', [join(state, 'leases.lock')]);
  const p = startProvlab(['up', '--site', site, '--user', 'nobody']);
  t.teardown(() => p.stop('SIGKILL'));
  await p.waitForLog((l) => String(l.msg).startsWith('provlab up:'));
  assertUntouched(t, targets);
  const pid = lstatSync(join(state, 'provlab.pid'));
  t.ok(pid.isFile(), 'provlab.pid is a file of its own now');
  t.equal(pid.uid, 0, 'the pid file stays root\'s (provlab reload signals what it names)');
  t.equal(readFileSync(join(state, 'provlab.pid'), 'utf8'), `${p.child.pid}\n`);
  const journal = lstatSync(join(state, 'leases.journal'));
  t.ok(journal.isFile());
  t.equal(journal.uid, nobody.uid, 'the lease files belong to the service user');
  t.equal(statSync(state).uid, nobody.uid, 'the directory too (compaction creates files after the drop)');
  t.equal(await p.stop('SIGTERM'), 0);
  assertUntouched(t, targets);
});

t.test('as root, a planted lock file stops the start, its target untouched', { skip }, async (t) => {
  const { state, site, targets } = setup('cwe59-lock', ['leases.lock']);
  const p = startProvlab(['up', '--site', site, '--user', 'nobody']);
  t.teardown(() => p.stop('SIGKILL'));
  const code = await exitOrReady(p);
  t.equal(code, 1, 'exit 1');
  t.match(String(p.logs.find((l) => l.level === 60)?.msg), `${join(state, 'leases.lock')}: a symbolic link`);
  assertUntouched(t, targets);
});

t.test('provlab reload as root signals no pid from a pid file the service user wrote', { skip }, async (t) => {
  const { state, site, nobody } = setup('cwe59-reload', []);
  const victim = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => victim.kill('SIGKILL'));
  writeFileSync(join(state, 'provlab.pid'), `${victim.pid}\n`);
  chownSync(join(state, 'provlab.pid'), nobody.uid, nobody.gid);
  const r = spawnSync(process.execPath, [CLI, 'reload', '--site', site], { encoding: 'utf8' });
  t.equal(r.status, 1, 'refused');
  t.match(r.stderr, /owned by uid \d+, not by root/);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(victim.exitCode, null, 'the process it named got no SIGHUP');
  t.equal(victim.signalCode, null);
});
