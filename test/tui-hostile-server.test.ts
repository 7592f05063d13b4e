// The terminal UI against a hostile server, in a real pty: a real HTTP server
// on loopback (support/hostile-server.ts) answers with escape sequences, a
// bidi override and an invisible character in a refusal's detail, the
// tenant's and user's names, the reason generating is refused and every field
// of a key. The built `keyward --server` shows them escaped; none of the
// hostile sequences reaches the terminal, and the title is never theirs.
import { afterEach, describe, expect, it } from 'vitest';
import { type HostileServer, hostileToken, startHostileServer } from './support/hostile-server.js';
import { keywardBin } from './support/keyward.js';
import { Session, killSessions } from './support/pty-session.js';

let server: HostileServer | undefined;
afterEach(async () => {
  killSessions();
  await server?.close();
  server = undefined;
});

// The UI writes escape sequences of its own (colours, the alternate screen); these are the server's.
const HOSTILE_BYTES = ['\u001b]0;pwned', '\u001b[31mred', '\u009b', '\u009c', '\u009d', '\u202e', '\u200b'];

async function ui(signIn: boolean): Promise<Session> {
  server = await startHostileServer({ signIn });
  return new Session([keywardBin, '--server', server.url], { KEYWARD_TOKEN: hostileToken });
}

async function expectNothingHostile(s: Session): Promise<void> {
  s.press('q');
  await s.exit;
  for (const bytes of HOSTILE_BYTES) expect(s.raw.includes(bytes), `${JSON.stringify(bytes)} reached the terminal`).toBe(false);
  expect(s.titles).not.toContain('pwned');
}

describe('the terminal UI against a hostile server', () => {
  it("shows a refusal's detail escaped", async () => {
    const s = await ui(false);
    await s.waitFor('␛]0;pwned^G␛[31mred␛[0m\\u009b2J');
    await expectNothingHostile(s);
  });

  it("shows the names, a key's fields and why generating is refused escaped", async () => {
    const s = await ui(true);
    await s.waitFor('1 Keys');
    await s.waitFor('␛]0;pwned^G');
    s.press('5');
    await s.waitFor(/You cannot generate keys now: \s*␛\]0;pwned\^G/);
    await expectNothingHostile(s);
  });
});
