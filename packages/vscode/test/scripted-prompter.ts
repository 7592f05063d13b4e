// A Prompter that answers from a script and records what it was asked and
// told, for testing the flows without VS Code.

import type { KeyView } from '@keyward/core';
import type { InputOptions, KeyPickOptions, PickItem, Prompter } from '../src/prompter.js';

export type Step =
  | { input: string | undefined }
  | { pick: RegExp | undefined }
  | { pickKey: string; choose: RegExp | undefined }
  | { confirm: boolean }
  | { action: string | undefined };

export class ScriptedPrompter implements Prompter {
  readonly told: { kind: 'info' | 'warn' | 'error'; message: string }[] = [];
  readonly asked: { kind: string; title: string; detail?: string; items?: string[]; details?: string[]; value?: string; options?: InputOptions }[] = [];
  copied?: string;

  constructor(private readonly steps: Step[]) {}

  private next<K extends string>(kind: K): Extract<Step, Record<K, unknown>> {
    const step = this.steps.shift();
    if (!step || !(kind in step)) throw new Error(`expected a ${JSON.stringify(step)} step, the flow asked: ${kind}`);
    return step as Extract<Step, Record<K, unknown>>;
  }

  get done(): boolean {
    return this.steps.length === 0;
  }

  async input(o: InputOptions): Promise<string | undefined> {
    this.asked.push({ kind: 'input', title: o.title, value: o.value, options: o });
    const { input } = this.next('input');
    if (input !== undefined) {
      const problem = o.validate?.(input);
      if (problem) throw new Error(`"${input}" would be refused by the input box: ${problem}`);
    }
    return input;
  }

  async pick<T>(o: { title: string; placeHolder: string; items: PickItem<T>[] }): Promise<T | undefined> {
    this.asked.push({ kind: 'pick', title: o.title, detail: o.placeHolder, items: o.items.map((i) => i.label), details: o.items.map((i) => i.detail ?? '') });
    const { pick } = this.next('pick');
    if (!pick) return undefined;
    const item = o.items.find((i) => pick.test(i.label));
    if (!item) throw new Error(`no item matches ${pick} in ${o.items.map((i) => i.label).join(', ')}`);
    return item.value;
  }

  async pickKey(o: KeyPickOptions): Promise<KeyView | undefined> {
    const { pickKey, choose } = this.next('pickKey');
    const keys = await o.search(pickKey);
    this.asked.push({ kind: 'pickKey', title: o.title, items: keys.map((k) => k.description) });
    return choose ? keys.find((k) => choose.test(k.description)) : undefined;
  }

  async confirm(o: { message: string; detail: string; action: string }): Promise<boolean> {
    this.asked.push({ kind: 'confirm', title: o.message, detail: o.detail });
    return this.next('confirm').confirm;
  }

  async info(message: string, ...actions: string[]): Promise<string | undefined> {
    this.told.push({ kind: 'info', message });
    return actions.length > 0 ? this.next('action').action : undefined;
  }

  async warn(message: string, ...actions: string[]): Promise<string | undefined> {
    this.told.push({ kind: 'warn', message });
    return actions.length > 0 ? this.next('action').action : undefined;
  }

  async error(message: string): Promise<void> {
    this.told.push({ kind: 'error', message });
  }

  async copy(text: string): Promise<void> {
    this.copied = text;
  }
}
