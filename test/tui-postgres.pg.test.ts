// The terminal UI on a PostgreSQL store (issue 10: every face works on one
// unchanged), in a real pseudo-terminal with the harness of tui-e2e.test.ts:
// `keyward --store postgres://…` on a database `keyward init` set up, the
// seed flow's essentials done in the UI, the revoked token refused by
// another `keyward` process on the same database, and a key that process
// makes seen by the UI.
import { afterAll, afterEach, expect, it } from 'vitest';
import { codeOf, keyward, keywardBin } from './support/keyward.js';
import { createOwnedTestDatabase, type TestDatabase } from './support/postgres.js';
import { ESC, Session, TOKEN, becomeDeveloper, enableApiKeys, generate, killSessions } from './support/pty-session.js';

afterEach(killSessions);
const dbs: TestDatabase[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

it('takes an admin on a PostgreSQL store from enabling keys to a revoked key the database refuses', async () => {
  const db = await createOwnedTestDatabase();
  dbs.push(db);
  const init = keyward(['init', '--store', db.url, '--tenant', 'Acme', '--admin', 'alice'], {});
  expect(init.code, init.stderr).toBe(0);

  const s = new Session([keywardBin, '--store', db.url, '--as', 'alice'], {}, { cols: 140, rows: 30 });
  // The header names the database, without the URL's password.
  const first = await s.waitFor('1 Keys');
  expect(first).toContain(`127.0.0.1:${new URL(db.url).port}/${db.name}`);
  await enableApiKeys(s);
  await becomeDeveloper(s, 'alice');

  // Generated in My keys: the token shown once, then the list shows the key without it.
  s.press('5');
  await s.waitFor('My keys');
  const token = await generate(s, 'deploy prod');
  const verify = () => keyward(['keys', 'verify', token], { KEYWARD_STORE: db.url, KEYWARD_USER: 'nobody' });
  expect(verify().code).toBe(0);
  s.press(ESC);
  await s.waitFor((screen) => screen.includes('1/1 key') && screen.includes('deploy prod') && !TOKEN.test(screen));

  // Revoked from Keys, the current row.
  s.press('1');
  await s.waitFor(/Keys\s+1\/1 key/);
  s.press('r');
  await s.waitFor('Revoke this key?');
  s.press('y');
  await s.waitFor('Revoked 1 key');
  await s.waitFor('✕ revoked');
  const refused = verify();
  expect(refused.code).toBe(1);
  expect(codeOf(refused)).toBe('UNAUTHENTICATED');

  // And the other way: a key another process makes on the database shows in the UI (told by the store's LISTEN, or at its 2 s poll).
  const elsewhere = keyward(['keys', 'create', '--description', 'made elsewhere'], { KEYWARD_STORE: db.url, KEYWARD_USER: 'alice' });
  expect(elsewhere.code, elsewhere.stderr).toBe(0);
  await s.waitFor((screen) => /Keys\s+1\/2 keys/.test(screen) && screen.includes('made elsewhere'));

  s.press('q');
  expect((await s.exit).exitCode).toBe(0);
  await s.expectRestored();
  expect(s.raw).not.toContain(db.password);
  expect(init.stdout + init.stderr + refused.stderr + elsewhere.stderr).not.toContain(db.password);
}, 60_000);
