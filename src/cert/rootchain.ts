// The blob `GetRootCertChains` returns inside <Chain>: a "certs-only"
// PKCS#7 SignedData (RFC 2315 §9.1; a .p7b) in base64 DER, no PEM armour.
// docs/seed-article.md's sample starts `MIIDmgYJKoZIhvcNAQcCoIIDizCC`, which
// decodes to SEQUENCE(0x39a) { OID 1.2.840.113549.1.7.2 (signedData),
// [0](0x38b) { SEQUENCE ... } }: the same outer shape this file builds.

import forge from 'node-forge';

const { asn1 } = forge;
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_DATA = '1.2.840.113549.1.7.1';

const seq = (v: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, v);
const set = (v: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, v);
const oid = (o: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes());

/**
 * SignedData with certificates only: version 1, no digest algorithms, empty
 * data content, no signers. Certificates go in as their exact DER (any key
 * type, no re-encoding), in the order given.
 */
export function certsOnlyPkcs7(certsDer: readonly Buffer[]): Buffer {
  const certs = certsDer.map((d) => asn1.fromDer(d.toString('binary'), true));
  const signedData = seq([
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, String.fromCharCode(1)),
    set([]),
    seq([oid(OID_DATA)]),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, certs),
    set([]),
  ]);
  const contentInfo = seq([oid(OID_SIGNED_DATA), asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [signedData])]);
  return Buffer.from(asn1.toDer(contentInfo).getBytes(), 'binary');
}

/** One line of base64, as in the <Chain> element. */
export function rootChainBase64(certsDer: readonly Buffer[]): string {
  return certsOnlyPkcs7(certsDer).toString('base64');
}
