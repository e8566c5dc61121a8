// `provlab export bind` checked by BIND's own tools (Debian bind9-utils):
// named-checkzone on every zone file, named-checkconf -z on the named.conf
// fragment, and named-compilezone's canonical dump compared record by record
// with the compiled plan (written out here in presentation form, RFC 1035 §5.1).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/provlab.js';
import { LAB_SEARCH, LAB_WEB, planOf, siteYaml } from '../helpers/sites.js';
import type { DnsRecordData } from '../../src/site/plan.js';
import { exportPlan } from '../../src/export/index.js';
import { writeExport } from '../../src/cli/commands/export.js';
import { systemTool } from './peer-lab.js';

function missing(tools: readonly string[]): string | false {
  for (const tool of tools) {
    try {
      execFileSync(systemTool(tool), ['-v'], { stdio: 'ignore' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') continue;
      // Debian package bind9-utils; nothing may silently skip in CI.
      if (process.env.CI === 'true') t.fail(`CI=true and ${tool} (bind9-utils) is not installed`);
      return `${tool} (bind9-utils) is not installed`;
    }
  }
  return false;
}
const skip = missing(['named-checkzone', 'named-checkconf', 'named-compilezone']);

const SIMPLE = siteYaml({
  site: 'bind-export',
  dhcp: { reservations: [{ mac: '00:04:f2:95:31:a2', ip: '10.20.0.50', name: 'cx600-lobby' }] },
  domains: { search: LAB_SEARCH },
  lync: { web: LAB_WEB },
});

// dns.records of every type, a TXT with quotes and a semicolon, a name outside the domains, a /23.
const RICH = siteYaml({
  site: 'bind-rich',
  address: '10.30.0.1',
  dhcp: { subnet: '10.30.0.0/23', pool: '10.30.0.100-10.30.1.20' },
  domains: { primary: 'example.com', search: ['example.com', 'lab.example.org'], sip: 'example.com' },
  lync: { pool: 'lyncpool.example.com', address: '10.30.0.10' },
  ntp: { servers: ['10.30.0.3'] },
  dns: {
    forwarders: ['10.0.0.53'],
    records: [
      { name: 'note.example.com', type: 'TXT', text: ['hello "world"', 'x;y \\ z'] },
      { name: '_sip._tls.example.com', type: 'SRV', target: 'sip.example.com', port: 443, priority: 10, weight: 5 },
      { name: 'alias.example.com', type: 'CNAME', target: 'lyncpool.example.com' },
      { name: 'v6.example.com', type: 'AAAA', address: '2001:db8::1' },
      { name: 'printer.elsewhere.net', type: 'A', address: '10.30.0.77' },
    ],
  },
});


/** The test's own presentation form of a record (RFC 1035 §5.1, RFC 2782), as named-compilezone prints it. */
function presentation(d: DnsRecordData): string {
  const abs = (n: string) => `${n}.`;
  switch (d.type) {
    case 'A':
    case 'AAAA':
      return d.address;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return abs(d.target);
    case 'SOA':
      return [abs(d.mname), abs(d.rname), d.serial, d.refresh, d.retry, d.expire, d.minimum].join(' ');
    case 'TXT':
      return d.strings.map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(' ');
    case 'SRV':
      return [d.priority, d.weight, d.port, abs(d.target)].join(' ');
  }
}

const norm = (line: string) => line.trim().replace(/\s+/g, ' ');

for (const [label, yaml] of [['simple site', SIMPLE], ['rich site', RICH]] as const) {
  t.test(`bind (${label}): named-checkzone, named-checkconf -z, and every plan record in named's own dump`, { skip }, async (t) => {
    const p = planOf(yaml);
    const dir = tempDir('provlab-export-bind-out-');
    const result = exportPlan('bind', p);
    const written = writeExport(result, join(dir, 'zones'));
    t.equal(written.length, p.dns.zones.length + 1, 'a zone file per zone and the named.conf fragment');
    const zonesDir = join(dir, 'zones');
    const wrapper = join(dir, 'named.conf');
    writeFileSync(wrapper, `options { directory "${zonesDir}"; };\ninclude "${join(zonesDir, 'named.conf.provlab')}";\n`);
    const conf = execFileSync(systemTool('named-checkconf'), ['-z', wrapper], { encoding: 'utf8' });
    for (const z of p.dns.zones) t.match(conf, `zone ${z.apex}/IN: loaded serial`, `named-checkconf -z loads ${z.apex}`);

    for (const z of p.dns.zones) {
      const file = join(zonesDir, `db.${z.apex}`);
      const check = execFileSync(systemTool('named-checkzone'), [z.apex, file], { encoding: 'utf8' });
      t.match(check, /\nOK\n?$/, `named-checkzone ${z.apex}: OK`);
      const dump = execFileSync(systemTool('named-compilezone'), ['-q', '-o', '-', z.apex, file], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith(';'))
        .map(norm)
        .sort();
      const expected = z.records.map((r) => norm(`${r.name}. ${r.ttl} IN ${r.data.type} ${presentation(r.data)}`)).sort();
      t.same(dump, expected, `${z.apex}: named read exactly the plan's ${z.records.length} records`);
    }
  });
}

t.test('bind: the names an LPE phone looks up (docs/lpe-facts.md §Names) are in the zone files', async (t) => {
  const p = planOf(SIMPLE);
  const all = exportPlan('bind', p)
    .files.map((f) => f.content)
    .join('\n')
    .split('\n')
    .map(norm);
  for (const line of [
    'ucupdates-r2.schertz.name. 300 IN A 10.20.0.10',
    'ucupdates-r2.corp.schertz.name. 300 IN A 10.20.0.10',
    '_sipinternaltls._tcp.schertz.name. 300 IN SRV 0 0 5061 lyncpool.schertz.name.',
    '_ntp._udp.schertz.name. 300 IN SRV 0 0 123 ntp.schertz.name.',
    'time.windows.com. 300 IN A 10.20.0.1',
    'lyncweb.schertz.name. 300 IN A 10.20.0.10',
    '50.0.20.10.in-addr.arpa. 300 IN PTR cx600-lobby.schertz.name.',
  ]) {
    t.ok(all.includes(line), line);
  }
  const rich = exportPlan('bind', planOf(RICH)).files.find((f) => f.name === 'named.conf.provlab')!.content;
  t.match(rich, /forwarders \{ 10\.0\.0\.53; \}/, 'the forwarders are named in the fragment');
});
