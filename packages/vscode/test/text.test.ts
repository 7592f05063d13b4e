import { writeFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeywardError, lifetimeChoices, refusalCode, refusalText } from '@keyward/core';
import { checkEnvName, envNameFor, setEnvValue, writeEnvValue } from '../src/env-file.js';
import { checkTypedLifetime, lifetimeItems } from '../src/lifetimes.js';
import { timeText } from '../src/time-text.js';
import { tempDir } from './helpers.js';


describe('times', () => {
  it('prints absolute times in UTC to the minute', () => {
    expect(timeText('2026-03-01T12:34:56.789Z')).toBe('2026-03-01 12:34 UTC');
  });
});

describe('refusal text (behaviour §5)', () => {
  it('shows the sentence and the stable code', () => {
    const e = new KeywardError('KEY_LIMIT_REACHED', 'You have 5 active keys, the most allowed.');
    expect(refusalText(e)).toBe('You have 5 active keys, the most allowed. (KEY_LIMIT_REACHED)');
    expect(refusalCode(e)).toBe('KEY_LIMIT_REACHED');
  });

  it('shows other errors as their message, without inventing a code', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(refusalText(new Error('boom'))).toBe('boom');
    expect(refusalCode(new Error('boom'))).toBeUndefined();
    expect(refusalText(e)).toBe('connect ECONNREFUSED 127.0.0.1:1 (ECONNREFUSED)');
  });
});

describe('lifetime choices', () => {
  it('offers the tenant maximum first, then only shorter presets, then a typed one', () => {
    const labels = lifetimeItems('P7D').map((c) => c.label);
    expect(labels).toEqual(['7 days', '1 hour', '8 hours', '1 day', 'Other…']);
    expect(lifetimeItems('P7D')[0].expiry).toBeUndefined();
    expect(lifetimeItems('P365D').map((c) => c.expiry)).toEqual([undefined, 'PT1H', 'PT8H', 'P1D', 'P7D', 'P30D', 'P90D', undefined]);
  });

  it("offers core's choices, the same as the terminal UI's, only in another order", () => {
    for (const max of ['PT30M', 'P1D', 'P7D', 'P30D', 'P2Y']) {
      const offered = lifetimeItems(max).filter((i) => !i.custom).map((i) => i.label);
      expect(offered.sort()).toEqual(lifetimeChoices(max).choices.map((c) => c.label).sort());
    }
  });

  it('offers no preset under a tiny maximum, and the tenant maximum still comes first', () => {
    expect(lifetimeItems('PT30M').map((c) => c.label)).toEqual(['30 minutes', 'Other…']);
  });

  it('checks a typed lifetime against the format and the tenant maximum', () => {
    expect(checkTypedLifetime('P14D', 'P30D')).toBeUndefined();
    expect(checkTypedLifetime('12h', 'P30D')).toBeUndefined();
    expect(checkTypedLifetime('P31D', 'P30D')).toMatch(/longer than the tenant maximum of P30D/i);
    expect(checkTypedLifetime('soon', 'P30D')).toMatch(/not a duration/);
    expect(checkTypedLifetime('P0D', 'P30D')).toMatch(/longer than zero/);
  });
});

describe('.env files', () => {
  it('suggests a variable name from the description', () => {
    expect(envNameFor('CI deploy')).toBe('CI_DEPLOY_API_KEY');
    expect(envNameFor('billing token')).toBe('BILLING_TOKEN');
    expect(envNameFor('  ')).toBe('KEYWARD_API_KEY');
    expect(envNameFor('2nd key')).toBe('KEYWARD_2ND_KEY_API_KEY');
    expect(checkEnvName(envNameFor('Ünïcode – dash'))).toBeUndefined();
  });

  it('refuses names a shell would not read', () => {
    expect(checkEnvName('GOOD_NAME')).toBeUndefined();
    expect(checkEnvName('1BAD')).toBeDefined();
    expect(checkEnvName('BAD-NAME')).toBeDefined();
    expect(checkEnvName('')).toBeDefined();
  });

  it('appends a line, or replaces the line that sets the name, keeping the rest', () => {
    expect(setEnvValue('', 'A', 'x')).toBe('A=x\n');
    expect(setEnvValue('B=1', 'A', 'x')).toBe('B=1\nA=x\n');
    expect(setEnvValue('B=1\nA=old\nC=3\n', 'A', 'x')).toBe('B=1\nA=x\nC=3\n');
    expect(setEnvValue('export A=old\n', 'A', 'x')).toBe('export A=x\n');
    expect(setEnvValue('AB=1\n', 'A', 'x')).toBe('AB=1\nA=x\n');
    expect(setEnvValue('B=1\r\nC=2\r\n', 'A', 'x')).toBe('B=1\r\nC=2\r\nA=x\r\n');
  });

  it('creates a new .env readable by its owner only, and reports a replaced name', async () => {
    const path = join(tempDir(), '.env');
    expect(await writeEnvValue(path, 'K', 'one')).toBe(false);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await writeEnvValue(path, 'K', 'two')).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe('K=two\n');
    writeFileSync(path, 'OTHER=1\n');
    expect(await writeEnvValue(path, 'K', 'three')).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('OTHER=1\nK=three\n');
  });
});
