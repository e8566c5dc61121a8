// The read-only status page: one HTML document, CSS and JS inline, no external
// assets (the appliance sits on an isolated VLAN). It renders /api/status and
// /api/leases with textContent only (never innerHTML: names and vendor classes
// come off the wire), and refreshes when /api/events (SSE) says something
// changed, falling back to polling every 2 s while the stream is down.
// The CSP allows exactly this script and style, by hash.
import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #b35900; --wait: #6e7781; --line: #d0d7de; --bg2: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --ok: #3fb950; --warn: #f0883e; --wait: #8b949e; --line: #30363d; --bg2: #161b22; } }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.2rem; }
h1 { font-size: 1.25rem; margin: 0 0 .3rem; }
h2 { font-size: 1.05rem; margin: 1.6rem 0 .4rem; }
.meta { color: var(--wait); margin: 0 0 1rem; }
#live { font-weight: 600; }
#live.on { color: var(--ok); }
#live.off { color: var(--warn); }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--bg2); font-weight: 600; white-space: nowrap; }
.mono, .mac, .ip { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.mac { font-weight: 600; }
.sub { color: var(--wait); font-size: 12px; }
.step { white-space: nowrap; }
.icon { display: inline-block; width: 1.1em; font-weight: 700; text-align: center; }
.s-done .icon { color: var(--ok); }
.s-warn .icon, .s-warn .sum { color: var(--warn); }
.s-waiting, .s-skipped { color: var(--wait); }
.at { color: var(--wait); font-size: 12px; padding-left: 1.1em; }
.missing ul { margin: 0; padding-left: 1.1em; }
.missing li { color: var(--warn); }
.missing li.note { color: var(--wait); }
.missing .ok { color: var(--ok); }
tr.other .mac::after { content: " (not MS-UC-Client)"; font-weight: 400; color: var(--wait); }
details summary { cursor: pointer; color: var(--wait); font-size: 12px; }
details ol { margin: .2rem 0 0; padding-left: 1.4em; font-size: 12px; }
.empty { color: var(--wait); font-style: italic; }
`;

const SCRIPT = String.raw`
'use strict';
var STEPS = [['lease', 'Lease'], ['inform', 'INFORM 43/120'], ['ucupdates', 'ucupdates-r2'], ['timeLookup', 'Time lookup'], ['ntp', 'NTP']];
var ICON = { done: '\u2713', warn: '!', waiting: '\u00b7', skipped: '\u2013' };
var openEvents = {};
function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function two(n) { return (n < 10 ? '0' : '') + n; }
function hms(ms) {
  if (ms === null || ms === undefined) return '';
  var d = new Date(ms);
  return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
}
function stepCell(name, s) {
  var td = el('td', 'step s-' + s.state);
  td.setAttribute('data-step', name);
  td.setAttribute('data-state', s.state);
  var icon = el('span', 'icon', ICON[s.state] || '?');
  icon.title = s.state;
  td.appendChild(icon);
  td.appendChild(el('span', 'sum', s.summary === '\u2014' ? 'not yet' : s.summary));
  if (s.at !== null) td.appendChild(el('div', 'at', hms(s.at)));
  return td;
}
function phoneRow(p) {
  var tr = el('tr', p.lpe ? 'phone lpe' : 'phone other');
  tr.setAttribute('data-mac', p.mac);
  var who = el('td', 'who');
  who.appendChild(el('div', 'mac', p.mac));
  who.appendChild(el('div', 'ip', p.ip || 'no address'));
  var sub = p.vendorClasses.join(', ') || 'no vendor class';
  if (p.hostname) sub += ' \u00b7 ' + p.hostname;
  who.appendChild(el('div', 'sub', sub));
  var det = el('details');
  if (openEvents[p.mac]) det.open = true;
  det.addEventListener('toggle', function () { openEvents[p.mac] = det.open; });
  det.appendChild(el('summary', null, p.events.length + ' events'));
  var ol = el('ol');
  p.events.forEach(function (e) {
    ol.appendChild(el('li', null, hms(e.at) + ' ' + e.text + (e.count > 1 ? ' (\u00d7' + e.count + ', last ' + hms(e.lastAt) + ')' : '')));
  });
  det.appendChild(ol);
  who.appendChild(det);
  tr.appendChild(who);
  STEPS.forEach(function (s) { tr.appendChild(stepCell(s[0], p[s[0]])); });
  var miss = el('td', 'missing');
  if (p.missing.length === 0 && p.notes.length === 0) miss.appendChild(el('span', 'ok', 'nothing missing'));
  else {
    var ul = el('ul');
    p.missing.forEach(function (m) { ul.appendChild(el('li', 'missing-item', m)); });
    p.notes.forEach(function (m) { ul.appendChild(el('li', 'note', m)); });
    miss.appendChild(ul);
  }
  tr.appendChild(miss);
  return tr;
}
function fill(tbody, rows, cols, emptyText) {
  while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
  if (rows.length === 0) {
    var tr = el('tr');
    var td = el('td', 'empty', emptyText);
    td.colSpan = cols;
    tr.appendChild(td);
    tbody.appendChild(tr);
    return;
  }
  rows.forEach(function (r) { tbody.appendChild(r); });
}
function render(st, ls) {
  document.getElementById('site').textContent = st.site || '(unnamed site)';
  document.title = 'provlab \u00b7 ' + (st.site || 'status');
  document.getElementById('domains').textContent = st.domains.join(', ') || 'none';
  document.getElementById('count').textContent = String(st.counts.phones);
  document.getElementById('updated').textContent = hms(st.generatedAt);
  document.body.setAttribute('data-version', String(st.version));
  fill(document.querySelector('#phones tbody'), st.phones.map(phoneRow), 7, 'No phones yet: plug one into the provisioning VLAN.');
  var unk = document.getElementById('unknown');
  unk.hidden = st.unknownClients.length === 0;
  fill(document.querySelector('#unknown tbody'), st.unknownClients.map(function (u) {
    var tr = el('tr');
    [u.ip, String(u.dns), String(u.ntp), u.lastName || '', hms(u.at)].forEach(function (v, i) { tr.appendChild(el('td', i === 0 || i === 3 ? 'mono' : null, v)); });
    return tr;
  }), 5, '');
  fill(document.querySelector('#leases tbody'), ls.leases.map(function (l) {
    var tr = el('tr');
    tr.setAttribute('data-ip', l.ip);
    var state = l.state === 'bound' && !l.active ? 'bound (expired)' : l.state;
    [l.ip, l.mac, state, hms(l.expiresAt), l.hostname || '', l.vendorClass || ''].forEach(function (v, i) { tr.appendChild(el('td', i < 2 ? 'mono' : null, v)); });
    return tr;
  }), 6, 'No leases.');
}
function setLive(on, text) {
  var live = document.getElementById('live');
  live.className = on ? 'on' : 'off';
  live.textContent = text;
}
function json(r) {
  if (!r.ok) throw new Error('HTTP ' + r.status);
  return r.json();
}
var busy = false, again = false, stream = false;
function refresh() {
  if (busy) { again = true; return; }
  busy = true;
  Promise.all([fetch('/api/status', { cache: 'no-store' }).then(json), fetch('/api/leases', { cache: 'no-store' }).then(json)])
    .then(function (r) { render(r[0], r[1]); setLive(true, stream ? 'live' : 'polling'); })
    .catch(function () { setLive(false, 'provlab not reachable'); })
    .then(function () { busy = false; if (again) { again = false; refresh(); } });
}
var poll = null;
function startPoll() { if (poll === null) poll = setInterval(refresh, 2000); }
function stopPoll() { if (poll !== null) { clearInterval(poll); poll = null; } }
if (window.EventSource) {
  var es = new EventSource('/api/events');
  es.addEventListener('version', refresh);
  es.onopen = function () { stream = true; stopPoll(); refresh(); };
  es.onerror = function () { stream = false; setLive(false, 'reconnecting'); startPoll(); };
} else startPoll();
refresh();
`;

const BODY = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>provlab status</title>
<style>${STYLE}</style>
</head>
<body>
<h1>provlab &middot; <span id="site">&hellip;</span></h1>
<p class="meta">Domains handed out (options 15/119): <span id="domains">&hellip;</span> &middot; phones: <span id="count">0</span> &middot; updated <span id="updated">&ndash;</span> &middot; <span id="live">connecting</span></p>
<table id="phones">
<thead><tr><th>Phone</th><th>Lease</th><th>INFORM 43/120</th><th>ucupdates-r2</th><th>Time lookup</th><th>NTP</th><th>Missing</th></tr></thead>
<tbody></tbody>
</table>
<section id="unknown" hidden>
<h2>Clients without a lease here</h2>
<table><thead><tr><th>Address</th><th>DNS</th><th>NTP</th><th>Last name asked</th><th>Last seen</th></tr></thead><tbody></tbody></table>
</section>
<h2>Leases</h2>
<table id="leases">
<thead><tr><th>Address</th><th>MAC</th><th>State</th><th>Expires</th><th>Host name</th><th>Vendor class</th></tr></thead>
<tbody></tbody>
</table>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export const STATUS_PAGE: string = BODY;

/** Only the inline script and style above may run; no framing, no forms, fetches to this origin only. */
export const STATUS_PAGE_CSP: string = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
