// tools/wireshark/ms-uc-client.lua in the real tshark, on captures of
// provlab's own answers and dnsmasq's (fixtures/README.md).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { which } from '../helpers/netns.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LUA = join(ROOT, 'tools', 'wireshark', 'ms-uc-client.lua');
const FIXTURES = join(ROOT, 'test', 'toolkit', 'fixtures');

const skip = which('tshark') ? false : process.env.CI === 'true' ? (t.fail('CI=true and tshark is missing'), false) : 'tshark is not installed';

const tshark = (args: string[]) => execFileSync('tshark', ['-X', `lua_script:${LUA}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

t.test("provlab's own ACK: every sub-option named, with its value, and the URL", { skip }, async (t) => {
  const out = tshark(['-V', '-r', join(FIXTURES, 'provlab-udhcpc.pcapng'), '-Y', 'dhcp.option.dhcp == 5']);
  t.match(out, 'MS-UC-Client vendor-specific information (Lync Phone Edition, DHCP option 43)');
  t.match(out, 'Sub-option 1: UCIdentifier: MS-UC-Client');
  t.match(out, 'Sub-option 2: URLScheme: https');
  t.match(out, 'Sub-option 3: WebServerFqdn: lyncweb.schertz.name');
  t.match(out, 'Sub-option 4: WebServerPort: 443');
  t.match(out, 'Sub-option 5: CertProvRelPath: /CertProv/CertProvisioningService.svc');
  t.match(out, '[Certificate Provisioning URL: https://lyncweb.schertz.name:443/CertProv/CertProvisioningService.svc]');
  t.match(out, '[Vendor class (from the request): MS-UC-Client]', 'the ACK has no option 60: the class comes from the REQUEST');
  t.notMatch(out, 'Expert Info', 'no warning on the known-good form');
});

t.test('fields for filters and -T fields, also without -V', { skip }, async (t) => {
  const out = tshark(['-r', join(FIXTURES, 'provlab-vlan100-inform.pcap'), '-Y', 'msucclient', '-T', 'fields', '-E', 'separator=|', '-e', 'vlan.id', '-e', 'msucclient.uc_identifier', '-e', 'msucclient.url_scheme', '-e', 'msucclient.web_server_fqdn', '-e', 'msucclient.web_server_port', '-e', 'msucclient.cert_prov_rel_path', '-e', 'msucclient.cert_prov_url']);
  t.equal(out.trim(), '100|MS-UC-Client|https|lyncweb.schertz.name|443|/CertProv/CertProvisioningService.svc|https://lyncweb.schertz.name:443/CertProv/CertProvisioningService.svc', 'the INFORM ACK on VLAN 100');
});

t.test("dnsmasq's mistakes raise expert infos", { skip }, async (t) => {
  const out = tshark(['-V', '-r', join(FIXTURES, 'dnsmasq-unquoted-port.pcap'), '-Y', 'dhcp.option.dhcp == 5']);
  t.match(out, 'Sub-option 4: WebServerPort: \\x01\\xbb (443 as a 16-bit integer)');
  t.match(out, 'Expert Info (Error/Protocol): WebServerPort is 443 sent as a 16-bit integer');
  t.match(out, 'Expert Info (Warning/Sequence): Sub-options not in ascending order');
  t.match(out, 'Expert Info (Warning/Protocol): 0xFF end marker inside option 43');
  t.match(out, 'End marker: 0xff');
  const experts = tshark(['-r', join(FIXTURES, 'dnsmasq-unquoted-port.pcap'), '-Y', 'msucclient.port_binary', '-T', 'fields', '-e', 'frame.number']);
  t.same(experts.trim().split('\n'), ['2', '4'], 'filterable: OFFER and ACK');
});

t.test('without the request in the capture, recognised by its content', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'provlab-lua-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const only = join(dir, 'ack-only.pcapng');
  execFileSync('tshark', ['-r', join(FIXTURES, 'provlab-udhcpc.pcapng'), '-Y', 'dhcp.option.dhcp == 5', '-w', only], { stdio: 'ignore' });
  const out = tshark(['-V', '-r', only]);
  t.match(out, 'Sub-option 3: WebServerFqdn: lyncweb.schertz.name');
  t.match(out, 'Vendor class not in the capture: recognised by its content');
});

t.test('other vendors are left alone', { skip }, async (t) => {
  // The PXE and other option 43 layouts stay Wireshark's: nothing of ours appears for DISCOVERs.
  const out = tshark(['-r', join(FIXTURES, 'provlab-udhcpc.pcapng'), '-Y', 'msucclient', '-T', 'fields', '-e', 'frame.number']);
  t.same(out.trim().split('\n'), ['3', '5'], 'only the OFFER and the ACK carry option 43');
});
