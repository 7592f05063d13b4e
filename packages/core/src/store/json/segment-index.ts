// A small sidecar per day segment: which event types, keys and users its
// first `size` bytes hold, and, for each block of about 256 KiB of it, the
// byte range, the time span and the types of its events. A filtered search
// skips every block that cannot match — the whole day when a key or user is
// not in it, a block when its types or its time span rule it out — and reads
// only those that may, plus the bytes appended since. The sidecar is written
// by a reader that scanned the rest of the day anyway, so it costs no extra
// pass, and it is only a hint: a missing, stale or unreadable one just means
// the segment is read.

import type { EventFind } from '../boundary.js';
import type { KeywardEvent } from '../../domain.js';
import { openForReading, writeFileAtomically } from './files.js';

const BLOCK = 256 * 1024;

export interface IndexBlock {
  /** Byte range [start, end): whole lines. */
  start: number;
  end: number;
  /** Earliest and latest eventTime in it (ISO, so they compare as strings). */
  first: string;
  last: string;
  types: string[];
}

export interface SegmentIndex {
  /** The bytes of the segment it describes, from its start. */
  size: number;
  types: string[];
  keys: string[];
  users: string[];
  blocks: IndexBlock[];
}

export function indexPathFor(segmentPath: string): string {
  return segmentPath.replace(/\.jsonl$/, '.idx.json');
}

const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((s) => typeof s === 'string');
const offset = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isBlock = (b: IndexBlock) => typeof b === 'object' && b !== null && offset(b.start) && offset(b.end) && b.start < b.end && typeof b.first === 'string' && typeof b.last === 'string' && strings(b.types);

export async function readSegmentIndex(segmentPath: string): Promise<SegmentIndex | undefined> {
  const fd = await openForReading(indexPathFor(segmentPath)).catch(() => undefined);
  if (!fd) return undefined;
  try {
    const x = JSON.parse(await fd.readFile('utf8')) as SegmentIndex;
    if (!offset(x?.size) || !strings(x.types) || !strings(x.keys) || !strings(x.users) || !Array.isArray(x.blocks) || !x.blocks.every(isBlock)) return undefined;
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

function typesMayMatch(types: readonly string[], q: EventFind): boolean {
  return types.some((t) => (q.types === undefined || q.types.includes(t as KeywardEvent['eventType'])) && (q.excludeTypes === undefined || !q.excludeTypes.includes(t as KeywardEvent['eventType'])));
}

/** Whether any event the index describes could match the question. */
export function segmentMayMatch(index: SegmentIndex, q: EventFind): boolean {
  if (q.keyId !== undefined && !index.keys.includes(q.keyId)) return false;
  if (q.userId !== undefined && !index.users.includes(q.userId)) return false;
  return typesMayMatch(index.types, q);
}

/** Whether any event of the block could match the question (by type and time; `since`/`until` as ISO). */
export function blockMayMatch(block: IndexBlock, q: EventFind, since: string | undefined, until: string | undefined): boolean {
  if (since !== undefined && block.last < since) return false;
  if (until !== undefined && block.first > until) return false;
  return typesMayMatch(block.types, q);
}

/** Gathers what a scan of a segment (or of the part past its index) saw. */
export class IndexBuilder {
  private readonly types: Set<string>;
  private readonly keys: Set<string>;
  private readonly users: Set<string>;
  private readonly blocks = new Map<number, { start: number; end: number; first: string; last: string; types: Set<string> }>();

  /** Starting from what an index of the segment's first part already says. */
  constructor(start?: SegmentIndex) {
    this.types = new Set(start?.types);
    this.keys = new Set(start?.keys);
    this.users = new Set(start?.users);
    for (const b of start?.blocks ?? []) this.blocks.set(Math.floor(b.start / BLOCK), { ...b, types: new Set(b.types) });
  }

  /** An event and the byte range of its line. */
  add(e: KeywardEvent, start: number, end: number): void {
    this.types.add(e.eventType);
    if (e.keyId !== undefined) this.keys.add(e.keyId);
    this.users.add(e.userId);
    const n = Math.floor(start / BLOCK);
    const b = this.blocks.get(n);
    if (!b) {
      this.blocks.set(n, { start, end, first: e.eventTime, last: e.eventTime, types: new Set([e.eventType]) });
      return;
    }
    if (start < b.start) b.start = start;
    if (end > b.end) b.end = end;
    if (e.eventTime < b.first) b.first = e.eventTime;
    if (e.eventTime > b.last) b.last = e.eventTime;
    b.types.add(e.eventType);
  }

  build(size: number): SegmentIndex {
    const blocks = [...this.blocks.values()].sort((a, b) => a.start - b.start).map((b) => ({ ...b, types: [...b.types].sort() }));
    return { size, types: [...this.types].sort(), keys: [...this.keys].sort(), users: [...this.users].sort(), blocks };
  }
}
