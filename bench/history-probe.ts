// One command's question against a history, in a process of its own, as
// `keyward events ls --limit 20`, `usage --since 1h` and `keys ls` ask it of
// the day segments and usage aggregates: prints the question's time and the
// process's peak RSS. (bench/history.ts runs it; until the JSON store serves
// these modules, this is how a command reaches them.)
import { readFileSync } from 'node:fs';
import { EventSegments } from '../packages/core/src/store/json/event-segments.js';
import { UsageAggregates } from '../packages/core/src/store/json/usage-aggregates.js';

const [eventsDir, usageDir, command, keysFile] = process.argv.slice(2);
const keyIds = JSON.parse(readFileSync(keysFile, 'utf8')) as string[];
const segments = new EventSegments(eventsDir);
const usage = new UsageAggregates(usageDir, { rollUpEveryMs: 0 });
const t = process.hrtime.bigint();
let rows = 0;
if (command === 'events') rows = (await segments.find({ limit: 20 })).data.length;
else if (command === 'usage') rows = (await usage.usageSince(Date.now() - 3_600_000)).length;
else if (command === 'keys') {
  // A page of keys: the busy ones and a few never used (the slowest to answer: every file is asked).
  const page = [...keyIds.slice(0, 15), 'k_never_used_1', 'k_never_used_2', 'k_never_used_3', 'k_never_used_4', 'k_never_used_5'];
  rows = [...(await usage.lastUsedOf(page)).values()].filter((u) => u.lastUsed !== undefined).length;
} else throw new Error(`unknown command ${command}`);
const ms = Number(process.hrtime.bigint() - t) / 1e6;
process.stdout.write(JSON.stringify({ ms, rows, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
