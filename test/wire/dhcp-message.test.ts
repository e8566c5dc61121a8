import t from 'tap';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DHCP_MAGIC, MessageType, decodeDhcpMessage, emptyMessage, encodeDhcpMessage, macOf, messageTypeName, messageTypeOf, type DhcpMessage } from '../../src/wire/dhcp-message.js';
import { decodeSearchList } from '../../src/wire/rfc3397-search.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

// ---------------------------------------------------------------------------
// A real client packet from an independent source: a Windows XP ("MSFT 5.0")
// DHCPDISCOVER frame, Ethernet + IPv4 + UDP + BOOTP, 342 bytes, published as
// DHCP_DISCOVER[] in the TrendChip tc3162 ADSL driver (GitHub HyGw/test,
// tclinux_phoenix/modules/private/tc3162l2hp2h/autoPVC.c). Rows 6..17 of the
// original are all zero. Its IPv4 and UDP checksums are checked with tshark
// below, which proves the transcription is byte-exact.
const WINDOWS_DISCOVER_FRAME = hex(
  [
    'ff ff ff ff ff ff 00 00 1c da 29 4b 08 00 45 00',
    '01 48 00 0a 00 00 80 11 39 9c 00 00 00 00 ff ff',
    'ff ff 00 44 00 43 01 34 e4 81 01 01 06 00 5b ec',
    'd7 ca 00 00 00 00 00 00 00 00 00 00 00 00 00 00',
    '00 00 00 00 00 00 00 00 1c da 29 4b 00 00 00 00',
    '00'.repeat(12 * 16),
    '00 00 00 00 00 00 63 82 53 63 35 01 01 74 01 01',
    '3d 07 01 00 00 1c da 29 4b 0c 0f 74 63 2d 65 34',
    '66 36 65 64 32 66 35 62 38 37 3c 08 4d 53 46 54',
    '20 35 2e 30 37 0b 01 0f 03 06 2c 2e 2f 1f 21 f9',
    '2b ff 00 00 00 00',
  ].join(''),
);
const WINDOWS_DISCOVER = WINDOWS_DISCOVER_FRAME.subarray(14 + 20 + 8);

// From docs/lpe-facts.md (DHCPUtil) and RFC 3397.
const DHCPUTIL_43 = hex(
  '010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D040334343305252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663',
);
const DHCPUTIL_120 = hex('0006736572766572046671646E07636F6D70616E7903636F6D00');
const RFC3397_119 = hex('03 65 6e 67 05 61 70 70 6c 65 03 63 6f 6d 00 09 6d 61 72 6b 65 74 69 6e 67 c0 04');

// ---------------------------------------------------------------------------
// tshark: the third-party decoder. Frames go into a classic pcap file.

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

const TSHARK = '/usr/bin/tshark';
const tsharkThere = spawnSync(TSHARK, ['-v'], { encoding: 'utf8' }).status === 0;

function pcap(frames: Uint8Array[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const parts: Buffer[] = [header];
  frames.forEach((f, i) => {
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

/** Server -> client frame: Ethernet broadcast, IPv4 10.20.0.1 -> 255.255.255.255, UDP 67 -> 68, no UDP checksum. */
function replyFrame(payload: Uint8Array): Uint8Array {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  ip.set([10, 20, 0, 1], 12);
  ip.set([255, 255, 255, 255], 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(67, 0);
  udp.writeUInt16BE(68, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([hex('ffffffffffff 020000000001 0800'), ip, udp, payload]);
}

/** Runs tshark over the frames; returns the -V text and the expert summary. */
function tshark(frames: Uint8Array[], extra: string[] = []): { verbose: string; expert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'provlab-wire-'));
  try {
    const file = join(dir, 'capture.pcap');
    writeFileSync(file, pcap(frames));
    const verbose = spawnSync(TSHARK, ['-r', file, '-V', ...extra], { encoding: 'utf8' });
    const expert = spawnSync(TSHARK, ['-r', file, '-q', '-z', 'expert', ...extra], { encoding: 'utf8' });
    if (verbose.status !== 0 || expert.status !== 0) throw new Error(`tshark failed: ${verbose.stderr}${expert.stderr}`);
    return { verbose: verbose.stdout, expert: expert.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Skips without tshark, except in CI where its absence is a failure. */
function withTshark(t: Tap, name: string, fn: (t: Tap) => void): void {
  if (!tsharkThere) {
    if (process.env.CI === 'true') t.fail(`${TSHARK} is required in CI (apt-get install tshark)`);
    else t.test(name, { skip: `${TSHARK} not installed` }, async () => undefined);
    return;
  }
  t.test(name, async (t) => fn(t));
}

/** No Error or Warning expert info, nothing malformed. Notes (e.g. "option overloaded") are fine. */
function assertClean(t: Tap, out: { verbose: string; expert: string }): void {
  t.notMatch(out.verbose, /Malformed/, 'nothing malformed');
  t.notMatch(out.expert, /^(Errors|Warns) \(/m, 'no error or warning expert info');
}

// ---------------------------------------------------------------------------

function reply(): DhcpMessage {
  const m = emptyMessage();
  m.op = 2;
  m.xid = 0x5becd7ca;
  m.yiaddr = '10.20.0.50';
  m.chaddr = hex('00001cda294b 00000000000000000000');
  m.options.set(53, Uint8Array.of(MessageType.ACK));
  m.options.set(54, hex('0a140001'));
  m.options.set(51, hex('00015180'));
  m.options.set(1, hex('ffffff00'));
  m.options.set(3, hex('0a140001'));
  m.options.set(6, hex('0a140001'));
  m.options.set(15, ascii('contoso.local'));
  m.options.set(42, hex('0a140001'));
  m.options.set(4, hex('0a140001'));
  m.options.set(119, RFC3397_119);
  m.options.set(120, DHCPUTIL_120);
  m.options.set(43, DHCPUTIL_43);
  return m;
}

/** Option values as hex, in Map order. */
const optionList = (m: DhcpMessage) => [...m.options].map(([code, v]) => [code, toHex(v)]);
const sortedOptions = (m: DhcpMessage) => optionList(m).sort((a, b) => Number(a[0]) - Number(b[0]));

/** Handcrafted message: a 240-byte header with cookie, then `options`; `file`/`sname` bytes placed in their fields. */
function raw(options: string, fields: { file?: string; sname?: string; cookie?: string } = {}): Uint8Array {
  const head = new Uint8Array(240);
  head.set([1, 1, 6, 0], 0);
  head.set(hex(fields.cookie ?? '63825363'), 236);
  if (fields.sname) head.set(hex(fields.sname), 44);
  if (fields.file) head.set(hex(fields.file), 108);
  const out = new Uint8Array(240 + hex(options).length);
  out.set(head, 0);
  out.set(hex(options), 240);
  return out;
}

const code = (r: { ok: boolean; error?: { code: string } }) => (r.ok ? 'ok' : r.error?.code);

// ---------------------------------------------------------------------------

t.test('constants', async (t) => {
  t.equal(DHCP_MAGIC, 0x63825363, 'RFC 2131 §3: 99.130.83.99');
  t.same(
    [MessageType.DISCOVER, MessageType.OFFER, MessageType.REQUEST, MessageType.DECLINE, MessageType.ACK, MessageType.NAK, MessageType.RELEASE, MessageType.INFORM],
    [1, 2, 3, 4, 5, 6, 7, 8],
    'RFC 2132 §9.6',
  );
});

withTshark(t, 'the Windows DISCOVER fixture is byte-exact (tshark checks its IPv4 and UDP checksums)', (t) => {
  const out = tshark([WINDOWS_DISCOVER_FRAME], ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE']);
  t.match(out.verbose, /Header Checksum: 0x399c \[correct\]/);
  t.match(out.verbose, /Checksum: 0xe481 \[correct\]/);
  t.match(out.verbose, /Host Name: tc-e4f6ed2f5b87/);
});

t.test('decodes a real Windows DHCPDISCOVER', async (t) => {
  t.equal(WINDOWS_DISCOVER.length, 300);
  const r = decodeDhcpMessage(WINDOWS_DISCOVER);
  t.ok(r.ok);
  if (!r.ok) return;
  const m = r.value;
  t.same([m.op, m.htype, m.hlen, m.hops, m.xid, m.secs, m.flags], [1, 1, 6, 0, 0x5becd7ca, 0, 0]);
  t.same([m.ciaddr, m.yiaddr, m.siaddr, m.giaddr], ['0.0.0.0', '0.0.0.0', '0.0.0.0', '0.0.0.0']);
  t.equal(macOf(m), '00:00:1c:da:29:4b');
  t.equal(messageTypeOf(m), MessageType.DISCOVER);
  t.same(optionList(m), [
    [53, '01'],
    [116, '01'],
    [61, '0100001cda294b'],
    [12, toHex(ascii('tc-e4f6ed2f5b87'))],
    [60, toHex(ascii('MSFT 5.0'))],
    [55, '010f03062c2e2f1f21f92b'],
  ]);
  t.equal(m.chaddr.length, 16);
  t.equal(m.sname.length, 64);
  t.equal(m.file.length, 128);
  t.ok(m.sname.every((b) => b === 0) && m.file.every((b) => b === 0));

  const again = encodeDhcpMessage(m);
  t.ok(again.ok);
  if (again.ok) t.equal(toHex(again.value), toHex(WINDOWS_DISCOVER), 'encode(decode(packet)) gives the captured bytes back');
});

t.test('encode: the RFC 2131 §2 layout, byte by byte', async (t) => {
  const m = emptyMessage();
  Object.assign(m, { op: 2, htype: 1, hlen: 6, hops: 3, xid: 0x01020304, secs: 0x0506, flags: 0x8000 });
  Object.assign(m, { ciaddr: '10.0.0.1', yiaddr: '10.0.0.2', siaddr: '10.0.0.3', giaddr: '10.0.0.4' });
  m.chaddr = hex('aabbccddeeff');
  m.sname = ascii('srv');
  m.file = ascii('boot.bin');
  m.options.set(53, Uint8Array.of(2));
  const r = encodeDhcpMessage(m);
  t.ok(r.ok);
  if (!r.ok) return;
  const b = r.value;
  t.equal(b.length, 300, 'padded to the BOOTP minimum');
  t.equal(toHex(b.subarray(0, 28)), '02010603' + '01020304' + '0506' + '8000' + '0a000001' + '0a000002' + '0a000003' + '0a000004');
  t.equal(toHex(b.subarray(28, 44)), 'aabbccddeeff' + '00'.repeat(10), 'chaddr, zero-padded to 16');
  t.equal(toHex(b.subarray(44, 108)), toHex(ascii('srv')) + '00'.repeat(61), 'sname');
  t.equal(toHex(b.subarray(108, 236)), toHex(ascii('boot.bin')) + '00'.repeat(120), 'file');
  t.equal(toHex(b.subarray(236, 240)), '63825363', 'magic cookie');
  t.equal(toHex(b.subarray(240, 244)), '350102ff', 'option 53, then end');
  t.ok(b.subarray(244).every((x) => x === 0), 'zero padding');
});

t.test('encode: sizes', async (t) => {
  const m = emptyMessage();
  m.options.set(43, new Uint8Array(200));
  const r = encodeDhcpMessage(m);
  t.equal(r.ok && r.value.length, 240 + 202 + 1, 'over 300 bytes: no padding');
  const empty = encodeDhcpMessage(emptyMessage());
  t.equal(empty.ok && toHex(empty.value.subarray(236, 242)), '63825363ff00', 'no options: just the end option');
  // Exactly 576 fits without overload at the default limit; 577 does not.
  const fits = emptyMessage();
  fits.options.set(43, new Uint8Array(255));
  fits.options.set(60, new Uint8Array(76)); // 240 + 257 + 78 + 1 = 576
  const a = encodeDhcpMessage(fits);
  t.same(a.ok && [a.value.length, a.value[240], a.value[497], a.value[575]], [576, 43, 60, 255], 'options in place, end at the last byte, no 52');
  fits.options.set(60, new Uint8Array(77));
  const b = encodeDhcpMessage(fits);
  t.ok(b.ok, '577 bytes of options still fit, with overload');
  if (b.ok) {
    t.ok(b.value.length <= 576, 'within the default 576');
    const back = decodeDhcpMessage(b.value);
    t.same(back.ok && sortedOptions(back.value), sortedOptions(fits));
  }
  const big = encodeDhcpMessage(fits, { maxSize: 1500 });
  t.equal(big.ok && big.value.length, 577, 'a bigger maxSize avoids overload');
});

t.test('RFC 3396: long options are split into consecutive instances and joined on read', async (t) => {
  // 30 names of 21..22 bytes: an option 119 of 650 bytes, cut at 255 and 510, inside labels.
  const names = Array.from({ length: 30 }, (_, i) => `host${i}.contoso.local`);
  const list = Uint8Array.from(Buffer.concat(names.map((n) => Buffer.from(n.split('.').map((l) => String.fromCharCode(l.length) + l).join('') + '\0', 'latin1'))));
  t.equal(list.length, 650);
  const m = emptyMessage();
  m.options.set(53, Uint8Array.of(5));
  m.options.set(119, list);
  m.options.set(3, hex('0a140001'));
  const r = encodeDhcpMessage(m, { maxSize: 1500 });
  t.ok(r.ok);
  if (!r.ok) return;
  const b = r.value;
  t.equal(toHex(b.subarray(240, 243)), '350105');
  t.equal(toHex(b.subarray(243, 245)), '77ff', 'first instance: 255 bytes');
  t.equal(toHex(b.subarray(500, 502)), '77ff', 'second instance right after: 255 bytes');
  t.equal(toHex(b.subarray(757, 759)), '778c', 'third instance: 140 bytes');
  t.equal(toHex(b.subarray(899, 906)), '03040a140001ff', 'then option 3 and the end option');
  const back = decodeDhcpMessage(b);
  t.ok(back.ok);
  if (!back.ok) return;
  t.same(optionList(back.value), optionList(m), 'joined again, same order');
  t.same(decodeSearchList(back.value.options.get(119)!), { ok: true, value: names });

  // Instances need not be adjacent; joined in the order met, first-seen order kept.
  const split = decodeDhcpMessage(raw('0f07 636f6e746f736f 0304 0a140001 0f06 2e6c6f63616c ff'));
  t.same(split.ok && optionList(split.value), [
    [15, toHex(ascii('contoso.local'))],
    [3, '0a140001'],
  ]);
  withTshark(t, 'tshark joins the instances', (t) => {
    const out = tshark([replyFrame(b)]);
    assertClean(t, out);
    t.match(out.verbose, /FQDN: host0\.contoso\.local/);
    t.match(out.verbose, /FQDN: host29\.contoso\.local/);
  });
});

t.test('overload on read (RFC 2132 §9.3): options, then file, then sname', async (t) => {
  // 52 = 3; option 15 starts in file and continues in sname; option 3 sits in sname.
  const both = decodeDhcpMessage(
    raw('350105 340103 ff', {
      file: '0f07 636f6e746f736f ff',
      sname: '0f06 2e6c6f63616c 0304 0a140001 ff',
    }),
  );
  t.ok(both.ok);
  if (both.ok) {
    t.same(optionList(both.value), [
      [53, '05'],
      [15, toHex(ascii('contoso.local'))],
      [3, '0a140001'],
    ], '52 itself is framing and is not kept');
    t.ok(both.value.file.every((x) => x === 0) && both.value.file.length === 128, 'file returned zeroed');
    t.ok(both.value.sname.every((x) => x === 0) && both.value.sname.length === 64, 'sname returned zeroed');
  }
  // 52 = 1: file only; sname is a server name and stays as it is.
  const fileOnly = decodeDhcpMessage(raw('340101', { file: '0304 0a140001', sname: toHex(ascii('srv\x03\x04abcd')) }));
  t.ok(fileOnly.ok);
  if (fileOnly.ok) {
    t.same(optionList(fileOnly.value), [[3, '0a140001']], 'missing end options are tolerated in file too');
    t.equal(Buffer.from(fileOnly.value.sname.subarray(0, 9)).toString('latin1'), 'srv\x03\x04abcd');
  }
  // 52 = 2: sname only; file is a boot file name.
  const snameOnly = decodeDhcpMessage(raw('340102 ff', { sname: '0304 0a140001 ff', file: toHex(ascii('pxelinux.0')) }));
  t.ok(snameOnly.ok);
  if (snameOnly.ok) {
    t.same(optionList(snameOnly.value), [[3, '0a140001']]);
    t.equal(Buffer.from(snameOnly.value.file.subarray(0, 10)).toString('latin1'), 'pxelinux.0');
  }
  t.equal(code(decodeDhcpMessage(raw('340101 ff', { file: '00'.repeat(120) + '0f20 6162' }))), 'truncated-option', 'an option that runs past the end of file');
  t.equal(code(decodeDhcpMessage(raw('340101 ff', { file: '0f20 6162' }))), 'ok', 'the same option early in file fits (zeros are its data)');
  t.equal(code(decodeDhcpMessage(raw('340102 ff', { sname: '00'.repeat(63) + '0f' }))), 'truncated-option', 'a code byte at the very end of sname');
  t.equal(code(decodeDhcpMessage(raw('340104 ff'))), 'bad-overload', 'value 4');
  t.equal(code(decodeDhcpMessage(raw('340100 ff'))), 'bad-overload', 'value 0');
  t.equal(code(decodeDhcpMessage(raw('34020103 ff'))), 'bad-overload', 'two bytes');
  t.equal(code(decodeDhcpMessage(raw('3400 ff'))), 'bad-overload', 'no bytes');
});

t.test('overload on write', async (t) => {
  // The phone's reply with a long search list: 546 bytes of options at a 548-byte limit.
  const m = reply();
  const list = Array.from({ length: 12 }, (_, i) => `host${i}.contoso.local`);
  const list119 = Uint8Array.from(Buffer.concat(list.map((n) => Buffer.from(n.split('.').map((l) => String.fromCharCode(l.length) + l).join('') + '\0', 'latin1'))));
  t.equal(list119.length, 254);
  m.options.set(119, list119);
  const r = encodeDhcpMessage(m, { maxSize: 548 });
  t.ok(r.ok);
  if (!r.ok) return;
  t.ok(r.value.length <= 548, `${r.value.length} bytes, within 548`);
  t.equal(toHex(r.value.subarray(240, 243)), '350105', 'the message type stays first in the options field');
  const back = decodeDhcpMessage(r.value);
  t.ok(back.ok);
  if (!back.ok) return;
  t.same(sortedOptions(back.value), sortedOptions(m), 'every option comes back');
  t.notOk(r.value.subarray(44, 236).every((x) => x === 0), 'sname/file carry options');
  // Find option 52 in the options field by walking it.
  let p = 240;
  let overload = -1;
  while (r.value[p] !== 255) {
    if (r.value[p] === 52) overload = r.value[p + 2]!;
    p += 2 + r.value[p + 1]!;
  }
  t.equal(overload, 3, 'option 52 says file and sname');
  withTshark(t, 'tshark reads the overloaded reply', (t) => {
    const out = tshark([replyFrame(r.value)]);
    assertClean(t, out);
    t.match(out.verbose, /Option: \(52\) Option Overload/);
    t.match(out.verbose, /Boot file name option overload/);
    t.match(out.verbose, /FQDN: host11\.contoso\.local/);
    t.match(out.verbose, /SIP Server Name: server\.fqdn\.company\.com/);
  });

  // A boot file name in use: only sname may carry options.
  const withFile = reply();
  withFile.file = ascii('boot.bin');
  withFile.options.set(66, ascii('tftp.contoso.local'));
  withFile.options.set(12, ascii('phone-0001'));
  withFile.options.set(81, new Uint8Array(100));
  const wf = encodeDhcpMessage(withFile, { maxSize: 548 });
  t.ok(wf.ok);
  if (wf.ok) {
    const d = decodeDhcpMessage(wf.value);
    t.same(d.ok && sortedOptions(d.value), sortedOptions(withFile));
    t.equal(d.ok && Buffer.from(d.value.file.subarray(0, 8)).toString('latin1'), 'boot.bin', 'the boot file name survives');
    t.equal(d.ok && d.value.sname.every((x) => x === 0), true, 'sname was used for options');
  }
  // Both fields in use: nowhere to go.
  withFile.sname = ascii('server');
  t.equal(code(encodeDhcpMessage(withFile, { maxSize: 548 })), 'too-big');
});

t.test('overload on write never cuts an option of 255 bytes or less', async (t) => {
  // At 300 bytes: 56 bytes in the options field, 127 in file, 63 in sname. A
  // 200-byte option fits whole nowhere: too big, though the bytes would add up.
  const m = emptyMessage();
  m.options.set(53, Uint8Array.of(5));
  m.options.set(43, new Uint8Array(200).fill(7));
  const r = encodeDhcpMessage(m, { maxSize: 300 });
  t.equal(code(r), 'too-big');
  t.match(r.ok ? '' : r.error.message, /option 43/);
  // A value over 255 bytes must be cut anyway, so its pieces may fill the fields in read order.
  const long = emptyMessage();
  long.options.set(53, Uint8Array.of(5));
  long.options.set(224, Uint8Array.from({ length: 400 }, (_, i) => i & 0xff));
  const lr = encodeDhcpMessage(long, { maxSize: 548 });
  t.ok(lr.ok);
  if (!lr.ok) return;
  t.ok(lr.value.length <= 548);
  const back = decodeDhcpMessage(lr.value);
  t.same(back.ok && optionList(back.value), optionList(long), 'pieces joined in order across the fields');
  withTshark(t, 'tshark reads it', (t) => assertClean(t, tshark([replyFrame(lr.value)])));
});

t.test('overload on write keeps the pieces of a long option in order, whichever option it is', async (t) => {
  // Found by the property below: a 256-byte option 53 (absurd, but legal input) once came back as its last byte first.
  const m = emptyMessage();
  m.options.set(53, Uint8Array.from({ length: 256 }, (_, i) => (i === 255 ? 1 : 0)));
  const r = encodeDhcpMessage(m, { maxSize: 318 });
  t.ok(r.ok);
  if (!r.ok) return;
  const back = decodeDhcpMessage(r.value);
  t.same(back.ok && optionList(back.value), optionList(m));
});

withTshark(t, 'tshark decodes a plain reply without complaint', (t) => {
  const r = encodeDhcpMessage(reply(), { maxSize: 1500 });
  t.ok(r.ok);
  if (!r.ok) return;
  t.ok(r.value.subarray(44, 236).every((x) => x === 0), 'no overload needed: sname and file stay empty');
  const out = tshark([replyFrame(r.value)]);
  assertClean(t, out);
  t.notMatch(out.expert, /^(Errors|Warns|Notes) \(/m, 'no expert info at all');
  t.match(out.verbose, /Dynamic Host Configuration Protocol \(ACK\)/);
  t.match(out.verbose, /Transaction ID: 0x5becd7ca/);
  t.match(out.verbose, /Your \(client\) IP address: 10\.20\.0\.50/);
  t.match(out.verbose, /Client MAC address: .*\(00:00:1c:da:29:4b\)/);
  t.match(out.verbose, /IP Address Lease Time: \(86400s\) 1 day/);
  t.match(out.verbose, /Domain Name: contoso\.local/);
  t.match(out.verbose, /FQDN: eng\.apple\.com\n\s+FQDN: marketing\.apple\.com/);
  t.match(out.verbose, /SIP Server Encoding: Fully Qualified Domain Name \(0\)\n\s+SIP Server Name: server\.fqdn\.company\.com/);
  t.match(out.verbose, /Option: \(43\) Vendor-Specific Information\n\s+Length: 90/);
  t.match(out.verbose, /Option: \(255\) End/);
});

t.test('decode failures', async (t) => {
  t.equal(code(decodeDhcpMessage(new Uint8Array(239))), 'too-short');
  t.equal(code(decodeDhcpMessage(new Uint8Array(0))), 'too-short');
  t.equal(code(decodeDhcpMessage(raw('ff', { cookie: '63825364' }))), 'bad-cookie');
  t.equal(code(decodeDhcpMessage(raw('ff', { cookie: '00000000' }))), 'bad-cookie', 'plain BOOTP');
  const hlen = raw('ff');
  hlen[2] = 17;
  t.equal(code(decodeDhcpMessage(hlen)), 'bad-hlen');
  hlen[2] = 16;
  t.equal(code(decodeDhcpMessage(hlen)), 'ok', 'hlen 16 is the most chaddr holds');
  const cut = decodeDhcpMessage(raw('350101 0f05 6162'));
  t.same(cut.ok ? null : [cut.error.code, cut.error.offset], ['truncated-option', 243]);
  t.equal(code(decodeDhcpMessage(raw('350101 0f'))), 'truncated-option', 'a code byte with no length byte');
});

t.test('decode leniency', async (t) => {
  t.same(
    (() => {
      const r = decodeDhcpMessage(raw('350101 3d0701aabbccddeeff'));
      return r.ok && optionList(r.value);
    })(),
    [
      [53, '01'],
      [61, '01aabbccddeeff'],
    ],
    'no end option, no padding',
  );
  const padded = decodeDhcpMessage(raw('00 00 350103 00 0c03616263 ff 0f20 garbage'.replace('garbage', 'deadbeef')));
  t.same(padded.ok && optionList(padded.value), [
    [53, '03'],
    [12, '616263'],
  ], 'pads skipped, nothing after the end option read');
  const zeroLength = decodeDhcpMessage(raw('5000 ff'));
  t.same(zeroLength.ok && optionList(zeroLength.value), [[80, '']], 'a zero-length option (rapid commit) is kept');
  t.equal(code(decodeDhcpMessage(raw(''))), 'ok', 'a bare 240-byte header');
});

t.test('encode failures', async (t) => {
  const bad = (change: (m: DhcpMessage) => void) => {
    const m = emptyMessage();
    change(m);
    return code(encodeDhcpMessage(m));
  };
  t.equal(bad(() => undefined), 'ok');
  t.equal(bad((m) => (m.yiaddr = '10.0.0')), 'bad-field');
  t.equal(bad((m) => (m.giaddr = '')), 'bad-field');
  t.equal(bad((m) => (m.chaddr = new Uint8Array(17))), 'bad-field');
  t.equal(bad((m) => (m.sname = new Uint8Array(65))), 'bad-field');
  t.equal(bad((m) => (m.file = new Uint8Array(129))), 'bad-field');
  t.equal(bad((m) => (m.hlen = 17)), 'bad-field');
  t.equal(bad((m) => (m.op = 256)), 'bad-field');
  t.equal(bad((m) => (m.xid = -1)), 'bad-field');
  t.equal(bad((m) => (m.xid = 2 ** 32)), 'bad-field');
  t.equal(bad((m) => (m.secs = 65536)), 'bad-field');
  t.equal(bad((m) => (m.flags = 1.5)), 'bad-field');
  t.equal(bad((m) => m.options.set(0, new Uint8Array(1))), 'bad-field', 'pad');
  t.equal(bad((m) => m.options.set(255, new Uint8Array(0))), 'bad-field', 'end');
  t.equal(bad((m) => m.options.set(52, Uint8Array.of(3))), 'bad-field', 'overload is the encoder\'s');
  t.equal(bad((m) => m.options.set(43, new Uint8Array(2000))), 'too-big');
});

t.test('helpers', async (t) => {
  const m = emptyMessage();
  t.same([m.op, m.htype, m.hlen, m.xid, m.ciaddr, m.chaddr.length, m.sname.length, m.file.length, m.options.size], [2, 1, 6, 0, '0.0.0.0', 16, 64, 128, 0]);
  const other = emptyMessage();
  other.chaddr[0] = 1;
  other.options.set(1, new Uint8Array(4));
  t.same([m.chaddr[0], m.options.size], [0, 0], 'each call gives fresh arrays and a fresh map');
  m.chaddr = hex('0004F29531A2 ffff');
  t.equal(macOf(m), '00:04:f2:95:31:a2', 'first hlen bytes, lower case');
  m.hlen = 0;
  t.equal(macOf(m), '');
  m.hlen = 8;
  t.equal(macOf(m), '00:04:f2:95:31:a2:ff:ff');
  t.equal(messageTypeOf(m), undefined, 'no option 53');
  m.options.set(53, Uint8Array.of(8));
  t.equal(messageTypeOf(m), MessageType.INFORM);
  m.options.set(53, Uint8Array.of(8, 8));
  t.equal(messageTypeOf(m), undefined, 'option 53 must be one byte');
});

// ---------------------------------------------------------------------------
// Properties

const ipArb = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const optionsArb = fc
  .array(
    fc.tuple(
      fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52),
      fc.oneof(fc.uint8Array({ maxLength: 40, size: 'max' }), fc.uint8Array({ maxLength: 300, size: 'max' })),
    ),
    { maxLength: 10, size: 'max' },
  )
  .map((pairs) => new Map(pairs));
const messageArb = fc
  .record({
    op: fc.nat(255),
    htype: fc.nat(255),
    hlen: fc.nat(16),
    hops: fc.nat(255),
    xid: fc.nat(0xffffffff),
    secs: fc.nat(0xffff),
    flags: fc.nat(0xffff),
    ciaddr: ipArb,
    yiaddr: ipArb,
    siaddr: ipArb,
    giaddr: ipArb,
    chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    sname: fc.oneof(fc.constant(new Uint8Array(64)), fc.uint8Array({ minLength: 64, maxLength: 64 })),
    file: fc.oneof(fc.constant(new Uint8Array(128)), fc.uint8Array({ minLength: 128, maxLength: 128 })),
    options: optionsArb,
  })
  .map((m): DhcpMessage => m);

t.test('property: decode(encode(m)) = m, within maxSize, or too-big', async (t) => {
  let overloaded = 0;
  let tooBig = 0;
  let plainRuns = 0;
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(messageArb, fc.integer({ min: 300, max: 1500 }), (m, maxSize) => {
        const r = encodeDhcpMessage(m, { maxSize });
        const plain = 240 + [...m.options.values()].reduce((n, v) => n + (v.length === 0 ? 2 : v.length + 2 * Math.ceil(v.length / 255)), 0) + 1;
        if (!r.ok) {
          tooBig++;
          return r.error.code === 'too-big' && plain > maxSize;
        }
        if (r.value.length > Math.max(300, maxSize)) return false;
        const d = decodeDhcpMessage(r.value);
        if (!d.ok) return false;
        const x = d.value;
        const wasOverloaded = plain > maxSize;
        if (wasOverloaded) overloaded++;
        else plainRuns++;
        const same =
          [x.op, x.htype, x.hlen, x.hops, x.xid, x.secs, x.flags, x.ciaddr, x.yiaddr, x.siaddr, x.giaddr].join() ===
            [m.op, m.htype, m.hlen, m.hops, m.xid, m.secs, m.flags, m.ciaddr, m.yiaddr, m.siaddr, m.giaddr].join() &&
          toHex(x.chaddr) === toHex(m.chaddr) &&
          // Map order is kept unless overload had to rearrange options between fields.
          JSON.stringify(wasOverloaded ? sortedOptions(x) : optionList(x)) === JSON.stringify(wasOverloaded ? sortedOptions(m) : optionList(m));
        // Fields in use are never overwritten; empty ones come back empty (used or not).
        const fieldsKept = toHex(x.sname) === toHex(m.sname) && toHex(x.file) === toHex(m.file);
        return same && fieldsKept;
      }),
      { numRuns: 1000 },
    ),
  );
  t.ok(overloaded > 0, `overload exercised (${overloaded} runs)`);
  t.ok(tooBig > 0, `too-big exercised (${tooBig} runs)`);
  t.ok(plainRuns > 0, `plain encoding exercised (${plainRuns} runs)`);
});

t.test('property: any bytes decode or fail, never throw', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.boolean(), (bytes, cookie) => {
        if (cookie && bytes.length >= 240) bytes.set([0x63, 0x82, 0x53, 0x63], 236);
        const r = decodeDhcpMessage(bytes);
        return r.ok || typeof r.error.code === 'string';
      }),
      { numRuns: 2000 },
    ),
  );
});

t.test('message type names: RFC 2132 §9.6 values 1..8, nothing else', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 7, 8].map(messageTypeName), ['DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM']);
  for (const n of [0, 9, 13, 255, -1, 1.5]) t.equal(messageTypeName(n), undefined, String(n));
});
