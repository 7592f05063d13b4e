// The Keys view: a tree over KeyTreeModel. Rows carry the context value the
// manifest's menus match on; when the session is not usable the view says why
// in its message, and the welcome content offers the next step.

import { refusalText, safeLines, safeText } from '@keyward/core';
import * as vscode from 'vscode';
import { COMMANDS, KEYS_VIEW } from '../ids.js';
import { presentKey } from '../key-presentation.js';
import { KeyTreeModel, type KeyTreeNode } from '../key-tree.js';
import type { Session, SessionState } from '../session.js';

function stateMessage(state: SessionState): string | undefined {
  switch (state.status) {
    case 'connecting':
      return 'Connecting…';
    case 'needs-sign-in':
      return state.message ? `${state.target.url} did not accept your token: ${state.message}` : `Not signed in to ${state.target.url}.`;
    case 'no-store':
      return `There is no Keyward store at ${state.target.path}.`;
    case 'failed':
      return state.message;
    case 'ready':
      return undefined;
  }
}

export class KeysView implements vscode.TreeDataProvider<KeyTreeNode> {
  private readonly changed = new vscode.EventEmitter<KeyTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly model: KeyTreeModel;
  readonly view: vscode.TreeView<KeyTreeNode>;

  constructor(
    private readonly session: Session,
    private readonly now: () => number,
  ) {
    this.model = new KeyTreeModel(() => {
      const r = session.ready;
      return r && { service: r.service, me: r.me };
    });
    this.view = vscode.window.createTreeView(KEYS_VIEW, { treeDataProvider: this, showCollapseAll: true });
  }

  refresh(): void {
    this.model.reset();
    this.changed.fire(undefined);
  }

  async loadMore(node: KeyTreeNode | undefined): Promise<void> {
    if (!node || node.kind !== 'more') return;
    try {
      await this.model.loadMore(node.section);
    } catch (e) {
      void vscode.window.showErrorMessage(refusalText(e));
    }
    this.changed.fire(undefined);
  }

  async getChildren(node?: KeyTreeNode): Promise<KeyTreeNode[]> {
    const state = this.session.state;
    const message = stateMessage(state);
    this.view.message = message && safeText(message);
    if (state.status !== 'ready') return [];
    try {
      if (!node) return await this.model.roots();
      return node.kind === 'section' ? await this.model.children(node.section) : [];
    } catch (e) {
      this.view.message = refusalText(e);
      return [];
    }
  }

  getTreeItem(node: KeyTreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'section': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `section:${node.section}`;
        item.description = String(node.total);
        item.contextValue = 'section';
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Load more… (${node.shown} of ${node.total})`, vscode.TreeItemCollapsibleState.None);
        item.id = `more:${node.section}:${node.shown}`;
        item.command = { command: COMMANDS.loadMoreKeys, title: 'Load More Keys', arguments: [node] };
        item.contextValue = 'more';
        return item;
      }
      case 'key': {
        const p = presentKey(node.key, this.now(), { showOwner: node.section === 'all' });
        // The key's text may come from a server: shown inert.
        const item = new vscode.TreeItem(safeText(p.label), vscode.TreeItemCollapsibleState.None);
        item.id = `${node.section}:${node.key.id}`;
        item.description = safeText(p.description);
        item.tooltip = safeLines(p.tooltip); // one field per line
        item.iconPath = new vscode.ThemeIcon(p.icon.id, new vscode.ThemeColor(p.icon.color));
        item.contextValue = p.contextValue;
        return item;
      }
    }
  }

  dispose(): void {
    this.view.dispose();
    this.changed.dispose();
  }
}
