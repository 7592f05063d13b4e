// Hovering a Keyward token shows its key: description, owner, status, expiry.

import * as vscode from 'vscode';
import { safeLines } from '@keyward/core';
import type { KeyLookups } from '../key-lookup.js';
import { hoverMarkdown } from '../token-findings.js';
import { tokenAt } from './token-diagnostics.js';

export class TokenHover implements vscode.HoverProvider {
  constructor(
    private readonly lookups: KeyLookups,
    private readonly now: () => number,
  ) {}

  async provideHover(doc: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const at = tokenAt(doc, position);
    if (!at) return undefined;
    const { finding } = at;
    const md = finding.keyId
      ? hoverMarkdown(finding, await this.lookups.lookup(finding.keyId), this.now())
      : hoverMarkdown(finding, { kind: 'unknown' }, this.now());
    // The key's description and addresses may come from a server: shown inert.
    const text = new vscode.MarkdownString(safeLines(md));
    text.isTrusted = false;
    return new vscode.Hover(text, at.range);
  }
}
