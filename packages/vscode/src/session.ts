// The extension's one connection to Keyward: which service it talks to, who
// the user is there, and what is wrong when it cannot talk to it. Every view
// reads the session and redraws when it changes.

import { access } from 'node:fs/promises';
import { type KeyService, type WhoAmI, isPostgresUrl, refusalCode, refusalText } from '@keyward/core';
import { type ConnectionSettings, type ConnectionTarget, describeTarget, targetOf, tokenSecretKey } from './connection.js';
import { Signal } from './signal.js';

export type SessionState =
  | { status: 'connecting' }
  | { status: 'ready'; target: ConnectionTarget; service: KeyService; me: WhoAmI }
  /** No token for this server yet, or the server turned the token down (`message`). */
  | { status: 'needs-sign-in'; target: Extract<ConnectionTarget, { kind: 'server' }>; message?: string }
  | { status: 'no-store'; target: Extract<ConnectionTarget, { kind: 'local' }> }
  | { status: 'failed'; target?: ConnectionTarget; message: string };

export interface SessionPorts {
  settings(): ConnectionSettings;
  workspaceDir(): string | undefined;
  readSecret(key: string): Promise<string | undefined>;
  openLocal(path: string, actor: string): KeyService | Promise<KeyService>;
  openServer(url: string, token: string): KeyService | Promise<KeyService>;
}

export class Session {
  private current: SessionState = { status: 'connecting' };
  private service?: KeyService;
  // A newer connect() wins over one still waiting for its answer.
  private attempt = 0;
  readonly changed = new Signal<SessionState>();

  constructor(private readonly ports: SessionPorts) {}

  get state(): SessionState {
    return this.current;
  }

  /**
   * The service when the session is ready. Not once that service is closed
   * (a connect() under way closes it before its answer comes, close() for
   * good): a view, a hover or a refresh asking it then would ask a closed
   * store, which refuses (UNAVAILABLE).
   */
  get ready(): Extract<SessionState, { status: 'ready' }> | undefined {
    return this.current.status === 'ready' && this.current.service === this.service ? this.current : undefined;
  }

  /** (Re)connects from the settings and secrets as they are now. */
  async connect(): Promise<SessionState> {
    const attempt = ++this.attempt;
    await this.closeService();
    const next = await this.open();
    if (attempt !== this.attempt) {
      if (next.status === 'ready') await next.service.close().catch(() => undefined);
      return this.current;
    }
    if (next.status === 'ready') this.service = next.service;
    return this.set(next);
  }

  /** Asks again who the user is (roles and settings change); reconnects when not ready. */
  async refresh(): Promise<SessionState> {
    const ready = this.ready;
    // Its service closed: the connect() under way answers (or the session was closed).
    if (!ready && this.current.status === 'ready') return this.current;
    if (!ready) return this.connect();
    const attempt = this.attempt;
    let next: SessionState;
    try {
      next = { ...ready, me: await ready.service.whoami() };
    } catch (e) {
      next = { status: 'failed', target: ready.target, message: refusalText(e) };
    }
    if (attempt !== this.attempt) return this.current;
    return this.set(next);
  }

  async close(): Promise<void> {
    this.attempt++;
    await this.closeService();
  }

  private set(state: SessionState): SessionState {
    this.current = state;
    this.changed.fire(state);
    return state;
  }

  private async closeService(): Promise<void> {
    const s = this.service;
    this.service = undefined;
    if (s) await s.close().catch(() => undefined);
  }

  private async open(): Promise<SessionState> {
    let target: ConnectionTarget;
    try {
      target = targetOf(this.ports.settings(), this.ports.workspaceDir());
    } catch (e) {
      return { status: 'failed', message: refusalText(e) };
    }
    let service: KeyService;
    if (target.kind === 'server') {
      const token = await this.ports.readSecret(tokenSecretKey(target.url));
      if (!token) return { status: 'needs-sign-in', target };
      service = await this.ports.openServer(target.url, token);
    } else {
      // A database is there or not only once asked: whoami below says which. A file is
      // looked for without blocking the extension host, which runs every extension.
      if (!isPostgresUrl(target.path) && !(await access(target.path).then(() => true, () => false))) return { status: 'no-store', target };
      try {
        service = await this.ports.openLocal(target.path, target.actor);
      } catch (e) {
        return { status: 'failed', target, message: `${describeTarget(target)}: ${refusalText(e)}` };
      }
    }
    try {
      return { status: 'ready', target, service, me: await service.whoami() };
    } catch (e) {
      await service.close().catch(() => undefined);
      if (target.kind === 'server' && refusalCode(e) === 'UNAUTHENTICATED') return { status: 'needs-sign-in', target, message: refusalText(e) };
      return { status: 'failed', target, message: `${describeTarget(target)}: ${refusalText(e)}` };
    }
  }
}
