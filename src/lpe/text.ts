// Small readings of bytes that the LPE rules quote in their messages.
import { latin1Bytes } from '../wire/bytes.js';

/** Text with control and non-ASCII bytes shown as \xNN, quoted. */
export function quoteText(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${s}"`;
}

/** The same escaping without quotes, for URLs. */
export function escapeText(text: string): string {
  return quoteText(latin1Bytes(text)).slice(1, -1).replace(/\\(["\\])/g, '$1');
}

/** First offset of a byte outside printable ASCII (0x20..0x7e), or -1. */
export function firstNonPrintable(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return i;
  return -1;
}


