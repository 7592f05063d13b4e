// How a flow shows a refusal: its text and code (behaviour §5). A change
// whose answer was lost (OUTCOME_UNKNOWN: the store or server may have made
// it) leaves the Keys view out of date either way, so it is read again first:
// the person is told to look, and finds what is there.

import { refusalCode, refusalText } from '@keyward/core';
import type { Prompter } from '../prompter.js';

export interface RefusalDeps {
  prompter: Prompter;
  /** Reads the keys shown again (the Keys view, the status bar). */
  reload?: () => Promise<unknown>;
}

export async function showRefusal(deps: RefusalDeps, e: unknown): Promise<void> {
  if (refusalCode(e) === 'OUTCOME_UNKNOWN') await deps.reload?.();
  await deps.prompter.error(refusalText(e));
}
