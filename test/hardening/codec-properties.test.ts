// Property tests for the codecs test/wire does not cover with fast-check yet:
// every encoder's output decodes back to its input, every decoder returns a
// Result (never throws) on arbitrary bytes and never points past its input.
// (dhcp-message, option-codec, rfc1035-names, ntp-packet and dns-message have
// theirs in test/wire; rfc3397's round trip too.)
import t from 'tap';
import fc from 'fast-check';
import { inCidr, intToIp, ipToInt, isIPv4, parseCidr, parseIPv4 } from '../../src/wire/ipv4.js';
import { formatIPv6, parseIPv6 } from '../../src/wire/ipv6.js';
import { encodeMsUcClient } from '../../src/wire/ms-uc-client.js';
import { decodeEncapsulated, encodeEncapsulated } from '../../src/wire/rfc2132-encapsulated.js';
import { decodeOptionValue } from '../../src/wire/option-codec.js';
import { findOptionDef } from '../../src/wire/option-defs.js';
import { decodeSipServers, encodeSipServers } from '../../src/wire/rfc3361-sip.js';
import { decodeSearchList } from '../../src/wire/rfc3397-search.js';

const RUNS = { numRuns: 2000 };
const isResult = (r: { ok: boolean; error?: { code: unknown; message: unknown } }) =>
  r.ok || (typeof r.error?.code === 'string' && typeof r.error.message === 'string' && r.error.message.length > 0);

const ascii = fc.string({ unit: fc.integer({ min: 1, max: 0x7f }).map((c) => String.fromCharCode(c)), minLength: 0, maxLength: 40 });
const label = fc.stringMatching(/^[a-z0-9-]{1,20}$/);
const domain = fc.array(label, { minLength: 1, maxLength: 5 }).map((ls) => ls.join('.'));

t.test('MS-UC-Client option 43: encode -> decode gives the five texts back, in any lab order, with or without 0xFF', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.tuple(ascii, ascii, ascii, ascii, ascii), fc.shuffledSubarray([1, 2, 3, 4, 5], { minLength: 5, maxLength: 5 }), fc.boolean(), (texts, order, appendEnd) => {
        const [ucIdentifier, urlScheme, webServerFqdn, webServerPort, certProvRelPath] = texts;
        const bytes = encodeMsUcClient({ ucIdentifier, urlScheme, webServerFqdn, webServerPort, certProvRelPath }, { order, appendEnd });
        const d = decodeEncapsulated(bytes);
        if (!d.ok || d.value.endMarker !== appendEnd || d.value.trailing.length !== 0) return false;
        if (d.value.subOptions.map((s) => s.code).join() !== order.join()) return false;
        return d.value.subOptions.every((s) => Buffer.from(s.data).toString('latin1') === texts[s.code - 1]);
      }),
      RUNS,
    ),
  );
});

t.test('MS-UC-Client option 43: the option table decodes what encodeMsUcClient writes', async (t) => {
  const def = findOptionDef(43)!;
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.tuple(ascii, ascii, domain, fc.integer({ min: 1, max: 65535 }).map(String), ascii), (texts) => {
        const [ucIdentifier, urlScheme, webServerFqdn, webServerPort, certProvRelPath] = texts;
        const r = decodeOptionValue(def, encodeMsUcClient({ ucIdentifier, urlScheme, webServerFqdn, webServerPort, certProvRelPath }));
        if (!r.ok || r.value.type !== 'encapsulated') return false;
        return r.value.value.subOptions.every((s, i) => s.code === i + 1 && s.value.type === 'text' && s.value.value === texts[i]);
      }),
      RUNS,
    ),
  );
});

t.test('encapsulated TLVs: any bytes decode or fail, never throw, never point past the data; a clean decode re-encodes to the same bytes', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        const d = decodeEncapsulated(data);
        if (!isResult(d as never)) return false;
        if (!d.ok) return true;
        for (const s of d.value.subOptions) {
          if (s.offset + 2 + s.length > data.length || s.data.length !== s.length) return false;
          if (Buffer.compare(Buffer.from(s.data), Buffer.from(data.subarray(s.offset + 2, s.offset + 2 + s.length))) !== 0) return false;
        }
        // Without pad bytes the walk is lossless.
        const padded = d.value.subOptions.reduce((n, s) => n + 2 + s.length, 0) + (d.value.endMarker ? 1 + d.value.trailing.length : 0) !== data.length;
        if (padded) return true;
        const again = encodeEncapsulated(d.value.subOptions, { appendEnd: d.value.endMarker });
        const whole = new Uint8Array(again.length + d.value.trailing.length);
        whole.set(again);
        whole.set(d.value.trailing, again.length);
        return Buffer.compare(Buffer.from(whole), Buffer.from(data)) === 0;
      }),
      RUNS,
    ),
  );
});

t.test('option 120 (RFC 3361): names and addresses round-trip, with and without compression', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(domain, { minLength: 1, maxLength: 4 }), fc.boolean(), (names, compress) => {
        const d = decodeSipServers(encodeSipServers({ encoding: 0, names }, { compress }));
        return d.ok && d.value.encoding === 0 && d.value.names.join('|') === names.join('|');
      }),
      RUNS,
    ),
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(fc.ipV4(), { minLength: 1, maxLength: 8 }), (addresses) => {
        const d = decodeSipServers(encodeSipServers({ encoding: 1, addresses }));
        return d.ok && d.value.encoding === 1 && d.value.addresses.join('|') === addresses.join('|');
      }),
      RUNS,
    ),
  );
});

t.test('option 120 and 119 decoders: any bytes decode or fail, never throw', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(0, 1, 2, 0xc0), (bytes, first) => {
        const data = bytes.length > 0 && bytes[0]! < 2 ? bytes : Uint8Array.of(first, ...bytes);
        return isResult(decodeSipServers(data) as never) && isResult(decodeSearchList(bytes) as never);
      }),
      RUNS,
    ),
  );
});

t.test('IPv4 helpers: dotted <-> uint32 round trip, CIDR membership, and the encoder\'s parser agrees with isIPv4', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.ipV4(), fc.nat({ max: 0xffffffff }), (ip, n) => intToIp(ipToInt(ip)) === ip && ipToInt(intToIp(n)) === n),
      RUNS,
    ),
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (n, prefix) => {
        const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
        const network = (n & mask) >>> 0;
        const c = parseCidr(`${intToIp(network)}/${prefix}`);
        if (!c || c.network !== network || !inCidr(network, c) || !inCidr(c.broadcast, c)) return false;
        if (prefix > 0 && c.broadcast < 0xffffffff && inCidr(c.broadcast + 1, c)) return false;
        // Host bits set: refused, not silently masked.
        const withHostBit = (network | 1) >>> 0;
        return prefix === 32 || withHostBit === network || parseCidr(`${intToIp(withHostBit)}/${prefix}`) === null;
      }),
      RUNS,
    ),
  );
  // Strings near the dotted-quad grammar: leading zeros, 256, missing or extra parts, signs, spaces.
  const nearIp = fc.oneof(
    fc.ipV4(),
    fc.ipV4Extended(),
    fc.array(fc.oneof(fc.nat(300).map(String), fc.constantFrom('00', '01', '-1', '+1', ' 1', '1 ', '', 'a', '0x1', '1e2')), { minLength: 1, maxLength: 6 }).map((p) => p.join('.')),
    fc.string({ maxLength: 20 }),
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(nearIp, (s) => {
        // The grammar written out as a regular expression: an oracle independent of the hand-written parser.
        const expected = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s) ? s.split('.').reduce((n, p) => n * 256 + Number(p), 0) : -1;
        return parseIPv4(s) === expected && isIPv4(s) === expected >= 0 && (parseCidr(`${s}/24`) === null || isIPv4(s));
      }),
      { numRuns: 5000 },
    ),
  );
});

t.test('IPv6: RFC 5952 text agrees with the WHATWG URL serialiser, parse(format(bytes)) = bytes, and any string parses or is null', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const bytes = parseIPv6(text);
        if (!bytes) return false;
        // An independent canonical form: Node's URL parser (WHATWG: the first longest run of 2+ zero groups becomes ::).
        const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
        return formatIPv6(bytes) === canonical;
      }),
      RUNS,
    ),
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const again = parseIPv6(formatIPv6(b));
        return again !== null && Buffer.compare(Buffer.from(again), Buffer.from(b)) === 0;
      }),
      RUNS,
    ),
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 45 }), fc.array(fc.constantFrom('::', ':', '0', 'ffff', '1.2.3.4', 'g', '%eth0', '12345'), { maxLength: 10 }).map((p) => p.join(''))), (s) => {
        const r = parseIPv6(s);
        return r === null || r.length === 16;
      }),
      { numRuns: 5000 },
    ),
  );
});
