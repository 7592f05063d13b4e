// Creates that queue behind each other go together. Creates for one owner
// cannot commit side by side: each counts the owner's active keys under the
// owner's lock (the key limit), so each waits for the one before it to
// commit — on PostgreSQL a disk flush each, and a burst of one user's creates
// through several servers waited for them all in turn. Here a create that
// arrives while one for the same group is being committed waits in this
// process, and all that waited go in the next transaction: one lock, one
// count, one commit. Each is still checked and answered on its own (the use
// case checks it against the count with the ones before it in the batch);
// the first of a group goes at once, so nothing waits that did not have to.
// A store that decides a process's transactions in turn (the embedded stores'
// commit groups; boundary.ts decidesInTurn) counts a burst's earlier keys
// without that wait: there each create goes at once, in the next group.

interface Waiting<I, R> {
  input: I;
  resolve(r: R): void;
  reject(e: unknown): void;
}

// One transaction holds at most this many; the rest go in the next.
const MAX_BATCH = 50;

export class Batches<I, R> {
  private readonly groups = new Map<string, Waiting<I, R>[]>();

  /**
   * `input`'s answer, from `commit` run on it alone or with others of
   * `group` that waited. `commit` answers each input in order: its result,
   * or an Error that refuses that one only; if it throws, every input of the
   * batch gets that error. With no `group`, `input` goes at once, on its
   * own, and nothing waits for it.
   */
  submit(group: string | undefined, input: I, commit: (inputs: I[]) => Promise<(R | Error)[]>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queued = group === undefined ? undefined : this.groups.get(group);
      if (queued) {
        queued.push({ input, resolve, reject });
        return;
      }
      const queue: Waiting<I, R>[] = [{ input, resolve, reject }];
      if (group !== undefined) this.groups.set(group, queue);
      void this.drain(group, queue, commit);
    });
  }

  private async drain(group: string | undefined, queue: Waiting<I, R>[], commit: (inputs: I[]) => Promise<(R | Error)[]>): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        const out = await commit(batch.map((w) => w.input));
        batch.forEach((w, i) => {
          const r = out[i];
          if (r instanceof Error) w.reject(r);
          else w.resolve(r);
        });
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
    if (group !== undefined) this.groups.delete(group);
  }
}
