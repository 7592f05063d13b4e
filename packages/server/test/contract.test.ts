// One contract, two adapters: the same KeyService scenario runs against the
// engine in-process (`createEngine(store).as(user)`) and against a real server
// through `createRemoteService`, each on a fresh store seeded the same way.
// Every answer and every refusal (code and sentence) is recorded; the two
// transcripts must be identical once the values that differ by nature — key
// ids, times, tokens, the tenant id, the location — are replaced by stable
// placeholders.

import { join } from 'node:path';
import { type KeyService, KeywardError, createEngine, createJsonFileStore, createRemoteService, eventLogPathFor, initStore, readEventLog } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { startServer } from '../src/index.js';
import { tempDir } from './helpers.js';

type Login = (user: string, token: string) => KeyService;

async function seed(storePath: string): Promise<string> {
  await initStore(createJsonFileStore(storePath), { admin: 'alice' });
  const engine = createEngine(createJsonFileStore(storePath), { usageFlushMs: 0 });
  const alice = engine.as('alice');
  await alice.updateSettings({ api_keys_enabled: true });
  await alice.updateUser('alice', { developer: true });
  const { token } = await alice.generateKey({ description: 'alice bootstrap' });
  await engine.close();
  return token;
}

/** Every KeyService method, its answers and its refusals, in the order SPEC §2 tells the story. */
async function scenario(alice: KeyService, login: Login): Promise<unknown[]> {
  const transcript: unknown[] = [];
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      const result = await fn();
      transcript.push([name, result ?? null]);
      return result;
    } catch (e) {
      if (!(e instanceof KeywardError)) throw e;
      transcript.push([name, { refused: e.code, message: e.message }]);
      return undefined;
    }
  };

  await step('whoami', () => alice.whoami());
  await step('settings', () => alice.getSettings());
  await step('settings set', () => alice.updateSettings({ max_keys_per_user: 3, max_api_key_expiry: '60d' }));
  await step('settings set out of range', () => alice.updateSettings({ max_keys_per_user: 5000 }));
  await step('settings set unknown', () => alice.updateSettings({ colour: 'blue' } as never));
  await step('settings set wrong type', () => alice.updateSettings({ api_keys_enabled: 'on' as never }));

  await step('users add bob', () => alice.addUser('bob', { licence: true }));
  await step('users add carol', () => alice.addUser('carol'));
  await step('users add again', () => alice.addUser('bob'));
  await step('users add bad name', () => alice.addUser('no spaces please'));
  await step('users set bob developer', () => alice.updateUser('bob', { developer: true }));
  await step('users set carol', () => alice.updateUser('carol', { licence: true, developer: true }));
  await step('users set nobody', () => alice.updateUser('nobody', { licence: true }));
  await step('users set unknown field', () => alice.updateUser('bob', { owner: true } as never));
  await step('users set last admin', () => alice.updateUser('alice', { admin: false }));
  await step('users ls', () => alice.listUsers());

  const bobSession = await step('keys create for bob', () => alice.generateKey({ description: 'bob session', sub: 'bob' }));
  const carolSession = await step('keys create for carol', () => alice.generateKey({ description: 'carol session', sub: 'carol' }));
  const bob = login('bob', bobSession!.token);
  const carol = login('carol', carolSession!.token);

  await step('bob whoami', () => bob.whoami());
  const b1 = await step('bob create', () => bob.generateKey({ description: 'b1 deploys' }));
  const b2 = await step('bob create 12h', () => bob.generateKey({ description: 'b2 reports', expiry: 'PT12H' }));
  await step('bob create too long', () => bob.generateKey({ description: 'b3', expiry: 'P61D' }));
  await step('bob create bad expiry', () => bob.generateKey({ description: 'b3', expiry: 'soon' }));
  await step('bob create empty', () => bob.generateKey({ description: '  ' }));
  await step('bob create at limit', () => bob.generateKey({ description: 'b4' }));
  await step('bob create for carol', () => bob.generateKey({ description: 'b5', sub: 'carol' }));
  await step('bob whoami at limit', () => bob.whoami());

  await step('carol loses developer', () => alice.updateUser('carol', { developer: false }));
  await step('carol create without role', () => carol.generateKey({ description: 'c1' }));
  await step('carol rename without role', () => carol.renameKey(carolSession!.id, 'c'));
  await step('carol loses licence', () => alice.updateUser('carol', { developer: true, licence: false }));
  await step('carol create without licence', () => carol.generateKey({ description: 'c1' }));
  await step('carol whoami', () => carol.whoami());
  await step('carol licence back', () => alice.updateUser('carol', { licence: true }));
  const c1 = await step('carol create', () => carol.generateKey({ description: 'c1 search me' }));
  await step('settings off', () => alice.updateSettings({ api_keys_enabled: false }));
  await step('carol create while disabled', () => carol.generateKey({ description: 'c2' }));
  await step('settings on', () => alice.updateSettings({ api_keys_enabled: true }));

  await step('bob users ls', () => bob.listUsers());
  await step('bob settings', () => bob.getSettings());
  await step('bob settings set', () => bob.updateSettings({ max_keys_per_user: 9 }));
  await step('bob users set', () => bob.updateUser('bob', { admin: true }));
  await step('bob events', () => bob.listEvents());
  await step('bob usage', () => bob.usage());
  await step('bob revoke', () => bob.revokeKey(b1!.id));
  await step('bob revoke many', () => bob.revokeKeys([b1!.id]));

  const sorted = { sort: '+description' } as const;
  await step('bob keys ls', () => bob.listKeys(sorted));
  await step('carol keys ls', () => carol.listKeys(sorted));
  const page1 = await step('keys ls page 1', () => alice.listKeys({ ...sorted, limit: 2 }));
  const page2 = await step('keys ls page 2', () => alice.listKeys({ ...sorted, limit: 2, startingAfter: page1!.next }));
  await step('keys ls back', () => alice.listKeys({ ...sorted, limit: 2, endingBefore: page2!.data[0].id }));
  await step('keys ls offset', () => alice.listKeys({ ...sorted, limit: 3, offset: 2 }));
  await step('keys ls search', () => alice.listKeys({ search: 'SEARCH' }));
  await step('keys ls owner', () => alice.listKeys({ ...sorted, sub: 'bob' }));
  await step('keys ls owner unknown', () => alice.listKeys({ sub: 'nobody' }));
  await step('keys ls created by', () => alice.listKeys({ ...sorted, createdByUser: 'alice' }));
  await step('keys ls bad sort', () => alice.listKeys({ sort: 'colour' as never }));
  await step('keys ls bad status', () => alice.listKeys({ status: 'lost' as never }));
  await step('keys ls bad limit', () => alice.listKeys({ limit: 0 }));
  await step('keys ls bad cursor', () => alice.listKeys({ startingAfter: 'ffffffffffffffffffffffff' }));

  await step('bob get', () => bob.getKey(b1!.id));
  await step('bob get alice key', () => bob.getKey(bobSession!.id === b1!.id ? '' : page1!.data.find((k) => k.sub === 'alice')?.id ?? ''));
  await step('get bad id', () => bob.getKey('zzz'));
  await step('get empty id', () => bob.getKey(''));
  await step('get dot id', () => bob.getKey('..'));
  await step('bob rename', () => bob.renameKey(b1!.id, 'b1 deploys, renamed'));
  await step('alice rename bob key', () => alice.renameKey(b1!.id, 'mine'));
  await step('carol rename bob key', () => carol.renameKey(b1!.id, 'mine'));
  await step('bob rename empty', () => bob.renameKey(b1!.id, ''));

  await step('revoke', () => alice.revokeKey(b2!.id));
  await step('revoke again', () => alice.revokeKey(b2!.id));
  await step('revoke unknown', () => alice.revokeKey('ffffffffffffffffffffffff'));
  await step('revoke many', () => alice.revokeKeys([c1!.id, b2!.id, 'ffffffffffffffffffffffff', 'nonsense', c1!.id]));
  await step('revoke none', () => alice.revokeKeys([]));

  await step('verify valid', () => alice.verifyToken(b1!.token));
  await step('verify valid again', () => carol.verifyToken(b1!.token));
  await step('verify revoked', () => alice.verifyToken(b2!.token));
  await step('verify malformed', () => alice.verifyToken('kw_nope'));
  await step('usage', async () => (await alice.usage({ since: '1h' })).filter((r) => r.keyId === b1!.id));
  await step('usage bad since', () => alice.usage({ since: 'last tuesday' }));

  await step('admin deletes bob key', () => alice.deleteKey(b1!.id));
  await step('carol deletes bob key', () => carol.deleteKey(b1!.id));
  await step('bob deletes', () => bob.deleteKey(b1!.id));
  await step('bob deletes again', () => bob.deleteKey(b1!.id));
  await step('bob get deleted', () => bob.getKey(b1!.id));
  await step('verify deleted', () => alice.verifyToken(b1!.token));

  await step('events revoked', () => alice.listEvents({ type: 'api-key.revoked' }));
  await step('events of a key', () => alice.listEvents({ keyId: b2!.id }));
  await step('events by bob', () => alice.listEvents({ userId: 'bob', type: 'api-key.generated', limit: 2 }));
  await step('events users', () => alice.listEvents({ type: 'user.updated', since: '1h', limit: 3 }));
  await step('events bad type', () => alice.listEvents({ type: 'api-key.exploded' as never }));
  await step('events bad key', () => alice.listEvents({ keyId: 'nope' }));
  await step('events both cursors', () => alice.listEvents({ startingAfter: 'a', endingBefore: 'b' }));
  await step('events bad limit', () => alice.listEvents({ limit: 1001 }));

  // Last for bob: it deletes the key his session uses.
  await step('bob deletes all', () => bob.deleteAllKeys());
  await step('alice whoami', () => alice.whoami());
  await Promise.all([alice.close(), bob.close(), carol.close()]);
  return transcript;
}

/** Replaces what differs between two runs by nature with placeholders numbered by first appearance. */
function normalise(value: unknown): unknown {
  const ids = new Map<string, string>();
  const idOf = (id: string) => {
    if (!ids.has(id)) ids.set(id, `<key ${ids.size + 1}>`);
    return ids.get(id)!;
  };
  const text = (s: string) => {
    if (/^kw_[0-9a-f]{24}_/.test(s)) return '<token>';
    if (/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(s)) return '<time>';
    // Event ids (and so event cursors): time in base 36, then 10 random hex digits.
    if (/^[0-9a-z]{9}[0-9a-f]{10}$/.test(s)) return '<event>';
    return s.replace(/\b[0-9a-f]{24}\b/g, idOf);
  };
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') {
      if (key === 'location') return '<location>';
      if (key === 'tenantId' || key === 'tenant') return '<tenant>';
      return text(v);
    }
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        // Requests over HTTP are uses of the caller's key; in-process calls are not.
        if (k === 'lastUsed') continue;
        if (k === 'id' && 'eventType' in v) out[k] = '<event>';
        else if (k === 'tenant' && x && typeof x === 'object') out[k] = { ...(walk(x) as object), id: '<tenant>' };
        else out[k] = walk(x, k);
      }
      return out;
    }
    return v;
  };
  return walk(value);
}

/** What happened in a store, in order, without the usage aggregates only HTTP produces. */
function history(storePath: string): string[] {
  return readEventLog(eventLogPathFor(storePath))
    .filter((e) => e.eventType !== 'api-key.used' && e.eventType !== 'api-key.auth-failed')
    .map((e) => `${e.eventType} by ${e.userId}`);
}

describe('the KeyService contract: local engine and remote server', () => {
  it('gives the same answers and the same refusals, and leaves the same history', async () => {
    const localPath = join(tempDir(), 'local.json');
    await seed(localPath);
    const engine = createEngine(createJsonFileStore(localPath), { usageFlushMs: 0 });
    const local = await scenario(engine.as('alice'), (user) => engine.as(user));

    const remotePath = join(tempDir(), 'remote.json');
    const aliceToken = await seed(remotePath);
    const server = await startServer({ storePath: remotePath, port: 0, log: () => undefined, usageFlushMs: 60_000 });
    let remote: unknown[];
    try {
      remote = await scenario(createRemoteService(server.url, aliceToken), (_user, token) => createRemoteService(server.url, token));
    } finally {
      await server.close();
    }

    expect(local.length).toBeGreaterThan(80);
    const [l, r] = [normalise(local) as [string, unknown][], normalise(remote) as [string, unknown][]];
    for (let i = 0; i < l.length; i++) expect(r[i], `step ${l[i][0]}`).toEqual(l[i]);
    expect(r.length).toBe(l.length);
    // The transcript is not vacuous: it holds answers and refusals of every kind.
    const refused = new Set(l.map(([, v]) => (v as { refused?: string })?.refused).filter(Boolean));
    expect([...refused].sort()).toEqual(
      ['ADMIN_ROLE_REQUIRED', 'API_KEYS_DISABLED', 'DEVELOPER_ROLE_REQUIRED', 'EXPIRY_TOO_LONG', 'INVALID_EXPIRY', 'INVALID_INPUT', 'INVALID_SETTING', 'KEY_LIMIT_REACHED', 'KEY_NOT_ACTIVE', 'KEY_NOT_FOUND', 'LICENCE_REQUIRED', 'NOT_KEY_OWNER', 'USER_NOT_FOUND'].sort(),
    );
    expect(history(remotePath)).toEqual(history(localPath));
    // The server counted the remote flow's requests as uses and flushed them on close.
    expect(readEventLog(eventLogPathFor(remotePath)).some((e) => e.eventType === 'api-key.used')).toBe(true);
  });
});
