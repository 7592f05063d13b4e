// Keyward tokens in open documents: found by prefix and checksum, looked up by
// key id, and marked with a diagnostic when they are dead (revoked, expired,
// unknown, mistyped) or alive in a file git tracks (a secret in source).

import { keyViewAt, safeText } from '@keyward/core';
import * as vscode from 'vscode';
import { DIAGNOSTIC_SOURCE } from '../ids.js';
import { isTrackedByGit } from '../git.js';
import type { KeyLookups } from '../key-lookup.js';
import { type TokenFinding, findTokens, judgeToken } from '../token-findings.js';

/** Documents worth scanning: files and unsaved buffers, not diff views or output panes. */
function scannable(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled';
}

const SEVERITY = { warning: vscode.DiagnosticSeverity.Warning, information: vscode.DiagnosticSeverity.Information } as const;

export class TokenDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('keyward');
  private readonly tracked = new Map<string, Promise<boolean>>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly lookups: KeyLookups,
    private readonly now: () => number,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidOpenTextDocument((d) => void this.scan(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.scanSoon(e.document)),
      vscode.workspace.onDidSaveTextDocument((d) => {
        this.tracked.delete(d.uri.fsPath);
        void this.scan(d);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        clearTimeout(this.pending.get(d.uri.toString()));
        this.collection.delete(d.uri);
      }),
    );
  }

  /** Forgets what git and the store said, and scans every open document again. */
  rescanAll(): Promise<void> {
    this.tracked.clear();
    return Promise.all(vscode.workspace.textDocuments.map((d) => this.scan(d))).then(() => undefined);
  }

  private scanSoon(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(key, setTimeout(() => void this.scan(doc), 300));
  }

  async scan(doc: vscode.TextDocument): Promise<void> {
    if (!scannable(doc)) return;
    const version = doc.version;
    const findings = findTokens(doc.getText());
    if (findings.length === 0) {
      this.collection.delete(doc.uri);
      return;
    }
    const lookups = await Promise.all(findings.map((f) => (f.keyId ? this.lookups.lookup(f.keyId) : Promise.resolve(undefined))));
    const anyActive = lookups.some((l) => l?.kind === 'found' && keyViewAt(l.key, this.now()).status === 'active');
    const tracked = anyActive && doc.uri.scheme === 'file' ? await this.isTracked(doc.uri.fsPath) : false;
    // A newer edit started its own scan; this one's offsets are stale.
    if (doc.isClosed || doc.version !== version) return;
    const now = this.now();
    const diagnostics: vscode.Diagnostic[] = [];
    findings.forEach((f, i) => {
      const verdict = judgeToken(f, lookups[i], tracked, now);
      if (!verdict) return;
      const d = new vscode.Diagnostic(rangeOf(doc, f), safeText(verdict.message), SEVERITY[verdict.severity]);
      d.source = DIAGNOSTIC_SOURCE;
      d.code = verdict.code;
      diagnostics.push(d);
    });
    this.collection.set(doc.uri, diagnostics);
  }

  private isTracked(path: string): Promise<boolean> {
    let hit = this.tracked.get(path);
    if (!hit) {
      hit = isTrackedByGit(path);
      this.tracked.set(path, hit);
    }
    return hit;
  }

  dispose(): void {
    for (const t of this.pending.values()) clearTimeout(t);
    for (const s of this.subscriptions) s.dispose();
    this.collection.dispose();
  }
}

export function rangeOf(doc: vscode.TextDocument, f: TokenFinding): vscode.Range {
  return new vscode.Range(doc.positionAt(f.start), doc.positionAt(f.end));
}

/** The token under a position, if any (found on that line only: tokens never span lines). */
export function tokenAt(doc: vscode.TextDocument, position: vscode.Position): { finding: TokenFinding; range: vscode.Range } | undefined {
  const line = doc.lineAt(position.line);
  const offset = doc.offsetAt(line.range.start);
  for (const f of findTokens(line.text)) {
    if (position.character >= f.start && position.character <= f.end) {
      const at = { ...f, start: f.start + offset, end: f.end + offset };
      return { finding: at, range: rangeOf(doc, at) };
    }
  }
  return undefined;
}
