// Terminal tables for `provlab status` and `provlab leases`. Pure: documents
// in, text out. Every cell goes through printable() (host names and vendor
// classes come off the wire and must not drive the terminal).
import { printable } from '../timeline/state.js';
import type { PhoneView, StepState, StepView, TimelineView } from '../timeline/types.js';
import type { LeaseRow } from './leases-view.js';

export interface FormatOptions {
  /** ANSI colours (a TTY without NO_COLOR). */
  color: boolean;
  /** Widest a column may get before it is cut with "…". Default 40. */
  maxCell?: number;
}

const ICON: Record<StepState, string> = { done: '✓', warn: '!', waiting: '·', skipped: '–' };
const COLOR: Record<StepState, string> = { done: '32', warn: '33', waiting: '2', skipped: '2' };

function paint(on: boolean, code: string, text: string): string {
  return on ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local wall-clock time, HH:MM:SS. */
export function clock(ms: number | null): string {
  if (ms === null) return '';
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

interface Cell {
  text: string;
  state?: StepState;
}

function stepCell(s: StepView, drop?: string | null): Cell {
  // The lease cell need not repeat the ADDRESS column.
  let summary = s.summary === '—' ? '' : s.summary;
  if (drop && summary.startsWith(drop)) summary = summary.slice(drop.length).replace(/^,\s*/, '');
  const parts = [ICON[s.state], s.at !== null ? clock(s.at) : '', summary].filter((x) => x !== '');
  return { text: printable(parts.join(' ')), state: s.state };
}

/** Pads every column to its widest cell; colours only the leading step icon, after padding. */
function table(header: string[], rows: Cell[][], o: FormatOptions): string[] {
  const max = o.maxCell ?? 40;
  const cells = rows.map((r) => r.map((c) => ({ ...c, text: cut(c.text, max) })));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.text.length ?? 0)));
  const line = (r: Cell[]): string =>
    r
      .map((c, i) => {
        const padded = i === r.length - 1 ? c.text : c.text.padEnd(widths[i]!);
        return c.state && o.color ? paint(true, COLOR[c.state], padded.slice(0, 1)) + padded.slice(1) : padded;
      })
      .join('  ')
      .trimEnd();
  return [paint(o.color, '1', line(header.map((h) => ({ text: h })))), ...cells.map(line)];
}

function phoneLines(p: PhoneView, o: FormatOptions): string[] {
  const out: string[] = [];
  const who = [p.vendorClasses.length > 0 ? p.vendorClasses.join(', ') : 'no vendor class', p.hostname ?? ''].filter((x) => x !== '');
  out.push(`    ${paint(o.color, '2', printable(`${who.join(' · ')} · first seen ${clock(p.firstSeen)}, last ${clock(p.lastSeen)}`))}`);
  for (const m of p.missing) out.push(`    ${paint(o.color, '33', '✗')} ${printable(m, 400)}`);
  for (const n of p.notes) out.push(`    ${paint(o.color, '2', `· ${printable(n, 400)}`)}`);
  return out;
}

export function formatStatus(view: TimelineView, o: FormatOptions): string {
  const lines: string[] = [];
  const phones = view.phones;
  lines.push(
    printable(
      `site ${view.site || '(unnamed)'} · domains ${view.domains.join(', ') || 'none'} · ${phones.length} phone${phones.length === 1 ? '' : 's'} · ${clock(view.generatedAt)}`,
      400,
    ),
  );
  if (view.counts.evictedPhones > 0) lines.push(`(${view.counts.evictedPhones} least recently seen phones dropped: the timeline keeps ${view.limits.maxPhones})`);
  lines.push('');
  if (phones.length === 0) {
    lines.push('no phones seen yet: plug one into the provisioning VLAN');
  } else {
    const header = ['PHONE', 'ADDRESS', 'LEASE', 'INFORM 43/120', 'UCUPDATES-R2', 'TIME LOOKUP', 'NTP'];
    const rows = phones.map((p): Cell[] => [
      { text: p.mac },
      { text: p.ip ?? '-' },
      stepCell(p.lease, p.ip),
      stepCell(p.inform),
      stepCell(p.ucupdates),
      stepCell(p.timeLookup),
      stepCell(p.ntp),
    ]);
    const [head, ...body] = table(header, rows, o);
    lines.push(head!);
    body.forEach((row, i) => {
      lines.push(row);
      lines.push(...phoneLines(phones[i]!, o));
    });
  }
  if (view.unknownClients.length > 0) {
    lines.push('', 'clients without a lease here (DNS/NTP from an address no DHCP exchange explains):');
    for (const u of view.unknownClients) {
      lines.push(printable(`  ${u.ip}: ${u.dns} DNS, ${u.ntp} NTP, last ${clock(u.at)}${u.lastName ? `, last asked ${u.lastName}` : ''}`, 400));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** "in 7h59m", "3m ago". */
export function relative(ms: number, now: number): string {
  const d = Math.round((ms - now) / 1000);
  const a = Math.abs(d);
  const text = a >= 86400 ? `${Math.floor(a / 86400)}d${Math.floor((a % 86400) / 3600)}h` : a >= 3600 ? `${Math.floor(a / 3600)}h${two(Math.floor((a % 3600) / 60))}m` : a >= 60 ? `${Math.floor(a / 60)}m` : `${a}s`;
  return d >= 0 ? `in ${text}` : `${text} ago`;
}

export function formatLeases(rows: readonly LeaseRow[], now: number, o: FormatOptions): string {
  if (rows.length === 0) return 'no leases\n';
  const header = ['ADDRESS', 'MAC', 'STATE', 'EXPIRES', 'HOST NAME', 'VENDOR CLASS'];
  const body = rows.map((r): Cell[] => [
    { text: r.ip },
    { text: r.mac },
    { text: r.state === 'bound' && !r.active ? 'bound (expired)' : r.state },
    { text: `${clock(r.expiresAt)} (${relative(r.expiresAt, now)})` },
    { text: printable(r.hostname ?? '') },
    { text: printable(r.vendorClass ?? '') },
  ]);
  return `${table(header, body, { ...o, maxCell: o.maxCell ?? 40 }).join('\n')}\n`;
}
