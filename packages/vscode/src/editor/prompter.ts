// The Prompter port with VS Code's input boxes, quick picks and notifications.
// Every text shown passes core's safeText: a key's description or a refusal
// may come from a server, and no control, bidirectional or invisible
// character in it is shown as it is.

import * as vscode from 'vscode';
import { type KeyView, refusalText, safeLines, safeText } from '@keyward/core';
import type { InputOptions, KeyPickOptions, PickItem, Prompter } from '../prompter.js';

type KeyItem = vscode.QuickPickItem & { key?: KeyView };

function keyItem(key: KeyView): KeyItem {
  return { label: safeText(key.description), description: safeText(key.id), detail: safeText(`${key.status} · owner ${key.sub} · expires ${key.expiry.slice(0, 10)}`), key, alwaysShow: true };
}

export class EditorPrompter implements Prompter {
  async input(o: InputOptions): Promise<string | undefined> {
    return vscode.window.showInputBox({
      title: safeText(o.title),
      prompt: o.prompt,
      value: o.value,
      placeHolder: o.placeHolder,
      password: o.password,
      ignoreFocusOut: true,
      validateInput: (text) => {
        const problem = o.validate?.(text);
        if (problem) return problem;
        const caution = o.caution?.(text);
        return caution ? { message: caution, severity: vscode.InputBoxValidationSeverity.Warning } : undefined;
      },
    });
  }

  async pick<T>(o: { title: string; placeHolder: string; items: PickItem<T>[] }): Promise<T | undefined> {
    const chosen = await vscode.window.showQuickPick(
      o.items.map((i) => ({ label: safeText(i.label), description: i.description && safeText(i.description), detail: i.detail && safeText(i.detail), value: i.value })),
      { title: safeText(o.title), placeHolder: o.placeHolder, ignoreFocusOut: true },
    );
    return chosen?.value;
  }

  /** A quick pick whose rows come from core's search as the person types. */
  pickKey(o: KeyPickOptions): Promise<KeyView | undefined> {
    return new Promise((resolve) => {
      const qp = vscode.window.createQuickPick<KeyItem>();
      qp.title = o.title;
      qp.placeholder = o.placeHolder;
      // Core matches the text on description, id and owner; rows are `alwaysShow`
      // so the quick pick does not hide them again for not matching the label.
      qp.ignoreFocusOut = true;
      let asked = 0;
      let timer: NodeJS.Timeout | undefined;
      const load = async (text: string) => {
        const mine = ++asked;
        qp.busy = true;
        try {
          const keys = await o.search(text);
          if (mine !== asked) return;
          qp.items = keys.length > 0 ? keys.map(keyItem) : [{ label: text ? `No key matches "${safeText(text)}"` : 'No keys', alwaysShow: true }];
        } catch (e) {
          if (mine === asked) qp.items = [{ label: `Cannot list keys: ${refusalText(e)}`, alwaysShow: true }];
        } finally {
          if (mine === asked) qp.busy = false;
        }
      };
      let done = false;
      const finish = (key: KeyView | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(key);
        qp.dispose();
      };
      qp.onDidChangeValue((text) => {
        clearTimeout(timer);
        timer = setTimeout(() => void load(text), 150);
      });
      qp.onDidAccept(() => {
        const key = qp.selectedItems[0]?.key;
        if (key) finish(key);
      });
      qp.onDidHide(() => finish(undefined));
      qp.show();
      void load('');
    });
  }

  async confirm(o: { message: string; detail: string; action: string }): Promise<boolean> {
    // The detail may be a list, one place per line (Rotate): its line breaks stay.
    const answer = await vscode.window.showWarningMessage(safeText(o.message), { modal: true, detail: safeLines(o.detail) }, o.action);
    return answer === o.action;
  }

  // A notification without buttons is not waited for: its promise settles only when it is dismissed.
  async info(message: string, ...actions: string[]): Promise<string | undefined> {
    const shown = vscode.window.showInformationMessage(safeText(message), ...actions);
    return actions.length > 0 ? shown : undefined;
  }

  async warn(message: string, ...actions: string[]): Promise<string | undefined> {
    const shown = vscode.window.showWarningMessage(safeText(message), ...actions);
    return actions.length > 0 ? shown : undefined;
  }

  async error(message: string): Promise<void> {
    void vscode.window.showErrorMessage(safeText(message));
  }

  async copy(text: string): Promise<void> {
    await vscode.env.clipboard.writeText(text);
  }
}
