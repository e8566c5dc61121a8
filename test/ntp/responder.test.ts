// The RFC 5905 server-mode decision without sockets or clocks. Requests are
// real captured bytes (chronyd, ntpdig) or written out by hand; replies are
// checked byte by byte at the RFC 5905 §7.3 offsets, not only through our decoder.
import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { DEFAULT_SETTINGS, MIN_POLL, PHI, respond, type ResponderSettings, type RateVerdict } from '../../src/ntp/responder.js';
import { decodeNtp, ntpToUnixMs, unixMsToNtp } from '../../src/wire/ntp-packet.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fixture = JSON.parse(readFileSync(new URL('./fixtures/captured-requests.json', import.meta.url), 'utf8')) as {
  chronyd: { packets: { hex: string }[] };
  ntpdig: { packets: { hex: string }[] };
};
const CHRONYD = fixture.chronyd.packets[0]!.hex;
const NTPDIG = fixture.ntpdig.packets[0]!.hex;

const RX = hex('eeaf1fe8 40000000'); // some receive time
const TX = hex('eeaf1fe8 40001000'); // a little later
const REF = hex('eeaf1fe0 00000000'); // 8.25 s before RX
const settings: ResponderSettings = { ...DEFAULT_SETTINGS, referenceTime: REF, precision: -22, rootDispersion: 2 ** -22 };

/** A client request with byte 0 = LI/VN/mode and the given transmit timestamp. */
const request = (first: number, transmit = 'deadbeef01234567', poll = 6) =>
  hex(first.toString(16).padStart(2, '0') + '00' + poll.toString(16).padStart(2, '0') + '00' + '00'.repeat(36) + transmit);

t.test('answers a real chronyd request the way RFC 5905 §8 says', async (t) => {
  let reads = 0;
  const a = respond(hex(CHRONYD), RX, settings, () => {
    reads++;
    return TX;
  });
  t.equal(a.kind, 'reply');
  if (a.kind !== 'reply') return;
  const r = a.bytes;
  t.equal(r.length, 48);
  t.equal(reads, 1, 'transmit clock read once');
  t.equal(r[0], 0x24, 'LI 0, version 4 (the request\'s), mode 4 server');
  t.equal(r[1], 10, 'stratum 10 (chrony local stratum 10)');
  t.equal(r[2], 6, 'poll: the client\'s 6');
  t.equal(r[3], 0xea, 'precision -22');
  t.equal(toHex(r.subarray(4, 8)), '00000000', 'root delay 0');
  const dispersion = new DataView(r.buffer, r.byteOffset).getUint32(8) / 65536;
  t.ok(Math.abs(dispersion - (2 ** -22 + PHI * 8.25)) < 1 / 65536, `root dispersion grows PHI per second since the reference (${dispersion})`);
  t.equal(toHex(r.subarray(12, 16)), '4c4f434c', 'reference id LOCL');
  t.equal(toHex(r.subarray(16, 24)), 'eeaf1fe000000000', 'reference timestamp');
  t.equal(toHex(r.subarray(24, 32)), CHRONYD.slice(80), 'origin = the client\'s transmit timestamp, byte for byte');
  t.equal(toHex(r.subarray(32, 40)), toHex(RX), 'receive timestamp');
  t.equal(toHex(r.subarray(40, 48)), toHex(TX), 'transmit timestamp');
});

t.test('odd transmit fractions are copied, not re-encoded', async (t) => {
  // Low bits a float conversion would lose; all-ones; zero (some SNTP clients send 0).
  for (const ts of ['0c29b680ec1f7e98', 'ffffffffffffffff', '0000000000000001', '0000000000000000', '83aa7e80fffffff1']) {
    const a = respond(request(0x23, ts), RX, settings, () => TX);
    t.ok(a.kind === 'reply' && toHex(a.bytes.subarray(24, 32)) === ts, ts);
  }
});

t.test('versions 1 to 4 are answered in their own version', async (t) => {
  for (const v of [1, 2, 3, 4]) {
    const a = respond(request((v << 3) | 3), RX, settings, () => TX);
    t.ok(a.kind === 'reply' && a.bytes[0] === ((v << 3) | 4), `v${v}`);
  }
});

t.test('ntpdig: LI 3 in the request is not echoed; poll 0 is raised to MINPOLL', async (t) => {
  const a = respond(hex(NTPDIG), RX, settings, () => TX);
  t.equal(a.kind, 'reply');
  if (a.kind !== 'reply') return;
  t.equal(a.bytes[0], 0x24, 'LI 0, v4, mode 4');
  t.equal(a.bytes[2], MIN_POLL);
  t.equal(toHex(a.bytes.subarray(24, 32)), NTPDIG.slice(80));
  const big = respond(request(0x23, 'deadbeef01234567', 30), RX, settings, () => TX);
  t.ok(big.kind === 'reply' && big.bytes[2] === 17, 'poll 30 is lowered to MAXPOLL 17');
});

t.test('configured stratum, refid and leap', async (t) => {
  const custom = { ...settings, stratum: 3, referenceId: hex('0a000001'), leap: 3 as const };
  const a = respond(request(0x23), RX, custom, () => TX);
  t.ok(a.kind === 'reply');
  if (a.kind !== 'reply') return;
  t.equal(a.bytes[0], 0xe4, 'LI 3 when told we are unsynchronised');
  t.equal(a.bytes[1], 3);
  t.equal(toHex(a.bytes.subarray(12, 16)), '0a000001');
});

t.test('everything but a client request is dropped without a reply', async (t) => {
  const dropped = (bytes: Uint8Array, reason: string, what: string) => {
    let consulted = false;
    const a = respond(bytes, RX, settings, () => TX, () => {
      consulted = true;
      return 'allow';
    });
    t.ok(a.kind === 'drop' && a.reason === reason, `${what}: dropped (${a.kind === 'drop' ? a.reason : a.kind})`);
    t.notOk(consulted, `${what}: the rate limiter is not consulted`);
  };
  for (const mode of [0, 1, 2, 4, 5, 6, 7]) dropped(request((4 << 3) | mode), 'mode', `v4 mode ${mode}`);
  for (const v of [0, 5, 6, 7]) dropped(request((v << 3) | 3), 'version', `version ${v} client`);
  for (const n of [0, 1, 8, 12, 47]) dropped(hex(CHRONYD).subarray(0, n), 'malformed', `${n} bytes`);
  // ntpq "readvar" (RFC 9327 mode 6): 12-byte header, no data.
  dropped(hex('160200010000000000000000'), 'malformed', 'ntpq readvar');
  // ntpdc MON_GETLIST_1 (mode 7, the 2014 amplification vector), padded to 48 bytes like ntpdc does.
  dropped(hex('1700032a' + '00'.repeat(44)), 'mode', 'ntpdc monlist');
  dropped(hex('27000000' + '00'.repeat(44)), 'mode', 'a v4 mode 7 packet');
});

t.test('a request with a MAC after the header is answered with 48 bytes', async (t) => {
  const withMac = hex(CHRONYD + '00000001' + 'ab'.repeat(16));
  const a = respond(withMac, RX, settings, () => TX);
  t.ok(a.kind === 'reply' && a.bytes.length === 48 && toHex(a.bytes.subarray(24, 32)) === CHRONYD.slice(80));
});

t.test('rate limiting: RATE kiss-o\'-death or silence', async (t) => {
  const verdicts: RateVerdict[] = ['allow', 'kiss', 'drop'];
  const [allow, kiss, drop] = verdicts.map((v) => respond(hex(CHRONYD), RX, settings, () => TX, () => v));
  t.equal(allow!.kind, 'reply');
  t.ok(drop!.kind === 'drop' && drop!.reason === 'rate-limited');
  t.equal(kiss!.kind, 'kiss');
  if (kiss!.kind !== 'kiss') return;
  const k = kiss!.bytes;
  t.equal(k.length, 48);
  t.equal(k[0], 0xe4, 'LI 3 (alarm), v4, mode 4');
  t.equal(k[1], 0, 'stratum 0 = kiss-o\'-death (RFC 5905 §7.4)');
  t.equal(toHex(k.subarray(12, 16)), Buffer.from('RATE').toString('hex'), 'kiss code RATE');
  t.equal(toHex(k.subarray(24, 32)), CHRONYD.slice(80), 'origin copied so the client can trust the kiss');
  t.equal(toHex(k.subarray(32, 40)), CHRONYD.slice(80), 'receive = the client\'s own time: no time learned from a kiss');
  t.equal(toHex(k.subarray(40, 48)), CHRONYD.slice(80));
});

t.test('fuzz: never throws, never replies with more bytes than it got', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), (bytes) => {
      const a = respond(bytes, RX, settings, () => TX);
      if (a.kind === 'drop') return true;
      const d = decodeNtp(bytes);
      return a.bytes.length === 48 && bytes.length >= 48 && d.ok && d.value.mode === 3 && d.value.version >= 1 && d.value.version <= 4;
    }),
    { numRuns: 5000 },
  );
});

t.test('receive and transmit carry sub-millisecond time', async (t) => {
  const rx = Date.UTC(2026, 10, 23, 20, 26, 15) + 0.123456;
  const tx = rx + 0.05;
  const a = respond(request(0x23), unixMsToNtp(rx), settings, () => unixMsToNtp(tx));
  t.ok(a.kind === 'reply');
  if (a.kind !== 'reply') return;
  const p = decodeNtp(a.bytes);
  t.ok(p.ok);
  if (!p.ok) return;
  t.ok(Math.abs(ntpToUnixMs(p.value.receiveTime, rx) - rx) < 0.000_01, 'receive to 10 ns');
  t.ok(Math.abs(ntpToUnixMs(p.value.transmitTime, tx) - tx) < 0.000_01, 'transmit to 10 ns');
});
