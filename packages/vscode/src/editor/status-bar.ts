// The status bar entry: how many of my keys expire within 7 days. Clicking it
// opens the Keys view (or signs in, when that is what is missing).

import { refusalText, safeText } from '@keyward/core';
import * as vscode from 'vscode';
import { expiringSummary, myKeysExpiringSoon } from '../expiring.js';
import { COMMANDS } from '../ids.js';
import type { Session } from '../session.js';

export class ExpiryStatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('keyward.expiring', vscode.StatusBarAlignment.Right, 100);
  private asked = 0;

  constructor(
    private readonly session: Session,
    private readonly now: () => number,
  ) {
    this.item.name = 'Keyward: keys expiring soon';
    this.item.command = COMMANDS.showKeys;
    this.item.text = '$(key) Keyward';
    this.item.show();
  }

  async update(): Promise<void> {
    const mine = ++this.asked;
    const state = this.session.state;
    let text = '$(key) Keyward';
    let tooltip: string;
    let warn = false;
    let command: string = COMMANDS.showKeys;
    if (state.status === 'ready') {
      try {
        const soon = await myKeysExpiringSoon(state.service, state.me.user.id, this.now());
        ({ text, tooltip, warn } = expiringSummary(soon, this.now()));
      } catch (e) {
        tooltip = `Keyward: ${refusalText(e)}`;
      }
    } else if (state.status === 'needs-sign-in') {
      tooltip = `Keyward: sign in to ${state.target.url}`;
      command = COMMANDS.signIn;
    } else {
      tooltip = state.status === 'connecting' ? 'Keyward: connecting…' : state.status === 'no-store' ? `Keyward: no store at ${state.target.path}` : `Keyward: ${state.message}`;
    }
    if (mine !== this.asked) return;
    this.item.text = text;
    this.item.tooltip = safeText(tooltip);
    this.item.command = command;
    this.item.backgroundColor = warn ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
