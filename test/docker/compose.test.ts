// No Docker engine runs on the machines this project is tested on, so the
// compose lab is checked for what can be checked without one: it parses,
// every path it names exists, the site it mounts is valid, and the image's
// commands are real provlab commands. The same topology (appliance + phone on
// one segment) runs for real as the namespace tests in test/e2e and test/probe.
import t from 'tap';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/provlab.js';
import { planOfFile } from '../helpers/sites.js';

const dir = join(ROOT, 'docker');
const compose = parse(readFileSync(join(dir, 'compose.yaml'), 'utf8')) as {
  services: Record<string, { build?: { context: string; dockerfile: string }; command: string[]; volumes?: string[]; networks: Record<string, unknown> }>;
  networks: Record<string, { driver: string }>;
};

t.test('compose file parses and names existing paths', async (t) => {
  const app = compose.services.provlab!;
  t.ok(existsSync(join(dir, app.build!.context, app.build!.dockerfile)), 'Dockerfile exists');
  for (const v of app.volumes ?? []) {
    const host = v.split(':')[0]!;
    if (host.startsWith('.')) t.ok(existsSync(join(dir, host)), `${host} exists`);
  }
  t.equal(compose.networks.staging!.driver, 'macvlan');
  t.ok(compose.services.phone, 'a phone service');
});

t.test('the mounted site file is valid and names the container interface', async (t) => {
  const plan = planOfFile(join(dir, 'site.yaml'));
  t.equal(plan.interface, 'eth0');
  t.equal(plan.statePath, '/state');
});

t.test('Dockerfile copies what exists and runs the built CLI', async (t) => {
  const df = readFileSync(join(dir, 'Dockerfile'), 'utf8');
  for (const m of df.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
    for (const src of m[1]!.split(/\s+/)) t.ok(existsSync(join(ROOT, src)), `COPY source ${src} exists`);
  }
  t.match(df, /ENTRYPOINT \["node", "--single-threaded-gc", "--max-semi-space-size=4", "\/app\/dist\/cli\/main\.js"\]/);
  for (const svc of Object.values(compose.services)) {
    t.ok(['up', 'probe'].includes(svc.command[0]!), `service runs provlab ${svc.command[0]}`);
  }
});
