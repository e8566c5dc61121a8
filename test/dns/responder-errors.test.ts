// Error answers byte for byte. The expected bytes follow what Knot 3.2
// (knotd on 127.0.0.1, same queries sent raw over UDP) answered for the same
// query shapes in example.com; only the question differs. RFC 6891 §6.1.1:
// an answer to a query with a valid OPT carries one, errors included; when
// the records themselves do not parse, Knot answers FORMERR without an OPT.
// RFC 8945 §5.2.2/§5.3.2: a TSIG with an unknown key gets NOTAUTH and an
// unsigned TSIG with error BADKEY.
import t from 'tap';
import { Authority } from '../../src/dns/authority.js';
import { Responder } from '../../src/dns/responder.js';
import { rawQuery, testPlan } from './helpers.js';

const responder = new Responder(new Authority(testPlan().dns));
const OPT = '00 0029 04d0 00 00 0000 0000';
const QUESTION = '0c 7563757064617465732d7232 07 7363686572747a 04 6e616d65 00 0001 0001'; // ucupdates-r2.schertz.name A IN
const NAME = 'ucupdates-r2.schertz.name';

const hex = (s: string): string => s.replace(/\s+/g, '');
function answerHex(q: Uint8Array): string {
  const out = responder.respond(q, false);
  return out === null ? 'dropped' : Buffer.from(out).toString('hex');
}
function raw(header: string, rest: string): Buffer {
  return Buffer.from(hex(header + rest), 'hex');
}

t.test('NOTIMP, FORMERR, SERVFAIL carry an OPT when the query had a valid one (RFC 6891 §6.1.1)', async (t) => {
  // Knot: opcode 2 with OPT -> 9104 ... with the OPT.
  t.equal(answerHex(rawQuery(0x1234, NAME, 1, { flags: 0x1100, additional: OPT })), hex(`1234 9104 0001 0000 0000 0001 ${QUESTION} ${OPT}`), 'NOTIMP (opcode 2)');
  t.equal(answerHex(rawQuery(0x1234, NAME, 1, { flags: 0x1100 })), hex(`1234 9104 0001 0000 0000 0000 ${QUESTION}`), 'NOTIMP without EDNS: no OPT');
  // Knot: no question, valid OPT -> 8101, qdcount 0, OPT.
  t.equal(answerHex(raw('1234 0100 0000 0000 0000 0001', OPT)), hex(`1234 8101 0000 0000 0000 0001 ${OPT}`), 'FORMERR (no question)');
  t.equal(
    answerHex(raw('1234 0100 0001 0001 0000 0001', `${QUESTION} c00c 0001 0001 0000003c 0004 01020304 ${OPT}`)),
    hex(`1234 8101 0001 0000 0000 0001 ${QUESTION} ${OPT}`),
    'FORMERR (an answer record in the query; Knot answers these, we refuse them) with the OPT',
  );
  const q = rawQuery(0x1234, 'example.com', 1, { additional: '00 0029 04d0 00 00 8000 0000' });
  const qEnd = q.length - 11;
  t.equal(
    Buffer.from(responder.servfail(q, qEnd)).toString('hex'),
    hex(`1234 8102 0001 0000 0000 0001 ${q.subarray(12, qEnd).toString('hex')} 00 0029 04d0 00 00 8000 0000`),
    'SERVFAIL (forwarding failed) with the OPT, DO copied',
  );
  t.equal(Buffer.from(responder.servfail(q.subarray(0, qEnd), qEnd)).toString('hex').slice(-8), '00010001', 'SERVFAIL without EDNS: no OPT');
});

t.test('FORMERR for broken records goes without an OPT, as Knot', async (t) => {
  const formerr = hex(`1234 8101 0001 0000 0000 0000 ${QUESTION}`);
  t.equal(answerHex(raw('1234 0100 0001 0000 0000 0002', `${QUESTION} ${OPT} ${OPT}`)), formerr, 'two OPTs');
  t.equal(answerHex(raw('1234 0100 0001 0000 0000 0001', `${QUESTION} ${OPT} 00`)), formerr, 'a trailing byte');
  t.equal(answerHex(raw('1234 0100 0001 0000 0000 0001', `${QUESTION} 0161 0029 04d0 00 00 0000 0000`)), formerr, 'OPT not at the root');
  t.equal(answerHex(raw('1234 0100 0001 0000 0000 0001', `${QUESTION} 00 0029 04d0 00 00 0000 0005 0003 000a 00`)), formerr, 'an option running past the OPT');
});

// TSIG rdata: algorithm hmac-sha256., time signed 0x00006a168e1c, fudge 300, MAC (32 bytes), original ID, error 0, no other data.
const ALG = '0b 686d61632d736861323536 00';
const TIME_FUDGE = '00006a168e1c 012c';
function tsig(owner: string, originalId = '1234'): string {
  return `${owner} 00fa 00ff 00000000 003d ${ALG} ${TIME_FUDGE} 0020 ${'aa'.repeat(32)} ${originalId} 0000 0000`;
}
/** What Knot sent back: key name and algorithm copied, MAC size 0, original ID = the message ID, error BADKEY (17). */
function badKey(owner: string): string {
  return `${owner} 00fa 00ff 00000000 001d ${ALG} ${TIME_FUDGE} 0000 1234 0011 0000`;
}

t.test('a TSIG-signed query gets NOTAUTH with an unsigned BADKEY TSIG (RFC 8945 §5.3.2)', async (t) => {
  t.equal(
    answerHex(raw('1234 0100 0001 0000 0000 0002', `${QUESTION} ${OPT} ${tsig('016b00')}`)),
    hex(`1234 8109 0001 0000 0000 0002 ${QUESTION} ${OPT} ${badKey('016b00')}`),
    'with EDNS: OPT, then the TSIG last',
  );
  t.equal(responder.rcode, 9);
  t.equal(
    answerHex(raw('1234 0100 0001 0000 0000 0001', `${QUESTION} ${tsig('016b00', 'beef')}`)),
    hex(`1234 8109 0001 0000 0000 0001 ${QUESTION} ${badKey('016b00')}`),
    'without EDNS; the original ID written is the message ID (Knot and BIND)',
  );
  t.equal(
    answerHex(raw('1234 0100 0001 0000 0000 0001', `${QUESTION} ${tsig('036b6579 c00c')}`)),
    hex(`1234 8109 0001 0000 0000 0001 ${QUESTION} ${badKey('036b6579 0c7563757064617465732d7232 077363686572747a 046e616d65 00')}`),
    'a compressed key name comes back expanded',
  );
  const nx = rawQuery(0x1234, 'nope.schertz.name', 1);
  t.equal(
    answerHex(Buffer.concat([nx.subarray(0, 11), Buffer.from([1]), nx.subarray(12), Buffer.from(hex(tsig('016b00')), 'hex')])).slice(4, 8),
    '8109',
    'a name inside our zone that does not exist: NOTAUTH too',
  );
});

t.test('TSIG: misplaced or malformed -> FORMERR; outside our zones -> REFUSED (as Knot); BADVERS first', async (t) => {
  t.equal(
    answerHex(raw('1234 0100 0001 0000 0000 0002', `${QUESTION} ${tsig('016b00')} ${OPT}`)),
    hex(`1234 8101 0001 0000 0000 0000 ${QUESTION}`),
    'TSIG not last (RFC 8945 §5.1)',
  );
  t.equal(answerHex(raw('1234 0100 0001 0000 0000 0001', `${QUESTION} 016b00 00fa 00ff 00000000 0003 616263`)), hex(`1234 8101 0001 0000 0000 0000 ${QUESTION}`), 'TSIG rdata unreadable');
  const outside = rawQuery(0x1234, 'example.org', 1);
  t.equal(
    answerHex(Buffer.concat([outside.subarray(0, 11), Buffer.from([1]), outside.subarray(12), Buffer.from(hex(tsig('016b00')), 'hex')])),
    hex(`1234 8105 0001 0000 0000 0000 ${outside.subarray(12).toString('hex')}`),
    'REFUSED',
  );
  t.equal(
    answerHex(raw('1234 0100 0001 0000 0000 0002', `${QUESTION} 00 0029 04d0 00 01 0000 0000 ${tsig('016b00')}`)),
    hex(`1234 8100 0001 0000 0000 0001 ${QUESTION} 00 0029 04d0 01 00 0000 0000`),
    'EDNS version 1: BADVERS without the TSIG (Knot)',
  );
});

t.test('OPT as the question type: FORMERR, with an OPT when the query carried a valid one', async (t) => {
  // RFC 6891 §6.1.1: OPT is a pseudo-record and never a question (FORMERR); the answer keeps the OPT rule of every other error.
  const optQuestion = '0c 7563757064617465732d7232 07 7363686572747a 04 6e616d65 00 0029 0001';
  t.equal(answerHex(rawQuery(0x1234, NAME, 41, { additional: OPT })), hex(`1234 8101 0001 0000 0000 0001 ${optQuestion} ${OPT}`), 'with EDNS: OPT present');
  t.equal(answerHex(rawQuery(0x1234, NAME, 41)), hex(`1234 8101 0001 0000 0000 0000 ${optQuestion}`), 'without EDNS: none');
});
