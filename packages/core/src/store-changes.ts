// How a face (the VS Code extension, the terminal UI) redraws when the store
// under its service changed, by this process or another, instead of waiting
// for its next poll: KeyService.onStoreChange, with the calls that come in a
// burst taken as one.

import type { KeyService } from './service.js';

/**
 * Calls `onChange` `delayMs` after a change the service tells of, once for
 * every change told meanwhile, and never sooner than `spacingMs` after its
 * last call. Unlike a debounce, a steady stream of changes does not put it
 * off for ever; the spacing keeps that stream — usage flushed by busy servers,
 * each flush a change — from having every open editor and terminal UI read
 * its views again several times a second (a change is still shown within
 * about a second, the bound SPEC §4 sets for a revoke). Undefined when the
 * service tells of none (over HTTP: the face polls).
 */
export function followStoreChanges(service: KeyService, onChange: () => void, delayMs = 150, spacingMs = 1000): { dispose(): void } | undefined {
  if (!service.onStoreChange) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastCall = -Infinity;
  const off = service.onStoreChange(() => {
    // Told from inside the store's change path: only schedule here.
    timer ??= setTimeout(
      () => {
        timer = undefined;
        lastCall = Date.now();
        onChange();
      },
      Math.max(delayMs, lastCall + spacingMs - Date.now()),
    );
  });
  return {
    dispose() {
      off();
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
