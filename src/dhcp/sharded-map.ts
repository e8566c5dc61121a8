// A string-keyed Map split into 64 shards by a hash of the key's tail.
//
// V8 grows a Map by rehashing every entry into a new table twice the size, in
// one go. The lease table's two indexes and the journal's records since the
// last snapshot each hold one entry per lease and grow in step: under a flood
// of new phones the three of them cross the same power of two together, inside
// one packet's handling, long enough to overflow a relay's queue (the CPU
// profile is in BENCHMARKS.md, "DHCP: where the last drops were").
// Split 64 ways, a growth moves 1/64 of the entries. Iteration goes
// shard by shard, not in insertion order: nothing here needs that order.
const SHARDS = 64;

export class ShardedMap<V> implements Iterable<[string, V]> {
  private readonly shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map<string, V>());

  constructor(entries?: Iterable<readonly [string, V]>) {
    if (entries) for (const [k, v] of entries) this.set(k, v);
  }

  /**
   * By the last three characters and the length: where addresses, MACs and client
   * ids differ, and cheap (a longer hash doubled the cost of a lookup). Shards of
   * 100,000 pool addresses come out 0.9-2.4 % of the entries each.
   */
  private shard(key: string): Map<string, V> {
    const n = key.length;
    if (n < 3) return this.shards[n]!;
    const h = key.charCodeAt(n - 1) + key.charCodeAt(n - 2) * 7 + key.charCodeAt(n - 3) * 59 + n * 13;
    return this.shards[h & (SHARDS - 1)]!;
  }

  get size(): number {
    let n = 0;
    for (const s of this.shards) n += s.size;
    return n;
  }

  get(key: string): V | undefined {
    return this.shard(key).get(key);
  }

  has(key: string): boolean {
    return this.shard(key).has(key);
  }

  set(key: string, value: V): this {
    this.shard(key).set(key, value);
    return this;
  }

  delete(key: string): boolean {
    return this.shard(key).delete(key);
  }

  *keys(): IterableIterator<string> {
    for (const s of this.shards) yield* s.keys();
  }

  *values(): IterableIterator<V> {
    for (const s of this.shards) yield* s.values();
  }

  *entries(): IterableIterator<[string, V]> {
    for (const s of this.shards) yield* s.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}
