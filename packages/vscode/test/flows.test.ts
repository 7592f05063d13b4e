import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type KeyService, KeywardError, createEngine, manualClock, parseToken } from '@keyward/core';
import { generateApiKey, type GenerateDeps, type TokenDestinations } from '../src/flows/generate.js';
import { copyKeyId, deleteApiKey, renameApiKey, revokeApiKey } from '../src/flows/key-actions.js';
import { replaceTokenWithNewKey } from '../src/flows/replace-token.js';
import { signIn, signOut, type SignInDeps } from '../src/flows/sign-in.js';
import { tokenSecretKey } from '../src/connection.js';
import { ScriptedPrompter, type Step } from './scripted-prompter.js';
import { type Tenant, tempDir, tenant } from './helpers.js';

async function depsFor(t: Tenant, user: string, steps: Step[], isTracked = async () => false) {
  const service = t.as(user);
  const prompter = new ScriptedPrompter(steps);
  const deps: GenerateDeps = { service, me: await service.whoami(), prompter, now: () => Date.now(), isTracked };
  return { deps, prompter, service };
}

/** A workspace .env not there yet, and a shared secrets file outside the workspace it may be linked to. */
async function sharedSecrets() {
  const shared = join(tempDir(), 'shared-secrets.env');
  writeFileSync(shared, 'OTHER=1\n');
  return { t: await tenant(), shared, envFile: join(tempDir(), '.env') };
}

/** An editor stand-in: a text with one cursor. */
function editorAt(text: string, cursor: number) {
  const doc = { text };
  const to: TokenDestinations = {
    editor: {
      label: 'Insert at cursor',
      file: 'a.txt',
      put: async (token) => {
        doc.text = doc.text.slice(0, cursor) + token + doc.text.slice(cursor);
        return true;
      },
    },
  };
  return { doc, to };
}

describe('Generate API Key', () => {
  it('asks description and lifetime, inserts a working token at the cursor, and keeps no copy', async () => {
    const t = await tenant();
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: 'CI deploy' }, { pick: /^7 days$/ }, { pick: /Insert at cursor/ }]);
    const { doc, to } = editorAt('TOKEN=\n', 6);
    const done = await generateApiKey(deps, to);
    expect(prompter.done).toBe(true);
    const token = /kw_\S+/.exec(doc.text)![0];
    expect(doc.text).toBe(`TOKEN=${token}\n`);
    expect(await t.alice.verifyToken(token)).toMatchObject({ valid: true, key: { description: 'CI deploy', sub: 'bob' } });
    expect(done?.key.id).toBe(parseToken(token).ok && (parseToken(token) as { keyId: string }).keyId);
    expect(JSON.stringify(done)).not.toContain(token);
    expect(Date.parse(done!.key.expiry) - Date.parse(done!.key.created)).toBe(7 * 86_400_000);
    expect(prompter.told.map((m) => m.message).join('\n')).not.toContain(token);
    expect(prompter.copied).toBeUndefined();
  });

  it('uses the tenant maximum when that is what was picked (the first choice)', async () => {
    const t = await tenant();
    await t.alice.updateSettings({ max_api_key_expiry: 'P10D' });
    const { deps } = await depsFor(t, 'bob', [{ input: 'max' }, { pick: /^10 days$/ }, { pick: /Copy/ }]);
    const done = await generateApiKey(deps, {});
    expect(Date.parse(done!.key.expiry) - Date.parse(done!.key.created)).toBe(10 * 86_400_000);
  });

  it('takes a typed lifetime, validated against the tenant maximum', async () => {
    const t = await tenant();
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: 'typed' }, { pick: /Other/ }, { input: '36h' }, { pick: /Copy/ }]);
    const done = await generateApiKey(deps, {});
    expect(Date.parse(done!.key.expiry) - Date.parse(done!.key.created)).toBe(36 * 3_600_000);
    const typed = prompter.asked.filter((a) => a.kind === 'input')[1].options!;
    expect(typed.validate!('P31D')).toMatch(/tenant maximum/);
  });

  it('copies the token to the clipboard when asked to', async () => {
    const t = await tenant();
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: 'copied' }, { pick: /^30 days$/ }, { pick: /Copy to clipboard/ }]);
    await generateApiKey(deps, editorAt('', 0).to);
    expect((await t.bob.verifyToken(prompter.copied!)).valid).toBe(true);
    expect(prompter.told.at(-1)!.message).toMatch(/copied to the clipboard; it will not be shown again/);
  });

  it('appends NAME=token to the workspace .env, or replaces the line for NAME, and warns when .env is tracked', async () => {
    const t = await tenant();
    const envFile = join(tempDir(), '.env');
    const first = await depsFor(t, 'bob', [{ input: 'CI deploy' }, { pick: /^30 days$/ }, { pick: /Append to \.env/ }, { input: 'CI_DEPLOY_API_KEY' }]);
    await generateApiKey(first.deps, { envFile });
    const line1 = readFileSync(envFile, 'utf8');
    expect(line1).toMatch(/^CI_DEPLOY_API_KEY=kw_\S+\n$/);
    expect(first.prompter.asked.find((a) => a.title.includes('variable'))!.value).toBe('CI_DEPLOY_API_KEY');

    const second = await depsFor(t, 'bob', [{ input: 'CI deploy' }, { pick: /^30 days$/ }, { pick: /Append to \.env/ }, { input: 'CI_DEPLOY_API_KEY' }], async () => true);
    await generateApiKey(second.deps, { envFile });
    const text = readFileSync(envFile, 'utf8');
    expect(text.split('\n')).toHaveLength(2);
    expect(text).not.toBe(line1);
    const caution = second.prompter.asked.find((a) => a.title.includes('variable'))!.options!.caution!;
    expect(caution('CI_DEPLOY_API_KEY')).toMatch(/already sets/);
    expect(second.prompter.told.at(-1)).toMatchObject({ kind: 'warn', message: expect.stringContaining('tracked by git') });
    expect((await t.bob.verifyToken(text.trim().split('=')[1])).valid).toBe(true);
  });

  it('never writes the token through a .env that is a symbolic link: not offered, named with where it leads, and copied instead', async () => {
    const { t, shared, envFile } = await sharedSecrets();
    symlinkSync(shared, envFile);
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: 'CI deploy' }, { pick: /^30 days$/ }, { pick: /Copy/ }]);
    await generateApiKey(deps, { envFile });
    const where = prompter.asked.at(-1)!;
    expect(where.items).toEqual(['Copy to clipboard']);
    expect(where.details!.join('\n')).toContain(`Not appended to .env: .env is a symbolic link to ${shared}, and Keyward never writes a token through a link`);
    expect((await t.bob.verifyToken(prompter.copied!)).valid).toBe(true);
    expect(readFileSync(shared, 'utf8')).toBe('OTHER=1\n');
  });

  it('copies the token instead when .env became a symbolic link after it was chosen, naming the link', async () => {
    const { t, shared, envFile } = await sharedSecrets();
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: 'CI deploy' }, { pick: /^30 days$/ }, { pick: /Append to \.env/ }, { input: 'CI_DEPLOY_API_KEY' }]);
    // The link is made between the question and the write: as the key is generated.
    const service = deps.service;
    deps.service = new Proxy(service, {
      get: (o, k) => {
        if (k === 'generateKey') return async (r: Parameters<KeyService['generateKey']>[0]) => (symlinkSync(shared, envFile), service.generateKey(r));
        const v = Reflect.get(o, k, o) as unknown;
        return typeof v === 'function' ? v.bind(o) : v;
      },
    });
    const done = await generateApiKey(deps, { envFile });
    expect(done!.placement).toBe('copy');
    expect(readFileSync(shared, 'utf8')).toBe('OTHER=1\n');
    expect((await t.bob.verifyToken(prompter.copied!)).valid).toBe(true);
    expect(prompter.told.at(-1)).toMatchObject({ kind: 'warn', message: expect.stringContaining(`not written to .env: .env is a symbolic link to ${shared}, and Keyward never writes a token through a link`) });
    expect(prompter.told.at(-1)!.message).not.toContain(prompter.copied!);
  });

  it.each([
    ['API_KEYS_DISABLED', 'bob', async (t: Tenant) => void (await t.alice.updateSettings({ api_keys_enabled: false }))],
    ['LICENCE_REQUIRED', 'bob', async (t: Tenant) => void (await t.alice.updateUser('bob', { licence: false }))],
    ['DEVELOPER_ROLE_REQUIRED', 'carol', async () => undefined],
    [
      'KEY_LIMIT_REACHED',
      'bob',
      async (t: Tenant) => {
        await t.alice.updateSettings({ max_keys_per_user: 1 });
        await t.bob.generateKey({ description: 'the one' });
      },
    ],
  ])('refuses with %s before asking anything', async (code, user, arrange) => {
    const t = await tenant();
    await arrange(t);
    const { deps, prompter } = await depsFor(t, user, []);
    expect(await generateApiKey(deps, {})).toBeUndefined();
    expect(prompter.told).toEqual([{ kind: 'error', message: expect.stringMatching(new RegExp(`\\. \\(${code}\\)$`)) }]);
  });

  it('shows the engine refusal when things changed while the person was answering', async () => {
    const t = await tenant();
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: 'late' }, { pick: /^30 days$/ }, { pick: /Copy/ }]);
    const generateKey = deps.service.generateKey.bind(deps.service);
    deps.service.generateKey = async (input) => {
      await t.alice.updateSettings({ api_keys_enabled: false });
      return generateKey(input);
    };
    expect(await generateApiKey(deps, {})).toBeUndefined();
    expect(prompter.told).toEqual([{ kind: 'error', message: 'API keys are disabled for this tenant; a tenant admin can enable them. (API_KEYS_DISABLED)' }]);
    expect(prompter.copied).toBeUndefined();
  });

  it('reloads the keys shown when the answer to the create was lost (OUTCOME_UNKNOWN), and shows the code', async () => {
    const t = await tenant();
    // The store commits the key, then its answer is lost (as a PostgreSQL connection cut once its COMMIT went out).
    const transact = t.store.transact.bind(t.store);
    t.store.transact = async (fn, how) => {
      await transact(fn, how);
      throw new KeywardError('OUTCOME_UNKNOWN', 'The store stopped answering after the new key was sent to it, so whether it was made is not known.');
    };
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: 'lost answer' }, { pick: /^30 days$/ }, { pick: /Copy/ }]);
    const reloaded: string[][] = [];
    deps.reload = async () => reloaded.push((await t.bob.listKeys()).data.map((k) => k.description));
    expect(await generateApiKey(deps, {})).toBeUndefined();
    expect(prompter.told).toEqual([{ kind: 'error', message: expect.stringMatching(/\(OUTCOME_UNKNOWN\)$/) }]);
    // Read again once, before the person is told to look: the key that was made is in it.
    expect(reloaded).toEqual([['lost answer']]);
    expect(prompter.copied).toBeUndefined();
  });

  it('refuses an empty description in the input box itself', async () => {
    const t = await tenant();
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: undefined }]);
    expect(await generateApiKey(deps, {})).toBeUndefined();
    expect(prompter.asked[0].options!.validate!('   ')).toMatch(/must not be empty/);
    expect(prompter.asked[0].options!.validate!('ok')).toBeUndefined();
  });

  it('copies the token when the editor closed meanwhile', async () => {
    const t = await tenant();
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: 'closed' }, { pick: /^30 days$/ }, { pick: /Insert/ }]);
    await generateApiKey(deps, { editor: { label: 'Insert at cursor', file: 'a.txt', put: async () => false } });
    expect((await t.bob.verifyToken(prompter.copied!)).valid).toBe(true);
    expect(prompter.told.at(-1)!.message).toMatch(/editor was closed/);
  });
});

describe('Revoke, Delete, Rename, Copy ID', () => {
  it('revokes a key picked by search, after confirmation', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'to revoke' });
    await t.bob.generateKey({ description: 'stays' });
    const { deps, prompter } = await depsFor(t, 'alice', [{ pickKey: 'revoke', choose: /to revoke/ }, { confirm: true }]);
    const revoked = await revokeApiKey(deps);
    expect(revoked?.status).toBe('revoked');
    expect(prompter.asked[0].items).toEqual(['to revoke']);
    expect(prompter.asked[1]).toMatchObject({ kind: 'confirm', title: 'Revoke API key "to revoke"?' });
    expect((await t.bob.verifyToken(k.token)).valid).toBe(false);
  });

  it('offers only active keys to revoke, and changes nothing when not confirmed', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'a' });
    const gone = await t.bob.generateKey({ description: 'b' });
    await t.alice.revokeKey(gone.id);
    const { deps, prompter } = await depsFor(t, 'alice', [{ pickKey: '', choose: /^a$/ }, { confirm: false }]);
    expect(await revokeApiKey(deps)).toBeUndefined();
    expect(prompter.asked[0].items).toEqual(['a']);
    expect((await t.bob.getKey(k.id)).status).toBe('active');
  });

  it('tells a developer they cannot revoke, before asking anything', async () => {
    const t = await tenant();
    const { deps, prompter } = await depsFor(t, 'bob', []);
    expect(await revokeApiKey(deps)).toBeUndefined();
    expect(prompter.told).toEqual([{ kind: 'error', message: 'Only a tenant admin can revoke a key. (ADMIN_ROLE_REQUIRED)' }]);
  });

  it('revokes the key a quick fix names by id, and reports a key no longer active', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'by id' });
    const first = await depsFor(t, 'alice', [{ confirm: true }]);
    expect((await revokeApiKey(first.deps, { id: k.id }))?.status).toBe('revoked');
    const again = await depsFor(t, 'alice', [{ confirm: true }]);
    expect(await revokeApiKey(again.deps, { id: k.id })).toBeUndefined();
    expect(again.prompter.told.at(-1)).toEqual({ kind: 'error', message: 'The key is revoked; only an active key can be revoked. (KEY_NOT_ACTIVE)' });
  });

  it('deletes one of my keys after confirmation; other people’s keys are not offered', async () => {
    const t = await tenant();
    const mine = await t.bob.generateKey({ description: 'mine' });
    await t.alice.generateKey({ description: 'mine too?' });
    const { deps, prompter } = await depsFor(t, 'bob', [{ pickKey: 'mine', choose: /^mine$/ }, { confirm: true }]);
    expect(await deleteApiKey(deps)).toBe(true);
    expect(prompter.asked[0].items).toEqual(['mine']);
    expect((await t.bob.listKeys()).data).toEqual([]);
    expect((await t.bob.verifyToken(mine.token)).valid).toBe(false);
  });

  it('shows the refusal when an admin tries to delete someone else’s key from its row', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: "bob's" });
    const { deps, prompter } = await depsFor(t, 'alice', [{ confirm: true }]);
    expect(await deleteApiKey(deps, k)).toBe(false);
    expect(prompter.told).toEqual([{ kind: 'error', message: 'Only its owner (bob) can delete this key. (NOT_KEY_OWNER)' }]);
  });

  it('renames a key, prefilled with its description', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'old name' });
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: 'new name' }]);
    expect((await renameApiKey(deps, k))?.description).toBe('new name');
    expect(prompter.asked[0].value).toBe('old name');
    expect((await t.bob.getKey(k.id)).description).toBe('new name');
  });

  it('copies a key id', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'id please' });
    const { deps, prompter } = await depsFor(t, 'bob', [{ pickKey: 'id', choose: /id please/ }]);
    expect(await copyKeyId(deps)).toBe(k.id);
    expect(prompter.copied).toBe(k.id);
  });
});

describe('Replace with a new key (quick fix)', () => {
  it('puts a new token where the old was, then lets an admin revoke the old key', async () => {
    const t = await tenant();
    await t.alice.updateUser('alice', { developer: true });
    const old = await t.alice.generateKey({ description: 'leaked' });
    let text = `KEY=${old.token}`;
    const { deps, prompter } = await depsFor(t, 'alice', [{ input: 'leaked (rotated)' }, { pick: /^30 days$/ }, { action: 'Revoke Old Key' }, { confirm: true }]);
    const made = await replaceTokenWithNewKey(
      {
        ...deps,
        replace: async (token) => {
          text = text.replace(old.token, token);
          return true;
        },
      },
      await t.alice.getKey(old.id),
    );
    expect(prompter.asked[0].value).toBe('leaked');
    const token = text.slice(4);
    expect(await t.alice.verifyToken(token)).toMatchObject({ valid: true, key: { id: made!.id, description: 'leaked (rotated)' } });
    expect((await t.alice.getKey(old.id)).status).toBe('revoked');
  });

  it('offers a developer to delete the old key instead', async () => {
    const t = await tenant();
    const old = await t.bob.generateKey({ description: 'mine' });
    const { deps } = await depsFor(t, 'bob', [{ input: 'mine 2' }, { pick: /^30 days$/ }, { action: 'Delete Old Key' }, { confirm: true }]);
    await replaceTokenWithNewKey({ ...deps, replace: async () => true }, await t.bob.getKey(old.id));
    expect((await t.bob.listKeys()).data.map((k) => k.description)).toEqual(['mine 2']);
  });

  it('copies the new token when the old one is gone from the document', async () => {
    const t = await tenant();
    const { deps, prompter } = await depsFor(t, 'bob', [{ input: 'fresh' }, { pick: /^30 days$/ }]);
    await replaceTokenWithNewKey({ ...deps, replace: async () => false }, undefined);
    expect((await t.bob.verifyToken(prompter.copied!)).valid).toBe(true);
  });
});

describe('Sign In / Sign Out', () => {
  function signInDeps(steps: Step[], server: string, open: (url: string, token: string) => KeyService) {
    const prompter = new ScriptedPrompter(steps);
    const secrets = new Map<string, string>();
    let saved: string | undefined;
    const deps: SignInDeps = {
      prompter,
      configuredServer: () => saved ?? server,
      saveServer: async (u) => void (saved = u),
      storeSecret: async (k, v) => void secrets.set(k, v),
      deleteSecret: async (k) => void secrets.delete(k),
      openServer: open,
    };
    return { deps, prompter, secrets, saved: () => saved };
  }

  it('asks the server and the token, checks the token with the server, then keeps it in secret storage only', async () => {
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'for the editor' });
    const opened: string[] = [];
    const s = signInDeps([{ input: 'http://127.0.0.1:8787/' }, { input: ` ${k.token} ` }], '', (url, token) => {
      opened.push(url);
      expect(token).toBe(k.token);
      return t.bob;
    });
    expect(await signIn(s.deps)).toBe(true);
    expect(opened).toEqual(['http://127.0.0.1:8787']);
    expect(s.secrets.get(tokenSecretKey('http://127.0.0.1:8787'))).toBe(k.token);
    expect(s.saved()).toBe('http://127.0.0.1:8787');
    expect(s.prompter.asked[1].options!.password).toBe(true);
    expect(s.prompter.told.at(-1)!.message).toBe('Signed in to http://127.0.0.1:8787 as bob.');
    expect(await signOut(s.deps)).toBe(true);
    expect(s.secrets.size).toBe(0);
  });

  it('refuses a malformed token in the box, and keeps nothing when the server refuses it', async () => {
    const refusing = { whoami: () => Promise.reject(new KeywardError('UNAUTHENTICATED', 'The token is not valid.')), close: async () => undefined } as unknown as KeyService;
    const s = signInDeps([{ input: 'kw_' + 'a'.repeat(24) + '_' + 'a'.repeat(40) }], 'http://k.test', () => refusing);
    await expect(signIn(s.deps)).rejects.toThrow(/would be refused by the input box: Not a Keyward token/);
    const t = await tenant();
    const k = await t.bob.generateKey({ description: 'x' });
    await t.alice.revokeKey(k.id);
    const s2 = signInDeps([{ input: k.token }], 'http://k.test', () => refusing);
    expect(await signIn(s2.deps)).toBe(false);
    expect(s2.secrets.size).toBe(0);
    expect(s2.prompter.told).toEqual([{ kind: 'error', message: 'Could not sign in to http://k.test: The token is not valid. (UNAUTHENTICATED)' }]);
  });

  it('has nothing to sign out of on a local store', async () => {
    const s = signInDeps([], '', () => {
      throw new Error('not used');
    });
    expect(await signOut(s.deps)).toBe(false);
  });
});

describe('the tenant clock', () => {
  it('uses the engine clock for expiry text', async () => {
    const clock = manualClock();
    const t = await tenant({ clock });
    const engine = createEngine(t.store, { clock });
    const service = engine.as('bob');
    const prompter = new ScriptedPrompter([{ input: 'clocked' }, { pick: /^1 day$/ }, { pick: /Copy/ }]);
    await generateApiKey({ service, me: await service.whoami(), prompter, now: clock.now, isTracked: async () => false }, {});
    expect(prompter.told.at(-1)!.message).toContain('(expires in 1d)');
  });
});
