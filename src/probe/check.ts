// One line of the probe's checklist, and the small helpers every check uses.
// Pure data: no sockets, no clocks.

import { hex } from '../wire/bytes.js';

/** pass ✔, warn ⚠ (a deviation the phone probably survives), fail ✘ (the phone would fail), skip – (not checked). */
export type Status = 'pass' | 'warn' | 'fail' | 'skip';

export type Section = 'dhcp' | 'options' | 'dns' | 'ntp';

export interface Check {
  /** Stable machine id, e.g. 'dhcp.offer', 'opt43.port-binary', 'dns.A.ucupdates-r2.example.local'. */
  readonly id: string;
  readonly section: Section;
  /** What was checked, for people: "option 43 sub-option 4 (WebServerPort)". */
  readonly title: string;
  readonly status: Status;
  /** The value when it is right; the reason (and the fix) when it is not. */
  readonly detail: string;
  /** The relevant bytes, hex, space-separated; set when something is wrong. */
  readonly bytes?: string;
  /** Where `bytes` start inside the option value (or message). */
  readonly offset?: number;
}

export function check(section: Section, id: string, title: string, status: Status, detail: string, extra?: { bytes?: Uint8Array; offset?: number }): Check {
  const c: { -readonly [K in keyof Check]: Check[K] } = { id, section, title, status, detail };
  if (extra?.bytes !== undefined) c.bytes = hex(extra.bytes, ' ');
  if (extra?.offset !== undefined) c.offset = extra.offset;
  return c;
}

/**
 * Alternatives the phone tries in turn (several domains, several servers):
 * when one passes, the others' failures are only warnings; when none passes,
 * they stay failures.
 */
export function gradeAlternatives(checks: readonly Check[], fallbackNote: string): Check[] {
  const anyPass = checks.some((c) => c.status === 'pass' || c.status === 'warn');
  if (!anyPass) return [...checks];
  return checks.map((c) => (c.status === 'fail' ? { ...c, status: 'warn' as const, detail: `${c.detail}; ${fallbackNote}` } : c));
}
