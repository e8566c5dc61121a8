// The site-file loader under mangled input: whatever the bytes, `parseSite`
// either returns a site that compiles into a plan, or refuses it with a
// SiteFileError whose every line names the file and, when it can, a line and
// column inside it. Nothing else is ever thrown.
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compilePlan } from '../../src/site/compile.js';
import { SiteFileError, parseSite } from '../../src/site/load.js';

const cfg = (name: string) => readFileSync(fileURLToPath(new URL(`../../config/${name}`, import.meta.url)), 'utf8');
const seeds = [cfg('site.example.yaml'), cfg('default.yaml')];
const FILE = '/tmp/fuzzed-site.yaml';
// `npm run fuzz` (PROVLAB_FUZZ_PACKETS set) runs twenty times as many cases.
const SCALE = process.env.PROVLAB_FUZZ_PACKETS ? 20 : 1;

// Characters that matter to YAML and to the schema's values.
const piece = fc.oneof(
  fc.constantFrom(':', '-', ' ', '  ', '\t', '"', "'", '[', ']', '{', '}', ',', '#', '\n', '&a ', '*a', '!!str ', '|', '>', '?', '%', '@', '`', '\u0000', '\uFEFF', '0', '999999', '-1', '1.5', 'null', 'true', '0x10', '.', '/', '10.20.0.', '/33', 'ff:ff'),
  fc.string({ maxLength: 6 }),
);

type Edit = { kind: 'insert' | 'delete' | 'replace'; at: number; len: number; text: string } | { kind: 'dupLine' | 'dropLine'; at: number };
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constantFrom('insert' as const, 'delete' as const, 'replace' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }), text: piece }),
  fc.record({ kind: fc.constantFrom('dupLine' as const, 'dropLine' as const), at: fc.nat() }),
);

function apply(text: string, edits: Edit[]): string {
  let s = text;
  for (const e of edits) {
    if (e.kind === 'dupLine' || e.kind === 'dropLine') {
      const lines = s.split('\n');
      const i = e.at % lines.length;
      if (e.kind === 'dupLine') lines.splice(i, 0, lines[i]!);
      else lines.splice(i, 1);
      s = lines.join('\n');
      continue;
    }
    const at = e.at % (s.length + 1);
    if (e.kind === 'insert') s = s.slice(0, at) + e.text + s.slice(at);
    else if (e.kind === 'delete') s = s.slice(0, at) + s.slice(at + e.len);
    else if (e.kind === 'replace') s = s.slice(0, at) + e.text + s.slice(at + e.len);
  }
  return s;
}

t.test('property: a mangled site file is either a valid plan or a SiteFileError with file:line:col', async (t) => {
  let accepted = 0;
  let refused = 0;
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 }), (seed, edits) => {
        const text = apply(seed, edits);
        const lineCount = text.split('\n').length;
        try {
          compilePlan(parseSite(text, FILE), FILE);
          accepted++;
          return true;
        } catch (err) {
          if (!(err instanceof SiteFileError)) throw new Error(`threw ${String((err as Error)?.stack ?? err)} for:\n${text}`);
          refused++;
          if (err.errors.length === 0) return false;
          return err.errors.every((e) => e.file === FILE && e.message.length > 0 && e.line >= 0 && e.line <= lineCount + 1 && (e.line === 0 || e.col >= 1));
        }
      }),
      { numRuns: 600 * SCALE },
    ),
  );
  t.comment(`${accepted} mangled files still valid, ${refused} refused`);
  t.ok(refused > 0, 'the edits do break files');
});

t.test('property: arbitrary text never throws anything but SiteFileError', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.array(piece, { maxLength: 40 }).map((p) => p.join(''))), (text) => {
        try {
          compilePlan(parseSite(text, FILE), FILE);
        } catch (err) {
          if (!(err instanceof SiteFileError)) throw new Error(`threw ${String(err)} for ${JSON.stringify(text)}`);
        }
        return true;
      }),
      { numRuns: 1000 * SCALE },
    ),
  );
});
