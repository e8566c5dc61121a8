// Cisco IOS DHCP server (`ip dhcp pool`). Not run here (no IOS); the tests
// read the hex back and decode it with provlab's wire decoders.
//
// Followed:
// - `option CODE hex`, `option CODE ip`, `ip dhcp excluded-address`, host
//   pools with `host`/`hardware-address`, `lease D H M`: Cisco IOS IP
//   Addressing: DHCP Configuration Guide, "Configuring the Cisco IOS DHCP Server".
// - The 90-byte cut: the `option` command history (Cisco IOS IP Addressing
//   Services Command Reference) for 15.1(3)S: "A maximum limit of 180
//   characters was set for the dotted hexadecimal data"; 180 hex digits are
//   90 bytes, so `option 43 hex` loses everything after byte 90 without an
//   error, and the phone never offers PIN sign-in (docs/lpe-facts.md §Option 43). DHCPUtil's
//   option 43 is 67 bytes + the web FQDN, so any FQDN over 23 characters.
// - The fix, `option ext CODE hex`, introduced in IOS XE 3.2.1S ("an ASCII
//   string up to 255 characters or 255 bytes of hexadecimal data"), written as
//   consecutive `option ext` lines of at most 90 bytes each: as in the 2018
//   post "Cisco 路由器作为 DHCP 服务器在 Skype for Business (Lync) 部署中的注意事项",
//   which quotes both Cisco notes. Not verified on a device here: check with
//   `show running-config` and a capture (or `provlab probe`) after pasting.
//
// IOS pools cannot select options by option 60: the MS-UC-Client options go
// to every client of the pool.

import { exportModel, header, hex, identifier, outsidePools, type ExportOption, type ExportResult } from './common.js';
import type { Plan } from '../site/plan.js';

/** IOS 15.1(3)S and later keep only the first 180 hex digits of `option N hex`. */
export const IOS_HEX_LIMIT = 90;

/** IOS dotted hex, as `show running-config` prints it: 010c.4d53.2d55… */
export function dottedHex(bytes: Uint8Array): string {
  return (hex(bytes).match(/.{1,4}/g) ?? []).join('.');
}

function macDotted(mac: string): string {
  return (mac.replace(/:/g, '').match(/.{4}/g) ?? []).join('.');
}

function leaseLine(seconds: number): { line: string; exact: boolean } {
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return { line: `lease ${days} ${hours} ${minutes}`, exact: seconds % 60 === 0 };
}

function hexLines(o: ExportOption, warnings: string[], what: string): string[] {
  if (o.bytes.length <= IOS_HEX_LIMIT) return [` option ${o.code} hex ${dottedHex(o.bytes)}`];
  const parts: string[] = [];
  for (let i = 0; i < o.bytes.length; i += IOS_HEX_LIMIT) parts.push(dottedHex(o.bytes.subarray(i, i + IOS_HEX_LIMIT)));
  warnings.push(
    `cisco-ios: ${what} option ${o.code} is ${o.bytes.length} bytes: IOS 15.1(3)S and later silently cut "option ${o.code} hex" at ${IOS_HEX_LIMIT} bytes ` +
      `(the phone then never offers PIN sign-in). Exported as "option ext ${o.code} hex" (IOS XE 3.2.1S and later), not verified on a device; ` +
      `on older IOS use the commented "option ${o.code} hex" line, or shorten the name so it fits in ${IOS_HEX_LIMIT} bytes.`,
  );
  return [
    ' !',
    ` ! WARNING: option ${o.code} is ${o.bytes.length} bytes. IOS 15.1(3)S and later silently cut`,
    ` ! "option ${o.code} hex" after ${IOS_HEX_LIMIT} bytes (180 hex digits): the phone gets a truncated`,
    ' ! value and never offers PIN sign-in. "option ext" (IOS XE 3.2.1S and later) takes up to',
    ` ! 255 bytes; it is written here in parts of at most ${IOS_HEX_LIMIT} bytes. Check the result with`,
    ' ! "show running-config" and a capture. On IOS before 15.1(3)S use the single line instead:',
    ` ! option ${o.code} hex ${dottedHex(o.bytes)}`,
    ...parts.map((p) => ` option ext ${o.code} hex ${p}`),
    ' !',
  ];
}

function optionLines(o: ExportOption, warnings: string[], what: string): string[] {
  const v = o.value;
  switch (o.code) {
    case 1:
      return []; // from `network`
    case 3:
      if (v?.type === 'ipv4-list') return [` default-router ${v.value.join(' ')}`];
      break;
    case 6:
      if (v?.type === 'ipv4-list') return [` dns-server ${v.value.join(' ')}`];
      break;
    case 15:
      // IOS writes domain-name as plain text; a name with spaces or quotes goes in as hex.
      if (v?.type === 'text' && /^[A-Za-z0-9.-]+$/.test(v.value)) return [` domain-name ${v.value}`];
      break;
    default:
      break;
  }
  if (v && (v.type === 'ipv4' || v.type === 'ipv4-list')) return [` option ${o.code} ip ${(v.type === 'ipv4' ? [v.value] : v.value).join(' ')}`];
  return hexLines(o, warnings, what);
}

export function exportCiscoIos(plan: Plan): ExportResult {
  const model = exportModel(plan);
  const warnings: string[] = [];
  const pool = `PROVLAB-${plan.site.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
  const out: string[] = [];

  // One network pool per scope: IOS picks it by giaddr for a relayed request.
  for (const sc of model.scopes) {
    const d = sc.plan;
    const name = sc.index === 0 ? pool : `${pool}-${identifier(d.name)}`;
    if (sc.index > 0) out.push(`! scope ${d.name}: reached through a relay (giaddr in this network)`);
    for (const r of outsidePools(d)) out.push(`ip dhcp excluded-address ${r.start}${r.start === r.end ? '' : ` ${r.end}`}`);
    out.push('!', `ip dhcp pool ${name}`, ` network ${d.subnet.network} ${d.subnet.mask}`);
    if (d.pools.length > 1) out.push(' ! several pools: the addresses between them are excluded above');

    const merged = new Map<number, { o: ExportOption; what: string }>();
    for (const o of sc.options) merged.set(o.code, { o, what: 'the' });
    const lync = model.classes.find((c) => c.lync);
    if (lync) for (const o of lync.options) merged.set(o.code, { o, what: `class ${lync.name}:` });
    for (const [, { o, what }] of merged) out.push(...optionLines(o, warnings, what));
    for (const c of model.classes.filter((x) => !x.lync)) {
      if (sc.index === 0) warnings.push(`cisco-ios: class ${c.name} (option 60 "${c.vendorClass}") is not exported: IOS pools cannot choose options by option 60`);
      out.push(` ! class ${c.name} (option 60 "${c.vendorClass}") is not exported: IOS pools cannot choose options by option 60`);
    }
    const lease = leaseLine(d.leaseSeconds);
    if (!lease.exact) warnings.push(`cisco-ios: lease ${d.leaseSeconds}s is not whole minutes; IOS takes days, hours and minutes (${lease.line})`);
    out.push(` ${lease.line}`);
    out.push('!');
  }

  for (const [i, r] of plan.dhcp.scopes.flatMap((s) => s.reservations.map((r) => ({ ...r, mask: s.subnet.mask }))).entries()) {
    // A host pool inherits the options of the network pool that contains its address.
    out.push(`ip dhcp pool ${pool}-${r.name ?? `res${i + 1}`}`);
    out.push(` host ${r.ip} ${r.mask}`);
    out.push(` hardware-address ${macDotted(r.mac)}`);
    out.push(' ! a phone that sends option 61 is matched by "client-identifier 01" + its MAC instead');
    out.push('!');
  }

  const notes = [
    'Paste in configuration mode (configure terminal).',
    'IOS pools cannot choose options by option 60: every client of this pool gets options 43 and 120.',
  ];
  return { files: [{ name: 'cisco-ios.txt', comment: '!', content: `${header(plan, 'cisco-ios', '!', notes)}${out.join('\n')}\n` }], warnings };
}
