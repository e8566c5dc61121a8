// The generic option codec: value bytes (no code, no length) <-> typed values,
// driven by the row's type in option-defs.ts. Long values are not a concern
// here: the message codec splits and joins instances (RFC 3396).

import { decodeEncapsulated, encodeEncapsulated } from './rfc2132-encapsulated.js';
import { findOptionDef, type OptionDef, type OptionType } from './option-defs.js';
import { decodeSipServers, encodeSipServers, type SipServers } from './rfc3361-sip.js';
import { decodeSearchList, encodeSearchList } from './rfc3397-search.js';
import { latin1, latin1Bytes } from './bytes.js';
import { isIPv4, readIp, writeIp } from './ipv4.js';
import { fail, ok, type Result } from './result.js';

export interface EncapsulatedSubOption {
  code: number;
  /** Typed by the sub-option's row when the space has one, else 'binary'. */
  value: OptionValue;
}

export interface EncapsulatedValue {
  subOptions: EncapsulatedSubOption[];
  /** True when the data carried a 0xFF end marker (dnsmasq adds one; the phone's known-good form has none). */
  endMarker: boolean;
  /** Bytes after the end marker, kept so that decode -> encode gives back the same bytes. */
  trailing?: Uint8Array;
}

export type OptionValue =
  | { type: 'empty' }
  | { type: 'ipv4'; value: string }
  | { type: 'ipv4-list'; value: string[] }
  | { type: 'uint8'; value: number }
  | { type: 'uint16'; value: number }
  | { type: 'uint32'; value: number }
  | { type: 'int32'; value: number }
  | { type: 'uint8-list'; value: number[] }
  | { type: 'uint16-list'; value: number[] }
  /** Latin-1, byte for byte; trailing NULs are kept (RFC 2132 §2 lets receivers drop them; that is the caller's choice). */
  | { type: 'text'; value: string }
  | { type: 'binary'; value: Uint8Array }
  | { type: 'fqdn-list'; value: string[] }
  | { type: 'sip-servers'; value: SipServers }
  | { type: 'encapsulated'; value: EncapsulatedValue };

// Compile-time check that OptionValue covers every OptionType and nothing else.
type Covers = Exclude<OptionType, OptionValue['type']> | Exclude<OptionValue['type'], OptionType>;
const covers: [Covers] extends [never] ? true : never = true;
void covers;

function checkInt(v: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${what} ${v} is not an integer in ${min}..${max}`);
  return v;
}

function ipList(list: readonly string[]): Uint8Array {
  if (list.length === 0) throw new RangeError('an address list needs at least one address');
  const out = new Uint8Array(4 * list.length);
  list.forEach((a, i) => {
    if (!isIPv4(a)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(a)}`);
    writeIp(out, 4 * i, a);
  });
  return out;
}


/**
 * Encodes a value for its row. Throws TypeError when the value's type is not
 * the row's, RangeError when the value cannot be written (out of range, bad
 * address, bad name): values come from the validated plan, so this is a bug.
 */
export function encodeOptionValue(def: OptionDef, value: OptionValue): Uint8Array {
  if (def.type !== value.type) throw new TypeError(`option ${def.space}/${def.code} (${def.name}) is ${def.type}, got a ${value.type} value`);
  return encodeByType(value, def.encapsulates);
}

function encodeByType(v: OptionValue, space: string | undefined): Uint8Array {
  switch (v.type) {
    case 'empty':
      return new Uint8Array(0);
    case 'ipv4':
      return ipList([v.value]);
    case 'ipv4-list':
      return ipList(v.value);
    case 'uint8':
      return Uint8Array.of(checkInt(v.value, 0, 0xff, 'uint8'));
    case 'uint16': {
      const n = checkInt(v.value, 0, 0xffff, 'uint16');
      return Uint8Array.of(n >>> 8, n & 0xff);
    }
    case 'uint32':
    case 'int32': {
      const n = v.type === 'uint32' ? checkInt(v.value, 0, 0xffffffff, 'uint32') : checkInt(v.value, -0x80000000, 0x7fffffff, 'int32');
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, n >>> 0);
      return out;
    }
    case 'uint8-list':
      if (v.value.length === 0) throw new RangeError('a uint8 list needs at least one item');
      return Uint8Array.from(v.value, (n) => checkInt(n, 0, 0xff, 'uint8'));
    case 'uint16-list': {
      if (v.value.length === 0) throw new RangeError('a uint16 list needs at least one item');
      const out = new Uint8Array(2 * v.value.length);
      v.value.forEach((x, i) => {
        const n = checkInt(x, 0, 0xffff, 'uint16');
        out[2 * i] = n >>> 8;
        out[2 * i + 1] = n & 0xff;
      });
      return out;
    }
    case 'text':
      return latin1Bytes(v.value);
    case 'binary':
      return v.value;
    case 'fqdn-list':
      if (v.value.length === 0) throw new RangeError('a domain search list needs at least one name');
      return encodeSearchList(v.value);
    case 'sip-servers':
      return encodeSipServers(v.value);
    case 'encapsulated': {
      const subs = v.value.subOptions.map((s) => {
        const row = space === undefined ? undefined : findOptionDef(s.code, space);
        return { code: s.code, data: row ? encodeOptionValue(row, s.value) : encodeByType(s.value, undefined) };
      });
      const body = encodeEncapsulated(subs, { appendEnd: v.value.endMarker });
      const trailing = v.value.trailing;
      if (!v.value.endMarker || trailing === undefined || trailing.length === 0) return body;
      const out = new Uint8Array(body.length + trailing.length);
      out.set(body, 0);
      out.set(trailing, body.length);
      return out;
    }
  }
}

/**
 * Decodes value bytes by the row's type. Fails 'bad-length' when the length
 * does not fit the type; names and sub-options fail with their own codes.
 * For 'encapsulated', error offsets are relative to this option's data.
 */
export function decodeOptionValue(def: OptionDef, data: Uint8Array): Result<OptionValue> {
  return decodeByType(def.type, data, def.encapsulates, def.name);
}

function badLength(name: string, type: string, got: number, want: string): Result<never> {
  return fail('bad-length', `${name} is ${type}: needs ${want} bytes, got ${got}`, 0);
}

function decodeByType(type: OptionType, data: Uint8Array, space: string | undefined, name: string): Result<OptionValue> {
  const n = data.length;
  switch (type) {
    case 'empty':
      return n === 0 ? ok({ type }) : badLength(name, type, n, '0');
    case 'ipv4':
      return n === 4 ? ok({ type, value: readIp(data, 0) }) : badLength(name, type, n, '4');
    case 'ipv4-list': {
      if (n === 0 || n % 4 !== 0) return badLength(name, type, n, 'a non-zero multiple of 4');
      const value: string[] = [];
      for (let p = 0; p < n; p += 4) value.push(readIp(data, p));
      return ok({ type, value });
    }
    case 'uint8':
      return n === 1 ? ok({ type, value: data[0]! }) : badLength(name, type, n, '1');
    case 'uint16':
      return n === 2 ? ok({ type, value: (data[0]! << 8) | data[1]! }) : badLength(name, type, n, '2');
    case 'uint32':
    case 'int32': {
      if (n !== 4) return badLength(name, type, n, '4');
      const view = new DataView(data.buffer, data.byteOffset, 4);
      return ok(type === 'uint32' ? { type, value: view.getUint32(0) } : { type, value: view.getInt32(0) });
    }
    case 'uint8-list':
      return n > 0 ? ok({ type, value: Array.from(data) }) : badLength(name, type, n, 'at least 1');
    case 'uint16-list': {
      if (n === 0 || n % 2 !== 0) return badLength(name, type, n, 'a non-zero multiple of 2');
      const value: number[] = [];
      for (let p = 0; p < n; p += 2) value.push((data[p]! << 8) | data[p + 1]!);
      return ok({ type, value });
    }
    case 'text':
      return ok({ type, value: latin1(data.subarray(0, n)) });
    case 'binary':
      // A view into the message buffer, not a copy.
      return ok({ type, value: data });
    case 'fqdn-list': {
      const r = decodeSearchList(data);
      return r.ok ? ok({ type, value: r.value }) : r;
    }
    case 'sip-servers': {
      const r = decodeSipServers(data);
      return r.ok ? ok({ type, value: r.value }) : r;
    }
    case 'encapsulated': {
      const r = decodeEncapsulated(data);
      if (!r.ok) return r;
      const subOptions: EncapsulatedSubOption[] = [];
      for (const s of r.value.subOptions) {
        const row = space === undefined ? undefined : findOptionDef(s.code, space);
        if (row === undefined) {
          subOptions.push({ code: s.code, value: { type: 'binary', value: s.data } });
          continue;
        }
        const sub = decodeByType(row.type, s.data, row.encapsulates, `${name}/${row.name}`);
        if (!sub.ok) {
          const e = sub.error;
          return fail(e.code, `sub-option ${s.code} (${row.name}): ${e.message}`, s.offset + 2 + (e.offset ?? 0));
        }
        subOptions.push({ code: s.code, value: sub.value });
      }
      const value: EncapsulatedValue = { subOptions, endMarker: r.value.endMarker };
      if (r.value.trailing.length > 0) value.trailing = r.value.trailing;
      return ok({ type, value });
    }
  }
}
