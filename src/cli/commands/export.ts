// `provlab export TARGET --site FILE [--output PATH]`: the site's DHCP setup
// for another server (or its DNS zones for BIND), with the bytes provlab sends.
// Output on stdout (or PATH), warnings on stderr; exit 1 only on a bad site file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Argument, type Command } from 'commander';
import type { Logger } from '../../log.js';
import { TARGETS, concatenate, exportPlan, type ExportResult } from '../../export/index.js';
import { planOrExit } from '../up.js';

/** Writes one file to `output`, or several into the directory `output`; returns the paths written. */
export function writeExport(result: ExportResult, output: string): string[] {
  if (result.files.length === 1) {
    writeFileSync(output, result.files[0]!.content);
    return [output];
  }
  mkdirSync(output, { recursive: true });
  return result.files.map((f) => {
    const path = join(output, f.name);
    writeFileSync(path, f.content);
    return path;
  });
}

export function targetHelp(): string {
  const width = Math.max(...TARGETS.map((t) => t.name.length));
  return ['', 'Targets:', ...TARGETS.map((t) => `  ${t.name.padEnd(width)}  ${t.summary}`)].join('\n');
}

export function register(program: Command, _logger: () => Logger): void {
  program
    .command('export')
    .description("print the site's DHCP setup for another DHCP server (or its DNS zones for BIND), with the same option bytes provlab sends")
    .addArgument(new Argument('<target>', 'server to export for').choices(TARGETS.map((t) => t.name)))
    .requiredOption('-s, --site <file>', 'site file (YAML)')
    .option('-o, --output <path>', 'write to this file instead of stdout; a directory for targets with several files (windows, bind)')
    .addHelpText('after', `${targetHelp()}\n\nWarnings (what the target cannot reproduce byte for byte) go to stderr.`)
    .action((target: string, o: { site: string; output?: string }) => {
      const result = exportPlan(target, planOrExit(o.site));
      for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
      if (o.output === undefined) {
        process.stdout.write(concatenate(result.files));
        return;
      }
      for (const path of writeExport(result, o.output)) process.stderr.write(`wrote ${path}\n`);
    });
}
