// A small sidecar per day segment: which event types, keys and users its
// first `size` bytes hold. A filtered search skips that part of a segment
// when it cannot match; only the bytes appended since are read. The sidecar
// is written by a reader that scanned the rest of the day anyway, so it
// costs no extra pass, and it is only a hint: a missing, stale or unreadable
// one just means the segment is read.

import type { EventFind } from '../boundary.js';
import type { KeywardEvent } from '../../domain.js';
import { openForReading, writeFileAtomically } from './files.js';

export interface SegmentIndex {
  /** The bytes of the segment it describes, from its start. */
  size: number;
  types: string[];
  keys: string[];
  users: string[];
}

export function indexPathFor(segmentPath: string): string {
  return segmentPath.replace(/\.jsonl$/, '.idx.json');
}

export async function readSegmentIndex(segmentPath: string): Promise<SegmentIndex | undefined> {
  const fd = await openForReading(indexPathFor(segmentPath)).catch(() => undefined);
  if (!fd) return undefined;
  try {
    const x = JSON.parse(await fd.readFile('utf8')) as SegmentIndex;
    const strings = (a: unknown) => Array.isArray(a) && a.every((s) => typeof s === 'string');
    if (!Number.isSafeInteger(x?.size) || x.size < 0 || !strings(x.types) || !strings(x.keys) || !strings(x.users)) return undefined;
    return x;
  } catch {
    return undefined;
  } finally {
    await fd.close();
  }
}

export function writeSegmentIndex(segmentPath: string, index: SegmentIndex): Promise<void> {
  return writeFileAtomically(indexPathFor(segmentPath), JSON.stringify(index));
}

/** Whether an event the index describes could match the question. */
export function indexMayMatch(index: SegmentIndex, q: EventFind): boolean {
  if (q.keyId !== undefined && !index.keys.includes(q.keyId)) return false;
  if (q.userId !== undefined && !index.users.includes(q.userId)) return false;
  let types = index.types;
  if (q.types) types = types.filter((t) => q.types!.includes(t as KeywardEvent['eventType']));
  if (q.excludeTypes) types = types.filter((t) => !q.excludeTypes!.includes(t as KeywardEvent['eventType']));
  return types.length > 0;
}

/** Gathers what a full scan of a segment saw. */
export class IndexBuilder {
  private readonly types: Set<string>;
  private readonly keys: Set<string>;
  private readonly users: Set<string>;

  /** Starting from what an index of the segment's first part already says. */
  constructor(start?: SegmentIndex) {
    this.types = new Set(start?.types);
    this.keys = new Set(start?.keys);
    this.users = new Set(start?.users);
  }

  add(e: KeywardEvent): void {
    this.types.add(e.eventType);
    if (e.keyId !== undefined) this.keys.add(e.keyId);
    this.users.add(e.userId);
  }

  build(size: number): SegmentIndex {
    return { size, types: [...this.types].sort(), keys: [...this.keys].sort(), users: [...this.users].sort() };
  }
}
