// `provlab check` shows what a phone would make of a site's options: the lab
// switches (reversed 43 with 0xFF, option 120 as an address) come out as the
// LPE rules' warning and error, and the shipped default has none.
import t from 'tap';
import { phoneFindings } from '../../src/lpe/site.js';
import { planOf, planOfFile, siteYaml } from '../helpers/sites.js';

t.test('the shipped default: nothing a phone would stumble on', async (t) => {
  t.same(phoneFindings(planOfFile(new URL('../../config/default.yaml', import.meta.url).pathname)), []);
});

t.test('lab switches show up as the findings a phone would meet', async (t) => {
  const site = siteYaml({ dhcp: { router: '10.20.0.1' }, lync: { option43: '{ order: [5, 4, 3, 2, 1], end: true }', sip_encoding: 'ipv4' } });
  const got = phoneFindings(planOf(site)).map(({ option, finding }) => `${option} ${finding.severity}:${finding.code}`);
  t.same(got.sort(), ['120 error:sip-addresses', '43 warning:end-marker', '43 warning:order']);
});
