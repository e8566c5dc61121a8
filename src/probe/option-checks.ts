// The probe's checklist lines for the options of the reply a phone acts on.
// The judging is the LPE rules' (src/lpe/reply.ts); this only renders their
// findings as checks: error → fail, warning → warn, a clean option → pass.

import type { Finding } from '../lpe/findings.js';
import { judgeReply, type OptionJudgement, type ReplyFacts, type ReplyKind } from '../lpe/reply.js';
import { check, type Check } from './check.js';

export type { ReplyFacts };

const STATUS = { error: 'fail', warning: 'warn' } as const;

function excerpt(value: Uint8Array | undefined, f: Finding): { bytes?: Uint8Array; offset?: number } {
  if (value === undefined || f.offset === undefined) return {};
  const end = Math.min(value.length, f.offset + Math.max(1, Math.min(f.length ?? 1, 32)));
  return { bytes: value.subarray(f.offset, end), offset: f.offset };
}

/**
 * One line per option when it passes (`opt43`), is missing (`opt43`, from the
 * finding) or is not needed; otherwise one line per problem (`opt43.port-binary`).
 * Notes (info findings) are appended to the passing line.
 */
export function optionChecks(j: OptionJudgement, value: Uint8Array | undefined): Check[] {
  const id = `opt${j.code}`;
  if (j.notNeeded) return [check('options', id, j.title, 'skip', 'not in the reply; not needed after an INFORM')];
  const problems = j.findings.filter((f) => f.severity !== 'info');
  const notes = j.findings.filter((f) => f.severity === 'info').map((f) => f.message);
  if (problems.length === 0) return [check('options', id, j.title, 'pass', [j.summary, ...notes].filter((s) => s !== '').join('; '))];
  if (!j.present) return problems.map((f) => check('options', id, j.title, STATUS[f.severity as 'error' | 'warning'], f.message));
  return problems.map((f) => check('options', `${id}.${f.code}`, j.title, STATUS[f.severity as 'error' | 'warning'], f.message, excerpt(value, f)));
}

/** Every option check on the reply the phone acts on (the ACK), in checklist order. */
export function checkReplyOptions(opts: ReadonlyMap<number, Uint8Array>, after: ReplyKind): { checks: Check[]; facts: ReplyFacts } {
  const judged = judgeReply(opts, after);
  return { checks: judged.options.flatMap((j) => optionChecks(j, opts.get(j.code))), facts: judged.facts };
}
