// A real server on 127.0.0.1, port 0, over a fresh store in its own temp
// directory, and a real fetch client. The store is bootstrapped the way a
// person does it: `keyward init` makes alice the admin, then the local engine
// enables keys and gives alice (and the developers bob and carol) their
// first tokens; from then on everything goes over HTTP.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, initStore, openStore } from '@keyward/core';
import { type RunningServer, type ServerOptions, startServer } from '../src/index.js';
import { everyFileText } from '../../core/test/helpers.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as it is (a string or bytes) instead of as JSON. */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface Harness {
  dir: string;
  storePath: string;
  /** The text of every file of the store (snapshot, journal, event segments, usage), to look for what must never be written. */
  storeText(): string;
  server: RunningServer;
  url: string;
  /** Every request log line the server wrote. */
  logs: string[];
  tokens: { alice: string; bob: string; carol: string };
  keyIds: { alice: string; bob: string; carol: string };
  api(method: string, path: string, opts?: RequestOptions): Promise<Answer>;
  close(): Promise<void>;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'keyward-server-'));
}

/** A store (a JSON file's path or a postgres:// URL) with alice (admin and developer) and the developers bob and carol, each holding one token. */
export async function seedStore(storePath: string, settings: { max_keys_per_user?: number } = {}) {
  const made = await openStore(storePath);
  await initStore(made, { admin: 'alice' });
  await made.close();
  const engine = createEngine(await openStore(storePath), { usageFlushMs: 0 });
  const alice = engine.as('alice');
  await alice.updateSettings({ api_keys_enabled: true, max_keys_per_user: settings.max_keys_per_user ?? 100 });
  await alice.updateUser('alice', { developer: true });
  const a = await alice.generateKey({ description: 'alice bootstrap' });
  const tokens = { alice: a.token, bob: '', carol: '' };
  const keyIds = { alice: a.id, bob: '', carol: '' };
  for (const name of ['bob', 'carol'] as const) {
    await alice.addUser(name, { licence: true });
    await alice.updateUser(name, { developer: true });
    const k = await engine.as(name).generateKey({ description: `${name} first key` });
    tokens[name] = k.token;
    keyIds[name] = k.id;
  }
  await engine.close();
  return { tokens, keyIds };
}

export function client(url: string) {
  return async function api(method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    let body: string | Uint8Array | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
}

export async function startHarness(opts: Partial<ServerOptions> & { maxKeys?: number } = {}): Promise<Harness> {
  const dir = tempDir();
  const storePath = join(dir, 'keyward.json');
  const { tokens, keyIds } = await seedStore(storePath, { max_keys_per_user: opts.maxKeys });
  const logs: string[] = [];
  const server = await startServer({ usageFlushMs: 50, ...opts, storePath, host: '127.0.0.1', port: 0, log: (line) => logs.push(line) });
  return {
    dir,
    storePath,
    storeText: () =>
      everyFileText(dir)
        .map((f) => f.text)
        .join('\n'),
    server,
    url: server.url,
    logs,
    tokens,
    keyIds,
    api: client(server.url),
    close: () => server.close(),
  };
}

/** The `{errors:[…]}` shape, checked in full; returns the code. */
export function errorCode(a: Answer): string {
  const e = a.body?.errors?.[0];
  if (!e || a.body.errors.length !== 1 || typeof e.title !== 'string' || typeof e.detail !== 'string' || e.status !== a.status) {
    throw new Error(`not an error answer in the API's shape: ${a.status} ${a.text}`);
  }
  return e.code;
}

/** One refusal() helper for every package's tests. */
export { refusal } from '../../core/test/helpers.js';
