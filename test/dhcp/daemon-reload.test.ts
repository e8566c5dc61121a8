// DhcpDaemon.reload: the new pool, options and lease times serve at once; a
// changed port or address needs a restart (logged), and until then replies
// still go where the bound socket's clients are (a relay at the bound port)
// and name the bound server id.
import t from 'tap';
import { pino } from 'pino';
import { MessageType } from '../../src/wire/dhcp-message.js';
import { clientMessage } from '../helpers/relay-client.js';
import { startLoopbackDhcp } from '../helpers/loopback-dhcp.js';

const NET = `127.${60 + (process.pid % 40)}.0`;
const MAC = '02:00:00:00:15:01';
const u32 = (b: Uint8Array | undefined) => (b ? Buffer.from(b).readUInt32BE(0) : undefined);

t.test('reload: lease time swapped; port and server id stay those of the socket until a restart', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const { daemon, plan, port, relay } = await startLoopbackDhcp(t, {
    name: 'dhcp-reload',
    subnet: `${NET}.0/24`,
    pool: `${NET}.100-${NET}.150`,
    router: `${NET}.1`,
    reserved: { mac: '02:00:00:00:15:99', ip: `${NET}.50` },
    logger,
    port: (attempt) => 33000 + ((process.pid * 19 + attempt * 83) % 22000),
    relay: true,
  });
  const discover = () => relay!.exchange(clientMessage(MessageType.DISCOVER, MAC, `${NET}.1`));
  const before = await discover();
  t.equal(before?.options.get(53)?.[0], MessageType.OFFER, 'offered');
  t.equal(u32(before?.options.get(51)), plan.dhcp.scopes[0]!.leaseSeconds, 'the site\'s lease time');

  daemon.reload({
    ...plan,
    address: '127.0.0.2',
    dhcp: { ...plan.dhcp, port: port + 50, serverId: '127.0.0.2', scopes: [{ ...plan.dhcp.scopes[0]!, leaseSeconds: 600, renewSeconds: 300, rebindSeconds: 525 }] },
  });
  t.ok(
    lines.some((l) => l.level === 40 && l.msg === 'interface, address or DHCP port changed: restart provlab for that to take effect'),
    'a restart is asked for',
  );
  const after = await discover();
  t.equal(after?.options.get(53)?.[0], MessageType.OFFER, 'the relay at the bound port still gets the OFFER');
  t.equal(u32(after?.options.get(51)), 600, 'the new lease time');
  t.same(Array.from(after?.options.get(54) ?? []), [127, 0, 0, 1], 'option 54 names the address still bound');
});
