// The hand-built "dns query" line must be the line pino itself writes for
// logger.info(fields, 'dns query'): pino is the reference, the time aside.
import t from 'tap';
import { pino } from 'pino';
import { QueryLog } from '../../src/dns/query-log.js';

function capture(options: pino.LoggerOptions = {}) {
  const writes: string[] = [];
  const root = pino({ level: 'info', base: { pid: 4242 }, ...options }, { write: (s: string) => void writes.push(s) });
  return { logger: root.child({ daemon: 'dns' }), writes };
}

const withoutTime = (line: string) => line.replace(/,"time":\d+/, '');

const cases: Array<[string, string | null, string | null, string, boolean, string | undefined]> = [
  ['192.0.2.1', 'ucupdates-r2.schertz.name', 'A', 'NOERROR', false, undefined],
  ['192.0.2.1', 'we"ird\\na\u00e9me.\u0001.', 'TYPE65280', 'NXDOMAIN', false, undefined],
  ['::ffff:192.0.2.9', null, null, 'FORMERR', true, undefined],
  ['192.0.2.1', 'host.example.net', 'SRV', 'NOERROR', false, '198.51.100.53'],
];

t.test('byte-identical to pino, batched into one write', async (t) => {
  const mine = capture();
  const ref = capture();
  const q = new QueryLog(mine.logger);
  for (const [client, name, type, rcode, tcp, forwarder] of cases) {
    q.add(client, name, type, rcode, tcp, forwarder);
    const line: Record<string, unknown> = { client, name, type, rcode };
    if (tcp) line.tcp = true;
    if (forwarder) line.forwarder = forwarder;
    ref.logger.info(line, 'dns query');
  }
  t.same(mine.writes, [], 'nothing written before flush');
  q.flush();
  t.equal(mine.writes.length, 1, 'one write for the batch');
  const lines = mine.writes[0]!.split('\n').filter(Boolean);
  t.same(lines.map(withoutTime), ref.writes.map((l) => withoutTime(l.trimEnd())));
  for (const l of lines) t.match(JSON.parse(l), { level: 30, pid: 4242, daemon: 'dns', msg: 'dns query' });
  q.flush();
  t.equal(mine.writes.length, 1, 'an empty flush writes nothing');
});

t.test('a logger that reshapes lines gets plain pino calls', async (t) => {
  for (const options of [{ mixin: () => ({ site: 'x' }) }, { messageKey: 'message' }, { formatters: { level: (label: string) => ({ level: label }) } }]) {
    const mine = capture(options);
    const ref = capture(options);
    const q = new QueryLog(mine.logger);
    q.add('192.0.2.1', 'a.b', 'A', 'NOERROR');
    q.flush();
    ref.logger.info({ client: '192.0.2.1', name: 'a.b', type: 'A', rcode: 'NOERROR' }, 'dns query');
    t.same(mine.writes.map(withoutTime), ref.writes.map(withoutTime), Object.keys(options)[0]!);
  }
});

t.test('level', async (t) => {
  const { logger } = capture({ level: 'warn' });
  t.equal(new QueryLog(logger).enabled, false);
  logger.level = 'info';
  t.equal(new QueryLog(logger).enabled, true);
});

t.test('flood guard: 50 lines per client per second, the rest summed up when the second ends', async (t) => {
  const { logger, writes } = capture();
  const q = new QueryLog(logger);
  for (let i = 0; i < 60; i++) q.add('192.0.2.1', `n${i}.schertz.name`, 'A', 'NOERROR');
  for (let i = 0; i < 3; i++) q.add('192.0.2.2', 'ucupdates-r2.schertz.name', 'A', 'NOERROR');
  q.flush();
  const lines = () => writes.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(lines().filter((l) => l.client === '192.0.2.1' && l.msg === 'dns query').length, 50, 'the first 50 of the flooding client');
  t.equal(lines().filter((l) => l.client === '192.0.2.2').length, 3, 'the other client is not affected');
  q.roll();
  const summary = lines().filter((l) => l.notLogged !== undefined);
  t.equal(summary.length, 1, 'one summary line');
  t.match(summary[0], { level: 30, daemon: 'dns', client: '192.0.2.1', notLogged: 10, limit: 50 });
  t.match(String(summary[0]!.msg), /10 more queries from 192\.0\.2\.1/);
  q.add('192.0.2.1', 'again.schertz.name', 'A', 'NOERROR');
  q.flush();
  t.equal(lines().filter((l) => l.name === 'again.schertz.name').length, 1, 'a new second: written again');
  q.roll();
  t.equal(lines().filter((l) => l.notLogged !== undefined).length, 1, 'no summary for a quiet second');
});
