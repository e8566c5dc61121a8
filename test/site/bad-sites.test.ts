// Every file in test/fixtures/bad-sites is refused, and the error points at the
// right line and column with a message an admin understands. Each file states
// what it expects on its first line: `# expect: LINE:COL message fragment`.

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSite, SiteFileError } from '../../src/site/load.js';

const dir = fileURLToPath(new URL('../fixtures/bad-sites/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

t.ok(files.length >= 56, `at least 56 broken site files (found ${files.length})`);

for (const name of files) {
  t.test(name, async (t) => {
    const file = join(dir, name);
    const first = readFileSync(file, 'utf8').split('\n')[0]!;
    const m = /^# expect: (\d+):(\d+) (.+)$/.exec(first);
    if (!m) {
      t.fail(`${name}: first line must be "# expect: LINE:COL fragment"`);
      return;
    }
    const [line, col, fragment] = [Number(m[1]), Number(m[2]), m[3]!];
    let err: unknown;
    try {
      loadSite(file);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof SiteFileError, 'refused with a SiteFileError');
    if (!(err instanceof SiteFileError)) return;
    const hit = err.errors.find((e) => e.line === line && e.col === col);
    t.ok(hit, `an error at ${line}:${col}; got:\n${err.message}`);
    t.match(err.message, `${file}:${line}:${col}: `, 'message carries file:line:col');
    const lineText = err.message.split('\n').find((l) => l.startsWith(`${file}:${line}:${col}: `)) ?? '';
    t.ok(lineText.includes(fragment), `"${fragment}" in: ${lineText}`);
    for (const e of err.errors) t.equal(e.file, file, 'every error names the file');
  });
}
