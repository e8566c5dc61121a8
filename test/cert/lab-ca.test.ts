// cert lab-ca: the names come from the site's DHCP domains, and OpenSSL (not
// our code) confirms the chain, the SAN list, the usages and the PFX.

import t from 'tap';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLabCa, generateRsaKey, LAB_CA_FILES, readLabCaFrom, writeLabCa } from '../../src/cert/lab-ca.js';
import { loadSiteCertNames, webCertSans } from '../../src/cert/site-names.js';
import { openssl, opensslSans, opensslSkip, run, tmp } from './fixtures/openssl.js';
import { LOCAL_DOMAIN, TWO_DOMAINS, TWO_DOMAINS_SPEC, writeSiteFile } from './fixtures/sites.js';
import { planOf, siteYaml } from '../helpers/sites.js';

const skip = opensslSkip();

/** A lab CA for TWO_DOMAINS with its defaults, written to DIR/out. */
function writtenLabCa() {
  const dir = tmp();
  const names = loadSiteCertNames(writeSiteFile(dir, TWO_DOMAINS));
  const out = join(dir, 'out');
  const ca = createLabCa({ names });
  writeLabCa(out, ca);
  return { dir, names, out, ca };
}

t.test('DHCP domains come from options 15 and 119 of the compiled plan', async (t) => {
  const dir = tmp();
  const names = loadSiteCertNames(writeSiteFile(dir, TWO_DOMAINS));
  t.same(names.dhcpDomains, ['schertz.name', 'corp.schertz.name'], 'option 15 first, then the new 119 names, no duplicate');
  t.equal(names.pool, 'lyncpool.schertz.name');
  t.equal(names.web, 'lyncweb.schertz.name');
  t.same(webCertSans(names), ['ucupdates-r2', 'ucupdates-r2.schertz.name', 'ucupdates-r2.corp.schertz.name', 'lyncpool.schertz.name', 'lyncweb.schertz.name']);

  const local = loadSiteCertNames(writeSiteFile(dir, LOCAL_DOMAIN, 'local.yaml'));
  t.same(webCertSans(local), ['ucupdates-r2', 'ucupdates-r2.example.local', 'lync.example.local'], 'lower case; web = pool appears once');

  // A vendor class that overrides option 15 hands the phone another domain: it needs its name too.
  const withClass = siteYaml({ ...TWO_DOMAINS_SPEC, dhcp: { classes: '- vendor: CPE-OCPHONE\n  options:\n    "15": { text: voice.schertz.name }\n' } });
  t.same(planOf(withClass).domains, ['schertz.name', 'corp.schertz.name', 'voice.schertz.name']);
});

t.test('RSA keys come from native crypto, 2048 bits', async (t) => {
  const k = generateRsaKey();
  t.equal(k.privateKey.n.bitLength(), 2048);
  t.equal(k.publicKey.e.toString(16), '10001');
});

t.test('lab-ca: openssl verifies the chain and reads the SAN and usages', { skip }, async (t) => {
  const dir = tmp();
  const names = loadSiteCertNames(writeSiteFile(dir, TWO_DOMAINS));
  const ca = createLabCa({ names });
  const out = join(dir, 'out');
  const written = writeLabCa(out, ca, { pfxPassword: 'pfx-secret' });
  const f = (n: string) => join(out, n);

  t.same(written.map((w) => w.path.slice(out.length + 1)).sort(), ['ca.cer', 'ca.key', 'ca.pem', 'web-chain.pem', 'web.key', 'web.pem', 'web.pfx']);
  for (const w of written) t.equal(statSync(w.path).mode & 0o777, w.secret ? 0o600 : 0o644, `${w.path.slice(out.length + 1)} mode`);
  for (const secret of ['ca.key', 'web.key', 'web.pfx']) t.ok(written.find((w) => w.path === f(secret))?.secret, `${secret} is a secret`);

  const v = run('openssl', ['verify', '-CAfile', f('ca.pem'), f('web.pem')]);
  t.equal(v.status, 0, `openssl verify: ${v.stdout}${v.stderr}`);
  t.match(v.stdout, /web\.pem: OK/);
  t.same(opensslSans(f('web.pem')), ['ucupdates-r2', 'ucupdates-r2.schertz.name', 'ucupdates-r2.corp.schertz.name', 'lyncpool.schertz.name', 'lyncweb.schertz.name']);

  const web = openssl(['x509', '-in', f('web.pem'), '-noout', '-ext', 'keyUsage,extendedKeyUsage,basicConstraints', '-subject']);
  t.match(web, /Key Usage: critical\s+Digital Signature, Key Encipherment/);
  t.match(web, /TLS Web Server Authentication/);
  t.match(web, /CA:FALSE/);
  t.match(web, /CN = lyncweb\.schertz\.name/);
  const caText = openssl(['x509', '-in', f('ca.pem'), '-noout', '-text']);
  t.match(caText, /CA:TRUE/);
  t.match(caText, /Certificate Sign, CRL Sign/);
  t.match(caText, /Public-Key: \(2048 bit\)/);
  t.match(caText, /sha256WithRSAEncryption/);
  t.match(openssl(['rsa', '-in', f('web.key'), '-noout', '-text']), /Private-Key: \(2048 bit/);
  // The AKI names the issuer's key (forge's `keyIdentifier: true` would name the subject's).
  const ski = /Subject Key Identifier:\s+([0-9A-F:]+)/.exec(caText)?.[1];
  t.match(openssl(['x509', '-in', f('web.pem'), '-noout', '-ext', 'authorityKeyIdentifier']), new RegExp(ski ?? 'missing'));

  // DER copy of the root, chain file, PFX.
  t.equal(openssl(['x509', '-inform', 'DER', '-in', f('ca.cer'), '-noout', '-fingerprint', '-sha256']), openssl(['x509', '-in', f('ca.pem'), '-noout', '-fingerprint', '-sha256']));
  t.equal(run('openssl', ['verify', '-CAfile', f('ca.pem'), f('web-chain.pem')]).status, 0, 'chain file starts with the web certificate');
  const p12 = run('openssl', ['pkcs12', '-in', f('web.pfx'), '-passin', 'pass:pfx-secret', '-nodes']);
  t.equal(p12.status, 0, p12.stderr);
  t.match(p12.stdout, /subject=CN = lyncweb\.schertz\.name/);
  t.match(p12.stdout, /subject=CN = provlab lab root CA \(cert-lab\)/);
  t.match(p12.stdout, /BEGIN PRIVATE KEY/);
  t.not(run('openssl', ['pkcs12', '-in', f('web.pfx'), '-passin', 'pass:wrong', '-nokeys']).status, 0, 'wrong password refused');
  t.match(run('openssl', ['pkcs12', '-in', f('web.pfx'), '-passin', 'pass:pfx-secret', '-info', '-nokeys', '-nocerts']).stderr, /3-KeyTripleDES/, '3DES for old Windows');
});

t.test('validity: backdated an hour, web lifetime in days, never beyond the root', { skip }, async (t) => {
  const dir = tmp();
  const names = loadSiteCertNames(writeSiteFile(dir, TWO_DOMAINS));
  const now = new Date('2030-06-01T12:00:00Z');
  const ca = createLabCa({ names, now, days: 30, caDays: 365 });
  writeFileSync(join(dir, 'web.pem'), ca.webCertPem);
  writeFileSync(join(dir, 'ca.pem'), ca.caCertPem);
  const dates = (f: string) => openssl(['x509', '-in', join(dir, f), '-noout', '-startdate', '-enddate']);
  t.match(dates('web.pem'), /notBefore=Jun  1 11:00:00 2030 GMT\s+notAfter=Jul  1 12:00:00 2030 GMT/);
  t.match(dates('ca.pem'), /notAfter=Jun  1 12:00:00 2031 GMT/);
  const long = createLabCa({ names, now, days: 5000, caDays: 10 });
  writeFileSync(join(dir, 'long.pem'), long.webCertPem);
  t.match(dates('long.pem'), /notAfter=Jun 11 12:00:00 2030 GMT/, 'clamped to the root');
});

t.test('--digest sha1 for old firmware', { skip }, async (t) => {
  const dir = tmp();
  const ca = createLabCa({ names: loadSiteCertNames(writeSiteFile(dir, TWO_DOMAINS)), digest: 'sha1' });
  writeFileSync(join(dir, 'web.pem'), ca.webCertPem);
  t.match(openssl(['x509', '-in', join(dir, 'web.pem'), '-noout', '-text']), /Signature Algorithm: sha1WithRSAEncryption/);
});

t.test('existing files are kept unless --force; --reuse-ca keeps the root', { skip }, async (t) => {
  const { dir, names, out, ca: first } = writtenLabCa();
  const caBefore = readFileSync(join(out, LAB_CA_FILES.caCert), 'utf8');
  t.throws(() => writeLabCa(out, createLabCa({ names })), /already holds ca\.pem.*--force.*--reuse-ca/);
  t.equal(readFileSync(join(out, LAB_CA_FILES.caCert), 'utf8'), caBefore, 'nothing overwritten');

  const second = createLabCa({ names, ca: readLabCaFrom(out) });
  t.equal(second.caCertPem, caBefore, 'same root');
  const written = writeLabCa(out, second);
  t.notOk(written.some((w) => w.path.endsWith('ca.key')), 'the CA key is not rewritten');
  t.equal(run('openssl', ['verify', '-CAfile', join(out, 'ca.pem'), join(out, 'web.pem')]).status, 0, 'new web cert chains to the old root');
  t.not(readFileSync(join(out, 'web.pem'), 'utf8'), first.webCertPem, 'a new web certificate');

  const third = createLabCa({ names });
  writeLabCa(out, third, { force: true });
  t.not(readFileSync(join(out, 'ca.pem'), 'utf8'), caBefore, '--force replaces the root');
  t.equal(statSync(join(out, 'ca.key')).mode & 0o777, 0o600);

  t.throws(() => readLabCaFrom(join(dir, 'nowhere')), /does not exist/);
  t.throws(() => createLabCa({ names, ca: { certPem: first.caCertPem, keyPem: third.caKeyPem } }), /does not belong/);
});

t.test('a TLS client that checks the short name accepts the lab certificate', { skip }, async (t) => {
  const { out, ca } = writtenLabCa();
  const { createServer } = await import('node:tls');
  const server = createServer({ key: ca.webKeyPem, cert: ca.webCertPem }, (s) => s.end('ok\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const { spawn } = await import('node:child_process');
  // Async spawn: the server lives in this process's event loop.
  const sClient = (host: string) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const c = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', host, '-verify_hostname', host, '-verify_return_error', '-CAfile', join(out, 'ca.pem')], { stdio: ['pipe', 'pipe', 'pipe'] });
      let text = '';
      c.stdout.on('data', (d: Buffer) => (text += d.toString()));
      c.stderr.on('data', (d: Buffer) => (text += d.toString()));
      c.stdin.end();
      c.on('close', (code) => resolve({ code, out: text }));
    });
  for (const host of ['ucupdates-r2', 'ucupdates-r2.schertz.name', 'ucupdates-r2.corp.schertz.name']) {
    // The exit status races with the server closing the connection; the verdict line does not.
    const r = await sClient(host);
    t.match(r.out, /Verify return code: 0 \(ok\)/, `${host}: openssl s_client verifies the name`);
  }
  const wrong = await sClient('ucupdates-r2.other.example');
  t.not(wrong.code, 0, 'a name not in the SAN is refused (the handshake aborts)');
  t.match(wrong.out, /hostname mismatch/);
  t.notMatch(wrong.out, /Verify return code: 0 \(ok\)/);
});
