// Quick fixes on Keyward's diagnostics: shut the key off (revoke it, or delete
// it for an owner who is not an admin), or replace the token with a newly
// generated key. Commands get the key id and the token's place, never the
// token itself.

import * as vscode from 'vscode';
import { keyViewAt, parseToken } from '@keyward/core';
import { shutOffActionFor } from '../flows/key-actions.js';
import { COMMANDS, DIAGNOSTIC_SOURCE } from '../ids.js';
import type { KeyLookups } from '../key-lookup.js';

/** Where a token sits, as a command argument. */
export interface TokenPlace {
  uri: string;
  line: number;
  character: number;
  endLine: number;
  endCharacter: number;
  /** The key id, when the token's checksum holds. */
  keyId?: string;
}

export function placeOf(doc: vscode.TextDocument, range: vscode.Range, keyId: string | undefined): TokenPlace {
  return { uri: doc.uri.toString(), line: range.start.line, character: range.start.character, endLine: range.end.line, endCharacter: range.end.character, ...(keyId ? { keyId } : {}) };
}

export class TokenQuickFixes implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly lookups: KeyLookups) {}

  async provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): Promise<vscode.CodeAction[]> {
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
      const parsed = parseToken(doc.getText(diagnostic.range));
      const keyId = parsed.ok ? parsed.keyId : undefined;
      const lookup = keyId ? await this.lookups.lookup(keyId) : undefined;
      const key = lookup?.kind === 'found' ? lookup.key : undefined;

      const shutOff = key ? shutOffActionFor(key, Date.now()) : undefined;
      if (key && shutOff) {
        const revoke = shutOff === 'revoke';
        const fix = new vscode.CodeAction(`${revoke ? 'Revoke' : 'Delete'} API key "${key.description}"`, vscode.CodeActionKind.QuickFix);
        fix.command = { command: revoke ? COMMANDS.revokeKey : COMMANDS.deleteKey, title: fix.title, arguments: [{ id: key.id }] };
        fix.diagnostics = [diagnostic];
        actions.push(fix);
      }
      const replace = new vscode.CodeAction('Replace with a new API key', vscode.CodeActionKind.QuickFix);
      replace.command = { command: COMMANDS.replaceToken, title: replace.title, arguments: [placeOf(doc, diagnostic.range, keyId)] };
      replace.diagnostics = [diagnostic];
      replace.isPreferred = !key || keyViewAt(key, Date.now()).status !== 'active';
      actions.push(replace);
    }
    return actions;
  }
}
