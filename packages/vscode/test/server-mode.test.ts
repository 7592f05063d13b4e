// Working against a Keyward server: Sign In keeps the token in secret storage
// (never in settings), every view then talks HTTP to a real server, and
// changes made by other clients show up by polling.

import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '@keyward/server';
import { tokenSecretKey } from '../src/connection.js';
import { activateOn, keysView, run } from './activate.js';
import { type Tenant, eventually, fileTenant, freshService } from './helpers.js';
import { type TreeItem, answer, mock } from './mock/vscode.js';

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** A server on a file tenant; `before` writes what the server must see from its first request on. */
async function served<T>(before?: (t: Tenant) => Promise<T>) {
  const t = await fileTenant();
  // Before the server starts: it may verify against a copy of the store up to 100 ms old.
  const signInKey = await t.bob.generateKey({ description: 'editor sign-in' });
  const made = await before?.(t);
  running = await startServer({ storePath: t.path, port: 0, log: () => undefined, usageFlushMs: 0 });
  return { t, url: running.url.replace(/\/+$/, ''), token: signInKey.token, made };
}

async function labels(): Promise<string[]> {
  const v = keysView();
  const nodes = await v.provider.getChildren();
  return nodes.map((n) => (v.provider.getTreeItem(n) as TreeItem).label);
}

describe('a Keyward server', () => {
  it('signs in with a token kept in secret storage only, then lists, generates and sees other clients’ changes over HTTP', async () => {
    const { t, url, token } = await served();
    const { secrets } = await activateOn({ server: url, refreshSeconds: 5 }, { waitFor: 'needsSignIn' });
    answer(({ kind, password }) => (expect([kind, password]).toEqual(['input', true]), token));
    await run('keyward.signIn');
    await eventually(() => expect(mock.context.get('keyward.connected'), JSON.stringify(mock.messages)).toBe(true), 'connected to the server');
    expect(mock.context.get('keyward.signedIn')).toBe(true);
    expect(secrets.values.get(tokenSecretKey(url))).toBe(token);
    expect(JSON.stringify(mock.configuration)).not.toContain(token);
    expect(mock.messages.at(-1)!.message).toBe(`Signed in to ${url} as bob.`);
    expect(await labels()).toEqual(['editor sign-in']);

    answer(
      () => 'made over http',
      () => /^30 days$/,
      () => /Copy to clipboard/,
    );
    await run('keyward.generateKey');
    expect(await freshService(t.path, 'bob').verifyToken(mock.clipboard)).toMatchObject({ valid: true, key: { description: 'made over http' } });
    await eventually(async () => expect(await labels()).toEqual(['made over http', 'editor sign-in']));

    // Another client deletes a key; polling brings the change in without a refresh.
    const other = (await freshService(t.path, 'bob').listKeys({ search: 'made over http' })).data[0];
    await freshService(t.path, 'bob').deleteKey(other.id);
    await eventually(async () => expect(await labels()).toEqual(['editor sign-in']), 'the poll to notice', 15_000);

    await run('keyward.signOut');
    expect(secrets.values.size).toBe(0);
    await eventually(() => expect(mock.context.get('keyward.needsSignIn')).toBe(true));
  });

  it('keeps nothing when the server turns the token down, and says why', async () => {
    // Revoked before the server starts: revoked through another store while it
    // runs, the server may still accept the token for up to 100 ms (SPEC §4).
    const { url, made: dead } = await served(async (t) => {
      const k = await t.bob.generateKey({ description: 'dead' });
      await t.alice.revokeKey(k.id);
      return k;
    });
    const { secrets } = await activateOn({ server: url }, { waitFor: 'needsSignIn' });
    answer(() => dead!.token);
    await run('keyward.signIn');
    expect(secrets.values.size).toBe(0);
    expect(mock.messages.at(-1)).toMatchObject({ kind: 'error', message: expect.stringMatching(new RegExp(`^Could not sign in to ${url}: .*\\(UNAUTHENTICATED\\)$`)) });
  });

  it('asks for the server URL when none is set, and saves only the URL in settings', async () => {
    const { url, token } = await served();
    const path = `${(await fileTenant()).path}`;
    await activateOn({ store: path, user: 'alice' });
    answer(
      ({ prompt }) => (expect(prompt).toContain('URL'), `${url}/`),
      () => token,
    );
    await run('keyward.signIn');
    expect(mock.configurationUpdates, JSON.stringify(mock.messages)).toEqual([{ key: 'keyward.server', value: url }]);
    await eventually(() => expect(mock.context.get('keyward.signedIn')).toBe(true));
    expect(await labels()).toEqual(['editor sign-in']);
  });
});
