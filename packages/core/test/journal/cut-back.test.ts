// A record another process applied and its writer then cut back (an append
// refused after its bytes reached the page cache: the writer truncates the
// journal to where it was, journal-file.ts append): the journal now ends
// before the reader's position. The reader must drop what it applied — read
// the store again — not go on from a position past the end, answering with a
// key that was never acknowledged.
import { statSync, truncateSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/domain.js';
import { journalPathFor } from '../../src/store/json/journal.js';
import { createJsonFileStore } from '../../src/store/json/store.js';
import { key, user } from '../conformance/records.js';

describe('JSON store: a journal cut back below a reader', () => {
  it('is read again, and the record cut away is in no answer', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kw-cut-back-')), 'store.json');
    const problems: string[] = [];
    const writer = createJsonFileStore(path, { onProblem: () => {} });
    const reader = createJsonFileStore(path, { onProblem: (p) => problems.push(p) });
    await writer.create({ tenant: { id: 't', name: 'n', created: '', settings: DEFAULT_SETTINGS }, users: [user('alice', true), user('bob')], events: [] });
    const kept = key(1, { owner: 'bob' });
    await writer.transact((tx) => tx.putKey(kept));
    const before = statSync(journalPathFor(path)).size;
    const refused = key(2, { owner: 'bob' });
    await writer.transact((tx) => tx.putKey(refused));
    expect((await reader.findKeys({ owner: 'bob', limit: 10, now: Date.now() })).data.map((k) => k.id)).toEqual(expect.arrayContaining([kept.id, refused.id]));
    // What the writer's cut-back leaves (the writer itself is not asked again here).
    truncateSync(journalPathFor(path), before);
    const ids = (await reader.findKeys({ owner: 'bob', limit: 10, now: Date.now() })).data.map((k) => k.id);
    expect(ids).toContain(kept.id);
    expect(ids).not.toContain(refused.id);
    expect(await reader.getKey(refused.id)).toBeUndefined();
    expect(problems.join('\n')).toMatch(/ends before/);
    await Promise.all([writer.close(), reader.close()]);
  });
});
