// Reply bytes from a template: every OFFER (or ACK) to phones of one model
// carries the same options, so their options area is encoded once (by the
// wire encoder, src/wire/dhcp-message.ts) and each reply copies it and writes
// its own fixed header (RFC 2131 §2, figure 1). Byte for byte what
// encodeDhcpMessage gives, as long as the options fit without overload (RFC 2132
// §9.3); otherwise, or when a header field is not writable, the caller falls
// back to encodeDhcpMessage (test/dhcp/reply-template.test.ts compares the two).
import { putU32 } from '../wire/bytes.js';
import { encodeDhcpMessage, type DhcpMessage } from '../wire/dhcp-message.js';
import { parseIPv4 } from '../wire/ipv4.js';

export interface ReplyTemplate {
  /** The plain encoding (header zero): options, end option, zero padding to 300 bytes. */
  readonly bytes: Uint8Array;
  /** encodeDhcpMessage's size without overload (240 + options + end): the template applies up to a maxSize this large. */
  readonly plain: number;
  /** Option codes in send order (shared: never mutate). */
  readonly codes: readonly number[];
}

// RFC 2131 §2 offsets; 300 bytes is the BOOTP minimum the encoder pads to.
const SNAME = 44;
const FILE = 108;
const OPTIONS = 240;
const BOOTP_MIN = 300;

/** Options maps the engine shares between replies -> their template (null: none possible), made on first use. */
const templates = new WeakMap<ReadonlyMap<number, Uint8Array>, ReplyTemplate | null | 'pending'>();

/**
 * Marks an options map as shared between replies and never changed again, so
 * a template may be kept for it. Maps not marked (a caller's own) never get one.
 */
export function shareOptions<M extends ReadonlyMap<number, Uint8Array>>(options: M): M {
  if (!templates.has(options)) templates.set(options, 'pending');
  return options;
}

export function isShared(options: ReadonlyMap<number, Uint8Array>): boolean {
  return templates.has(options);
}

/** Replies never fill sname and file (no BOOTP boot file here): one zeroed copy of each, shared, never written. */
export const NO_SNAME = new Uint8Array(64);
export const NO_FILE = new Uint8Array(128);

function templateOf(options: ReadonlyMap<number, Uint8Array>): ReplyTemplate | null {
  const known = templates.get(options);
  if (known === undefined) return null;
  if (known !== 'pending') return known;
  let t: ReplyTemplate | null = null;
  const probe: DhcpMessage = {
    op: 0, htype: 0, hlen: 0, hops: 0, xid: 0, secs: 0, flags: 0,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: new Uint8Array(16), sname: NO_SNAME, file: NO_FILE,
    options: options as Map<number, Uint8Array>,
  };
  // No size limit: the plain layout, whatever its length.
  const r = encodeDhcpMessage(probe, { maxSize: Number.MAX_SAFE_INTEGER });
  if (r.ok) {
    let optionBytes = 0;
    for (const data of options.values()) optionBytes += data.length === 0 ? 2 : data.length + 2 * Math.ceil(data.length / 255);
    const plain = OPTIONS + optionBytes + 1;
    if (r.value.length === Math.max(BOOTP_MIN, plain)) t = { bytes: r.value, plain, codes: [...options.keys()] };
  }
  templates.set(options, t);
  return t;
}

function isByte(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xff;
}

/**
 * The reply's bytes from its options' template, or undefined when there is no
 * template for them, they need overload to fit `maxSize`, or a header field is
 * not one encodeDhcpMessage would write (the caller then uses encodeDhcpMessage, which
 * says why).
 */
export function encodeFromTemplate(
  msg: DhcpMessage,
  maxSize: number,
  extra?: ReadonlyArray<readonly [number, Uint8Array]>,
): { bytes: Uint8Array; codes: readonly number[] } | undefined {
  const t = templateOf(msg.options);
  if (t === null) return undefined;
  // Options copied from the request (61, 82) go after the template's, before its end option.
  let extraBytes = 0;
  if (extra) {
    for (const [code, v] of extra) {
      if (msg.options.has(code) || v.length > 255) return undefined;
      extraBytes += 2 + v.length;
    }
  }
  // As encodeDhcpMessage reads its limit.
  const limit = Math.max(BOOTP_MIN, Number.isFinite(maxSize) ? Math.floor(maxSize) : 576);
  if (t.plain + extraBytes > limit) return undefined;
  if (!isByte(msg.op) || !isByte(msg.htype) || !isByte(msg.hlen) || msg.hlen > 16 || !isByte(msg.hops)) return undefined;
  if (!Number.isInteger(msg.xid) || msg.xid < 0 || msg.xid > 0xffffffff) return undefined;
  if (!Number.isInteger(msg.secs) || msg.secs < 0 || msg.secs > 0xffff) return undefined;
  if (!Number.isInteger(msg.flags) || msg.flags < 0 || msg.flags > 0xffff) return undefined;
  if (msg.chaddr.length > 16 || msg.sname.length > 64 || msg.file.length > 128) return undefined;
  const ciaddr = parseIPv4(msg.ciaddr);
  const yiaddr = parseIPv4(msg.yiaddr);
  const siaddr = parseIPv4(msg.siaddr);
  const giaddr = parseIPv4(msg.giaddr);
  if (ciaddr < 0 || yiaddr < 0 || siaddr < 0 || giaddr < 0) return undefined;

  // From Node's pool, not a backing store of its own per reply; every byte is written below.
  const out = Buffer.allocUnsafe(extraBytes === 0 ? t.bytes.length : Math.max(BOOTP_MIN, t.plain + extraBytes));
  out.set(t.bytes, 0);
  if (extraBytes > 0) {
    let at = t.plain - 1;
    for (const [code, v] of extra!) {
      out[at] = code;
      out[at + 1] = v.length;
      out.set(v, at + 2);
      at += 2 + v.length;
    }
    out[at++] = 0xff;
    out.fill(0, at);
  }
  out[0] = msg.op;
  out[1] = msg.htype;
  out[2] = msg.hlen;
  out[3] = msg.hops;
  putU32(out, 4, msg.xid);
  out[8] = msg.secs >>> 8;
  out[9] = msg.secs & 0xff;
  out[10] = msg.flags >>> 8;
  out[11] = msg.flags & 0xff;
  putU32(out, 12, ciaddr);
  putU32(out, 16, yiaddr);
  putU32(out, 20, siaddr);
  putU32(out, 24, giaddr);
  // The template holds zeros there; a shorter chaddr, sname or file leaves them, as the encoder does.
  out.set(msg.chaddr, 28);
  if (msg.sname !== NO_SNAME) out.set(msg.sname, SNAME);
  if (msg.file !== NO_FILE) out.set(msg.file, FILE);
  return { bytes: out, codes: t.codes };
}
