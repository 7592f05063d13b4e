// The smallest model a journal can keep: named counters. The journal's
// mechanics (records, group commit, torn tails, compaction) are tested on it
// apart from what a Keyward change means.
import type { JournalModel } from '../../src/store/json/journal.js';

export interface SetEntry {
  set: string;
  to: number;
}

export class CounterModel implements JournalModel<SetEntry> {
  /** Every durable entry (what reads see). */
  items: Record<string, number> = {};
  /** The commit group's entries not yet durable (what its later work sees, through valueOf). */
  staged: Record<string, number> = {};
  valueOf(name: string): number | undefined {
    return name in this.staged ? this.staged[name] : this.items[name];
  }
  stage(entry: SetEntry): void {
    this.staged[entry.set] = entry.to;
  }
  unstage(): void {
    this.staged = {};
  }
  load(state: unknown): void {
    this.items = state ? { ...(state as { items: Record<string, number> }).items } : {};
  }
  apply(entry: SetEntry) {
    this.items[entry.set] = entry.to;
    return { keyIds: [entry.set] };
  }
  snapshot(): unknown {
    return { items: this.items };
  }
}
