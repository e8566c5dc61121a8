import t from 'tap';
import { hex } from '../../src/wire/bytes.js';
import { parsePastedHex } from '../../src/toolkit/hex-input.js';

// DHCPUtil's option 43 (90 bytes), from docs/lpe-facts.md.
const DHCPUTIL_43 =
  '010C4D532D55432D436C69656E740205687474707303177365727665722E6671646E2E636F6D70616E792E636F6D040334343305252F4365727450726F762F4365727450726F766973696F6E696E67536572766963652E737663';
const bytes = DHCPUTIL_43.match(/../g)!;
const expected = DHCPUTIL_43.toLowerCase();

/** Cisco IOS prints option 43 in groups of 4 hex digits joined by dots. */
function ciscoDotted(pairs: string[]): string {
  const groups: string[] = [];
  for (let i = 0; i < pairs.length; i += 2) groups.push(pairs.slice(i, i + 2).join(''));
  return groups.join('.');
}

t.test('every pasted form gives the same bytes', async (t) => {
  const forms: [string, string, string][] = [
    ['plain', DHCPUTIL_43, 'plain'],
    ['plain, lower case', DHCPUTIL_43.toLowerCase(), 'plain'],
    ['0x prefix', `0x${DHCPUTIL_43}`, '0x-prefixed'],
    ['colons', bytes.join(':'), 'colon-separated'],
    ['colons, dhclient drops leading zeros', bytes.map((b) => b.replace(/^0/, '')).join(':'), 'colon-separated'],
    ['dashes', bytes.join('-'), 'dash-separated'],
    ['spaces', bytes.join(' '), 'space-separated'],
    ['xxd-style groups', ciscoDotted(bytes).replace(/\./g, ' '), 'space-separated'],
    ['wrapped lines', `${bytes.slice(0, 16).join(' ')}\n${bytes.slice(16).join(' ')}\n`, 'space-separated'],
    ['Cisco dotted', ciscoDotted(bytes), 'cisco-dotted'],
    ['IOS config line', `option 43 hex ${ciscoDotted(bytes)}`, 'cisco-dotted'],
    ['Windows 0x list', bytes.map((b) => `0x${b}`).join(' '), 'windows-0x-list'],
    ['Windows 0x list with commas', bytes.map((b) => `0x${b}`).join(','), 'windows-0x-list'],
    ['PowerShell array', `{${bytes.map((b) => `0x${b}`).join(', ')}}`, 'windows-0x-list'],
    ['netsh short bytes', bytes.map((b) => `0x${b.replace(/^0/, '')}`).join(' '), 'windows-0x-list'],
    ['quoted', `"${DHCPUTIL_43}"`, 'plain'],
  ];
  for (const [what, text, form] of forms) {
    const r = parsePastedHex(text);
    t.ok(r.ok, what);
    if (!r.ok) continue;
    t.equal(hex(r.value.bytes), expected, `${what}: same bytes`);
    t.equal(r.value.form, form, `${what}: recognised as ${form}`);
    t.type(r.value.description, 'string');
  }
});

t.test('input that is not hex is refused with a position', async (t) => {
  const code = (s: string) => {
    const r = parsePastedHex(s);
    return r.ok ? 'ok' : r.error.code;
  };
  t.equal(code(''), 'empty');
  t.equal(code('   '), 'empty');
  t.equal(code('010'), 'odd-digits');
  t.equal(code('01zz'), 'bad-hex');
  t.equal(code('01:0g'), 'bad-hex');
  t.equal(code('01:0c0d'), 'bad-hex', 'a colon group holds one byte');
  t.equal(code('0x01 0x100'), 'bad-hex', 'a Windows item holds one byte');
  t.equal(code('010.0c'), 'odd-digits', 'Cisco groups hold 2 or 4 digits');
  t.equal(code('10.99.0.1'), 'odd-digits', 'an IPv4 address is not hex');
  const r = parsePastedHex('  01 0c zz');
  t.equal(r.ok ? -1 : r.error.offset, 8, 'offset points at the bad text');
});
