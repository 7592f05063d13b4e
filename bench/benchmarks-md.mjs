// Renders BENCHMARKS.md from bench/results.json, the stress figures and the
// machine the run happened on. Everything is regenerated except the notes
// between the two markers below, which are kept as a person wrote them.

const NOTES_START = '<!-- notes: kept by bench/run.mjs when it regenerates this file -->';
const NOTES_END = '<!-- end of notes -->';

const DEFAULT_NOTES = `## Notes

- **Method.** Every ratio comes from one run in which Keyward and its baseline
  were measured in alternating rounds (the median of each side is kept), so a
  change in the machine's load hits both alike. Absolute figures move with the
  load of the machine (2 cores, shared with other work while these ran); ratios
  move much less. A goal of \`report\` means the figure is shown side by side,
  with no target. \`--quick\` runs two scripts at a time and is only a smoke run.
  Sizes are measured one after another, so across sizes (1k beside 100k) the
  load can differ: a 1k figure below its 100k figure says the machine got busier.
- **The peer.** better-auth 1.7.5's API-key plugin (\`bench/peer/\`), set up as
  its documentation does — \`betterAuth()\` with \`apiKey()\` over better-sqlite3
  12, schema from its own migrations — and called server-side without HTTP
  (\`auth.api.verifyApiKey\`, \`auth.api.createApiKey\`). In its favour: the per-key
  rate limit is off (it defaults to 10 uses a day) and SQLite runs in WAL mode with
  synchronous=NORMAL. Its verify updates the key's row on every call; Keyward's
  counts the use in memory and writes usage as events on an interval. For 100k
  keys the peer's table is filled with one key per user created through its API
  and the rest inserted as copies of those rows in one transaction, with keys in
  its format and hashed as its \`defaultKeyHasher\` does (SHA-256, base64url;
  checked against it for every sampled key); the sampled keys verify through its API.
- **Creating keys** is where the peer wins: Keyward keeps the tenant in one JSON
  document and rewrites it, fsynced, on every change (the cost model of
  DESIGN.md, bounded by issue 2's "≤ 2× a bare rewrite"), so a create costs
  O(keys) — about as fast as SQLite at 1k keys with an fsync per commit, and
  hundreds of times slower at 100k. A SQL store behind the same interface is the
  way out if tenants hold that many keys.
- **Mixed HTTP load.** Each create rewrites and fsyncs the document with
  synchronous calls on the server's event loop, and the list index and the
  per-owner active-key memo are rebuilt after each change; every request waits
  behind that. A CPU profile of \`keyward serve\` under the mix (5% creates)
  showed about a fifth of its time in fsync, a sixth writing the document and
  about a tenth rebuilding the memos. Reads alone (\`bench/http.ts\`) keep
  within 0.6× of the bare floor.
- **Stress.** Property-based tests of the engine
  (\`packages/core/test/property.test.ts\`, fast-check: 100 random runs of up to
  40 actions by random actors under random settings, on a real JSON store, with
  every invariant checked after every action) run with \`pnpm test\`, as do a
  60-second stress run with 20 kills (\`test/stress.test.ts\`) and 25 s of HTTP
  fuzzing (\`test/fuzz-http.test.ts\`).
`;

const fmt = (x) => (typeof x !== 'number' ? String(x) : Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : String(Math.round(x * 100) / 100));
const cell = (s) => String(s).replace(/\|/g, '\\|');

function verdict(ratio, goal) {
  const m = /^(>=|<=)\s*([\d.]+)$/.exec(String(goal).trim());
  if (!m) return '—';
  return (m[1] === '>=' ? ratio >= Number(m[2]) : ratio <= Number(m[2])) ? 'ok' : '**missed**';
}

function keptNotes(previous) {
  const a = previous.indexOf(NOTES_START);
  const b = previous.indexOf(NOTES_END);
  if (a < 0 || b < a) return DEFAULT_NOTES;
  return previous.slice(a + NOTES_START.length, b).replace(/^\n+|\n+$/g, '') + '\n';
}

function stressSection(s) {
  if (!s) return '## Stress\n\nNot run yet: `npx -y pnpm@10.34.9 stress`.\n';
  const ops = Object.entries(s.mixed.operations)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
  const rss = s.mixed.serverRssMiB;
  return `## Stress

From \`${s.command}\` (${s.date}); failures are broken invariants, unexpected
answers, 5xx responses and crashes.

| part | what ran | operations | invariants checked | failures |
| --- | --- | ---: | ---: | ---: |
| mixed load | ${s.mixed.seconds} s: ${s.mixed.processes} engine processes on one JSON store + ${s.mixed.httpClients} HTTP clients against \`keyward serve\` on the same store | ${fmt(s.mixed.operationCount)} | ${fmt(s.mixed.invariantsChecked)} | ${s.mixed.failures} |
| crash loop | ${s.crash.iterations} writers killed with SIGKILL at a random moment (${s.crash.engineKills} engine processes, ${s.crash.serverKills} \`keyward serve\` under load) | ${fmt(s.crash.acknowledgedWrites)} acknowledged writes | ${fmt(s.crash.invariantsChecked)} | ${s.crash.failures} |
| HTTP fuzz | ${s.fuzz.seconds} s of random methods, paths, headers and bodies against \`keyward serve\` | ${fmt(s.fuzz.requests)} requests | ${fmt(s.fuzz.invariantsChecked)} | ${s.fuzz.failures} |
| **all** | | ${fmt(s.operations)} | ${fmt(s.invariantsChecked)} | **${s.failures}** |

Mixed-load operations: ${ops}; refusals that the rules call for (key limit
reached, and the like): ${fmt(s.mixed.expectedRefusals)}; HTTP statuses seen:
${Object.entries(s.mixed.httpStatuses)
    .map(([k, v]) => `${k} × ${fmt(v)}`)
    .join(', ')}.
Server memory (RSS): ${rss.start} MiB at start, ${rss.peak} MiB at peak, ${rss.end} MiB at the end
(store: ${fmt(s.mixed.keysAtEnd)} keys, ${fmt(s.mixed.eventsAtEnd)} events at the end).
Fuzz statuses: ${Object.entries(s.fuzz.statuses)
    .map(([k, v]) => `${k} × ${fmt(v)}`)
    .join(', ')}; ${fmt(s.fuzz.unanswered ?? 0)} requests cut short on purpose went
unanswered (any other request without an answer is a failure).
Crash loop: ${fmt(s.crash.inFlightAtKill)} operations were in flight at a kill (either outcome is right),
${fmt(s.crash.tornEventLines)} event-log lines were cut short (the log is not fsynced, by design), and
${fmt(s.crash.leftoverTempFiles)} temporary files of killed writers were left beside the store.
${s.failureSamples?.length ? `\nFirst failures:\n\n${s.failureSamples.map((f) => `- ${cell(f)}`).join('\n')}\n` : ''}`;
}

export function renderMarkdown({ results, run, stress, previous }) {
  const rows = Object.entries(results).map(
    ([name, m]) => `| ${cell(name)} | ${fmt(m.value)} ${m.unit} | ${fmt(m.baseline)} ${m.unit} | ${fmt(m.ratio)} | ${cell(m.goal)} | ${verdict(m.ratio, m.goal)} | ${cell(m.against)} |`,
  );
  return `# Benchmarks

Generated by \`bench/run.mjs\` from \`bench/results.json\` — edit only the notes
section; run \`npx -y pnpm@10.34.9 bench\` to regenerate the rest.

## Machine

| | |
| --- | --- |
| CPU | ${cell(run.cpu)} |
| cores | ${run.cores} |
| memory | ${run.memoryGiB} GiB |
| Node.js | ${run.node} |
| date | ${run.date} |
| command | \`${run.command}\` (${run.seconds} s) |

## Speed

| measure | Keyward | baseline | ratio | goal | ok | baseline is |
| --- | ---: | ---: | ---: | --- | --- | --- |
${rows.join('\n')}

${stressSection(stress)}
${NOTES_START}
${keptNotes(previous)}${NOTES_END}
`;
}
