// A mock of the `vscode` module: the part of the API the extension uses, with
// state a test can read (what was registered, shown, set) and script (what the
// person answers). Aliased to `vscode` by vitest.config.ts; only the thin
// editor layer's tests rely on it.

import { lstat, readFile, writeFile } from 'node:fs/promises';

type Listener<T> = (e: T) => unknown;

export class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  readonly event = (l: Listener<T>): Disposable => {
    this.listeners.add(l);
    return new Disposable(() => this.listeners.delete(l));
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    this.start = typeof a === 'number' ? new Position(a, b as number) : a;
    this.end = typeof a === 'number' ? new Position(c!, d!) : (b as Position);
  }
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

export class Selection extends Range {}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(path: string): Uri {
    return new Uri('file', path);
  }
  static parse(text: string): Uri {
    const m = /^(\w+):(?:\/\/)?(.*)$/.exec(text);
    return new Uri(m ? m[1] : 'file', m ? m[2] : text);
  }
  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class MarkdownString {
  isTrusted?: boolean;
  constructor(public value = '') {}
}

export class Hover {
  constructor(
    readonly contents: MarkdownString,
    readonly range?: Range,
  ) {}
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: string;
  iconPath?: ThemeIcon;
  contextValue?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    public label: string,
    public collapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export enum DiagnosticSeverity {
  Error = 0,
  Warning = 1,
  Information = 2,
  Hint = 3,
}

export class Diagnostic {
  source?: string;
  code?: string;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: DiagnosticSeverity,
  ) {}
}

export class CodeActionKind {
  static readonly QuickFix = new CodeActionKind('quickfix');
  constructor(readonly value: string) {}
}

export class CodeAction {
  command?: { command: string; title: string; arguments?: unknown[] };
  diagnostics?: Diagnostic[];
  isPreferred?: boolean;
  constructor(
    readonly title: string,
    readonly kind?: CodeActionKind,
  ) {}
}

export enum FileType {
  Unknown = 0,
  File = 1,
  Directory = 2,
  SymbolicLink = 64,
}

export class WorkspaceEdit {
  readonly edits: { uri: Uri; range: Range; text: string }[] = [];
  replace(uri: Uri, range: Range, text: string): void {
    this.edits.push({ uri, range, text });
  }
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum InputBoxValidationSeverity {
  Info = 1,
  Warning = 2,
  Error = 3,
}

export enum ConfigurationTarget {
  Global = 1,
  Workspace = 2,
  WorkspaceFolder = 3,
}

/** A text document over a string, with VS Code's offset/position arithmetic. */
export class MockDocument {
  version = 1;
  isClosed = false;
  constructor(
    readonly uri: Uri,
    private text: string,
  ) {}
  get isUntitled(): boolean {
    return this.uri.scheme === 'untitled';
  }
  getText(range?: Range): string {
    if (!range) return this.text;
    return this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end));
  }
  /** Unsaved changes: an edit or typing since it was opened, saved or reloaded. */
  isDirty = false;
  /** As typed or edited in the editor: unsaved until saved. */
  setText(text: string): void {
    this.text = text;
    this.version++;
    this.isDirty = true;
  }
  /** Saves the text to the file, as File: Save does. */
  async save(): Promise<boolean> {
    await writeFile(this.uri.fsPath, this.text);
    this.isDirty = false;
    mock.emitters.save.fire(this);
    return true;
  }
  /** The file changed on disk: VS Code reloads a document without unsaved changes. */
  reload(text: string): void {
    if (this.isDirty || text === this.text) return;
    this.text = text;
    this.version++;
    mock.emitters.change.fire({ document: this });
  }
  private lines(): string[] {
    return this.text.split('\n');
  }
  positionAt(offset: number): Position {
    const before = this.text.slice(0, offset).split('\n');
    return new Position(before.length - 1, before[before.length - 1].length);
  }
  offsetAt(p: Position): number {
    const lines = this.lines();
    let o = 0;
    for (let i = 0; i < p.line; i++) o += lines[i].length + 1;
    return o + p.character;
  }
  lineAt(line: number): { text: string; range: Range } {
    const text = this.lines()[line];
    return { text, range: new Range(line, 0, line, text.length) };
  }
  /** Applies one replacement, as an edit from the editor would. */
  replace(range: Range, text: string): void {
    this.setText(this.text.slice(0, this.offsetAt(range.start)) + text + this.text.slice(this.offsetAt(range.end)));
  }
}

export class MockEditor {
  constructor(
    readonly document: MockDocument,
    public selections: Selection[],
  ) {}
  async edit(fn: (b: { replace(r: Range, text: string): void }) => void): Promise<boolean> {
    const edits: { r: Range; text: string }[] = [];
    fn({ replace: (r, text) => edits.push({ r, text }) });
    // Last first, so earlier offsets stay valid.
    edits.sort((a, b) => this.document.offsetAt(b.r.start) - this.document.offsetAt(a.r.start));
    for (const e of edits) this.document.replace(e.r, e.text);
    return true;
  }
}

export interface MockQuickPick {
  title?: string;
  placeholder?: string;
  items: { label: string; key?: unknown }[];
  selectedItems: { label: string; key?: unknown }[];
  busy: boolean;
  ignoreFocusOut: boolean;
  value: string;
  onDidChangeValue: (l: Listener<string>) => Disposable;
  onDidAccept: (l: Listener<void>) => Disposable;
  onDidHide: (l: Listener<void>) => Disposable;
  show(): void;
  hide(): void;
  dispose(): void;
  /** Test helpers: type text, accept the row whose label matches. */
  type(text: string): void;
  accept(label: RegExp): void;
}

/** A scripted answer to the next question: a function of what was asked. */
export type Answer = (asked: { kind: string; title?: string; prompt?: string; password?: boolean; items?: { label: string }[]; message?: string; actions?: string[]; options?: unknown; validate?: (t: string) => unknown }) => unknown;

function newState() {
  return {
    commands: new Map<string, (...args: unknown[]) => unknown>(),
    executed: [] as { command: string; args: unknown[] }[],
    context: new Map<string, unknown>(),
    treeViews: new Map<string, { provider: { getChildren(n?: unknown): Promise<unknown[]>; getTreeItem(n: unknown): TreeItem; onDidChangeTreeData?: unknown }; message?: string }>(),
    statusBarItems: [] as { id: string; text: string; tooltip?: string; command?: string; backgroundColor?: ThemeColor; visible: boolean }[],
    diagnostics: new Map<string, Map<string, Diagnostic[]>>(),
    hoverProviders: [] as { provideHover(doc: unknown, p: Position): Promise<Hover | undefined> }[],
    codeActionProviders: [] as { provideCodeActions(doc: unknown, r: Range, ctx: { diagnostics: Diagnostic[] }): Promise<CodeAction[]> }[],
    configuration: {} as Record<string, unknown>,
    configurationRead: new Set<string>(),
    configurationUpdates: [] as { key: string; value: unknown }[],
    messages: [] as { kind: 'info' | 'warning' | 'error'; message: string; modal: boolean }[],
    answers: [] as Answer[],
    clipboard: '',
    documents: [] as MockDocument[],
    activeTextEditor: undefined as MockEditor | undefined,
    workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
    quickPicks: [] as MockQuickPick[],
    emitters: {
      configuration: new EventEmitter<{ affectsConfiguration(s: string): boolean }>(),
      open: new EventEmitter<MockDocument>(),
      change: new EventEmitter<{ document: MockDocument }>(),
      save: new EventEmitter<MockDocument>(),
      close: new EventEmitter<MockDocument>(),
    },
  };
}

/** The mock's state; `resetMock()` between tests. */
export let mock = newState();

export function resetMock(): void {
  mock = newState();
}

/** Queues answers to the next questions, in order. */
export function answer(...answers: Answer[]): void {
  mock.answers.push(...answers);
}

function nextAnswer(asked: Parameters<Answer>[0]): unknown {
  const a = mock.answers.shift();
  if (!a) throw new Error(`Unexpected question (${asked.kind}): ${asked.title ?? asked.message ?? asked.prompt ?? ''}`);
  return a(asked);
}

export const commands = {
  registerCommand(id: string, fn: (...args: unknown[]) => unknown): Disposable {
    if (mock.commands.has(id)) throw new Error(`command ${id} registered twice`);
    mock.commands.set(id, fn);
    return new Disposable(() => mock.commands.delete(id));
  },
  async executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
    mock.executed.push({ command: id, args });
    if (id === 'setContext') {
      mock.context.set(args[0] as string, args[1]);
      return undefined;
    }
    return mock.commands.get(id)?.(...args);
  },
};

function show(kind: 'info' | 'warning' | 'error') {
  return async (message: string, ...rest: unknown[]): Promise<string | undefined> => {
    const options = rest[0] && typeof rest[0] === 'object' ? (rest.shift() as { modal?: boolean }) : undefined;
    const actions = rest as string[];
    mock.messages.push({ kind, message, modal: !!options?.modal });
    if (actions.length === 0 && !options?.modal) return undefined;
    return nextAnswer({ kind: `${kind}-message`, message, actions, options }) as string | undefined;
  };
}

export const window = {
  get activeTextEditor() {
    return mock.activeTextEditor;
  },
  get visibleTextEditors() {
    return mock.activeTextEditor ? [mock.activeTextEditor] : [];
  },
  showInformationMessage: show('info'),
  showWarningMessage: show('warning'),
  showErrorMessage: show('error'),
  async showInputBox(o: { title?: string; prompt?: string; value?: string; password?: boolean; validateInput?: (t: string) => unknown }): Promise<string | undefined> {
    const text = nextAnswer({ kind: 'input', title: o.title, prompt: o.prompt, password: o.password, validate: o.validateInput }) as string | undefined;
    // A real input box does not accept text its validation rejects.
    const problem = text === undefined ? undefined : o.validateInput?.(text);
    if (typeof problem === 'string') throw new Error(`input "${text}" rejected: ${problem}`);
    return text;
  },
  async showQuickPick<T extends { label: string }>(items: T[], o: { title?: string }): Promise<T | undefined> {
    const chosen = nextAnswer({ kind: 'pick', title: o.title, items }) as RegExp | undefined;
    return chosen === undefined ? undefined : items.find((i) => chosen.test(i.label));
  },
  createQuickPick(): MockQuickPick {
    const value = new EventEmitter<string>();
    const accept = new EventEmitter<void>();
    const hide = new EventEmitter<void>();
    const qp: MockQuickPick = {
      items: [],
      selectedItems: [],
      busy: false,
      ignoreFocusOut: false,
      value: '',
      onDidChangeValue: value.event,
      onDidAccept: accept.event,
      onDidHide: hide.event,
      show: () => mock.quickPicks.push(qp),
      hide: () => hide.fire(),
      dispose: () => undefined,
      type(text) {
        qp.value = text;
        value.fire(text);
      },
      accept(label) {
        qp.selectedItems = qp.items.filter((i) => label.test(i.label));
        accept.fire();
      },
    };
    return qp;
  },
  createTreeView(id: string, o: { treeDataProvider: { getChildren(n?: unknown): Promise<unknown[]>; getTreeItem(n: unknown): TreeItem } }) {
    const view = { provider: o.treeDataProvider, message: undefined as string | undefined, dispose: () => mock.treeViews.delete(id) };
    mock.treeViews.set(id, view);
    return view;
  },
  createStatusBarItem(id: string) {
    const item = { id, text: '', tooltip: undefined, command: undefined, backgroundColor: undefined, visible: false, name: '', show: () => (item.visible = true), hide: () => (item.visible = false), dispose: () => undefined };
    mock.statusBarItems.push(item);
    return item;
  },
};

export const workspace = {
  getConfiguration(section: string) {
    return {
      get<T>(key: string): T | undefined {
        mock.configurationRead.add(`${section}.${key}`);
        return mock.configuration[`${section}.${key}`] as T | undefined;
      },
      async update(key: string, value: unknown): Promise<void> {
        mock.configuration[`${section}.${key}`] = value;
        mock.configurationUpdates.push({ key: `${section}.${key}`, value });
        mock.emitters.configuration.fire({ affectsConfiguration: (s) => s === section || s === `${section}.${key}` });
      },
    };
  },
  get workspaceFolders() {
    return mock.workspaceFolders;
  },
  getWorkspaceFolder() {
    return mock.workspaceFolders?.[0];
  },
  get textDocuments() {
    return mock.documents.filter((d) => !d.isClosed);
  },
  async openTextDocument(uri: Uri): Promise<MockDocument> {
    const doc = mock.documents.find((d) => d.uri.toString() === uri.toString());
    if (!doc) throw new Error(`no document ${uri.toString()}`);
    return doc;
  },
  async applyEdit(edit: WorkspaceEdit): Promise<boolean> {
    for (const e of [...edit.edits].reverse()) {
      const doc = mock.documents.find((d) => d.uri.toString() === e.uri.toString());
      if (!doc) return false;
      doc.replace(e.range, e.text);
      mock.emitters.change.fire({ document: doc });
    }
    return true;
  },
  /** The disk, as vscode.workspace.fs: a write reloads an open document without unsaved changes. */
  fs: {
    async stat(uri: Uri): Promise<{ type: FileType }> {
      const st = await lstat(uri.fsPath);
      return { type: st.isSymbolicLink() ? FileType.SymbolicLink : st.isFile() ? FileType.File : st.isDirectory() ? FileType.Directory : FileType.Unknown };
    },
    readFile: async (uri: Uri): Promise<Uint8Array> => readFile(uri.fsPath),
    async writeFile(uri: Uri, bytes: Uint8Array): Promise<void> {
      await writeFile(uri.fsPath, bytes);
      for (const d of mock.documents) if (!d.isClosed && d.uri.toString() === uri.toString()) d.reload(Buffer.from(bytes).toString('utf8'));
    },
  },
  onDidChangeConfiguration: (l: Listener<{ affectsConfiguration(s: string): boolean }>) => mock.emitters.configuration.event(l),
  onDidOpenTextDocument: (l: Listener<MockDocument>) => mock.emitters.open.event(l),
  onDidChangeTextDocument: (l: Listener<{ document: MockDocument }>) => mock.emitters.change.event(l),
  onDidSaveTextDocument: (l: Listener<MockDocument>) => mock.emitters.save.event(l),
  onDidCloseTextDocument: (l: Listener<MockDocument>) => mock.emitters.close.event(l),
};

export const languages = {
  createDiagnosticCollection(name: string) {
    const byUri = new Map<string, Diagnostic[]>();
    mock.diagnostics.set(name, byUri);
    return {
      set: (uri: Uri, d: Diagnostic[]) => void byUri.set(uri.toString(), d),
      delete: (uri: Uri) => void byUri.delete(uri.toString()),
      dispose: () => mock.diagnostics.delete(name),
    };
  },
  registerHoverProvider(_selector: unknown, provider: (typeof mock.hoverProviders)[number]): Disposable {
    mock.hoverProviders.push(provider);
    return new Disposable();
  },
  registerCodeActionsProvider(_selector: unknown, provider: (typeof mock.codeActionProviders)[number]): Disposable {
    mock.codeActionProviders.push(provider);
    return new Disposable();
  },
};

export const env = {
  clipboard: {
    async writeText(text: string): Promise<void> {
      mock.clipboard = text;
    },
  },
};

/** A SecretStorage over a map, firing onDidChange like the real one. */
export function mockSecrets() {
  const values = new Map<string, string>();
  const changed = new EventEmitter<{ key: string }>();
  return {
    values,
    get: async (key: string) => values.get(key),
    store: async (key: string, value: string) => {
      values.set(key, value);
      changed.fire({ key });
    },
    delete: async (key: string) => {
      values.delete(key);
      changed.fire({ key });
    },
    onDidChange: changed.event,
  };
}
