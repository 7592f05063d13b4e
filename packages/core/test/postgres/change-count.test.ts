// Matching the database's change count against the notifications heard
// (store/postgres/change-count.ts), heartbeat by heartbeat, without a
// database: each value a count shows must be named by a notification by the
// next heartbeat — one by one, so changes made meanwhile cannot stand in for
// a lost one.

import { describe, expect, it } from 'vitest';
import { ChangeCount } from '../../src/store/postgres/change-count.js';

const counts = (o: Record<number, number>) => new Map(Object.entries(o).map(([k, v]) => [Number(k), v]));

describe('ChangeCount', () => {
  it('a change whose notification comes, before or after the heartbeat that shows it, is no loss', () => {
    const c = new ChangeCount();
    expect(c.read(counts({ 1: 10 }))).toBe(false);
    c.heardOne(1, 11);
    expect(c.read(counts({ 1: 11 }))).toBe(false);
    // Shown first (two slots), named before the next heartbeat, out of order.
    expect(c.read(counts({ 1: 12, 2: 1 }))).toBe(false);
    c.heardOne(2, 1);
    c.heardOne(1, 12);
    expect(c.read(counts({ 1: 12, 2: 1 }))).toBe(false);
    expect(c.read(counts({ 1: 12, 2: 1 }))).toBe(false);
  });

  it('a change shown by one heartbeat and still unnamed at the next is lost, once', () => {
    const c = new ChangeCount();
    c.read(counts({}));
    expect(c.read(counts({ 3: 1 }))).toBe(false);
    expect(c.read(counts({ 3: 1 }))).toBe(true);
    expect(c.read(counts({ 3: 1 }))).toBe(false);
  });

  it('a loss is found while other changes keep coming and are heard (they cannot stand in for it)', () => {
    const c = new ChangeCount();
    c.read(counts({ 1: 0, 2: 0 }));
    // Slot 2's change 1 is lost; slot 1 keeps changing, each heard.
    c.heardOne(1, 1);
    expect(c.read(counts({ 1: 1, 2: 1 }))).toBe(false);
    c.heardOne(1, 2);
    c.heardOne(1, 3);
    expect(c.read(counts({ 1: 3, 2: 1 }))).toBe(true);
    c.heardOne(1, 4);
    expect(c.read(counts({ 1: 4, 2: 1 }))).toBe(false);
  });

  it('a notification naming a value not its own (another backend on its slot) leaves its own unnamed: a drop for nothing, never a loss hidden', () => {
    const c = new ChangeCount();
    c.read(counts({ 5: 0 }));
    // Two changes on slot 5, both notifications read the count after the second.
    c.heardOne(5, 2);
    c.heardOne(5, 2);
    expect(c.read(counts({ 5: 2 }))).toBe(false);
    expect(c.read(counts({ 5: 2 }))).toBe(true);
  });

  it('what the first heartbeat counted is not matched; a notification heard before its answer still names its change; a new connection starts afresh', () => {
    const c = new ChangeCount();
    c.heardOne(1, 6);
    expect(c.read(counts({ 1: 5 }))).toBe(false);
    expect(c.read(counts({ 1: 6 }))).toBe(false);
    expect(c.read(counts({ 1: 6 }))).toBe(false);
    c.reset();
    expect(c.read(counts({ 1: 9 }))).toBe(false);
    expect(c.read(counts({ 1: 9 }))).toBe(false);
  });

  it('a count that goes backwards (a database restored from a backup) drops everything and starts afresh', () => {
    const c = new ChangeCount();
    c.read(counts({ 1: 100 }));
    c.heardOne(1, 101);
    expect(c.read(counts({ 1: 101 }))).toBe(false);
    expect(c.read(counts({ 1: 40 }))).toBe(true);
    expect(c.read(counts({ 1: 40 }))).toBe(false);
  });
});
