// Option bytes from independent public sources, for tests that judge bytes:
// DHCPUtil's output (docs/lpe-facts.md §One public example, -sipserver
// server.fqdn.company.com), split per sub-option by hand, and RFC 3397's
// option 119 example. Never produced by provlab's own encoders.

export const SUB1 = '010C4D532D55432D436C69656E74';
export const SUB2 = '02056874747073';
export const SUB3 = '03177365727665722E6671646E2E636F6D70616E792E636F6D';
export const SUB4 = '0403343433';
export const SUB5 = '05252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663';
export const DHCPUTIL_43 =
  '010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D040334343305252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663';
export const DHCPUTIL_120 = '0006736572766572046671646E07636F6D70616E7903636F6D00';
/** RFC 3397's example: eng.apple.com, marketing.apple.com in 27 bytes. */
export const RFC3397_119 = '03 65 6e 67 05 61 70 70 6c 65 03 63 6f 6d 00 09 6d 61 72 6b 65 74 69 6e 67 c0 04';

/** Hex with any separators to bytes. */
export const H = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/[^0-9a-fA-F]/g, ''), 'hex'));
