// `provlab cert ...` as a user runs it: the built CLI (dist/, built by
// `npm test`'s pretest), checked with openssl. PROVLAB_CLI points elsewhere
// to try a build before the command is wired into main.ts.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI } from '../helpers/provlab.js';
import { makeCa, makeLeaf, makePfx, opensslSkip, run, tmp } from './fixtures/openssl.js';
import { TWO_DOMAINS, writeSiteFile } from './fixtures/sites.js';

const skip = opensslSkip();
const cli = process.env.PROVLAB_CLI ?? CLI;

function provlab(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, '--log-format', 'json', '--log-level', 'warn', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('cert --help lists the subcommands', async (t) => {
  const r = provlab(['cert', '--help']);
  t.equal(r.status, 0, r.stderr);
  for (const sub of ['lab-ca', 'rootchain', 'check']) t.match(r.stdout, new RegExp(`^\\s+${sub}\\b`, 'm'), sub);
  for (const sub of ['lab-ca', 'rootchain', 'check']) t.equal(provlab(['cert', sub, '--help']).status, 0, `${sub} --help`);
});

t.test('lab-ca, rootchain, check: the whole path', { skip }, async (t) => {
  const dir = tmp();
  const site = writeSiteFile(dir, TWO_DOMAINS);
  const out = join(dir, 'pki');

  const made = provlab(['cert', 'lab-ca', '--site', site, '--out', out, '--password', 'pfx-pw']);
  t.equal(made.status, 0, made.stderr);
  t.match(made.stdout, /web certificate SAN: ucupdates-r2, ucupdates-r2\.schertz\.name, ucupdates-r2\.corp\.schertz\.name, lyncpool\.schertz\.name, lyncweb\.schertz\.name/);
  for (const f of ['ca.key', 'web.key', 'web.pfx']) t.equal(statSync(join(out, f)).mode & 0o777, 0o600, `${f} is 0600`);
  const v = run('openssl', ['verify', '-CAfile', join(out, 'ca.pem'), join(out, 'web.pem')]);
  t.equal(v.status, 0, v.stderr);
  t.match(run('openssl', ['x509', '-in', join(out, 'web.pem'), '-noout', '-ext', 'subjectAltName']).stdout, /DNS:ucupdates-r2, DNS:ucupdates-r2\.schertz\.name, DNS:ucupdates-r2\.corp\.schertz\.name/);

  const again = provlab(['cert', 'lab-ca', '--site', site, '--out', out]);
  t.equal(again.status, 2, 'refuses to overwrite the root');
  t.match(again.stderr, /already holds .*--force/);
  const caBefore = readFileSync(join(out, 'ca.pem'), 'utf8');
  const reuse = provlab(['cert', 'lab-ca', '--site', site, '--out', out, '--reuse-ca', '--json']);
  t.equal(reuse.status, 0, reuse.stderr);
  const j = JSON.parse(reuse.stdout) as { caReused: boolean; sans: string[]; files: { path: string; mode: string; secret: boolean }[] };
  t.equal(j.caReused, true);
  t.equal(j.sans[0], 'ucupdates-r2');
  t.ok(j.files.every((f) => f.mode === (f.secret ? '600' : '644')));
  t.equal(readFileSync(join(out, 'ca.pem'), 'utf8'), caBefore, 'root kept');

  const rc = provlab(['cert', 'rootchain', '--ca', join(out, 'ca.pem')]);
  t.equal(rc.status, 0, rc.stderr);
  t.match(rc.stdout, /^MII[A-Za-z0-9+/]+=*\n$/, 'one line of base64');
  const p7 = join(dir, 'chain.p7b');
  writeFileSync(p7, Buffer.from(rc.stdout.trim(), 'base64'));
  const printed = run('openssl', ['pkcs7', '-inform', 'DER', '-in', p7, '-print_certs', '-noout']);
  t.equal(printed.status, 0, printed.stderr);
  t.match(printed.stdout, /subject=CN = provlab lab root CA \(cert-lab\), O = provlab lab/);
  const chainTxt = join(dir, 'chain.txt');
  writeFileSync(chainTxt, rc.stdout);

  const ok = provlab(['cert', 'check', join(out, 'web.pem'), '--root', chainTxt, '--site', site]);
  t.equal(ok.status, 0, ok.stdout + ok.stderr);
  t.match(ok.stdout, /^✔ SAN has the short name ucupdates-r2/m);
  t.match(ok.stdout, /^✔ SAN has ucupdates-r2\.corp\.schertz\.name/m);
  t.match(ok.stdout, /^✔ chains to the given root/m);
  t.match(ok.stdout, /^ℹ a public CA refuses short names/m);
  t.match(ok.stdout, /^OK: /m);

  const pfx = provlab(['cert', 'check', join(out, 'web.pfx'), '--password', 'pfx-pw', '--root', join(out, 'ca.pem')]);
  t.equal(pfx.status, 0, pfx.stdout + pfx.stderr);
  const badPw = provlab(['cert', 'check', join(out, 'web.pfx'), '--password', 'nope']);
  t.equal(badPw.status, 2);
  t.match(badPw.stderr, /wrong password/);

  const later = provlab(['cert', 'check', join(out, 'web.pem'), '--root', join(out, 'ca.pem'), '--at', '2099-01-01T00:00:00Z']);
  t.equal(later.status, 1, 'expired at --at');
  t.match(later.stdout, /^✘ the certificate expired/m);
  t.equal(provlab(['cert', 'check', join(out, 'web.pem'), '--at', 'someday']).status, 2);
});

t.test('check: exit 1 and --json for a certificate without the short name', { skip }, async (t) => {
  const dir = tmp();
  const site = writeSiteFile(dir, TWO_DOMAINS);
  const ca = makeCa(dir, '/CN=CLI CA');
  const leaf = makeLeaf(dir, ca, { dns: ['ucupdates-r2.schertz.name', 'ucupdates-r2.corp.schertz.name', 'lyncweb.schertz.name', 'lyncpool.schertz.name'] });
  const r = provlab(['cert', 'check', leaf.cert, '--root', ca.cert, '--site', site]);
  t.equal(r.status, 1);
  t.match(r.stdout, /^✘ SAN lacks the short name ucupdates-r2/m);
  t.match(r.stdout, /^FAIL: /m);
  const js = provlab(['cert', 'check', leaf.cert, '--root', ca.cert, '--site', site, '--json']);
  t.equal(js.status, 1);
  const rep = JSON.parse(js.stdout) as { ok: boolean; checks: { id: string; status: string }[]; leaf: { dnsNames: string[] } };
  t.equal(rep.ok, false);
  t.same(rep.checks.filter((c) => c.status === 'fail').map((c) => c.id), ['san-short']);
  t.same(rep.leaf.dnsNames, ['ucupdates-r2.schertz.name', 'ucupdates-r2.corp.schertz.name', 'lyncweb.schertz.name', 'lyncpool.schertz.name']);

  const wrongRoot = makeCa(dir, '/CN=Someone else');
  const wr = provlab(['cert', 'check', leaf.cert, '--root', wrongRoot.cert]);
  t.equal(wr.status, 1);
  t.match(wr.stdout, /^✘ does not chain to the given root/m);

  const pfx = makePfx(dir, leaf, 'pw');
  const p = provlab(['cert', 'check', pfx, '--password', 'pw', '--root', ca.cert]);
  t.equal(p.status, 1, 'still no short name inside the PFX');
  t.match(p.stdout, /\(pfx\)/);
});

t.test('input errors exit 2 with a clear message', async (t) => {
  const dir = tmp();
  const missing = provlab(['cert', 'check', join(dir, 'nope.pem')]);
  t.equal(missing.status, 2);
  t.match(missing.stderr, /nope\.pem: cannot read: no such file/);
  const badSite = writeSiteFile(dir, 'site: x\naddress: 10.0.0.1\n', 'bad.yaml');
  const bs = provlab(['cert', 'lab-ca', '--site', badSite, '--out', join(dir, 'o')]);
  t.equal(bs.status, 2);
  t.match(bs.stderr, /bad\.yaml:\d+:\d+: /, 'file:line:col from the site loader');
  const noCa = provlab(['cert', 'rootchain', '--ca', join(dir, 'none.pem')]);
  t.equal(noCa.status, 2);
});
