// The Lync part of the plan: option 43 for vendor class MS-UC-Client and the
// Certificate Provisioning URL the phone builds from it. Shared by the schema
// (option 43 must fit in 255 bytes) and the plan compiler, so both measure the
// very bytes that go on the wire.

import { MS_UC_CLIENT, certProvUrl, encodeMsUcClient, type MsUcClientSettings } from '../wire/ms-uc-client.js';

export interface LyncOption43Fields {
  readonly web: string;
  readonly scheme: string;
  readonly port: number;
  readonly certprov: string;
  readonly option43: { readonly order: readonly number[]; readonly end: boolean };
}

export function msUcClientSettings(l: LyncOption43Fields): MsUcClientSettings {
  return {
    ucIdentifier: MS_UC_CLIENT,
    urlScheme: l.scheme,
    webServerFqdn: l.web,
    // Sub-option 4 is ASCII text ("443" = 34 34 33), never a 16-bit integer (docs/lpe-facts.md §Option 43).
    webServerPort: String(l.port),
    certProvRelPath: l.certprov,
  };
}

export function encodeOption43(l: LyncOption43Fields): Uint8Array {
  return encodeMsUcClient(msUcClientSettings(l), { order: l.option43.order, appendEnd: l.option43.end });
}

/** Length of the encoded option 43 value; counted by hand only when a sub-option is too long to encode at all. */
export function option43Length(l: LyncOption43Fields): number {
  try {
    return encodeOption43(l).length;
  } catch {
    const s = msUcClientSettings(l);
    const text = [s.ucIdentifier, s.urlScheme, s.webServerFqdn, s.webServerPort, s.certProvRelPath];
    return l.option43.order.reduce((n, code) => n + 2 + (text[code - 1]?.length ?? 0), l.option43.end ? 1 : 0);
  }
}

export function lyncCertProvUrl(l: LyncOption43Fields): string {
  return certProvUrl(msUcClientSettings(l));
}
