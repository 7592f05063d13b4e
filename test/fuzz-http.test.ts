// HTTP fuzzing of a real `keyward serve` for a fixed time (bench/stress/
// fuzz-http.ts): random methods, paths, headers and bodies — huge, truncated,
// deeply nested, bad UTF-8, bad JSON Patch, broken framing. Never a 5xx,
// never a crash, every error in behaviour §3's shape.
import { describe, expect, it } from 'vitest';
import { runFuzzAgainstServe } from '../bench/stress/fuzz-serve.js';

describe('HTTP fuzz', () => {
  it('answers 25 s of random requests without a 5xx, a crash or an error outside the API shape', async () => {
    const seed = Date.now() % 1_000_000;
    const { figures, tally } = await runFuzzAgainstServe({ seconds: 25, seed });
    expect(tally.samples, `seed ${seed}`).toEqual([]);
    expect(tally.failures).toBe(0);
    // The fuzz got through to the handlers, not only to the door.
    expect(figures.requests).toBeGreaterThan(200);
    const statuses = Object.keys(figures.statuses).map(Number);
    expect(statuses.some((s) => s >= 200 && s < 300)).toBe(true);
    expect(statuses.filter((s) => s >= 400).length).toBeGreaterThan(3);
    expect(statuses.every((s) => s < 500)).toBe(true);
  }, 120_000);
});
