// Everything the commands ask or tell a person, as a port. The flows are
// written against it and tested with a scripted one; the editor layer
// implements it with input boxes, quick picks and notifications.

import type { KeyView } from '@keyward/core';

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  value: T;
}

export interface InputOptions {
  title: string;
  prompt: string;
  value?: string;
  placeHolder?: string;
  password?: boolean;
  /** Why the text cannot be accepted, or undefined when it can. */
  validate?: (text: string) => string | undefined;
  /** A warning that still lets the text be accepted. */
  caution?: (text: string) => string | undefined;
}

export interface KeyPickOptions {
  title: string;
  placeHolder: string;
  /** The keys matching what the person typed (core searches; the picker shows one window). */
  search: (text: string) => Promise<KeyView[]>;
}

export interface Prompter {
  input(o: InputOptions): Promise<string | undefined>;
  pick<T>(o: { title: string; placeHolder: string; items: PickItem<T>[] }): Promise<T | undefined>;
  pickKey(o: KeyPickOptions): Promise<KeyView | undefined>;
  /** A modal question before something that cannot be undone; true when confirmed. */
  confirm(o: { message: string; detail: string; action: string }): Promise<boolean>;
  info(message: string, ...actions: string[]): Promise<string | undefined>;
  warn(message: string, ...actions: string[]): Promise<string | undefined>;
  error(message: string): Promise<void>;
  copy(text: string): Promise<void>;
}
