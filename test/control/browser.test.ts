// The status page in a real headless browser (Debian chromium driven by
// playwright-core): the table shows each phone's steps and what is missing,
// updates live when the timeline changes, loads nothing from elsewhere, runs
// under its CSP without errors, and says so when provlab goes away.
// Under CI=true a missing chromium fails the file instead of skipping it.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log.js';
import { startControl } from '../../src/control/server.js';
import { controlPlan, sampleLeases, sampleTimeline, DONE, HALF, T0 } from './fixtures/site.js';

const CHROMIUM = process.env.PROVLAB_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function skipReason(): string | false {
  if (existsSync(CHROMIUM)) return false;
  const reason = `${CHROMIUM} is not installed (apt-get install chromium)`;
  if (process.env.CI === 'true') t.fail(`CI=true and the browser test cannot run: ${reason}`);
  return reason;
}

t.test('the status page in headless chromium', { skip: skipReason(), timeout: 90_000 }, async (t) => {
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'provlab-browser-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const plan = controlPlan(dir, 0);
  const timeline = sampleTimeline(plan);
  let leases = sampleLeases();
  const control = await startControl(plan, { logger: silentLogger(), timeline, leases: () => leases, now: () => T0 + 60_000 });
  t.teardown(() => control.stop());
  const url = control.url!;

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  const foreign: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(url)) foreign.push(r.url());
  });

  await page.goto(url);
  const row = (mac: string) => page.locator(`tr[data-mac="${mac}"]`);
  const state = (mac: string, step: string) => row(mac).locator(`td[data-step="${step}"]`).getAttribute('data-state');
  await row(DONE).waitFor();
  await page.locator('#live.on').waitFor();
  t.equal(await page.locator('#live').textContent(), 'live', 'the page follows /api/events');
  t.equal(await page.locator('#site').textContent(), 'control-test');
  t.equal(await page.title(), 'provlab · control-test');
  t.equal(await page.locator('#domains').textContent(), 'schertz.name, corp.schertz.name');

  t.same(
    await Promise.all(['lease', 'inform', 'ucupdates', 'timeLookup', 'ntp'].map((s) => state(DONE, s))),
    ['done', 'done', 'done', 'done', 'done'],
    'a fully staged phone: every step done',
  );
  t.match(await row(DONE).locator('td.missing').textContent(), /has not asked ucupdates-r2 for corp\.schertz\.name/);
  t.match(await row(DONE).locator('td[data-step="ntp"]').textContent(), /off by \+1\.500 s/);
  t.same(
    await Promise.all(['lease', 'inform', 'ucupdates', 'timeLookup', 'ntp'].map((s) => state(HALF, s))),
    ['done', 'waiting', 'warn', 'waiting', 'waiting'],
  );
  const missing = await row(HALF).locator('td.missing li.missing-item').allTextContents();
  t.same(missing, [
    'never sent INFORM',
    'asked ucupdates-r2.corp.x but that domain is not in the site (schertz.name, corp.schertz.name)',
    'no NTP request yet',
  ]);
  t.equal(await page.locator('#leases tbody tr').count(), 3, 'the lease table');
  t.equal(await page.locator('#leases tr[data-ip="10.20.0.101"] td').nth(4).textContent(), 'cx600-lobby');

  // Live: the half-staged phone INFORMs and asks ucupdates-r2 for the site's domain; a new phone appears.
  const before = Number(await page.locator('body').getAttribute('data-version'));
  timeline.onDhcpExchange({
    mac: HALF,
    type: 'INFORM',
    replyType: 'ACK',
    ip: '10.20.0.102',
    vendorClass: 'MS-UC-Client',
    prl: [43, 120],
    optionsSent: [53, 54, 43, 120],
    at: T0 + 8000,
  });
  const NEW = '00:04:f2:00:00:99';
  timeline.onDhcpExchange({ mac: NEW, type: 'DISCOVER', replyType: 'OFFER', ip: '10.20.0.103', vendorClass: 'MS-UC-Client', prl: [1, 3], optionsSent: [], at: T0 + 9000 });
  leases = [...leases, { ip: '10.20.0.103', clientId: `mac:${NEW}`, mac: NEW, state: 'bound', expiresAt: T0 + 3_600_000, updatedAt: T0 + 9000 }];
  await row(HALF).locator('td[data-step="inform"][data-state="done"]').waitFor();
  await row(NEW).waitFor();
  t.pass('the table updated without a reload');
  t.ok(Number(await page.locator('body').getAttribute('data-version')) > before);
  t.match(await row(NEW).locator('td.missing').textContent(), /was offered 10\.20\.0\.103 but never sent REQUEST/);
  t.equal(await page.locator('#leases tbody tr').count(), 4, 'the lease table follows too');

  // Events of a phone stay open across refreshes.
  await row(DONE).locator('details summary').click();
  timeline.onNtpClient({ address: '10.20.0.101', version: 3, clientOffsetMs: 20, kind: 'reply', at: T0 + 10_000 });
  await row(DONE).locator('td[data-step="ntp"]', { hasText: 'off by +0.020 s' }).waitFor();
  t.not(await row(DONE).locator('details').getAttribute('open'), null, 'the events list stays open');
  t.match(await row(DONE).locator('details ol').textContent(), /NTP v3 answered .*×2/);

  const shot = join(process.env.PROVLAB_SCREENSHOT_DIR ?? dir, 'status-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.ok(statSync(shot).size > 10_000, `screenshot written (${shot})`);

  t.same(foreign, [], 'nothing loaded from another origin');
  t.same(problems, [], 'no console errors (CSP violations would show here)');

  // provlab goes away: the page says so instead of showing stale data as live.
  await control.stop();
  await page.locator('#live.off').waitFor();
  t.match(await page.locator('#live').textContent(), /reconnecting|not reachable/);
});
