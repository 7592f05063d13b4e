// A real child process creating keys (or users) in a JSON store, and a read
// asked the moment each of its acknowledgements arrives, before anything else
// of this process runs: every such read must see every record acknowledged by then.
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type Child, startChild } from '../child.js';

/** A child that creates `n` keys (or, `what` 'users', users) named from `prefix` in the store at `location`, printing `ack <id>` for each. */
export function childWriter(location: string, prefix: string, n: number, what: 'write' | 'users' = 'write'): Child {
  const childScript = fileURLToPath(new URL('../conformance/child.ts', import.meta.url));
  const childModule = fileURLToPath(new URL('../conformance/open-json.ts', import.meta.url));
  return startChild(childScript, [childModule, location, what, prefix, String(n)]);
}

/**
 * Runs `check` at each acknowledgement of `writer`, with the ids acknowledged
 * so far. The answer settles those checks once the child is done, with the
 * most acknowledgements one of them covered.
 */
export function atEachAck(writer: Child, check: (acked: readonly string[]) => Promise<void>): () => Promise<number> {
  const checks: Promise<void>[] = [];
  let seen = 0;
  writer.child.stdout!.on('data', () => {
    const acked = [...writer.acked];
    checks.push(check(acked).then(() => void (seen = Math.max(seen, acked.length))));
  });
  return async () => {
    await Promise.all(checks);
    return seen;
  };
}

/** Asks `list` at each acknowledgement of `writer` and expects it to hold every record acknowledged so far. */
export function listAtEachAck(writer: Child, list: () => Promise<{ data: readonly { id: string }[] }>): () => Promise<number> {
  return atEachAck(writer, async (acked) => {
    const page = await list();
    expect(page.data.map((k) => k.id)).toEqual(expect.arrayContaining([...acked]));
  });
}
