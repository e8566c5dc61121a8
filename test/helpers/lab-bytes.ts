// The option bytes a phone must receive from labSite() (test/helpers/sites.ts),
// written out by hand from docs/lpe-facts.md and the RFCs, never taken from our own
// encoders: the namespace tests compare them with what third-party clients and
// tshark decode on the wire.
import { LAB_WEB } from './sites.js';

export const WEB = LAB_WEB;
export const CERTPROV = '/CertProv/CertProvisioningService.svc';

const tlvHex = (code: number, s: string) => Buffer.concat([Buffer.from([code, s.length]), Buffer.from(s, 'ascii')]).toString('hex');

/** Option 43 sub-options as DHCPUtil writes them (docs/lpe-facts.md §Option 43): 1..5, ASCII, port as text, no NUL. */
export const SUBS_43: readonly string[] = [
  tlvHex(1, 'MS-UC-Client'),
  tlvHex(2, 'https'),
  tlvHex(3, WEB),
  tlvHex(4, '443'),
  tlvHex(5, CERTPROV),
];
/** Ascending, no 0xFF: the bytes provlab sends. */
export const EXPECTED_43 = SUBS_43.join('');
/** Option 120, encoding 0, one uncompressed RFC 1035 name (DHCPUtil's form). */
export const EXPECTED_120 = '00' + '086c796e63706f6f6c' + '077363686572747a' + '046e616d65' + '00';
/**
 * Option 119 for [schertz.name, corp.schertz.name] under RFC 3397 §2: the
 * first name in full at offset 0, the second as the label "corp" and a
 * pointer to offset 0 (c0 00).
 */
export const EXPECTED_119 = '07' + '7363686572747a' + '04' + '6e616d65' + '00' + '04' + '636f7270' + 'c000';
