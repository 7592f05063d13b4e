// A real child process creating keys in a JSON store, and a list asked the
// moment each of its acknowledgements arrives, before anything else of this
// process runs: every such list must hold every key acknowledged by then.
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { type Child, startChild } from '../child.js';

/** A child that creates `n` keys named from `prefix` in the store at `location`, printing `ack <id>` for each. */
export function childWriter(location: string, prefix: string, n: number): Child {
  const childScript = fileURLToPath(new URL('../conformance/child.ts', import.meta.url));
  const childModule = fileURLToPath(new URL('../conformance/open-json.ts', import.meta.url));
  return startChild(childScript, [childModule, location, 'write', prefix, String(n)]);
}

/**
 * Asks `list` at each acknowledgement of `writer` and expects it to hold every
 * key acknowledged so far. The answer settles those checks once the child is
 * done, with the most acknowledgements one of them covered.
 */
export function listAtEachAck(writer: Child, list: () => Promise<{ data: readonly { id: string }[] }>): () => Promise<number> {
  const checks: Promise<void>[] = [];
  let seen = 0;
  writer.child.stdout!.on('data', () => {
    const acked = [...writer.acked];
    checks.push(
      list().then((page) => {
        expect(page.data.map((k) => k.id)).toEqual(expect.arrayContaining(acked));
        seen = Math.max(seen, acked.length);
      }),
    );
  });
  return async () => {
    await Promise.all(checks);
    return seen;
  };
}
