// `provlab cert check`: would a Lync Phone Edition phone accept this
// certificate at https://ucupdates-r2/ ? One line per requirement of the seed
// article (docs/seed-article.md: "Device Update certificate must have SAN entries
// containing the hostname and FQDN"), plus what makes any TLS client refuse it.
//
// Structure (extensions, SAN types, key usage bits) is read with node-forge's
// ASN.1 and extension decoders, which work for every key type (forge's
// certificate object itself only loads RSA keys). Signatures are verified with
// Node's X509Certificate (OpenSSL), which knows every algorithm in use.

import { X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { CertBundle } from './read.js';
import { UCUPDATES, type SiteCertNames } from './site-names.js';

export type Status = 'pass' | 'fail' | 'warn' | 'note';

export interface CheckItem {
  /** Stable id: san-short, san-fqdn, san-pool, san-web, chain, validity, ca-validity, key-usage, ext-key-usage, key, signature, public-ca, ... */
  id: string;
  status: Status;
  message: string;
}

export interface CertSummary {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  dnsNames: string[];
  ipAddresses: string[];
  keyType: string;
  keyBits: number | null;
  signatureAlgorithm: string;
  sha256: string;
  isCA: boolean;
}

export interface CheckReport {
  file: string;
  format: string;
  /** False when a phone would refuse the certificate (a check failed). */
  ok: boolean;
  leaf: CertSummary;
  /** Leaf first, then each issuer found, up to the root when it is known. */
  path: CertSummary[];
  checks: CheckItem[];
}

export interface CheckOptions {
  /** Root(s) the phone trusts: what GetRootCertChains hands it. */
  root?: CertBundle;
  /** Names the site hands out (options 15, 119, lync.pool, lync.web). */
  names?: SiteCertNames;
  now?: Date;
  /** Warn when the certificate expires within this many days (default 30). */
  warnDays?: number;
}

// ---------------------------------------------------------------- parsing

interface ForgeExtension {
  id: string;
  name?: string;
  critical: boolean;
  // keyUsage bits, extKeyUsage names/OIDs, basicConstraints.cA, subjectAltName.altNames
  [field: string]: unknown;
}

interface AltName {
  type: number;
  value: string;
  ip?: string;
}

/** forge has this decoder but its type definitions leave it out. */
const extensionsFromAsn1 = (forge.pki as unknown as { certificateExtensionsFromAsn1(exts: forge.asn1.Asn1): ForgeExtension[] })
  .certificateExtensionsFromAsn1;

export interface ParsedCert {
  der: Buffer;
  x509: X509Certificate;
  extensions: ForgeExtension[];
  signatureOid: string;
  summary: CertSummary;
}

const OID_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'Ed25519',
};

const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_ANY_EKU = '2.5.29.37.0';

function ext(p: ParsedCert, name: string): ForgeExtension | undefined {
  return p.extensions.find((e) => e.name === name);
}

function keyInfo(k: KeyObject): { type: string; bits: number | null } {
  const type = k.asymmetricKeyType ?? 'unknown';
  const d = k.asymmetricKeyDetails ?? {};
  if (typeof d.modulusLength === 'number') return { type, bits: d.modulusLength };
  const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };
  if (typeof d.namedCurve === 'string') return { type: `${type} (${d.namedCurve})`, bits: curveBits[d.namedCurve] ?? null };
  return { type, bits: type === 'ed25519' ? 256 : null };
}

const oneLine = (dn: string): string => dn.split('\n').filter(Boolean).join(', ');

export function parseCert(der: Buffer): ParsedCert {
  const x509 = new X509Certificate(der);
  const root = forge.asn1.fromDer(der.toString('binary'), true);
  const top = root.value as forge.asn1.Asn1[];
  const tbs = top[0]!.value as forge.asn1.Asn1[];
  const sigAlg = (top[1]!.value as forge.asn1.Asn1[])[0]!;
  const signatureOid = forge.asn1.derToOid(sigAlg.value as string);
  const extNode = tbs.find((n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  const extensions = extNode ? extensionsFromAsn1(extNode) : [];
  const san = extensions.find((e) => e.name === 'subjectAltName');
  const alt = (san?.altNames as AltName[] | undefined) ?? [];
  const key = keyInfo(x509.publicKey);
  const bc = extensions.find((e) => e.name === 'basicConstraints');
  const parsed: ParsedCert = {
    der,
    x509,
    extensions,
    signatureOid,
    summary: {
      subject: oneLine(x509.subject),
      issuer: oneLine(x509.issuer),
      serial: x509.serialNumber.toLowerCase(),
      notBefore: new Date(x509.validFrom).toISOString(),
      notAfter: new Date(x509.validTo).toISOString(),
      dnsNames: alt.filter((a) => a.type === 2).map((a) => a.value),
      ipAddresses: alt.filter((a) => a.type === 7).map((a) => a.ip ?? ''),
      keyType: key.type,
      keyBits: key.bits,
      signatureAlgorithm: OID_NAMES[signatureOid] ?? forge.pki.oids[signatureOid] ?? signatureOid,
      sha256: x509.fingerprint256,
      isCA: bc?.cA === true,
    },
  };
  return parsed;
}

// ---------------------------------------------------------------- names

/** RFC 6125 §6.4.3: a wildcard stands for exactly one whole left-most label. */
function matchName(pattern: string, host: string): 'exact' | 'wildcard' | null {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase();
  if (p === h) return 'exact';
  if (p.startsWith('*.') && h.includes('.') && h.slice(h.indexOf('.') + 1) === p.slice(2)) return 'wildcard';
  return null;
}

function findName(dns: readonly string[], host: string): { how: 'exact' | 'wildcard'; entry: string } | null {
  let best: { how: 'exact' | 'wildcard'; entry: string } | null = null;
  for (const d of dns) {
    const m = matchName(d, host);
    if (m === 'exact') return { how: m, entry: d };
    if (m === 'wildcard' && !best) best = { how: m, entry: d };
  }
  return best;
}

/**
 * TLDs no public CA issues for: special-use names (RFC 6761 .test .example
 * .invalid .localhost, RFC 6762 .local), ICANN's reserved .internal, the
 * name-collision strings ICANN will not delegate (.corp .home .mail), and
 * suffixes common inside companies that are not in the root zone.
 */
const NON_PUBLIC_TLDS = new Set(['local', 'localhost', 'localdomain', 'test', 'example', 'invalid', 'internal', 'intranet', 'lan', 'home', 'corp', 'mail', 'private']);

/** Why a public CA would refuse this SAN name ("a short name", "under .local"), or null. */
export function publicCaRefusal(name: string): string | null {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (!n.includes('.')) return 'short names';
  if (n.endsWith('.home.arpa')) return 'names under home.arpa (RFC 8375, local use only)';
  const tld = n.slice(n.lastIndexOf('.') + 1);
  if (NON_PUBLIC_TLDS.has(tld)) return `names under .${tld}, not a public TLD`;
  return null;
}

/** RFC 1918, loopback, link-local, and IPv6 unique-local / link-local / loopback. */
function isPrivateIp(ip: string): boolean {
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(ip);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  const v6 = ip.toLowerCase();
  return v6 === '::1' || /^f[cd]/.test(v6) || v6.startsWith('fe80');
}

// ---------------------------------------------------------------- chain

interface PathResult {
  path: ParsedCert[];
  /** The last certificate of the path is self-signed (a root). */
  selfSigned: boolean;
  /** Issuer named by the last certificate when no certificate for it was found. */
  missingIssuer?: string;
  /** A certificate with the right name whose key did not verify the signature. */
  badSignatureFrom?: ParsedCert;
}

function sameCert(a: ParsedCert, b: ParsedCert): boolean {
  return a.der.equals(b.der);
}

function isSelfSigned(p: ParsedCert): boolean {
  try {
    return p.x509.checkIssued(p.x509) && p.x509.verify(p.x509.publicKey);
  } catch {
    return false;
  }
}

function buildPath(leaf: ParsedCert, pool: readonly ParsedCert[]): PathResult {
  const path = [leaf];
  let badSignatureFrom: ParsedCert | undefined;
  for (let depth = 0; depth < 10; depth++) {
    const cur = path[path.length - 1]!;
    if (isSelfSigned(cur)) return { path, selfSigned: true };
    let next: ParsedCert | undefined;
    for (const cand of pool) {
      if (path.some((p) => sameCert(p, cand))) continue;
      // checkIssued: issuer/subject names, AKI/SKI and the issuer's key usage (OpenSSL X509_check_issued).
      if (!cur.x509.checkIssued(cand.x509) && cur.summary.issuer !== cand.summary.subject) continue;
      if (cur.x509.verify(cand.x509.publicKey)) {
        next = cand;
        break;
      }
      badSignatureFrom ??= cand;
    }
    if (!next) return { path, selfSigned: false, missingIssuer: cur.summary.issuer, ...(badSignatureFrom ? { badSignatureFrom } : {}) };
    path.push(next);
  }
  return { path, selfSigned: false, missingIssuer: path[path.length - 1]!.summary.issuer };
}

/** The end-entity certificate: not a CA and not the issuer of another certificate in the file; else the first one. */
function pickLeaf(certs: readonly ParsedCert[]): ParsedCert {
  const issuers = (c: ParsedCert) => certs.some((o) => o !== c && o.summary.issuer === c.summary.subject && !isSelfSigned(o) && o.x509.verify(c.x509.publicKey));
  return certs.find((c) => !c.summary.isCA && !issuers(c)) ?? certs.find((c) => !issuers(c)) ?? certs[0]!;
}

// ---------------------------------------------------------------- checks

const DAY = 86_400_000;

function validityItems(p: ParsedCert, now: Date, warnDays: number, what: string, id: string): CheckItem[] {
  const nb = new Date(p.summary.notBefore);
  const na = new Date(p.summary.notAfter);
  if (now < nb) {
    return [{ id, status: 'fail', message: `${what} is not yet valid: valid from ${p.summary.notBefore} (the phone takes its clock from NTP; without a time source it cannot do TLS)` }];
  }
  if (now > na) return [{ id, status: 'fail', message: `${what} expired on ${p.summary.notAfter}` }];
  const left = Math.floor((na.getTime() - now.getTime()) / DAY);
  if (left < warnDays) return [{ id, status: 'warn', message: `${what} expires in ${left} day${left === 1 ? '' : 's'} (${p.summary.notAfter})` }];
  return [{ id, status: 'pass', message: `${what} is valid from ${p.summary.notBefore} to ${p.summary.notAfter} (${left} days left)` }];
}

function signatureItem(p: ParsedCert, what: string): CheckItem {
  const alg = p.summary.signatureAlgorithm;
  const a = alg.toLowerCase();
  if (a.startsWith('md5') || a.startsWith('md2')) return { id: 'signature', status: 'fail', message: `${what} is signed with ${alg}: Windows refuses MD5/MD2 signatures [I]` };
  if (a === 'rsassa-pss') return { id: 'signature', status: 'fail', message: `${what} is signed with RSASSA-PSS: Lync Server does not support it (Microsoft) and Lync Phone Edition is not known to [I]` };
  if (a.startsWith('ecdsa') || a === 'ed25519') return { id: 'signature', status: 'fail', message: `${what} is signed with ${alg}: Lync Phone Edition's Windows CE TLS 1.0 stack [S2] is not known to verify elliptic-curve signatures [I]` };
  if (a.startsWith('sha1')) return { id: 'signature', status: 'note', message: `${what} is signed with ${alg}: every LPE firmware reads SHA-1; SHA-1 is deprecated, so plan a SHA-256 chain once the phones run current firmware` };
  if (/^sha(256|384|512)/.test(a)) {
    return { id: 'signature', status: 'note', message: `${what} is signed with ${alg}: early LPE firmware is reported not to understand SHA-256 certificates [S2]; phones still on such firmware may need a SHA-1 chain for the ucupdates-r2 update (lab-ca --digest sha1)` };
  }
  return { id: 'signature', status: 'warn', message: `${what} is signed with ${alg}, an algorithm Lync Phone Edition is not known to support [U]` };
}

function keyItem(p: ParsedCert): CheckItem {
  const { keyType, keyBits } = p.summary;
  if (keyType !== 'rsa') {
    return { id: 'key', status: 'fail', message: `key is ${keyType}${keyBits ? ` ${keyBits}-bit` : ''}: Lync Phone Edition speaks TLS 1.0 only [S2], with RSA server keys; elliptic-curve keys are not known to work [I]` };
  }
  const bits = keyBits ?? 0;
  if (bits < 1024) return { id: 'key', status: 'fail', message: `RSA key of ${bits} bits: too short for any current TLS stack` };
  if (bits < 2048) return { id: 'key', status: 'warn', message: `RSA key of ${bits} bits: Lync accepts 1024-bit keys, but they are weak; use 2048` };
  if (bits > 2048) return { id: 'key', status: 'warn', message: `RSA key of ${bits} bits: Lync Server supports up to 4096 (Microsoft), whether LPE's TLS stack handles more than 2048 is unknown [U]` };
  return { id: 'key', status: 'pass', message: 'RSA key of 2048 bits' };
}

function usageItems(p: ParsedCert): CheckItem[] {
  const out: CheckItem[] = [];
  const ku = ext(p, 'keyUsage');
  if (!ku) {
    out.push({ id: 'key-usage', status: 'pass', message: 'no key usage extension: every usage is allowed' });
  } else {
    const bits = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign'].filter((b) => ku[b] === true);
    const list = bits.join(', ') || 'none';
    if (ku.keyEncipherment === true) {
      out.push({ id: 'key-usage', status: 'pass', message: `key usage ${list}: keyEncipherment allows RSA key exchange` });
    } else if (ku.digitalSignature === true) {
      out.push({ id: 'key-usage', status: 'warn', message: `key usage ${list}: no keyEncipherment, so only (EC)DHE suites can be used; a TLS 1.0-only client such as LPE [S2] usually negotiates RSA key exchange, which needs keyEncipherment [I]` });
    } else {
      out.push({ id: 'key-usage', status: 'fail', message: `key usage ${list}: a TLS server certificate needs keyEncipherment (RSA key exchange) or digitalSignature` });
    }
  }
  const eku = ext(p, 'extKeyUsage');
  if (!eku) {
    out.push({ id: 'ext-key-usage', status: 'pass', message: 'no extended key usage extension: server authentication is allowed' });
  } else if (eku.serverAuth === true || eku[OID_SERVER_AUTH] === true || eku[OID_ANY_EKU] === true) {
    const names = Object.keys(eku).filter((k) => eku[k] === true && !['critical'].includes(k));
    out.push({ id: 'ext-key-usage', status: 'pass', message: `extended key usage includes server authentication (${names.join(', ')})` });
  } else {
    const names = Object.keys(eku).filter((k) => eku[k] === true && k !== 'critical');
    out.push({ id: 'ext-key-usage', status: 'fail', message: `extended key usage ${names.join(', ') || 'is empty'}: no serverAuth (1.3.6.1.5.5.7.3.1), a TLS client refuses it` });
  }
  if (p.summary.isCA) out.push({ id: 'basic-constraints', status: 'warn', message: 'the server certificate is a CA certificate (basicConstraints cA:TRUE); issue an end-entity certificate' });
  return out;
}

function nameItems(leaf: ParsedCert, names: SiteCertNames | undefined): CheckItem[] {
  const dns = leaf.summary.dnsNames;
  const out: CheckItem[] = [];
  const cn = /(?:^|, )CN=([^,]+)/.exec(leaf.summary.subject)?.[1];
  const inCn = (h: string) => (cn && matchName(cn, h) ? ` (it is in the subject CN, but the SAN list is what counts when there is one)` : '');
  if (!ext(leaf, 'subjectAltName')) {
    out.push({ id: 'san', status: 'fail', message: 'no Subject Alternative Name extension: the phone needs ucupdates-r2 and ucupdates-r2.<domain> as SAN entries' });
  }
  const short = dns.some((d) => d.toLowerCase().replace(/\.$/, '') === UCUPDATES);
  out.push(
    short
      ? { id: 'san-short', status: 'pass', message: `SAN has the short name ${UCUPDATES} (the phone connects with it)` }
      : { id: 'san-short', status: 'fail', message: `SAN lacks the short name ${UCUPDATES}: the phone resolves the FQDN but connects with the short name, so TLS fails${inCn(UCUPDATES)}` },
  );
  if (names) {
    if (names.dhcpDomains.length === 0) out.push({ id: 'san-fqdn', status: 'warn', message: 'the site hands out no domain (options 15/119): the phone looks up nothing' });
    for (const d of names.dhcpDomains) {
      const host = `${UCUPDATES}.${d}`;
      const m = findName(dns, host);
      if (!m) out.push({ id: 'san-fqdn', status: 'fail', message: `SAN lacks ${host} (DHCP domain ${d}, option 15/119)${inCn(host)}` });
      else if (m.how === 'exact') out.push({ id: 'san-fqdn', status: 'pass', message: `SAN has ${host} (DHCP domain ${d})` });
      else out.push({ id: 'san-fqdn', status: 'warn', message: `${host} is only covered by the wildcard ${m.entry}: whether LPE accepts wildcards is unknown [U]; list the name itself` });
    }
    for (const [id, host, role] of [
      ['san-web', names.web, 'lync.web, the internal web services the phone reaches through option 43'],
      ['san-pool', names.pool, 'lync.pool, the registrar of option 120'],
    ] as const) {
      const m = findName(dns, host);
      out.push(
        m
          ? { id, status: 'pass', message: `SAN has ${host} (${role})` }
          : { id, status: 'warn', message: `SAN lacks ${host} (${role}): fine for ucupdates-r2 alone, but the Front End's web services certificate normally carries it` },
      );
    }
  } else {
    const fqdns = dns.filter((d) => d.toLowerCase().startsWith(`${UCUPDATES}.`));
    out.push(
      fqdns.length > 0
        ? { id: 'san-fqdn', status: 'pass', message: `SAN has ${fqdns.join(', ')} (give --site to check every DHCP domain)` }
        : { id: 'san-fqdn', status: 'fail', message: `SAN has no ${UCUPDATES}.<domain> name: the phone resolves ${UCUPDATES}.<option 15/119 domain>` },
    );
  }
  return out;
}

function publicCaItem(leaf: ParsedCert): CheckItem {
  const groups = new Map<string, string[]>();
  for (const n of leaf.summary.dnsNames) {
    const why = publicCaRefusal(n);
    if (why) groups.set(why, [...(groups.get(why) ?? []), n]);
  }
  const ips = leaf.summary.ipAddresses.filter(isPrivateIp);
  if (ips.length > 0) groups.set('private IP addresses', ips);
  if (groups.size === 0) {
    return { id: 'public-ca', status: 'note', message: 'every SAN name is a public FQDN, which a public CA can issue; but the short name ucupdates-r2 the phone needs is one no public CA issues' };
  }
  const parts = [...groups].map(([why, names]) => `${why} (${names.join(', ')})`);
  return {
    id: 'public-ca',
    status: 'note',
    message: `a public CA refuses ${parts.join('; ')}: such a certificate comes from an internal (AD enterprise) CA, and the phone trusts it only after fetching that root with GetRootCertChains during a PIN sign-in attempt`,
  };
}

function chainItems(leaf: ParsedCert, bundle: readonly ParsedCert[], roots: readonly ParsedCert[] | undefined, now: Date, warnDays: number): { items: CheckItem[]; path: ParsedCert[] } {
  const items: CheckItem[] = [];
  const pool = [...bundle.filter((c) => !sameCert(c, leaf)), ...(roots ?? [])];
  const r = buildPath(leaf, pool);
  const names = r.path.map((p) => /CN=([^,]+)/.exec(p.summary.subject)?.[1] ?? p.summary.subject).join(' → ');
  if (roots) {
    const end = r.path[r.path.length - 1]!;
    const trusted = roots.some((root) => sameCert(root, end) || (end.summary.subject === root.summary.subject && end.x509.publicKey.equals(root.x509.publicKey)));
    if (trusted) {
      items.push({ id: 'chain', status: 'pass', message: `chains to the given root, every signature verified: ${names}` });
    } else if (r.badSignatureFrom) {
      items.push({ id: 'chain', status: 'fail', message: `${r.badSignatureFrom.summary.subject} has the issuer's name, but its key does not verify the signature of ${end.summary.subject} (another CA with the same name?): the phone reports 0x2F0D ERROR_WINHTTP_SECURE_INVALID_CA` });
    } else if (r.selfSigned) {
      const where = r.path.length === 1 ? `is self-signed (${end.summary.subject}) and` : `chains to ${end.summary.subject}, which`;
      items.push({ id: 'chain', status: 'fail', message: `${where} is not the given root: the phone reports 0x2F0D ERROR_WINHTTP_SECURE_INVALID_CA` });
    } else {
      items.push({ id: 'chain', status: 'fail', message: `does not chain to the given root: no certificate for issuer ${r.missingIssuer} (path ${names}); the phone reports 0x2F0D ERROR_WINHTTP_SECURE_INVALID_CA` });
    }
  } else if (r.selfSigned && r.path.length > 1) {
    items.push({ id: 'chain', status: 'note', message: `chains, with verified signatures, to ${r.path[r.path.length - 1]!.summary.subject} found in the same file; give --root with what GetRootCertChains returns to confirm the phone trusts it` });
  } else if (r.selfSigned) {
    items.push({ id: 'chain', status: 'note', message: 'self-signed: the phone trusts it only if this very certificate is what GetRootCertChains returns; give --root to check the chain' });
  } else {
    items.push({ id: 'chain', status: 'note', message: `issued by ${leaf.summary.issuer}; give --root with the root CA (what GetRootCertChains returns) to verify the chain` });
  }
  // The phone checks every certificate of the path, not just the leaf.
  r.path.slice(1).forEach((ca, i) => {
    const last = i === r.path.length - 2;
    const what = `${last && r.selfSigned ? 'root' : 'intermediate'} ${ca.summary.subject}`;
    for (const v of validityItems(ca, now, warnDays, what, 'ca-validity')) if (v.status !== 'pass') items.push(v);
    const isRoot = last && r.selfSigned;
    const bc = ext(ca, 'basicConstraints');
    if (!isRoot && bc?.cA !== true) items.push({ id: 'ca-constraints', status: 'fail', message: `${what} is not marked as a CA (basicConstraints cA:TRUE): Windows refuses it as an issuer` });
    const ku = ext(ca, 'keyUsage');
    if (ku && ku.keyCertSign !== true) items.push({ id: 'ca-constraints', status: 'fail', message: `${what} has a key usage without keyCertSign: it may not sign certificates` });
    if (!isRoot) {
      const s = signatureItem(ca, what);
      if (s.status === 'fail' || s.status === 'warn') items.push(s);
    }
  });
  return { items, path: r.path };
}

/** Every requirement, in reading order. `ok` is false when a phone would refuse the certificate. */
export function checkCertificate(bundle: CertBundle, o: CheckOptions = {}): CheckReport {
  const now = o.now ?? new Date();
  const warnDays = o.warnDays ?? 30;
  const certs = bundle.certs.map(parseCert);
  const roots = o.root?.certs.map(parseCert);
  const leaf = pickLeaf(certs);
  const checks: CheckItem[] = [];
  checks.push(...nameItems(leaf, o.names));
  const chain = chainItems(leaf, certs, roots, now, warnDays);
  checks.push(...chain.items.slice(0, 1));
  checks.push(...validityItems(leaf, now, warnDays, 'the certificate', 'validity'));
  checks.push(...chain.items.slice(1));
  checks.push(...usageItems(leaf));
  checks.push(keyItem(leaf));
  checks.push(signatureItem(leaf, 'the certificate'));
  checks.push(publicCaItem(leaf));
  return {
    file: bundle.file,
    format: bundle.format,
    ok: !checks.some((c) => c.status === 'fail'),
    leaf: leaf.summary,
    path: chain.path.map((p) => p.summary),
    checks,
  };
}

const MARK: Record<Status, string> = { pass: '✔', fail: '✘', warn: '⚠', note: 'ℹ' };

export function formatReport(r: CheckReport): string {
  const l = r.leaf;
  const lines = [
    `${r.file} (${r.format})`,
    `  subject ${l.subject}`,
    `  issuer  ${l.issuer}`,
    `  SAN     ${[...l.dnsNames, ...l.ipAddresses].join(', ') || '(none)'}`,
    `  serial ${l.serial}, ${l.keyType}${l.keyBits ? ` ${l.keyBits}` : ''}, ${l.signatureAlgorithm}`,
    `  SHA-256 ${l.sha256}`,
    '',
    ...r.checks.map((c) => `${MARK[c.status]} ${c.message}`),
    '',
  ];
  const fails = r.checks.filter((c) => c.status === 'fail').length;
  lines.push(r.ok ? 'OK: a Lync Phone Edition phone would accept this certificate at ucupdates-r2' : `FAIL: a Lync Phone Edition phone would refuse this certificate (${fails} problem${fails === 1 ? '' : 's'})`);
  return lines.join('\n');
}
