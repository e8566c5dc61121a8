// `provlab explain CODE`: a phone's Last Update Status code, what it means and
// what to check on the VLAN. Exit 0 when every code is known, 1 when one is
// not, 2 when one is not a code at all.
import { Command } from 'commander';
import type { Logger } from '../../log.js';
import { explainStatus, renderExplanation, STATUS_CODES } from '../../toolkit/explain.js';

const EXAMPLES = `
The phone shows the code under System Information, Last Update Status, as
0xHHHH/N. Give it as shown, as hex (0x2F0D, 2F0D), as decimal (12045), as an
HRESULT (0x80072F0D) or by constant name (ERROR_INTERNET_INVALID_CA).

Exit status: 0 known code(s), 1 a code provlab does not know, 2 not a code.

Examples:
  provlab explain 0x2F0D/0
  provlab explain 12002
  provlab explain 0x2EE7 0x2F06 --json
  provlab explain --list
`;

export function register(program: Command, logger: () => Logger): void {
  void logger;
  program
    .command('explain')
    .description("explain a Lync Phone Edition 'Last Update Status' code (0x2F0D/0, 0x2EE2, 12045, …) and what to check on the VLAN")
    .argument('[code...]', 'one or more codes')
    .option('--json', 'machine-readable output (shape: src/toolkit/README.md)')
    .option('--list', 'list every code provlab can explain')
    .addHelpText('after', EXAMPLES)
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : 2);
    })
    .action((codes: string[], o: { json?: boolean; list?: boolean }) => {
      if (o.list) {
        if (o.json) process.stdout.write(`${JSON.stringify(STATUS_CODES, null, 2)}\n`);
        else for (const e of STATUS_CODES) process.stdout.write(`0x${e.code.toString(16).toUpperCase()} ${e.code} ${e.names.join(' / ')}: ${e.meaning}\n`);
        return;
      }
      if (codes.length === 0) {
        process.stderr.write('provlab explain: give a code, e.g. `provlab explain 0x2F0D/0`; see --help\n');
        process.exitCode = 2;
        return;
      }
      let exitCode = 0;
      const results: unknown[] = [];
      const text: string[] = [];
      for (const c of codes) {
        const r = explainStatus(c);
        if (!r.ok) {
          exitCode = 2;
          results.push({ input: c, error: r.error });
          process.stderr.write(`provlab explain: ${r.error.message}\n`);
          continue;
        }
        if (!r.value.known) exitCode = Math.max(exitCode, 1);
        results.push(r.value);
        if (text.length > 0) text.push('');
        text.push(...renderExplanation(r.value));
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ results, exitCode }, null, 2)}\n`);
      else if (text.length > 0) process.stdout.write(`${text.join('\n')}\n`);
      process.exitCode = exitCode;
    });
}
