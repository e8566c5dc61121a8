// One line of the probe's checklist, and the small helpers every check uses.
// Pure data: no sockets, no clocks.

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
  if (extra?.bytes !== undefined) c.bytes = hex(extra.bytes);
  if (extra?.offset !== undefined) c.offset = extra.offset;
  return c;
}

export function hex(bytes: Uint8Array): string {
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = bytes[i]!.toString(16).padStart(2, '0');
  return parts.join(' ');
}

/** Printable ASCII (0x20..0x7e): what the phone reads as a plain string. */
export function isPrintableAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 0x20 || bytes[i]! > 0x7e) return false;
  return true;
}

export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** First offset of a byte outside printable ASCII, or -1. */
export function firstNonAscii(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 0x20 || bytes[i]! > 0x7e) return i;
  return -1;
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
