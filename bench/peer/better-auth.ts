// The peer Keyward is measured against: better-auth's API-key plugin, the most
// used TypeScript library for the job, set up the way its documentation does
// it — betterAuth() with the apiKey() plugin over SQLite (better-sqlite3),
// schema from its own migrations — and called server-side, without HTTP,
// through auth.api.createApiKey / auth.api.verifyApiKey.
//
// Configured in its favour: the per-key rate limit is off (by default it
// allows 10 uses per key per day), and SQLite runs in WAL mode with
// synchronous=NORMAL, the usual production setting (no fsync per commit).
// Its verify still writes the key's row (lastRequest, updatedAt) on every
// call: that is its design, and part of what is measured.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiKey, defaultKeyHasher } from '@better-auth/api-key';
import Database from 'better-sqlite3';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';

const LIFETIME_SECONDS = 300 * 86_400; // as the Keyward fixtures: keys that expire in 300 days

function makeAuth(db: Database.Database) {
  return betterAuth({
    database: db,
    secret: 'keyward-bench-secret-not-used-for-anything-real',
    baseURL: 'http://127.0.0.1',
    logger: { disabled: true },
    telemetry: { enabled: false },
    plugins: [apiKey({ rateLimit: { enabled: false } })],
  });
}

type Auth = ReturnType<typeof makeAuth>;

export interface CreatedPeerKey {
  id: string;
  key: string;
}

export class BetterAuthPeer {
  private constructor(
    readonly path: string,
    readonly db: Database.Database,
    private readonly auth: Auth,
    readonly userIds: string[],
  ) {}

  /** A fresh SQLite database with the peer's schema and `users` users. */
  static async open(users = 100): Promise<BetterAuthPeer> {
    const path = join(mkdtempSync(join(tmpdir(), 'keyward-bench-peer-')), 'better-auth.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const auth = makeAuth(db);
    const { runMigrations } = await getMigrations(auth.options);
    await runMigrations();
    const ctx = await auth.$context;
    const userIds: string[] = [];
    for (let i = 0; i < users; i++) {
      const u = await ctx.internalAdapter.createUser({ email: `dev${i}@bench.invalid`, name: `dev${i}`, emailVerified: true }, { method: 'admin' });
      userIds.push(u.id);
    }
    return new BetterAuthPeer(path, db, auth, userIds);
  }

  /** Creates a key through the peer's own server-side API. */
  async create(userId: string, name: string): Promise<CreatedPeerKey> {
    const k = await this.auth.api.createApiKey({ body: { userId, name, expiresIn: LIFETIME_SECONDS } });
    return { id: k.id, key: k.key };
  }

  /** Verifies a key through the peer's own server-side API. */
  async verify(key: string): Promise<boolean> {
    const r = await this.auth.api.verifyApiKey({ body: { key } });
    return r.valid;
  }

  /** SQLite's durability setting: NORMAL (the default here) or FULL (fsync per commit, as Keyward's store). */
  synchronous(mode: 'NORMAL' | 'FULL'): void {
    this.db.pragma(`synchronous = ${mode}`);
  }

  keyCount(): number {
    return (this.db.prepare('select count(*) as n from apikey').get() as { n: number }).n;
  }

  /**
   * Fills the table to `total` keys. Creating 100k keys through the API takes
   * minutes, so one key per user is created through it and the rest are
   * copies of those rows with a fresh id, key and hash, inserted in one
   * transaction. The keys have the peer's format (64 letters, as its
   * `generateRandomString(64, 'a-z', 'A-Z')` makes them) and its hash
   * (`defaultKeyHasher`: SHA-256, base64url without padding) — computed with
   * node:crypto because the peer's own hasher and generator, awaited 100k
   * times, take 10–20 s; every sampled key's hash is checked against
   * `defaultKeyHasher`. Returns the plain text of up to `sample` keys spread
   * over the table; the caller checks that they verify.
   */
  async seed(total: number, sample = 1000): Promise<string[]> {
    const keys: string[] = [];
    const every = Math.max(1, Math.floor(total / sample));
    const templates: Record<string, unknown>[] = [];
    for (const userId of this.userIds) {
      if (this.keyCount() >= total) break;
      const k = await this.create(userId, 'template');
      templates.push(this.db.prepare('select * from apikey where id = ?').get(k.id) as Record<string, unknown>);
      if (keys.length < sample) keys.push(k.key);
    }
    const rows: Record<string, unknown>[] = [];
    const now = new Date().toISOString();
    for (let i = this.keyCount(); i < total; i++) {
      const key = randomLetters(64);
      const hashed = createHash('sha256').update(key).digest('base64url');
      if (i % every === 0 && keys.length < sample) {
        if (hashed !== (await defaultKeyHasher(key))) throw new Error("the seeded hash differs from the peer's defaultKeyHasher");
        keys.push(key);
      }
      rows.push({ ...templates[i % templates.length], id: randomLetters(32), name: `service key ${i}`, start: key.slice(0, 6), key: hashed, createdAt: now, updatedAt: now });
    }
    if (rows.length > 0) {
      const columns = Object.keys(rows[0]);
      const insert = this.db.prepare(`insert into apikey (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`);
      this.db.transaction(() => {
        for (const r of rows) insert.run(r);
      })();
    }
    return keys;
  }

  close(): void {
    this.db.close();
  }
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** `length` letters from a-z and A-Z, uniformly (bytes ≥ 208 are skipped: 208 = 4 × 52). */
function randomLetters(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length)) {
      if (b < 208 && out.length < length) out += LETTERS[b % 52];
    }
  }
  return out;
}
