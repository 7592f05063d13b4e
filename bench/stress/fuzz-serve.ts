// The HTTP fuzz against a real `keyward serve` on a fresh store: an admin, a
// developer with a few keys the fuzz may rename, revoke and delete, and a
// throwaway user for `delete-mine`. Afterwards the server must still be up
// and answering, have logged no 5xx and no token, and stop cleanly.
import { fuzzHttp, type FuzzFigures } from './fuzz-http.js';
import { call } from './http-client.js';
import { Tally, seeded } from './ledger.js';
import { startServe } from './serve.js';
import { keyFor, stressStore } from './setup.js';

export async function runFuzzAgainstServe(opts: { seconds: number; seed: number }): Promise<{ figures: FuzzFigures; tally: Tally }> {
  const path = await stressStore({ users: ['bob', 'fz'], limit: 1000, prefix: 'stress-fuzz' });
  const admin = (await keyFor(path, 'admin', 'fuzz admin')).token;
  const developer = (await keyFor(path, 'bob', 'fuzz bob')).token;
  const throwaway = (await keyFor(path, 'fz', 'fuzz throwaway')).token;
  const victims: string[] = [];
  for (let i = 0; i < 4; i++) victims.push((await keyFor(path, 'bob', `victim ${i}`)).id);
  const server = await startServe(path);
  const tally = new Tally();
  let figures: FuzzFigures = { seconds: opts.seconds, requests: 0, statuses: {}, unanswered: 0, invariantsChecked: 0, failures: 0 };
  try {
    const me = await call(server.url, 'GET', '/api/v1/users/me', admin);
    const port = Number(new URL(server.url).port);
    const run = await fuzzHttp({ port, tokens: { admin, developer, throwaway }, victims, tenantId: me.body.tenantId }, { seconds: opts.seconds, rand: seeded(opts.seed + 13) });
    tally.add(run.tally);
    figures = run.figures;
    // Still up, still answering in the API's shape.
    tally.check(server.child.exitCode === null, () => `keyward serve exited during the fuzz: ${server.stderr().slice(-500)}`);
    const after = await call(server.url, 'GET', '/api/v1/users/me', admin);
    tally.check(after.status === 200 && after.body.id === 'admin', () => `after the fuzz, the admin's request got ${after.status}`);
    // The fuzz's bad tokens have this address slowed down by now: 401 or 429, in the API's shape.
    const anonymous = await call(server.url, 'GET', '/api/v1/users/me', undefined);
    tally.check([401, 429].includes(anonymous.status) && typeof anonymous.body?.errors?.[0]?.code === 'string', () => `after the fuzz, an anonymous request got ${anonymous.status}`);
    tally.check(server.log.serverErrors === 0, () => `the server logged ${server.log.serverErrors} 5xx answers`);
    tally.check(!server.log.tokenText, () => "token text found in the server's request log");
  } catch (e) {
    tally.fail(`the fuzz run broke off: ${(e as Error).message}`);
  }
  const code = await server.stop();
  tally.check(code === 0, () => `keyward serve exited with ${code} on SIGTERM`);
  return { tally, figures: { ...figures, invariantsChecked: tally.checked, failures: tally.failures } };
}
