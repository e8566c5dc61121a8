// Runs the built provlab CLI (dist/, built by `npm test`'s pretest) as a real
// process, optionally inside a network namespace, and waits until it says ready.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
/** The Node flags provlab runs with (`npm start`, the bin's #! line, the Docker image): test/cli/runtime-flags.test.ts keeps them in step. */
export const NODE_FLAGS = ['--single-threaded-gc', '--max-semi-space-size=4'];

export interface Running {
  child: ChildProcess;
  /** Every JSON log line seen so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function tempDir(prefix = 'provlab-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeSite(dir: string, yaml: string): string {
  const file = join(dir, 'site.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** Starts `provlab up` (in namespace `ns` when given) with JSON logs at debug level. */
export function startProvlab(args: string[], ns?: string): Running {
  const argv = ['--log-format', 'json', '--log-level', 'debug', ...args];
  const child = ns
    ? spawn('ip', ['netns', 'exec', ns, process.execPath, ...NODE_FLAGS, CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [...NODE_FLAGS, CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let err = '';
  let partial = '';
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    err += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      logs.push(parsed);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.pred(parsed)) {
          waiters[i]!.resolve(parsed);
          waiters.splice(i, 1);
        }
      }
    }
  });
  child.stdout!.resume();
  return {
    child,
    logs,
    stderr: () => err,
    waitForLog(pred, timeoutMs = 10_000) {
      const seen = logs.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for a log line; stderr so far:\n${err.slice(-3000)}`)), timeoutMs);
        const onExit = (code: number | null) => {
          clearTimeout(timer);
          reject(new Error(`provlab exited (${code}) before the expected log line; stderr:\n${err.slice(-3000)}`));
        };
        child.once('exit', onExit);
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(timer);
            child.off('exit', onExit);
            resolvePromise(l);
          },
        });
      });
    },
    stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
      return new Promise((resolvePromise) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolvePromise(code);
        });
        child.kill(signal);
      });
    },
  };
}

export interface UpOptions {
  /** Network namespace to run in. */
  ns?: string;
  /** More arguments after `up --site FILE`. */
  args?: string[];
  /** The log line (its start) that means ready; default "DHCP serving". */
  ready?: string;
  timeoutMs?: number;
}

/**
 * Writes `yaml` to DIR/site.yaml and runs `provlab up` on it, killed at
 * teardown; resolves once a log line starts with `ready`.
 */
export async function upWithSite(
  t: { teardown(fn: () => unknown): void },
  dir: string,
  yaml: string,
  o: UpOptions = {},
): Promise<{ file: string; provlab: Running }> {
  const file = writeSite(dir, yaml);
  const provlab = startProvlab(['up', '--site', file, ...(o.args ?? [])], o.ns);
  t.teardown(() => provlab.stop('SIGKILL'));
  const ready = o.ready ?? 'DHCP serving';
  await provlab.waitForLog((l) => String(l.msg).startsWith(ready), o.timeoutMs);
  return { file, provlab };
}
