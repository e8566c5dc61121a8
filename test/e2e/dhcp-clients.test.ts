// End to end with real third-party DHCP clients acting as an LPE phone
// (option 60 MS-UC-Client), in network namespaces made by this test.
// provlab runs in SRV, the client in CLI, joined by a veth pair. Expected
// option bytes are written out by hand from docs/lpe-facts.md / DHCPUtil's layout,
// never taken from our encoder; tshark decodes the capture independently.
import t, { type Test } from 'tap';
import { chmodSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CERTPROV, EXPECTED_120, EXPECTED_43, WEB } from '../helpers/lab-bytes.js';
import { createLab, namespaceSkip, readEnvFile, type Lab } from '../helpers/netns.js';
import { tempDir, upWithSite, type Running } from '../helpers/provlab.js';
import { labSite } from '../helpers/sites.js';

interface Env {
  lab: Lab;
  dir: string;
  provlab: Running;
  pcap: string;
  capture: import('node:child_process').ChildProcess;
}

async function up(t: Test, clientAddress?: string): Promise<Env> {
  const lab = createLab(t, clientAddress ? { clientAddress } : {});
  const dir = tempDir();
  const pcap = join(dir, 'capture.pcap');
  const capture = lab.spawn(lab.server, 'tshark', ['-q', '-i', lab.serverIf, '-f', 'udp port 67 or udp port 68', '-w', pcap]);
  // tshark needs a moment before it captures; wait until the file exists.
  for (let i = 0; i < 50 && !existsSync(pcap); i++) await new Promise((r) => setTimeout(r, 100));
  const site = labSite(lab, {
    name: 'e2e',
    state: join(dir, 'state'),
    reservations: [{ mac: '02:00:00:aa:bb:cc', ip: `${lab.prefix}.50`, name: 'cx600-lobby' }],
    stratum: 10,
  });
  const { provlab } = await upWithSite(t, dir, site, { ns: lab.server });
  return { lab, dir, provlab, pcap, capture };
}

/** Stops the capture and returns tshark's decode of every DHCP packet in it. */
async function decodeCapture(env: Env): Promise<{ fields: string[][]; malformed: string }> {
  await new Promise((r) => setTimeout(r, 300));
  env.capture.kill('SIGINT');
  await new Promise((r) => env.capture.once('exit', r));
  const fields = env.lab
    .exec(env.lab.server, 'tshark', ['-r', env.pcap, '-Y', 'dhcp', '-T', 'fields', '-E', 'separator=|', '-e', 'dhcp.option.dhcp', '-e', 'dhcp.option.vendor.value', '-e', 'dhcp.option.vendor_class_id', '-e', 'dhcp.ip.your', '-e', 'ip.dst'])
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|'));
  const malformed = env.lab.exec(env.lab.server, 'tshark', ['-r', env.pcap, '-Y', '_ws.malformed || _ws.expert.severity == error']).trim();
  return { fields, malformed };
}

const skip = namespaceSkip(['dhclient', 'busybox', 'dhcpcd', 'nmap', 'tshark']);

t.test('ISC dhclient as MS-UC-Client: lease with options 43 (1..5 space), 120, 119, 15, 42', { skip }, async (t) => {
  const env = await up(t);
  const conf = join(env.dir, 'dhclient.conf');
  writeFileSync(
    conf,
    `option space msuc;
option msuc.uc-identifier code 1 = text;
option msuc.url-scheme code 2 = text;
option msuc.web-fqdn code 3 = text;
option msuc.web-port code 4 = text;
option msuc.certprov-path code 5 = text;
option lync-sip-server code 120 = string;
send vendor-class-identifier "MS-UC-Client";
request subnet-mask, routers, domain-name, domain-name-servers, domain-search, ntp-servers, time-servers, vendor-encapsulated-options, lync-sip-server;
vendor option space msuc;
`,
  );
  const hook = join(env.dir, 'hook.sh');
  writeFileSync(hook, `#!/bin/sh\nenv > "${env.dir}/dhclient.$reason.env"\ncase "$reason" in BOUND|REBOOT|RENEW) ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface" ;; esac\nexit 0\n`);
  chmodSync(hook, 0o755);
  env.lab.exec(env.lab.client, 'timeout', ['30', 'dhclient', '-4', '-1', '-v', '-cf', conf, '-sf', hook, '-lf', join(env.dir, 'dhclient.leases'), '-pf', join(env.dir, 'dhclient.pid'), env.lab.clientIf], 40_000);
  const got = readEnvFile(join(env.dir, 'dhclient.BOUND.env'));
  t.match(got.new_ip_address, new RegExp(`^${env.lab.prefix.replace(/\./g, '\\.')}\\.(1[0-4]\\d|150|100)$`));
  t.equal(got.new_subnet_mask, '255.255.255.0');
  t.equal(got.new_routers, env.lab.serverIp);
  t.equal(got.new_domain_name, 'schertz.name');
  t.equal(got.new_domain_search, 'schertz.name. corp.schertz.name.', 'option 119 decoded by dhclient');
  t.equal(got.new_ntp_servers, env.lab.serverIp);
  t.equal(got.new_dhcp_lease_time, '3600');
  t.equal(got.new_dhcp_server_identifier, env.lab.serverIp);
  t.equal(got.new_msuc_uc_identifier, 'MS-UC-Client');
  t.equal(got.new_msuc_url_scheme, 'https');
  t.equal(got.new_msuc_web_fqdn, WEB);
  t.equal(got.new_msuc_web_port, '443', 'port is ASCII text');
  t.equal(got.new_msuc_certprov_path, CERTPROV);
  t.equal((got.new_lync_sip_server ?? '').split(':').map((h) => h.padStart(2, '0')).join(''), EXPECTED_120);
  env.lab.exec(env.lab.client, 'sh', ['-c', `kill $(cat ${env.dir}/dhclient.pid) 2>/dev/null; true`]);

  const cap = await decodeCapture(env);
  t.equal(cap.malformed, '', 'tshark finds no malformed DHCP packet');
  const ack = cap.fields.find((f) => f[0] === '5');
  t.ok(ack, 'tshark saw the ACK');
  t.equal(ack![1]!.replace(/:/g, ''), EXPECTED_43, 'option 43 bytes as tshark decodes them');
  const offer = cap.fields.find((f) => f[0] === '2');
  t.equal(offer![4], got.new_ip_address, 'OFFER unicast to yiaddr (broadcast bit not set)');
});

t.test('busybox udhcpc: lease, opt43 hex exact, 120 and 119 decoded', { skip }, async (t) => {
  const env = await up(t);
  const hook = join(env.dir, 'udhcpc.sh');
  writeFileSync(hook, `#!/bin/sh\nenv > "${env.dir}/udhcpc.$1.env"\nexit 0\n`);
  chmodSync(hook, 0o755);
  env.lab.exec(
    env.lab.client,
    'env',
    ['-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'timeout', '30', 'busybox', 'udhcpc', '-f', '-q', '-n', '-t', '5', '-T', '2', '-i', env.lab.clientIf, '-V', 'MS-UC-Client', '-O', '43', '-O', '120', '-O', '119', '-O', '42', '-O', '15', '-s', hook],
    40_000,
  );
  const got = readEnvFile(join(env.dir, 'udhcpc.bound.env'));
  t.match(got.ip, new RegExp(`^${env.lab.prefix.replace(/\./g, '\\.')}\\.1\\d\\d$`));
  t.equal(got.opt43, EXPECTED_43, 'option 43 byte for byte');
  t.equal(got.domain, 'schertz.name');
  t.equal(got.search, 'schertz.name corp.schertz.name', 'option 119 decoded by busybox');
  t.equal(got.sipsrv, 'lyncpool.schertz.name', 'option 120 decoded by busybox');
  t.equal(got.ntpsrv, env.lab.serverIp);
  t.equal(got.serverid, env.lab.serverIp);
  t.equal(got.lease, '3600');
  const cap = await decodeCapture(env);
  t.equal(cap.malformed, '');
});

t.test('dhcpcd in INFORM mode: ACK with 43 and 120, no lease time, unicast to ciaddr', { skip }, async (t) => {
  const env = await up(t);
  const clientIp = `${env.lab.prefix}.77`;
  const conf = join(env.dir, 'dhcpcd.conf');
  writeFileSync(conf, `vendorclassid MS-UC-Client\noption domain_name, domain_search, ntp_servers\ndefine 43 binhex vendor_msuc\ndefine 120 binhex lync_sip\noption 43, 120\nnohook resolv.conf\n`);
  const hook = join(env.dir, 'dhcpcd.sh');
  writeFileSync(hook, `#!/bin/sh\nenv > "${env.dir}/dhcpcd.$reason.env"\nexit 0\n`);
  chmodSync(hook, 0o755);
  env.lab.exec(env.lab.client, 'timeout', ['30', 'dhcpcd', '-4', '-1', '-t', '20', '-s', `${clientIp}/24`, '-f', conf, '-c', hook, env.lab.clientIf], 40_000);
  const files = readdirSync(env.dir).filter((f) => f.startsWith('dhcpcd.') && f.endsWith('.env'));
  const informed = files.find((f) => f === 'dhcpcd.INFORM.env') ?? files.find((f) => /INFORM|STATIC|BOUND/.test(f));
  t.ok(informed, `hook saw an INFORM result (files: ${files.join(', ')})`);
  const got = readEnvFile(join(env.dir, informed!));
  t.equal(got.new_vendor_msuc, EXPECTED_43);
  t.equal(got.new_lync_sip, EXPECTED_120);
  t.equal(got.new_domain_search, 'schertz.name corp.schertz.name');
  t.notOk(got.new_dhcp_lease_time, 'no lease time in an INFORM ACK');
  env.lab.exec(env.lab.client, 'sh', ['-c', `dhcpcd -x ${env.lab.clientIf} >/dev/null 2>&1; true`]);
  const cap = await decodeCapture(env);
  t.equal(cap.malformed, '');
  const ack = cap.fields.find((f) => f[0] === '5');
  t.equal(ack?.[4], clientIp, 'INFORM ACK unicast to ciaddr');
  t.equal(ack?.[3], '0.0.0.0', 'no yiaddr in an INFORM ACK');
});

t.test('nmap broadcast-dhcp-discover sees the offer', { skip }, async (t) => {
  const env = await up(t, undefined);
  env.lab.exec(env.lab.client, 'ip', ['addr', 'add', `${env.lab.prefix}.200/24`, 'dev', env.lab.clientIf]);
  const out = env.lab.exec(env.lab.client, 'timeout', ['60', 'nmap', '-e', env.lab.clientIf, '--script', 'broadcast-dhcp-discover', '--script-args', 'broadcast-dhcp-discover.timeout=5s'], 70_000);
  t.match(out, /IP Offered: \d+\.\d+\.\d+\.1\d\d/);
  t.match(out, new RegExp(`Server Identifier: ${env.lab.serverIp.replace(/\./g, '\\.')}`));
  t.match(out, /Domain Name: schertz\.name/);
  const cap = await decodeCapture(env);
  t.equal(cap.malformed, '');
});
