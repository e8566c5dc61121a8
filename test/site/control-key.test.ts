// The `control` key of the site file: defaults, overrides, and the clash with
// the DNS port (DNS answers on TCP too).
import t from 'tap';
import { parseSite, SiteFileError } from '../../src/site/load.js';
import { siteJsonSchema } from '../../src/site/json-schema.js';
import { minimalSite, planOf, siteYaml } from '../helpers/sites.js';

const BASE = minimalSite('control-key');

t.test('defaults: on, port 9067', async (t) => {
  const plan = planOf(BASE);
  t.same(plan.control, { enabled: true, port: 9067 });
});

t.test('overrides', async (t) => {
  const plan = planOf(siteYaml({ site: 'control-key', control: { enabled: false, port: 19067 } }));
  t.same(plan.control, { enabled: false, port: 19067 });
});

t.test('refused: a bad port, an unknown key (no address key: loopback is not negotiable), the DNS port', async (t) => {
  const errors = (yaml: string): string => {
    try {
      parseSite(yaml, 'site.yaml');
      return '';
    } catch (err) {
      if (err instanceof SiteFileError) return err.message;
      throw err;
    }
  };
  t.match(errors(`${BASE}control: { port: 70000 }\n`), /site\.yaml:11:\d+: control\.port: .*port number from 1 to 65535/);
  t.match(errors(`${BASE}control: { address: 0.0.0.0 }\n`), /control\.address: unknown key "address"/);
  t.match(errors(`${BASE}listen: { dns: 5300 }\ncontrol: { port: 5300 }\n`), /control\.port: port 5300 is already used by dns \(DNS listens on TCP too\)/);
  t.equal(errors(`${BASE}listen: { dns: 5300 }\ndns: { enabled: false }\ncontrol: { port: 5300 }\n`), '', 'no clash when DNS is off');
});

t.test('the JSON schema offers the key to editors', async (t) => {
  const s = siteJsonSchema() as { properties: Record<string, { properties?: Record<string, { default?: unknown }> }> };
  t.ok(s.properties.control, 'control is in the schema');
  t.equal(s.properties.control!.properties!.port!.default, 9067);
});
