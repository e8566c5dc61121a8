// ISC dhcpd (4.4) dhcpd.conf. Followed: dhcpd.conf(5) ("Client classing",
// "vendor-option-space") and dhcp-options(5) ("Defining new options",
// "Vendor encapsulated options", domain-search), checked here by running the
// real dhcpd 4.4.3 (test/export/servers.test.ts).
//
// What dhcpd does with each option, seen on the wire:
// - 43 through `vendor-option-space MSUCClient`: sub-options in ascending
//   code order, text without NUL, no 0xFF: provlab's bytes.
// - 119 through `option domain-search "a", "b"`: dhcpd compresses the names
//   (RFC 1035 pointers) exactly as provlab does.
// - 120: dhcpd has no definition; `option sip-server code 120 = string` and hex.

import {
  ascii,
  describeNonCanonical43,
  exportModel,
  header,
  hex,
  isPrintable,
  type ExportClass,
  type ExportOption,
  type ExportResult,
  matchNotExpressible,
} from './common.js';
import type { Plan } from '../site/plan.js';

/** Codes written through dhcpd's own option names (dhcp-options(5)); every other code becomes a string option with hex. */
const DHCPD_NAMES: Record<number, string> = {
  2: 'time-offset',
  3: 'routers',
  4: 'time-servers',
  6: 'domain-name-servers',
  12: 'host-name',
  15: 'domain-name',
  26: 'interface-mtu',
  28: 'broadcast-address',
  42: 'ntp-servers',
  66: 'tftp-server-name',
  67: 'bootfile-name',
  119: 'domain-search',
};

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const colonHex = (b: Uint8Array) => hex(b, ':');

function spaceName(c: ExportClass): string {
  return c.lync ? 'MSUCClient' : c.vendorClass.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'vendor';
}

interface Rendered {
  /** `option NAME VALUE;` without indentation. */
  readonly statement: string;
  /** A definition the statement needs, at the top of the file. */
  readonly definition?: string;
}

function render(o: ExportOption): Rendered {
  const name = DHCPD_NAMES[o.code];
  const v = o.value;
  if (name && v) {
    switch (v.type) {
      case 'ipv4':
        return { statement: `option ${name} ${v.value};` };
      case 'ipv4-list':
        return { statement: `option ${name} ${v.value.join(', ')};` };
      case 'uint8':
      case 'uint16':
      case 'uint32':
      case 'int32':
        return { statement: `option ${name} ${v.value};` };
      case 'text':
        if (isPrintable(o.bytes)) return { statement: `option ${name} ${quote(v.value)};` };
        break;
      case 'fqdn-list':
        // dhcpd compresses the list itself, the same way provlab does (RFC 3397 §2).
        return { statement: `option ${name} ${v.value.map(quote).join(', ')};` };
      default:
        break;
    }
  }
  const custom = o.code === 120 ? 'sip-server' : `provlab-option-${o.code}`;
  return { statement: `option ${custom} ${colonHex(o.bytes)};`, definition: `option ${custom} code ${o.code} = string;` };
}

export function exportIscDhcpd(plan: Plan): ExportResult {
  const model = exportModel(plan);
  const warnings: string[] = [];
  const definitions = new Set<string>();
  const spaces: string[] = [];
  const d = plan.dhcp.scopes[0]!;

  const expressible = model.classes.filter((c) => {
    // dhcp-eval(5) has substring() but no search: a match anywhere cannot be stated.
    const why = matchNotExpressible('isc-dhcpd', c, ['exact', 'prefix']);
    if (why !== null) warnings.push(why);
    return why === null;
  });
  const classBlocks = expressible.map((c) => {
    const lines: string[] = [`class ${quote(c.name)} {`];
    // Case-sensitive match on option 60 (Microsoft: MS-UC-Client is case-sensitive); a prefix through substring().
    lines.push(
      c.match === 'prefix'
        ? `  match if substring(option vendor-class-identifier, 0, ${c.vendorClass.length}) = ${quote(c.vendorClass)};`
        : `  match if option vendor-class-identifier = ${quote(c.vendorClass)};`,
    );
    for (const o of c.options) {
      if (o.code === 43) {
        const v43 = c.vendor43;
        if (v43 && v43.canonical && v43.subOptions.length > 0) {
          const space = spaceName(c);
          const defs = [`option space ${space};`];
          lines.push(`  vendor-option-space ${space};`);
          for (const s of v43.subOptions) {
            const text = isPrintable(s.data);
            defs.push(`option ${space}.${s.name} code ${s.code} = ${text ? 'text' : 'string'};`);
            lines.push(`  option ${space}.${s.name} ${text ? quote(ascii(s.data)) : colonHex(s.data)};`);
          }
          spaces.push(defs.join('\n'));
        } else {
          warnings.push(`isc-dhcpd: class ${c.name}: ${describeNonCanonical43(v43)}; exported as raw bytes (vendor-encapsulated-options)`);
          lines.push(`  option vendor-encapsulated-options ${colonHex(o.bytes)};`);
        }
        continue;
      }
      const r = render(o);
      if (r.definition) definitions.add(r.definition);
      lines.push(`  ${r.statement}`);
    }
    if (c.alwaysSend.length > 0) {
      // provlab sends these whether or not the client's option 55 asks for them; dhcpd sends only what
      // option 55 lists, so append them to the list it answers (dhcp-options(5), dhcp-parameter-request-list).
      lines.push(`  if exists dhcp-parameter-request-list {`);
      lines.push(`    option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, ${c.alwaysSend.map((n) => n.toString(16).padStart(2, '0')).join(', ')});`);
      lines.push(`  }`);
    }
    lines.push('}');
    return lines.join('\n');
  });

  // One subnet block per scope: dhcpd picks it by giaddr for a relayed request, by the interface otherwise.
  const subnet: string[] = [];
  for (const sc of model.scopes) {
    const s = sc.plan;
    if (sc.index > 0) subnet.push('', `# Scope ${s.name}: reached through a relay (giaddr in this subnet).`);
    subnet.push(`subnet ${s.subnet.network} netmask ${s.subnet.mask} {`);
    for (const p of s.pools) subnet.push(`  range ${p.start} ${p.end};`);
    if (s.leaseSeconds !== d.leaseSeconds) {
      subnet.push(`  default-lease-time ${s.leaseSeconds};`, `  max-lease-time ${s.leaseSeconds};`);
      subnet.push(`  option dhcp-renewal-time ${s.renewSeconds};`, `  option dhcp-rebinding-time ${s.rebindSeconds};`);
    }
    for (const o of sc.options) {
      // dhcpd sends the subnet's own mask as option 1; provlab's is the same mask.
      if (o.code === 1) continue;
      const r = render(o);
      if (r.definition) definitions.add(r.definition);
      subnet.push(`  ${r.statement}`);
    }
    subnet.push('}');
  }

  const hosts = plan.dhcp.scopes.flatMap((s) => s.reservations).map((r, i) => {
    const name = r.name ?? `reservation-${i + 1}`;
    return `host ${name} {\n  hardware ethernet ${r.mac};\n  fixed-address ${r.ip};\n}`;
  });

  const run = plan.interface ? `dhcpd -4 -cf dhcpd.conf ${plan.interface}` : 'dhcpd -4 -cf dhcpd.conf IFACE   (relay-only site: the interface that receives the relayed requests)';
  if (plan.interface === null) warnings.push('isc-dhcpd: the site is relay-only (no interface): start dhcpd on the interface that receives the relayed requests');
  const notes = [`Check it: dhcpd -t -cf dhcpd.conf    Run it: ${run}`];
  const body = [
    '# The only DHCP server on this VLAN.',
    'authoritative;',
    'ddns-update-style none;',
    `default-lease-time ${d.leaseSeconds};`,
    `max-lease-time ${d.leaseSeconds};`,
    '# T1 and T2 as provlab sends them (RFC 2131 §4.4.5: 0.5 and 0.875 of the lease).',
    `option dhcp-renewal-time ${d.renewSeconds};`,
    `option dhcp-rebinding-time ${d.rebindSeconds};`,
    '',
    ...(definitions.size > 0 ? ['# Options dhcpd has no definition for (120: RFC 3361 SIP servers), sent as the exact bytes.', ...definitions, ''] : []),
    ...(spaces.length > 0
      ? ['# Option 43 sub-options (RFC 2132 §8.4): text without NUL, ascending order, no 0xFF. Port 443 is the text "443".', ...spaces, '']
      : []),
    ...classBlocks.flatMap((b) => [b, '']),
    ...subnet,
    ...(hosts.length > 0 ? ['', ...hosts] : []),
    '',
  ].join('\n');
  return { files: [{ name: 'dhcpd.conf', comment: '#', content: `${header(plan, 'isc-dhcpd', '#', notes)}${body}` }], warnings };
}
