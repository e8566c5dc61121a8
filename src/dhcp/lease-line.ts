// The lease files' line format, pure: encode a line, decode one, and read a
// whole file's bytes into its header and records with a warning per bad line.
//
// Every line is `<crc32 as 8 hex digits> <json>\n`. The CRC covers the JSON bytes, so a
// torn tail (kill -9 / power loss mid-write) or a flipped byte in the middle is detected
// and that one line is skipped with a warning; the lines around it still load.
// The first line is a header: {"provlab":"lease-journal"|"lease-snapshot","v":1,"gen":g}
// (a snapshot's also has "count").
import { crc32, crc32Utf8 } from './crc32.js';
import { normalizeRecord, recordProblem, type LeaseRecord } from './lease-record.js';

export const FORMAT_VERSION = 1;
const NL = 0x0a;

export type LeaseFileKind = 'lease-journal' | 'lease-snapshot';

export function encodeLine(json: string): string {
  return `${crc32Utf8(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** A record's line: only its known fields, in a fixed order. */
export function encodeRecordLine(r: LeaseRecord): string {
  return encodeLine(JSON.stringify(normalizeRecord(r)));
}

export function encodeHeaderLine(kind: LeaseFileKind, gen: number, count?: number): string {
  const header = count === undefined ? { provlab: kind, v: FORMAT_VERSION, gen } : { provlab: kind, v: FORMAT_VERSION, gen, count };
  return encodeLine(JSON.stringify(header));
}

type LineResult = { ok: true; value: unknown } | { ok: false; reason: string };

function decodeLine(buf: Buffer, start: number, end: number): LineResult {
  if (end - start < 10 || buf[start + 8] !== 0x20) return { ok: false, reason: 'malformed line (no checksum field)' };
  const hex = buf.toString('latin1', start, start + 8);
  if (!/^[0-9a-f]{8}$/.test(hex)) return { ok: false, reason: 'malformed checksum field' };
  if (parseInt(hex, 16) !== crc32(buf, start + 9, end)) return { ok: false, reason: 'checksum mismatch' };
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8', start + 9, end)) as unknown };
  } catch {
    return { ok: false, reason: 'checksum matches but JSON does not parse' };
  }
}

interface Header {
  provlab: string;
  v: number;
  gen: number;
  count?: number;
}

function asHeader(v: unknown, kind: LeaseFileKind): Header | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const h = v as Record<string, unknown>;
  if (h.provlab !== kind || typeof h.gen !== 'number' || !Number.isInteger(h.gen)) return undefined;
  if (typeof h.v !== 'number') return undefined;
  const out: Header = { provlab: kind, v: h.v, gen: h.gen };
  if (typeof h.count === 'number') out.count = h.count;
  return out;
}

export interface ParsedLeaseFile {
  gen: number | undefined;
  count: number | undefined;
  records: LeaseRecord[];
  warnings: string[];
}

/**
 * One lease file's bytes. `file` names it in the error for an unsupported
 * format version (the only throw: that file is not ours to guess at); every
 * other problem is a warning naming `name` and the line.
 */
export function parseLeaseFile(buf: Buffer, file: string, name: string, kind: LeaseFileKind): ParsedLeaseFile {
  const out: ParsedLeaseFile = { gen: undefined, count: undefined, records: [], warnings: [] };
  let start = 0;
  let lineNo = 0;
  while (start < buf.length) {
    lineNo++;
    const nl = buf.indexOf(NL, start);
    const end = nl === -1 ? buf.length : nl;
    const torn = nl === -1;
    const decoded = start === end ? ({ ok: false, reason: 'empty line' } as const) : decodeLine(buf, start, end);
    if (lineNo === 1) {
      const h = decoded.ok ? asHeader(decoded.value, kind) : undefined;
      if (h) {
        if (h.v !== FORMAT_VERSION) {
          throw new Error(`${file}: format version ${h.v} is not supported (this build reads version ${FORMAT_VERSION})`);
        }
        out.gen = h.gen;
        out.count = h.count;
        // Whatever followed it was cut off (by a crash, nothing acknowledged was; by damage, it may have been).
        if (torn) out.warnings.push(`${name} line 1: header has no trailing newline (interrupted write); nothing follows it`);
        start = end + 1;
        continue;
      }
      // A header lost to a crash right after the file was created: nothing in it was acknowledged.
      if (torn) {
        out.warnings.push(`${name} line 1: torn header (${end - start} bytes, no newline): file ignored`);
        return out;
      }
      out.warnings.push(
        `${name} line 1: header unreadable (${decoded.ok ? 'not a ' + kind + ' header' : decoded.reason}); ` +
          (kind === 'lease-journal' ? 'assuming it belongs to the current snapshot' : 'every journal will be replayed over it'),
      );
      // fall through: the line may still be a record
    }
    if (decoded.ok) {
      const problem = recordProblem(decoded.value);
      if (problem === undefined) {
        out.records.push(normalizeRecord(decoded.value as LeaseRecord));
        if (torn) {
          out.warnings.push(`${name} line ${lineNo}: last record has no trailing newline (interrupted write); it is complete and was kept`);
        }
      } else if (lineNo !== 1) {
        out.warnings.push(`${name} line ${lineNo}: not a lease record (${problem}): skipped`);
      }
    } else if (torn) {
      out.warnings.push(
        `${name} line ${lineNo}: torn record at end of file (${end - start} bytes, no newline, ${decoded.reason}): skipped; ` +
          'it was never acknowledged',
      );
    } else if (lineNo !== 1) {
      out.warnings.push(`${name} line ${lineNo}: ${decoded.reason}: record skipped`);
    }
    start = end + 1;
  }
  return out;
}
