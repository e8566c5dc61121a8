// dnsmasq (2.90) configuration, DHCP only. Followed: dnsmasq(8) (--dhcp-option
// with `vendor:` and `tag:`, --dhcp-option-force, --dhcp-vendorclass,
// --dhcp-range, --dhcp-host), checked here by running the real dnsmasq 2.90
// (test/export/servers.test.ts).
//
// What dnsmasq does with each option, seen on the wire:
// - `vendor:MS-UC-Client,N,"text"` lines: dnsmasq builds option 43 itself, in
//   REVERSE order (5, 4, 3, 2, 1) and with an end marker 0xFF inside
//   (docs/lpe-facts.md §Option 43 and lab-notes, confirmed by the test). An unquoted 443 becomes
//   the integer 01 bb: every value here is quoted.
// - `tag:msuc,43,<hex>`: the bytes go out unchanged (no reordering, no 0xFF).
// - 119 as names: dnsmasq compresses them as provlab does. 119 as hex is NOT
//   possible: dnsmasq reads the hex digits as a domain name.
// - 120 as hex: unchanged.

import {
  ascii,
  exportModel,
  header,
  hex,
  identifier,
  isPrintable,
  scopeOverrides,
  type ExportClass,
  type ExportOption,
  type ExportResult,
} from './common.js';
import type { Plan } from '../site/plan.js';

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** dnsmasq reads `aa:bb` as bytes, but a lone `10` as the number ten: one byte goes in as a decimal number. */
function bytesValue(bytes: Uint8Array): string {
  return bytes.length === 1 ? String(bytes[0]) : hex(bytes, ':');
}

function value(o: ExportOption): string {
  const v = o.value;
  if (v && v.type === 'ipv4') return v.value;
  if (v && v.type === 'ipv4-list') return v.value.join(',');
  if (v && v.type === 'text' && isPrintable(o.bytes)) return quote(v.value);
  if (v && v.type === 'fqdn-list' && o.code === 119) return v.value.join(',');
  return bytesValue(o.bytes);
}

function tagOf(c: ExportClass): string {
  return c.lync ? 'msuc' : c.vendorClass.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'vendor';
}

export function exportDnsmasq(plan: Plan): ExportResult {
  const model = exportModel(plan);
  const warnings: string[] = [];
  const d = plan.dhcp.scopes[0]!;
  const out: string[] = [];

  out.push('# DHCP only: dnsmasq answers no DNS (port=0). The DNS records: provlab export bind.');
  out.push('port=0');
  if (plan.interface) {
    out.push(`interface=${plan.interface}`, 'bind-interfaces');
  } else {
    out.push('# relay-only site: set interface= to the interface that receives the relayed requests');
    warnings.push('dnsmasq: the site is relay-only (no interface): set interface= to the interface that receives the relayed requests');
  }
  out.push('# The only DHCP server on this VLAN.', 'dhcp-authoritative');
  if (d.leaseSeconds < 120) warnings.push(`dnsmasq: lease ${d.leaseSeconds}s is below dnsmasq's minimum of 2 minutes; dnsmasq uses 120s`);
  for (const p of d.pools) out.push(`dhcp-range=${p.start},${p.end},${d.subnet.mask},${d.leaseSeconds}`);
  for (const r of d.reservations) out.push(`dhcp-host=${r.mac},${r.ip}${r.name ? `,${r.name}` : ''}`);
  out.push('');
  // The other scopes: dnsmasq picks a range by giaddr and sets its tag; tagged options override the untagged ones.
  for (const sc of model.scopes.slice(1)) {
    const s = sc.plan;
    const tag = `scope-${identifier(s.name)}`;
    out.push(`# Scope ${s.name}: reached through a relay (giaddr in ${s.subnet.network}/${s.subnet.prefix}).`);
    if (s.leaseSeconds < 120) warnings.push(`dnsmasq: scope ${s.name}: lease ${s.leaseSeconds}s is below dnsmasq's minimum of 2 minutes; dnsmasq uses 120s`);
    for (const p of s.pools) out.push(`dhcp-range=set:${tag},${p.start},${p.end},${s.subnet.mask},${s.leaseSeconds}`);
    for (const r of s.reservations) out.push(`dhcp-host=${r.mac},${r.ip}${r.name ? `,${r.name}` : ''}`);
    const { set, unset } = scopeOverrides(model, sc);
    for (const o of set) if (o.code !== 1) out.push(`dhcp-option=tag:${tag},${o.code},${value(o)}`);
    // An empty value stops the untagged one (and dnsmasq's own address for 3 and 6).
    for (const code of unset) if (code !== 1) out.push(`dhcp-option=tag:${tag},${code}`);
    out.push('');
  }

  out.push('# Options for every client (number = DHCP option code).');
  const codes = new Set(model.base.map((o) => o.code));
  for (const o of model.base) {
    // dnsmasq sends the range's mask as option 1; provlab's is the same mask.
    if (o.code === 1) continue;
    out.push(`# ${o.code} ${o.name}`, `dhcp-option=${o.code},${value(o)}`);
  }
  // Without these lines dnsmasq would send its own address as router and DNS server.
  if (!codes.has(3)) out.push('# no router (option 3): an empty value stops dnsmasq sending its own address', 'dhcp-option=3');
  if (!codes.has(6)) out.push('dhcp-option=6');
  out.push('');

  for (const c of model.classes) {
    const tag = tagOf(c);
    const always = new Set(c.alwaysSend);
    const opt = (code: number) => (always.has(code) ? 'dhcp-option-force' : 'dhcp-option');
    out.push(`# Class ${c.name}: option 60 contains "${c.vendorClass}".`);
    // dhcp-vendorclass is a substring match: the same as provlab's only for match: substring.
    if (c.match !== 'substring') out.push(`# dnsmasq matches a substring of option 60 (provlab matches ${c.match === 'exact' ? 'it exactly' : 'its start'}, case-sensitively).`);
    out.push(`dhcp-vendorclass=set:${tag},${c.vendorClass}`);
    if (always.size > 0) out.push(`# dhcp-option-force: sent whether or not option 55 asks (provlab always sends ${c.alwaysSend.join(', ')} to this class).`);
    for (const o of c.options) {
      if (o.code === 43) {
        const v43 = c.vendor43;
        const raw = `${opt(43)}=tag:${tag},43,${bytesValue(o.bytes)}`;
        if (v43 && v43.canonical && v43.subOptions.length > 0) {
          const reversed = [...v43.subOptions].reverse().map((s) => s.code).join(', ');
          out.push('#');
          out.push('# WARNING: dnsmasq builds option 43 from the vendor: lines below itself. It sends the');
          out.push(`# sub-options in REVERSE order (${reversed}) and appends an end marker 0xFF inside`);
          out.push(`# option 43: ${o.bytes.length + 1} bytes instead of provlab's ${o.bytes.length}. Whether the phone accepts that is not known.`);
          if (c.lync) {
            out.push('# Every value is quoted: an unquoted 443 would go out as the 16-bit integer 01 bb,');
            out.push('# not the text "443" (34 34 33) the phone needs.');
          }
          out.push(`# Byte-exact alternative (provlab's ${o.bytes.length} bytes, unchanged; checked with dnsmasq 2.90):`);
          out.push('# comment out the vendor: lines and uncomment this one.');
          out.push(`# ${raw}`);
          for (const s of v43.subOptions) {
            const text = isPrintable(s.data);
            out.push(`${opt(43)}=vendor:${c.vendorClass},${s.code},${text ? quote(ascii(s.data)) : bytesValue(s.data)}`);
          }
          warnings.push(
            `dnsmasq: class ${c.name}: dnsmasq reverses the option 43 sub-options and appends 0xFF; the config carries a commented byte-exact alternative (tag:${tag},43,<hex>)`,
          );
        } else {
          // The vendor: lines cannot give another order or provlab's own end marker: the exact bytes go in.
          out.push(`# option 43 exactly as provlab sends it (${o.bytes.length} bytes); dnsmasq's vendor: lines would reorder it`, raw);
        }
        continue;
      }
      out.push(`# ${o.code} ${o.name}`, `${opt(o.code)}=tag:${tag},${o.code},${value(o)}`);
    }
    out.push('');
  }

  const notes = [
    'Check it: dnsmasq --test -C dnsmasq.conf    Run it: dnsmasq -k -C dnsmasq.conf',
    'dnsmasq also sends option 28 (broadcast address), and option 51 in answers to DHCPINFORM (RFC 2131 §4.3.5 says no lease time there).',
  ];
  return { files: [{ name: 'dnsmasq.conf', comment: '#', content: `${header(plan, 'dnsmasq', '#', notes)}${out.join('\n')}\n` }], warnings };
}
