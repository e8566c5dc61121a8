// Throwaway test networks: two network namespaces joined by a veth pair,
// with a private subnet that exists only inside them. Every test that needs
// one gets unique names and a cleanup that runs even when the test fails.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import tap from 'tap';

type Tap = {
  fail(message: string): void;
  teardown(fn: () => void | Promise<void>): void;
};

/**
 * Why a namespace test cannot run here, or null when it can. Under CI=true a
 * missing tool or privilege is a failure, never a silent skip: the caller
 * passes the result to `t.test(name, { skip }, ...)` only outside CI.
 */
export function netnsUnavailable(tools: readonly string[] = []): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 (ip) is not installed';
  }
  for (const tool of tools) {
    if (!which(tool)) return `${tool} is not installed`;
  }
  return null;
}

/**
 * The `skip` option for a namespace test: false when it can run. Under
 * CI=true a missing tool or privilege fails the file instead (nothing may
 * silently skip in CI); elsewhere the test is skipped with the reason.
 */
export function namespaceSkip(tools: readonly string[] = []): string | false {
  const reason = netnsUnavailable(tools);
  if (reason === null) return false;
  if (process.env.CI === 'true') {
    tap.fail(`CI=true and this test cannot run here: ${reason}`);
  }
  return reason;
}

export function which(tool: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (existsSync(`${dir}/${tool}`)) return `${dir}/${tool}`;
  }
  return null;
}

/** KEY=VALUE lines, as a DHCP client's hook script writes them with `env`. */
export function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

let counter = 0;

/** Commands run inside a namespace; spawned children are remembered so the lab's teardown kills them. */
function nsCommands(children: ChildProcess[]): Pick<Lab, 'exec' | 'spawn'> {
  return {
    exec(ns, cmd, args, timeoutMs = 30_000) {
      return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    spawn(ns, cmd, args) {
      const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      return child;
    },
  };
}

export interface Lab {
  server: string;
  client: string;
  serverIf: string;
  clientIf: string;
  /** e.g. "10.99.7" – the /24 used inside this lab */
  prefix: string;
  serverIp: string;
  exec(ns: string, cmd: string, args: string[], timeoutMs?: number): string;
  spawn(ns: string, cmd: string, args: string[]): ChildProcess;
  destroy(): void;
}

/** Creates SRV and CLI namespaces joined by a veth pair; the server side gets PREFIX.1/24. */
export function createLab(t: Tap, options: { clientAddress?: string } = {}): Lab {
  const id = `${process.pid.toString(36)}${(counter++).toString(36)}`;
  const server = `plS${id}`;
  const client = `plC${id}`;
  const serverIf = `vs${id}`.slice(0, 15);
  const clientIf = `vc${id}`.slice(0, 15);
  const octet = 10 + ((process.pid + counter * 7) % 200);
  const prefix = `10.99.${octet}`;
  const serverIp = `${prefix}.1`;
  const children: ChildProcess[] = [];
  const run = (args: string[]): void => {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const destroy = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of [server, client]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  };
  t.teardown(destroy);
  run(['netns', 'add', server]);
  run(['netns', 'add', client]);
  run(['link', 'add', serverIf, 'type', 'veth', 'peer', 'name', clientIf]);
  run(['link', 'set', serverIf, 'netns', server]);
  run(['link', 'set', clientIf, 'netns', client]);
  run(['-n', server, 'addr', 'add', `${serverIp}/24`, 'dev', serverIf]);
  if (options.clientAddress) run(['-n', client, 'addr', 'add', `${options.clientAddress}/24`, 'dev', clientIf]);
  for (const ns of [server, client]) {
    run(['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'], { stdio: 'ignore' });
  }
  run(['-n', server, 'link', 'set', serverIf, 'up']);
  run(['-n', client, 'link', 'set', clientIf, 'up']);
  return {
    server,
    client,
    serverIf,
    clientIf,
    prefix,
    serverIp,
    ...nsCommands(children),
    destroy,
  };
}

export interface RelayLab {
  server: string;
  relay: string;
  phone: string;
  serverIf: string;
  relayUpIf: string;
  relayDownIf: string;
  phoneIf: string;
  /** The server's link, e.g. "10.98.7": the server is .1, the relay's upstream side .2. */
  serverPrefix: string;
  /** The phones' link, e.g. "10.97.7": the relay (giaddr) is .1. */
  phonePrefix: string;
  serverIp: string;
  giaddr: string;
  /** A second staging subnet behind the same relay (another VLAN on the router): its namespace, links and prefix; the relay is .1. */
  phone2: string;
  relayDown2If: string;
  phone2If: string;
  phone2Prefix: string;
  giaddr2: string;
  exec(ns: string, cmd: string, args: string[], timeoutMs?: number): string;
  spawn(ns: string, cmd: string, args: string[]): ChildProcess;
}

/**
 * Four namespaces, server <-> relay <-> two phone links, as a staging room
 * with `ip helper-address` on two VLANs has them: the phones' subnets exist
 * only behind the relay, and the server reaches them through routes. The
 * relay forwards IP.
 */
export function createRelayLab(t: Tap): RelayLab {
  const id = `${process.pid.toString(36)}${(counter++).toString(36)}`;
  const [server, relay, phone, phone2] = [`plS${id}`, `plR${id}`, `plP${id}`, `plQ${id}`];
  const [serverIf, relayUpIf, relayDownIf, phoneIf, relayDown2If, phone2If] = [`vs${id}`, `vu${id}`, `vd${id}`, `vp${id}`, `ve${id}`, `vq${id}`].map((n) => n.slice(0, 15)) as [string, string, string, string, string, string];
  const octet = 10 + ((process.pid + counter * 7) % 200);
  const serverPrefix = `10.98.${octet}`;
  const phonePrefix = `10.97.${octet}`;
  const phone2Prefix = `10.96.${octet}`;
  const children: ChildProcess[] = [];
  const run = (args: string[]): void => {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  t.teardown(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of [server, relay, phone, phone2]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  });
  for (const ns of [server, relay, phone, phone2]) {
    run(['netns', 'add', ns]);
    run(['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'], { stdio: 'ignore' });
  }
  run(['link', 'add', serverIf, 'type', 'veth', 'peer', 'name', relayUpIf]);
  run(['link', 'add', relayDownIf, 'type', 'veth', 'peer', 'name', phoneIf]);
  run(['link', 'add', relayDown2If, 'type', 'veth', 'peer', 'name', phone2If]);
  for (const [ifname, ns] of [[serverIf, server], [relayUpIf, relay], [relayDownIf, relay], [phoneIf, phone], [relayDown2If, relay], [phone2If, phone2]] as const) {
    run(['link', 'set', ifname, 'netns', ns]);
    run(['-n', ns, 'link', 'set', ifname, 'up']);
  }
  run(['-n', server, 'addr', 'add', `${serverPrefix}.1/24`, 'dev', serverIf]);
  run(['-n', relay, 'addr', 'add', `${serverPrefix}.2/24`, 'dev', relayUpIf]);
  run(['-n', relay, 'addr', 'add', `${phonePrefix}.1/24`, 'dev', relayDownIf]);
  run(['-n', relay, 'addr', 'add', `${phone2Prefix}.1/24`, 'dev', relayDown2If]);
  run(['-n', server, 'route', 'add', `${phonePrefix}.0/24`, 'via', `${serverPrefix}.2`]);
  run(['-n', server, 'route', 'add', `${phone2Prefix}.0/24`, 'via', `${serverPrefix}.2`]);
  execFileSync('ip', ['netns', 'exec', relay, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'], { stdio: 'ignore' });
  return {
    server,
    relay,
    phone,
    serverIf,
    relayUpIf,
    relayDownIf,
    phoneIf,
    serverPrefix,
    phonePrefix,
    serverIp: `${serverPrefix}.1`,
    giaddr: `${phonePrefix}.1`,
    phone2,
    relayDown2If,
    phone2If,
    phone2Prefix,
    giaddr2: `${phone2Prefix}.1`,
    ...nsCommands(children),
  };
}
