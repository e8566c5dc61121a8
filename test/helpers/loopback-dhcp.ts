// One in-process DhcpDaemon, relay-only on loopback, for tests that hammer the
// packet path (fuzzing, pool exhaustion): no root, no namespace, no DNS or NTP.
// The site has one reserved phone; the port is retried while another test
// (or another helper's run) holds it.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../src/log.js';
import { DhcpDaemon } from '../../src/dhcp/daemon.js';
import type { Plan } from '../../src/site/plan.js';
import { openRelay, type RelayClient } from './relay-client.js';
import { LOOPBACK_SITE, mergeSite, planOf, siteYaml } from './sites.js';

/** The appliance address of every loopback DHCP site. */
export const LOOPBACK_SERVER = '127.0.0.1';

export interface LoopbackDhcpOptions {
  /** The site name (logs only). */
  name: string;
  subnet: string;
  pool: string;
  /** The relay's address (option 3, and the giaddr that selects the subnet). */
  router: string;
  reserved: { mac: string; ip: string };
  logger: Logger;
  /** The port to try first, then on each EADDRINUSE (attempt 0, 1, ...); DNS and NTP get the next two. */
  port(attempt: number): number;
  /** Also open a loopback relay from `router` to the daemon, on the same port. */
  relay?: boolean;
  /** Serve through Node's dgram instead of the batch socket. */
  dgram?: boolean;
  /** Journal fsync (default off: these tests are about packets). */
  fsync?: boolean;
  /** The daemon's clock. */
  now?: () => number;
}

export interface LoopbackDhcp {
  daemon: DhcpDaemon;
  plan: Plan;
  port: number;
  /** Present when `relay` was asked for. */
  relay: RelayClient | undefined;
}

type Tap = { testdir(): string; teardown(fn: () => void | Promise<void>): void };

function siteFor(o: LoopbackDhcpOptions, port: number, state: string): string {
  return siteYaml(
    mergeSite(LOOPBACK_SITE, {
      site: o.name,
      address: LOOPBACK_SERVER,
      dhcp: { subnet: o.subnet, pool: o.pool, router: o.router, reservations: [{ ...o.reserved, name: 'lobby-phone' }] },
      ntp: { enabled: false },
      listen: port,
      state,
    }),
  );
}

// t.testdir() empties the test's directory each time it is called: a second daemon in one
// test wiped the first one's state dir (its journal then deleted under it). Once per test.
const testdirs = new WeakMap<Tap, string>();
function testdirOf(t: Tap): string {
  let dir = testdirs.get(t);
  if (dir === undefined) {
    dir = t.testdir();
    testdirs.set(t, dir);
  }
  return dir;
}

/** Starts the daemon (fsync off unless asked: these tests are about packets, durability has its own) and stops it at teardown. */
export async function startLoopbackDhcp(t: Tap, o: LoopbackDhcpOptions): Promise<LoopbackDhcp> {
  const dir = mkdtempSync(join(testdirOf(t), 'daemon-'));
  for (let attempt = 0; ; attempt++) {
    const port = o.port(attempt);
    const file = join(dir, `site-${attempt}.yaml`);
    const plan = planOf(siteFor(o, port, join(dir, `state-${attempt}`)), file);
    try {
      const daemon = await DhcpDaemon.start(plan, { logger: o.logger, fsync: o.fsync ?? false, dgram: o.dgram, ...(o.now ? { now: o.now } : {}) });
      t.teardown(() => daemon.stop());
      let relay: RelayClient | undefined;
      if (o.relay) {
        relay = await openRelay(o.router, LOOPBACK_SERVER, port);
        t.teardown(() => relay!.close());
      }
      return { daemon, plan, port, relay };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 10) throw err;
    }
  }
}
