#!/usr/bin/env node
// One relayed DORA, as perfdhcp sends it (from CLIENT_IP:67, giaddr CLIENT_IP,
// option 60 MS-UC-Client), to show which options each server puts in its ACK
// and how big that ACK is. Run inside the bench's client namespace:
//   node probe-dhcp.mjs SERVER_IP CLIENT_IP
// Prints one JSON line; exits 1 when no ACK came within 3 s.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { decodeDhcpMessage, emptyMessage, encodeDhcpMessage } from '../../dist/wire/dhcp-message.js';

const [server, client] = process.argv.slice(2);
const sock = dgram.createSocket('udp4');
await new Promise((r) => sock.bind(67, client, r));
const xid = randomBytes(4).readUInt32BE(0);
const chaddr = new Uint8Array(16);
chaddr.set([0x02, 0xbe, 0x4c, ...randomBytes(3)]);

function message(type, extra = []) {
  const m = emptyMessage();
  m.op = 1;
  m.hops = 1;
  m.xid = xid;
  m.giaddr = client;
  m.chaddr = chaddr;
  m.options.set(53, Uint8Array.of(type));
  m.options.set(60, new TextEncoder().encode('MS-UC-Client'));
  m.options.set(55, Uint8Array.of(1, 3, 6, 15, 119, 42, 4, 43, 120));
  for (const [c, v] of extra) m.options.set(c, v);
  const e = encodeDhcpMessage(m);
  if (!e.ok) throw new Error(e.error.message);
  return e.value;
}

function exchange(bytes, want) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 3000);
    const on = (buf) => {
      const d = decodeDhcpMessage(buf);
      if (!d.ok || d.value.xid !== xid || d.value.options.get(53)?.[0] !== want) return;
      clearTimeout(timer);
      sock.off('message', on);
      resolve({ msg: d.value, size: buf.length });
    };
    sock.on('message', on);
    sock.send(bytes, 67, server);
  });
}

const offer = await exchange(message(1), 2);
let ack = null;
if (offer) {
  const yi = Uint8Array.from(offer.msg.yiaddr.split('.').map(Number));
  ack = await exchange(message(3, [[50, yi], [54, offer.msg.options.get(54)]]), 5);
}
sock.close();
const out = ack
  ? { ok: true, yiaddr: ack.msg.yiaddr, ackBytes: ack.size, ackOptions: [...ack.msg.options.keys()], option43Bytes: ack.msg.options.get(43)?.length ?? 0 }
  : { ok: false, stage: offer ? 'no ACK' : 'no OFFER' };
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(out.ok ? 0 : 1);
