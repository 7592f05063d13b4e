// Activates the extension against the `vscode` mock, on a real store.

import type * as vscodeTypes from 'vscode';
import { afterEach } from 'vitest';
import { activate, deactivate } from '../src/extension.js';
import { mock, mockSecrets, resetMock } from './mock/vscode.js';
import { eventually } from './helpers.js';

let disposables: { dispose(): unknown }[] = [];

afterEach(async () => {
  for (const d of disposables.splice(0)) d.dispose();
  await deactivate();
  resetMock();
});

export async function activateOn(settings: { store?: string; user?: string; server?: string; refreshSeconds?: number }, opts: { waitFor?: 'connected' | 'noStore' | 'needsSignIn' | 'nothing' } = {}) {
  resetMock();
  mock.configuration['keyward.store'] = settings.store ?? '';
  mock.configuration['keyward.user'] = settings.user ?? '';
  mock.configuration['keyward.server'] = settings.server ?? '';
  mock.configuration['keyward.refreshSeconds'] = settings.refreshSeconds ?? 3600;
  const secrets = mockSecrets();
  const context = { subscriptions: [] as { dispose(): unknown }[], secrets };
  activate(context as unknown as vscodeTypes.ExtensionContext);
  disposables = context.subscriptions;
  const key = `keyward.${opts.waitFor ?? 'connected'}`;
  if (opts.waitFor === 'nothing') return { context, secrets };
  await eventually(() => {
    if (mock.context.get(key) !== true) throw new Error(`${key} is ${String(mock.context.get(key))}`);
  }, key);
  return { context, secrets };
}

/** Runs a command as the palette or a menu would. */
export function run(command: string, ...args: unknown[]): Promise<unknown> {
  const fn = mock.commands.get(command);
  if (!fn) throw new Error(`command ${command} is not registered`);
  return Promise.resolve(fn(...args));
}

export function keysView() {
  const v = mock.treeViews.get('keyward.keys');
  if (!v) throw new Error('the Keys view was not created');
  return v;
}
