// The same seed flow as cli-flow.test.ts, with every command sent to a real
// `keyward serve` on a loopback port: one contract, two places it runs.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyward, tempDir } from './support/keyward.js';
import { startServe } from './support/serve.js';
import { bootstrap, seedFlow } from './support/flow.js';

describe('keyward against a server', () => {
  it('runs the seed flow end to end over HTTP, and the server shuts down cleanly', async () => {
    const store = join(tempDir(), 'keyward.json');
    const tokens: Record<string, string> = bootstrap(store);
    const server = await startServe(store);
    await seedFlow({
      as: (user, args) => keyward(args, { KEYWARD_SERVER: server.url, KEYWARD_TOKEN: tokens[user] }),
      verify: (token) => keyward(['keys', 'verify', token], { KEYWARD_SERVER: server.url, KEYWARD_TOKEN: tokens.alice }),
      remote: true,
    });
    // One structured log line per request, never a token.
    const log = server.stdout();
    expect(log.split('\n').filter(Boolean).length).toBeGreaterThan(20);
    expect(log).not.toMatch(/kw_[0-9a-f]{24}_[a-z2-7]{32}/);
    const exited = new Promise<number | null>((r) => server.child.on('exit', r));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Some 60 `keyward` processes one after another: 87 s at load 10-20 on 2 cores, against e2e's 120 s.
  }, 300_000);

  it('says clearly when the server cannot be reached', () => {
    const r = keyward(['keys', 'ls'], { KEYWARD_SERVER: 'http://127.0.0.1:9', KEYWARD_TOKEN: 'kw_x' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*\((UNAVAILABLE|UNAUTHENTICATED)\)\n$/);
  });
});
