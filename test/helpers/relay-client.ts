// A tiny DHCP relay agent on loopback for tests: it speaks to provlab the way
// a relay does (giaddr set, from the server port), so no root and no
// namespace is needed. Bounded: every call has a timeout.
import dgram from 'node:dgram';
import { decodeDhcpMessage, emptyMessage, encodeDhcpMessage, MessageType, type DhcpMessage } from '../../src/wire/dhcp-message.js';

export interface RelayClient {
  /** Full DISCOVER/OFFER/REQUEST/ACK for one MAC; resolves with the ACKed address or null. */
  lease(mac: string, options?: [number, Uint8Array][]): Promise<string | null>;
  send(msg: DhcpMessage): void;
  /** Sends and waits for the reply with the same xid. */
  exchange(msg: DhcpMessage, timeoutMs?: number): Promise<DhcpMessage | null>;
  /**
   * Sends a relayed INFORM (msg.ciaddr set) and waits for its ACK where RFC
   * 2131 §4.3.5 sends it: to ciaddr on the client port (server port + 1),
   * not back through the relay.
   */
  inform(msg: DhcpMessage, timeoutMs?: number): Promise<DhcpMessage | null>;
  raw(bytes: Uint8Array): void;
  close(): void;
}

let nextXid = (process.pid * 7919) >>> 0;

export function macBytes(mac: string): Uint8Array {
  const b = new Uint8Array(16);
  mac.split(':').forEach((h, i) => (b[i] = parseInt(h, 16)));
  return b;
}

export function clientMessage(type: number, mac: string, giaddr: string, options: [number, Uint8Array][] = []): DhcpMessage {
  const m = emptyMessage();
  m.op = 1;
  m.htype = 1;
  m.hlen = 6;
  m.hops = 1;
  m.xid = nextXid = (nextXid + 1) >>> 0;
  m.giaddr = giaddr;
  m.chaddr = macBytes(mac);
  m.options.set(53, new Uint8Array([type]));
  for (const [c, v] of options) m.options.set(c, v);
  return m;
}

export async function openRelay(giaddr: string, server: string, port: number): Promise<RelayClient> {
  const sock = dgram.createSocket('udp4');
  const waiting = new Map<number, (m: DhcpMessage) => void>();
  sock.on('message', (buf) => {
    const d = decodeDhcpMessage(buf);
    if (!d.ok) return;
    const w = waiting.get(d.value.xid);
    if (w) {
      waiting.delete(d.value.xid);
      w(d.value);
    }
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, giaddr, () => resolve());
  });
  const send = (msg: DhcpMessage): void => {
    const enc = encodeDhcpMessage(msg);
    if (!enc.ok) throw new Error(enc.error.message);
    sock.send(enc.value, port, server);
  };
  const exchange = (msg: DhcpMessage, timeoutMs = 2000): Promise<DhcpMessage | null> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting.delete(msg.xid);
        resolve(null);
      }, timeoutMs);
      waiting.set(msg.xid, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      send(msg);
    });
  const inform = async (msg: DhcpMessage, timeoutMs = 2000): Promise<DhcpMessage | null> => {
    const phone = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      phone.once('error', reject);
      phone.bind(port + 1, msg.ciaddr, () => resolve());
    });
    try {
      return await new Promise<DhcpMessage | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), timeoutMs);
        phone.on('message', (buf) => {
          const d = decodeDhcpMessage(buf);
          if (!d.ok || d.value.xid !== msg.xid) return;
          clearTimeout(timer);
          resolve(d.value);
        });
        send(msg);
      });
    } finally {
      phone.close();
    }
  };
  return {
    send,
    exchange,
    inform,
    raw: (bytes) => sock.send(bytes, port, server),
    async lease(mac, options = []) {
      const offer = await exchange(clientMessage(MessageType.DISCOVER, mac, giaddr, options));
      if (!offer || offer.options.get(53)?.[0] !== MessageType.OFFER) return null;
      const req = clientMessage(MessageType.REQUEST, mac, giaddr, [...options, [54, offer.options.get(54)!], [50, new Uint8Array(offer.yiaddr.split('.').map(Number))]]);
      const ack = await exchange(req);
      return ack && ack.options.get(53)?.[0] === MessageType.ACK ? ack.yiaddr : null;
    },
    close: () => sock.close(),
  };
}
