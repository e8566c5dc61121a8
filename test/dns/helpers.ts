// Shared by the DNS tests: a plan from a small site, an in-process daemon on
// a free loopback port, dig/kdig run asynchronously (the daemon shares our
// event loop, so a synchronous child would starve it), and a raw UDP/TCP client.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import type { Plan } from '../../src/site/plan.js';
import { LAB_SEARCH, LAB_WEB, planOf, siteYaml, type SiteRow } from '../helpers/sites.js';

export const BIG_TXT = Array.from({ length: 3 }, (_, i) => String.fromCharCode(97 + i).repeat(200));
export const HUGE_TXT = Array.from({ length: 6 }, (_, i) => String.fromCharCode(65 + i).repeat(250));

/** The DNS tests' site, with more records after its own and forwarders when given. */
export function siteText(more: { records?: readonly SiteRow[]; forwarders?: readonly string[] } = {}): string {
  return siteYaml({
    site: 'dns-test',
    address: '127.0.0.1',
    dhcp: {
      subnet: '127.88.0.0/24',
      pool: '127.88.0.100-127.88.0.199',
      router: '127.88.0.1',
      reservations: [{ mac: '02:00:00:aa:bb:cc', ip: '127.88.0.50', name: 'cx600-lobby' }],
    },
    domains: { search: LAB_SEARCH },
    lync: { web: LAB_WEB, address: '127.88.0.10' },
    ntp: { servers: ['127.88.0.1'] },
    dns: {
      records: [
        { name: 'v6.schertz.name', type: 'AAAA', address: '2001:db8::10' },
        { name: 'www.schertz.name', type: 'CNAME', target: 'lyncweb.schertz.name' },
        { name: 'note.schertz.name', type: 'TXT', text: ['v=provlab', 'second string'] },
        { name: 'big.schertz.name', type: 'TXT', text: BIG_TXT },
        { name: 'huge.schertz.name', type: 'TXT', text: HUGE_TXT },
        { name: '99.0.88.127.in-addr.arpa', type: 'PTR', target: 'printer.schertz.name' },
        ...(more.records ?? []),
      ],
      forwarders: more.forwarders ?? null,
    },
    listen: { dhcp: 6767, dns: 5300, ntp: 12300 },
  });
}

/** The plan with DNS on a port the kernel picks. */
export function testPlan(more: Parameters<typeof siteText>[0] = {}): Plan {
  const plan = planOf(siteText(more), '/tmp/provlab-dns-test/site.yaml');
  return { ...plan, dns: { ...plan.dns, port: 0 } };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  raw: string;
}

/** dig (or kdig) with the sections parsed; `+tries=1 +time=2` so a missing answer fails fast. */
export async function dig(tool: 'dig' | 'kdig', port: number, args: string[]): Promise<DigResult> {
  const base = tool === 'dig' ? ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2'] : ['@127.0.0.1', '-p', String(port), '+retry=0', '+time=2'];
  const r = await run(tool, [...base, ...args]);
  const out = r.stdout;
  const status = /status: ([A-Z0-9]+)/.exec(out)?.[1] ?? `none (exit ${r.code}: ${r.stderr.trim() || out.trim().slice(-200)})`;
  const flags = (/;; Flags: ([^;]*);|flags: ([^;]*);/.exec(out)?.slice(1).find((x) => x !== undefined) ?? '').trim().split(/\s+/).filter(Boolean);
  const section = (name: string): string[] => {
    const re = tool === 'dig' ? new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`) : new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|\\n;;|$)`, 'i');
    const m = re.exec(out);
    return m ? m[1]!.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.replace(/\s+/g, ' ').trim()) : [];
  };
  return { status, flags, answer: section('ANSWER'), authority: section('AUTHORITY'), additional: section('ADDITIONAL'), raw: out };
}

/** Sends raw datagrams one by one; returns what came back within waitMs for each. */
export async function udpExchange(port: number, packets: Uint8Array[], waitMs = 300): Promise<Buffer[][]> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const results: Buffer[][] = [];
  let current: Buffer[] = [];
  sock.on('message', (m) => current.push(m));
  for (const p of packets) {
    current = [];
    sock.send(p, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, waitMs));
    results.push(current);
  }
  sock.close();
  return results;
}

/** Writes the chunks to one TCP connection (in order, with a pause between), collects framed answers until `expect` or timeout. */
export async function tcpExchange(port: number, chunks: Uint8Array[], expect: number, timeoutMs = 3000): Promise<{ answers: Buffer[]; closed: boolean }> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  const answers: Buffer[] = [];
  let buf = Buffer.alloc(0);
  let closed = false;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        answers.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (answers.length >= expect) {
        clearTimeout(timer);
        resolve();
      }
    });
    sock.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve();
    });
  });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  for (const c of chunks) {
    sock.write(c);
    await new Promise((r) => setTimeout(r, 20));
  }
  await done;
  sock.destroy();
  return { answers, closed };
}

/** A query built by hand from RFC 1035 §4.1 (not by our encoder): id, flags, one question, optional raw additional. */
export function rawQuery(id: number, name: string, type: number, options: { flags?: number; additional?: string; arcount?: number; qdcount?: number } = {}): Buffer {
  const labels = name === '' ? [] : name.split('.');
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(options.flags ?? 0x0100, 2);
  header.writeUInt16BE(options.qdcount ?? 1, 4);
  header.writeUInt16BE(options.arcount ?? (options.additional ? 1 : 0), 10);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, qname, tail, Buffer.from((options.additional ?? '').replace(/\s+/g, ''), 'hex')]);
}

export function frame(msg: Uint8Array): Buffer {
  const b = Buffer.alloc(2 + msg.length);
  b.writeUInt16BE(msg.length, 0);
  b.set(msg, 2);
  return b;
}
