// Matching the database's change count against the notifications heard
// (store/postgres/change-count.ts), heartbeat by heartbeat, without a
// database: which gaps mean a lost notification and which do not.

import { describe, expect, it } from 'vitest';
import { ChangeCount } from '../../src/store/postgres/change-count.js';

describe('ChangeCount', () => {
  it('a change whose notification comes, before or after the heartbeat that shows it, is no loss', () => {
    const c = new ChangeCount();
    expect(c.read(10)).toBe(false);
    c.heardOne();
    expect(c.read(11)).toBe(false);
    // Shown first, heard before the next heartbeat.
    expect(c.read(13)).toBe(false);
    c.heardOne();
    c.heardOne();
    expect(c.read(13)).toBe(false);
    expect(c.read(13)).toBe(false);
  });

  it('a change shown by one heartbeat and still unheard at the next is lost, once', () => {
    const c = new ChangeCount();
    c.read(0);
    expect(c.read(1)).toBe(false);
    expect(c.read(1)).toBe(true);
    expect(c.read(1)).toBe(false);
  });

  it('a notification heard while the count is asked, of a change that count does not show yet, is matched by the next count: no loss', () => {
    const c = new ChangeCount();
    c.asking();
    c.read(10);
    // Every change so far heard; then the next count is asked, and two notifications come with its answer,
    // one of a change committed after the count's snapshot.
    c.heardOne();
    c.asking();
    c.heardOne();
    c.heardOne();
    expect(c.read(12)).toBe(false);
    c.asking();
    expect(c.read(13)).toBe(false);
    c.asking();
    expect(c.read(13)).toBe(false);
    // And a real loss after it is still found.
    c.asking();
    expect(c.read(14)).toBe(false);
    c.asking();
    expect(c.read(14)).toBe(true);
  });

  it('notifications of changes that counted nothing do not hide a later loss', () => {
    const c = new ChangeCount();
    c.read(0);
    c.heardOne();
    c.heardOne();
    expect(c.read(0)).toBe(false);
    expect(c.read(1)).toBe(false);
    expect(c.read(1)).toBe(true);
    // Heard before the count was asked: such a surplus is never carried.
    c.heardOne();
    c.asking();
    expect(c.read(1)).toBe(false);
    expect(c.read(2)).toBe(false);
    expect(c.read(2)).toBe(true);
  });

  it('what came before the first heartbeat is not matched; a new connection starts afresh', () => {
    const c = new ChangeCount();
    c.heardOne();
    expect(c.read(5)).toBe(false);
    expect(c.read(5)).toBe(false);
    c.reset();
    expect(c.read(9)).toBe(false);
    expect(c.read(9)).toBe(false);
  });

  it('a count that goes backwards (a database restored from a backup) drops everything and starts afresh', () => {
    const c = new ChangeCount();
    c.read(100);
    c.heardOne();
    expect(c.read(101)).toBe(false);
    expect(c.read(40)).toBe(true);
    expect(c.read(40)).toBe(false);
  });
});
