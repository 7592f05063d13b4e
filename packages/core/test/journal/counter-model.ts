// The smallest model a journal can keep: named counters. The journal's
// mechanics (records, group commit, torn tails, compaction) are tested on it
// apart from what a Keyward change means.
import type { JournalModel } from '../../src/store/json/journal.js';

export interface SetEntry {
  set: string;
  to: number;
}

export class CounterModel implements JournalModel<SetEntry> {
  items: Record<string, number> = {};
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
