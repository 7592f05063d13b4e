// Renders the whole terminal UI with ink-testing-library on a real engine
// (memory store), types keys and waits for what a person would see.

import { type Clock, type KeyService, KeywardError, type Store, createEngine, createMemoryStore, initStore, manualClock } from '@keyward/core';
import { render } from 'ink-testing-library';
import { App } from '../src/ui/app.js';
import { createClipboard } from '../src/ui/clipboard.js';
import { themeFor } from '../src/ui/theme.js';

const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;
export const plain = (s: string) => s.replace(ANSI, '');

export const KEY = {
  enter: '\r',
  esc: '\u001b',
  up: '\u001b[A',
  down: '\u001b[B',
  pageDown: '\u001b[6~',
  pageUp: '\u001b[5~',
  backspace: '\u007f',
  tab: '\t',
  ctrlC: '\u0003',
  ctrlU: '\u0015',
};

export async function tenant(opts: { clock?: Clock; store?: Store } = {}) {
  const store: Store = opts.store ?? createMemoryStore();
  await initStore(store, { admin: 'alice', clock: opts.clock });
  const engine = createEngine(store, { usageFlushMs: 0, clock: opts.clock });
  const alice = engine.as('alice');
  return { store, engine, alice };
}

/** Keys on, alice a developer too, bob a licensed developer. */
export async function readyTenant(opts: { clock?: Clock; store?: Store } = {}) {
  const t = await tenant(opts);
  await t.alice.updateSettings({ api_keys_enabled: true });
  await t.alice.updateUser('alice', { developer: true });
  await t.alice.addUser('bob', { licence: true });
  await t.alice.updateUser('bob', { developer: true });
  return { ...t, bob: t.engine.as('bob') };
}

/**
 * A ready tenant on a manual clock, with `keys` made in this order a second
 * apart, so that lists (newest first) show them the other way round; `made`
 * holds their ids by description.
 */
export async function readyTenantWithKeys(keys: readonly { who: 'alice' | 'bob'; description: string; expiry?: string }[]) {
  const clock = manualClock(Date.now());
  const t = await readyTenant({ clock });
  const made: Record<string, string> = {};
  for (const { who, description, expiry } of keys) {
    made[description] = (await t[who].generateKey({ description, expiry })).id;
    clock.advance(1000);
  }
  return { ...t, clock, made };
}

/**
 * From now on `store` commits each change, then loses its answer (as a
 * PostgreSQL connection cut once its COMMIT went out): the change is made,
 * and answered OUTCOME_UNKNOWN with `message`.
 */
export function losingTheAnswers(store: Store, message = 'The store stopped answering after the change was sent to it, so whether it was made is not known.'): void {
  const transact = store.transact.bind(store);
  store.transact = async (fn, how) => {
    await transact(fn, how);
    throw new KeywardError('OUTCOME_UNKNOWN', message);
  };
}

export interface OpenOptions {
  columns?: number;
  rows?: number;
  env?: NodeJS.ProcessEnv;
  refreshMs?: number;
}

export async function openApp(service: KeyService, opts: OpenOptions = {}) {
  const copied: string[] = [];
  const env = opts.env ?? {};
  const clipboard = createClipboard((s) => copied.push(s), env);
  const r = render(<App service={service} location="/tmp/keyward-test.json" refreshMs={opts.refreshMs ?? 600_000} clipboard={clipboard} theme={themeFor(env)} />);
  const resize = (columns: number, rows: number) => {
    Object.defineProperty(r.stdout, 'columns', { value: columns, configurable: true });
    Object.defineProperty(r.stdout, 'rows', { value: rows, configurable: true });
    r.stdout.emit('resize');
  };
  resize(opts.columns ?? 80, opts.rows ?? 24);

  const frame = () => plain(r.lastFrame() ?? '');
  const waitFor = async (what: string | RegExp | ((f: string) => boolean), ms = 5000): Promise<string> => {
    const ok = typeof what === 'function' ? what : (f: string) => (typeof what === 'string' ? f.includes(what) : what.test(f));
    const until = Date.now() + ms;
    for (;;) {
      const f = frame();
      if (ok(f)) return f;
      if (Date.now() > until) throw new Error(`Timed out waiting for ${String(what)}; the screen shows:\n${f}`);
      await new Promise((res) => setTimeout(res, 5));
    }
  };
  /** Types keys one at a time, each time waiting for the frame to change. */
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      const before = r.frames.length;
      r.stdin.write(k);
      // A key that changes nothing (a refused enter) gives up waiting soon.
      const until = Date.now() + 500;
      while (r.frames.length === before && Date.now() < until) await new Promise((res) => setTimeout(res, 2));
      await new Promise((res) => setImmediate(res));
    }
  };
  /** Types text into a field (one write, as a paste would arrive, is not what a person does). */
  const type = async (text: string) => press(...[...text]);
  await waitFor((f) => f.includes('Keyward') && !f.includes('opening'));
  return { ...r, frame, waitFor, press, type, resize, copied };
}

export const TOKEN = /kw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}/;
