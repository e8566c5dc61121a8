// kea-dhcp4 JSON. Followed: Kea 2.2 ARM ("Client Classification": class-level
// option-def for option 43 only; "Custom DHCPv4 Options": option-def with
// type binary/string in a custom space, csv-format false + hex data), checked
// here by running the real kea-dhcp4 2.2 (test/export/servers.test.ts).
//
// What Kea does with each option, seen on the wire:
// - 43 as a class-local option-def `empty` encapsulating MSUCClient: the
//   sub-options go out in ascending code order, no 0xFF: provlab's bytes.
// - 119 with the standard domain-search row: Kea writes every name in full
//   (no RFC 1035 compression), even when the data is given as hex (it parses
//   the hex with its row, then writes the names again), and Kea refuses an
//   option-def that overrides a standard option. The exact compressed bytes
//   go out through the Flex Option hook (ARM "Flex Option for Option Value
//   Settings": `supersede` with a hex constant), which replaces 119 with them;
//   without the hook Kea still sends the same names, uncompressed.
// - 120 has no standard row in Kea 2.2: a custom `binary` option-def.

import { MS_UC_CLIENT } from '../wire/ms-uc-client.js';
import { encodeNames } from '../wire/rfc1035-names.js';
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

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/**
 * Codes Kea 2.2 has a standard definition for (std_option_defs.h): RFC 2132's
 * 1-76 and the later ones provlab may meet. Any other code gets a binary
 * option-def, which Kea refuses for a standard code, hence the list.
 */
const KEA_STANDARD = new Set<number>([
  ...Array.from({ length: 76 }, (_, i) => i + 1),
  77, 81, 82, 85, 86, 87, 88, 89, 91, 92, 93, 94, 97, 98, 99, 100, 101, 112, 113, 114, 116, 117, 118, 119, 124, 125, 136, 137,
  138, 141, 146, 159, 212, 213,
]);

/** Debian and Ubuntu (amd64) install Kea's hooks here; other systems: /usr/lib64/kea/hooks or /usr/local/lib/kea/hooks. */
export const KEA_FLEX_OPTION_LIBRARY = '/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_flex_option.so';

/** Kea's csv parser splits on commas and reads backslashes: text with neither goes in as is. */
function csvSafe(bytes: Uint8Array): boolean {
  return isPrintable(bytes) && !bytes.some((b) => b === 0x2c || b === 0x5c);
}

function keaName(o: ExportOption): string | null {
  // Option 120 is provlab's name for a row Kea 2.2 does not have; the custom def below uses it.
  if (o.code === 120) return 'sip-server';
  if (!KEA_STANDARD.has(o.code)) return `provlab-option-${o.code}`;
  return o.name.startsWith('option-') ? null : o.name;
}

/** option-data for one option in the dhcp4 space, in the most readable form that keeps the bytes. */
function optionData(o: ExportOption, alwaysSend: boolean): { [k: string]: Json } {
  const name = keaName(o);
  const id: { [k: string]: Json } = name === null ? { code: o.code } : { name };
  const v = o.value;
  let entry: { [k: string]: Json };
  if (!KEA_STANDARD.has(o.code)) {
    // Our own binary option-def: Kea reads the data as hex only.
    entry = { ...id, data: hex(o.bytes).toUpperCase() };
  } else if (v && (v.type === 'ipv4' || v.type === 'ipv4-list')) {
    entry = { ...id, data: (v.type === 'ipv4' ? [v.value] : v.value).join(', ') };
  } else if (v && (v.type === 'uint8' || v.type === 'uint16' || v.type === 'uint32' || v.type === 'int32')) {
    entry = { ...id, data: String(v.value) };
  } else if (v && v.type === 'text' && csvSafe(o.bytes)) {
    entry = { ...id, data: v.value };
  } else if (v && v.type === 'fqdn-list') {
    // Kea writes these uncompressed; the Flex Option hook puts provlab's bytes back (see exportKea).
    entry = { ...id, data: v.value.join(', ') };
  } else {
    entry = { ...id, 'csv-format': false, data: hex(o.bytes).toUpperCase() };
  }
  if (alwaysSend) entry['always-send'] = true;
  return entry;
}

/** Kea space names: letters, digits and underscores. */
function spaceName(c: ExportClass): string {
  return c.lync ? 'MSUCClient' : c.vendorClass.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'vendor';
}

function classTest(vendor: string, match: 'exact' | 'prefix'): string {
  const bytes = Uint8Array.from(vendor, (ch) => ch.charCodeAt(0));
  // Case-sensitive match on option 60 (Microsoft: MS-UC-Client is case-sensitive); a prefix through substring().
  const text = isPrintable(bytes) && !/['\\]/.test(vendor);
  const field = text ? 'option[60].text' : 'option[60].hex';
  const value = text ? `'${vendor}'` : `0x${hex(bytes)}`;
  return match === 'exact' ? `${field} == ${value}` : `substring(${field},0,${bytes.length}) == ${value}`;
}

export function exportKea(plan: Plan): ExportResult {
  const model = exportModel(plan);
  const warnings: string[] = [];
  const optionDefs: { [k: string]: Json }[] = [];
  const definedCustom = new Set<number>();
  const defineCustom = (o: ExportOption) => {
    const name = keaName(o);
    if (name === null || KEA_STANDARD.has(o.code) || definedCustom.has(o.code)) return;
    definedCustom.add(o.code);
    optionDefs.push({ name, code: o.code, type: 'binary', space: 'dhcp4' });
  };

  const expressible = model.classes.filter((c) => {
    // Kea 2.2's expressions have substring() but no search: a match anywhere cannot be stated.
    const why = matchNotExpressible('kea', c, ['exact', 'prefix']);
    if (why !== null) warnings.push(why);
    return why === null;
  });
  const clientClasses: { [k: string]: Json }[] = expressible.map((c) => {
    const always = new Set(c.alwaysSend);
    const entry: { [k: string]: Json } = { name: c.name, test: classTest(c.vendorClass, c.match === 'prefix' ? 'prefix' : 'exact') };
    const data: { [k: string]: Json }[] = [];
    for (const o of c.options) {
      if (o.code === 43) {
        const v43 = c.vendor43;
        const space = spaceName(c);
        if (v43 && v43.canonical && v43.subOptions.length > 0) {
          entry['option-def'] = [{ name: 'vendor-encapsulated-options', code: 43, type: 'empty', encapsulate: space }];
          data.push(always.has(43) ? { name: 'vendor-encapsulated-options', 'always-send': true } : { name: 'vendor-encapsulated-options' });
          for (const s of v43.subOptions) {
            const text = csvSafe(s.data);
            optionDefs.push({ name: s.name, code: s.code, type: text ? 'string' : 'binary', space });
            data.push({ name: s.name, space, data: text ? ascii(s.data) : hex(s.data).toUpperCase() });
          }
        } else {
          // Kea keeps sub-options keyed by code: another order or an end marker only survives as raw bytes.
          warnings.push(`kea: class ${c.name}: ${describeNonCanonical43(v43)}; exported as raw bytes (binary option 43)`);
          entry['option-def'] = [{ name: 'vendor-encapsulated-options', code: 43, type: 'binary' }];
          data.push({ name: 'vendor-encapsulated-options', data: hex(o.bytes).toUpperCase(), ...(always.has(43) ? { 'always-send': true } : {}) });
        }
        continue;
      }
      defineCustom(o);
      data.push(optionData(o, always.has(o.code)));
    }
    entry['option-data'] = data;
    return entry;
  });

  // One subnet4 per scope; the first is the interface's, the others are reached through relays (giaddr).
  let flex: { [k: string]: Json }[] = [];
  const flexBytes = new Map<number, string>();
  let flexClash = false;
  const d0 = plan.dhcp.scopes[0]!;
  const subnets = model.scopes.map((sc) => {
    const d = sc.plan;
    const data: { [k: string]: Json }[] = [];
    for (const o of sc.options) {
      // Kea sends the subnet's own mask as option 1; provlab's is the same mask.
      if (o.code === 1) continue;
      defineCustom(o);
      data.push(optionData(o, false));
      const v = o.value;
      if (v && v.type === 'fqdn-list' && hex(encodeNames(v.value, { compress: false })) !== hex(o.bytes)) {
        const seen = flexBytes.get(o.code);
        if (seen === undefined) {
          flexBytes.set(o.code, hex(o.bytes));
          flex.push({ code: o.code, supersede: `0x${hex(o.bytes).toUpperCase()}` });
        } else if (seen !== hex(o.bytes)) flexClash = true;
      }
    }
    const subnet: { [k: string]: Json } = {
      id: sc.index + 1,
      subnet: `${d.subnet.network}/${d.subnet.prefix}`,
      ...(plan.interface && sc.index === 0 ? { interface: plan.interface } : {}),
      pools: d.pools.map((p) => ({ pool: `${p.start} - ${p.end}` })),
      'option-data': data,
    };
    if (d.leaseSeconds !== d0.leaseSeconds) Object.assign(subnet, { 'valid-lifetime': d.leaseSeconds, 'renew-timer': d.renewSeconds, 'rebind-timer': d.rebindSeconds });
    if (d.reservations.length > 0) {
      subnet['reservations'] = d.reservations.map((r) => ({ 'hw-address': r.mac, 'ip-address': r.ip, ...(r.name ? { hostname: r.name } : {}) }));
    }
    return subnet;
  });
  if (flexClash) {
    // The hook's supersede is server-wide: one scope's bytes would reach another's clients.
    warnings.push('kea: the scopes send different option 119 names: Kea sends each uncompressed (the Flex Option hook that restores provlab\'s bytes is server-wide, so it is left out)');
    flex = [];
  }
  const d = d0;
  if (plan.interface === null) {
    warnings.push('kea: the site is relay-only (no interface): add the interface that receives the relayed requests to interfaces-config');
  }

  const hooks: Json[] = flex.length === 0 ? [] : [{ library: KEA_FLEX_OPTION_LIBRARY, parameters: { options: flex } }];
  const config = {
    Dhcp4: {
      'interfaces-config': { interfaces: plan.interface ? [plan.interface] : [] },
      ...(hooks.length > 0 ? { 'hooks-libraries': hooks } : {}),
      'lease-database': { type: 'memfile', 'lfc-interval': 3600 },
      'valid-lifetime': d.leaseSeconds,
      'renew-timer': d.renewSeconds,
      'rebind-timer': d.rebindSeconds,
      'option-def': optionDefs,
      'client-classes': clientClasses,
      subnet4: subnets,
    },
  };

  const notes = [
    `Check it: kea-dhcp4 -t kea-dhcp4.conf    Run it: kea-dhcp4 -c kea-dhcp4.conf`,
    `Class ${MS_UC_CLIENT}: option 43 is declared per class (empty, encapsulating space MSUCClient) so that`,
    `other vendors' option 43 stays untouched; sub-options 1..5 are plain text, no NUL, port as text "443".`,
    `Option 120 has no standard definition in Kea 2.2: the binary option-def "sip-server" adds it.`,
  ];
  if (flex.length > 0) {
    notes.push(
      `Option 119: Kea would send the names uncompressed; provlab compresses them (RFC 3397). The Flex Option hook`,
      `(hooks-libraries; the path is Debian/Ubuntu amd64's, adjust it for your system) supersedes 119 with provlab's`,
      `bytes. Without the hook, Kea sends the same names uncompressed.`,
    );
  }
  const content = `${header(plan, 'kea', '//', notes)}${JSON.stringify(config, null, 2)}\n`;
  return { files: [{ name: 'kea-dhcp4.conf', comment: '//', content }], warnings };
}
