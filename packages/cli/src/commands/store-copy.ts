import { existsSync } from 'node:fs';
import { type CopyProgress, copyStore, isPostgresUrl, KeywardError, openStore, safeText, storeLocation } from '@keyward/core';
import type { ParsedCommand } from '../argv.js';
import type { Output } from '../io.js';
import { serverOf, storeTarget } from '../connect.js';
import { UsageError } from '../usage-error.js';
import { expectArgs } from './command.js';

/** `keyward store copy --from A --to B`: a tenant moved between any two stores (core's copyStore does the work). */
export async function storeCopy(cmd: ParsedCommand, env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  expectArgs(cmd, 0, 0, '');
  if (serverOf(cmd, env)) throw new KeywardError('INVALID_INPUT', '`keyward store copy` works on stores, not through a server; run it without --server.');
  const named = (flag: 'from' | 'to') => {
    const v = cmd.flags[flag];
    if (typeof v !== 'string' || v === '') throw new UsageError(`Missing --${flag} STORE.`, cmd.usage);
    return storeTarget(v);
  };
  const from = named('from');
  const to = named('to');
  // Copying from a path that does not exist would create an empty store there first.
  if (!isPostgresUrl(from) && !existsSync(from)) throw new KeywardError('UNAVAILABLE', `There is no Keyward store at ${storeLocation(from)} to copy.`);
  const source = await openStore(from);
  try {
    const target = await openStore(to);
    try {
      const r = await copyStore(source, target, undefined, progressNotes(out));
      out.result({ from: storeLocation(from), to: storeLocation(to), ...r }, () =>
        [
          `Copied tenant "${safeText(r.tenant)}" from ${storeLocation(from)} to ${storeLocation(to)}:`,
          `  ${count(r.users, 'user')}, ${count(r.keys, 'key')}, ${count(r.events, 'event')}, usage of ${count(r.keysWithUsage, 'key')}.`,
          'Every token works against the new store.',
        ].join('\n'),
      );
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
  return 0;
}

/** "1 key", "2 keys". */
const count = (n: number, word: string) => `${grouped(n)} ${word}${n === 1 ? '' : 's'}`;

/** How often, at most, a copy says how far it got. */
const PROGRESS_EVERY_MS = 5_000;

/**
 * Lines on stderr saying how far a copy got, for a person watching a
 * terminal: a million events take a minute or two, which silence made look
 * like a hang. At most one line every few seconds (new lines: the command
 * line prints no escape sequence, so none is rewritten in place), and one
 * when the keys are done. The events go oldest first, read once, so how many
 * there are is known only at the end: a line says how far in time the copy
 * has got. Nothing for a script (stderr not a terminal, or --json).
 */
function progressNotes(out: Output, stderr: NodeJS.WriteStream = process.stderr): ((p: CopyProgress) => void) | undefined {
  if (out.json || !stderr.isTTY) return undefined;
  let last = performance.now();
  let toldKeys = false;
  return (p) => {
    const now = performance.now();
    const keysJustDone = p.keysCopied && !toldKeys;
    if (!keysJustDone && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    toldKeys ||= keysJustDone;
    if (keysJustDone) out.note(`${count(p.keys, 'key')} copied; copying the events, oldest first…`);
    else if (!p.keysCopied) out.note(`${count(p.keys, 'key')} copied so far…`);
    else out.note(`${count(p.events, 'event')} copied${p.eventsThrough === undefined ? '' : `, through ${minuteOf(p.eventsThrough)}`}…`);
  };
}

/** 1764590400000 → "2025-12-01 12:00 UTC": when an event happened, to the minute. */
const minuteOf = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** 1234567 → "1,234,567". */
const grouped = (n: number) => n.toLocaleString('en-US');
