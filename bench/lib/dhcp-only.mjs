#!/usr/bin/env node
// Bench-only diagnostic: the DHCP daemon alone, started from a site file the
// way `provlab up` starts it (same plan, same logger, fsync on), but without
// the other parts of the appliance (NTP, timeline, control endpoint). The
// difference between this and `provlab up` is what those parts cost per packet.
//   node dhcp-only.mjs DIST_DIR LOG_LEVEL SITE_FILE
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distArg, level, site] = process.argv.slice(2);
const dist = resolve(distArg);
const load = (p) => import(pathToFileURL(join(dist, p)).href);
const { loadSite } = await load('site/load.js');
const { compilePlan } = await load('site/compile.js');
const { DhcpDaemon } = await load('dhcp/daemon.js');
const { createLogger } = await load('log.js');

const plan = compilePlan(loadSite(site), site);
const logger = createLogger({ level, pretty: false });
// PROVLAB_BENCH_FSYNC=0 turns the journal's fdatasync off: a diagnostic of what durability costs, never a measured row.
const daemon = await DhcpDaemon.start(plan, { logger, fsync: process.env.PROVLAB_BENCH_FSYNC !== '0' });
mkdirSync(plan.statePath, { recursive: true });
// Ready, as `provlab up` says it: the pid file in the state dir.
writeFileSync(join(plan.statePath, 'provlab.pid'), `${process.pid}\n`);
const stop = () => daemon.stop().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
