// The terminal UI in a real pseudo-terminal: the built `keyward` under node-pty,
// its output fed to a terminal emulator (xterm headless) so tests read the
// screen a person would see, and the raw bytes kept so they can check what
// was written (OSC 52, the alternate screen).
import { Terminal } from '@xterm/headless';
import * as pty from 'node-pty';
import { expect } from 'vitest';
import { cleanEnv, repoRoot } from './keyward.js';

export const TOKEN = /kw_[0-9a-f]{24}_[a-z2-7]{32}[0-9a-f]{8}/;
export const ENTER = '\r';
export const ESC = '\u001b';
export const ALT_ON = '\u001b[?1049h';
export const ALT_OFF = '\u001b[?1049l';

export class Session {
  readonly term: Terminal;
  readonly proc: pty.IPty;
  raw = '';
  titles: string[] = [];
  exit: Promise<{ exitCode: number; signal?: number }>;

  /** Runs `file` (node unless another program, such as `ssh`, is the point) with `args` in the pty. */
  constructor(args: string[], env: Record<string, string> = {}, size = { cols: 80, rows: 24 }, file = process.execPath) {
    this.term = new Terminal({ ...size, allowProposedApi: true });
    this.term.onTitleChange((t) => this.titles.push(t));
    const e = cleanEnv({ TERM: 'xterm-256color', TZ: 'UTC', ...env });
    // The UI must colour (unless NO_COLOR is the point), and CI or a multiplexer would change what it writes.
    if (!('NO_COLOR' in env)) delete e.NO_COLOR;
    for (const k of Object.keys(e)) if (k === 'CI' || k.startsWith('CI_') || k === 'TMUX' || k === 'STY') delete e[k];
    this.proc = pty.spawn(file, args, { ...size, cwd: repoRoot, env: e as Record<string, string> });
    this.proc.onData((d) => {
      this.raw += d;
      this.term.write(d);
    });
    this.exit = new Promise((resolve) => this.proc.onExit(resolve));
    sessions.push(this);
  }

  screen(): string {
    const b = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < this.term.rows; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  }

  get alternate(): boolean {
    return this.term.buffer.active.type === 'alternate';
  }

  async waitFor(what: string | RegExp | ((screen: string) => boolean), ms = 15_000): Promise<string> {
    const ok = typeof what === 'function' ? what : (s: string) => (typeof what === 'string' ? s.includes(what) : what.test(s));
    const until = Date.now() + ms;
    for (;;) {
      // Let the emulator parse what has arrived.
      await new Promise<void>((r) => this.term.write('', r));
      const s = this.screen();
      if (ok(s)) return s;
      if (Date.now() > until) throw new Error(`Timed out waiting for ${String(what)}; the screen shows:\n${s}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async rawIncludes(text: string, ms = 10_000): Promise<void> {
    const until = Date.now() + ms;
    while (!this.raw.includes(text)) {
      if (Date.now() > until) throw new Error(`Timed out waiting for ${JSON.stringify(text)} in the output`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Types like a person: one key at a time. */
  async type(text: string): Promise<void> {
    for (const ch of text) {
      this.proc.write(ch);
      await new Promise((r) => setTimeout(r, 15));
    }
  }

  press(...keys: string[]): void {
    for (const k of keys) this.proc.write(k);
  }

  /** The terminal is back as it was: main screen, cursor shown, after the last frame. */
  async expectRestored(): Promise<void> {
    await new Promise<void>((r) => this.term.write('', r));
    expect(this.alternate).toBe(false);
    expect(this.raw.lastIndexOf(ALT_OFF)).toBeGreaterThan(this.raw.lastIndexOf(ALT_ON));
    expect(this.raw.lastIndexOf('\u001b[?25h')).toBeGreaterThan(this.raw.lastIndexOf('\u001b[?25l'));
  }
}


const sessions: Session[] = [];

/** Kills every session still running (afterEach). */
export function killSessions(): void {
  for (const s of sessions.splice(0)) {
    try {
      s.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** In the open "New key" dialog: types the description, takes the tenant maximum, and returns the token shown once. */
export async function describeKey(s: Session, description: string): Promise<string> {
  await s.waitFor('New key — 1 of 2');
  await s.type(description);
  s.press(ENTER);
  await s.waitFor('the tenant maximum');
  s.press(ENTER);
  const screen = await s.waitFor(TOKEN);
  return TOKEN.exec(screen)![0];
}

/** `n` on My keys, then the dialog as describeKey fills it. */
export function generate(s: Session, description: string): Promise<string> {
  s.press('n');
  return describeKey(s, description);
}

/** As a tenant admin: API keys turned on from Settings (3), which shows them off. */
export async function enableApiKeys(s: Session): Promise<void> {
  s.press('3');
  await s.waitFor(/API keys\s+off/);
  s.press(ENTER);
  await s.waitFor('API keys is now on.');
}

/** As a tenant admin, `you`: the Developer role given to oneself from Users (4). */
export async function becomeDeveloper(s: Session, you: string): Promise<void> {
  s.press('4');
  await s.waitFor(`${you} (you)`);
  s.press('d');
  await s.waitFor(`${you}: Developer role given.`);
}
