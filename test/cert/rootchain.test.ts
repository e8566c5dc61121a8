// cert rootchain: the certs-only PKCS#7 of GetRootCertChains. OpenSSL lists
// the certificates; the header bytes are checked against the seed article's
// sample and RFC 2315, not against our encoder.

import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCertificates } from '../../src/cert/read.js';
import { certsOnlyPkcs7, rootChainBase64 } from '../../src/cert/rootchain.js';
import { makeCa, openssl, opensslSkip, run, tmp } from './fixtures/openssl.js';

const skip = opensslSkip();

/** `openssl pkcs7 -print_certs` on base64 text, via a DER file. */
function printCerts(dir: string, b64: string): { status: number | null; out: string } {
  const der = join(dir, `p7-${Math.random().toString(36).slice(2)}.der`);
  writeFileSync(der, Buffer.from(b64, 'base64'));
  const r = run('openssl', ['pkcs7', '-inform', 'DER', '-in', der, '-print_certs', '-noout']);
  return { status: r.status, out: r.stdout + r.stderr };
}

t.test('openssl pkcs7 lists the root', { skip }, async (t) => {
  const dir = tmp();
  const ca = makeCa(dir, '/DC=name/DC=schertz/CN=schertz-DC-CA');
  const b64 = rootChainBase64(readCertificates(ca.cert).certs);
  t.match(b64, /^[A-Za-z0-9+/]+=*$/, 'one line of base64, no PEM armour');
  const r = printCerts(dir, b64);
  t.equal(r.status, 0, r.out);
  t.match(r.out, /subject=DC = name, DC = schertz, CN = schertz-DC-CA/);
  t.match(r.out, /issuer=DC = name, DC = schertz, CN = schertz-DC-CA/);

  // The certificate inside is byte for byte the input.
  const certDerFile = join(dir, 'ca.der');
  openssl(['x509', '-in', ca.cert, '-outform', 'DER', '-out', certDerFile]);
  t.ok(Buffer.from(b64, 'base64').includes(readFileSync(certDerFile)), 'the DER openssl writes is inside the blob');
});

t.test('several certificates keep their order', { skip }, async (t) => {
  const dir = tmp();
  const a = makeCa(dir, '/CN=first root');
  const b = makeCa(dir, '/CN=second root');
  const bundle = join(dir, 'both.pem');
  writeFileSync(bundle, openssl(['x509', '-in', a.cert]) + openssl(['x509', '-in', b.cert]));
  const r = printCerts(dir, rootChainBase64(readCertificates(bundle).certs));
  t.equal(r.status, 0, r.out);
  t.match(r.out, /subject=CN = first root[\s\S]*subject=CN = second root/);
});

t.test('header bytes: the seed sample and RFC 2315', { skip }, async (t) => {
  const dir = tmp();
  const ca = makeCa(dir, '/CN=header test');
  const der = certsOnlyPkcs7(readCertificates(ca.cert).certs);
  const hex = der.toString('hex');
  // Seed article: "MIIDmgYJKoZIhvcNAQcCoIIDizCC" = 30 82 03 9a | 06 09 2a864886f70d010702 | a0 82 03 8b | 30 82.
  // Lengths differ with the certificate; everything else must be the same.
  t.match(hex, /^3082....06092a864886f70d010702a082....3082/, 'ContentInfo { signedData, [0] { SEQUENCE');
  // The sample goes on "...ADALBgkq": 00 30 0b 06 09 2a, i.e. an empty SET (31 00) of digest
  // algorithms, then contentInfo SEQUENCE(11) { OID data }. RFC 2315 §9.1: version 1 first.
  const afterHeader = hex.slice(hex.indexOf('3082', 38) + 8);
  t.equal(afterHeader.slice(0, 6 + 4 + 26), '020101' + '3100' + '300b06092a864886f70d010701', 'version 1, no digest algorithms, data content type with no content');
  t.match(afterHeader.slice(36), /^a082/, 'certificates [0] IMPLICIT follows');
  t.match(hex, /3100$/, 'empty signerInfos SET closes it');
  t.equal(der.readUInt16BE(2) + 4, der.length, 'outer length covers the whole blob');
});

t.test('readCertificates reads the blob back (the --root form)', { skip }, async (t) => {
  const dir = tmp();
  const ca = makeCa(dir, '/CN=round trip');
  const certs = readCertificates(ca.cert).certs;
  const file = join(dir, 'chain.txt');
  writeFileSync(file, `${rootChainBase64(certs)}\n`);
  const back = readCertificates(file);
  t.equal(back.format, 'base64-pkcs7');
  t.same(back.certs.map((c) => c.toString('hex')), certs.map((c) => c.toString('hex')));
  const p7b = join(dir, 'chain.p7b');
  writeFileSync(p7b, certsOnlyPkcs7(certs));
  t.equal(readCertificates(p7b).format, 'pkcs7');
  // OpenSSL's own .p7b (crl2pkcs7 -nocrl) reads the same.
  const ossl = join(dir, 'ossl.p7b');
  openssl(['crl2pkcs7', '-nocrl', '-certfile', ca.cert, '-outform', 'DER', '-out', ossl]);
  t.same(readCertificates(ossl).certs.map((c) => c.toString('hex')), certs.map((c) => c.toString('hex')));
  const osslPem = join(dir, 'ossl.p7b.pem');
  openssl(['crl2pkcs7', '-nocrl', '-certfile', ca.cert, '-out', osslPem]);
  t.equal(readCertificates(osslPem).certs.length, 1, 'PEM PKCS7 block');
});
