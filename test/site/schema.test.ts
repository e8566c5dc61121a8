// Defaults, value forms (durations, MACs, ranges) and the generated JSON Schema.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSite, SiteFileError } from '../../src/site/load.js';
import { siteJsonSchemaText } from '../../src/site/json-schema.js';
import { normalizeMac, parseDuration, parseHexValue, parseRange, formatDuration } from '../../src/site/values.js';
import { minimalSite } from '../helpers/sites.js';

const MINIMAL = minimalSite('minimal');

t.test('defaults fill every omitted key', async (t) => {
  const s = parseSite(MINIMAL, 'minimal.yaml');
  t.equal(s.interface, null, 'no interface: relay-only');
  t.same(s.dhcp.dns, ['10.20.0.1'], 'dns defaults to [address]');
  t.equal(s.dhcp.router, null);
  t.equal(s.dhcp.lease, 8 * 3600, 'lease 8h');
  t.equal(s.dhcp.offer_hold, 30, 'offer_hold 30s');
  t.equal(s.dhcp.decline_hold, 600, 'decline_hold 10m');
  t.equal(s.dhcp.ping_check, true, 'ping_check on, as ISC dhcpd');
  t.equal(s.dhcp.ping_timeout, 500, 'ping_timeout 500 ms');
  t.same(s.dhcp.reservations, []);
  t.same(s.dhcp.classes, []);
  t.equal(s.dhcp.enabled, true);
  t.same(s.domains, { primary: 'schertz.name', search: ['schertz.name'], sip: 'schertz.name' }, 'search [primary], sip primary');
  t.equal(s.lync.web, 'lyncpool.schertz.name', 'web defaults to pool');
  t.equal(s.lync.scheme, 'https');
  t.equal(s.lync.port, 443);
  t.equal(s.lync.certprov, '/CertProv/CertProvisioningService.svc');
  t.same(s.lync.option43, { order: [1, 2, 3, 4, 5], end: false });
  t.equal(s.lync.sip_encoding, 'fqdn');
  t.same(s.ntp, { enabled: true, servers: ['10.20.0.1'], stratum: 10, refid: 'LOCL' }, 'ntp.servers defaults to [address], refid LOCL, no rate limit');
  t.same(s.dns, { enabled: true, records: [], forwarders: [], rate_limit: { responses_per_second: 20, slip: 2, window: 5, ipv4_prefix_length: 32 } });
  t.same(s.listen, { dhcp: 67, dns: 53, ntp: 123 });
  t.equal(s.state, './state');
});

t.test('dhcp.ping_check and ping_timeout', async (t) => {
  const s = parseSite(MINIMAL.replace('  pool: 10', '  ping_check: false\n  ping_timeout: 250\n  pool: 10'), 'x.yaml');
  t.equal(s.dhcp.ping_check, false);
  t.equal(s.dhcp.ping_timeout, 250);
  for (const bad of ['10', '6000', '0.5', '"1s"']) {
    t.throws(() => parseSite(MINIMAL.replace('  pool: 10', `  ping_timeout: ${bad}\n  pool: 10`), 'x.yaml'), SiteFileError, `ping_timeout: ${bad} refused`);
  }
});

t.test('interface: null is relay-only like an absent key', async (t) => {
  t.equal(parseSite(`${MINIMAL}interface: null\n`, 'x.yaml').interface, null);
  t.equal(parseSite(`${MINIMAL}interface: vlan20\n`, 'x.yaml').interface, 'vlan20');
});

t.test('durations', async (t) => {
  for (const [text, seconds] of [
    ['8h', 28800],
    ['30m', 1800],
    ['45s', 45],
    ['1d', 86400],
    ['1h30m', 5400],
    ['1d2h3m4s', 93784],
  ] as const) {
    t.equal(parseDuration(text), seconds, text);
    const s = parseSite(MINIMAL.replace('  pool: 10', `  decline_hold: ${text}\n  pool: 10`), 'x.yaml');
    t.equal(s.dhcp.decline_hold, seconds, `decline_hold: ${text}`);
  }
  t.equal(parseDuration(3600), 3600, 'a number is seconds');
  t.equal(parseSite(MINIMAL.replace('  pool: 10', '  lease: 3600\n  pool: 10'), 'x.yaml').dhcp.lease, 3600);
  for (const bad of ['', '8', '8 h', 'h', '30m1h', '1.5h', '-1h']) t.equal(parseDuration(bad), null, `"${bad}" refused`);
  t.equal(parseDuration(-1), null);
  t.equal(parseDuration(1.5), null);
  t.equal(formatDuration(5400), '1h30m');
  t.throws(() => parseSite(MINIMAL.replace('  pool: 10', '  lease: 30s\n  pool: 10'), 'x.yaml'), SiteFileError, 'a 30 s lease is too short');
});

t.test('MAC spellings normalise to lower-case colon form', async (t) => {
  for (const m of ['00:04:F2:95:31:A2', '00-04-f2-95-31-a2', '0004.f295.31a2', '0004.F295.31A2', '0004f29531a2']) {
    t.equal(normalizeMac(m), '00:04:f2:95:31:a2', m);
  }
  for (const bad of ['00:04:f2:95:31', '00:04-f2:95:31:a2', '0004.f295.31a', 'zz:04:f2:95:31:a2', '']) t.equal(normalizeMac(bad), null, `"${bad}" refused`);
  const s = parseSite(`${MINIMAL.replace('  pool: 10', '  reservations:\n    - { mac: 0004.F295.31A2, ip: 10.20.0.50 }\n  pool: 10')}`, 'x.yaml');
  t.same(s.dhcp.reservations, [{ mac: '00:04:f2:95:31:a2', ip: '10.20.0.50' }]);
});

t.test('ranges and hex', async (t) => {
  t.same(parseRange('10.20.0.100-10.20.0.199'), { start: '10.20.0.100', end: '10.20.0.199' });
  t.same(parseRange('10.20.0.100 - 10.20.0.199'), { start: '10.20.0.100', end: '10.20.0.199' });
  t.equal(parseRange('10.20.0.100'), null);
  t.equal(parseRange('10.20.0.100-10.20.0.256'), null);
  t.same([...parseHexValue('0a:0B 0c')!], [10, 11, 12]);
  t.same([...parseHexValue('0x0a0b')!], [10, 11]);
  t.equal(parseHexValue('abc'), null);
});

t.test('unknown keys are refused at every level', async (t) => {
  const e = t.throws(() => parseSite(`${MINIMAL}ntp: { stratum: 10, ref_id: LOCL }\n`, 'x.yaml')) as unknown;
  t.ok(e instanceof SiteFileError);
  t.match((e as SiteFileError).errors[0]!, { line: 11, col: 21, path: 'ntp.ref_id' });
  const top = t.throws(() => parseSite(`${MINIMAL}adress: 10.20.0.1\n`, 'x.yaml')) as SiteFileError;
  t.match(top.message, 'x.yaml:11:1: adress: unknown key "adress": did you mean "address"?');
});

t.test('an error per problem, sorted by position, in file:line:col form', async (t) => {
  const text = MINIMAL.replace('address: 10.20.0.1', 'address: 10.20.0.999').replace('  primary: schertz.name', '  primary: schertz..name');
  const e = t.throws(() => parseSite(text, 'two.yaml')) as SiteFileError;
  t.equal(e.errors.length, 2);
  t.same(
    e.errors.map((x) => `${x.line}:${x.col}:${x.path}`),
    ['2:10:address', '7:12:domains.primary'],
  );
  t.match(e.message.split('\n')[0], /^two\.yaml:2:10: address: "10\.20\.0\.999" is not an IPv4 address/);
});

t.test('config/site.schema.json is what the schema generates (run npm run schema)', async (t) => {
  const file = fileURLToPath(new URL('../../config/site.schema.json', import.meta.url));
  t.equal(readFileSync(file, 'utf8'), siteJsonSchemaText());
});

t.test('the JSON Schema treats defaulted keys as optional', async (t) => {
  const s = JSON.parse(siteJsonSchemaText()) as {
    required: string[];
    additionalProperties: boolean;
    properties: Record<string, { required?: string[]; additionalProperties?: boolean }>;
  };
  t.same(s.required.sort(), ['address', 'dhcp', 'domains', 'lync', 'site']);
  t.equal(s.additionalProperties, false, 'unknown keys flagged by editors too');
  t.same(s.properties['dhcp']!.required!.sort(), ['pool', 'subnet']);
  t.same(s.properties['lync']!.required!.sort(), ['address', 'pool']);
  t.equal(s.properties['lync']!.additionalProperties, false);
});

t.test('a typo reports the unknown key only, not also the key it hides', async (t) => {
  const e = t.throws(() => parseSite(MINIMAL.replace('  pool: 10', '  poool: 10'), 'typo.yaml')) as SiteFileError;
  t.same(e.errors.map((x) => x.message), ['unknown key "poool": did you mean "pool"?']);
});

t.test('a file that cannot be read is a SiteFileError too', async (t) => {
  const { loadSite } = await import('../../src/site/load.js');
  const e = t.throws(() => loadSite('/nonexistent/provlab-site.yaml')) as SiteFileError;
  t.ok(e instanceof SiteFileError);
  t.equal(e.message, '/nonexistent/provlab-site.yaml: cannot read the site file: no such file');
});

t.test('a few YAML anchors and aliases are fine; an alias bomb is refused at the alias that blew the limit', async (t) => {
  const aliased = `${MINIMAL.replace('dhcp:\n', 'dhcp:\n  dns: &servers [10.20.0.1, 10.20.0.2]\n')}ntp: { servers: *servers }\n`;
  t.same(parseSite(aliased, 'x.yaml').ntp.servers, ['10.20.0.1', '10.20.0.2'], 'the alias resolves');
  // The anchor counts as the first copy: the 100th alias of it makes the 101st.
  const bomb = `${MINIMAL}x: &x a\ny: [${Array(101).fill('*x').join(', ')}]\n`;
  const e = t.throws(() => parseSite(bomb, 'x.yaml')) as SiteFileError;
  t.equal(e.errors.length, 1);
  t.match(e.errors[0]!, { line: 12, col: 5 + 4 * 99, path: '' });
  t.match(e.errors[0]!.message, /^too many alias copies: here \*x \(anchor &x on line 11\)/);
});
