// Loads native/devsock.c (build/Release/provlab_devsock.node), built by
// `npm install` with node-gyp. One loader for every socket that needs it.
import { createRequire } from 'node:module';

// Same relative path from src/net/ (tests run sources) and dist/net/.
const ADDON_PATH = '../../build/Release/provlab_devsock.node';

export type Loaded<A> = { ok: true; addon: A } | { ok: false; reason: string };

let loaded: Loaded<unknown> | undefined;

/** The addon's exports, typed by the caller; `reason` says why it is unavailable. */
export function loadNativeAddon<A>(): Loaded<A> {
  if (!loaded) {
    if (process.platform !== 'linux') {
      loaded = { ok: false, reason: `the native socket addon needs Linux (this is ${process.platform})` };
    } else {
      try {
        loaded = { ok: true, addon: createRequire(import.meta.url)(ADDON_PATH) };
      } catch (err) {
        const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
        loaded = { ok: false, reason: `native addon provlab_devsock is not built (npm install builds it with node-gyp): ${why}` };
      }
    }
  }
  return loaded as Loaded<A>;
}

interface HandleOps<H> {
  close(handle: H): void;
  ref(handle: H): void;
  unref(handle: H): void;
}

/** close (idempotent), ref and unref of one addon handle, and whether it is closed. */
export function handleLifetime<H>(addon: HandleOps<H>, handle: H): { close(): void; ref(): void; unref(): void; readonly closed: boolean } {
  let closed = false;
  return {
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      closed = true;
      addon.close(handle);
    },
    ref() {
      if (!closed) addon.ref(handle);
    },
    unref() {
      if (!closed) addon.unref(handle);
    },
  };
}
