// `provlab status`: the staging timeline of the running provlab, read from its
// control endpoint (127.0.0.1:control.port), as a table or JSON.
import type { Command } from 'commander';
import type { Logger } from '../../log.js';
import { ControlUnavailableError, fetchControl } from '../../control/client.js';
import { formatStatus } from '../../control/format.js';
import type { StatusResponse } from '../../control/server.js';
import { planOrExit } from '../up.js';

export function useColor(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && process.env.NO_COLOR === undefined;
}

export function register(program: Command, _logger: () => Logger): void {
  program
    .command('status')
    .description('per phone, which steps of a Lync Phone Edition boot the running provlab has seen, and what is missing')
    .requiredOption('-s, --site <file>', 'site file (YAML) of the running provlab')
    .option('--json', 'print the timeline as JSON')
    .action(async (o: { site: string; json?: boolean }) => {
      const plan = planOrExit(o.site);
      let status: StatusResponse;
      try {
        status = await fetchControl<StatusResponse>(plan, '/api/status');
      } catch (err) {
        if (err instanceof ControlUnavailableError) {
          process.stderr.write(`provlab status: ${err.message}\n`);
          process.exit(err.reason === 'not-running' ? 3 : 1);
        }
        throw err;
      }
      if (o.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else process.stdout.write(formatStatus(status, { color: useColor(process.stdout) }));
    });
}
