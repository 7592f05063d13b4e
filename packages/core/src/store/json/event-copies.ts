// The copies of this process's commit groups' events to their day segments,
// made one after another behind the journal appends. A busy server's group
// used to go append (fsync), then copy, then the next group: two turns of its
// event loop each. Now the next group decides and appends while the group
// before it has its events copied, and each copy continues where the one
// before left the copy (journal-events.ts keeps how far that is), so the
// copies must not overlap: they form one chain. A group is still answered
// only once its own copy is made (an events list asked on the answer finds
// them: journal.ts commitGroup), and whatever marks, settles or closes the
// copy waits for the chain first (made).

import type { JournalFile } from './journal-file.js';
import type { JournalCopy, RecordsFrom } from './journal.js';

/** Reads a journal's records for a copy (from its start at the earliest: before it, a compaction settled them). */
export function recordsOf<Entry>(file: JournalFile): RecordsFrom<Entry> {
  return async (from) => (await file.scan(Math.max(from, file.start))).records.map((r) => ({ entries: (r.payload as { txs?: Entry[] }).txs ?? [], end: r.end }));
}

export class EventCopies<Entry> {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    /** What makes a copy (the events' day segments); none: nothing is copied. */
    private readonly copy: JournalCopy<Entry> | undefined,
    private readonly journalPath: string,
    private readonly onProblem: (message: string) => void,
  ) {}

  /**
   * Under the lock: brings the copy up to `to` (the end of `group`, just
   * appended to `journal`), after the copies already under way; a fault is
   * reported, the records keep what it could not copy. Settles once this
   * copy is made.
   */
  copyTo(journal: JournalFile | undefined, to: number, group?: { from: number; entries: Entry[] }): Promise<void> {
    const copy = this.copy;
    if (!copy || !journal) return this.chain;
    this.chain = this.chain.then(() => this.make(copy, journal, to, group));
    return this.chain;
  }

  /** Settles once every copy asked for so far is made (never rejects: a failed copy was reported). */
  made(): Promise<void> {
    return this.chain;
  }

  private async make(copy: JournalCopy<Entry>, journal: JournalFile, to: number, group?: { from: number; entries: Entry[] }): Promise<void> {
    try {
      await copy.copy(to, recordsOf(journal), group);
    } catch (e) {
      this.onProblem(`Copying the events of ${this.journalPath} to their day segments failed (${(e as Error).message}); they are kept in the journal and copied by the next change.`);
    }
  }
}
