// The bench scripts' option parser (bench/lib/args.mjs). A bench run takes up to
// tens of minutes and rewrites BENCHMARKS.md, so an unknown or mistyped option
// must be refused before anything starts (an unknown `--help` once started a
// whole default run), and --help must print the usage and stop.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/provlab.js';

interface Spec {
  type: 'string' | 'number' | 'boolean';
  default?: unknown;
  min?: number;
  max?: number;
  choices?: string[];
  list?: true;
}
const args = (await import(join(ROOT, 'bench/lib/args.mjs'))) as {
  parseOptions(argv: string[], spec: Record<string, Spec>): Record<string, unknown>;
  UsageError: new (message: string) => Error;
};

const SPEC: Record<string, Spec> = {
  seconds: { type: 'number', min: 1, max: 600, default: 10 },
  rates: { type: 'number', list: true, min: 1 },
  servers: { type: 'string', list: true, choices: ['provlab', 'kea'], default: ['provlab', 'kea'] },
  out: { type: 'string' },
  keep: { type: 'boolean' },
};

t.test('values, defaults and lists', async (t) => {
  t.same(args.parseOptions([], SPEC), { help: false, seconds: 10, rates: undefined, servers: ['provlab', 'kea'], out: undefined, keep: false });
  t.same(args.parseOptions(['--seconds', '5', '--rates', '1000,8000', '--servers', 'kea', '--out', 'x.md', '--keep'], SPEC), {
    help: false,
    seconds: 5,
    rates: [1000, 8000],
    servers: ['kea'],
    out: 'x.md',
    keep: true,
  });
  t.same(args.parseOptions(['--seconds=7'], SPEC).seconds, 7, 'the --name=value form too');
  t.equal(args.parseOptions(['-h'], SPEC).help, true);
  t.equal(args.parseOptions(['--help'], SPEC).help, true);
});

t.test('refused, with the reason', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--seconds'], /argument missing|--seconds/],
    [['--seconds', 'ten'], /--seconds wants a number, not "ten"/],
    [['--seconds', ''], /--seconds wants a number/],
    [['--seconds', '0'], /--seconds must be at least 1 \(got 0\)/],
    [['--seconds', '601'], /--seconds must be at most 600/],
    [['--rates', '1000,x'], /--rates wants a number, not "x"/],
    [['--servers', 'kae'], /--servers: "kae" is not one of provlab, kea/],
    [['stray'], /positional|stray/],
  ];
  for (const [argv, message] of cases) {
    t.throws(() => args.parseOptions(argv, SPEC), { name: 'Error', message }, argv.join(' '));
    try {
      args.parseOptions(argv, SPEC);
    } catch (err) {
      t.ok(err instanceof args.UsageError, `${argv.join(' ')}: a UsageError`);
    }
  }
});

t.test('bench/run.mjs stops at --help and at an unknown option, before its preflight', async (t) => {
  const run = (argv: string[]) => spawnSync(process.execPath, [join(ROOT, 'bench/run.mjs'), ...argv], { encoding: 'utf8', timeout: 20_000 });
  const help = run(['--help']);
  t.equal(help.status, 0);
  t.match(help.stdout, /--client-queue BYTES/);
  t.notMatch(help.stdout, /provlab bench \d{4}-/, 'no run started');
  const bad = run(['--repaet', '3']);
  t.equal(bad.status, 2);
  t.match(bad.stderr, /Unknown option '--repaet'/);
  t.equal(bad.stdout, '', 'no run started');
  for (const script of ['bench/ntp-load.mjs', 'bench/dns-load.mjs']) {
    const r = spawnSync(process.execPath, [join(ROOT, script), '--nope'], { encoding: 'utf8', timeout: 20_000 });
    t.equal(r.status, 2, `${script} refuses an unknown option`);
    t.match(r.stderr, /Unknown option '--nope'/);
  }
});
