import { describe, expect, it } from 'vitest';
import { initialList, listReducer, type ListAction, type ListState, visibleRange } from '../src/ui/state/list.js';

const run = (s: ListState, ...actions: ListAction[]) => actions.reduce(listReducer, s);
const list = (total: number, height = 10) => run(initialList(height), { type: 'total', total });

describe('the windowed list', () => {
  it('moves the window only when the cursor leaves it', () => {
    let s = list(100);
    s = run(s, ...Array.from({ length: 9 }, () => ({ type: 'move', by: 1 }) as const));
    expect(s).toMatchObject({ cursor: 9, top: 0 });
    s = run(s, { type: 'move', by: 1 });
    expect(s).toMatchObject({ cursor: 10, top: 1 });
    s = run(s, { type: 'move', by: -5 });
    expect(s).toMatchObject({ cursor: 5, top: 1 });
    s = run(s, { type: 'move', by: -5 });
    expect(s).toMatchObject({ cursor: 0, top: 0 });
  });

  it('pages, and goes to the first and last row', () => {
    let s = run(list(100_000), { type: 'page', by: 1 });
    expect(s).toMatchObject({ cursor: 10, top: 10 });
    s = run(s, { type: 'last' });
    expect(s).toMatchObject({ cursor: 99_999, top: 99_990 });
    expect(visibleRange(s)).toEqual({ from: 99_990, to: 100_000 });
    s = run(s, { type: 'page', by: 1 });
    expect(s).toMatchObject({ cursor: 99_999, top: 99_990 });
    s = run(s, { type: 'first' });
    expect(s).toMatchObject({ cursor: 0, top: 0 });
    s = run(s, { type: 'page', by: -1 });
    expect(s).toMatchObject({ cursor: 0, top: 0 });
  });

  it('never leaves the cursor past the end when the list shrinks', () => {
    let s = run(list(50), { type: 'last' });
    s = run(s, { type: 'total', total: 3 });
    expect(s).toMatchObject({ cursor: 2, top: 0 });
    s = run(s, { type: 'total', total: 0 });
    expect(s).toMatchObject({ cursor: 0, top: 0 });
    expect(visibleRange(s)).toEqual({ from: 0, to: 0 });
    expect(run(s, { type: 'move', by: 1 })).toMatchObject({ cursor: 0 });
  });

  it('keeps the cursor visible when the terminal gets shorter', () => {
    let s = run(list(100), { type: 'goto', index: 9 });
    s = run(s, { type: 'height', height: 4 });
    expect(s.cursor).toBe(9);
    expect(s.cursor).toBeGreaterThanOrEqual(s.top);
    expect(s.cursor).toBeLessThan(s.top + 4);
  });
});
