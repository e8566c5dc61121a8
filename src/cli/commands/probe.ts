// `provlab probe`: emulate a Lync Phone Edition phone against any DHCP server
// and print a checklist. Exit 0: a phone would get through; 1: it would fail;
// 2: the probe could not run (bad arguments, no root, no such interface).
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from '../../log.js';
import { isIPv4 } from '../../wire/ipv4.js';
import { parseMac, parsePrl, PHONE_PRL } from '../../probe/phone-dhcp.js';
import { ProbeSetupError, runProbe, type ProbeVia } from '../../probe/probe.js';
import { exitCode, renderText } from '../../probe/report.js';

const address = (v: string): string => {
  if (!isIPv4(v)) throw new InvalidArgumentError('not an IPv4 address');
  return v;
};
const port = (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new InvalidArgumentError('not a port 1..65535');
  return n;
};
const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('not a positive number');
  return n;
};

interface ProbeCliOptions {
  interface?: string;
  relay?: string;
  server?: string;
  port: number;
  inform?: string;
  mac?: string;
  vendorClass: string;
  prl: string;
  dnsPort: number;
  ntpPort: number;
  timeout: number;
  attempts: number;
  maxOffset: number;
  dns: boolean;
  ntp: boolean;
  json?: boolean;
}

export function register(program: Command, logger: () => Logger): void {
  program
    .command('probe')
    .description('act as a Lync Phone Edition phone at boot: DHCP (option 60 MS-UC-Client), then its DNS look-ups and NTP; print a checklist. Exit 1 when a phone would fail')
    .addOption(new Option('-i, --interface <name>', 'probe on this interface: broadcast from port 68 (needs root); the address offered is never configured').conflicts('relay'))
    .addOption(new Option('--relay <giaddr>', 'probe as a DHCP relay agent with this giaddr (an address of this host inside the subnet to test): no root needed on high ports').argParser(address))
    .addOption(new Option('--server <address>', 'DHCP server to relay to (with --relay)').argParser(address))
    .addOption(new Option('--port <port>', 'DHCP server port in relay mode; replies come back to giaddr on the same port').argParser(port).default(67))
    .addOption(new Option('--inform <address>', 'send a DHCPINFORM from this address (the phone\'s request after it has a lease) instead of DISCOVER/REQUEST').argParser(address))
    .option('--mac <mac>', 'client MAC (default: the interface\'s own; in relay mode a stable one derived from this host\'s name)')
    .option('--vendor-class <text>', 'option 60', 'MS-UC-Client')
    .option('--prl <codes>', 'option 55, comma-separated (the phone\'s real list is unknown)', PHONE_PRL.join(','))
    .addOption(new Option('--dns-port <port>', 'port of the DNS server from option 6').argParser(port).default(53))
    .addOption(new Option('--ntp-port <port>', 'port of the NTP servers from options 42/4').argParser(port).default(123))
    .addOption(new Option('--timeout <ms>', 'wait per attempt, for every exchange').argParser(positive).default(2000))
    .addOption(new Option('--attempts <n>', 'DHCP transmissions per exchange').argParser(positive).default(3))
    .addOption(new Option('--max-offset <seconds>', 'NTP: largest acceptable difference from this host\'s clock').argParser(positive).default(300))
    .option('--no-dns', 'skip the DNS look-ups')
    .option('--no-ntp', 'skip the NTP query')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Examples:
  provlab probe --interface eth1                       # as a phone plugged into eth1 (root)
  provlab probe --interface eth1 --inform 10.20.0.57   # the INFORM a phone sends once 10.20.0.57 is configured
  provlab probe --relay 127.88.0.1 --server 127.0.0.1 --port 6767 --dns-port 5300 --ntp-port 12300
                                                       # the loopback default of npm start, no root`,
    )
    .action(async (o: ProbeCliOptions) => {
      const usage = (text: string): never => {
        process.stderr.write(`provlab probe: ${text}\n`);
        process.exit(2);
      };
      let via: ProbeVia;
      if (o.interface !== undefined) {
        if (o.server !== undefined) usage('--server goes with --relay; on an interface the request is broadcast');
        via = { kind: 'interface', interface: o.interface };
      } else if (o.relay !== undefined) {
        if (o.server === undefined) usage('--relay needs --server ADDRESS');
        via = { kind: 'relay', giaddr: o.relay, server: o.server!, port: o.port };
      } else {
        return usage('say where to probe: --interface NAME, or --relay GIADDR --server ADDRESS');
      }
      const mac = o.mac === undefined ? undefined : parseMac(o.mac);
      if (mac === null) usage(`--mac ${o.mac} is not a MAC address`);
      const prl = parsePrl(o.prl);
      if (prl === null) usage(`--prl ${o.prl} is not a comma-separated list of option codes 1..254`);
      try {
        const report = await runProbe({
          via,
          ...(o.inform !== undefined ? { inform: o.inform } : {}),
          ...(mac !== undefined ? { mac: mac! } : {}),
          vendorClass: o.vendorClass,
          prl: prl!,
          dnsPort: o.dnsPort,
          ntpPort: o.ntpPort,
          timeoutMs: o.timeout,
          attempts: Math.floor(o.attempts),
          maxOffsetSeconds: o.maxOffset,
          dns: o.dns,
          ntp: o.ntp,
          logger: logger().child({ cmd: 'probe' }),
        });
        process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, { color: Boolean(process.stdout.isTTY) }));
        process.exitCode = exitCode(report);
      } catch (err) {
        if (err instanceof ProbeSetupError) {
          process.stderr.write(`provlab probe: ${err.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw err;
      }
    });
}
