// JSON.stringify of a snapshot without holding the event loop for it: a
// store of 100k keys is tens of megabytes of JSON, a few hundred ms of CPU
// that would stall every verify of a server behind a compaction. The text is
// the same as JSON.stringify's; it is made a slice of records at a time, and
// the loop is let go (setImmediate) between slices. A Map, or Properties, is
// written as the object of its entries, so a snapshot can hand over what its
// maps hold instead of building objects of 100k properties (not cheap).

/**
 * Records stringified between two turns of the event loop: at 100k keys a
 * slice of 2,000 held a keyward serve 39-51 ms when the machine was busy (its
 * longest block during a compaction), one of 500 19-20 ms, about what plain
 * creates hold it (bench/compaction.ts); 200 turns instead of 50 cost nothing to see.
 */
const SLICE = 500;
/** How deep objects are walked before a value is stringified whole (snapshot → state → keys → a key). */
const DEPTH = 3;

/**
 * An object's properties as two arrays, written as that object: how a
 * snapshot hands over a map it goes on changing. Two arrays of a 100k-entry
 * map are made in about 2 ms; a copy of the Map took 60-300 ms on a busy
 * machine (it hashes every key again), all of it a stall of a server's verifies.
 */
export class Properties {
  constructor(
    readonly names: readonly string[],
    readonly values: readonly unknown[],
  ) {}

  /** What `map` holds now (its records are shared: they are replaced, never changed in place). */
  static of(map: ReadonlyMap<string, unknown>): Properties {
    return new Properties(Array.from(map.keys()), Array.from(map.values()));
  }

  *entries(): Generator<[string, unknown]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i], this.values[i]];
  }
}

/** `JSON.stringify(value)` as UTF-8 chunks, made over several turns of the event loop. */
export async function jsonInSlices(value: unknown): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  let text: string[] = [];
  let made = 0;
  const flush = () => {
    if (text.length > 0) chunks.push(Buffer.from(text.join(''), 'utf8'));
    text = [];
  };
  const walk = async (v: unknown, depth: number): Promise<void> => {
    if (depth >= DEPTH || v === null || typeof v !== 'object' || Array.isArray(v) || typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      // JSON.stringify writes a Map as {} (and Properties as its two arrays): one this deep would be lost without a word.
      if (v instanceof Map || v instanceof Properties) throw new Error(`jsonInSlices: a ${v.constructor.name} at depth ${depth} would be written as ${v instanceof Map ? '{}' : 'its two arrays'}`);
      text.push(JSON.stringify(v) ?? 'null');
      if (++made % SLICE === 0) {
        flush();
        await new Promise((r) => setImmediate(r));
      }
      return;
    }
    text.push('{');
    let first = true;
    const entries: Iterable<[string, unknown]> = v instanceof Map ? v : v instanceof Properties ? v.entries() : Object.entries(v);
    for (const [k, item] of entries) {
      // What JSON.stringify leaves out of an object.
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      text.push(`${first ? '' : ','}${JSON.stringify(k)}:`);
      first = false;
      await walk(item, depth + 1);
    }
    text.push('}');
  };
  await walk(value, 0);
  flush();
  return chunks;
}
