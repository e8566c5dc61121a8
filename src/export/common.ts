// What every export target shares: the plan's option bytes read back into
// values each server's syntax can express, and the decision, per option, of
// whether that syntax reproduces provlab's bytes or the raw bytes must go in.
// Pure: plan in, text out. The bytes always come from the compiled plan
// (`provlab encode` shows the same), never from a second encoder.

import { intToIp, ipToInt } from '../wire/ipv4.js';
import { MS_UC_CLIENT, msUcSubOptionName } from '../wire/ms-uc-client.js';
import { describeNonCanonical43 as describe43, readOption43 } from '../lpe/option43.js';
import { decodeOptionValue, type OptionValue } from '../wire/option-codec.js';
import { findOptionDef } from '../wire/option-defs.js';
import type { ClientClassPlan, Plan, ScopePlan, VendorMatch } from '../site/plan.js';
import { hex } from '../wire/bytes.js';

/** One output file; `comment` is the line-comment marker of its syntax. */
export interface ExportFile {
  readonly name: string;
  readonly comment: string;
  readonly content: string;
}

export interface ExportResult {
  readonly files: readonly ExportFile[];
  /** Printed on stderr by the CLI: what the target cannot reproduce, or does differently. */
  readonly warnings: readonly string[];
}

export interface ExportOption {
  readonly code: number;
  /** Name in provlab's option table (Kea's names), or option-N. */
  readonly name: string;
  /** The value bytes provlab sends (no code, no length). */
  readonly bytes: Uint8Array;
  /** The bytes read back by provlab's option table; null when the table has no row or the bytes do not fit it. */
  readonly value: OptionValue | null;
}

export interface SubOptionBytes {
  readonly code: number;
  readonly name: string;
  readonly data: Uint8Array;
}

/**
 * Option 43 as RFC 2132 §8.4 TLVs. `canonical` is true when the bytes are
 * exactly the sub-options in ascending code order, each once, with no pad and
 * no 0xFF: the only form a server that stores sub-options one by one can
 * reproduce (Kea, dhcpd and Windows all keep them keyed by code).
 */
export interface Vendor43 {
  readonly subOptions: readonly SubOptionBytes[];
  readonly canonical: boolean;
  /** How the bytes differ from the canonical form, in words (LPE rules). */
  readonly describe: string;
}

export interface ExportClass {
  readonly name: string;
  readonly vendorClass: string;
  /** How option 60 selects the class: exact, prefix or substring (case-sensitive). */
  readonly match: VendorMatch;
  /** True for the built-in MS-UC-Client class (43 from lync, 120). */
  readonly lync: boolean;
  readonly options: readonly ExportOption[];
  readonly alwaysSend: readonly number[];
  /** Option 43 of this class read as sub-options; null when the class has no 43 or it is not TLVs. */
  readonly vendor43: Vendor43 | null;
}

/** One served subnet with its options read back. */
export interface ExportScope {
  readonly plan: ScopePlan;
  /** Index in plan.dhcp.scopes: 0 is the site's dhcp.subnet (the interface's), the others are relayed. */
  readonly index: number;
  readonly options: readonly ExportOption[];
}

export interface ExportModel {
  readonly plan: Plan;
  /** Every scope, the first (dhcp.subnet) first. */
  readonly scopes: readonly ExportScope[];
  /** The first scope's options: what a one-subnet site sends every client. */
  readonly base: readonly ExportOption[];
  readonly classes: readonly ExportClass[];
}

export { hex } from '../wire/bytes.js';

/**
 * A class whose match the target's syntax cannot state: the warning that
 * says so (the class is then left out), or null when it can.
 */
export function matchNotExpressible(target: string, c: ExportClass, can: readonly VendorMatch[]): string | null {
  if (can.includes(c.match)) return null;
  return `${target}: class ${c.name} (option 60 ${c.match} match "${c.vendorClass}") is not exported: ${target} can only match option 60 ${can.join(' or ')}`;
}
export { optionName } from '../wire/option-defs.js';

function exportOption(code: number, bytes: Uint8Array): ExportOption {
  const def = findOptionDef(code);
  let value: OptionValue | null = null;
  if (def) {
    const r = decodeOptionValue(def, bytes);
    if (r.ok) value = r.value;
  }
  return { code, name: def?.name ?? `option-${code}`, bytes, value };
}

/**
 * Option 43 as sub-options, read by the LPE rules (src/lpe/option43.ts), the
 * same reading `provlab decode` and the probe use; null when the bytes are not
 * TLVs (a sub-option cut short).
 */
export function readVendor43(bytes: Uint8Array, lync: boolean): Vendor43 | null {
  const r = readOption43(bytes);
  if (r.walk.cut !== null) return null;
  const subOptions = r.walk.subOptions.map((s) => ({
    code: s.code,
    name: (lync ? msUcSubOptionName(s.code) : undefined) ?? `sub-option-${s.code}`,
    data: s.data,
  }));
  return { subOptions, canonical: r.canonical, describe: describe43(r) };
}

function exportClass(c: ClientClassPlan): ExportClass {
  const lync = c.vendorClass === MS_UC_CLIENT;
  const options = [...c.options].map(([code, bytes]) => exportOption(code, bytes));
  const o43 = c.options.get(43);
  return {
    name: c.name,
    vendorClass: c.vendorClass,
    match: c.match,
    lync,
    options,
    alwaysSend: c.alwaysSend,
    vendor43: o43 === undefined ? null : readVendor43(o43, lync),
  };
}

export function exportModel(plan: Plan): ExportModel {
  const scopes = plan.dhcp.scopes.map((sc, index) => ({ plan: sc, index, options: [...sc.baseOptions].map(([code, bytes]) => exportOption(code, bytes)) }));
  return { plan, scopes, base: scopes[0]!.options, classes: plan.dhcp.classes.map(exportClass) };
}

/** A scope's options that a server's global (first-scope) settings do not already give: other bytes, or absent there. */
export function scopeOverrides(model: ExportModel, scope: ExportScope): { set: ExportOption[]; unset: number[] } {
  const base = new Map(model.base.map((o) => [o.code, o.bytes]));
  const own = new Set(scope.options.map((o) => o.code));
  return {
    set: scope.options.filter((o) => { const b = base.get(o.code); return b === undefined || hex(b) !== hex(o.bytes); }),
    unset: [...base.keys()].filter((c) => !own.has(c)),
  };
}

/** Printable ASCII (0x20-0x7e): safe to write as quoted text in every server's syntax. */
export function isPrintable(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes.every((b) => b >= 0x20 && b <= 0x7e);
}

export function ascii(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** Names safe in every server's identifiers (class names, option names): letters, digits, - and _. */
export function identifier(text: string): string {
  const s = text.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return s === '' ? 'class' : s;
}

/** Addresses of the subnet (network and broadcast excluded) that no pool covers, as inclusive ranges. */
export function outsidePools(scope: ScopePlan): { start: string; end: string }[] {
  const first = ipToInt(scope.subnet.network) + 1;
  const last = ipToInt(scope.subnet.broadcast) - 1;
  const pools = scope.pools.map((p) => [ipToInt(p.start), ipToInt(p.end)] as const).sort((a, b) => a[0] - b[0]);
  const out: { start: string; end: string }[] = [];
  let next = first;
  for (const [s, e] of pools) {
    if (s > next) out.push({ start: intToIp(next), end: intToIp(s - 1) });
    next = Math.max(next, e + 1);
  }
  if (next <= last) out.push({ start: intToIp(next), end: intToIp(last) });
  return out;
}

/** Gaps between the pools only (for servers with one range per scope, such as Windows). */
export function gapsBetweenPools(scope: ScopePlan): { start: string; end: string }[] {
  const pools = scope.pools.map((p) => [ipToInt(p.start), ipToInt(p.end)] as const).sort((a, b) => a[0] - b[0]);
  const out: { start: string; end: string }[] = [];
  for (let i = 1; i < pools.length; i++) {
    const prevEnd = pools[i - 1]![1];
    const s = pools[i]![0];
    if (s > prevEnd + 1) out.push({ start: intToIp(prevEnd + 1), end: intToIp(s - 1) });
  }
  return out;
}

/** Lowest start and highest end of the pools. */
export function poolSpan(scope: ScopePlan): { start: string; end: string } {
  const starts = scope.pools.map((p) => ipToInt(p.start));
  const ends = scope.pools.map((p) => ipToInt(p.end));
  return { start: intToIp(Math.min(...starts)), end: intToIp(Math.max(...ends)) };
}

/** The header every file starts with: where it came from and how to check the bytes. */
export function header(plan: Plan, target: string, comment: string, lines: readonly string[], options: { dhcp?: boolean } = {}): string {
  const c = (s: string) => (s === '' ? comment : `${comment} ${s}`);
  const dhcp =
    options.dhcp === false
      ? []
      : [
          c(`Option bytes are those provlab itself sends; compare with: provlab encode --site ${plan.sourceFile}`),
          c(`Certificate Provisioning URL the phone will build from option 43: ${plan.certProvUrl}`),
        ];
  return [c(`provlab export ${target}: site "${plan.site}" (${plan.sourceFile})`), ...dhcp, ...lines.map(c), ''].join('\n');
}

/** A sentence for the warning list and the comment block, naming how the bytes differ. */
export function describeNonCanonical43(v: Vendor43 | null): string {
  return v === null ? 'option 43 is not a list of code/length/value sub-options' : v.describe;
}

export type { OptionValue };
