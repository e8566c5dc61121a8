import t from 'tap';
import { MS_UC_CLIENT_SPACE, OPTION_DEFS, findOptionDef, findOptionDefByName, optionName } from '../../src/wire/option-defs.js';

t.test('the DHCPv4 options provlab meets are all rows of dhcp4', async (t) => {
  const needed = [1, 2, 3, 4, 6, 12, 15, 28, 42, 43, 50, 51, 52, 53, 54, 55, 57, 58, 59, 60, 61, 66, 67, 81, 82, 119, 120, 150, 252];
  for (const code of needed) t.equal(findOptionDef(code)?.space, 'dhcp4', `option ${code}`);
  t.equal(findOptionDef(53)?.name, 'dhcp-message-type');
  t.equal(findOptionDef(53)?.type, 'uint8');
  t.equal(findOptionDef(119)?.type, 'fqdn-list');
  t.equal(findOptionDef(120)?.type, 'sip-servers');
  t.equal(findOptionDef(3)?.type, 'ipv4-list');
  t.equal(findOptionDef(51)?.type, 'uint32');
  t.equal(findOptionDef(2)?.type, 'int32');
  t.equal(findOptionDef(60)?.type, 'text');
  t.equal(findOptionDef(200), undefined, 'unknown code');
  t.equal(findOptionDef(53, 'no-such-space'), undefined, 'unknown space');
});

t.test('option 43 encapsulates the MS-UC-Client space, sub-options 1..5 as text', async (t) => {
  const o43 = findOptionDef(43);
  t.equal(o43?.type, 'encapsulated');
  t.equal(o43?.encapsulates, 'ms-uc-client');
  const names = ['UCIdentifier', 'URLScheme', 'WebServerFqdn', 'WebServerPort', 'CertProvRelPath'];
  names.forEach((name, i) => {
    const row = findOptionDef(i + 1, 'ms-uc-client');
    t.equal(row?.name, name, `sub-option ${i + 1}`);
    t.equal(row?.type, 'text', `${name} is text (the port too: "443", not 01 bb)`);
    t.equal(findOptionDefByName(name, 'ms-uc-client')?.code, i + 1);
  });
  t.equal(findOptionDef(6, 'ms-uc-client'), undefined);
});

t.test('lookups by name', async (t) => {
  t.equal(findOptionDefByName('domain-search')?.code, 119);
  t.equal(findOptionDefByName('vendor-encapsulated-options')?.code, 43);
  t.equal(findOptionDefByName('UCIdentifier'), undefined, 'sub-option names live in their own space');
  t.equal(findOptionDefByName('circuit-id', 'dhcp-agent-options-space')?.code, 1);
});

t.test('the table is consistent', async (t) => {
  const keys = new Set<string>();
  const names = new Set<string>();
  for (const def of OPTION_DEFS) {
    const key = `${def.space}:${def.code}`;
    t.notOk(keys.has(key), `one row for ${key}`);
    keys.add(key);
    t.notOk(names.has(`${def.space}:${def.name}`), `one row named ${def.space}:${def.name}`);
    names.add(`${def.space}:${def.name}`);
    t.ok(def.code >= 1 && def.code <= 254, `${key}: code in 1..254`);
    t.equal(def.encapsulates !== undefined, def.type === 'encapsulated', `${key}: encapsulates iff encapsulated`);
    if (def.encapsulates) t.ok(OPTION_DEFS.some((d) => d.space === def.encapsulates), `${key}: space ${def.encapsulates} has rows`);
  }
  t.ok(Object.isFrozen(OPTION_DEFS) && OPTION_DEFS.every((d) => Object.isFrozen(d)), 'rows are frozen');
});

t.test('optionName: the row name, or option-<code> for a code the table lacks', async (t) => {
  t.equal(optionName(15), 'domain-name');
  t.equal(optionName(224), 'option-224');
  t.equal(optionName(1, MS_UC_CLIENT_SPACE), 'UCIdentifier');
});
