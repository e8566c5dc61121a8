// `provlab demo` end to end: it builds its own namespace lab, boots an
// emulated phone through lease, INFORM, DNS and NTP, prints the timeline with
// every step done, and leaves no namespace behind.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { namespaceSkip } from '../helpers/netns.js';
import { CLI } from '../helpers/provlab.js';

const skip = namespaceSkip();

t.test('provlab demo boots a phone and cleans up', { skip }, async (t) => {
  const r = spawnSync(process.execPath, [CLI, 'demo'], { encoding: 'utf8', timeout: 90_000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^1\. lease: 10\.254\.\d+\.1\d\d$/m);
  t.match(r.stdout, /✔ INFORM → ACK/);
  t.match(r.stdout, /✔ A ucupdates-r2\.corp\.demo\.example/);
  t.match(r.stdout, /✔ a phone would get through/);
  // The status table: one phone, a ✓ in each of the five step columns.
  const row = r.stdout.split('\n').find((l) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}\s+10\.254\./.test(l));
  t.ok(row, 'the phone is in the timeline');
  t.equal((row ?? '').match(/✓/g)?.length, 5, 'lease, INFORM, ucupdates-r2, time lookup and NTP all done');
  t.match(r.stdout, /lab removed/);
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  t.notMatch(left, /pldemo-/, 'no namespace left behind');
});
