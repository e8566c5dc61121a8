// The local control endpoint: HTTP on 127.0.0.1 only, read-only.
//   GET /             the status page (inline CSS/JS, live via /api/events)
//   GET /api/status   the staging timeline (TimelineView + appliance)
//   GET /api/leases   the DHCP lease table + the timeline's address map
//   GET /api/events   server-sent events: "version" whenever the timeline changes
// The bind address is fixed, not configurable; requests whose Host is not
// 127.0.0.1/localhost are refused, so a web page on another origin cannot reach
// it through DNS rebinding. Nothing here changes the appliance's state.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { LeaseRecord } from '../dhcp/lease-record.js';
import type { Logger } from '../log.js';
import type { Plan } from '../site/plan.js';
import type { StagingTimeline } from '../timeline/timeline.js';
import type { TimelineLease, TimelineView } from '../timeline/types.js';
import { leaseRows, type LeaseRow } from './leases-view.js';
import { STATUS_PAGE, STATUS_PAGE_CSP } from './page.js';

export const CONTROL_HOST = '127.0.0.1';

/** Who answers: the CLI checks it is talking to the provlab of its own site file. */
export interface ApplianceInfo {
  site: string;
  sourceFile: string;
  statePath: string;
  pid: number;
  startedAt: number;
}

export type StatusResponse = TimelineView & { appliance: ApplianceInfo };

export interface LeasesResponse {
  appliance: ApplianceInfo;
  generatedAt: number;
  leases: LeaseRow[];
  /** Which MAC the timeline places on each address (ACK, INFORM ciaddr, journal). */
  addresses: TimelineLease[];
}

export interface ControlOptions {
  logger: Logger;
  timeline: StagingTimeline;
  /** The DHCP daemon's lease table (`daemon.leases.all()`), or nothing when DHCP is off: served by /api/leases. */
  leases: () => Iterable<LeaseRecord>;
  /**
   * When the port cannot be bound: false (default) logs a warning and serves
   * without the endpoint (DHCP matters more than a status page); true throws.
   */
  required?: boolean;
  now?: () => number;
  /** Live streams served at once; more get 503. Default 32. */
  maxStreams?: number;
  /** Connections at once (default 64), and from one client address (default 48). */
  maxConnections?: number;
  maxPerAddress?: number;
}

/**
 * What a connection is doing, for eviction: `idle` has no request being
 * answered (none yet, headers still arriving, or a keep-alive pause), `busy`
 * is being answered, `stream` holds an event stream.
 */
export type ConnState = 'idle' | 'busy' | 'stream';
export interface Conn {
  socket: Socket;
  address: string;
  state: ConnState;
}

/**
 * Room for a new connection from `address`, or the one to close to make room.
 * Idle and slow connections never keep a request out: at the cap, the oldest
 * idle one goes (from the same address when that address is at its own cap).
 * Only when every connection is busy or streaming is the newcomer refused.
 * Pure: `conns` in arrival order.
 */
export function admit(conns: Iterable<Conn>, address: string, max: number, perAddress: number): { ok: true; evict?: Conn } | { ok: false } {
  let total = 0;
  let mine = 0;
  let oldestIdle: Conn | undefined;
  let oldestIdleMine: Conn | undefined;
  for (const c of conns) {
    total++;
    if (c.address === address) mine++;
    if (c.state !== 'idle') continue;
    oldestIdle ??= c;
    if (c.address === address) oldestIdleMine ??= c;
  }
  if (mine >= perAddress) return oldestIdleMine ? { ok: true, evict: oldestIdleMine } : { ok: false };
  if (total >= max) return oldestIdle ? { ok: true, evict: oldestIdle } : { ok: false };
  return { ok: true };
}

export interface ControlHandle {
  /** http://127.0.0.1:PORT, or null when the endpoint is off or could not bind. */
  readonly url: string | null;
  /** Takes the new site name; a new port needs a restart. */
  reload(plan: Plan): void;
  stop(): Promise<void>;
}

const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

/** Only names that mean this machine: a rebinding attack's Host is the attacker's name. */
export function hostAllowed(host: string | undefined): boolean {
  if (host === undefined) return true;
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d{1,5})?$/.exec(host.trim().toLowerCase());
  if (!m) return false;
  const name = m[1]!.replace(/\.$/, '');
  return name === '127.0.0.1' || name === 'localhost';
}

function applianceOf(plan: Plan, startedAt: number): ApplianceInfo {
  return { site: plan.site, sourceFile: plan.sourceFile, statePath: plan.statePath, pid: process.pid, startedAt };
}

/**
 * Starts the control endpoint of `provlab up`. It only reads the timeline:
 * the appliance (src/appliance/) feeds it and gives it the site on reload.
 */
export async function startControl(plan: Plan, options: ControlOptions): Promise<ControlHandle> {
  const log = options.logger.child({ component: 'control' });
  const { timeline } = options;
  const now = options.now ?? Date.now;
  const maxStreams = options.maxStreams ?? 32;
  const maxConnections = options.maxConnections ?? 64;
  // Loopback clients mostly share 127.0.0.1: the per-address cap leaves other addresses a quarter.
  const maxPerAddress = options.maxPerAddress ?? 48;
  // In arrival order (a Map iterates in insertion order): the first idle one is the oldest.
  const conns = new Map<Socket, Conn>();

  const warnIfMoved = (next: Plan): void => {
    if (next.control.port !== plan.control.port || next.control.enabled !== plan.control.enabled) {
      log.warn('control port or enabled changed: restart provlab for that to take effect');
    }
  };
  // Off, or the port could not be bound: nothing to serve or stop.
  const noEndpoint: ControlHandle = { url: null, reload: warnIfMoved, stop: async () => {} };
  let appliance = applianceOf(plan, now());
  if (!plan.control.enabled) {
    log.info('control endpoint off (control.enabled: false): provlab status and the status page are unavailable');
    return noEndpoint;
  }

  const streams = new Set<http.ServerResponse>();
  let flushTimer: NodeJS.Timeout | undefined;
  const broadcast = (): void => {
    flushTimer = undefined;
    const frame = `event: version\ndata: ${timeline.currentVersion}\n\n`;
    for (const res of streams) res.write(frame);
  };
  // Coalesce bursts (a phone's boot is a dozen events in a second) into one push per 200 ms.
  const unsubscribe = timeline.subscribe(() => {
    if (streams.size > 0 && flushTimer === undefined) flushTimer = setTimeout(broadcast, 200);
  });
  const keepAlive = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, 20_000);
  keepAlive.unref();

  const sendJson = (res: http.ServerResponse, head: boolean, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(head ? undefined : text);
  };
  const sendText = (res: http.ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...extra });
    res.end(text);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const conn = conns.get(req.socket);
    if (conn) {
      conn.state = 'busy';
      res.on('finish', () => {
        if (conn.state === 'busy') conn.state = 'idle';
      });
    }
    if (!hostAllowed(req.headers.host)) {
      log.warn({ host: req.headers.host, from: req.socket.remoteAddress }, 'control request refused: Host is not 127.0.0.1 or localhost');
      return sendText(res, 421, 'this endpoint answers only to http://127.0.0.1 or http://localhost\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'read-only: GET or HEAD\n', { Allow: 'GET, HEAD' });
    const head = req.method === 'HEAD';
    const path = (req.url ?? '/').split('?')[0];
    log.debug({ method: req.method, path }, 'control request');
    switch (path) {
      case '/':
      case '/index.html': {
        res.writeHead(200, {
          ...COMMON_HEADERS,
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Length': Buffer.byteLength(STATUS_PAGE),
          'Content-Security-Policy': STATUS_PAGE_CSP,
        });
        return void res.end(head ? undefined : STATUS_PAGE);
      }
      case '/api/status': {
        const body: StatusResponse = { ...timeline.snapshot(), appliance };
        return sendJson(res, head, body);
      }
      case '/api/leases': {
        const body: LeasesResponse = { appliance, generatedAt: now(), leases: leaseRows(options.leases(), now()), addresses: timeline.leases() };
        return sendJson(res, head, body);
      }
      case '/api/events': {
        if (streams.size >= maxStreams) return sendText(res, 503, 'too many live status pages open; close one\n', { 'Retry-After': '10' });
        res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
        if (head) return void res.end();
        res.write(`retry: 2000\nevent: version\ndata: ${timeline.currentVersion}\n\n`);
        streams.add(res);
        if (conn) conn.state = 'stream';
        req.socket.setTimeout(0);
        res.on('close', () => streams.delete(res));
        return;
      }
      default:
        return sendText(res, 404, 'not found: try /, /api/status, /api/leases\n');
    }
  };

  // Node checks these timeouts only every connectionsCheckingInterval (30 s by default:
  // 64 silent sockets then held the endpoint for 26-30 s); every second here.
  const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 }, (req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      log.error({ err }, 'control request failed');
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
      else res.destroy();
    }
  });
  // Our own cap instead of server.maxConnections, which refuses whoever comes next
  // even when every slot is held by a socket that never sends a byte.
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const room = admit(conns.values(), address, maxConnections, maxPerAddress);
    if (!room.ok) {
      log.debug({ from: address }, 'control connection refused: every connection is busy');
      socket.destroy();
      return;
    }
    if (room.evict) {
      conns.delete(room.evict.socket);
      room.evict.socket.destroy();
    }
    conns.set(socket, { socket, address, state: 'idle' });
    socket.on('close', () => conns.delete(socket));
  });

  const stopServer = async (): Promise<void> => {
    unsubscribe();
    clearInterval(keepAlive);
    if (flushTimer) clearTimeout(flushTimer);
    for (const res of streams) res.end();
    streams.clear();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: CONTROL_HOST, port: plan.control.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await stopServer().catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? `port ${plan.control.port} is in use (another provlab? set control.port in the site file)` : e.message;
    if (options.required) throw new Error(`control endpoint not started on ${CONTROL_HOST}:${plan.control.port}: ${why}`);
    log.warn({ port: plan.control.port, code: e.code }, `control endpoint not started: ${why}; provlab status and the status page are unavailable`);
    return noEndpoint;
  }
  server.on('error', (err) => log.error({ err }, 'control endpoint error'));

  const address = server.address() as AddressInfo;
  // Belt and braces: never serve on anything but loopback.
  if (address.address !== CONTROL_HOST) {
    await stopServer();
    throw new Error(`control endpoint bound to ${address.address}, not ${CONTROL_HOST}: refusing to serve`);
  }
  const url = `http://${CONTROL_HOST}:${address.port}`;
  log.info({ listen: `${CONTROL_HOST}:${address.port}`, url }, `control endpoint on ${url} (status page; provlab status / leases)`);

  let stopped = false;
  return {
    url,
    reload(next: Plan): void {
      warnIfMoved(next);
      // The state dir and file in use stay those of the start; only the name follows the file.
      appliance = { ...appliance, site: next.site };
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await stopServer();
    },
  };
}
