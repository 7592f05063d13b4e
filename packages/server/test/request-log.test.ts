// The request log is read on a terminal (`keyward serve` writes it to stdout):
// a client's text in it — a query parameter's name — is escaped there like
// everything else a face prints, and each line still parses to what was asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('the request log', () => {
  it('holds no control, bidirectional or invisible character of a client raw', async () => {
    const names = ['\u001b]0;pwned\u0007', '\u009b2J', '\u202eevil', 'zero\u200bwidth'];
    const query = names.map((n) => `${encodeURIComponent(n)}=1`).join('&');
    await h.api('GET', `/api/v1/api-keys?${query}`, { token: h.tokens.alice });
    const line = h.logs.find((l) => l.includes('pwned'));
    expect(line).toBeDefined();
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b]/);
    expect((JSON.parse(line!) as { query: string }).query).toBe(names.join('&'));
  });
});
