// `provlab check` shows what a phone would make of a site's options: the lab
// switches (reversed 43 with 0xFF, option 120 as an address) come out as the
// LPE rules' warning and error, and the shipped default has none.
import t from 'tap';
import { parseSite, loadSite } from '../../src/site/load.js';
import { compilePlan } from '../../src/site/compile.js';
import { phoneFindings } from '../../src/lpe/site.js';

t.test('the shipped default: nothing a phone would stumble on', async (t) => {
  const f = new URL('../../config/default.yaml', import.meta.url).pathname;
  t.same(phoneFindings(compilePlan(loadSite(f), f)), []);
});

t.test('lab switches show up as the findings a phone would meet', async (t) => {
  const site = parseSite(
    `site: lab
address: 10.20.0.1
dhcp: { subnet: 10.20.0.0/24, pool: 10.20.0.100-10.20.0.199, router: 10.20.0.1 }
domains: { primary: schertz.name }
lync:
  pool: lyncpool.schertz.name
  address: 10.20.0.10
  option43: { order: [5, 4, 3, 2, 1], end: true }
  sip_encoding: ipv4
`,
    'lab.yaml',
  );
  const got = phoneFindings(compilePlan(site, 'lab.yaml')).map(({ option, finding }) => `${option} ${finding.severity}:${finding.code}`);
  t.same(got.sort(), ['120 error:sip-addresses', '43 warning:end-marker', '43 warning:order']);
});
