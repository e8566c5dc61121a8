// SOA serials only go up (RFC 1982; RFC 1035 §3.3.13): on a reload whose new
// content hashes lower, after a restart on the same state directory, and they
// stay put while the content does not change.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Appliance } from '../../src/appliance/appliance.js';
import { silentLogger } from '../../src/log.js';
import type { Plan } from '../../src/site/plan.js';
import { assignSerials, nextSerial, parseSerialState, serialGreater, SERIALS_FILE } from '../../src/dns/zone-serials.js';
import { decodeDnsMessage } from '../../src/wire/dns-message.js';
import { rawQuery, testPlan, udpExchange } from './helpers.js';

const APEX = 'schertz.name';

/** The DNS test site with one TXT that varies, DNS alone, state in `dir`. */
function planWith(note: string, dir: string): Plan {
  const p = testPlan({ records: [{ name: `note2.${APEX}`, type: 'TXT', text: note }] });
  return { ...p, statePath: dir, dhcp: { ...p.dhcp, enabled: false }, ntp: { ...p.ntp, enabled: false }, control: { ...p.control, enabled: false } };
}

/** The stateless serial of the plan: the content hash. */
function planSerial(p: Plan): number {
  const soa = p.dns.zones.find((z) => z.apex === APEX)!.records.find((r) => r.data.type === 'SOA')!;
  return soa.data.type === 'SOA' ? soa.data.serial : -1;
}

async function servedSerial(a: Appliance): Promise<number> {
  const [[answer]] = await udpExchange(a.dns!.address().port, [rawQuery(7, APEX, 6)], 200);
  const m = decodeDnsMessage(answer!);
  if (!m.ok) throw new Error('undecodable SOA answer');
  const d = m.value.answers[0]!.data;
  return d.type === 'SOA' ? d.serial : -1;
}

t.test('RFC 1982 arithmetic', async (t) => {
  t.ok(serialGreater(1, 0));
  t.ok(serialGreater(0, 0xffffffff), '0 follows 2^32 - 1');
  t.notOk(serialGreater(0x80000000, 0), 'exactly 2^31 apart: undefined, not greater');
  t.equal(nextSerial(5, 3), 6, 'clock behind: old + 1');
  t.equal(nextSerial(5, 1_800_000_000), 1_800_000_000, 'clock ahead: the clock');
  t.equal(nextSerial(0xffffffff, 3), 3, 'wraps to the clock when that is greater in serial arithmetic');
  t.equal(nextSerial(4_000_000_000, 1_800_000_000), 1_800_000_000, 'an old hash-sized serial: the clock is greater (RFC 1982 §3.2)');
});

t.test('assignSerials: same content same serial, new content greater, unknown zone from the clock', async (t) => {
  const dir = '/nonexistent';
  const a = planWith('a', dir);
  const first = assignSerials(a.dns, {}, 1_800_000_000);
  t.ok(first.changed);
  t.equal(first.state[APEX]!.serial, 1_800_000_000);
  const again = assignSerials(a.dns, first.state, 1_800_000_500);
  t.notOk(again.changed, 'unchanged content: nothing to write');
  t.same(again.dns.zones.map((z) => z.records[0]!.data), first.dns.zones.map((z) => z.records[0]!.data), 'and the same serials');
  const b = assignSerials(planWith('b', dir).dns, first.state, 1_800_000_000);
  t.equal(b.state[APEX]!.serial, 1_800_000_001, 'changed in the same second: old + 1');
  t.equal(b.state['corp.schertz.name']!.serial, 1_800_000_000, 'other zones untouched');
  t.same(parseSerialState('{"x":{"hash":1,"serial":2},"y":{"hash":-1,"serial":2},"z":3}'), { x: { hash: 1, serial: 2 } }, 'the decoder keeps only well-formed entries');
  t.same(parseSerialState('{"x":{"ha'), {}, 'a torn file is empty state');
});

t.test('the appliance: serials go up on reload and across restarts, even when the new hash is lower', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provlab-serial-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const a = planWith('first', dir);
  // A second content whose hash (today's serial) is lower than the first's in RFC 1982 terms.
  let b: Plan | undefined;
  for (let i = 0; i < 100 && b === undefined; i++) {
    const c = planWith(`second ${i}`, dir);
    if (serialGreater(planSerial(a), planSerial(c))) b = c;
  }
  if (b === undefined) throw new Error('no lower hash among 100 variants');

  let app = await Appliance.start(a, { logger: silentLogger() });
  const s1 = await servedSerial(app);
  app.reload(b);
  const s2 = await servedSerial(app);
  t.ok(serialGreater(s2, s1), `reload to content with a lower hash: ${s1} -> ${s2}`);
  app.reload(b);
  t.equal(await servedSerial(app), s2, 'reload without a change: the same serial');
  await app.stop();
  t.same(JSON.parse(readFileSync(path.join(dir, SERIALS_FILE), 'utf8'))[APEX], { hash: planSerial(b), serial: s2 }, 'written to the state directory');

  app = await Appliance.start(b, { logger: silentLogger() });
  t.equal(await servedSerial(app), s2, 'restart, same content: the same serial');
  await app.stop();
  app = await Appliance.start(a, { logger: silentLogger() });
  const s3 = await servedSerial(app);
  t.ok(serialGreater(s3, s2), `restart with the first content back (a higher hash, but old): ${s2} -> ${s3}`);
  await app.stop();

  writeFileSync(path.join(dir, SERIALS_FILE), '{"schertz.na');
  app = await Appliance.start(a, { logger: silentLogger() });
  t.ok((await servedSerial(app)) > 0, 'a torn state file does not stop the start');
  await app.stop();
});

t.test('the serial state is never written or read through a planted link (CWE-59)', async (t) => {
  const { ZoneSerials } = await import('../../src/dns/zone-serials.js');
  const { symlinkSync, lstatSync } = await import('node:fs');
  const dir = mkdtempSync(path.join(tmpdir(), 'provlab-serial-link-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const victim = path.join(dir, 'victim');
  writeFileSync(victim, 'precious\n');
  // Planted where the state file and its temporary copy go.
  symlinkSync(victim, path.join(dir, `${SERIALS_FILE}.tmp`));
  symlinkSync(victim, path.join(dir, SERIALS_FILE));
  const warnings: string[] = [];
  const log = { warn: (_o: unknown, m: string) => void warnings.push(m) } as unknown as Parameters<typeof ZoneSerials.open>[1];
  const serials = await ZoneSerials.open(dir, log, () => 1_800_000_000_000);
  t.match(warnings.join('\n'), /unreadable/, 'a link in place of the state is not read: warned, serials from the clock');
  serials.apply(testPlan().dns);
  await serials.flush();
  t.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the link target is untouched');
  t.notOk(lstatSync(path.join(dir, SERIALS_FILE)).isSymbolicLink(), 'the state file is a file of our own now');
});
