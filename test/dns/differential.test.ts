// provlab's DNS answers held side by side with Knot DNS and NSD (the
// references), loaded with the zones `provlab export bind` writes for the
// same site file. For every site of the corpus (fixtures/differential/) the
// same queries (each owner name and empty non-terminal × A AAAA SRV TXT PTR
// CNAME SOA NS ANY DS, names that do not exist under each zone, names outside
// every zone, a few protocol edge cases) go over UDP without EDNS, UDP with
// EDNS and TCP to all three; the answers are compared section by section:
// rcode, flags (aa tc ra), the question, answer/authority/additional as
// multisets (order free, duplicates count), TTLs, the OPT. The references
// decide what is right.
// The differences that remain are listed below as data: DESIGN (kept, with
// the reason) and BUG (being fixed in issue 16: delete the entry when the fix
// lands; the test fails on an entry that no longer matches anything).
// src/dns/README.md "Compared with Knot and NSD" summarises them.
import t from 'tap';
import { pino } from 'pino';
import dgram from 'node:dgram';
import net from 'node:net';
import { join } from 'node:path';
import { appendFileSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { DnsDaemon } from '../../src/dns/daemon.js';
import { decodeDnsMessage, fullRcode, rcodeName, typeName, type DnsMessage, type ResourceRecord } from '../../src/wire/dns-message.js';
import { CLI, NODE_FLAGS, ROOT, tempDir } from '../helpers/provlab.js';
import { exportedZones, referenceBinaries, startReference, type ExportedZone, type ReferenceName, type ReferenceServer } from '../helpers/reference-dns.js';
import { planOfFile } from '../helpers/sites.js';
import { frame, rawQuery, run } from './helpers.js';

const CORPUS = join(ROOT, 'test', 'dns', 'fixtures', 'differential');
const SITES = ['same-domain', 'split-domain', 'edges'] as const;

/**
 * DHCP lease names (option 12) given to provlab's daemon. The export leaves
 * them out, so the test adds what provlab should serve to the references'
 * zone files: <label>.<primary> A and its PTR, TTL 60 (src/dns/README.md).
 * A name the site already uses is never served (null: nothing added).
 */
const LEASES: Readonly<Record<string, readonly { ip: string; hostname: string; serves: string | null }[]>> = {
  'same-domain': [
    { ip: '10.77.0.120', hostname: 'cx600-lease', serves: 'cx600-lease.example.org' },
    { ip: '10.77.0.121', hostname: 'Polycom-CX3000.corp.local', serves: 'polycom-cx3000.example.org' },
    { ip: '10.77.0.122', hostname: 'NTP', serves: null },
    { ip: '10.77.0.123', hostname: 'sip', serves: null },
  ],
  edges: [{ ip: '10.79.0.130', hostname: 'ntp', serves: null }],
};

/** Appends the lease records provlab serves to the exported zone files (the zone of each name, as the references would hold it). */
function addLeaseRecords(site: string, zones: readonly ExportedZone[]): void {
  const zoneOf = (name: string) => zones.filter((z) => name === z.apex || name.endsWith(`.${z.apex}`)).sort((a, b) => b.apex.length - a.apex.length)[0];
  for (const l of LEASES[site] ?? []) {
    if (l.serves === null) continue;
    const rev = `${l.ip.split('.').reverse().join('.')}.in-addr.arpa`;
    appendFileSync(zoneOf(l.serves)!.file, `${l.serves}.\t60\tIN\tA\t${l.ip}\n`);
    const revZone = zoneOf(rev);
    if (revZone) appendFileSync(revZone.file, `${rev}.\t60\tIN\tPTR\t${l.serves}.\n`);
  }
}

const bins = referenceBinaries();
const missing = (Object.keys(bins) as ReferenceName[]).filter((n) => !bins[n]).map((n) => (n === 'knot' ? 'knotd' : 'nsd'));
if (missing.length && process.env.CI === 'true') t.fail(`CI=true and ${missing.join(', ')} missing: install the Debian packages knot and nsd (.ci/run does)`);
const skip = missing.length ? `${missing.join(', ')} not installed (Debian packages knot, nsd)` : false;

// ---------------------------------------------------------------- known differences

type Section = 'rcode' | 'flags' | 'question' | 'answer' | 'authority' | 'additional' | 'opt';
const SECTIONS: readonly Section[] = ['rcode', 'flags', 'question', 'answer', 'authority', 'additional', 'opt'];

interface Known {
  /** Matched against the query's label: "<site> <name>. <TYPE> <udp|edns|edns512|tcp>", then a tag for some names: [apex], [nonexistent], [outside]. */
  query: RegExp;
  section: Section;
  kind: 'design' | 'bug';
  /** What the references answer and what provlab answers instead, and (design) why provlab keeps it. */
  why: string;
}

/** Where Knot and NSD disagree with each other: which one is the reference for that item, and why. */
interface Choice {
  query: RegExp;
  section: Section;
  use: ReferenceName;
  why: string;
}

const bug = (query: RegExp, sections: readonly Section[], why: string): Known[] => sections.map((section) => ({ query, section, kind: 'bug', why }));
const design = (query: RegExp, sections: readonly Section[], why: string): Known[] => sections.map((section) => ({ query, section, kind: 'design', why }));
const choose = (query: RegExp, sections: readonly Section[], use: ReferenceName, why: string): Choice[] => sections.map((section) => ({ query, section, use, why }));

/** Differences provlab keeps (design) or is having fixed (bug, issue 16). */
export const KNOWN: readonly Known[] = [
  // ---- (a) by design
  ...design(/ ANY (udp|edns|tcp) \[apex\]$/, ['answer', 'additional'],
    'ANY at a zone apex: provlab answers the SOA RRset, Knot the NS RRset (with its glue). RFC 8482 §4.1 lets the server pick any one RRset; the SOA says the most about the zone'),
  ...design(/ NS (udp|edns|tcp) \[apex\]$/, ['additional'],
    'NS of a zone whose name server provlab.<primary> lies in another of our zones: provlab adds its address anyway, Knot and NSD add only in-zone addresses. RFC 2181 §5.4.1 ranks it as additional data a resolver may use or drop; it saves the phone one query'),
  ...design(/\[outside\]$/, ['opt'],
    'REFUSED outside our zones: Knot and NSD add an Extended DNS Error option (RFC 8914, code 20 "Not Authoritative"); provlab sends a plain OPT. EDE is optional (RFC 8914) and LPE phones do not read it'),
  ...design(/ version\.bind\. TXT CH udp$/, ['rcode', 'answer'],
    'CHAOS version.bind: Knot and NSD tell their version; provlab answers REFUSED to every class but IN (nothing to leak on a phone VLAN)'),
  ...design(/ SOA opcode=NOTIFY edns$/, ['rcode'],
    'NOTIFY to a primary: Knot says NOTAUTH, NSD REFUSED; provlab NOTIMP (it implements no NOTIFY, RFC 1035 §4.1.1), one of the answers the references do not agree on either'),
  ...design(/^split-domain _xmpp\._tcp\.contoso\.com\. (SRV|ANY) (udp|edns512)$/, ['additional'],
    'an SRV RRset that fits 512 bytes only without its additional addresses: all three send the whole answer with TC=0 and as many additional RRsets as fit (RFC 2181 §9); Knot fits more of them because it compresses the SRV target names, which RFC 2782 says not to do; provlab never compresses them, so fewer addresses fit'),
  // ---- (b) bugs, being fixed in issue 16: delete an entry when its fix is merged
];

/** Where Knot and NSD disagree, the one taken as the reference. */
export const CHOICES: readonly Choice[] = [
  ...choose(/./, ['additional'], 'knot',
    'NSD runs with minimal-responses (without it, NSD adds the NS RRset and its glue to every positive answer, which neither Knot nor BIND do), and that also leaves out the SRV targets\' addresses. Knot adds them, as RFC 2782 suggests and as the phones use them. Knot repeats an address RRset once per SRV naming it; the comparison counts it once'),
  ...choose(/ ANY (udp|edns|tcp) \[apex\]$/, ['answer'], 'knot',
    'ANY at a zone apex: NSD answers every RRset; Knot answers one (RFC 8482), as provlab does'),
  ...choose(/^same-domain intranet\.example\.org\. /, ['rcode', 'answer', 'authority'], 'nsd',
    'a CNAME into another zone of the same server (intranet.example.org → wiki.corp.example.org): NSD follows it into that zone (RFC 1034 §4.3.2 step 3a goes back to step 1, which picks the zone anew), as provlab does; Knot looks only in the first zone and says NXDOMAIN for a name the server does have (BIND 9.18 answers the CNAME alone)'),
  ...choose(/^same-domain corp\.example\.org\. DS |^split-domain lab\.schertz\.name\. DS /, ['rcode'], 'nsd',
    'DS at the apex of a child zone with no delegation in the parent: NSD says NODATA (the name exists on this server); Knot (and BIND 9.18) NXDOMAIN, which under RFC 8020 tells a resolver that nothing below it (wiki.corp.example.org) exists, although the same server serves it'),
  ...choose(/ (AXFR|IXFR) (udp|tcp)$/, ['rcode'], 'nsd',
    'zone transfer not allowed: NSD says REFUSED, as BIND 9.18 and provlab\'s own tests do; Knot NOTAUTH'),
  ...choose(/ version\.bind\. TXT CH udp$/, ['answer'], 'knot', 'each server names itself; Knot taken'),
  ...choose(/ SOA opcode=(NOTIFY|UPDATE|STATUS) edns$/, ['opt'], 'knot',
    'an error answer to an EDNS query: Knot includes an OPT, as RFC 6891 §6.1.1 says ("MUST"); NSD does not'),
  ...choose(/ SOA (opcode=(NOTIFY|UPDATE|STATUS) edns|signed with TSIG \(unknown key\) (udp|tcp))$/, ['question'], 'knot',
    'error answers (NOTIMP, REFUSED, NOTAUTH): Knot echoes the question, as provlab does and as clients expect to match the answer; NSD leaves it out'),
  ...choose(/ SOA opcode=NOTIFY edns$/, ['rcode', 'flags'], 'knot', 'NOTIFY to a primary: Knot NOTAUTH without aa, NSD REFUSED with aa (BIND 9.18 NOERROR); Knot taken, RFC 1996 names no rcode for it'),
  ...choose(/ SOA opcode=UPDATE edns$/, ['rcode'], 'nsd', 'UPDATE: NSD, which implements no UPDATE (like provlab), says NOTIMP; Knot NOTAUTH (no update ACL), BIND 9.18 REFUSED'),
  ...choose(/ SOA qdcount=2 edns$/, ['rcode', 'flags'], 'nsd', 'two questions: NSD answers FORMERR (RFC 1035 §4.1.1), as provlab does; Knot drops the query'),
];

// ---------------------------------------------------------------- queries

/** udp: no EDNS, RD set; edns: UDP with EDNS size 1232; edns512: EDNS size 512; tcp: no EDNS. */
type Transport = 'udp' | 'edns' | 'edns512' | 'tcp';
const TRANSPORTS: readonly Transport[] = ['udp', 'edns', 'tcp'];
const TYPES: Readonly<Record<string, number>> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, DS: 43, ANY: 255 };
// RFC 6891 §6.1.2: an OPT at the root, UDP size 1232, version 0, no flags, no options.
const OPT_1232 = '00 0029 04d0 00 00 0000 0000';
const OPT_512 = '00 0029 0200 00 00 0000 0000';

interface Query {
  label: string;
  transport: Transport;
  /** The query without its ID (written per send). */
  bytes: Buffer;
}

function standardQuery(site: string, name: string, type: string, transport: Transport, tag = ''): Query {
  // A stub sets RD (udp); a resolver asking an authoritative server does not (edns, tcp).
  const flags = transport === 'udp' ? 0x0100 : 0;
  const additional = transport === 'edns' ? OPT_1232 : transport === 'edns512' ? OPT_512 : undefined;
  return { label: `${site} ${name}. ${type} ${transport}${tag}`, transport, bytes: rawQuery(0, name, TYPES[type]!, { flags, additional }) };
}

/** Owner names of a zone file as the export wrote it (absolute names in column 1). */
function owners(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith(';') && !l.startsWith('$'))
    .map((l) => l.split(/\s+/)[0]!.replace(/\.$/, '').toLowerCase());
}

/** Every name worth asking about in these zones: owners, empty non-terminals, names below each that do not exist. */
function namesOf(zones: readonly ExportedZone[]): { inside: string[]; nonexistent: string[] } {
  const inside = new Set<string>();
  const nonexistent = new Set<string>();
  for (const z of zones) {
    const names = new Set(owners(z.file));
    for (const n of names) {
      inside.add(n);
      // empty non-terminals between the owner and the apex (RFC 8020: NODATA, not NXDOMAIN)
      for (let p = n; p !== z.apex && p.includes('.'); ) {
        p = p.slice(p.indexOf('.') + 1);
        if (p.length >= z.apex.length) inside.add(p);
      }
    }
    nonexistent.add(`nx-diff.${z.apex}`);
    const leaf = [...names].find((n) => n !== z.apex);
    if (leaf) nonexistent.add(`below.${leaf}`);
  }
  return { inside: [...inside].sort(), nonexistent: [...nonexistent].sort() };
}

/** Names no zone holds: the parents of our zones, another domain, the root. */
function outsideNames(zones: readonly ExportedZone[]): string[] {
  const apexes = new Set(zones.map((z) => z.apex));
  const out = new Set<string>(['www.example.com', '']);
  for (const z of zones) {
    const parent = z.apex.slice(z.apex.indexOf('.') + 1);
    if (z.apex.includes('.') && ![...apexes].some((a) => parent === a || parent.endsWith(`.${a}`))) out.add(parent);
  }
  return [...out].sort();
}

function queriesFor(site: string, zones: readonly ExportedZone[]): Query[] {
  const { inside, nonexistent } = namesOf(zones);
  const apexes = new Set(zones.map((z) => z.apex));
  const queries: Query[] = [];
  for (const transport of TRANSPORTS) {
    for (const name of inside) for (const type of Object.keys(TYPES)) queries.push(standardQuery(site, name, type, transport, apexes.has(name) ? ' [apex]' : ''));
    for (const name of nonexistent) for (const type of ['A', 'SRV', 'TXT', 'DS']) queries.push(standardQuery(site, name, type, transport, ' [nonexistent]'));
    for (const name of outsideNames(zones)) for (const type of ['A', 'SOA', 'NS']) queries.push(standardQuery(site, name, type, transport, ' [outside]'));
  }
  // EDNS with the smallest size (RFC 6891 §6.2.5): the big RRsets truncate as without EDNS, with an OPT.
  for (const name of inside) for (const type of ['SRV', 'TXT']) queries.push(standardQuery(site, name, type, 'edns512'));
  // Names match case-insensitively (RFC 4343): one upper-case query per zone.
  for (const z of zones) {
    const q = standardQuery(site, z.apex.toUpperCase(), 'SOA', 'udp');
    queries.push({ ...q, label: `${site} ${z.apex}. SOA udp (upper case)` });
  }
  return queries;
}

/** Protocol edge cases, built by hand from the RFCs (not by our encoder). */
function protocolQueries(site: string, apex: string): Query[] {
  const q = (what: string, transport: Transport, bytes: Buffer): Query => ({ label: `${site} ${what} ${transport}`, transport, bytes });
  // RFC 8945 §4.2: a TSIG record for key "k." (hmac-sha256), time 0, fudge 300, a 32-byte MAC, no error.
  const alg = '0b686d61632d736861323536 00';
  const tsigRdata = `${alg} 000000000000 012c 0020 ${'00'.repeat(32)} 0000 0000 0000`;
  const tsigLen = Buffer.from(tsigRdata.replace(/\s+/g, ''), 'hex').length.toString(16).padStart(4, '0');
  const tsig = `016b00 00fa 00ff 00000000 ${tsigLen} ${tsigRdata}`;
  // RFC 7830 padding option (12) of 2100 bytes: a query over 2048 bytes (RFC 8906: answer it).
  const padding = `000c 0834 ${'00'.repeat(2100)}`;
  const bigOpt = `00 0029 04d0 00 00 0000 0838 ${padding}`;
  return [
    q(`${apex}. SOA opcode=NOTIFY`, 'edns', rawQuery(0, apex, 6, { flags: 0x2400, additional: OPT_1232 })),
    q(`${apex}. SOA opcode=UPDATE`, 'edns', rawQuery(0, apex, 6, { flags: 0x2800, additional: OPT_1232 })),
    q(`${apex}. SOA opcode=STATUS`, 'edns', rawQuery(0, apex, 6, { flags: 0x1000, additional: OPT_1232 })),
    q(`${apex}. SOA EDNS version 1`, 'edns', rawQuery(0, apex, 6, { flags: 0, additional: '00 0029 04d0 00 01 0000 0000' })),
    q(`${apex}. SOA qdcount=2`, 'edns', rawQuery(0, apex, 6, { flags: 0, qdcount: 2, additional: OPT_1232 })),
    q(`${apex}. SOA signed with TSIG (unknown key)`, 'udp', rawQuery(0, apex, 6, { flags: 0, additional: tsig })),
    q(`${apex}. SOA signed with TSIG (unknown key)`, 'tcp', rawQuery(0, apex, 6, { flags: 0, additional: tsig })),
    q(`${apex}. SOA query of 2100+ bytes`, 'edns', rawQuery(0, apex, 6, { flags: 0, additional: bigOpt })),
    q(`${apex}. AXFR`, 'tcp', rawQuery(0, apex, 252, { flags: 0 })),
    q(`${apex}. IXFR`, 'udp', rawQuery(0, apex, 251, { flags: 0 })),
    q(`version.bind. TXT CH`, 'udp', chaosQuery()),
  ];
}

function chaosQuery(): Buffer {
  const b = rawQuery(0, 'version.bind', 16, { flags: 0 });
  b.writeUInt16BE(3, b.length - 2);
  return b;
}

// ---------------------------------------------------------------- clients

/** One UDP socket and one TCP connection to a server; queries go one at a time. */
class Client {
  private readonly udpSock: dgram.Socket;
  private tcpSock: net.Socket | null = null;
  private tcpWaiter: ((b: Buffer | null) => void) | null = null;
  private nextId = 1;
  private udpWaiters = new Map<number, (b: Buffer) => void>();

  private constructor(readonly port: number, sock: dgram.Socket) {
    this.udpSock = sock;
    sock.on('message', (m: Buffer) => {
      if (m.length < 2) return;
      const w = this.udpWaiters.get(m.readUInt16BE(0));
      if (w) w(m);
    });
  }

  static async open(port: number): Promise<Client> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return new Client(port, sock);
  }

  send(q: Query): Promise<Buffer | null> {
    const id = this.nextId++ & 0xffff;
    const bytes = Buffer.from(q.bytes);
    bytes.writeUInt16BE(id, 0);
    return q.transport === 'tcp' ? this.tcp(bytes) : this.udp(bytes, id);
  }

  private udp(bytes: Buffer, id: number): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.udpWaiters.delete(id);
        resolve(null);
      }, 1000);
      this.udpWaiters.set(id, (m) => {
        clearTimeout(timer);
        this.udpWaiters.delete(id);
        resolve(m);
      });
      this.udpSock.send(bytes, this.port, '127.0.0.1');
    });
  }

  /** Over the open connection; once more on a fresh one if a reused connection closed unanswered (the server may close idle ones). */
  private async tcp(bytes: Buffer): Promise<Buffer | null> {
    const reused = this.tcpSock !== null && !this.tcpSock.destroyed;
    const answer = await this.tcpOnce(bytes);
    return answer === null && reused && this.tcpSock === null ? this.tcpOnce(bytes) : answer;
  }

  private async tcpOnce(bytes: Buffer): Promise<Buffer | null> {
    const sock = this.tcpSock && !this.tcpSock.destroyed ? this.tcpSock : await this.connect();
    const id = bytes.readUInt16BE(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.tcpWaiter = null;
        sock.destroy();
        resolve(null);
      }, 2000);
      this.tcpWaiter = (b) => {
        if (b && b.length >= 2 && b.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        this.tcpWaiter = null;
        resolve(b);
      };
      sock.write(frame(bytes));
    });
  }

  private async connect(): Promise<net.Socket> {
    const sock = net.connect(this.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + msg.length);
        this.tcpWaiter?.(msg);
      }
    });
    // A server that closes instead of answering (AXFR refused, a FORMERR) answers "nothing".
    sock.on('close', () => {
      if (this.tcpSock === sock) this.tcpSock = null;
      this.tcpWaiter?.(null);
    });
    await new Promise<void>((resolve) => {
      sock.once('connect', () => resolve());
      sock.once('error', () => resolve());
    });
    this.tcpSock = sock;
    return sock;
  }

  close(): void {
    this.udpSock.close();
    this.tcpSock?.destroy();
  }
}

// ---------------------------------------------------------------- normalised answers

type View = Record<Section, string[]>;

const abs = (n: string): string => (n === '' ? '.' : `${n.toLowerCase()}.`);

/** A record in presentation form, owner and names lower-cased, the SOA serial left out (each server numbers its own zones). */
function rrText(r: ResourceRecord): string {
  const d = r.data;
  let type: string;
  let rdata: string;
  switch (d.type) {
    case 'A':
    case 'AAAA':
      [type, rdata] = [d.type, d.address];
      break;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      [type, rdata] = [d.type, abs(d.target)];
      break;
    case 'SOA':
      [type, rdata] = ['SOA', `${abs(d.mname)} ${abs(d.rname)} (serial) ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`];
      break;
    case 'TXT':
      [type, rdata] = ['TXT', d.strings.map((s) => JSON.stringify(s)).join(' ')];
      break;
    case 'SRV':
      [type, rdata] = ['SRV', `${d.priority} ${d.weight} ${d.port} ${abs(d.target)}`];
      break;
    case 'unknown':
      [type, rdata] = d.code === 250 ? ['TSIG', tsigText(d.bytes)] : [typeName(d.code), `\\# ${d.bytes.length} ${Buffer.from(d.bytes).toString('hex')}`];
      break;
  }
  const cls = r.class === 1 ? 'IN' : r.class === 255 ? 'ANY' : `CLASS${r.class}`;
  return `${abs(r.name)} ${r.ttl} ${cls} ${type} ${rdata}`;
}

/** RFC 8945 §4.2: only the algorithm and the error are comparable (time and MAC differ per server). */
function tsigText(b: Uint8Array): string {
  let p = 0;
  const labels: string[] = [];
  while (p < b.length && b[p] !== 0) {
    labels.push(Buffer.from(b.subarray(p + 1, p + 1 + b[p]!)).toString('latin1'));
    p += 1 + b[p]!;
  }
  p += 1 + 6 + 2;
  const macSize = p + 2 <= b.length ? (b[p]! << 8) | b[p + 1]! : 0;
  p += 2 + macSize + 2;
  const error = p + 2 <= b.length ? (b[p]! << 8) | b[p + 1]! : -1;
  return `${labels.join('.')}. error=${error === 17 ? 'BADKEY' : error === 16 ? 'BADSIG' : error}`;
}

function view(buf: Buffer | null): View {
  const empty = { flags: [], question: [], answer: [], authority: [], additional: [], opt: [] };
  if (!buf) return { rcode: ['(no answer)'], ...empty };
  const d = decodeDnsMessage(buf);
  if (!d.ok) return { rcode: [`(undecodable: ${d.error.code} at ${d.error.offset})`], ...empty };
  const m: DnsMessage = d.value;
  const flags = (['aa', 'tc', 'ra'] as const).filter((f) => m.header[f]);
  return {
    rcode: [rcodeName(fullRcode(m))],
    flags: [flags.length ? flags.join(' ') : '-'],
    // As sent, case kept (the references echo it byte for byte).
    question: m.questions.map((q) => `${q.name}. ${typeName(q.type)} ${q.class === 1 ? 'IN' : `CLASS${q.class}`}`),
    answer: m.answers.map(rrText).sort(),
    authority: m.authorities.map(rrText).sort(),
    additional: m.additionals.map(rrText).sort(),
    opt: m.edns ? [`EDNS${m.edns.version} udp=${m.edns.udpPayloadSize}${m.edns.dnssecOk ? ' do' : ''}${m.edns.options.length ? ` options=${m.edns.options.map((o) => o.code).join(',')}` : ''}`] : [],
  };
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

const WIDTH = 100;

/**
 * provlab | knot | nsd, one line per record: `+` a line the reference does
 * not have (or has fewer times), `-` a reference line this server lacks.
 */
function sideBySide(section: Section, views: Record<'provlab' | ReferenceName, View>, ref: readonly string[]): string {
  const cols = (['provlab', 'knot', 'nsd'] as const).map((who) => {
    const left = [...ref];
    const lines = views[who][section].map((l) => {
      const i = left.indexOf(l);
      if (i >= 0) left.splice(i, 1);
      return `${i >= 0 ? ' ' : '+'} ${l}`;
    });
    lines.push(...left.map((l) => `- ${l}`));
    return [who, ...(lines.length ? lines : ['  (empty)'])];
  });
  const width = cols.map((c) => Math.min(WIDTH, Math.max(...c.map((l) => l.length))));
  const rows = Math.max(...cols.map((c) => c.length));
  const out: string[] = [];
  for (let i = 0; i < rows; i++) out.push(cols.map((c, j) => (c[i] ?? '').slice(0, WIDTH).padEnd(width[j]!)).join(' | ').trimEnd());
  return out.join('\n');
}

// ---------------------------------------------------------------- the run

interface Finding {
  label: string;
  section: Section;
  text: string;
}

const completed = new Set<string>();
const usedKnown = new Set<Known>();
const usedChoices = new Set<Choice>();

function compare(q: Query, views: Record<'provlab' | ReferenceName, View>): Finding[] {
  const findings: Finding[] = [];
  for (const section of SECTIONS) {
    const k = views.knot[section];
    const n = views.nsd[section];
    let ref: readonly string[];
    let refName: string;
    if (same(k, n)) {
      ref = k;
      refName = 'knot and nsd agree';
    } else {
      const choice = CHOICES.find((c) => c.section === section && c.query.test(q.label));
      if (!choice) {
        findings.push({ label: q.label, section, text: `knot and nsd disagree on ${section} and CHOICES names no reference for it:\n${sideBySide(section, views, k)}` });
        continue;
      }
      usedChoices.add(choice);
      ref = views[choice.use][section];
      // Knot repeats a target's addresses once per SRV record naming it; the same RRset twice is a duplicate (RFC 2181 §5).
      if (section === 'additional' && choice.use === 'knot') ref = [...new Set(ref)];
      refName = `reference: ${choice.use}`;
    }
    if (same(views.provlab[section], ref)) continue;
    const known = KNOWN.find((e) => e.section === section && e.query.test(q.label));
    if (known) {
      usedKnown.add(known);
      continue;
    }
    findings.push({ label: q.label, section, text: `${section} differs (${refName}); + = not in the reference, - = missing:\n${sideBySide(section, views, ref)}` });
  }
  return findings;
}

type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

async function exportZones(siteFile: string, dir: string): Promise<ExportedZone[]> {
  const out = join(dir, 'zones');
  const r = await run(process.execPath, [...NODE_FLAGS, CLI, 'export', 'bind', '--site', siteFile, '--output', out], 30_000);
  if (r.code !== 0) throw new Error(`provlab export bind failed (${r.code}): ${r.stderr}`);
  return exportedZones(out);
}

async function compareSite(t: Tap, site: string): Promise<void> {
  const dir = tempDir(`provlab-diff-${site}-`);
  // A copy in the temp dir: whatever provlab keeps next to its site file (state/) stays out of the source tree.
  const siteFile = join(dir, 'site.yaml');
  copyFileSync(join(CORPUS, `${site}.yaml`), siteFile);
  const zones = await exportZones(siteFile, dir);
  t.ok(zones.length > 0, `${site}: the export has zones (${zones.map((z) => z.apex).join(', ')})`);
  addLeaseRecords(site, zones);

  const servers: ReferenceServer[] = [];
  t.teardown(async () => {
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const [knot, nsd] = await Promise.all([startReference('knot', dir, zones), startReference('nsd', dir, zones)]);
  servers.push(knot, nsd);

  const plan = planOfFile(siteFile);
  const logger = pino({ level: 'silent' });
  const provlab = await DnsDaemon.start({ ...plan, dns: { ...plan.dns, port: 0 } }, { logger, logQueries: false });
  t.teardown(() => provlab.stop());
  for (const l of LEASES[site] ?? []) provlab.setLeaseName(l.ip, l.hostname);

  const clients = {
    provlab: await Client.open(provlab.address().port),
    knot: await Client.open(knot.port),
    nsd: await Client.open(nsd.port),
  };
  t.teardown(() => Object.values(clients).forEach((c) => c.close()));

  const apex = zones.map((z) => z.apex).find((a) => !a.endsWith('.arpa') && a !== 'time.windows.com') ?? zones[0]!.apex;
  const queries = [...queriesFor(site, zones), ...(site === SITES[0] ? protocolQueries(site, apex) : [])];
  const findings: Finding[] = [];
  for (const q of queries) {
    const [p, k, n] = await Promise.all([clients.provlab.send(q), clients.knot.send(q), clients.nsd.send(q)]);
    findings.push(...compare(q, { provlab: view(p), knot: view(k), nsd: view(n) }));
  }
  t.pass(`${site}: ${queries.length} queries to provlab, knot and nsd`);
  completed.add(site);
  // PROVLAB_DIFF_REPORT=FILE: every unexpected difference written out, not only the first 40.
  if (process.env.PROVLAB_DIFF_REPORT) appendFileSync(process.env.PROVLAB_DIFF_REPORT, findings.map((f) => `## ${f.label}: ${f.section}\n${f.text}\n`).join('\n'));
  // The table goes out as a comment: YAML diagnostics would fold its lines.
  for (const f of findings.slice(0, 40)) {
    t.comment(`${f.label}: ${f.text}`);
    t.fail(`${f.label}: ${f.section} differs (side by side in the comment above)`);
  }
  if (findings.length > 40) t.fail(`${site}: ${findings.length - 40} more differences not shown`);
}

for (const site of SITES) {
  t.test(`${site}: provlab answers as Knot and NSD do`, { skip }, (t) => compareSite(t, site));
}

t.test('every known difference and reference choice is still needed', { skip }, async (t) => {
  // Only meaningful when every site ran all its queries.
  if (completed.size < SITES.length) {
    t.comment(`not checked: sites not compared (${SITES.filter((s) => !completed.has(s)).join(', ')})`);
    return;
  }
  for (const k of KNOWN.filter((e) => !usedKnown.has(e))) t.fail(`KNOWN entry no longer matches any difference (fixed? delete it): ${k.kind} ${k.section} ${k.query}`);
  for (const c of CHOICES.filter((e) => !usedChoices.has(e))) t.fail(`CHOICES entry no longer needed (knot and nsd agree): ${c.section} ${c.query}`);
  t.pass('checked');
});
