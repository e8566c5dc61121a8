// Judges one phone's record against what a Lync Phone Edition boot needs
// (docs/lpe-facts.md, docs/seed-article.md): lease with option 60 MS-UC-Client, an
// INFORM answered with 43 and 120, ucupdates-r2.<domain> for a domain the site
// hands out, a time source, NTP. Pure: state + site domains in, JSON view out.
import { formatOffset, type InformState, type PhoneState, type QueryState } from './state.js';
import type { InformStepView, LeaseStepView, NtpStepView, PhoneView, QueryStepView, QueryView } from './types.js';

const UC = 'MS-UC-Client';

function queryView(q: QueryState, domains: readonly string[]): QueryView {
  return {
    name: q.name,
    type: q.type,
    rcode: q.rcode,
    answers: q.answers,
    firstAt: q.firstAt,
    at: q.at,
    count: q.count,
    domain: q.domain,
    inSite: q.domain === null ? null : q.domain !== '' && domains.includes(q.domain),
  };
}

/** Answered with at least one record (an A query can be NOERROR with no data). */
function resolved(q: QueryView): boolean {
  return q.rcode === 'NOERROR' && q.answers !== 0;
}

function failure(q: QueryView): string {
  return q.rcode === 'NOERROR' ? 'NOERROR with no records' : q.rcode;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.join(', ');
}

function leaseStep(p: PhoneState, missing: string[], notes: string[]): LeaseStepView {
  const base = {
    address: p.address,
    vendorClass: p.leaseVendorClass,
    prl: p.leasePrl,
    discoverAt: p.discoverAt,
    offerAt: p.offerAt,
    offered: p.offered,
    requestAt: p.requestAt,
    ackAt: p.ackAt,
    nak: p.nak,
  };
  if (p.ackAt !== null && p.address !== null) {
    if (p.nak && p.nak.at > p.ackAt) missing.push(`a later REQUEST was refused (NAK): ${p.nak.note}`);
    const vc = p.leaseVendorClass;
    if (vc === UC) return { ...base, state: 'done', at: p.ackAt, summary: p.address, source: 'dhcp' };
    missing.push(vc === null ? `got a lease without vendor class ${UC} (no option 60)` : `got a lease with vendor class "${vc}", not ${UC}`);
    return { ...base, state: 'warn', at: p.ackAt, summary: `${p.address}, ${vc === null ? 'no option 60' : vc}`, source: 'dhcp' };
  }
  if (p.journalLease) {
    notes.push(`lease ${p.journalLease.ip} is from the lease journal: no DHCP from this phone since provlab started`);
    return { ...base, address: p.journalLease.ip, state: 'done', at: p.journalLease.at, summary: `${p.journalLease.ip} (journal)`, source: 'journal' };
  }
  const unanswered = p.unanswered ? `: ${p.unanswered.note}` : '';
  if (p.nak && (p.requestAt === null || p.nak.at >= p.requestAt)) {
    missing.push(`its REQUEST was refused (NAK): ${p.nak.note}`);
    return { ...base, state: 'waiting', at: p.nak.at, summary: 'NAK', source: 'dhcp' };
  }
  if (p.requestAt !== null) {
    missing.push(`sent REQUEST but got no ACK${unanswered}`);
    return { ...base, state: 'waiting', at: p.requestAt, summary: 'REQUEST, no ACK', source: 'dhcp' };
  }
  if (p.offerAt !== null) {
    missing.push(`was offered ${p.offered ?? 'an address'} but never sent REQUEST`);
    return { ...base, state: 'waiting', at: p.offerAt, summary: `offered ${p.offered ?? '?'}`, source: 'dhcp' };
  }
  if (p.discoverAt !== null) {
    missing.push(`sent DISCOVER but got no offer${unanswered}`);
    return { ...base, state: 'waiting', at: p.discoverAt, summary: 'DISCOVER, no offer', source: 'dhcp' };
  }
  if (p.informs.size > 0 && p.ip !== null) {
    // INFORM without a lease from us: a static address, or a lease from another server.
    notes.push(`no lease from provlab: it uses ${p.ip} (static, or leased from another DHCP server)`);
    return { ...base, state: 'skipped', at: null, summary: `${p.ip} (not ours)`, source: null };
  }
  missing.push('no lease yet');
  return { ...base, state: 'waiting', at: null, summary: '—', source: null };
}

function informView(i: InformState): InformStepView['informs'][number] {
  return { firstAt: i.firstAt, at: i.at, count: i.count, vendorClass: i.vendorClass, prl: [...i.prl], optionsSent: [...i.optionsSent], answered: i.answered, note: i.note };
}

function informStep(p: PhoneState, missing: string[], notes: string[]): InformStepView {
  const informs = [...p.informs.values()].map(informView).sort((a, b) => a.at - b.at);
  const good = informs.filter((i) => i.answered && i.optionsSent.includes(43) && i.optionsSent.includes(120));
  if (good.length > 0) {
    const first = good.reduce((a, b) => (b.firstAt < a.firstAt ? b : a));
    const asked = [43, 120].filter((c) => first.prl.includes(c));
    if (asked.length < 2) {
      notes.push(`its INFORM asked for ${asked.length === 0 ? 'neither 43 nor 120' : `${asked[0]} only`} (option 55: ${list(first.prl.map(String))}); both were sent anyway`);
    }
    for (const other of informs) {
      if (other !== first && other.vendorClass !== first.vendorClass) {
        notes.push(`also sent INFORM as ${other.vendorClass === null ? 'no vendor class' : `"${other.vendorClass}"`}, answered with ${list(other.optionsSent.map(String))}`);
      }
    }
    return { state: 'done', at: first.firstAt, summary: `43+120${first.vendorClass !== null && first.vendorClass !== UC ? ` (${first.vendorClass})` : ''}`, informs };
  }
  if (informs.length === 0) {
    missing.push('never sent INFORM');
    return { state: 'waiting', at: null, summary: '—', informs };
  }
  const last = informs[informs.length - 1]!;
  const who = last.vendorClass === null ? 'without vendor class' : `with vendor class "${last.vendorClass}"`;
  if (!last.answered) {
    missing.push(`sent INFORM ${who} but it was not answered${last.note ? `: ${last.note}` : ''}`);
    return { state: 'warn', at: last.at, summary: 'not answered', informs };
  }
  const lacking = [43, 120].filter((c) => !last.optionsSent.includes(c));
  missing.push(`sent INFORM ${who}: answered without ${lacking.join(' and ')} (only ${UC} gets them)`);
  return { state: 'warn', at: last.at, summary: `no ${lacking.join('/')}`, informs };
}

function ucupdatesStep(p: PhoneState, domains: readonly string[], missing: string[], notes: string[]): QueryStepView {
  const queries = [...p.ucupdates.values()].map((q) => queryView(q, domains)).sort((a, b) => a.firstAt - b.firstAt);
  if (queries.length === 0) {
    missing.push('no DNS query for ucupdates-r2 yet');
    return { state: 'waiting', at: null, summary: '—', queries };
  }
  const foreign = [...new Set(queries.filter((q) => q.inSite === false).map((q) => q.domain ?? ''))];
  for (const d of foreign) {
    if (d === '') missing.push('asked bare ucupdates-r2 (no domain): it holds no DHCP domain (option 15)');
    else missing.push(`asked ucupdates-r2.${d} but that domain is not in the site (${list([...domains])})`);
  }
  const ours = queries.filter((q) => q.inSite === true);
  const okDomains = [...new Set(ours.filter(resolved).map((q) => q.domain!))];
  const failed = [...new Set(ours.map((q) => q.domain!))].filter((d) => !okDomains.includes(d));
  for (const d of failed) {
    const q = ours.filter((x) => x.domain === d).reduce((a, b) => (b.at > a.at ? b : a));
    missing.push(`ucupdates-r2.${d} was answered ${failure(q)}: the phone cannot reach Device Update`);
  }
  if (okDomains.length > 0) {
    const unasked = domains.filter((d) => !ours.some((q) => q.domain === d));
    if (unasked.length > 0) notes.push(`has not asked ucupdates-r2 for ${list(unasked)} (yet)`);
    const firstOk = ours.filter(resolved).reduce((a, b) => (b.firstAt < a.firstAt ? b : a));
    return { state: foreign.length > 0 ? 'warn' : 'done', at: firstOk.firstAt, summary: okDomains.join(', '), queries };
  }
  const last = queries.reduce((a, b) => (b.at > a.at ? b : a));
  const summary = foreign.length > 0 ? `${foreign.map((d) => d || '(bare)').join(', ')} (not in site)` : `${failed.join(', ')}: ${failure(last)}`;
  return { state: 'warn', at: last.at, summary, queries };
}

function timeStep(p: PhoneState, domains: readonly string[], ntpAnswered: boolean, missing: string[], notes: string[]): QueryStepView {
  const queries = [...p.time.values()].map((q) => queryView(q, domains)).sort((a, b) => a.firstAt - b.firstAt);
  if (queries.length === 0) {
    return ntpAnswered
      ? { state: 'skipped', at: null, summary: 'none (not needed)', queries }
      : { state: 'waiting', at: null, summary: '—', queries };
  }
  const foreign = [...new Set(queries.filter((q) => q.inSite === false).map((q) => q.domain ?? ''))];
  for (const d of foreign) missing.push(d === '' ? 'asked bare _ntp._udp (no domain): it holds no DHCP domain (option 15)' : `asked _ntp._udp.${d} but that domain is not in the site (${list([...domains])})`);
  for (const q of queries) {
    if (q.inSite === true && !resolved(q)) notes.push(`${q.name} (${q.type}) was answered ${failure(q)}`);
  }
  if (queries.some((q) => q.name === 'time.windows.com')) {
    notes.push('looked up time.windows.com, its fallback when neither an _ntp._udp SRV record nor option 42 gave it a time source');
  }
  const names = [...new Set(queries.map((q) => (q.domain === null ? q.name : '_ntp._udp')))];
  return { state: foreign.length > 0 && foreign.length === queries.length ? 'warn' : 'done', at: queries[0]!.firstAt, summary: names.join(', '), queries };
}

function ntpStep(p: PhoneState, time: QueryStepView, missing: string[]): NtpStepView {
  const n = p.ntp;
  const base = { firstAt: n?.firstAt ?? null, replies: n?.replies ?? 0, kisses: n?.kisses ?? 0, offsetMs: n?.offsetMs ?? null, version: n?.version ?? null };
  if (n && n.replies > 0) {
    return { ...base, state: 'done', at: n.firstReplyAt, summary: n.offsetMs !== null ? `off by ${formatOffset(n.offsetMs)}` : 'answered' };
  }
  if (n && n.kisses > 0) {
    missing.push('its NTP requests were rate-limited (RATE kiss): no time served yet; loosen ntp.rate_limit');
    return { ...base, state: 'warn', at: n.at, summary: 'rate-limited' };
  }
  missing.push(time.queries.length > 0 ? `no NTP request yet (looked up ${list([...new Set(time.queries.map((q) => q.name))])})` : 'no NTP request yet');
  return { ...base, state: 'waiting', at: null, summary: '—' };
}

export function phoneView(p: PhoneState, domains: readonly string[]): PhoneView {
  const missing: string[] = [];
  const notes: string[] = [];
  const lease = leaseStep(p, missing, notes);
  const inform = informStep(p, missing, notes);
  const ucupdates = ucupdatesStep(p, domains, missing, notes);
  const ntpAnswered = (p.ntp?.replies ?? 0) > 0;
  // Judged before NTP so the messages stay in boot order.
  const timeMissing: string[] = [];
  const timeLookup = timeStep(p, domains, ntpAnswered, timeMissing, notes);
  missing.push(...timeMissing);
  const ntp = ntpStep(p, timeLookup, missing);
  return {
    mac: p.mac,
    ip: p.ip,
    hostname: p.hostname,
    vendorClasses: [...p.vendorClasses],
    lpe: p.vendorClasses.includes(UC),
    firstSeen: p.firstSeen,
    lastSeen: p.lastSeen,
    lease,
    inform,
    ucupdates,
    timeLookup,
    ntp,
    otherQueries: [...p.other.values()].map((q) => queryView(q, domains)),
    missing,
    notes,
    events: p.events.map((e) => ({ at: e.at, lastAt: e.lastAt, count: e.count, kind: e.kind, text: e.text })),
  };
}
