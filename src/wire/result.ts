// Decoders never throw on bad input: they return a typed failure that says
// what was wrong and where, so daemons can count and drop, and `decode` can explain.

export interface DecodeError {
  /** Stable machine-readable code, e.g. 'truncated', 'bad-cookie', 'forward-pointer'. */
  readonly code: string;
  /** A sentence a person understands. */
  readonly message: string;
  /** Byte offset in the input where the problem was found, when known. */
  readonly offset?: number;
}

export type Result<T, E = DecodeError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });

export const fail = (code: string, message: string, offset?: number): Result<never> => ({
  ok: false,
  error: offset === undefined ? { code, message } : { code, message, offset },
});
