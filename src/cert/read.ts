// Certificate input in the forms admins have at hand: PEM (one or many
// certificates, also a PKCS7 block), DER, PKCS#12/PFX (with a password), a
// .p7b, or the base64 blob GetRootCertChains returns (what `cert rootchain`
// prints). Everything comes out as DER; nothing here judges the certificates.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import forge from 'node-forge';

export type CertFormat = 'pem' | 'der' | 'pfx' | 'pkcs7' | 'base64-pkcs7';

export interface CertBundle {
  file: string;
  format: CertFormat;
  /** DER of every certificate, in file order. */
  certs: Buffer[];
  /** True when the file also holds a private key (PEM key block, PFX key bag). */
  hasPrivateKey: boolean;
}

export class CertInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertInputError';
  }
}

const binary = (b: Buffer): string => b.toString('binary');
const fromBinary = (s: string): Buffer => Buffer.from(s, 'binary');

function isX509(der: Buffer): boolean {
  try {
    new X509Certificate(der);
    return true;
  } catch {
    return false;
  }
}

function asn1OrNull(der: Buffer): forge.asn1.Asn1 | null {
  try {
    // strict: a file that merely starts like DER must be all of it.
    return forge.asn1.fromDer(binary(der), true);
  } catch {
    return null;
  }
}

const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';

/**
 * Certificates of a PKCS#7 SignedData, read straight from the ASN.1 so that
 * any key type works (forge's pkcs7 reader insists on RSA keys).
 * ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT SignedData }
 * SignedData ::= SEQUENCE { version, digestAlgorithms SET, contentInfo, certificates [0] IMPLICIT SET OF Certificate OPTIONAL, ... } (RFC 2315 §9.1)
 */
export function pkcs7Certificates(der: Buffer): Buffer[] | null {
  const root = asn1OrNull(der);
  if (!root || !Array.isArray(root.value) || root.value.length < 2) return null;
  const [oid, content] = root.value;
  if (!oid || oid.type !== forge.asn1.Type.OID || forge.asn1.derToOid(oid.value as string) !== OID_SIGNED_DATA) return null;
  const signed = Array.isArray(content?.value) ? content.value[0] : undefined;
  if (!signed || !Array.isArray(signed.value)) return null;
  const certSet = signed.value.find((n) => n.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && n.type === 0);
  if (!certSet || !Array.isArray(certSet.value)) return [];
  return certSet.value.map((c) => fromBinary(forge.asn1.toDer(c).getBytes()));
}

function pemBlocks(text: string): { label: string; der: Buffer }[] {
  const out: { label: string; der: Buffer }[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    // Drop RFC 1421 headers (Proc-Type, DEK-Info) before the base64.
    const body = m[2]!.split(/\r?\n/).filter((l) => !l.includes(':')).join('');
    out.push({ label: m[1]!, der: Buffer.from(body.replace(/\s+/g, ''), 'base64') });
  }
  return out;
}

function readPfx(file: string, data: Buffer, password: string | undefined): CertBundle | null {
  const asn = asn1OrNull(data);
  if (!asn) return null;
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(asn, false, password ?? '');
  } catch (err) {
    const msg = (err as Error).message;
    // Not a PFX at all: let the other readers try.
    if (/ASN\.1 object is not an PKCS#12 PFX/i.test(msg)) return null;
    const hint = password === undefined ? ' (no password given: use --password)' : '';
    if (/MAC could not be verified|Invalid password/i.test(msg)) throw new CertInputError(`${file}: PKCS#12 MAC check failed: wrong password${hint}`);
    throw new CertInputError(`${file}: cannot read PKCS#12: ${msg}${hint}`);
  }
  const certs: Buffer[] = [];
  for (const bag of p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? []) {
    // forge leaves non-RSA certificates as raw ASN.1 in bag.asn1.
    const node = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : (bag as { asn1?: forge.asn1.Asn1 }).asn1;
    if (node) certs.push(fromBinary(forge.asn1.toDer(node).getBytes()));
  }
  const keyBags = [forge.pki.oids.pkcs8ShroudedKeyBag!, forge.pki.oids.keyBag!].flatMap((t) => p12.getBags({ bagType: t })[t] ?? []);
  return { file, format: 'pfx', certs, hasPrivateKey: keyBags.length > 0 };
}

/** Reads a certificate file; throws CertInputError with a sentence a person understands. */
export function readCertificates(file: string, options: { password?: string } = {}): CertBundle {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CertInputError(`${file}: cannot read: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return parseCertificates(data, file, options);
}

export function parseCertificates(data: Buffer, file: string, options: { password?: string } = {}): CertBundle {
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN ')) {
    const blocks = pemBlocks(text);
    const certs: Buffer[] = [];
    let hasPrivateKey = false;
    for (const b of blocks) {
      if (b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE') certs.push(b.der);
      else if (b.label === 'PKCS7' || b.label === 'CMS') certs.push(...(pkcs7Certificates(b.der) ?? []));
      else if (b.label.endsWith('PRIVATE KEY')) hasPrivateKey = true;
    }
    if (certs.length === 0) throw new CertInputError(`${file}: PEM file without a CERTIFICATE block`);
    return { file, format: 'pem', certs, hasPrivateKey };
  }
  if (isX509(data)) return { file, format: 'der', certs: [data], hasPrivateKey: false };
  const p7 = pkcs7Certificates(data);
  if (p7) return { file, format: 'pkcs7', certs: p7, hasPrivateKey: false };
  const pfx = readPfx(file, data, options.password);
  if (pfx) return pfx;
  // The base64 text of GetRootCertChains / `cert rootchain`.
  const trimmed = text.trim();
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed) && trimmed.length >= 16) {
    const der = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64');
    const inner = pkcs7Certificates(der);
    if (inner) return { file, format: 'base64-pkcs7', certs: inner, hasPrivateKey: false };
    if (isX509(der)) return { file, format: 'der', certs: [der], hasPrivateKey: false };
  }
  throw new CertInputError(`${file}: not a certificate: expected PEM, DER, PKCS#12 (PFX), PKCS#7 or base64 PKCS#7`);
}
