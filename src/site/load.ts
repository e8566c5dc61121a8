// Reads a site file and refuses it, before any socket opens, with one
// `file:line:col: path: message` line per problem. YAML syntax errors keep the
// parser's position; every schema issue is mapped back to the YAML node it is
// about (an unknown key: the key; a missing key: the mapping that lacks it).

import { readFileSync } from 'node:fs';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Alias, type Document, type YAMLError } from 'yaml';
import { z } from 'zod';
import { SiteSchema, type Site } from './schema.js';

export interface SiteError {
  file: string;
  /** 1-based; 0 when the error is about the file as a whole (cannot be read). */
  line: number;
  col: number;
  /** Dotted key path, e.g. "dhcp.reservations[1].mac"; "" for syntax errors. */
  path: string;
  message: string;
}

export function formatSiteError(e: SiteError): string {
  const where = e.line > 0 ? `${e.file}:${e.line}:${e.col}` : e.file;
  return `${where}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

export class SiteFileError extends Error {
  readonly errors: SiteError[];
  constructor(errors: SiteError[]) {
    super(errors.map(formatSiteError).join('\n'));
    this.name = 'SiteFileError';
    this.errors = errors;
  }
}

export function loadSite(file: string): Site {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new SiteFileError([{ file, line: 0, col: 0, path: '', message: `cannot read the site file: ${reason}` }]);
  }
  return parseSite(text, file);
}

export function parseSite(text: string, file: string): Site {
  const lineCounter = new LineCounter();
  // uniqueKeys: a key written twice is an error, never "the last one wins" silently.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lineCounter.linePos(offset);

  if (doc.errors.length > 0) {
    // A syntax error tends to bring a cascade of follow-up errors: show the first
    // one, and every duplicate key (those never cascade).
    const shown = doc.errors.filter((e, i) => i === 0 || e.code === 'DUPLICATE_KEY');
    throw new SiteFileError(
      shown.map((e) => {
        const { line, col } = at(e.pos[0]);
        return { file, line, col, path: '', message: yamlMessage(e) };
      }),
    );
  }

  const data = toData(doc, at, file);

  const result = SiteSchema.safeParse(data, { reportInput: true });
  if (result.success) return result.data;

  const errors: SiteError[] = [];
  for (const issue of result.error.issues) errors.push(...describeIssue(issue, doc, at, file));
  errors.sort((a, b) => a.line - b.line || a.col - b.col);
  throw new SiteFileError(dedupe(dropMissingExplainedByTypo(errors)));
}

// ---------------------------------------------------------------- YAML

function yamlMessage(e: YAMLError): string {
  switch (e.code) {
    case 'DUPLICATE_KEY':
      return 'this key appears twice in the same mapping: keep one';
    case 'TAB_AS_INDENT':
      return 'YAML does not allow tabs for indentation: use spaces';
    case 'MULTIPLE_DOCS':
      return 'a site file holds one YAML document: remove the second "---"';
    default: {
      const first = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      return `YAML syntax: ${first}`;
    }
  }
}

/** yaml's maxAliasCount: how far aliases may multiply anchored values; a real site file uses a handful. */
const MAX_ALIAS_COUNT = 100;

/**
 * The document as plain data. Aliases are the only part of that which can fail
 * (an alias bomb, an alias before its anchor), and yaml's error carries no
 * position: watch each alias so the error points at the one that failed.
 */
function toData(doc: Document, at: (offset: number) => Pos, file: string): unknown {
  const aliases: Alias[] = [];
  visit(doc, { Alias: (_key, node) => void aliases.push(node) });
  let failed: Alias | undefined;
  for (const alias of aliases) {
    const own = alias.toJSON.bind(alias);
    // The innermost alias that throws is the one yaml was resolving.
    alias.toJSON = (arg, ctx) => {
      try {
        return own(arg, ctx);
      } catch (err) {
        failed ??= alias;
        throw err;
      }
    };
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const culprit = failed ?? aliases[0];
    const pos = culprit ? posOf(culprit, undefined, at) : { line: 1, col: 1 };
    return throwAliasError(err as Error, culprit, doc, pos, at, file);
  }
}

function throwAliasError(err: Error, alias: Alias | undefined, doc: Document, pos: Pos, at: (offset: number) => Pos, file: string): never {
  let message = `YAML cannot be read: ${err.message}`;
  if (alias && /^Excessive alias count/.test(err.message)) {
    const anchor = alias.resolve(doc);
    const start = startOf(anchor);
    const where = start === undefined ? '' : ` on line ${at(start).line}`;
    message =
      `too many alias copies: here *${alias.source} (anchor &${alias.source}${where}) would take the file past ${MAX_ALIAS_COUNT} copied values; ` +
      'a site file needs only a few aliases, so this is refused as a possible "billion laughs" attack before it fills memory';
  } else if (alias && /^Unresolved alias/.test(err.message)) {
    message = `alias *${alias.source} has no anchor &${alias.source} before it: YAML needs the anchor first`;
  }
  throw new SiteFileError([{ file, ...pos, path: '', message }]);
}

type Pos = { line: number; col: number };
type Segment = PropertyKey;

interface Walk {
  /** Deepest node reached (undefined: empty document). */
  node: unknown;
  /** Key node of the pair whose value is `node`, if `node` is a mapping value. */
  key: unknown;
  /** How many path segments were found. */
  depth: number;
}

function resolve(node: unknown, doc: Document): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function walk(doc: Document, path: readonly Segment[]): Walk {
  let node: unknown = doc.contents;
  let key: unknown = undefined;
  let depth = 0;
  for (const seg of path) {
    const here = resolve(node, doc);
    if (isMap(here)) {
      const pair = here.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) break;
      key = pair.key;
      node = pair.value;
    } else if (isSeq(here) && typeof seg === 'number' && seg < here.items.length) {
      key = undefined;
      node = here.items[seg];
    } else break;
    depth++;
  }
  return { node, key, depth };
}

function startOf(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    if (range) return range[0];
  }
  return undefined;
}

/** An empty value (`dhcp:` with nothing after it) has no text of its own: point at its key. */
function isEmptyScalar(node: unknown): boolean {
  if (node === null || node === undefined) return true;
  if (!isScalar(node) || node.value !== null) return false;
  const r = node.range;
  return !r || r[0] === r[1];
}

function posOf(node: unknown, key: unknown, at: (offset: number) => Pos): Pos {
  const target = isEmptyScalar(node) && key !== undefined ? key : node;
  const offset = startOf(target) ?? startOf(key);
  return offset === undefined ? { line: 1, col: 1 } : at(offset);
}

function pathText(path: readonly Segment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

// ---------------------------------------------------------------- issues

function describeIssue(issue: z.core.$ZodIssue, doc: Document, at: (offset: number) => Pos, file: string): SiteError[] {
  const path = issue.path;

  if (issue.code === 'unrecognized_keys') {
    const parent = walk(doc, path);
    const map = resolve(parent.node, doc);
    return issue.keys.map((k) => {
      const pair = isMap(map) ? map.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === k) : undefined;
      const pos = posOf(pair?.key ?? parent.node, parent.key, at);
      return { file, ...pos, path: pathText([...path, k]), message: unknownKeyMessage(k, allowedKeys(path, doc)) };
    });
  }

  if (issue.code === 'invalid_union') {
    // zod gives up on a union when no branch got past the type check; but when
    // exactly one branch accepted the outer shape (a list, for `pool: [..., 5]`),
    // its inner issues are the useful ones.
    const deep = issue.errors.filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
    if (deep.length === 1) {
      return deep[0]!.flatMap((i) => describeIssue({ ...i, path: [...path, ...i.path] } as z.core.$ZodIssue, doc, at, file));
    }
  }

  const w = walk(doc, path);
  if (issue.code === 'invalid_key') {
    // A record key (an option code): point at the key itself.
    const inner = issue.issues[0]?.message ?? 'this key is not allowed here';
    return [{ file, ...posOf(w.key ?? w.node, undefined, at), path: pathText(path), message: inner }];
  }

  const found = w.depth === path.length;
  // The path ends at a key the mapping does not have: the key is missing.
  const missing = !found && w.depth === path.length - 1 && isMap(resolve(w.node, doc)) && typeof path[path.length - 1] !== 'number';
  if (missing) {
    const name = String(path[path.length - 1]);
    return [{ file, ...posOf(w.node, w.key, at), path: pathText(path), message: `missing key "${name}": ${issue.message}` }];
  }
  // A path that runs past a scalar (a single pool range checked as item 0): report the scalar.
  const shown = found ? path : path.slice(0, w.depth);
  return [{ file, ...posOf(w.node, w.key, at), path: pathText(shown), message: friendly(issue) }];
}

/** zod's own wording for the few issues the schema does not word itself. */
function friendly(issue: z.core.$ZodIssue): string {
  if (issue.message.startsWith('Invalid input: expected ') || issue.message.startsWith('Too ')) {
    switch (issue.code) {
      case 'invalid_type':
        return `expected ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`;
      case 'too_small':
        return issue.origin === 'array' ? `expected at least ${String(issue.minimum)} item(s)` : `expected at least ${String(issue.minimum)}`;
      case 'too_big':
        return issue.origin === 'array' ? `expected at most ${String(issue.maximum)} item(s)` : `expected at most ${String(issue.maximum)}`;
      default:
        break;
    }
  }
  return issue.message;
}

/** `poool:` makes `pool` missing too; the "did you mean" line already says all of it. */
function dropMissingExplainedByTypo(errors: SiteError[]): SiteError[] {
  const suggested = new Set<string>();
  for (const e of errors) {
    const m = /did you mean "([^"]+)"\?$/.exec(e.message);
    if (m) suggested.add(`${e.path.replace(/(^|\.)[^.[\]]+$/, '')}|${m[1]}`);
  }
  return errors.filter((e) => {
    const m = /^missing key "([^"]+)"/.exec(e.message);
    return !m || !suggested.has(`${e.path.replace(/(^|\.)[^.[\]]+$/, '')}|${m[1]}`);
  });
}

function dedupe(errors: SiteError[]): SiteError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = formatSiteError(e);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// ---------------------------------------------------------------- unknown keys

function unknownKeyMessage(key: string, allowed: string[]): string {
  const near = allowed
    .map((a) => ({ a, d: editDistance(key.toLowerCase(), a.toLowerCase()) }))
    .filter((x) => x.d <= Math.max(1, Math.floor(x.a.length / 3)))
    .sort((x, y) => x.d - y.d)[0];
  if (near) return `unknown key "${key}": did you mean "${near.a}"?`;
  return allowed.length > 0 ? `unknown key "${key}": expected one of ${allowed.join(', ')}` : `unknown key "${key}"`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
};

let jsonSchema: JsonSchema | undefined;

/** The keys a mapping at `path` may hold, read from the same schema (its JSON form is easy to walk). */
function allowedKeys(path: readonly Segment[], doc: Document): string[] {
  jsonSchema ??= z.toJSONSchema(SiteSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const data: unknown = doc.toJS();
  let nodes: JsonSchema[] = [jsonSchema];
  let value: unknown = data;
  for (const seg of path) {
    nodes = nodes.flatMap(expand).flatMap((n) => {
      if (typeof seg === 'number') return n.items ? [n.items] : [];
      const p = n.properties?.[String(seg)];
      if (p) return [p];
      return typeof n.additionalProperties === 'object' ? [n.additionalProperties] : [];
    });
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[String(seg)] : undefined;
  }
  const objects = nodes.flatMap(expand).filter((n) => n.properties && matches(n, value));
  return [...new Set(objects.flatMap((n) => Object.keys(n.properties!)))];
}

function expand(n: JsonSchema): JsonSchema[] {
  const alts = n.anyOf ?? n.oneOf;
  return alts ? alts.flatMap(expand) : [n];
}

/** Of a union of mappings, keep those whose constant keys (a record's type) agree with the value. */
function matches(n: JsonSchema, value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  return Object.entries(n.properties ?? {}).every(([k, p]) => p.const === undefined || (value as Record<string, unknown>)[k] === p.const);
}
