// A create over HTTP whose store lost its answer, on a real PostgreSQL, while
// the database cannot be asked what became of it: the client is told the
// outcome is unknown (504 OUTCOME_UNKNOWN, no Retry-After), never 503
// UNAVAILABLE, whose word is that nothing was changed — the key was made.

import { request } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.js';
import { cuttingTheWriteOf, refusingTheFateLooks } from '../../core/test/postgres/lost-answers.js';
import { type RunningServer, startServer } from '../src/index.js';
import { type Answer, client, errorCode, seedStore } from './helpers.js';

let db: TestDatabase;
let server: RunningServer;
let tokens: Awaited<ReturnType<typeof seedStore>>['tokens'];
beforeAll(async () => {
  db = await createTestDatabase();
  ({ tokens } = await seedStore(db.url));
  server = await startServer({ storePath: db.url, host: '127.0.0.1', port: 0, usageFlushMs: 0, log: () => undefined });
});
afterAll(async () => {
  await server?.close();
  await db?.drop();
});

/**
 * POST /api/v1/api-keys with the description's é sent as the JSON escape \u00e9: the request's bytes
 * do not carry "é", so only the store's write to the database (which does) is cut.
 */
function create(description: string): Promise<Answer> {
  const body = JSON.stringify({ description }).replace(/é/g, '\\u00e9');
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/api/v1/api-keys`, { method: 'POST', headers: { authorization: `Bearer ${tokens.bob}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: new Headers(res.headers as Record<string, string>), body: JSON.parse(text), text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('a create whose outcome the store cannot learn', () => {
  it('is answered 504 OUTCOME_UNKNOWN, without Retry-After, saying to list the keys first; the key was made once', async () => {
    const api = client(server.url);
    // What the server last saw of bob: his next create goes to the database as one statement.
    expect((await api('POST', '/api/v1/api-keys', { token: tokens.bob, body: { description: 'bob seen' } })).status).toBe(201);
    const answer = await refusingTheFateLooks(() => cuttingTheWriteOf('bob é unknown', () => create('bob é unknown')).answer);
    expect(answer.status).toBe('fulfilled');
    const a = (answer as PromiseFulfilledResult<Answer>).value;
    expect([a.status, errorCode(a)]).toEqual([504, 'OUTCOME_UNKNOWN']);
    expect(a.headers.get('retry-after')).toBeNull();
    expect(a.body.errors[0].detail).toContain('list your keys');
    // The database ran what it received: "nothing was changed" would have been false.
    const admin = new pg.Client(db.url);
    await admin.connect();
    try {
      await expect.poll(async () => (await admin.query(`SELECT id FROM keyward.keys WHERE description = 'bob é unknown'`)).rows.length, { timeout: 10_000 }).toBe(1);
    } finally {
      await admin.end();
    }
  });
});
