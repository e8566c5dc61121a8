// What the LPE rules say about some bytes: findings with a severity and a
// reason. Every tool that judges option bytes (decode, probe, check, export,
// the timeline) renders these and never judges on its own.

/**
 * error: a phone would fail with these bytes (known from a source, or the
 * bytes cannot be read at all). warning: a deviation from the known-good form
 * (DHCPUtil's output, docs/lpe-facts.md) whose effect on the phone is not known, or a
 * value that works but is unusual enough to check. info: a remark.
 */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** Stable, machine-readable, e.g. 'truncated-sub-option', 'port-binary'. */
  code: string;
  message: string;
  /** Offset in the option value, when the finding is about one place. */
  offset?: number;
  /** How many bytes from `offset` the finding is about (for excerpts). */
  length?: number;
}

export type Status = 'ok' | 'warning' | 'error';

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function finding(severity: Severity, code: string, message: string, offset?: number, length?: number): Finding {
  const f: Finding = { severity, code, message };
  if (offset !== undefined) f.offset = offset;
  if (length !== undefined) f.length = length;
  return f;
}

/** Errors first, then warnings, then notes; by offset within each, findings about the whole value last. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => RANK[a.severity] - RANK[b.severity] || (a.offset ?? Infinity) - (b.offset ?? Infinity));
}

export function statusOf(findings: readonly Finding[]): Status {
  if (findings.some((f) => f.severity === 'error')) return 'error';
  if (findings.some((f) => f.severity === 'warning')) return 'warning';
  return 'ok';
}

/** One sentence for a list of findings: what a phone would make of the bytes. */
export function verdict(findings: readonly Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  const w = warnings > 0 ? `${warnings} warning${warnings === 1 ? '' : 's'}` : '';
  if (errors > 0) return `result: a phone would fail with these bytes (${errors} error${errors === 1 ? '' : 's'}${w ? `, ${w}` : ''})`;
  return w ? `result: usable, with ${w}` : 'result: OK';
}

/** 0 clean (or only warnings, unless strict), 1 when a phone would fail. */
export function exitCodeFor(findings: readonly Finding[], strict = false): 0 | 1 {
  if (findings.some((f) => f.severity === 'error')) return 1;
  if (strict && findings.some((f) => f.severity === 'warning')) return 1;
  return 0;
}
