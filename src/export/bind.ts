// BIND 9 zone files for the DNS records provlab serves, one file per zone of
// the compiled plan (plan.dns.zones: SOA and NS first, then ucupdates-r2.<each
// DHCP domain>, _ntp._udp, the SIP SRV records, the Lync and NTP A records,
// reverse PTRs, dns.records), and a named.conf fragment that loads them.
// Followed: RFC 1035 §5.1 master file format, RFC 2782 SRV presentation form,
// and the BIND 9 ARM (zone statement); checked with named-checkzone and
// named-checkconf (bind9-utils) in test/export/bind.test.ts.
// Names are written absolute (trailing dot), so no $ORIGIN arithmetic is involved.

import type { DnsRecordData, DnsRecordPlan, Plan } from '../site/plan.js';
import { header, type ExportFile, type ExportResult } from './common.js';

function absolute(name: string): string {
  return name === '' ? '.' : `${name}.`;
}

/** RFC 1035 §5.1 character-string: quoted, with \" \\ and \DDD for bytes outside printable ASCII. */
function characterString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) out += `\\${text[i]}`;
    else if (c < 0x20 || c > 0x7e) out += `\\${String(c & 0xff).padStart(3, '0')}`;
    else out += text[i];
  }
  return `${out}"`;
}

export function rdata(d: DnsRecordData): string {
  switch (d.type) {
    case 'A':
    case 'AAAA':
      return d.address;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return absolute(d.target);
    case 'SOA':
      return `${absolute(d.mname)} ${absolute(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'TXT':
      return d.strings.map(characterString).join(' ');
    case 'SRV':
      return `${d.priority} ${d.weight} ${d.port} ${absolute(d.target)}`;
  }
}

function recordLine(r: DnsRecordPlan): string {
  return `${absolute(r.name)}\t${r.ttl}\tIN\t${r.data.type}\t${rdata(r.data)}`;
}

export function zoneFileName(apex: string): string {
  return `db.${apex === '' ? 'root' : apex}`;
}

export function exportBind(plan: Plan): ExportResult {
  const warnings: string[] = [];
  const dns = plan.dns;
  if (!dns.enabled) warnings.push('bind: DNS is disabled in the site file (dns.enabled: false); the zones are exported anyway');
  const files: ExportFile[] = [];
  const conf: string[] = [];

  for (const z of dns.zones) {
    const lines: string[] = [];
    let why = '';
    for (const r of z.records) {
      // One comment per run of records with the same reason, so the file says why each name exists.
      if (r.why !== why) {
        lines.push(`; ${r.why}`);
        why = r.why;
      }
      lines.push(recordLine(r));
    }
    const name = zoneFileName(z.apex);
    const notes = [`Zone ${z.apex} (${z.kind}). Check it: named-checkzone ${z.apex} ${name}`];
    files.push({ name, comment: ';', content: `${header(plan, 'bind', ';', notes, { dhcp: false })}$TTL ${z.records[0]?.ttl ?? 300}\n${lines.join('\n')}\n` });
    conf.push(`zone "${z.apex}" {\n\ttype master;\n\tfile "${name}";\n};`);
  }

  const confNotes = [
    'Include it from named.conf (include "named.conf.provlab";); the zone files are relative to options { directory }.',
    `Check it: named-checkconf -z named.conf`,
    'Not exported: the A/PTR records provlab adds for leased clients that send a host name (option 12).',
  ];
  if (dns.forwarders.length > 0) {
    confNotes.push(
      `provlab forwards other names to ${dns.forwarders.map((f) => `${f.address}${f.port === 53 ? '' : ` port ${f.port}`}`).join(', ')};`,
      `in named.conf: options { forwarders { ${dns.forwarders.map((f) => `${f.address}${f.port === 53 ? '' : ` port ${f.port}`};`).join(' ')} }; };`,
    );
  } else {
    confNotes.push('provlab answers REFUSED outside these zones (no forwarders): keep recursion off for the phones\' VLAN.');
  }
  files.unshift({ name: 'named.conf.provlab', comment: '//', content: `${header(plan, 'bind', '//', confNotes, { dhcp: false })}${conf.join('\n\n')}\n` });
  return { files, warnings };
}
