// openService / openEngine / initStoreAt: the one way every face turns a named
// store into a service — a missing store refused (nothing made) or created on a
// first run, a broken one refused before anything runs on it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeywardError, initStoreAt, openEngine, openService } from '../src/index.js';
import { tempStorePath } from './helpers.js';

const refusalOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as KeywardError);

describe('opening a store', () => {
  it('refuses a store that is not there with UNAVAILABLE and the advice given, and creates nothing', async () => {
    const path = tempStorePath();
    const e = await refusalOf(openService({ store: path, actor: 'alice', missing: { advice: 'check the path', namedBy: '--store' } }));
    expect(e).toBeInstanceOf(KeywardError);
    expect(e!.code).toBe('UNAVAILABLE');
    expect(e!.message).toBe(`There is no Keyward store at ${path} (from --store); check the path.`);
    expect(readdirSync(dirname(path))).toEqual([]);
  });

  it('creates the store on a first run with the actor as its first admin, and says so once', async () => {
    const path = tempStorePath();
    const created: string[] = [];
    const missing = { firstAdmin: 'alice', onCreated: () => created.push(path) };
    const first = await openService({ store: path, actor: 'alice', missing });
    expect((await first.whoami()).user).toMatchObject({ id: 'alice', roles: ['TenantAdmin'] });
    await first.close();
    const again = await openService({ store: path, actor: 'alice', missing });
    await again.close();
    expect(created).toEqual([path]);
  });

  it('refuses a store that does not parse with STORE_CORRUPT before anything runs, and leaves it as it was', async () => {
    const path = tempStorePath();
    expect(await initStoreAt(path, { admin: 'alice', tenant: 'Acme' })).toMatchObject({ name: 'Acme' });
    const broken = readFileSync(path, 'utf8').slice(0, -1);
    writeFileSync(path, broken);
    const e = await refusalOf(openEngine(path, { advice: 'run `keyward init` first' }));
    expect(e!.code).toBe('STORE_CORRUPT');
    expect(readFileSync(path, 'utf8')).toBe(broken);
  });

  it('initStoreAt makes a store once; a second time it leaves the first as it is', async () => {
    const path = tempStorePath();
    const tenant = await initStoreAt(path, { admin: 'alice', tenant: 'Acme' });
    expect(tenant?.name).toBe('Acme');
    expect(await initStoreAt(path, { admin: 'mallory', tenant: 'Other' })).toBeUndefined();
    const alice = await openService({ store: path, actor: 'alice', missing: { advice: 'never' } });
    expect((await alice.whoami()).tenant).toMatchObject({ id: tenant!.id, name: 'Acme' });
    await alice.close();
    expect(existsSync(path)).toBe(true);
  });
});
