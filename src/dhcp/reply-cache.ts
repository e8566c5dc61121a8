// What the DHCP engine computes once and shares between packets, kept apart
// from the RFC 2131 logic that uses it. Phones of one model send the same
// option 55 and 60 bytes and get the same options, so those are decoded and
// built once (how much that saves: BENCHMARKS.md and bench/micro-dhcp.mjs).
// Every shared value is read-only: a reply's options map is also the key of
// its encoded template (reply-template.ts).
import type { ClientClassPlan } from '../site/plan.js';
import { shareOptions } from './reply-template.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The last few distinct values of one option, decoded once, so equal bytes
 * give the same array or string (and one cache key) instead of a new one per packet.
 */
export class Interned<T> {
  private readonly keys: Uint8Array[] = [];
  private readonly values: T[] = [];
  constructor(
    private readonly make: (bytes: Uint8Array) => T,
    private readonly size = 8,
  ) {}

  get(bytes: Uint8Array): T {
    for (let i = 0; i < this.keys.length; i++) if (sameBytes(this.keys[i]!, bytes)) return this.values[i]!;
    const value = this.make(bytes);
    if (this.keys.length >= this.size) {
      this.keys.pop();
      this.values.pop();
    }
    // A copy: decoded option values are views into the datagram.
    this.keys.unshift(bytes.slice());
    this.values.unshift(value);
    return value;
  }
}

/** The three replies that carry options: OFFER, ACK to a REQUEST, ACK to an INFORM. */
export type ReplyKind = 'offer' | 'ack' | 'inform-ack';

/** Options maps per (class, parameter request list): a client cycling random lists must not grow memory. */
const MAX_ENTRIES = 256;

interface Entry {
  readonly cls: ClientClassPlan | undefined;
  readonly prl: readonly number[];
  readonly replies: Partial<Record<ReplyKind, ReadonlyMap<number, Uint8Array>>>;
}

/**
 * A reply's whole options map per (class, option 55, reply kind), built by
 * `build` on first use and shared by every reply of that kind (so its bytes
 * are encoded once: reply-template.ts). Valid for one plan: `clear` on reload.
 */
export class ReplyOptionsCache {
  /** Per class (by identity: the plan's objects), per option 55 as text. */
  private entries = new Map<ClientClassPlan | undefined, Map<string, Entry>>();
  private size = 0;
  /** The last entry used: DISCOVER and REQUEST of one phone model hit it without building a key. */
  private last: Entry | undefined;

  constructor(
    private readonly build: (cls: ClientClassPlan | undefined, prl: readonly number[], kind: ReplyKind) => Map<number, Uint8Array>,
  ) {}

  /** `prl` interned: the same array means the same bytes. */
  get(cls: ClientClassPlan | undefined, prl: readonly number[], kind: ReplyKind): ReadonlyMap<number, Uint8Array> {
    const entry = this.entryFor(cls, prl);
    return (entry.replies[kind] ??= shareOptions(this.build(cls, prl, kind)));
  }

  clear(): void {
    this.entries = new Map();
    this.size = 0;
    this.last = undefined;
  }

  private entryFor(cls: ClientClassPlan | undefined, prl: readonly number[]): Entry {
    const last = this.last;
    if (last !== undefined && last.cls === cls && last.prl === prl) return last;
    const key = prl.join(',');
    let forClass = this.entries.get(cls);
    let entry = forClass?.get(key);
    if (entry === undefined) {
      if (this.size >= MAX_ENTRIES) this.clear();
      entry = { cls, prl, replies: {} };
      forClass = this.entries.get(cls);
      if (forClass === undefined) this.entries.set(cls, (forClass = new Map()));
      forClass.set(key, entry);
      this.size++;
    }
    // Remembered only for an interned list: another array with the same bytes builds the key.
    if (entry.prl === prl) this.last = entry;
    return entry;
  }
}

/** The last relay address checked and its answer: every relayed packet of a VLAN carries the same giaddr. */
export class LastAnswer<T = boolean> {
  private key: string | undefined;
  private value: T | undefined;
  constructor(private readonly compute: (key: string) => T) {}

  get(key: string): T {
    if (key !== this.key || this.value === undefined) {
      this.value = this.compute(key);
      this.key = key;
    }
    return this.value;
  }

  clear(): void {
    this.key = undefined;
  }
}
