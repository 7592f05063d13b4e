// Splits `keyward <noun> [verb] …` into a command and its flags. meow parses
// the flags of each command with that command's own spec, because the same
// flag name means different things in different commands (`--licence` is a
// switch for `users add` and takes on|off for `users set`).

import meow from 'meow';
import { printable } from '@keyward/core';
import { COMMAND_USAGE, OVERVIEW, helpFor } from './usage.js';
import { UsageError } from './usage-error.js';
import { closest } from './suggest.js';

/** `values`: the only texts the option takes; anything else is a usage mistake (exit 2). */
type FlagSpec = { type: 'string' | 'boolean'; aliases?: string[]; values?: readonly string[] };
type Spec = Record<string, FlagSpec>;

const GLOBAL: Spec = {
  store: { type: 'string' },
  as: { type: 'string' },
  server: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', aliases: ['h'] },
  version: { type: 'boolean' },
};
// Options whose value is a word of its own, not the command: the global ones, and the bare UI's --refresh.
const WITH_VALUE_BEFORE_COMMAND = new Set(['--store', '--as', '--server', '--refresh']);

const s = (): FlagSpec => ({ type: 'string' });
const b = (): FlagSpec => ({ type: 'boolean' });

/** Each command's own flags, beside the global ones. */
const COMMANDS: Record<string, Spec> = {
  ui: { refresh: s() },
  init: { tenant: s(), admin: s() },
  settings: {},
  'settings set': { enabled: s(), maxExpiry: s(), maxKeys: s(), excessiveUse: s(), retention: s() },
  'users ls': {},
  'users add': { licence: { type: 'boolean', aliases: ['license'] } },
  'users set': { licence: { type: 'string', aliases: ['license'] }, developer: s(), admin: s() },
  'users rm': { yes: b() },
  'keys ls': { search: s(), status: { type: 'string', values: ['active', 'expired', 'revoked'] }, owner: s(), sort: s(), limit: s() },
  'keys create': { description: s(), expiry: s() },
  'keys rotate': { overlap: s() },
  'keys get': {},
  'keys rename': {},
  'keys revoke': { yes: b() },
  'keys rm': { all: b(), yes: b() },
  'keys verify': {},
  'events ls': { type: s(), hideUsage: b(), key: s(), user: s(), since: s(), limit: s() },
  usage: { since: s() },
  scan: { staged: b(), revoke: b() },
  serve: { host: s(), port: s(), leakKeys: s(), trustProxy: s(), dbConnections: s(), metricsPort: s() },
  'store copy': { from: s(), to: s() },
};

const NOUNS_WITH_VERBS: Record<string, { verbs: string[]; default?: string }> = {
  settings: { verbs: ['set'] },
  users: { verbs: ['ls', 'add', 'set', 'rm'], default: 'ls' },
  keys: { verbs: ['ls', 'create', 'get', 'rename', 'revoke', 'rm', 'rotate', 'verify'], default: 'ls' },
  events: { verbs: ['ls'], default: 'ls' },
  store: { verbs: ['copy'] },
};

export interface ParsedCommand {
  /** e.g. "keys ls"; "ui" for bare `keyward`. */
  name: string;
  args: string[];
  flags: Record<string, string | boolean | undefined>;
  json: boolean;
  help: boolean;
  /** What the help is about, as typed: the command's name, or only its noun ("keys": all of its commands). */
  topic: string;
  /** keyward's version (its package's), when --version asked for it. */
  version?: string;
  usage: string;
}

/** Indexes of the leading positional words, skipping the values of global flags. */
function positionalIndexes(argv: string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (WITH_VALUE_BEFORE_COMMAND.has(a)) i++;
      continue;
    }
    out.push(i);
    if (out.length === 2) break;
  }
  return out;
}

/** Words that may follow `keyward`, for "did you mean". */
const TOP_LEVEL = [...Object.keys(NOUNS_WITH_VERBS), ...Object.keys(COMMANDS).filter((c) => c !== 'ui' && !c.includes(' '))];

/**
 * An option the command does not take, named as it was typed (`-j`, `--desc`), with the nearest one it does.
 * The name is echoed through printable from the typed text: a token pasted as an option (`--kw_…`) is named by
 * its key id only — meow's own name for it is the token lowercased and hyphenated, secret and all, which
 * printable would no longer recognise as a token.
 */
function unknownOption(key: string, argv: string[], options: string[], command: string): string {
  const long = argv.some((a) => a === `--${key}` || a.startsWith(`--${key}=`));
  const typed = key.length === 1 && !long ? `-${key}` : (typedLongOption(key, argv) ?? `--${kebab(key)}`);
  const word = kebab(key);
  const guess = word.length === 1 ? (options.filter((o) => o.startsWith(word)).length === 1 ? options.find((o) => o.startsWith(word)) : undefined) : closest(word, options);
  return `Unknown option ${printable(typed, 64)} for \`keyward${command === 'ui' ? '' : ' ' + command}\`${guess ? `; did you mean --${guess}?` : '.'}`;
}

/**
 * The long option of argv that meow read as `key`, as typed (`--kw_…`, without any `=value`). meow's name is
 * camel-cased, which drops dashes and underscores and changes case, so names are compared without either.
 */
function typedLongOption(key: string, argv: string[]): string | undefined {
  const bare = (name: string) => name.replace(/[-_]/g, '').toLowerCase();
  const typed = argv.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]);
  return typed.find((t) => t === `--${key}` || t === `--${kebab(key)}`) ?? typed.find((t) => [t.slice(2), t.replace(/^--no-/, '')].some((n) => bare(n) === bare(key)));
}

/** `--sort -expiry` as `--sort=-expiry`: a descending sort is a value, not options -e -x …. */
function signedSortValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--sort' && /^[+-][A-Za-z]+$/.test(argv[i + 1] ?? '')) out.push(`--sort=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

export function parseArgv(typed: string[]): ParsedCommand {
  // `keyward help [COMMAND]` is `keyward [COMMAND] --help`.
  const first = positionalIndexes(typed)[0];
  const argv = first !== undefined && typed[first] === 'help' ? [...typed.filter((_, i) => i !== first), '--help'] : typed;
  const jsonWanted = argv.includes('--json');
  const pos = positionalIndexes(argv);
  let name = 'ui';
  let topic = 'ui';
  const drop: number[] = [];
  if (pos.length > 0) {
    const noun = argv[pos[0]];
    const withVerbs = NOUNS_WITH_VERBS[noun];
    if (withVerbs) {
      const verb = pos.length > 1 ? argv[pos[1]] : undefined;
      if (verb !== undefined && withVerbs.verbs.includes(verb)) {
        name = topic = `${noun} ${verb}`;
        drop.push(pos[0], pos[1]);
      } else if (verb === undefined || pos[1] !== pos[0] + 1) {
        name = withVerbs.default ? `${noun} ${withVerbs.default}` : noun;
        topic = noun;
        drop.push(pos[0]);
      } else {
        const guess = closest(verb, withVerbs.verbs);
        const hint = guess ? `did you mean \`keyward ${noun} ${guess}\`?` : noun === 'settings' ? 'use `keyward settings` or `keyward settings set`.' : `use one of: ${withVerbs.verbs.join(', ')}.`;
        // printable: a token pasted where the verb belongs is named by its key id only.
        throw new UsageError(`"${printable(verb)}" is not a ${noun} command; ${hint}`, helpFor(noun));
      }
    } else if (COMMANDS[noun] && noun !== 'ui') {
      name = topic = noun;
      drop.push(pos[0]);
    } else {
      const guess = closest(noun, TOP_LEVEL);
      throw new UsageError(`"${printable(noun)}" is not a keyward command${guess ? `; did you mean \`keyward ${guess}\`?` : '.'}`, OVERVIEW);
    }
  }
  const spec: Spec = { ...GLOBAL, ...COMMANDS[name] };
  const rest = signedSortValues(argv.filter((_, i) => !drop.includes(i)));
  const cli = meow(OVERVIEW, {
    importMeta: import.meta,
    argv: rest,
    flags: spec,
    allowUnknownFlags: true,
    autoHelp: false,
    autoVersion: false,
    booleanDefault: undefined,
  });
  const known = new Set<string>();
  for (const [k, v] of Object.entries(spec)) {
    known.add(k);
    for (const a of v.aliases ?? []) known.add(a);
  }
  const usage = COMMAND_USAGE[name] ?? OVERVIEW;
  for (const k of Object.keys(cli.unnormalizedFlags)) {
    if (!known.has(k) && !known.has(k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()))) {
      throw new UsageError(unknownOption(k, rest, Object.keys(spec).map(kebab), name), usage);
    }
  }
  const flags: Record<string, string | boolean | undefined> = {};
  for (const [k, v] of Object.entries(spec)) {
    const value = (cli.flags as Record<string, unknown>)[k];
    if (value === undefined) continue;
    if (Array.isArray(value)) throw new UsageError(`--${kebab(k)} may be given only once.`, usage);
    // An empty description is the engine's to refuse (INVALID_INPUT, as one of spaces), not a typing mistake.
    if (v.type === 'string' && (typeof value !== 'string' || (value === '' && k !== 'description'))) {
      throw new UsageError(`--${kebab(k)} needs a value.`, usage);
    }
    if (v.values && !v.values.includes(String(value))) {
      const guess = closest(String(value), v.values);
      throw new UsageError(`--${kebab(k)} takes ${v.values.join(', ')}, not "${printable(String(value))}"${guess ? `; did you mean ${guess}?` : '.'}`, usage);
    }
    flags[k] = value as string | boolean;
  }
  return {
    name,
    args: cli.input.map(String),
    flags,
    json: jsonWanted || flags.json === true,
    help: flags.help === true,
    topic,
    // meow reads it from keyward's package.json, beside the built program.
    version: flags.version === true ? cli.pkg.version : undefined,
    usage,
  };
}
