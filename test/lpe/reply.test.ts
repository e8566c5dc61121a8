// The LPE rules on a whole reply and on 15, 119, 120. Bytes: DHCPUtil's option
// 120 (docs/lpe-facts.md), RFC 3397's option 119 example, a published script's bare
// ASCII 120 (docs/lpe-facts.md), written out by hand.
import t from 'tap';
import { judgeReply } from '../../src/lpe/reply.js';
import { readOption120 } from '../../src/lpe/option120.js';
import { readOption119, readOption15, updateDomainOf, updateNames } from '../../src/lpe/domains.js';

import { DHCPUTIL_120, H, RFC3397_119 } from '../helpers/public-bytes.js';
const A = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'ascii'));

t.test('option 120: DHCPUtil\'s form is clean; the known mistakes are errors, the unknowns warnings', async (t) => {
  const good = readOption120(H(DHCPUTIL_120));
  t.same(good.findings, []);
  t.equal(good.usableName, 'server.fqdn.company.com');
  t.match(readOption120(A('server.fqdn.company.com')).findings, [{ severity: 'error', code: 'bare-ascii', message: /send instead 00 06 73 65 72/ }]);
  t.match(readOption120(H('01 0a 14 00 0a')).findings, [{ severity: 'error', code: 'sip-addresses' }]);
  t.match(readOption120(H('00')).findings, [{ severity: 'error', code: 'empty' }]);
  t.match(readOption120(H('00 06 736572766572')).findings, [{ severity: 'error', code: 'no-root' }]);
  t.match(readOption120(H('06736572766572 00')).findings, [{ severity: 'error', code: 'no-encoding-byte' }]);
  // A second name compressed onto the first's "fqdn.company.com" (offset 7 of the name list).
  const two = readOption120(H(DHCPUTIL_120 + '03 666f6f c0 07'));
  t.same(two.findings.map((f) => `${f.severity}:${f.code}`), ['warning:compression', 'warning:several-names']);
  t.same(two.names, ['server.fqdn.company.com', 'foo.fqdn.company.com']);
  t.equal(two.usableName, 'server.fqdn.company.com');
});

t.test('options 15 and 119: the suffixes the phone tries, and the names it looks up', async (t) => {
  t.same(readOption119(H(RFC3397_119)).domains, ['eng.apple.com', 'marketing.apple.com']);
  t.match(readOption119(H('03 65 6e 67 c0 08')).findings, [{ severity: 'error', code: 'forward-pointer' }]);
  const nul = readOption15(H(Buffer.from('schertz.name').toString('hex') + '00'));
  t.equal(nul.domain, 'schertz.name');
  t.match(nul.findings, [{ severity: 'warning', code: 'trailing-nul' }]);
  t.match(readOption15(A('not a domain')).findings, [{ severity: 'error', code: 'bad-domain' }]);
  t.same(updateNames(['schertz.name']), ['ucupdates-r2.schertz.name']);
  t.equal(updateDomainOf('UCUPDATES-R2.Schertz.Name.'), 'schertz.name');
  t.equal(updateDomainOf('ucupdates-r2'), '');
  t.equal(updateDomainOf('time.windows.com'), null);
});

t.test('a reply: what is missing costs what, after an ACK and after an INFORM', async (t) => {
  const none = judgeReply(new Map(), 'ack');
  const sev = (j: typeof none, code: number) => j.options.find((o) => o.code === code)!;
  t.match(sev(none, 43).findings, [{ severity: 'error', code: 'missing' }]);
  t.match(sev(none, 120).findings, [{ severity: 'error', code: 'missing' }]);
  t.match(sev(none, 15).findings, [{ severity: 'error', message: /nor option 119/ }]);
  t.match(sev(none, 1).findings, [{ severity: 'warning' }]);
  const inform = judgeReply(new Map([[119, H(RFC3397_119)]]), 'inform');
  t.equal(sev(inform, 1).notNeeded, true);
  t.match(sev(inform, 15).findings, [{ severity: 'warning', message: /option 119 domains only/ }]);
  t.same(inform.facts.domains, ['eng.apple.com', 'marketing.apple.com']);
});
