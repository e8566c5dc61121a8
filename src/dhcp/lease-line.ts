// The lease files' line format, pure: encode a line, decode one, and read a
// file's bytes (as a stream, in chunks) into its header and records with a
// warning per bad line.
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

/** Longer than any record: a line past it is damage (a hole of NULs), skipped without being held. */
const MAX_LINE = 64 * 1024;
/** Warnings kept per file; the rest are counted in one last line. */
const MAX_WARNINGS = 100;

/**
 * One lease file read as a stream: `push` its bytes in chunks of any size,
 * then `end`; each good record goes to `onRecord` in file order, so memory
 * stays bounded by one line (a journal may be larger than a Buffer can be).
 * `file` names it in the error for an unsupported format version (the only
 * throw: that file is not ours to guess at); every other problem is a warning
 * naming `name` and the line.
 */
export class LeaseFileReader {
  gen: number | undefined;
  count: number | undefined;
  readonly warnings: string[] = [];
  private lineNo = 0;
  private rest: Buffer | undefined;
  /** Bytes of an overlong line dropped so far (its end not seen yet). */
  private skipping = 0;
  private done = false;
  private dropped = 0;

  constructor(
    private readonly file: string,
    private readonly name: string,
    private readonly kind: LeaseFileKind,
    private readonly onRecord: (r: LeaseRecord) => void,
  ) {}

  private warn(text: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(text);
    else this.dropped++;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (!this.done && start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      if (this.skipping > 0) {
        if (nl === -1) {
          this.skipping += chunk.length - start;
          return;
        }
        this.skipping += nl - start;
        this.warn(`${this.name} line ${this.lineNo}: ${this.skipping} bytes without a line end (damage, or a hole left by a truncation): skipped`);
        this.skipping = 0;
        start = nl + 1;
        continue;
      }
      if (nl === -1) {
        const tail = chunk.subarray(start);
        // A copy: the caller reuses its chunk buffer.
        this.rest = this.rest === undefined ? Buffer.from(tail) : Buffer.concat([this.rest, tail]);
        if (this.rest.length > MAX_LINE) {
          this.lineNo++;
          this.skipping = this.rest.length;
          this.rest = undefined;
        }
        return;
      }
      if (this.rest !== undefined) {
        const line = Buffer.concat([this.rest, chunk.subarray(start, nl)]);
        this.rest = undefined;
        this.line(line, 0, line.length, false);
      } else this.line(chunk, start, nl, false);
      start = nl + 1;
    }
  }

  end(): void {
    if (this.skipping > 0) {
      this.warn(`${this.name} line ${this.lineNo}: ${this.skipping} bytes at the end without a line end: skipped`);
      this.skipping = 0;
    }
    if (this.rest !== undefined && !this.done) this.line(this.rest, 0, this.rest.length, true);
    this.rest = undefined;
    this.done = true;
    if (this.dropped > 0) this.warnings.push(`${this.name}: ${this.dropped} more warnings not shown`);
    this.dropped = 0;
  }

  private line(buf: Buffer, start: number, end: number, torn: boolean): void {
    const { name, kind } = this;
    const lineNo = ++this.lineNo;
    const decoded = start === end ? ({ ok: false, reason: 'empty line' } as const) : decodeLine(buf, start, end);
    if (lineNo === 1) {
      const h = decoded.ok ? asHeader(decoded.value, kind) : undefined;
      if (h) {
        if (h.v !== FORMAT_VERSION) {
          throw new Error(`${this.file}: format version ${h.v} is not supported (this build reads version ${FORMAT_VERSION})`);
        }
        this.gen = h.gen;
        this.count = h.count;
        // Whatever followed it was cut off (by a crash, nothing acknowledged was; by damage, it may have been).
        if (torn) this.warn(`${name} line 1: header has no trailing newline (interrupted write); nothing follows it`);
        return;
      }
      // A header lost to a crash right after the file was created: nothing in it was acknowledged.
      if (torn) {
        this.warn(`${name} line 1: torn header (${end - start} bytes, no newline): file ignored`);
        this.done = true;
        return;
      }
      this.warn(
        `${name} line 1: header unreadable (${decoded.ok ? 'not a ' + kind + ' header' : decoded.reason}); ` +
          (kind === 'lease-journal' ? 'assuming it belongs to the current snapshot' : 'every journal will be replayed over it'),
      );
      // fall through: the line may still be a record
    }
    if (decoded.ok) {
      const problem = recordProblem(decoded.value);
      if (problem === undefined) {
        this.onRecord(normalizeRecord(decoded.value as LeaseRecord));
        if (torn) {
          this.warn(`${name} line ${lineNo}: last record has no trailing newline (interrupted write); it is complete and was kept`);
        }
      } else if (lineNo !== 1) {
        this.warn(`${name} line ${lineNo}: not a lease record (${problem}): skipped`);
      }
    } else if (torn) {
      this.warn(
        `${name} line ${lineNo}: torn record at end of file (${end - start} bytes, no newline, ${decoded.reason}): skipped; ` +
          'it was never acknowledged',
      );
    } else if (lineNo !== 1) {
      this.warn(`${name} line ${lineNo}: ${decoded.reason}: record skipped`);
    }
  }
}

/** One lease file's bytes at once (LeaseFileReader over a single chunk). */
export function parseLeaseFile(buf: Buffer, file: string, name: string, kind: LeaseFileKind): ParsedLeaseFile {
  const records: LeaseRecord[] = [];
  const reader = new LeaseFileReader(file, name, kind, (r) => records.push(r));
  reader.push(buf);
  reader.end();
  return { gen: reader.gen, count: reader.count, records, warnings: reader.warnings };
}
