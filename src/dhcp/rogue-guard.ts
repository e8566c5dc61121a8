// Before provlab serves DHCP on an interface it asks whether someone else
// already does: one DISCOVER from a throwaway MAC, a short wait for OFFERs.
// The seed's users plug this box into VLANs; becoming a second DHCP server on
// a production network is the worst thing it could do.
import { randomBytes } from 'node:crypto';
import { intToIp } from '../wire/ipv4.js';
import { openUdpTransport } from '../net/udp-transport.js';
import { decodeDhcpMessage, emptyMessage, encodeDhcpMessage, MessageType } from '../wire/dhcp-message.js';

export interface OtherServer {
  /** Option 54, or the source address when the OFFER has none. */
  serverId: string;
  /** Where the OFFER came from. */
  from: string;
  offered: string;
}

/**
 * Broadcasts a DISCOVER on `interfaceName` from the client port (server port + 1)
 * and returns every server that OFFERed within `waitMs`. Our own server socket is
 * not open yet, so every answer is someone else's.
 */
export async function findOtherDhcpServers(interfaceName: string, serverPort: number, waitMs: number): Promise<OtherServer[]> {
  const mac = randomBytes(6);
  mac[0] = (mac[0]! & 0xfe) | 0x02; // locally administered, unicast: never a real NIC's address
  const xid = randomBytes(4).readUInt32BE(0);
  const found = new Map<string, OtherServer>();
  let sendError: Error | undefined;
  const sock = await openUdpTransport(
    { address: '0.0.0.0', port: serverPort + 1, device: interfaceName, service: 'DHCP', slots: 8, slotSize: 4096 },
    {
      datagram: (buf, info) => {
        const d = decodeDhcpMessage(buf);
        if (!d.ok || d.value.op !== 2 || d.value.xid !== xid) return;
        if (d.value.options.get(53)?.[0] !== MessageType.OFFER) return;
        const sid = d.value.options.get(54);
        const from = intToIp(info.srcIp);
        const serverId = sid && sid.length === 4 ? sid.join('.') : from;
        found.set(serverId, { serverId, from, offered: d.value.yiaddr });
      },
      sendFailed: (err) => (sendError = err),
      socketError: () => {},
    },
  );
  try {
    const m = emptyMessage();
    m.op = 1;
    m.htype = 1;
    m.hlen = 6;
    m.xid = xid;
    m.flags = 0x8000; // broadcast the OFFER: we have no address to be unicast to
    const chaddr = new Uint8Array(16);
    chaddr.set(mac);
    m.chaddr = chaddr;
    m.options.set(53, new Uint8Array([MessageType.DISCOVER]));
    m.options.set(55, new Uint8Array([1, 3, 6, 15, 54]));
    const bytes = encodeDhcpMessage(m);
    if (!bytes.ok) throw new Error(bytes.error.message);
    sock.sendTo(bytes.value, '255.255.255.255', serverPort);
    sock.flush();
    if (sendError) throw sendError;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    return [...found.values()];
  } finally {
    await sock.close();
  }
}
