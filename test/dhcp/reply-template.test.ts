// Replies from a template (reply-template.ts) against the wire encoder: for
// any header a reply can carry and any size limit, the template gives the very
// bytes encodeDhcpMessage gives, or nothing (and encodeDhcpMessage is used). Also: the
// engine's options maps are shared between replies, so trimming one reply to
// a client's size limit must not touch the next reply.
import t from 'tap';
import fc from 'fast-check';
import { Rfc2131, encodeReply } from '../../src/dhcp/rfc2131.js';
import { LeaseTable } from '../../src/dhcp/lease-table.js';
import { encodeFromTemplate, isShared, shareOptions, NO_FILE, NO_SNAME } from '../../src/dhcp/reply-template.js';
import type { DhcpPlan } from '../../src/site/plan.js';
import { ascii, enginePlan } from './fixtures/engine-plan.js';
import { decodeDhcpMessage, emptyMessage, encodeDhcpMessage, MessageType, type DhcpMessage } from '../../src/wire/dhcp-message.js';


/** A larger pool and no reservation: templates are about many new phones. */
function plan(overrides: Partial<DhcpPlan> = {}): DhcpPlan {
  return enginePlan({ pools: [{ start: '10.20.0.100', end: '10.20.0.200' }], reservations: [], ...overrides });
}

function discover(mac: number, options: [number, Uint8Array][] = []): DhcpMessage {
  const m = emptyMessage();
  m.op = 1;
  m.xid = 0x1234 + mac;
  m.chaddr = new Uint8Array([0, 0x11, 0x22, 0x33, 0x44, mac & 255]);
  m.options.set(53, new Uint8Array([MessageType.DISCOVER]));
  for (const [c, v] of options) m.options.set(c, v);
  return m;
}

const NOW = 1_800_000_000_000;

t.test('a template reply is byte for byte what encodeDhcpMessage writes', (t) => {
  const table = new LeaseTable(plan());
  const engine = new Rfc2131(plan(), table);
  const offer = engine.handle(discover(1, [[60, ascii('MS-UC-Client')], [55, new Uint8Array([1, 3, 43])]]), 'interface', NOW);
  const options = offer.reply!.message.options;
  t.ok(isShared(options), 'the engine hands out a shared options map');
  const plainLength = (encodeDhcpMessage({ ...emptyMessage(), options }, { maxSize: 1e9 }) as { value: Uint8Array }).value.length;
  const octet = fc.integer({ min: 0, max: 255 });
  const ip = fc.tuple(octet, octet, octet, octet).map((b) => b.join('.'));
  fc.assert(
    fc.property(
      fc.record({
        op: octet,
        htype: octet,
        hlen: fc.integer({ min: 0, max: 16 }),
        hops: octet,
        xid: fc.integer({ min: 0, max: 0xffffffff }),
        secs: fc.integer({ min: 0, max: 0xffff }),
        flags: fc.integer({ min: 0, max: 0xffff }),
        ciaddr: ip,
        yiaddr: ip,
        siaddr: ip,
        giaddr: ip,
        chaddr: fc.uint8Array({ minLength: 0, maxLength: 16 }),
        sname: fc.oneof(fc.constant(NO_SNAME), fc.uint8Array({ minLength: 0, maxLength: 64 })),
        file: fc.oneof(fc.constant(NO_FILE), fc.uint8Array({ minLength: 0, maxLength: 128 })),
      }),
      fc.oneof(fc.integer({ min: 0, max: 1500 }), fc.constantFrom(Number.NaN, Infinity, 300.7, 548)),
      (header, maxSize) => {
        const msg: DhcpMessage = { ...header, options };
        const fast = encodeFromTemplate(msg, maxSize);
        const slow = encodeDhcpMessage(msg, { maxSize });
        if (fast === undefined) {
          // Only when the encoder refuses the header, or the plain layout does not fit the limit.
          const limit = Math.max(300, Number.isFinite(maxSize) ? Math.floor(maxSize) : 576);
          return !slow.ok || plainLength > limit;
        }
        return slow.ok && Buffer.from(fast.bytes).equals(Buffer.from(slow.value)) && fast.codes.join() === [...options.keys()].join();
      },
    ),
    { numRuns: 3000 },
  );
  t.end();
});

t.test('no template for a map that is not shared, nor for one that needs overload', (t) => {
  const msg = emptyMessage();
  msg.options.set(53, Uint8Array.of(MessageType.ACK));
  t.equal(encodeFromTemplate(msg, 576), undefined, 'a caller\'s own map is encoded by encodeDhcpMessage each time');
  const big = shareOptions(new Map([[53, Uint8Array.of(MessageType.ACK)], [252, new Uint8Array(250)], [253, new Uint8Array(250)]]));
  const m2: DhcpMessage = { ...emptyMessage(), options: big };
  t.equal(encodeFromTemplate(m2, 548), undefined, 'too big for 548 bytes without overload');
  const wide = encodeFromTemplate(m2, 1500);
  t.ok(wide, 'fits in 1500');
  t.same(Buffer.from(wide!.bytes), Buffer.from((encodeDhcpMessage(m2, { maxSize: 1500 }) as { value: Uint8Array }).value));
  const bad: DhcpMessage = { ...emptyMessage(), yiaddr: '10.1.2', options: big };
  t.equal(encodeFromTemplate(bad, 1500), undefined, 'a header the encoder refuses: left to the encoder, which says why');
  t.end();
});

t.test('trimming one reply to a small client leaves the shared options whole for the next', (t) => {
  const p = plan({ baseOptions: new Map([[1, new Uint8Array([255, 255, 255, 0])], [252, new Uint8Array(250)], [253, new Uint8Array(250)]]) });
  const engine = new Rfc2131(p, new LeaseTable(p));
  const small = engine.handle(discover(2, [[55, new Uint8Array([1, 252])]]), 'interface', NOW);
  const shared = small.reply!.message.options;
  const before = [...shared.keys()];
  const enc = encodeReply(small.reply!, [1, 252]);
  t.ok('bytes' in enc);
  if (!('bytes' in enc)) return t.end();
  t.same(enc.dropped, [253], 'the unrequested option goes');
  t.same([...shared.keys()], before, 'the shared map is untouched');
  t.not(small.reply!.message.options, shared, 'the reply now holds its trimmed copy');
  t.same(enc.sent, [...small.reply!.message.options.keys()], 'sent = what the reply holds');
  const back = decodeDhcpMessage(enc.bytes);
  t.ok(back.ok && !back.value.options.has(253) && back.value.options.has(252));

  // The next client with the same request list and a large limit gets everything.
  const next = engine.handle(discover(3, [[55, new Uint8Array([1, 252])], [57, new Uint8Array([0x05, 0xdc])]]), 'interface', NOW);
  t.equal(next.reply!.message.options, shared, 'same shared map');
  const enc2 = encodeReply(next.reply!, [1, 252]);
  t.ok('bytes' in enc2 && enc2.dropped.length === 0, 'nothing dropped for 1500 bytes');
  t.ok('bytes' in enc2 && decodeDhcpMessage(enc2.bytes).ok && (decodeDhcpMessage(enc2.bytes) as { value: DhcpMessage }).value.options.has(253));
  t.end();
});

t.test('option 55 and 60 are interned: same bytes, same list and class; different bytes, their own order', (t) => {
  const engine = new Rfc2131(plan(), new LeaseTable(plan()));
  const a = engine.handle(discover(4, [[60, ascii('MS-UC-Client')], [55, new Uint8Array([3, 1])]]), 'interface', NOW);
  const b = engine.handle(discover(5, [[60, ascii('MS-UC-Client')], [55, new Uint8Array([3, 1])]]), 'interface', NOW);
  t.equal(a.prl, b.prl, 'one shared list for the same option 55');
  t.same(a.prl, [3, 1]);
  t.equal(a.reply!.message.options, b.reply!.message.options, 'one shared options map');
  t.same([...a.reply!.message.options.keys()].slice(5, 7), [3, 1], 'in the order asked');
  // More distinct lists than the intern keeps, then the first again: still right.
  for (let k = 0; k < 12; k++) engine.handle(discover(10 + k, [[55, new Uint8Array([15, k + 100])]]), 'interface', NOW);
  const c = engine.handle(discover(30, [[55, new Uint8Array([1, 3])]]), 'interface', NOW);
  t.same(c.prl, [1, 3]);
  t.same([...c.reply!.message.options.keys()].slice(5, 7), [1, 3]);
  const d = engine.handle(discover(31, [[60, ascii('MS-UC-Client\0\0')], [55, new Uint8Array([3, 1])]]), 'interface', NOW);
  t.equal(d.vendorClass, 'MS-UC-Client', 'trailing NULs dropped (RFC 2132 §2)');
  t.ok(d.reply!.message.options.has(43), 'class options');
  t.end();
});
