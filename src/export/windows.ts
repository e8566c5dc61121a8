// Windows Server DHCP: a PowerShell script (DhcpServer module, Windows Server
// 2012 and later) and the same setup as netsh commands, the form of
// Microsoft's DHCPConfigScript.bat. Not run here (no Windows); the tests read
// the bytes back out of both files and decode them with provlab's wire decoders.
//
// Followed:
// - netsh: Microsoft, "Using DHCPUtil" (Lync Server 2010, gg412988), which
//   lists DHCPConfigScript.bat: `add optiondef 120 UCSipServer Binary 0
//   comment="Sip Server Fqdn"`, `add class MSUCClient "UC Vendor Class Id"
//   "MS-UC-Client" 1`, `add optiondef 1 UCIdentifier Binary 0
//   Vendor=MSUCClient comment="UC Identifier"`, `set optionvalue 1 Binary
//   vendor=MSUCClient <hex>` … sub-options 2 URLScheme, 3 WebServerFqdn,
//   4 WebServerPort, 5 CertProvRelPath. Here the values are set on the scope
//   (`netsh dhcp server scope X set optionvalue`) instead of server-wide.
// - PowerShell: Microsoft's DhcpServer module reference. Add-DhcpServerv4Class
//   example 2 (`-Name "MSUCClient" -Type Vendor -Data "MS-UC-Client"`),
//   Add-DhcpServerv4OptionDefinition example 2 (`-Name "UCIdentifier"
//   -OptionId 1 -Type "BinaryData" -VendorClass …`), Set-DhcpServerv4OptionValue
//   example 8 (`-VendorClass "MSUCClient" -OptionId 5 -Value
//   ([System.Text.Encoding]::ASCII.GetBytes("/CertProv/…"))`) and example 2
//   (`-DnsServer -DnsDomain -Router`; `-Force` skips the DNS server check).
// - Binary (not String) for every sub-option, as DHCPConfigScript does: the
//   bytes go out as given, ASCII without NUL, the port as the text "443".
// - Windows Server has no predefined option 119 or 120: both are defined as
//   binary options (for 119, as the blackmarble.co.uk and mattzuba.com notes
//   on Windows Server 2008 R2 describe).

import { MS_UC_CLIENT } from '../wire/ms-uc-client.js';
import {
  ascii,
  describeNonCanonical43,
  exportModel,
  gapsBetweenPools,
  header,
  hex,
  isPrintable,
  poolSpan,
  type ExportClass,
  type ExportOption,
  type ExportResult,
  type SubOptionBytes,
  matchNotExpressible,
} from './common.js';
import type { Plan } from '../site/plan.js';

/** DHCPConfigScript's descriptions of the MS-UC-Client sub-options. */
const LYNC_COMMENTS: Record<number, string> = {
  1: 'UC Identifier',
  2: 'URL Scheme',
  3: 'Web Server Fqdn',
  4: 'Web Server Port',
  5: 'Cert Prov Relative Path',
};

/** Options Windows does not predefine: defined as BinaryData, named as DHCPConfigScript names 120. */
const BINARY_DEFS: Record<number, { name: string; comment: string }> = {
  119: { name: 'DomainSearchList', comment: 'RFC 3397 domain search list' },
  120: { name: 'UCSipServer', comment: 'Sip Server Fqdn' },
};

function psQuote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A byte array PowerShell passes to -Value as one string per byte, like example 8's GetBytes(). */
function psBytes(bytes: Uint8Array): string {
  return `([byte[]](${Array.from(bytes, (b) => `0x${b.toString(16).padStart(2, '0').toUpperCase()}`).join(',')}))`;
}

function psSubValue(s: SubOptionBytes): string {
  return isPrintable(s.data) ? `([System.Text.Encoding]::ASCII.GetBytes(${psQuote(ascii(s.data))}))` : psBytes(s.data);
}

/** netsh and cmd.exe: no quotes or percent signs inside a quoted argument. */
function cmdText(text: string): string {
  return text.replace(/["%]/g, '_');
}

const HEX = (b: Uint8Array) => hex(b).toUpperCase();

function vendorClassName(c: ExportClass): string {
  // DHCPConfigScript's name for the MS-UC-Client class.
  return c.lync ? 'MSUCClient' : c.vendorClass.replace(/[^A-Za-z0-9]+/g, '');
}

export function exportWindows(plan: Plan): ExportResult {
  const model = exportModel(plan);
  const warnings: string[] = [];
  const ps: string[] = [];
  const ns: string[] = [];

  ps.push('#Requires -Modules DhcpServer', "$ErrorActionPreference = 'Stop'", `$ScopeId = '${plan.dhcp.scopes[0]!.subnet.network}'`, '');
  // One Windows scope per provlab scope; the class definitions are idempotent, their values are set per scope.
  for (const sc of model.scopes) {
    const d = sc.plan;
    const scope = d.subnet.network;
    const span = poolSpan(d);
    const scopeName = sc.index === 0 ? `provlab ${plan.site}` : `provlab ${plan.site} ${d.name}`;
    if (sc.index > 0) ps.push('', `# Scope ${d.name}: reached through a relay (giaddr in this subnet).`, `$ScopeId = '${scope}'`, '');
    ps.push('# Scope: one address range per Windows scope, from the first pool start to the last pool end.');
    ps.push('if (-not (Get-DhcpServerv4Scope -ScopeId $ScopeId -ErrorAction SilentlyContinue)) {');
    ps.push(
      `    Add-DhcpServerv4Scope -Name ${psQuote(scopeName)} -StartRange ${span.start} -EndRange ${span.end} -SubnetMask ${d.subnet.mask} -LeaseDuration (New-TimeSpan -Seconds ${d.leaseSeconds}) -State Active`,
    );
    ps.push('}');
    ns.push(`netsh dhcp server add scope ${scope} ${d.subnet.mask} "${cmdText(scopeName)}"`);
    ns.push(`netsh dhcp server scope ${scope} add iprange ${span.start} ${span.end}`);
    ns.push(`netsh dhcp server scope ${scope} set optionvalue 51 DWORD ${d.leaseSeconds}`);
    for (const g of gapsBetweenPools(d)) {
      ps.push(`Add-DhcpServerv4ExclusionRange -ScopeId $ScopeId -StartRange ${g.start} -EndRange ${g.end}`);
      ns.push(`netsh dhcp server scope ${scope} add excluderange ${g.start} ${g.end}`);
    }
    for (const r of d.reservations) {
      const name = r.name ?? r.mac;
      ps.push(`if (-not (Get-DhcpServerv4Reservation -IPAddress ${r.ip} -ErrorAction SilentlyContinue)) {`);
      ps.push(`    Add-DhcpServerv4Reservation -ScopeId $ScopeId -IPAddress ${r.ip} -ClientId ${psQuote(r.mac.replace(/:/g, '-'))} -Name ${psQuote(name)}`);
      ps.push('}');
      ns.push(`netsh dhcp server scope ${scope} add reservedip ${r.ip} ${r.mac.replace(/:/g, '')} "${cmdText(name)}"`);
    }
    ps.push('');

    // Scope options: 3, 6 and 15 through the named parameters, the rest by number.
    const base = new Map(sc.options.map((o) => [o.code, o]));
    const named: string[] = [];
    const r3 = base.get(3)?.value;
    const r6 = base.get(6)?.value;
    const r15 = base.get(15);
    if (r3?.type === 'ipv4-list') named.push(`-Router ${r3.value.join(',')}`);
    if (r6?.type === 'ipv4-list') named.push(`-DnsServer ${r6.value.join(',')}`);
    const domainText = r15?.value?.type === 'text' && isPrintable(r15.bytes) ? r15.value.value : null;
    if (domainText !== null) named.push(`-DnsDomain ${psQuote(domainText)}`);
    ps.push('# Options 3 (router), 6 (DNS servers) and 15 (domain); -Force skips the DNS server reachability check.');
    ps.push(`Set-DhcpServerv4OptionValue -ScopeId $ScopeId ${named.join(' ')}${r6 ? ' -Force' : ''}`);
    if (r3?.type === 'ipv4-list') ns.push(`netsh dhcp server scope ${scope} set optionvalue 3 IPADDRESS ${r3.value.join(' ')}`);
    if (r6?.type === 'ipv4-list') ns.push(`netsh dhcp server scope ${scope} set optionvalue 6 IPADDRESS ${r6.value.join(' ')}`);
    if (domainText !== null) ns.push(`netsh dhcp server scope ${scope} set optionvalue 15 STRING "${cmdText(domainText)}"`);

    const defineBinary = (code: number) => {
      const def = BINARY_DEFS[code] ?? { name: `Option${code}`, comment: `option ${code} (provlab)` };
      ps.push(`$def = Get-DhcpServerv4OptionDefinition -OptionId ${code} -ErrorAction SilentlyContinue`);
      ps.push(`if (-not $def) { Add-DhcpServerv4OptionDefinition -OptionId ${code} -Name ${psQuote(def.name)} -Type BinaryData -Description ${psQuote(def.comment)} }`);
      ps.push(`elseif ($def.Type -ne 'BinaryData') { throw "option ${code} is already defined as $($def.Type); these bytes need BinaryData" }`);
      ns.push(`netsh dhcp server add optiondef ${code} ${def.name} Binary 0 comment="${def.comment}"`);
    };
    const setOption = (o: ExportOption, why: string) => {
      const v = o.value;
      if (v && (v.type === 'ipv4' || v.type === 'ipv4-list')) {
        const list = v.type === 'ipv4' ? [v.value] : v.value;
        ps.push(`# ${o.code} ${why}`, `Set-DhcpServerv4OptionValue -ScopeId $ScopeId -OptionId ${o.code} -Value ${list.map(psQuote).join(',')}`);
        ns.push(`netsh dhcp server scope ${scope} set optionvalue ${o.code} IPADDRESS ${list.join(' ')}`);
        return;
      }
      defineBinary(o.code);
      ps.push(`# ${o.code} ${why}: ${o.bytes.length} bytes`, `Set-DhcpServerv4OptionValue -ScopeId $ScopeId -OptionId ${o.code} -Value ${psBytes(o.bytes)}`);
      ns.push(`netsh dhcp server scope ${scope} set optionvalue ${o.code} Binary ${HEX(o.bytes)}`);
    };
    for (const o of sc.options) {
      if (o.code === 1 || o.code === 3 || o.code === 6 || (o.code === 15 && domainText !== null)) continue;
      setOption(o, o.name);
    }

    for (const c of model.classes) {
      // A Windows vendor class is its option 60 bytes, compared whole.
      const why = matchNotExpressible('windows', c, ['exact']);
      if (why !== null) {
        warnings.push(why);
        ps.push('', `# ${why}`);
        continue;
      }
      const cls = vendorClassName(c);
      ps.push('', `# Vendor class ${cls}: option 60 = "${c.vendorClass}". Its options go out inside option 43, one sub-option each.`);
      ps.push(`if (-not (Get-DhcpServerv4Class -Name ${psQuote(cls)} -ErrorAction SilentlyContinue)) {`);
      const description = c.lync ? 'UC Vendor Class Id' : `vendor class ${c.vendorClass}`;
      ps.push(`    Add-DhcpServerv4Class -Name ${psQuote(cls)} -Type Vendor -Data ${psQuote(c.vendorClass)} -Description ${psQuote(description)}`);
      ps.push('}');
      ns.push(`netsh dhcp server add class ${cls} "${cmdText(description)}" "${cmdText(c.vendorClass)}" 1`);
      for (const o of c.options) {
        if (o.code === 43) {
          const v43 = c.vendor43;
          if (v43 === null) {
            warnings.push(`windows: class ${c.name}: option 43 is not a list of sub-options; Windows builds 43 from sub-options only, so it is not exported`);
            ps.push(`# option 43 of class ${c.name} is not sub-options: not exported`);
            continue;
          }
          if (!v43.canonical) {
            warnings.push(`windows: class ${c.name}: ${describeNonCanonical43(v43)}; Windows keeps vendor options by code, so they are exported one by one and Windows chooses the order`);
          }
          for (const s of v43.subOptions) {
            const comment = (c.lync ? LYNC_COMMENTS[s.code] : undefined) ?? `sub-option ${s.code}`;
            const shown = isPrintable(s.data) ? ` "${ascii(s.data)}"` : '';
            ps.push(`# 43.${s.code} ${s.name}${shown}`);
            ps.push(`if (-not (Get-DhcpServerv4OptionDefinition -VendorClass ${psQuote(cls)} -OptionId ${s.code} -ErrorAction SilentlyContinue)) {`);
            ps.push(`    Add-DhcpServerv4OptionDefinition -VendorClass ${psQuote(cls)} -OptionId ${s.code} -Name ${psQuote(s.name)} -Type BinaryData -Description ${psQuote(comment)}`);
            ps.push('}');
            ps.push(`Set-DhcpServerv4OptionValue -ScopeId $ScopeId -VendorClass ${psQuote(cls)} -OptionId ${s.code} -Value ${psSubValue(s)}`);
            ns.push(`netsh dhcp server add optiondef ${s.code} ${s.name} Binary 0 vendor=${cls} comment="${comment}"`);
            ns.push(`netsh dhcp server scope ${scope} set optionvalue ${s.code} Binary vendor=${cls} ${HEX(s.data)}`);
          }
          continue;
        }
        if (c.lync && o.code === 120) {
          // DHCPConfigScript sets 120 as a standard option (not per class): Windows would put a class's options inside 43.
          setOption(o, `SIP server (RFC 3361), for class ${c.name}`);
          continue;
        }
        warnings.push(`windows: class ${c.name}: option ${o.code} is not exported: Windows sends a vendor class's options inside option 43 only`);
        ps.push(`# option ${o.code} of class ${c.name} is not exported: Windows sends a vendor class's options inside option 43 only`);
      }
    }
  }

  const notes = [
    'Run on the DHCP server in an elevated PowerShell (DhcpServer module, Windows Server 2012 or later).',
    `Class MSUCClient matches option 60 "${MS_UC_CLIENT}"; its sub-options 1..5 are BinaryData with the exact ASCII bytes (no NUL).`,
    'Option 120 is a standard (scope) option, as DHCPConfigScript sets it: Windows would put any vendor class option inside 43.',
  ];
  const nsNotes = [
    'The same setup as netsh commands, in the form of Microsoft\'s DHCPConfigScript.bat (Lync Server DHCPUtil).',
    'Run in an elevated command prompt on the DHCP server. Values are set on the scope, not server-wide.',
  ];
  return {
    files: [
      { name: 'provlab-dhcp.ps1', comment: '#', content: `${header(plan, 'windows', '#', notes)}${ps.join('\n')}\n` },
      // @echo off first, so that cmd.exe does not echo the REM lines.
      { name: 'provlab-dhcp-netsh.cmd', comment: 'REM', content: `@echo off\r\n${header(plan, 'windows', 'REM', nsNotes).replace(/\n/g, '\r\n')}${ns.join('\r\n')}\r\n` },
    ],
    // The class definitions repeat per scope: their warnings once.
    warnings: [...new Set(warnings)],
  };
}
