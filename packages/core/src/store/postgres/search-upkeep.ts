// The search indexes (migrations 15 and 16) are GIN indexes with PostgreSQL's
// default fastupdate: a new key's trigrams are appended to each index's pending list,
// a short write, and merged into the index proper in bulk later. Left to
// PostgreSQL, that merge falls to whichever insert finds the list past
// gin_pending_list_limit (4 MB: thousands of keys): that create waits for
// everyone's merge, tens of milliseconds, and every search meanwhile reads
// the whole list. So a server that has made MERGE_AFTER keys merges the list
// itself (each index's), in a statement of its own beside the creates
// (gin_clean_pending_list: ~3 µs a key, BENCHMARKS.md, session 25), one at
// a time; the work is the same, off the creates' path. A role that does not
// own the index may not: it stops asking, and PostgreSQL merges as before.

import { SEARCH_INDEX_NAMES } from './migrations.js';
import { SCHEMA, privilegeRefused } from './sql.js';

/** Keys made by this server between merges: well inside PostgreSQL's own limit. */
const MERGE_AFTER = 1000;

// Each search index that is there (a schema may have some and not yet others, migrations.ts indexesForSearch).
const INDEXES = SEARCH_INDEX_NAMES.map((name) => `(to_regclass('${SCHEMA}.${name}'))`).join(', ');
export const MERGE_PENDING_SEARCH_ENTRIES = `SELECT gin_clean_pending_list(i) FROM (VALUES ${INDEXES}) AS v(i) WHERE i IS NOT NULL`;

export class SearchUpkeep {
  private sinceMerge = 0;
  private merging = false;
  private refused = false;

  /** `merge` sends MERGE_PENDING_SEARCH_ENTRIES; `indexed` says whether there is an index to merge into. */
  constructor(
    private readonly merge: () => Promise<unknown>,
    private readonly indexed: () => boolean,
  ) {}

  /** `n` new keys committed by this server. */
  keysMade(n: number): void {
    this.sinceMerge += n;
    if (this.sinceMerge < MERGE_AFTER || this.merging || this.refused || !this.indexed()) return;
    this.sinceMerge = 0;
    this.merging = true;
    this.merge()
      .catch((e: unknown) => {
        // Any other failure (the database away, the store closing) leaves the next merge to the next thousand keys.
        if (privilegeRefused(e)) this.refused = true;
      })
      .finally(() => {
        this.merging = false;
      });
  }
}
