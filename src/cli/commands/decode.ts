// `provlab decode OPTION HEX` and `provlab decode --pcap FILE`: the byte-by-byte
// reading of options 43/119/120 (and 60, 55) from src/toolkit. Exit codes:
// 0 clean, 1 a phone would fail with these bytes, 2 unusable input.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from '../../log.js';
import { decodeHexOption, exitCodeFor, parseOptionCode, renderOptionReport, type InputForm } from '../../toolkit/decode.js';
import { captureFindings, decodeCapture, renderCaptureReport } from '../../toolkit/decode-pcap.js';

const EXAMPLES = `
Exit status: 0 when the bytes are fine (warnings allowed unless --strict),
1 when a Lync Phone Edition phone would fail with them, 2 when the input
cannot be read (not hex, unknown option, not a capture file).

The hex may be pasted as plain hex, with colons or spaces, with a 0x prefix,
Cisco dotted (010c.4d53…), or Windows style (0x01 0x0C …), as the value alone
or with the option's code and length in front; the output says which form it
assumed. Without HEX, it is read from standard input.

Examples (… stands for the rest of the bytes):
  provlab decode 43 010C4D532D55432D436C69656E74020568747470730317…
  provlab decode 43 'option 43 hex 010c.4d53.2d55.432d.436c.6965.6e74…'
  provlab decode 120 00:08:6c:79:6e:63:70:6f:6f:6c:07:63:6f:6e:74:6f:73:6f:03:63:6f:6d:00
  provlab decode 119 "03 65 6e 67 05 61 70 70 6c 65 03 63 6f 6d 00 09 6d 61 72 6b 65 74 69 6e 67 c0 04"
  provlab decode sip-server 0x78 0x0b 0x00 0x04 0x6c 0x79 0x6e 0x63 0x03 0x63 0x6f 0x6d 0x00
  pbpaste | provlab decode 43
  provlab decode --pcap phone-boot.pcapng
  provlab decode --pcap loopback.pcap --dhcp-port 6767 --json
`;

interface DecodeOptions {
  pcap?: string;
  json?: boolean;
  form: InputForm;
  vendorClass?: string;
  dhcpPort?: number[];
  strict?: boolean;
}

function unusable(json: boolean | undefined, message: string, extra: Record<string, unknown> = {}): void {
  if (json) process.stdout.write(`${JSON.stringify({ error: { message, ...extra }, exitCode: 2 }, null, 2)}\n`);
  process.stderr.write(`provlab decode: ${message}\n`);
  process.exitCode = 2;
}

function port(value: string, previous: number[] | undefined): number[] {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('not a port number (1..65535)');
  return [...(previous ?? []), n];
}

export function register(program: Command, logger: () => Logger): void {
  void logger;
  program
    .command('decode')
    .description('read DHCP option 43 (MS-UC-Client), 119, 120, 60 or 55 byte by byte and flag what would stop a Lync Phone Edition phone; or every DHCP packet of a capture')
    .argument('[option]', 'option code or name: 43, 119, 120, 60, 55, vendor-encapsulated-options, domain-search, sip-server…')
    .argument('[hex...]', 'the option bytes as pasted (several words are joined)')
    .option('--pcap <file>', 'decode every DHCP packet in a pcap or pcapng capture instead')
    .option('--json', 'machine-readable output (shape: src/toolkit/README.md)')
    .addOption(new Option('--form <form>', 'whether HEX includes the option code and length').choices(['auto', 'value', 'option']).default('auto'))
    .option('--vendor-class <class>', 'read option 43 for this vendor class (default MS-UC-Client)')
    .option('--dhcp-port <port>', 'with --pcap, also treat this UDP port as DHCP (repeatable; 67 and 68 always are)', port)
    .option('--strict', 'exit 1 on warnings too')
    .addHelpText('after', EXAMPLES)
    .exitOverride((err) => {
      // Usage errors are "unusable input" (2), help is success (0).
      process.exit(err.exitCode === 0 ? 0 : 2);
    })
    .action((optionArg: string | undefined, hexArgs: string[], o: DecodeOptions) => {
      if (o.pcap !== undefined) {
        if (optionArg !== undefined) return unusable(o.json, '--pcap takes no OPTION or HEX');
        let bytes: Buffer;
        try {
          bytes = readFileSync(o.pcap);
        } catch (e) {
          return unusable(o.json, `cannot read ${o.pcap}: ${(e as Error).message}`);
        }
        const r = decodeCapture(bytes, { ports: [67, 68, ...(o.dhcpPort ?? [])] });
        if (!r.ok) return unusable(o.json, `${o.pcap}: ${r.error.message}`, { code: r.error.code });
        if (r.value.packets.length === 0) {
          if (o.json) process.stdout.write(`${JSON.stringify({ file: o.pcap, ...r.value, exitCode: 2 }, null, 2)}\n`);
          else process.stdout.write(`${renderCaptureReport(r.value).join('\n')}\n`);
          process.exitCode = 2;
          return;
        }
        const exitCode = exitCodeFor(captureFindings(r.value), o.strict);
        if (o.json) process.stdout.write(`${JSON.stringify({ file: o.pcap, ...r.value, exitCode }, null, 2)}\n`);
        else process.stdout.write(`${renderCaptureReport(r.value).join('\n')}\n`);
        process.exitCode = exitCode;
        return;
      }
      if (optionArg === undefined) return unusable(o.json, 'give OPTION and HEX (e.g. `provlab decode 43 010c4d53…`) or --pcap FILE; see --help');
      const code = parseOptionCode(optionArg);
      if (code === undefined) return unusable(o.json, `${JSON.stringify(optionArg)} is not an option code (1..254) or a known option name`);
      let text = hexArgs.join(' ');
      if (text.trim() === '' && !process.stdin.isTTY) {
        try {
          text = readFileSync(0, 'utf8');
        } catch {
          text = '';
        }
      }
      if (text.trim() === '') return unusable(o.json, `no hex given for option ${code}`);
      const r = decodeHexOption(code, text, { form: o.form, ...(o.vendorClass !== undefined ? { vendorClass: o.vendorClass } : {}) });
      if (!r.ok) return unusable(o.json, r.error.message, { code: r.error.code, ...(r.error.offset !== undefined ? { offset: r.error.offset } : {}) });
      const exitCode = exitCodeFor(r.value.findings, o.strict);
      if (o.json) process.stdout.write(`${JSON.stringify({ ...r.value, exitCode }, null, 2)}\n`);
      else process.stdout.write(`${renderOptionReport(r.value).join('\n')}\n`);
      process.exitCode = exitCode;
    });
}
