// The BIND export writes each record once: it is built from the plan, whose
// RRsets are sets (RFC 2181 §5; a zone file with a record twice loads, but a
// reader of it sees two records that are one).
import t from 'tap';
import { exportBind } from '../../src/export/bind.js';
import { planOf, siteYaml } from '../helpers/sites.js';

t.test('pool = sip.<sip>, web = sipinternal.<sip>, one AAAA in two spellings: every line once', async (t) => {
  const plan = planOf(
    siteYaml({
      lync: { pool: 'sip.schertz.name', web: 'sipinternal.schertz.name' },
      dns: {
        records: [
          { name: 'v6.schertz.name', type: 'AAAA', address: '2001:db8::11' },
          { name: 'v6.schertz.name', type: 'AAAA', address: '2001:0db8:0::11' },
        ],
      },
    }),
    '/tmp/site.yaml',
  );
  const zone = exportBind(plan).files.find((f) => f.name === 'db.schertz.name')!.content;
  const count = (line: string) => zone.split('\n').filter((l) => l === line).length;
  t.equal(count('sip.schertz.name.\t300\tIN\tA\t10.20.0.10'), 1);
  t.equal(count('sipinternal.schertz.name.\t300\tIN\tA\t10.20.0.10'), 1);
  t.equal(zone.split('\n').filter((l) => l.startsWith('v6.schertz.name.\t300\tIN\tAAAA\t')).length, 1);
});
