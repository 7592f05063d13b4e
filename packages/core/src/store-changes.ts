// How a face (the VS Code extension, the terminal UI) redraws when the store
// under its service changed, by this process or another, instead of waiting
// for its next poll: KeyService.onStoreChange, with the calls that come in a
// burst taken as one.

import type { KeyService } from './service.js';

/**
 * Calls `onChange` `delayMs` after a change the service tells of, once for
 * every change told meanwhile. Unlike a debounce, a steady stream of changes
 * (usage flushed by busy servers) does not put it off for ever. Undefined
 * when the service tells of none (over HTTP: the face polls).
 */
export function followStoreChanges(service: KeyService, onChange: () => void, delayMs = 150): { dispose(): void } | undefined {
  if (!service.onStoreChange) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const off = service.onStoreChange(() => {
    // Told from inside the store's change path: only schedule here.
    timer ??= setTimeout(() => {
      timer = undefined;
      onChange();
    }, delayMs);
  });
  return {
    dispose() {
      off();
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
