// `decode --pcap` on real exchanges (fixtures/README.md says how each was made).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureFindings, decodeCapture, renderCaptureReport, type CaptureReport, type PacketReport } from '../../src/toolkit/decode-pcap.js';
import { exitCodeFor } from '../../src/toolkit/decode.js';
import { emptyMessage, encodeDhcpMessage } from '../../src/wire/dhcp-message.js';
import { ipUdp, pcap } from '../helpers/capture-files.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
function load(name: string, ports?: number[]): CaptureReport {
  const r = decodeCapture(readFileSync(join(FIXTURES, name)), ports ? { ports } : {});
  if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
  return r.value;
}
const option = (p: PacketReport, code: number) => p.decoded.find((d) => d.code === code);
const codes = (p: PacketReport, code: number) => option(p, code)?.findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity}:${f.code}`);

t.test('dnsmasq with the port unquoted: 01 bb flagged in OFFER and ACK, exit 1', async (t) => {
  const r = load('dnsmasq-unquoted-port.pcap');
  t.same(r.packets.map((p) => p.messageTypeName), ['DHCPDISCOVER', 'DHCPOFFER', 'DHCPREQUEST', 'DHCPACK']);
  for (const p of r.packets.filter((x) => x.op === 2)) {
    t.same(codes(p, 43), ['error:port-binary', 'warning:order', 'warning:end-marker'], `${p.messageTypeName}: 43`);
    t.equal(p.vendorClass, 'MS-UC-Client');
    t.same(option(p, 119)?.decoded, { kind: 'domain-search', names: ['schertz.name', 'corp.schertz.name'], updateLookups: ['ucupdates-r2.schertz.name', 'ucupdates-r2.corp.schertz.name'] });
    t.same(option(p, 120)?.decoded, { kind: 'sip-servers', encoding: 0, names: ['lyncpool.schertz.name'], addresses: [] });
    t.equal(p.status, 'error');
  }
  for (const p of r.packets.filter((x) => x.op === 1)) {
    t.same(option(p, 60)?.decoded, { kind: 'vendor-class', text: 'MS-UC-Client' });
    t.ok(option(p, 55), 'the request list is decoded');
    t.equal(p.mac, '02:00:00:aa:bb:cc');
  }
  t.equal(r.status, 'error');
  t.equal(exitCodeFor(captureFindings(r)), 1);
  const text = renderCaptureReport(r).join('\n');
  t.match(text, '443 sent as a 16-bit integer');
  t.match(text, 'DHCPOFFER');
  t.match(text, '10.99.79.1:67 → ');
  t.match(text, 'result: a phone would fail with these answers');
});

t.test('dnsmasq with "443" quoted: only the 0xFF and the order remain (exit 0)', async (t) => {
  const r = load('dnsmasq-quoted-port.pcapng');
  const ack = r.packets.find((p) => p.messageTypeName === 'DHCPACK')!;
  t.same(codes(ack, 43), ['warning:order', 'warning:end-marker']);
  const url = option(ack, 43)?.decoded;
  t.equal(url?.kind === 'ms-uc-client' && url.certProvUrl, 'https://lyncweb.schertz.name:443/CertProv/CertProvisioningService.svc');
  t.equal(exitCodeFor(captureFindings(r)), 0);
  t.equal(exitCodeFor(captureFindings(r), true), 1);
});

t.test("provlab's own answers to udhcpc are clean; the ACK's vendor class comes from the request", async (t) => {
  const r = load('provlab-udhcpc.pcapng');
  t.equal(r.status, 'ok');
  t.equal(exitCodeFor(captureFindings(r), true), 0);
  const ack = r.packets.find((p) => p.messageTypeName === 'DHCPACK')!;
  t.notOk(ack.options.some((o) => o.code === 60), 'provlab does not echo option 60');
  t.equal(ack.vendorClass, 'MS-UC-Client', 'taken from the REQUEST with the same xid');
  const d = option(ack, 43)?.decoded;
  t.equal(d?.kind === 'ms-uc-client' && d.certProvUrl, 'https://lyncweb.schertz.name:443/CertProv/CertProvisioningService.svc');
  t.same(option(ack, 119)?.findings, []);
  t.same(option(ack, 120)?.findings, []);
  t.match(ack.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  t.ok(ack.relative > 0);
  t.match(renderCaptureReport(r).join('\n'), 'vendor class "MS-UC-Client" (from the request)');
  // The same exchange from the other encodings.
  for (const name of ['provlab-udhcpc.nsec.pcap', 'provlab-udhcpc.be.pcap', 'provlab-udhcpc.rawip.pcap', 'provlab-udhcpc.spb.pcapng']) {
    const other = load(name);
    t.same(other.packets.map((p) => [p.messageTypeName, p.xid, p.status]), r.packets.map((p) => [p.messageTypeName, p.xid, p.status]), name);
  }
});

t.test('a DHCPINFORM on tagged VLAN 100', async (t) => {
  const r = load('provlab-vlan100-inform.pcap');
  t.ok(r.packets.every((p) => p.vlans.length === 1 && p.vlans[0] === 100));
  const inform = r.packets.find((p) => p.messageTypeName === 'DHCPINFORM')!;
  t.equal(inform.ciaddr, '10.99.78.77');
  t.equal(inform.vendorClass, 'MS-UC-Client');
  const ack = r.packets.find((p) => p.messageTypeName === 'DHCPACK')!;
  t.equal(ack.dst, '10.99.78.77', 'unicast to ciaddr');
  t.equal(ack.yiaddr, '0.0.0.0');
  t.notOk(ack.options.some((o) => o.code === 51), 'no lease time in an INFORM ACK');
  t.equal(ack.status, 'ok');
  t.match(renderCaptureReport(r).join('\n'), 'VLAN 100');
});

t.test('ports, other vendors, unreadable packets, files that are not captures', async (t) => {
  t.notOk(decodeCapture(Buffer.from('not a capture at all')).ok);
  // A BOOTREPLY to a PXE client on provlab's loopback port 6767, in a raw-IP pcap built here.
  const msg = emptyMessage();
  msg.xid = 0x01020304;
  msg.options.set(53, Uint8Array.of(5));
  msg.options.set(60, Buffer.from('PXEClient'));
  msg.options.set(43, Uint8Array.of(6, 1, 8, 255));
  const dhcp = encodeDhcpMessage(msg);
  if (!dhcp.ok) throw new Error(dhcp.error.message);
  // The second datagram holds 4 bytes of a BOOTREPLY: too short to read.
  const file = pcap(101 /* LINKTYPE_RAW */, [ipUdp(dhcp.value, 6767, 6767), ipUdp(Uint8Array.of(2, 1, 6, 0), 6767, 6767)]);
  const none = decodeCapture(file);
  t.same(none.ok && none.value.packets, [], 'port 6767 is not DHCP by default');
  t.match(renderCaptureReport(none.ok ? none.value : ({} as CaptureReport)).join('\n'), 'no DHCP packets');
  const r = decodeCapture(file, { ports: [67, 68, 6767] });
  if (!r.ok) return t.fail(r.error.message);
  t.equal(r.value.packets.length, 2);
  const pxe = r.value.packets[0]!;
  t.equal(pxe.vendorClass, 'PXEClient');
  t.equal(option(pxe, 43)?.decoded.kind, 'encapsulated', "another vendor's 43 is not read as MS-UC-Client");
  t.same(codes(pxe, 43), []);
  const bad = r.value.packets[1]!;
  t.equal(bad.messageType, null);
  t.same(bad.findings.map((f) => `${f.severity}:${f.code}`), ['error:dhcp-too-short'], 'an unreadable BOOTREPLY is an error');
  t.doesNotThrow(() => JSON.stringify(r.value));
});
