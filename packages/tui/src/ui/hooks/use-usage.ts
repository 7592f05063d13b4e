// Uses per key in the last hour and the last day, side by side, most used
// in the last hour first: the key used far more than the rest is on top.

import type { UsageRow } from '@keyward/core';
import { useEffect, useRef, useState } from 'react';
import { useAppActions, useAppState } from '../app-context.js';

export interface KeyUsage {
  keyId: string;
  description: string;
  sub: string;
  status: UsageRow['status'];
  hour: number;
  day: number;
  excessive: boolean;
  /** What the viewer may do to the key now, as core says (the latest of the two windows). */
  actions: UsageRow['actions'];
}

export function mergeUsage(hour: UsageRow[], day: UsageRow[]): KeyUsage[] {
  const byId = new Map<string, KeyUsage>();
  const usage = (r: UsageRow, hour: number): KeyUsage => ({ keyId: r.keyId, description: r.description, sub: r.sub, status: r.status, hour, day: r.uses, excessive: r.excessive, actions: r.actions });
  for (const r of day) byId.set(r.keyId, usage(r, 0));
  for (const r of hour) {
    const u = byId.get(r.keyId);
    if (u) {
      u.hour = r.uses;
      u.excessive ||= r.excessive;
      u.actions = r.actions;
    } else byId.set(r.keyId, usage(r, r.uses));
  }
  return [...byId.values()].sort((a, b) => b.hour - a.hour || b.day - a.day || (a.keyId < b.keyId ? -1 : 1));
}

/** Uses per key id in the last day (null until loaded), refetched on every tick. */
export function useDayUses(): ReadonlyMap<string, number> | null {
  const { service, fail } = useAppActions();
  const { tick } = useAppState();
  const [uses, setUses] = useState<ReadonlyMap<string, number> | null>(null);
  const latest = useRef(0);
  useEffect(() => {
    const request = ++latest.current;
    service.usage({ since: 'P1D' }).then(
      (rows) => request === latest.current && setUses(new Map(rows.map((r) => [r.keyId, r.uses]))),
      (e: unknown) => request === latest.current && fail(e),
    );
  }, [tick, service, fail]);
  return uses;
}

export function useUsage(): KeyUsage[] | null {
  const { service, fail } = useAppActions();
  const { tick } = useAppState();
  const [rows, setRows] = useState<KeyUsage[] | null>(null);
  const latest = useRef(0);
  useEffect(() => {
    const request = ++latest.current;
    Promise.all([service.usage({ since: 'PT1H' }), service.usage({ since: 'P1D' })]).then(
      ([hour, day]) => request === latest.current && setRows(mergeUsage(hour, day)),
      (e: unknown) => request === latest.current && fail(e),
    );
  }, [tick, service, fail]);
  return rows;
}
