// Floods in the log (issue 20): an INFORM flood from random MACs wrote 142 MB
// in 20 s, a DISCOVER flood 40 MB in 75 s. Each client's first lines in a
// second are written, and at most a bound in all; the rest are summed up in one
// line when the second ends. The daemon's clock is the test's.
import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { encodeDhcpMessage, MessageType } from '../../src/wire/dhcp-message.js';
import { startLoopbackDhcp } from '../helpers/loopback-dhcp.js';
import { clientMessage } from '../helpers/relay-client.js';

const NET = `127.${90 + (process.pid % 30)}`;

const mac = (i: number) => `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

t.test('a flood of INFORMs from random MACs and DISCOVERs from one: bounded lines, then one summary line', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  let clock = Date.UTC(2026, 0, 1);
  const { daemon } = await startLoopbackDhcp(t, {
    name: 'log-flood',
    subnet: `${NET}.0.0/22`,
    pool: `${NET}.1.10-${NET}.1.20`,
    router: `${NET}.0.1`,
    reserved: { mac: '00:04:f2:95:31:a2', ip: `${NET}.0.50` },
    logger: pino({ level: 'info' }, stream),
    port: (attempt) => 31000 + ((process.pid * 17 + attempt * 89) % 24000),
    now: () => clock,
  });
  const started = lines.length;
  const packet = (type: number, m: string, ciaddr?: string) => {
    const msg = clientMessage(type, m, `${NET}.0.1`);
    if (ciaddr) msg.ciaddr = ciaddr;
    const e = encodeDhcpMessage(msg);
    if (!e.ok) throw new Error(e.error.message);
    return e.value;
  };
  for (let i = 0; i < 3000; i++) daemon.receive(packet(MessageType.INFORM, mac(i), `${NET}.2.${i % 250 + 1}`), 'relay-socket');
  for (let i = 0; i < 100; i++) daemon.receive(packet(MessageType.DISCOVER, '02:aa:00:00:00:01'), 'relay-socket');
  await new Promise((r) => setTimeout(r, 50));
  const exchanges = lines.slice(started).filter((l) => String(l.msg).startsWith('DHCP'));
  t.equal(daemon.counters.inform, 3000, 'every INFORM handled');
  t.equal(exchanges.length, 200, 'at most 200 exchange lines a second');
  clock += 1000;
  daemon.receive(packet(MessageType.INFORM, mac(99_999), `${NET}.2.7`), 'relay-socket');
  await new Promise((r) => setTimeout(r, 50));
  const summary = lines.find((l) => String(l.msg).startsWith('DHCP flood'));
  t.ok(summary, 'one summary line for the second');
  t.equal(summary?.notLogged, 2900);
  t.equal(summary?.clients, 2801);
  t.same((summary?.top as unknown[])[0], { client: '02:aa:00:00:00:01', lines: 100 }, 'the heaviest client named');
  t.ok(lines.some((l) => String(l.msg).includes(mac(99_999))), 'the next second logs again');
});
