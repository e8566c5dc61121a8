// Codes and constants from docs/lpe-facts.md (WinINet constants) and docs/seed-article.md.
import t from 'tap';
import { explainStatus, parseStatusCode, renderExplanation, STATUS_CODES } from '../../src/toolkit/explain.js';

const explain = (s: string) => {
  const r = explainStatus(s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

t.test('the codes lpe-facts lists', async (t) => {
  const cases: [string, number, string, RegExp][] = [
    ['0x2F0D/0', 12045, 'ERROR_INTERNET_INVALID_CA', /PIN sign-in/],
    ['0x2EE2', 12002, 'ERROR_INTERNET_TIMEOUT', /port 80/],
    ['0x2F06', 12038, 'ERROR_INTERNET_SEC_CERT_CN_INVALID', /ucupdates-r2 \(the short name/],
    ['0x2F05', 12037, 'ERROR_INTERNET_SEC_CERT_DATE_INVALID', /_ntp\._udp/],
    ['0x2EE7', 12007, 'ERROR_INTERNET_NAME_NOT_RESOLVED', /ucupdates-r2\.<domain>.*AD domain/],
    ['0x2EFD', 12029, 'ERROR_INTERNET_CANNOT_CONNECT', /TCP 443/],
  ];
  for (const [input, code, name, check] of cases) {
    const e = explain(input);
    t.equal(e.code, code, `${input} = ${code}`);
    t.equal(e.hex, `0x${code.toString(16).toUpperCase()}`);
    t.ok(e.known);
    t.ok(e.entry?.names.includes(name), `${input}: ${name}`);
    t.match(e.entry?.checks.join('\n'), check, `${input}: what to check`);
    t.match(e.entry?.source, /lpe-facts/);
  }
  t.same(explain('0x2F0D/0').entry?.names, ['ERROR_INTERNET_INVALID_CA', 'ERROR_WINHTTP_SECURE_INVALID_CA'], "the seed article's reading too");
});

t.test('the forms a code is typed in', async (t) => {
  const code = (s: string) => {
    const r = parseStatusCode(s);
    return r.ok ? [r.value.code, r.value.detail, r.value.hresult] : r.error.code;
  };
  t.same(code('0x2F0D/0'), [12045, 0, false]);
  t.same(code('0x2f0d/200'), [12045, 200, false]);
  t.same(code('(0x2ee2/0)'), [12002, 0, false], 'in parentheses, as forum posts quote it');
  t.same(code('0x2F0D'), [12045, null, false]);
  t.same(code('2F0D'), [12045, null, false], 'hex without 0x when it has letters');
  t.same(code('12045'), [12045, null, false]);
  t.same(code(' 12002 '), [12002, null, false]);
  t.same(code('0x80072F0D'), [12045, null, true], 'HRESULT_FROM_WIN32');
  t.same(code('ERROR_INTERNET_INVALID_CA'), [12045, null, false]);
  t.same(code('error_winhttp_timeout'), [12002, null, false]);
  t.equal(code(''), 'empty');
  t.equal(code('xyz'), 'bad-code');
  t.equal(code('0x2F0D/zz'), 'bad-code');
  t.equal(code('1/2/3'), 'bad-code');
});

t.test('the number after the slash', async (t) => {
  t.match(explain('0x2F0D/0').notes.join(), /0, as in most reports/);
  t.match(explain('0x2f0d/200').notes.join(), /looks like an HTTP status/);
  t.match(explain('0x2F0D/0').entry?.checks.join(), /\/200 after the code/);
});

t.test('unknown codes: say so, with decimal and hex', async (t) => {
  const e = explain('0x1234');
  t.equal(e.known, false);
  t.equal(e.entry, null);
  const text = renderExplanation(e).join('\n');
  t.match(text, '0x1234 = 4660: unknown code');
  const w = explain('12099');
  t.match(w.notes.join(), /WinINet\/WinHTTP range/);
  t.match(renderExplanation(w).join('\n'), '0x2F43 = 12099');
});

t.test('rendering and the table', async (t) => {
  const text = renderExplanation(explain('0x2F0D/0')).join('\n');
  t.match(text, '0x2F0D/0 = 12045 = ERROR_INTERNET_INVALID_CA / ERROR_WINHTTP_SECURE_INVALID_CA');
  t.match(text, 'check on the VLAN:');
  t.match(text, '1. The phone trusts only the root');
  const seen = new Set<number>();
  for (const e of STATUS_CODES) {
    t.notOk(seen.has(e.code), `${e.code} listed once`);
    seen.add(e.code);
    t.ok(e.code >= 12000 && e.code < 12200, `${e.code} is a WinINet/WinHTTP code`);
    t.ok(e.checks.length > 0 && e.names.length > 0 && e.meaning.length > 0);
    t.ok(explain(e.names[0]!).known, `${e.names[0]} by name`);
    t.ok(explain(String(e.code)).known, `${e.code} by number`);
  }
});
