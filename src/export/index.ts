// `provlab export TARGET`: the site's DHCP setup (or its DNS zones) for the
// server an admin really runs, with the bytes provlab itself sends. Each
// target lives in its own file; all of them read the compiled plan only.

import type { Plan } from '../site/plan.js';
import { exportBind } from './bind.js';
import { exportCiscoIos } from './cisco-ios.js';
import type { ExportFile, ExportResult } from './common.js';
import { exportDnsmasq } from './dnsmasq.js';
import { exportIscDhcpd } from './isc-dhcpd.js';
import { exportKea } from './kea.js';
import { exportWindows } from './windows.js';

export type { ExportFile, ExportResult } from './common.js';

export interface ExportTarget {
  readonly name: string;
  /** One line for `provlab export --help`. */
  readonly summary: string;
  readonly run: (plan: Plan) => ExportResult;
}

export const TARGETS: readonly ExportTarget[] = [
  {
    name: 'windows',
    summary: 'Windows Server DHCP: PowerShell (DhcpServer module) and the netsh form of DHCPConfigScript (two files)',
    run: exportWindows,
  },
  { name: 'kea', summary: 'kea-dhcp4 JSON: MS-UC-Client class on option 60, option 43 space MSUCClient, option-def for 120', run: exportKea },
  { name: 'isc-dhcpd', summary: 'ISC dhcpd.conf: option space MSUCClient, class on vendor-class-identifier, 120 as hex', run: exportIscDhcpd },
  { name: 'dnsmasq', summary: 'dnsmasq.conf (DHCP only): vendor:MS-UC-Client lines, "443" quoted, warning on reversed 43 and 0xFF', run: exportDnsmasq },
  { name: 'cisco-ios', summary: 'Cisco IOS ip dhcp pool: option 43/120/119 hex, "option ext" when a value is over 90 bytes', run: exportCiscoIos },
  { name: 'bind', summary: 'BIND 9 zone files for provlab\'s DNS records and a named.conf fragment (several files)', run: exportBind },
];

export function findTarget(name: string): ExportTarget | undefined {
  return TARGETS.find((t) => t.name === name);
}

/** Throws on an unknown target name (the CLI checks the name first). */
export function exportPlan(target: string, plan: Plan): ExportResult {
  const t = findTarget(target);
  if (!t) throw new Error(`unknown export target ${JSON.stringify(target)}: expected one of ${TARGETS.map((x) => x.name).join(', ')}`);
  return t.run(plan);
}

/** All files as one text for stdout: a file-name line (in the file's own comment syntax) before each file when there are several. */
export function concatenate(files: readonly ExportFile[]): string {
  if (files.length === 1) return files[0]!.content;
  return files.map((f) => `${f.comment} ==== ${f.name} ====\n${f.content.replace(/\r\n/g, '\n')}`).join('\n');
}
