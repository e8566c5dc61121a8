// `provlab cert lab-ca | rootchain | check`: certificates for the ucupdates-r2
// device-update path. Output for people on stdout; problems on stderr.
// Exit codes: 0 fine, 1 a phone would refuse the certificate, 2 the input
// could not be read (missing file, wrong PFX password, bad site file).

import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Logger } from '../../log.js';
import { SiteFileError } from '../../site/load.js';
import { checkCertificate, formatReport } from '../../cert/check.js';
import { createLabCa, readLabCaFrom, writeLabCa, type Digest } from '../../cert/lab-ca.js';
import { CertInputError, readCertificates } from '../../cert/read.js';
import { rootChainBase64 } from '../../cert/rootchain.js';
import { loadSiteCertNames, type SiteCertNames } from '../../cert/site-names.js';

function inputFailure(err: unknown): never {
  if (err instanceof SiteFileError || err instanceof CertInputError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

function siteNames(file: string): SiteCertNames {
  try {
    return loadSiteCertNames(file);
  } catch (err) {
    inputFailure(err);
  }
}

function positiveInt(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a whole number of days, got "${v}"`);
    return n;
  };
}

interface LabCaOpts {
  site: string;
  out: string;
  password?: string;
  days: number;
  caDays: number;
  digest: Digest;
  reuseCa?: boolean;
  force?: boolean;
  json?: boolean;
}

interface CheckOpts {
  root?: string;
  site?: string;
  password?: string;
  rootPassword?: string;
  at?: string;
  warnDays: number;
  json?: boolean;
}

export function register(program: Command, logger: () => Logger): void {
  const cert = program
    .command('cert')
    .description('certificates for device update at ucupdates-r2: make a lab CA, print the GetRootCertChains blob, check a certificate');

  cert
    .command('lab-ca')
    .description('create a lab root CA and a web-services certificate for the site (SAN: ucupdates-r2, ucupdates-r2.<each DHCP domain>, pool, web)')
    .requiredOption('-s, --site <file>', 'site file (YAML): DHCP domains (options 15/119), lync.pool and lync.web')
    .requiredOption('-o, --out <dir>', 'directory for ca.pem, ca.cer, ca.key, web.pem, web.key, web-chain.pem (and web.pfx)')
    .option('-p, --password <password>', 'also write web.pfx (key + certificate + root) protected with this password')
    .option('--days <n>', 'web certificate lifetime in days', positiveInt('--days'), 397)
    .option('--ca-days <n>', 'root CA lifetime in days', positiveInt('--ca-days'), 3650)
    .addOption(new Option('--digest <hash>', 'signature hash (sha1 for phones on very old firmware)').choices(['sha256', 'sha1']).default('sha256'))
    .option('--reuse-ca', 'sign a new web certificate with ca.pem/ca.key already in --out (phones keep the root they fetched)')
    .option('--force', 'replace existing files in --out')
    .option('--json', 'print what was written as JSON')
    .action((o: LabCaOpts) => {
      const names = siteNames(o.site);
      let ca;
      let written;
      try {
        ca = createLabCa({ names, days: o.days, caDays: o.caDays, digest: o.digest, ...(o.reuseCa ? { ca: readLabCaFrom(o.out) } : {}) });
        written = writeLabCa(o.out, ca, { ...(o.force ? { force: true } : {}), ...(o.password !== undefined ? { pfxPassword: o.password } : {}) });
      } catch (err) {
        process.stderr.write(`cert lab-ca: ${(err as Error).message}\n`);
        process.exit(2);
      }
      logger().info({ out: o.out, sans: ca.sans, caReused: ca.caReused }, 'lab CA written');
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ site: names.site, dhcpDomains: names.dhcpDomains, sans: ca.sans, caReused: ca.caReused, files: written.map((w) => ({ ...w, mode: (statSync(w.path).mode & 0o777).toString(8) })) }, null, 2)}\n`);
        return;
      }
      const lines = [
        `site ${names.site}: DHCP domains ${names.dhcpDomains.join(', ')}`,
        `web certificate SAN: ${ca.sans.join(', ')}`,
        ...written.map((w) => `  ${w.secret ? '(0600) ' : '       '}${w.path}  ${w.what}`),
        ca.caReused ? 'root CA reused: phones that already fetched it keep trusting the new certificate' : 'new root CA: phones must fetch it again (PIN sign-in attempt) before they trust the web certificate',
        `Serve ca.pem through GetRootCertChains: provlab cert rootchain --ca ${o.out.replace(/\/$/, '')}/ca.pem`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  cert
    .command('rootchain')
    .description('print the certs-only PKCS#7 (base64 DER, no PEM armour) that GetRootCertChains returns inside <Chain>')
    .requiredOption('--ca <file>', 'root CA certificate(s): PEM, DER, PFX or PKCS#7; every certificate in the file goes in, in file order')
    .option('-p, --password <password>', 'password when --ca is a PFX')
    .action((o: { ca: string; password?: string }) => {
      let bundle;
      try {
        bundle = readCertificates(o.ca, o.password !== undefined ? { password: o.password } : {});
      } catch (err) {
        inputFailure(err);
      }
      process.stdout.write(`${rootChainBase64(bundle.certs)}\n`);
    });

  cert
    .command('check')
    .description('check a server certificate against what a Lync Phone Edition phone needs at ucupdates-r2; exit 1 when a phone would refuse it')
    .argument('<file>', 'certificate: PEM (leaf first, intermediates may follow), DER, PFX (with --password) or PKCS#7')
    .option('-r, --root <file>', 'root CA the phone trusts (what GetRootCertChains returns): PEM, DER, PKCS#7 or the base64 blob')
    .option('-s, --site <file>', 'site file: check ucupdates-r2.<every DHCP domain>, lync.pool and lync.web')
    .option('-p, --password <password>', 'PFX password')
    .option('--root-password <password>', 'PFX password for --root')
    .option('--at <date>', 'check validity at this date (ISO 8601) instead of now')
    .option('--warn-days <n>', 'warn when the certificate expires within this many days', positiveInt('--warn-days'), 30)
    .option('--json', 'machine-readable report')
    .action((file: string, o: CheckOpts) => {
      const names = o.site ? siteNames(o.site) : undefined;
      let now: Date | undefined;
      if (o.at !== undefined) {
        now = new Date(o.at);
        if (Number.isNaN(now.getTime())) {
          process.stderr.write(`--at: "${o.at}" is not a date (expected ISO 8601, e.g. 2026-01-31T12:00:00Z)\n`);
          process.exit(2);
        }
      }
      let report;
      try {
        const bundle = readCertificates(file, o.password !== undefined ? { password: o.password } : {});
        const root = o.root ? readCertificates(o.root, o.rootPassword !== undefined ? { password: o.rootPassword } : {}) : undefined;
        report = checkCertificate(bundle, { warnDays: o.warnDays, ...(root ? { root } : {}), ...(names ? { names } : {}), ...(now ? { now } : {}) });
      } catch (err) {
        if (err instanceof CertInputError) inputFailure(err);
        process.stderr.write(`${file}: cannot check: ${(err as Error).message}\n`);
        process.exit(2);
      }
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
      if (!report.ok) process.exitCode = 1;
    });
}
