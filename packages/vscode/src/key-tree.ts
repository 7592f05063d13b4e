// What the Keys view shows: for a developer their own keys; for an admin two
// sections, their own keys and every key of the tenant. Each list is a window
// paged from core a hundred keys at a time ("Load more…"), so a tenant with
// 100 000 keys costs the editor one page, not the whole list.

import type { KeyQuery, KeyService, KeyView, WhoAmI } from '@keyward/core';

/** The HTTP API's largest page (behaviour §3). */
export const PAGE_SIZE = 100;

export type SectionId = 'mine' | 'all';

export type KeyTreeNode =
  | { kind: 'section'; section: SectionId; label: string; total: number }
  | { kind: 'key'; section: SectionId; key: KeyView }
  | { kind: 'more'; section: SectionId; shown: number; total: number };

export interface KeySource {
  service: KeyService;
  me: WhoAmI;
}

interface KeyWindow {
  keys: KeyView[];
  next?: string;
  total: number;
}

const SECTION_LABELS: Record<SectionId, string> = { mine: 'My keys', all: 'All keys' };

export class KeyTreeModel {
  private windows = new Map<SectionId, KeyWindow>();
  /** How many keys each section showed before a refresh, so a refresh keeps the place. */
  private shownBefore = new Map<SectionId, number>();
  /** Bumped by reset: a page asked for before it (of another user, maybe) is not kept after it. */
  private generation = 0;

  constructor(private readonly source: () => KeySource | undefined) {}

  /** Forgets the loaded windows; the next read asks core again. */
  reset(): void {
    for (const [section, w] of this.windows) this.shownBefore.set(section, w.keys.length);
    this.windows.clear();
    this.generation++;
  }

  async roots(): Promise<KeyTreeNode[]> {
    const src = this.source();
    if (!src) return [];
    // Only a viewer who may see every key (core's whoami) gets the tenant-wide section.
    if (!src.me.may.seeAllKeys.ok) return this.children('mine');
    const sections: SectionId[] = ['mine', 'all'];
    const windows = await Promise.all(sections.map((s) => this.window(s, src)));
    return sections.map((section, i) => ({ kind: 'section', section, label: SECTION_LABELS[section], total: windows[i].total }));
  }

  async children(section: SectionId): Promise<KeyTreeNode[]> {
    const src = this.source();
    if (!src) return [];
    const w = await this.window(section, src);
    const nodes: KeyTreeNode[] = w.keys.map((key) => ({ kind: 'key', section, key }));
    if (w.next) nodes.push({ kind: 'more', section, shown: w.keys.length, total: w.total });
    return nodes;
  }

  /** Appends the next page of a section. */
  async loadMore(section: SectionId): Promise<void> {
    const src = this.source();
    const w = this.windows.get(section);
    if (!src || !w?.next) return;
    const page = await src.service.listKeys(this.query(section, src.me, w.next));
    w.keys.push(...page.data);
    w.next = page.next;
    w.total = page.total;
  }

  private query(section: SectionId, me: WhoAmI, startingAfter?: string): KeyQuery {
    const q: KeyQuery = { sort: '-created', limit: PAGE_SIZE };
    if (section === 'mine') q.sub = me.user.id;
    if (startingAfter) q.startingAfter = startingAfter;
    return q;
  }

  private async window(section: SectionId, src: KeySource): Promise<KeyWindow> {
    const have = this.windows.get(section);
    if (have) return have;
    const generation = this.generation;
    const page = await src.service.listKeys(this.query(section, src.me));
    const w: KeyWindow = { keys: page.data, next: page.next, total: page.total };
    const want = this.shownBefore.get(section) ?? 0;
    while (w.next && w.keys.length < want) {
      const more = await src.service.listKeys(this.query(section, src.me, w.next));
      w.keys.push(...more.data);
      w.next = more.next;
    }
    if (generation === this.generation) this.windows.set(section, w);
    return w;
  }
}
