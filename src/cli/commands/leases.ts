// `provlab leases`: the DHCP lease table. From the running provlab's control
// endpoint when it runs; otherwise straight from the lease journal. Opening
// the journal takes its single-writer lock (and rewrites the snapshot), so it
// is only done when no provlab holds it: a running provlab is always asked
// through the endpoint.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { Logger } from '../../log.js';
import { ControlUnavailableError, fetchControl } from '../../control/client.js';
import { formatLeases } from '../../control/format.js';
import { leaseRows, type LeaseRow } from '../../control/leases-view.js';
import type { LeasesResponse } from '../../control/server.js';
import { LeaseJournal } from '../../dhcp/lease-journal.js';
import { JournalLockedError } from '../../dhcp/lease-lock.js';
import type { Plan } from '../../site/plan.js';
import { planOrExit } from '../up.js';
import { useColor } from './status.js';

export interface LeaseListing {
  /** control: asked the running provlab; journal: read from disk; none: no state dir yet. */
  source: 'control' | 'journal' | 'none';
  statePath: string;
  generatedAt: number;
  leases: LeaseRow[];
  warnings: string[];
}

/** The lease listing for this site, from wherever it can be had safely. */
export async function listLeases(plan: Plan, now: () => number = Date.now): Promise<LeaseListing> {
  let controlProblem: ControlUnavailableError | undefined;
  try {
    const r = await fetchControl<LeasesResponse>(plan, '/api/leases');
    return { source: 'control', statePath: plan.statePath, generatedAt: r.generatedAt, leases: r.leases, warnings: [] };
  } catch (err) {
    if (!(err instanceof ControlUnavailableError)) throw err;
    controlProblem = err;
  }
  if (!existsSync(plan.statePath)) return { source: 'none', statePath: plan.statePath, generatedAt: now(), leases: [], warnings: [] };
  try {
    const load = await LeaseJournal.open(plan.statePath);
    await load.journal.close();
    const t = now();
    return { source: 'journal', statePath: plan.statePath, generatedAt: t, leases: leaseRows(load.leases.values(), t), warnings: load.warnings };
  } catch (err) {
    if (err instanceof JournalLockedError) {
      throw new Error(`provlab (pid ${err.pid}) is running and holds the lease journal, but its control endpoint could not be asked: ${controlProblem.message}`);
    }
    throw err;
  }
}

export function register(program: Command, _logger: () => Logger): void {
  program
    .command('leases')
    .description('list DHCP leases: from the running provlab, or from the lease journal when it is not running')
    .requiredOption('-s, --site <file>', 'site file (YAML)')
    .option('--json', 'print the leases as JSON')
    .action(async (o: { site: string; json?: boolean }) => {
      const plan = planOrExit(o.site);
      let listing: LeaseListing;
      try {
        listing = await listLeases(plan);
      } catch (err) {
        process.stderr.write(`provlab leases: ${(err as Error).message}\n`);
        process.exit(1);
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
        return;
      }
      for (const w of listing.warnings) process.stderr.write(`warning: ${w}\n`);
      if (listing.source === 'journal') process.stderr.write(`(provlab is not running: read from the lease journal in ${listing.statePath})\n`);
      if (listing.source === 'none') process.stderr.write(`(no state directory ${listing.statePath} yet)\n`);
      process.stdout.write(formatLeases(listing.leases, listing.generatedAt, { color: useColor(process.stdout) }));
    });
}
