// busybox udhcpc as a phone in a namespace lab: one lease, and what its
// script saw when bound (ip, serverid, the options it decodes).
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEnvFile, type Lab } from './netns.js';

/** Runs udhcpc once on the lab's client side (vendor class MS-UC-Client); the environment of its `bound` call. */
export function udhcpcLease(lab: Lab, dir: string, tag: string): Record<string, string> {
  const hook = join(dir, `udhcpc-${tag}.sh`);
  writeFileSync(hook, `#!/bin/sh\n[ "$1" = bound ] && env > "${dir}/udhcpc-${tag}.env"\nexit 0\n`);
  chmodSync(hook, 0o755);
  lab.exec(lab.client, 'env', ['-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'timeout', '30', 'busybox', 'udhcpc', '-f', '-q', '-n', '-t', '4', '-T', '2', '-i', lab.clientIf, '-V', 'MS-UC-Client', '-s', hook], 40_000);
  return readEnvFile(join(dir, `udhcpc-${tag}.env`));
}
