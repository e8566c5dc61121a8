// Phones behind a real relay: ISC dhcrelay 4.4 (Debian isc-dhcp-relay) in a
// namespace between the phones' link and provlab's, as a staging room's
// router with `ip helper-address` sits. dhcrelay -a inserts option 82 (agent
// circuit id = its interface name); tshark on provlab's link decodes what
// crosses it. What must hold is what Kea and ISC dhcpd do in the same place
// (RFC 2131 §4.1/§4.3.5, RFC 3046 §2.2).
import t, { type Test } from 'tap';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { EXPECTED_120, EXPECTED_43 } from '../helpers/lab-bytes.js';
import { createRelayLab, namespaceSkip, readEnvFile, type RelayLab } from '../helpers/netns.js';
import { tempDir, upWithSite } from '../helpers/provlab.js';
import { labSpec, siteYaml } from '../helpers/sites.js';

const skip = namespaceSkip(['dhcrelay', 'dhclient', 'dhcpcd', 'tshark']);

interface Env {
  lab: RelayLab;
  dir: string;
  pcap: string;
  capture: ChildProcess;
}

async function waitFor(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (let waited = 0; !ok(); waited += 100) {
    if (waited >= ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** agent: dhcrelay -a (option 82 with its circuit id); scopes: the second phone link is a second scope (dhcp.scopes). */
async function up(t: Test, o: { agent?: boolean; scopes?: boolean } = {}): Promise<Env> {
  const lab = createRelayLab(t);
  const dir = tempDir();
  const pcap = join(dir, 'capture.pcap');
  const capture = lab.spawn(lab.server, 'tshark', ['-q', '-i', lab.serverIf, '-f', 'udp port 67 or udp port 68', '-w', pcap]);
  await waitFor('tshark', () => existsSync(pcap));
  // Relay-only: no interface in the site file, the phones' subnet is chosen by giaddr.
  const spec = labSpec({ serverIp: lab.serverIp, prefix: lab.phonePrefix }, { name: 'relayed', state: join(dir, 'state'), router: lab.giaddr });
  if (o.scopes) {
    const p = lab.phone2Prefix;
    spec.dhcp = { ...spec.dhcp, scopes: [{ name: 'vlan30', subnet: `${p}.0/24`, pool: `${p}.100-${p}.150`, router: lab.giaddr2 }] };
  }
  await upWithSite(t, dir, siteYaml(spec), { ns: lab.server });
  // The admin's line (README "Staging several VLANs"): one relay, one -id per staging VLAN.
  const relay = lab.spawn(lab.relay, 'dhcrelay', ['-4', '-d', ...(o.agent === false ? [] : ['-a']), '-iu', lab.relayUpIf, '-id', lab.relayDownIf, '-id', lab.relayDown2If, lab.serverIp]);
  let relayLog = '';
  relay.stderr!.on('data', (b: Buffer) => (relayLog += b.toString()));
  relay.stdout!.on('data', (b: Buffer) => (relayLog += b.toString()));
  await waitFor('dhcrelay to listen', () => /Sending on\s+Socket/.test(relayLog));
  return { lab, dir, pcap, capture };
}

/** Every DHCP packet tshark saw on provlab's link: type|ip.dst|udp.dstport|yiaddr|circuit id|option 43. */
async function captured(env: Env): Promise<{ rows: string[][]; malformed: string }> {
  await new Promise((r) => setTimeout(r, 300));
  env.capture.kill('SIGINT');
  await new Promise((r) => env.capture.once('exit', r));
  const rows = env.lab
    .exec(env.lab.server, 'tshark', ['-r', env.pcap, '-Y', 'dhcp', '-T', 'fields', '-E', 'separator=|', '-e', 'dhcp.option.dhcp', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'dhcp.ip.your', '-e', 'dhcp.option.agent_information_option.agent_circuit_id', '-e', 'dhcp.option.vendor.value'])
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|'));
  const malformed = env.lab.exec(env.lab.server, 'tshark', ['-r', env.pcap, '-Y', '_ws.malformed || _ws.expert.severity == error']).trim();
  return { rows, malformed };
}

const hex = (s: string) => Buffer.from(s, 'ascii').toString('hex');

/** dhclient on one phone link until BOUND; its hook's environment. */
function dhclientBound(lab: RelayLab, dir: string, ns: string, ifname: string, tag: string): Record<string, string> {
  const conf = join(dir, `dhclient-${tag}.conf`);
  writeFileSync(conf, 'send vendor-class-identifier "MS-UC-Client";\nrequest subnet-mask, routers, domain-name, domain-name-servers, ntp-servers, vendor-encapsulated-options;\n');
  const hook = join(dir, `hook-${tag}.sh`);
  writeFileSync(hook, `#!/bin/sh\nenv > "${dir}/dhclient-${tag}.$reason.env"\nexit 0\n`);
  chmodSync(hook, 0o755);
  const pid = join(dir, `dhclient-${tag}.pid`);
  lab.exec(ns, 'timeout', ['30', 'dhclient', '-4', '-1', '-cf', conf, '-sf', hook, '-lf', join(dir, `dhclient-${tag}.leases`), '-pf', pid, ifname], 40_000);
  lab.exec(ns, 'sh', ['-c', `kill $(cat ${pid}) 2>/dev/null; true`]);
  return readEnvFile(join(dir, `dhclient-${tag}.BOUND.env`));
}

/**
 * dhcpcd -s ADDR/24 on a phone link: one DHCPINFORM, read through an ordinary
 * socket as the phone does; checks the exact 43 and 120 and returns the hook's
 * environment (undefined when no INFORM ACK arrived).
 */
function dhcpcdInform(t: Test, lab: RelayLab, dir: string, ns: string, ifname: string, phoneIp: string): Record<string, string> | undefined {
  const conf = join(dir, 'dhcpcd.conf');
  writeFileSync(conf, `vendorclassid MS-UC-Client\ndefine 43 binhex vendor_msuc\ndefine 120 binhex lync_sip\noption 43, 120\nnohook resolv.conf\n`);
  const hook = join(dir, 'dhcpcd.sh');
  writeFileSync(hook, `#!/bin/sh\nenv > "${dir}/dhcpcd.$reason.env"\nexit 0\n`);
  chmodSync(hook, 0o755);
  lab.exec(ns, 'sh', ['-c', `timeout 30 dhcpcd -4 -1 -t 10 -s ${phoneIp}/24 -f ${conf} -c ${hook} ${ifname}; true`], 40_000);
  const files = readdirSync(dir).filter((f) => f.startsWith('dhcpcd.') && f.endsWith('.env'));
  const informed = files.includes('dhcpcd.INFORM.env');
  t.ok(informed, `dhcpcd received the INFORM ACK (hook saw: ${files.join(', ') || 'nothing'})`);
  if (!informed) return undefined;
  const got = readEnvFile(join(dir, 'dhcpcd.INFORM.env'));
  t.equal(got.new_vendor_msuc, EXPECTED_43, 'option 43 byte for byte');
  t.equal(got.new_lync_sip, EXPECTED_120, 'option 120 byte for byte');
  return got;
}

t.test('dhclient through dhcrelay -a: lease on the relayed subnet, option 82 echoed in OFFER and ACK', { skip }, async (t) => {
  const env = await up(t);
  const { lab, dir } = env;
  const got = dhclientBound(lab, dir, lab.phone, lab.phoneIf, 'a');
  t.match(got.new_ip_address, new RegExp(`^${lab.phonePrefix.replace(/\./g, '\\.')}\\.1\\d\\d$`), 'an address of the relayed subnet');
  t.equal(got.new_routers, lab.giaddr);
  t.equal(got.new_dhcp_server_identifier, lab.serverIp);
  const cap = await captured(env);
  t.equal(cap.malformed, '', 'tshark finds no malformed DHCP packet');
  const circuit = hex(lab.relayDownIf);
  const requests = cap.rows.filter((r) => r[0] === '1' || r[0] === '3');
  t.ok(requests.length >= 2 && requests.every((r) => r[4]?.replace(/:/g, '') === circuit), 'dhcrelay added its circuit id to DISCOVER and REQUEST');
  for (const type of ['2', '5']) {
    const reply = cap.rows.find((r) => r[0] === type);
    t.ok(reply, `provlab answered (type ${type})`);
    t.equal(reply![1], lab.giaddr, 'to the relay');
    t.equal(reply![2], '67', 'on the server port (RFC 2131 §4.1)');
    t.equal(reply![4]?.replace(/:/g, ''), circuit, 'option 82 echoed unaltered (RFC 3046 §2.2)');
    t.equal(reply![5]?.replace(/:/g, ''), EXPECTED_43, 'option 43 as the phones need it');
  }
});

t.test('dhcpcd INFORM through dhcrelay: the ACK reaches the phone at ciaddr:68 with 43 and 120', { skip }, async (t) => {
  const env = await up(t);
  const { lab, dir } = env;
  const phoneIp = `${lab.phonePrefix}.77`;
  const got = dhcpcdInform(t, lab, dir, lab.phone, lab.phoneIf, phoneIp);
  if (got) {
    t.notOk(got.new_dhcp_lease_time, 'no lease time in an INFORM ACK');
  }
  lab.exec(lab.phone, 'sh', ['-c', `dhcpcd -x ${lab.phoneIf} >/dev/null 2>&1; true`]);
  const cap = await captured(env);
  t.equal(cap.malformed, '');
  const ack = cap.rows.find((r) => r[0] === '5');
  t.ok(ack, 'provlab answered the relayed INFORM');
  t.equal(ack?.[1], phoneIp, 'to ciaddr, not to the relay (RFC 2131 §4.3.5; Kea and dhcpd do the same)');
  t.equal(ack?.[2], '68', 'on the client port');
  t.equal(ack?.[3], '0.0.0.0', 'no yiaddr in an INFORM ACK');
  t.equal(ack?.[4]?.replace(/:/g, ''), hex(lab.relayDownIf), 'option 82 echoed in the INFORM ACK too');
});

const inPrefix = (prefix: string) => new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.1\\d\\d$`);

for (const agent of [true, false]) {
  t.test(`two staging subnets behind one dhcrelay${agent ? ' -a' : ''}: each phone gets an address of its own scope`, { skip }, async (t) => {
    const env = await up(t, { agent, scopes: true });
    const { lab, dir } = env;
    const a = dhclientBound(lab, dir, lab.phone, lab.phoneIf, 'a');
    t.match(a.new_ip_address, inPrefix(lab.phonePrefix), 'first subnet: an address of dhcp.subnet');
    t.equal(a.new_routers, lab.giaddr, 'its router');
    const b = dhclientBound(lab, dir, lab.phone2, lab.phone2If, 'b');
    t.match(b.new_ip_address, inPrefix(lab.phone2Prefix), 'second subnet: an address of dhcp.scopes[0] (today: "relay is not in subnet", nothing)');
    t.equal(b.new_routers, lab.giaddr2, 'the scope\'s router');
    t.equal(b.new_subnet_mask, '255.255.255.0');
    t.equal(b.new_dhcp_server_identifier, lab.serverIp);
    const cap = await captured(env);
    t.equal(cap.malformed, '', 'tshark finds no malformed DHCP packet');
    const acks = cap.rows.filter((r) => r[0] === '5');
    t.same(acks.map((r) => r[1]).sort(), [lab.giaddr, lab.giaddr2].sort(), 'one ACK to each relay address (giaddr)');
    const b82 = acks.find((r) => r[1] === lab.giaddr2)?.[4]?.replace(/:/g, '') ?? '';
    t.equal(b82, agent ? hex(lab.relayDown2If) : '', agent ? 'option 82 echoed with the second link\'s circuit id' : 'no option 82 without -a');
  });
}

t.test('dhcpcd INFORM on the second staging subnet: the ACK reaches ciaddr:68 with the exact 43 and 120', { skip }, async (t) => {
  const env = await up(t, { scopes: true });
  const { lab, dir } = env;
  const phoneIp = `${lab.phone2Prefix}.77`;
  const got = dhcpcdInform(t, lab, dir, lab.phone2, lab.phone2If, phoneIp);
  t.equal(got?.new_routers, lab.giaddr2, 'the second scope\'s router');
  lab.exec(lab.phone2, 'sh', ['-c', `dhcpcd -x ${lab.phone2If} >/dev/null 2>&1; true`]);
  const cap = await captured(env);
  t.equal(cap.malformed, '');
  const ack = cap.rows.find((r) => r[0] === '5');
  t.equal(ack?.[1], phoneIp, 'to ciaddr');
  t.equal(ack?.[2], '68');
  t.equal(ack?.[4]?.replace(/:/g, ''), hex(lab.relayDown2If), 'option 82 of the second link echoed');
});
