// A real provlab NTP process on port 123, inside network namespaces made by
// this test (ntpdig has no port option): ntpdig in the client namespace
// accepts it across a veth link; ntpq/ntpdc-style queries (mode 6, 7) and
// garbage get no reply; and it keeps answering afterwards.
import t from 'tap';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createLab, namespaceSkip, type Lab } from '../helpers/netns.js';
import { ROOT } from '../helpers/provlab.js';

const SERVE = fileURLToPath(new URL('./fixtures/serve-ntp.mjs', import.meta.url));
const PROBE = fileURLToPath(new URL('./fixtures/ntp-probe.mjs', import.meta.url));
const CHRONYD_REQUEST = '23000620000000000000000000000000000000000000000000000000000000000000000000000000b1a7477ea5f150f5';

// `2026-11-23 20:35:24.257229 (+0000) +0.000607 +/- 0.001536 10.99.1.1 s10 no-leap`
const NTPDIG_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \([+-]\d{4}\) ([+-][\d.]+) \+\/- ([\d.]+) (\S+) s(\d+) (\S+)$/m;

interface Server {
  stderr: () => string;
  stop(): Promise<Record<string, number>>;
}

async function startServer(lab: Lab): Promise<Server> {
  const child = lab.spawn(lab.server, process.execPath, [SERVE, lab.serverIp, '123', '10']);
  let err = '';
  let out = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const deadline = Date.now() + 10_000;
  while (!err.includes('NTP serving on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`NTP server did not start:\n${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    stderr: () => err,
    async stop() {
      const closed = new Promise((r) => child.on('close', r));
      child.kill('SIGTERM');
      await closed;
      return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, number>;
    },
  };
}

function ntpdig(lab: Lab): { offset: number; error: number; server: string; stratum: number; leap: string } {
  const out = lab.exec(lab.client, 'timeout', ['10', 'ntpdig', '-t', '2', lab.serverIp], 15_000);
  const m = NTPDIG_LINE.exec(out);
  if (!m) throw new Error(`ntpdig printed no result line:\n${out}`);
  return { offset: Number(m[1]), error: Number(m[2]), server: m[3]!, stratum: Number(m[4]), leap: m[5]! };
}

function probe(lab: Lab, packets: string[], waitMs = 300): { sent: string; replies: string[] }[] {
  const out = lab.exec(lab.client, process.execPath, [PROBE, lab.serverIp, '123', String(waitMs), ...packets], 30_000);
  return JSON.parse(out) as { sent: string; replies: string[] }[];
}

t.test('ntpdig accepts provlab on port 123; mode 6/7 and garbage get nothing', { skip: namespaceSkip(['ntpdig']) }, async (t) => {
  if (!existsSync(`${ROOT}/dist/ntp/daemon.js`)) {
    t.fail('dist/ntp/daemon.js is missing: run `npx tsc -p tsconfig.json` (npm test does it as pretest)');
    return;
  }
  const lab = createLab(t);
  // The client's address is known only once the lab has picked its subnet.
  const clientIp = `${lab.prefix}.2`;
  lab.exec(lab.client, 'ip', ['addr', 'add', `${clientIp}/24`, 'dev', lab.clientIf]);
  const server = await startServer(lab);
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await server.stop().catch(() => undefined);
  });

  const first = ntpdig(lab);
  t.equal(first.server, lab.serverIp);
  t.equal(first.stratum, 10, 'stratum 10');
  t.equal(first.leap, 'no-leap', 'LI 0');
  // ntpdig is Python and takes one sample: its own timestamps are only good to milliseconds.
  t.ok(Math.abs(first.offset) < 0.05, `ntpdig offset ${first.offset} s (+/- ${first.error})`);

  const silent = [
    '160200010000000000000000', // ntpq readvar, mode 6 (RFC 9327)
    '16' + '00'.repeat(47), // mode 6 padded to 48 bytes
    '1700032a' + '00'.repeat(44), // ntpdc monlist, mode 7
    '2700032a' + '00'.repeat(44), // v4 mode 7
    '24' + CHRONYD_REQUEST.slice(2), // server mode
    '03' + CHRONYD_REQUEST.slice(2), // version 0
    '3b' + CHRONYD_REQUEST.slice(2), // version 7
    '', // empty
    '23', // 1 byte
    CHRONYD_REQUEST.slice(0, 94), // 47 bytes
    '26' + randomBytes(1000).toString('hex'), // big mode 6 junk
    'ff'.repeat(48),
  ];
  const results = probe(lab, silent, 200);
  for (const r of results) t.same(r.replies, [], `no reply to ${r.sent.slice(0, 24) || '(empty)'}${r.sent.length > 24 ? '…' : ''} (${r.sent.length / 2} bytes)`);

  const [after] = probe(lab, [CHRONYD_REQUEST]);
  t.equal(after!.replies.length, 1, 'a client request right after still gets exactly one reply');
  t.equal(after!.replies[0]!.slice(48, 64), CHRONYD_REQUEST.slice(80), 'origin copied byte for byte');
  t.equal(after!.replies[0]!.slice(0, 2), '24', 'LI 0, v4, mode 4');
  const again = ntpdig(lab);
  t.ok(again.stratum === 10 && Math.abs(again.offset) < 0.05, `ntpdig still accepts it (${again.offset} s)`);

  const counters = await server.stop();
  stopped = true;
  t.equal(counters.replies, 3, 'two ntpdig answers and one probe');
  t.equal(counters.malformed! + counters.badMode! + counters.badVersion!, silent.length, `every bad datagram counted: ${JSON.stringify(counters)}`);
  t.equal(counters.internalErrors, 0);

  // The per-phone timeline line: who, which version, how far off its clock was.
  const lines = server
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const seen = lines.find((l) => l.level === 30 && l.client === clientIp);
  t.ok(seen, 'first request from the client logged at info');
  t.equal(seen?.version, 4);
  t.ok(Math.abs(seen?.clientOffsetMs as number) < 1000, `ntpdig's clock vs ours: ${String(seen?.clientOffsetMs)} ms`);
  t.ok(
    lines.some((l) => l.level === 20 && l.client === clientIp && l.reason === 'mode'),
    'drops logged at debug',
  );
});
