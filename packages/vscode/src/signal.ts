// A minimal event: the plain modules stay free of the `vscode` module, so they
// cannot use its EventEmitter.

export type Listener<T> = (value: T) => void;

export class Signal<T = void> {
  private listeners = new Set<Listener<T>>();

  on(listener: Listener<T>): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
}
