// Candidate (a) of docs/dns-design.md: the same zones served through dns2
// 3.0.0, behind the guard the dependency audit asks for. Run by
// bench/dns-load.mjs; needs dist/ (npx tsc -p tsconfig.json).
//   node bench/dns-dns2-server.mjs SITE.yaml PORT [--no-query-log]
//
// The guard runs on the raw datagram before dns2 parses anything:
//   QR=1 dropped; opcode != QUERY -> NOTIMP; counts checked against the
//   datagram length (the 0xffff-count stall); qdcount must be 1 and the
//   question must parse completely, else FORMERR; aa=1 set on our zones;
//   a handler error becomes SERVFAIL. Case-insensitive lookup; the question is
//   echoed as dns2 parsed it. SRV targets still go through dns2's encoder, which
//   compresses them (RFC 2782 says not to): measured as is, it would need our own RDATA.
import dgram from 'node:dgram';
import dns2 from 'dns2';
import { createLogger } from '../dist/log.js';
import { loadSite } from '../dist/site/load.js';
import { compilePlan } from '../dist/site/compile.js';

const { Packet } = dns2;
const [file, portText] = process.argv.slice(2);
const logQueries = !process.argv.includes('--no-query-log');
const plan = compilePlan(loadSite(file), file);
const logger = createLogger({ level: 'info', pretty: false }).child({ daemon: 'dns2' });

// name -> type -> dns2 resource fields
const names = new Map();
const zones = new Map();
for (const z of plan.dns.zones) {
  const soa = z.records.find((r) => r.data.type === 'SOA');
  zones.set(z.apex, soa);
  for (const r of z.records) {
    const d = r.data;
    const base = { name: r.name, class: Packet.CLASS.IN, ttl: r.ttl };
    let rr;
    if (d.type === 'A') rr = { ...base, type: Packet.TYPE.A, address: d.address };
    else if (d.type === 'AAAA') rr = { ...base, type: Packet.TYPE.AAAA, address: d.address };
    else if (d.type === 'SRV') rr = { ...base, type: Packet.TYPE.SRV, priority: d.priority, weight: d.weight, port: d.port, target: d.target };
    else if (d.type === 'SOA') rr = { ...base, type: Packet.TYPE.SOA, primary: d.mname, admin: d.rname, serial: d.serial, refresh: d.refresh, retry: d.retry, expiration: d.expire, minimum: d.minimum };
    else if (d.type === 'NS') rr = { ...base, type: Packet.TYPE.NS, ns: d.target };
    else if (d.type === 'PTR' || d.type === 'CNAME') rr = { ...base, type: Packet.TYPE[d.type], domain: d.target };
    else if (d.type === 'TXT') rr = { ...base, type: Packet.TYPE.TXT, data: d.strings };
    if (!rr) continue;
    let byType = names.get(r.name);
    if (!byType) names.set(r.name, (byType = new Map()));
    if (!byType.has(rr.type)) byType.set(rr.type, []);
    byType.get(rr.type).push(rr);
  }
}
const zoneOf = (name) => {
  for (let n = name; ; ) {
    const soa = zones.get(n);
    if (soa) return soa;
    const i = n.indexOf('.');
    if (i < 0) return null;
    n = n.slice(i + 1);
  }
};

const sock = dgram.createSocket({ type: 'udp4', lookup: (a, _o, cb) => cb(null, a, 4) });
const send = (buf, rinfo) => sock.send(buf, rinfo.port, rinfo.address);
const bare = (msg, rcode) => {
  const out = Buffer.alloc(12);
  msg.copy(out, 0, 0, 2);
  out[2] = 0x80 | (msg[2] & 0x79);
  out[3] = rcode;
  return out;
};

/** The guard: what dns2 gets wrong, decided on the raw bytes. Returns true when the datagram may go on to dns2. */
function guard(msg, rinfo) {
  if (msg.length < 12 || msg[2] & 0x80) return false; // short or QR=1: drop
  if ((msg[2] >> 3) & 0xf) {
    send(bare(msg, 4), rinfo); // NOTIMP
    return false;
  }
  const qd = msg.readUInt16BE(4);
  const rest = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  if (qd !== 1 || qd * 5 + rest * 11 > msg.length - 12) {
    send(bare(msg, 1), rinfo); // FORMERR before dns2 loops over impossible counts
    return false;
  }
  return true;
}

sock.on('message', (msg, rinfo) => {
  if (!guard(msg, rinfo)) return;
  let rcode = 0;
  let name = '';
  let type = 0;
  try {
    const req = Packet.parse(msg);
    const q = req.questions?.[0];
    if (!q || req.questions.length !== 1) {
      send(bare(msg, 1), rinfo); // half-parsed: FORMERR
      return;
    }
    name = q.name.toLowerCase();
    type = q.type;
    const res = Packet.createResponseFromRequest(req);
    const found = names.get(name);
    const soa = zoneOf(name);
    if (soa) res.header.aa = 1;
    if (found?.has(type)) res.answers.push(...found.get(type));
    else if (soa) {
      rcode = found ? 0 : 3;
      res.header.rcode = rcode;
      res.authorities.push(...names.get(soa.name).get(Packet.TYPE.SOA).map((r) => ({ ...r, ttl: 60 })));
    } else {
      rcode = 5;
      res.header.rcode = 5;
    }
    send(res.toBuffer(), rinfo);
  } catch {
    rcode = 2;
    send(bare(msg, 2), rinfo); // SERVFAIL, never silence
  }
  if (logQueries) logger.info({ client: rinfo.address, name, type, rcode }, 'dns query');
});
sock.bind(Number(portText), '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ listening: sock.address() })}\n`));
process.on('SIGTERM', () => sock.close(() => process.exit(0)));
