// The CLI side of the control endpoint: GET a JSON document from the provlab
// that serves this site file, and make sure it is that provlab (two sites on
// one machine could have the same control port) by comparing state dirs.
import http from 'node:http';
import type { Plan } from '../site/plan.js';
import { CONTROL_HOST, type ApplianceInfo } from './server.js';

export type ControlFailure = 'off' | 'not-running' | 'foreign' | 'error';

export class ControlUnavailableError extends Error {
  constructor(
    readonly reason: ControlFailure,
    message: string,
  ) {
    super(message);
    this.name = 'ControlUnavailableError';
  }
}

const MAX_BODY = 64 * 1024 * 1024;

function get(port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: CONTROL_HOST, port, path, timeout: timeoutMs, headers: { Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy(new Error('response too large'));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

/** GETs `path` from this site's provlab; throws ControlUnavailableError saying why not. */
export async function fetchControl<T extends { appliance: ApplianceInfo }>(plan: Plan, path: string, timeoutMs = 5000): Promise<T> {
  const where = `${CONTROL_HOST}:${plan.control.port}`;
  if (!plan.control.enabled) {
    throw new ControlUnavailableError('off', `the control endpoint is off in ${plan.sourceFile} (control.enabled: false)`);
  }
  let reply: { status: number; body: string };
  try {
    reply = await get(plan.control.port, path, timeoutMs);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ECONNREFUSED') {
      throw new ControlUnavailableError('not-running', `provlab is not running for site ${plan.site} (nothing listens on ${where})`);
    }
    throw new ControlUnavailableError('error', `control endpoint ${where}: ${e.message}`);
  }
  if (reply.status !== 200) {
    throw new ControlUnavailableError('error', `control endpoint ${where} answered HTTP ${reply.status}: ${reply.body.trim().slice(0, 200)}`);
  }
  let doc: T;
  try {
    doc = JSON.parse(reply.body) as T;
  } catch {
    throw new ControlUnavailableError('error', `control endpoint ${where} did not answer JSON (is it provlab?)`);
  }
  const a = doc?.appliance;
  if (typeof a !== 'object' || a === null || typeof a.statePath !== 'string') {
    throw new ControlUnavailableError('foreign', `${where} is not a provlab control endpoint`);
  }
  if (a.statePath !== plan.statePath) {
    throw new ControlUnavailableError(
      'foreign',
      `${where} is the control endpoint of another provlab (site ${a.site}, pid ${a.pid}, state ${a.statePath}), not of ${plan.sourceFile}: give each site its own control.port`,
    );
  }
  return doc;
}
