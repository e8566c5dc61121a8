// Options as data, after ISC Kea's std_option_defs.h: one row per option
// (code, name, type, space, encapsulated space). The generic codec
// (option-codec.ts), `provlab decode` and the export targets read this table;
// a new option is a new row, not new code. Names follow Kea where Kea has one.

export type OptionType =
  | 'empty'
  | 'ipv4'
  | 'ipv4-list'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'int32'
  | 'uint8-list'
  | 'uint16-list'
  | 'text'
  | 'binary'
  /** RFC 3397 option 119: compressed RFC 1035 names. */
  | 'fqdn-list'
  /** RFC 3361 option 120: encoding byte + names or addresses. */
  | 'sip-servers'
  /** RFC 2132 §8.4 sub-options, decoded by the rows of `encapsulates`. */
  | 'encapsulated';

export interface OptionDef {
  code: number;
  name: string;
  type: OptionType;
  space: string;
  /** For 'encapsulated': the space whose rows describe the sub-options. */
  encapsulates?: string;
}

export const DHCP4_SPACE = 'dhcp4';
export const MS_UC_CLIENT_SPACE = 'ms-uc-client';
export const AGENT_SPACE = 'dhcp-agent-options-space';

const d4 = (code: number, name: string, type: OptionType, encapsulates?: string): OptionDef =>
  encapsulates === undefined ? { code, name, type, space: DHCP4_SPACE } : { code, name, type, space: DHCP4_SPACE, encapsulates };

const ROWS: OptionDef[] = [
  // RFC 2132 §3: vendor extensions
  d4(1, 'subnet-mask', 'ipv4'),
  d4(2, 'time-offset', 'int32'),
  d4(3, 'routers', 'ipv4-list'),
  // docs/lpe-facts.md §Names: sources disagree on option 4 (RFC 868 time) versus 42 (NTP) for the phone: send both.
  d4(4, 'time-servers', 'ipv4-list'),
  d4(6, 'domain-name-servers', 'ipv4-list'),
  d4(12, 'host-name', 'text'),
  // The phone looks up ucupdates-r2.<option 15 domain> (docs/lpe-facts.md §Names).
  d4(15, 'domain-name', 'text'),
  // RFC 2132 §5.3 and §6.1: for the sake of the uint16-list and uint16 types' rows.
  d4(25, 'path-mtu-plateau-table', 'uint16-list'),
  d4(26, 'interface-mtu', 'uint16'),
  d4(28, 'broadcast-address', 'ipv4'),
  d4(42, 'ntp-servers', 'ipv4-list'),
  // Vendor class MS-UC-Client: the five Lync sub-options (docs/lpe-facts.md §Option 43).
  d4(43, 'vendor-encapsulated-options', 'encapsulated', MS_UC_CLIENT_SPACE),
  // RFC 2132 §9: DHCP extensions
  d4(50, 'dhcp-requested-address', 'ipv4'),
  d4(51, 'dhcp-lease-time', 'uint32'),
  d4(52, 'dhcp-option-overload', 'uint8'),
  d4(53, 'dhcp-message-type', 'uint8'),
  d4(54, 'dhcp-server-identifier', 'ipv4'),
  d4(55, 'dhcp-parameter-request-list', 'uint8-list'),
  d4(56, 'dhcp-message', 'text'),
  d4(57, 'dhcp-max-message-size', 'uint16'),
  d4(58, 'dhcp-renewal-time', 'uint32'),
  d4(59, 'dhcp-rebinding-time', 'uint32'),
  // The phone sends "MS-UC-Client", case-sensitive (docs/lpe-facts.md §Option 60).
  d4(60, 'vendor-class-identifier', 'text'),
  d4(61, 'dhcp-client-identifier', 'binary'),
  d4(66, 'tftp-server-name', 'text'),
  d4(67, 'boot-file-name', 'text'),
  // RFC 4039
  d4(80, 'rapid-commit', 'empty'),
  // RFC 4702: flags, two obsolete rcode bytes, then a name; kept raw until provlab needs to read it.
  d4(81, 'fqdn', 'binary'),
  // RFC 3046
  d4(82, 'dhcp-agent-options', 'encapsulated', AGENT_SPACE),
  // RFC 2563: Windows clients send it in DISCOVER.
  d4(116, 'auto-config', 'uint8'),
  d4(119, 'domain-search', 'fqdn-list'),
  d4(120, 'sip-server', 'sip-servers'),
  // RFC 5859
  d4(150, 'tftp-server-address', 'ipv4-list'),
  // Web Proxy Auto-Discovery, a de facto option that Windows clients request.
  d4(252, 'wpad-url', 'text'),

  // Option 43 for vendor class MS-UC-Client; names are the netsh optiondef names.
  { code: 1, name: 'UCIdentifier', type: 'text', space: MS_UC_CLIENT_SPACE },
  { code: 2, name: 'URLScheme', type: 'text', space: MS_UC_CLIENT_SPACE },
  { code: 3, name: 'WebServerFqdn', type: 'text', space: MS_UC_CLIENT_SPACE },
  // ASCII "443", not an integer: dnsmasq's 01 bb is the known mistake (docs/lpe-facts.md §Option 43).
  { code: 4, name: 'WebServerPort', type: 'text', space: MS_UC_CLIENT_SPACE },
  { code: 5, name: 'CertProvRelPath', type: 'text', space: MS_UC_CLIENT_SPACE },

  // Option 82 sub-options (RFC 3046, RFC 3527, RFC 3993, RFC 5107), seen when a relay forwards.
  { code: 1, name: 'circuit-id', type: 'binary', space: AGENT_SPACE },
  { code: 2, name: 'remote-id', type: 'binary', space: AGENT_SPACE },
  { code: 5, name: 'link-selection', type: 'ipv4', space: AGENT_SPACE },
  { code: 6, name: 'subscriber-id', type: 'text', space: AGENT_SPACE },
  { code: 11, name: 'server-id-override', type: 'ipv4', space: AGENT_SPACE },
];

export const OPTION_DEFS: readonly OptionDef[] = Object.freeze(ROWS.map((def) => Object.freeze(def)));

const byCode = new Map<string, OptionDef>();
const byName = new Map<string, OptionDef>();
for (const def of OPTION_DEFS) {
  byCode.set(`${def.space}:${def.code}`, def);
  byName.set(`${def.space}:${def.name}`, def);
}

/** The row for a code in a space (default 'dhcp4'). */
export function findOptionDef(code: number, space: string = DHCP4_SPACE): OptionDef | undefined {
  return byCode.get(`${space}:${code}`);
}

/** The row for a name in a space (default 'dhcp4'); names are matched exactly. */
export function findOptionDefByName(name: string, space: string = DHCP4_SPACE): OptionDef | undefined {
  return byName.get(`${space}:${name}`);
}

/** The option's table name, or `option-<code>` for a code the table does not know (as Kea names them). */
export function optionName(code: number, space: string = DHCP4_SPACE): string {
  return findOptionDef(code, space)?.name ?? `option-${code}`;
}
