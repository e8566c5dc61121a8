// The per-query log line ("dns query": client, name, type, rcode), written
// without pino's per-call work. At the bench's query rates `logger.info(obj, msg)`
// cost more than answering the query (BENCHMARKS.md, DNS): pino walks the object, runs
// serializers and formatters, and writes once per line. Here the line is the
// exact JSON pino would write for that call (same key order, same bindings,
// same time function), built from a template, and a batch of lines goes to
// pino's own destination in one write, so ordering with the other log lines
// is kept. A logger that changes the line shape (a mixin, hooks, custom
// formatters or level numbers) gets plain `logger.info` instead.
//
// Flood guard: each client's first `perClientPerSecond` lines in a second are
// written; the rest are counted and summed up in one line per client when the
// second ends (`roll()`, called by the daemon's timer). A phone asks about 20
// names while it boots; a client past 50 a second is a flood or a load test,
// and without the guard it would fill the disk at ~50 MB/s.
import { pino, type Logger } from 'pino';

const S = pino.symbols as typeof pino.symbols & { readonly msgPrefixSym?: symbol };

interface PinoInternals {
  [key: symbol]: unknown;
}

export interface QueryLine {
  client: string;
  name: string | null;
  type: string | null;
  rcode: string;
  tcp?: boolean;
  forwarder?: string;
}

/** Lines per client per second before the flood guard counts instead of writing. */
export const DEFAULT_LINES_PER_CLIENT = 50;
/** Clients tracked per second; beyond it (a spoofed-source flood) lines are counted under one "other clients" total. */
const MAX_TRACKED_CLIENTS = 10_000;

export class QueryLog {
  private pending = '';
  private readonly stream: { write(s: string): unknown } | null;
  /** Lines per client in the current second. */
  private readonly counts = new Map<string, number>();
  private untracked = 0;

  constructor(
    private readonly logger: Logger,
    private readonly perClientPerSecond = DEFAULT_LINES_PER_CLIENT,
  ) {
    this.stream = fastPathStream(logger);
  }

  /** Ends the current second: one summary line per client whose lines were not all written. */
  roll(): void {
    const limit = this.perClientPerSecond;
    for (const [client, n] of this.counts) {
      if (n > limit) this.logger.info({ client, notLogged: n - limit, limit }, `dns query: ${n - limit} more queries from ${client} in the last second, not logged one by one (over ${limit}/s)`);
    }
    if (this.untracked > 0) {
      this.logger.info({ notLogged: this.untracked, limit }, `dns query: ${this.untracked} queries from more than ${MAX_TRACKED_CLIENTS} clients in the last second, not logged one by one`);
    }
    this.counts.clear();
    this.untracked = 0;
  }

  /** Whether this client's next line is written (true) or only counted by the flood guard. */
  private admit(client: string): boolean {
    const n = this.counts.get(client);
    if (n === undefined) {
      if (this.counts.size >= MAX_TRACKED_CLIENTS) {
        this.untracked++;
        return false;
      }
      this.counts.set(client, 1);
      return true;
    }
    this.counts.set(client, n + 1);
    return n < this.perClientPerSecond;
  }

  /** Whether query lines are wanted at the logger's level now (it can change at run time). */
  get enabled(): boolean {
    return this.logger.isLevelEnabled('info');
  }

  /** Queues one line; `flush()` writes what was queued. */
  add(client: string, name: string | null, type: string | null, rcode: string, tcp = false, forwarder?: string): void {
    if (!this.admit(client)) return;
    if (this.stream === null) {
      const line: QueryLine = { client, name, type, rcode };
      if (tcp) line.tcp = true;
      if (forwarder) line.forwarder = forwarder;
      this.logger.info(line, 'dns query');
      return;
    }
    const internals = this.logger as unknown as PinoInternals;
    const time = (internals[S.timeSym] as () => string)();
    const chindings = internals[S.chindingsSym] as string;
    // client, type and rcode come from our own tables and address formatting; name and forwarder are escaped.
    this.pending +=
      `{"level":30${time}${chindings},"client":${JSON.stringify(client)},"name":${name === null ? 'null' : JSON.stringify(name)},` +
      `"type":${type === null ? 'null' : `"${type}"`},"rcode":"${rcode}"${tcp ? ',"tcp":true' : ''}` +
      `${forwarder ? `,"forwarder":${JSON.stringify(forwarder)}` : ''},"msg":"dns query"}\n`;
  }

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.stream?.write(text);
  }
}

/** pino's destination when writing the line by hand gives the same bytes as pino would; else null. */
function fastPathStream(logger: Logger): { write(s: string): unknown } | null {
  const internals = logger as unknown as PinoInternals;
  const stream = internals[S.streamSym] as { write?: unknown } | undefined;
  if (!stream || typeof stream.write !== 'function') return null;
  if (typeof internals[S.timeSym] !== 'function' || typeof internals[S.chindingsSym] !== 'string') return null;
  if (internals[S.mixinSym] || internals[S.messageKeySym] !== 'msg' || internals[S.nestedKeySym] || (S.msgPrefixSym && internals[S.msgPrefixSym])) return null;
  if (logger.levels.values.info !== 30 || internals[S.useOnlyCustomLevelsSym]) return null;
  const hooks = internals[S.hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
  if (hooks?.logMethod || hooks?.streamWrite) return null;
  // Formatters: the level must come out as {"level":30} and log objects unchanged.
  const f = internals[S.formattersSym] as { level?: (label: string, n: number) => object; log?: (o: object) => object } | undefined;
  const probe = { client: 'x' };
  if (f?.level && JSON.stringify(f.level('info', 30)) !== '{"level":30}') return null;
  if (f?.log && f.log(probe) !== probe) return null;
  if (Object.keys((internals[S.serializersSym] as object | undefined) ?? {}).some((k) => ['client', 'name', 'type', 'rcode', 'tcp', 'forwarder'].includes(k))) return null;
  return stream as { write(s: string): unknown };
}
