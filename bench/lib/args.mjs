// Command-line options for the bench scripts. Strict on purpose: a bench run
// takes minutes to tens of minutes and rewrites BENCHMARKS.md, so a mistyped
// or unknown option (or --help) must stop before anything starts, not be
// ignored while the whole default run goes ahead.
import { parseArgs } from 'node:util';

export class UsageError extends Error {}

/**
 * spec: { name: { type: 'string' | 'number' | 'boolean', default?, min?, max?, choices?: string[], list?: true } }
 * Numbers must be finite (and within min/max when given); list options are
 * comma-separated and, with choices, every item must be one of them.
 * Returns the values by option name, or throws UsageError with the reason.
 */
export function parseOptions(argv, spec) {
  const options = { help: { type: 'boolean', short: 'h' } };
  for (const [name, s] of Object.entries(spec)) options[name] = { type: s.type === 'boolean' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(err.message);
  }
  const out = { help: parsed.values.help === true };
  for (const [name, s] of Object.entries(spec)) {
    const raw = parsed.values[name];
    if (s.type === 'boolean') {
      out[name] = raw === true;
      continue;
    }
    if (raw === undefined) {
      out[name] = s.default;
      continue;
    }
    const items = s.list ? raw.split(',').filter(Boolean) : [raw];
    const values = items.map((item) => checkValue(name, s, item));
    out[name] = s.list ? values : values[0];
  }
  return out;
}

function checkValue(name, s, text) {
  if (s.type === 'number') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} wants a number, not "${text}"`);
    if (s.min !== undefined && n < s.min) throw new UsageError(`--${name} must be at least ${s.min} (got ${n})`);
    if (s.max !== undefined && n > s.max) throw new UsageError(`--${name} must be at most ${s.max} (got ${n})`);
    return n;
  }
  if (s.choices && !s.choices.includes(text)) throw new UsageError(`--${name}: "${text}" is not one of ${s.choices.join(', ')}`);
  return text;
}

/** parseOptions for a script's main: prints usage and exits 0 on --help, or the reason and exit 2 on a usage error. */
export function optionsOrExit(argv, spec, usage) {
  try {
    const values = parseOptions(argv, spec);
    if (values.help) {
      process.stdout.write(`${usage.trim()}\n`);
      process.exit(0);
    }
    return values;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${usage.trim()}\n`);
    process.exit(2);
  }
}
