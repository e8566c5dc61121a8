// The probe's result: a checklist, as text for people and JSON for machines,
// and the exit code. Pure.

import type { Check, Section, Status } from './check.js';

export interface ProbeReport {
  /** True when no check failed: as far as the probe can tell, a phone would get through. */
  ok: boolean;
  /** How the probe reached the DHCP server. */
  transport: { kind: 'interface'; interface: string } | { kind: 'relay'; giaddr: string; server: string; port: number };
  request: 'discover' | 'inform';
  identity: { mac: string; vendorClass: string; prl: number[] };
  /** The address leased (DISCOVER) or informed from (INFORM), when known. */
  address?: string;
  dhcpServer?: string;
  certProvUrl?: string;
  counts: Record<Status, number>;
  checks: Check[];
}

export function buildReport(r: Omit<ProbeReport, 'ok' | 'counts'>): ProbeReport {
  const counts: Record<Status, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of r.checks) counts[c.status]++;
  const ok = counts.fail === 0;
  // `ok` first in the JSON; recomputed even when `r` is an older report.
  return Object.assign({ ok }, r, { ok, counts });
}

/** 0 when a phone would get through, 1 when it would fail. (2 is left for the probe's own errors.) */
export function exitCode(report: ProbeReport): number {
  return report.ok ? 0 : 1;
}

export const SYMBOLS: Readonly<Record<Status, string>> = { pass: '✔', warn: '⚠', fail: '✘', skip: '–' };

const SECTION_TITLES: Readonly<Record<Section, string>> = { dhcp: 'DHCP', options: 'Options', dns: 'DNS', ntp: 'NTP' };

export function renderText(report: ProbeReport, options?: { color?: boolean }): string {
  const color = options?.color ?? false;
  const paint = (s: Status, text: string): string => {
    if (!color) return text;
    const code = s === 'pass' ? 32 : s === 'warn' ? 33 : s === 'fail' ? 31 : 90;
    return `\x1b[${code}m${text}\x1b[0m`;
  };
  const t = report.transport;
  const via = t.kind === 'interface' ? `interface ${t.interface}` : `relay ${t.giaddr} → ${t.server}:${t.port}`;
  const lines: string[] = [
    `provlab probe: ${report.request === 'inform' ? `INFORM from ${report.address ?? '?'}` : 'DISCOVER/REQUEST'} on ${via}`,
    `  as a phone with MAC ${report.identity.mac}, option 60 "${report.identity.vendorClass}", option 55 ${report.identity.prl.join(',')}`,
  ];
  for (const section of ['dhcp', 'options', 'dns', 'ntp'] as const) {
    const checks = report.checks.filter((c) => c.section === section);
    if (checks.length === 0) continue;
    lines.push('', SECTION_TITLES[section]);
    const width = Math.min(46, Math.max(...checks.map((c) => c.title.length)));
    for (const c of checks) {
      lines.push(`  ${paint(c.status, SYMBOLS[c.status])} ${c.title.padEnd(width)}  ${c.detail}`);
      if (c.bytes !== undefined) lines.push(`      bytes${c.offset !== undefined ? ` at offset ${c.offset}` : ''}: ${c.bytes}`);
    }
  }
  lines.push('');
  if (report.certProvUrl !== undefined) lines.push(`Certificate Provisioning URL the phone would build: ${report.certProvUrl}`);
  const { pass, warn, fail, skip } = report.counts;
  const tally = `${pass} passed, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed${skip > 0 ? `, ${skip} not checked` : ''}`;
  lines.push(report.ok ? paint('pass', `${SYMBOLS.pass} a phone would get through: ${tally}`) : paint('fail', `${SYMBOLS.fail} a phone would fail: ${tally}`));
  return `${lines.join('\n')}\n`;
}
