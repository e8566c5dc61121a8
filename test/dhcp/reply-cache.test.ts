// The engine's shared values: built once per key, shared, bounded.
import t from 'tap';
import { Interned, LastAnswer, ReplyOptionsCache } from '../../src/dhcp/reply-cache.js';
import { isShared } from '../../src/dhcp/reply-template.js';

t.test('Interned: equal bytes give the same value, a copy of the key is kept', async (t) => {
  let made = 0;
  const prls = new Interned<number[]>((b) => (made++, Array.from(b)), 2);
  const datagram = Uint8Array.of(1, 3, 6, 43, 120);
  const a = prls.get(datagram);
  datagram[0] = 99; // the datagram buffer is reused for the next packet
  t.equal(prls.get(Uint8Array.of(1, 3, 6, 43, 120)), a);
  t.equal(made, 1);
  prls.get(Uint8Array.of(1));
  prls.get(Uint8Array.of(2)); // evicts the oldest
  t.not(prls.get(Uint8Array.of(1, 3, 6, 43, 120)), a);
  t.equal(made, 4);
});

t.test('ReplyOptionsCache: one shared map per (class, option 55, kind); bounded', async (t) => {
  const built: string[] = [];
  const cache = new ReplyOptionsCache((_cls, prl, kind) => {
    built.push(`${kind}:${prl.join(',')}`);
    return new Map([[53, Uint8Array.of(kind === 'offer' ? 2 : 5)]]);
  });
  const prl = [1, 3, 43];
  const offer = cache.get(undefined, prl, 'offer');
  t.ok(isShared(offer), 'marked shared, so a template may be kept for it');
  t.equal(cache.get(undefined, prl, 'offer'), offer);
  t.equal(cache.get(undefined, [1, 3, 43], 'offer'), offer, 'an equal list that is not the interned one');
  t.not(cache.get(undefined, prl, 'ack'), offer);
  t.same(built, ['offer:1,3,43', 'ack:1,3,43']);
  for (let i = 0; i < 1000; i++) cache.get(undefined, [i], 'offer');
  t.ok((cache as unknown as { size: number }).size <= 256, 'a client cycling request lists does not grow memory');
  cache.clear();
  cache.get(undefined, prl, 'offer');
  t.equal(built.at(-1), 'offer:1,3,43', 'rebuilt after clear (a reload)');
});

t.test('LastAnswer: computed again only for another key', async (t) => {
  let calls = 0;
  const inSubnet = new LastAnswer((ip) => (calls++, ip.startsWith('10.')));
  t.equal(inSubnet.get('10.0.0.1'), true);
  t.equal(inSubnet.get('10.0.0.1'), true);
  t.equal(inSubnet.get('192.0.2.1'), false);
  t.equal(calls, 2);
  inSubnet.clear();
  inSubnet.get('192.0.2.1');
  t.equal(calls, 3);
});
