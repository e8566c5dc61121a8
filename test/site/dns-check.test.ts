// `provlab check` and DNS: what reference servers refuse is refused with
// file:line:col (more cases in test/fixtures/bad-sites/dns-*.yaml), what they
// load is at most a warning (reservation names on names of the site are
// dns-zones.ts's warning). The reference behaviour is pinned here with
// named-checkzone (BIND 9.18) on hand-written zones:
//   NS target is a CNAME      -> "NS 'provlab.example.com' is a CNAME (illegal)", zone not loaded: error
//   SRV target is a CNAME     -> "SRV 'pool.example.com' is a CNAME (illegal)", loaded
//                                (not loaded only with -S fail): warning
//   one RRset, two TTLs       -> "TTL set to prior TTL (300)", loaded: warning, served with the lowest (RFC 2181 §5.2)
//   CNAME loop                -> loaded silently: warning (no query for it can get an address)
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseSite, SiteFileError } from '../../src/site/load.js';
import { planOf, siteYaml, type SiteRow } from '../helpers/sites.js';

function site(o: { address?: string; records?: SiteRow[]; forwarders?: string[]; dnsPort?: number }): string {
  const address = o.address ?? '10.20.0.1';
  const prefix = address.split('.').slice(0, 3).join('.');
  return siteYaml({
    site: 'dns-check',
    address,
    dhcp: { subnet: `${prefix}.0/24`, pool: `${prefix}.100-${prefix}.199` },
    domains: { primary: 'schertz.name' },
    lync: { pool: 'lyncpool.schertz.name', address: `${prefix}.10` },
    dns: { records: o.records ?? [], forwarders: o.forwarders ?? [] },
    ...(o.dnsPort ? { listen: { dhcp: 6767, dns: o.dnsPort, ntp: 12300 } } : {}),
  });
}

function errorsOf(yaml: string): string[] {
  try {
    parseSite(yaml, '/srv/provlab/site.yaml');
    return [];
  } catch (e) {
    if (e instanceof SiteFileError) return e.errors.map((x) => x.message);
    throw e;
  }
}

t.test('named-checkzone: what BIND refuses and warns about', { skip: spawnSync('named-checkzone', ['-v']).status === 0 ? false : 'named-checkzone not installed' }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provlab-nc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const check = (body: string, args: string[] = []) => {
    const file = path.join(dir, 'zone');
    writeFileSync(file, `$ORIGIN example.com.\n$TTL 300\n@ SOA provlab hostmaster 1 3600 600 86400 60\n@ NS provlab\n${body}\n`);
    const r = spawnSync('named-checkzone', [...args, 'example.com', file], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const ns = check('provlab CNAME host\nhost A 10.0.0.1');
  t.not(ns.status, 0);
  t.match(ns.out, "NS 'provlab.example.com' is a CNAME (illegal)");
  const srvZone = 'provlab A 10.0.0.1\n_sip._tcp SRV 0 0 5060 pool\npool CNAME host\nhost A 10.0.0.2';
  const srv = check(srvZone);
  t.equal(srv.status, 0, 'an SRV target that is a CNAME: loaded by default');
  t.match(srv.out, "SRV 'pool.example.com' is a CNAME (illegal)");
  t.not(check(srvZone, ['-S', 'fail']).status, 0, 'refused only with -S fail');
  const loop = check('provlab A 10.0.0.1\nloop1 CNAME loop2\nloop2 CNAME loop1');
  t.equal(loop.status, 0, 'a CNAME loop: loaded');
  const ttl = check('provlab A 10.0.0.1\nx 300 A 10.0.0.2\nx 600 A 10.0.0.3');
  t.equal(ttl.status, 0);
  t.match(ttl.out, 'TTL set to prior TTL (300)');
});

t.test('error: a CNAME at the name server name', async (t) => {
  t.match(errorsOf(site({ records: [{ name: 'provlab.schertz.name', type: 'CNAME', target: 'x.schertz.name' }] })), [/provlab\.schertz\.name is the name server of every zone/]);
});

const warningsOf = (records: SiteRow[]): string[] => planOf(site({ records })).warnings.filter((w) => / CNAME|RFC 2181/.test(w));

t.test('warnings: SRV targets that are CNAMEs, CNAME loops', async (t) => {
  t.same(warningsOf([{ name: 'ntp.schertz.name', type: 'CNAME', target: 'clock.schertz.name' }, { name: 'clock.schertz.name', type: 'A', address: '10.20.0.5' }]), [
    'dns.records[0]: ntp.schertz.name is the target of the built-in SRV _ntp._udp.schertz.name, and a CNAME: an SRV target must be a name with addresses (RFC 2782; BIND calls it illegal); give it an A record instead',
  ]);
  t.same(
    warningsOf([{ name: '_ntp._udp.schertz.name', type: 'SRV', port: 123, target: 'clock.schertz.name' }, { name: 'ntp.schertz.name', type: 'CNAME', target: 'clock.schertz.name' }, { name: 'clock.schertz.name', type: 'A', address: '10.20.0.5' }]),
    [],
    'a built-in SRV replaced by dns.records no longer points at the CNAME',
  );
  t.same(warningsOf([{ name: '_sip._tcp.schertz.name', type: 'SRV', port: 5060, target: 'Alias.schertz.name.' }, { name: 'alias.schertz.name', type: 'CNAME', target: 'lyncpool.schertz.name' }]), [
    'dns.records[0]: SRV _sip._tcp.schertz.name points to Alias.schertz.name, which is a CNAME: an SRV target must be a name with addresses (RFC 2782; BIND calls it illegal)',
  ]);
  const loops = warningsOf([
    { name: 'a.schertz.name', type: 'CNAME', target: 'b.schertz.name' },
    { name: 'b.schertz.name', type: 'CNAME', target: 'c.schertz.name' },
    { name: 'c.schertz.name', type: 'CNAME', target: 'A.schertz.name' },
    { name: 'self.schertz.name', type: 'CNAME', target: 'self.schertz.name' },
    { name: 'chain.schertz.name', type: 'CNAME', target: 'a.schertz.name' },
  ]);
  t.same(loops, [
    'dns.records[0]: CNAME loop: a.schertz.name -> b.schertz.name -> c.schertz.name -> a.schertz.name; no query for these names can get an address',
    'dns.records[3]: CNAME loop: self.schertz.name -> self.schertz.name; no query for these names can get an address',
  ], 'each loop once; a chain into a loop is not a loop of its own');
  t.same(warningsOf([{ name: 'a.schertz.name', type: 'CNAME', target: 'b.schertz.name' }, { name: 'b.schertz.name', type: 'CNAME', target: 'lyncpool.schertz.name' }]), [], 'a chain is fine');
});

t.test('errors: a forwarder that is provlab itself', async (t) => {
  t.match(errorsOf(site({ forwarders: ['10.20.0.1'] })), [/forwarder 10\.20\.0\.1 is provlab's own DNS \(10\.20\.0\.1:53\)/]);
  t.match(errorsOf(site({ forwarders: ['0.0.0.0:53'] })), [/own DNS/], '0.0.0.0 reaches this host');
  t.match(errorsOf(site({ address: '127.0.0.1', forwarders: ['127.0.0.53'] })), [/own DNS/], 'a loopback site with a loopback forwarder on its port');
  t.same(errorsOf(site({ forwarders: ['127.0.0.53'] })), [], 'a local resolver on loopback while provlab listens on 10.20.0.1: no loop');
  t.same(errorsOf(site({ forwarders: ['10.20.0.1:5353'] })), [], 'another port on our address');
  t.match(errorsOf(site({ forwarders: ['10.20.0.1:5300'], dnsPort: 5300 })), [/own DNS \(10\.20\.0\.1:5300\)/], 'listen.dns is our port');
});

t.test('one RRset, several TTLs: warned, and served with the lowest (RFC 2181 §5.2)', async (t) => {
  const ttl = planOf(site({ records: [
    { name: 'x.schertz.name', type: 'A', address: '10.20.0.2' },
    { name: 'X.schertz.name', type: 'A', address: '10.20.0.3', ttl: 600 },
    { name: 'x.schertz.name', type: 'TXT', text: 'a', ttl: 600 },
  ] }));
  t.same(ttl.warnings.filter((w) => w.includes('RFC 2181 §5.2')), [
    'dns.records[1]: X.schertz.name A has TTL 600, dns.records[0] of the same RRset 300: one RRset has one TTL (RFC 2181 §5.2); all its records are served with the lowest, 300',
  ]);
  const served = ttl.dns.zones.flatMap((z) => z.records).filter((r) => r.name === 'x.schertz.name').map((r) => `${r.data.type} ${r.ttl}`);
  t.same(served.sort(), ['A 300', 'A 300', 'TXT 600'], 'both A records at 300, the TXT RRset keeps its own');
  t.equal(ttl.warnings.filter((w) => w.includes('RFC 2181')).length, 1, 'A and TXT are two RRsets');
});

t.test('provlab check prints the warnings, and refuses with file:line:col', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provlab-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const main = path.resolve('dist/cli/main.js');
  const file = path.join(dir, 'site.yaml');
  writeFileSync(file, site({ records: [{ name: 'x.schertz.name', type: 'A', address: '10.20.0.2', ttl: 60 }, { name: 'x.schertz.name', type: 'A', address: '10.20.0.3' }] }));
  const ok = spawnSync(process.execPath, [main, 'check', '--site', file], { encoding: 'utf8' });
  t.equal(ok.status, 0);
  t.match(ok.stdout, 'warning: dns.records[1]: x.schertz.name A has TTL 300, dns.records[0] of the same RRset 60: one RRset has one TTL (RFC 2181 §5.2); all its records are served with the lowest, 60');
  writeFileSync(file, site({ forwarders: ['10.20.0.1:53'] }));
  const bad = spawnSync(process.execPath, [main, 'check', '--site', file], { encoding: 'utf8' });
  t.equal(bad.status, 1);
  t.match(bad.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: dns\\.forwarders\\[0\\]: forwarder 10\\.20\\.0\\.1:53 is provlab's own DNS`));
});
