// `provlab cert lab-ca`: a throwaway root CA and the web-services certificate
// a Lync Front End (or provlab's own lab web server) presents at ucupdates-r2.
// Lab use only: the phone trusts this root after fetching it through
// GetRootCertChains during a PIN sign-in attempt (docs/seed-article.md).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { webCertSans, type SiteCertNames } from './site-names.js';

const { pki } = forge;

export type Digest = 'sha256' | 'sha1';

export interface LabCaOptions {
  names: SiteCertNames;
  /** Web certificate lifetime in days (default 397: what browsers accept today; the phone does not care). */
  days?: number;
  /** Root lifetime in days (default 3650). */
  caDays?: number;
  /** Signature hash (default sha256). Old LPE firmware is reported not to understand SHA-256 certificates [S2]. */
  digest?: Digest;
  /** Reuse this CA instead of creating one (keeps phones that already fetched the root working). */
  ca?: { certPem: string; keyPem: string };
  /** Clock for tests. */
  now?: Date;
}

export interface LabCa {
  caCertPem: string;
  caKeyPem: string;
  webCertPem: string;
  webKeyPem: string;
  sans: string[];
  caReused: boolean;
}

/**
 * RSA 2048 through Node's native crypto (OpenSSL). node-forge 1.4.3 also
 * delegates `pki.rsa.generateKeyPair` to Node's `generateKeyPairSync` when it
 * can, but silently falls back to its pure-JS generator (seconds per key) when
 * `forge.options.usePureJavaScript` is set or a custom PRNG is passed; calling
 * Node ourselves makes the fast path unconditional.
 */
export function generateRsaKey(bits = 2048): forge.pki.rsa.KeyPair {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const priv = pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: pki.setRsaPublicKey(priv.n, priv.e) };
}

/** RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random bytes with the top bit cleared. */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b.toString('hex');
}

const DAY = 86_400_000;

function md(d: Digest): forge.md.MessageDigest {
  return d === 'sha1' ? forge.md.sha1.create() : forge.md.sha256.create();
}

export function createLabCa(o: LabCaOptions): LabCa {
  const now = o.now ?? new Date();
  const digest = o.digest ?? 'sha256';
  // Backdated an hour: a phone whose NTP answer is a little behind must not see "not yet valid".
  const notBefore = new Date(now.getTime() - 3_600_000);

  let caCert: forge.pki.Certificate;
  let caKey: forge.pki.rsa.PrivateKey;
  if (o.ca) {
    caCert = pki.certificateFromPem(o.ca.certPem);
    caKey = pki.privateKeyFromPem(o.ca.keyPem) as forge.pki.rsa.PrivateKey;
    const pub = caCert.publicKey as forge.pki.rsa.PublicKey;
    if (pub.n.compareTo(caKey.n) !== 0) throw new Error('the CA key does not belong to the CA certificate');
  } else {
    const keys = generateRsaKey(2048);
    caKey = keys.privateKey;
    caCert = pki.createCertificate();
    caCert.publicKey = keys.publicKey;
    caCert.serialNumber = serial();
    caCert.validity.notBefore = notBefore;
    caCert.validity.notAfter = new Date(now.getTime() + (o.caDays ?? 3650) * DAY);
    const subject = [
      { name: 'commonName', value: `provlab lab root CA (${o.names.site})` },
      { name: 'organizationName', value: 'provlab lab' },
    ];
    caCert.setSubject(subject);
    caCert.setIssuer(subject);
    caCert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
    caCert.sign(caKey, md(digest));
  }

  const keys = generateRsaKey(2048);
  const sans = webCertSans(o.names);
  const web = pki.createCertificate();
  web.publicKey = keys.publicKey;
  web.serialNumber = serial();
  web.validity.notBefore = notBefore;
  web.validity.notAfter = new Date(now.getTime() + (o.days ?? 397) * DAY);
  if (web.validity.notAfter > caCert.validity.notAfter) web.validity.notAfter = caCert.validity.notAfter;
  web.setSubject([
    { name: 'commonName', value: o.names.web },
    { name: 'organizationName', value: 'provlab lab' },
  ]);
  web.setIssuer(caCert.subject.attributes);
  web.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    // keyEncipherment: RSA key exchange, what a TLS 1.0-only client such as LPE [S2] negotiates; digitalSignature for (EC)DHE_RSA.
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    // dNSName (type 2) entries; the phone matches the short name (docs/seed-article.md).
    { name: 'subjectAltName', altNames: sans.map((value) => ({ type: 2, value })) },
    { name: 'subjectKeyIdentifier' },
    // forge's `keyIdentifier: true` would hash the *subject's* key; the AKI must name the issuer's.
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  web.sign(caKey, md(digest));

  return {
    caCertPem: pki.certificateToPem(caCert),
    caKeyPem: o.ca ? o.ca.keyPem : pki.privateKeyToPem(caKey),
    webCertPem: pki.certificateToPem(web),
    webKeyPem: pki.privateKeyToPem(keys.privateKey),
    sans,
    caReused: Boolean(o.ca),
  };
}

/**
 * PKCS#12 with the web key, the web certificate and the root, for IIS / the
 * Lync certificate wizard. 3DES + SHA-1 MAC: the one combination every Windows
 * Server that runs Lync imports (AES-protected PFX needs Server 2016+ [I]).
 */
export function webPfx(ca: LabCa, password: string, friendlyName = 'provlab lab web services'): Buffer {
  const key = pki.privateKeyFromPem(ca.webKeyPem);
  const certs = [pki.certificateFromPem(ca.webCertPem), pki.certificateFromPem(ca.caCertPem)];
  const p12 = forge.pkcs12.toPkcs12Asn1(key, certs, password, { algorithm: '3des', friendlyName, generateLocalKeyId: true });
  return Buffer.from(forge.asn1.toDer(p12).getBytes(), 'binary');
}

export interface WrittenFile {
  path: string;
  what: string;
  secret: boolean;
}

export interface WriteOptions {
  /**
   * Replace existing files. Default: refuse, so a root phones already trust is
   * never overwritten by accident; with a reused CA the web files are replaced.
   */
  force?: boolean;
  /** Also write web.pfx protected with this password. */
  pfxPassword?: string;
}

/** Files a lab-ca run writes, relative to the output directory. */
export const LAB_CA_FILES = {
  caCert: 'ca.pem',
  caCertDer: 'ca.cer',
  caKey: 'ca.key',
  webCert: 'web.pem',
  webKey: 'web.key',
  webChain: 'web-chain.pem',
  webPfx: 'web.pfx',
} as const;

export function writeLabCa(dir: string, ca: LabCa, o: WriteOptions = {}): WrittenFile[] {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const F = LAB_CA_FILES;
  const plan: { name: string; data: string | Buffer; what: string; secret: boolean }[] = [
    { name: F.caCert, data: ca.caCertPem, what: 'root CA certificate (PEM)', secret: false },
    { name: F.caCertDer, data: Buffer.from(forge.asn1.toDer(pki.certificateToAsn1(pki.certificateFromPem(ca.caCertPem))).getBytes(), 'binary'), what: 'root CA certificate (DER, for Windows import)', secret: false },
    { name: F.webCert, data: ca.webCertPem, what: 'web-services certificate (PEM)', secret: false },
    { name: F.webKey, data: ca.webKeyPem, what: 'web-services private key (PEM)', secret: true },
    { name: F.webChain, data: ca.webCertPem + ca.caCertPem, what: 'web-services certificate + root (PEM chain for a TLS server)', secret: false },
  ];
  // A reused CA key already lives in this directory (or wherever it came from): never rewrite it.
  if (!ca.caReused) plan.splice(2, 0, { name: F.caKey, data: ca.caKeyPem, what: 'root CA private key (PEM)', secret: true });
  if (o.pfxPassword !== undefined) plan.push({ name: F.webPfx, data: webPfx(ca, o.pfxPassword), what: 'web key + certificate + root (PKCS#12)', secret: true });

  // With a reused root the point is a new web certificate: only a root (which phones trust) is worth a refusal.
  if (!o.force && !ca.caReused) {
    const taken = plan.filter((f) => existsSync(join(dir, f.name))).map((f) => f.name);
    if (taken.length > 0) throw new Error(`${dir} already holds ${taken.join(', ')}: pass --force to replace them, or --reuse-ca to keep the root phones already trust`);
  }
  const written: WrittenFile[] = [];
  for (const f of plan) {
    const path = join(dir, f.name);
    if (f.secret) {
      // Create with 0600 from the first byte (no window with a readable key); chmod in case umask or an old file interfered.
      if (existsSync(path)) unlinkSync(path);
      writeFileSync(path, f.data, { mode: 0o600, flag: 'wx' });
      chmodSync(path, 0o600);
    } else {
      writeFileSync(path, f.data, { mode: 0o644 });
    }
    written.push({ path, what: f.what, secret: f.secret });
  }
  return written;
}

/** The CA of an earlier run in `dir`, for --reuse-ca. */
export function readLabCaFrom(dir: string): { certPem: string; keyPem: string } {
  const certPath = join(dir, LAB_CA_FILES.caCert);
  const keyPath = join(dir, LAB_CA_FILES.caKey);
  for (const p of [certPath, keyPath]) if (!existsSync(p)) throw new Error(`--reuse-ca: ${p} does not exist (run lab-ca once without --reuse-ca)`);
  return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}
