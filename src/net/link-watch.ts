// Notices when the served interface is deleted and re-created. A socket bound
// with SO_BINDTODEVICE keeps the kernel index of the device it was bound to;
// a device made again under the same name (a VLAN interface re-created by
// ifupdown or NetworkManager, a veth of a lab restarted) gets a new index,
// and the old socket silently receives nothing. Polling the index is cheap
// (one small read of sysfs) and needs no netlink socket.
import { readFileSync } from 'node:fs';

/** The kernel index of an interface, or null when there is none of that name. */
export function ifindexOf(name: string): number | null {
  try {
    const n = Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

export type LinkChange = { kind: 'gone' } | { kind: 'back'; ifindex: number };

/**
 * Pure: what one poll means. `bound` is the index the socket is bound to,
 * `wasGone` whether the interface was missing at the last poll, `seen` the
 * index now (null: no such interface).
 */
export function linkChange(bound: number, wasGone: boolean, seen: number | null): LinkChange | null {
  if (seen === null) return wasGone ? null : { kind: 'gone' };
  if (seen !== bound) return { kind: 'back', ifindex: seen };
  return null;
}

export interface LinkWatchOptions {
  intervalMs?: number;
  /** For tests: where the index is read from. */
  read?: (name: string) => number | null;
}

/**
 * Polls one interface. `onBack` re-binds; it returns whether that worked,
 * and the watch then follows the new index (else it tries again at the next
 * poll). The timer never keeps the process alive.
 */
export class LinkWatch {
  private bound: number;
  private gone = false;
  private busy = false;
  private readonly timer: NodeJS.Timeout;
  private readonly read: (name: string) => number | null;

  constructor(
    private readonly name: string,
    boundIndex: number,
    private readonly onGone: () => void,
    private readonly onBack: (ifindex: number) => Promise<boolean>,
    o: LinkWatchOptions = {},
  ) {
    this.bound = boundIndex;
    this.read = o.read ?? ifindexOf;
    this.timer = setInterval(() => void this.poll(), o.intervalMs ?? 2000);
    this.timer.unref();
  }

  async poll(): Promise<void> {
    if (this.busy) return;
    const change = linkChange(this.bound, this.gone, this.read(this.name));
    if (change === null) return;
    if (change.kind === 'gone') {
      this.gone = true;
      this.onGone();
      return;
    }
    this.busy = true;
    try {
      if (await this.onBack(change.ifindex)) {
        this.bound = change.ifindex;
        this.gone = false;
      }
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
