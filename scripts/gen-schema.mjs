#!/usr/bin/env node
// Writes config/site.schema.json from the compiled site schema.
// Run after `tsc` (npm run schema does both): node scripts/gen-schema.mjs [--check]
// --check exits 1 when the checked-in file differs from a fresh generation.

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = `${root}config/site.schema.json`;
const { siteJsonSchemaText } = await import(`${root}dist/site/json-schema.js`);
const text = siteJsonSchemaText();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as different
  }
  if (current !== text) {
    process.stderr.write('config/site.schema.json is out of date: run npm run schema\n');
    process.exit(1);
  }
  process.stdout.write('config/site.schema.json is up to date\n');
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
