// The lease files' line format, pure. The expected lines were written out by
// hand, their CRCs computed with Python's zlib.crc32: existing state dirs must
// keep loading, so these bytes must never change.
import t from 'tap';
import { encodeHeaderLine, encodeRecordLine, parseLeaseFile } from '../../src/dhcp/lease-line.js';
import type { LeaseRecord } from '../../src/dhcp/lease-record.js';

const RECORD_LINE =
  'ea235eb1 {"ip":"10.20.0.100","clientId":"010004f29531a2","mac":"00:04:f2:95:31:a2","state":"bound",' +
  '"expiresAt":1764000000000,"updatedAt":1763971200000,"hostname":"cx600-lobby","vendorClass":"MS-UC-Client"}\n';
const JOURNAL_HEADER = '4fe0a06d {"provlab":"lease-journal","v":1,"gen":7}\n';
const SNAPSHOT_HEADER = 'c24bc08e {"provlab":"lease-snapshot","v":1,"gen":7,"count":1}\n';

const record: LeaseRecord = {
  ip: '10.20.0.100',
  clientId: '010004f29531a2',
  mac: '00:04:f2:95:31:a2',
  state: 'bound',
  expiresAt: 1764000000000,
  updatedAt: 1763971200000,
  hostname: 'cx600-lobby',
  vendorClass: 'MS-UC-Client',
};

t.test('lines as written to disk', async (t) => {
  t.equal(encodeHeaderLine('lease-journal', 7), JOURNAL_HEADER);
  t.equal(encodeHeaderLine('lease-snapshot', 7, 1), SNAPSHOT_HEADER);
  t.equal(encodeRecordLine(record), RECORD_LINE);
  // Field order is fixed and unknown fields never reach disk.
  const shuffled = { vendorClass: 'MS-UC-Client', extra: 1, ...record } as LeaseRecord;
  t.equal(encodeRecordLine(shuffled), RECORD_LINE);
});

t.test('a file read back, with a torn tail', async (t) => {
  const bytes = Buffer.from(SNAPSHOT_HEADER + RECORD_LINE + RECORD_LINE.slice(0, 40), 'utf8');
  const p = parseLeaseFile(bytes, '/state/leases.snapshot', 'leases.snapshot', 'lease-snapshot');
  t.equal(p.gen, 7);
  t.equal(p.count, 1);
  t.same(p.records, [record]);
  t.equal(p.warnings.length, 1);
  t.match(p.warnings[0], /^leases.snapshot line 3: torn record at end of file \(40 bytes, no newline/);
});

t.test('a flipped byte skips that line only', async (t) => {
  const bad = RECORD_LINE.replace('10.20.0.100', '10.20.0.101');
  const p = parseLeaseFile(Buffer.from(JOURNAL_HEADER + bad + RECORD_LINE), '/s/leases.journal', 'leases.journal', 'lease-journal');
  t.same(p.records, [record]);
  t.same(p.warnings, ['leases.journal line 2: checksum mismatch: record skipped']);
});

t.test('another format version is refused, not guessed at', async (t) => {
  const bytes = Buffer.from('f28dbce8 {"provlab":"lease-journal","v":2,"gen":1}\n');
  t.throws(() => parseLeaseFile(bytes, '/s/leases.journal', 'leases.journal', 'lease-journal'), /format version 2 is not supported/);
});
