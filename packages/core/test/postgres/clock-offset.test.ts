// How far a server's clock is from its database's (clock-offset.ts), and
// what `keyward serve` says of it (clockOffsetWarning): the arithmetic alone.
// clock-offset.pg.test.ts reads a real database's clock.
import { describe, expect, it } from 'vitest';
import { ClockOffset, readingOf } from '../../src/store/postgres/clock-offset.js';
import { CLOCK_WARNING_MS, clockBackText, clockOffsetWarning } from '../../src/presentation/clock-warning.js';

describe('readingOf', () => {
  it("takes the midpoint of the question and the answer less the database's time, within half the round trip", () => {
    // Asked at 1000, heard at 1010, the database read 995 (five behind the midpoint): this clock is 10 ahead, ± 5.
    expect(readingOf(1000, 1010, 995)).toEqual({ offsetMs: 10, errorMs: 5 });
    expect(readingOf(1000, 1002, 6001)).toEqual({ offsetMs: -5000, errorMs: 1 });
  });
});

describe('ClockOffset', () => {
  it('answers the reading with the least error of the last ten, none before the first', () => {
    const clock = new ClockOffset();
    expect(clock.best).toBeUndefined();
    clock.add({ offsetMs: 5, errorMs: 30 });
    clock.add({ offsetMs: 2, errorMs: 0.5 });
    clock.add({ offsetMs: -8, errorMs: 12 });
    expect(clock.best).toEqual({ offsetMs: 2, errorMs: 0.5 });
    // Ten more, each agreeing with it, push the sure one out: the best of those ten then.
    for (let i = 0; i < 10; i++) clock.add({ offsetMs: 2 + i * 0.1, errorMs: 1 + i * 0.1 });
    expect(clock.best).toEqual({ offsetMs: 2, errorMs: 1 });
  });

  it('forgets the readings before one that cannot agree with the surest: the clock was set in between', () => {
    const clock = new ClockOffset();
    clock.add({ offsetMs: 0.2, errorMs: 0.5 });
    clock.add({ offsetMs: 0.1, errorMs: 0.3 });
    // Set back five seconds (a virtual machine resumed): surer readings from before no longer hold.
    clock.add({ offsetMs: -5000, errorMs: 0.6 });
    expect(clock.best).toEqual({ offsetMs: -5000, errorMs: 0.6 });
    clock.add({ offsetMs: -4999.8, errorMs: 0.4 });
    expect(clock.best).toEqual({ offsetMs: -4999.8, errorMs: 0.4 });
    // One whose range reaches the surest one's is the same clock, read less surely.
    clock.add({ offsetMs: -4990, errorMs: 12 });
    expect(clock.best).toEqual({ offsetMs: -4999.8, errorMs: 0.4 });
  });

  it('keeps nothing that is not a reading (a clock the database could not say)', () => {
    const clock = new ClockOffset();
    clock.add({ offsetMs: Number.NaN, errorMs: 1 });
    clock.add({ offsetMs: 3, errorMs: -1 });
    expect(clock.best).toBeUndefined();
  });
});

describe('clockOffsetWarning', () => {
  it('says nothing within the bound, or where the error could account for the rest', () => {
    expect(clockOffsetWarning({ offsetMs: 0, errorMs: 0.2 })).toBeUndefined();
    expect(clockOffsetWarning({ offsetMs: -CLOCK_WARNING_MS, errorMs: 0 })).toBeUndefined();
    expect(clockOffsetWarning({ offsetMs: 1500, errorMs: 600 })).toBeUndefined();
  });

  it('names how far and which way, and what that does to expiry', () => {
    expect(clockOffsetWarning({ offsetMs: -5012, errorMs: 0.3 })).toBe(
      "Warning: this server's clock is 5.0 s behind the database's. Each server decides expiry by its own clock, so this server accepts a key up to 5.0 s past its expiry, and dates what it makes 5.0 s early. Set every server's time by NTP.",
    );
    expect(clockOffsetWarning({ offsetMs: 90_000, errorMs: 1 })).toMatch(/clock is 90\.0 s ahead of the database's\..* refuses a key up to 90\.0 s before its expiry, and dates what it makes 90\.0 s late\./);
  });

  it('says a clock is back only within half the bound, so one about a second off is not told of again and again', () => {
    expect(clockBackText({ offsetMs: -900, errorMs: 0.5 })).toBeUndefined();
    expect(clockBackText({ offsetMs: 400, errorMs: 150 })).toBeUndefined();
    expect(clockBackText({ offsetMs: -0.4, errorMs: 0.3 })).toBe("This server's clock is within 1 ms of the database's again.");
    expect(clockBackText({ offsetMs: 300, errorMs: 20 })).toBe("This server's clock is within 320 ms of the database's again.");
  });
});
