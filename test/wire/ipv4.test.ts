// The one dotted-quad contract (src/wire/ipv4.ts): four decimal parts 0..255,
// no leading zeros, nothing else. Three parsers used to accept different
// inputs (one took `010.0.0.1`, which inet_aton reads as 8.0.0.1).
import t from 'tap';
import { intToIp, ipToInt, isIPv4, parseCidr, parseIPv4 } from '../../src/wire/ipv4.js';

t.test('dotted quads parse to their uint32', async (t) => {
  t.equal(parseIPv4('0.0.0.0'), 0);
  t.equal(parseIPv4('10.0.0.1'), 0x0a000001);
  t.equal(parseIPv4('192.168.1.1'), 0xc0a80101);
  t.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  t.equal(ipToInt('10.20.0.1'), 0x0a140001);
  t.equal(intToIp(parseIPv4('172.16.254.3')), '172.16.254.3');
});

t.test('everything the old parsers disagreed on is refused, by every entry point', async (t) => {
  const odd = ['010.0.0.1', '1.2.3', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4.', '.1.2.3.4', '0x1.2.3.4', '256.1.1.1', '+1.2.3.4', '-1.2.3.4', '1..2.3', '1.2.3.4.5', '00.0.0.0', '1.2.3.04', '1e2.0.0.1', '１.2.3.4', '', 'a.b.c.d'];
  for (const s of odd) {
    t.equal(parseIPv4(s), -1, `parseIPv4 ${JSON.stringify(s)}`);
    t.equal(isIPv4(s), false, `isIPv4 ${JSON.stringify(s)}`);
    t.throws(() => ipToInt(s), /not an IPv4 address/, `ipToInt ${JSON.stringify(s)}`);
    t.equal(parseCidr(`${s}/24`), null, `parseCidr ${JSON.stringify(s)}/24`);
  }
});
