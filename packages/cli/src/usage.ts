// The command overview of behaviour §6, and the per-command usage lines. Shown for
// `--help` (`keyward help`, `keyward COMMAND --help`), and on stderr with exit
// code 2 after a usage mistake.

const INTRO = 'Keyward — API keys: who may create them, how long they live, who uses them.';

/** One line per command, as `keyward --help` lists them. */
const COMMAND_LINES = `  keyward [--refresh SECONDS]               the terminal UI; it looks for others' changes every 2 s
  keyward init [--tenant NAME] [--admin USER]
  keyward settings
  keyward settings set [--enabled on|off] [--max-expiry DURATION] [--max-keys N] [--excessive-use N] [--retention DURATION]
  keyward users ls
  keyward users add USER [--licence]
  keyward users set USER [--licence on|off] [--developer on|off] [--admin on|off]
  keyward users rm USER [--yes]             revokes the user's active keys, then removes the user
  keyward keys ls [--search TEXT] [--status active|expired|revoked] [--owner USER] [--sort FIELD] [--limit N]
  keyward keys create --description TEXT [--expiry DURATION]
  keyward keys get ID
  keyward keys rename ID DESCRIPTION
  keyward keys revoke ID... [--yes]        several at once: confirm, or --yes in scripts
  keyward keys rm ID... [--yes] | keyward keys rm --all [--yes]
  keyward keys rotate ID [--overlap DURATION]  a new token for the key, printed once; the old one works PT1H more
  keyward keys verify TOKEN|-               exit 0 when it authenticates, 1 when not
  keyward events ls [--type TYPE] [--hide-usage] [--key ID] [--user USER] [--since DURATION|TIME] [--limit N]
  keyward usage [--since DURATION|TIME]     uses per key, most used first
  keyward scan [PATH...] [--staged] [--revoke]  find Keyward tokens in files (or the git index)
  keyward serve [--host 127.0.0.1] [--port 8787] [--trust-proxy CIDR,…] [--leak-keys FILE] [--db-connections N] [--metrics-port N]
  keyward store copy --from STORE --to STORE  move a tenant between stores (an empty target only)
  keyward help [COMMAND]                    every command, or one command's (also keyward COMMAND --help)
  keyward --version                         which keyward this is`;

const EVERYWHERE = `Everywhere
  --store STORE    a JSON store's path or postgres://USER:PASS@HOST:PORT/DB (or KEYWARD_STORE;
                   default: a JSON store in your data directory)
  --as USER        who acts on a local store (or KEYWARD_USER; default: your login name)
  --server URL     work against a Keyward server (or KEYWARD_SERVER), with KEYWARD_TOKEN
  --json           print one JSON document on stdout

Durations: ISO 8601 (P30D, P2W, PT12H, PT2S) or 2w, 30d, 12h, 90m, 45s.`;

export const OVERVIEW = `${INTRO}\n\nUsage\n${COMMAND_LINES}\n\n${EVERYWHERE}`;

/**
 * The help for `topic`, as typed: "ui" (bare `keyward`) gets the overview; a
 * command ("keys ls") or a noun ("keys": all of its commands) gets its own
 * lines of it, and what every command takes.
 */
export function helpFor(topic: string): string {
  if (topic === 'ui') return OVERVIEW;
  const prefix = `  keyward ${topic}`;
  const lines = COMMAND_LINES.split('\n').filter((l) => l === prefix || l.startsWith(prefix + ' '));
  const options = OPTIONS[topic];
  return `Usage\n${lines.join('\n')}\n\n${options ? `Options\n${options}\n\n` : ''}${EVERYWHERE}`;
}

/** What a command's options do, where its usage line alone does not say (an operator setting up servers). */
const OPTIONS: Record<string, string> = {
  serve: `  --host ADDRESS        where to listen (127.0.0.1: exposing the API is a decision; 0.0.0.0 for every interface)
  --port N              the API's port (8787; 0 picks a free one, announced on stderr)
  --trust-proxy CIDR,…  proxies whose X-Forwarded-For names the client (none: the socket's address is the client's)
  --leak-keys FILE      GitHub's secret scanning public keys: signed leak reports revoke the keys they name
  --db-connections N    on PostgreSQL, this server's most connections to the database (10; one more for the change feed)
  --metrics-port N      GET /metrics on this port of the same host, in Prometheus' text format (off without it)`,
};

export const COMMAND_USAGE: Record<string, string> = {
  init: 'keyward init [--tenant NAME] [--admin USER]',
  settings: 'keyward settings',
  'settings set': 'keyward settings set [--enabled on|off] [--max-expiry DURATION] [--max-keys N] [--excessive-use N] [--retention DURATION]',
  'users ls': 'keyward users ls',
  'users add': 'keyward users add USER [--licence]',
  'users set': 'keyward users set USER [--licence on|off] [--developer on|off] [--admin on|off]',
  'users rm': 'keyward users rm USER [--yes]',
  'keys ls': 'keyward keys ls [--search TEXT] [--status active|expired|revoked] [--owner USER] [--sort FIELD] [--limit N]',
  'keys create': 'keyward keys create --description TEXT [--expiry DURATION]',
  'keys get': 'keyward keys get ID',
  'keys rename': 'keyward keys rename ID DESCRIPTION',
  'keys revoke': 'keyward keys revoke ID... [--yes]',
  'keys rm': 'keyward keys rm ID... [--yes] | keyward keys rm --all [--yes]',
  'keys rotate': 'keyward keys rotate ID [--overlap DURATION]',
  'keys verify': 'keyward keys verify TOKEN|-',
  'events ls': 'keyward events ls [--type TYPE] [--hide-usage] [--key ID] [--user USER] [--since DURATION|TIME] [--limit N]',
  usage: 'keyward usage [--since DURATION|TIME]',
  scan: 'keyward scan [PATH...] [--staged] [--revoke]',
  serve: 'keyward serve [--host 127.0.0.1] [--port 8787] [--trust-proxy CIDR,…] [--leak-keys FILE] [--db-connections N] [--metrics-port N]',
  'store copy': 'keyward store copy --from STORE --to STORE',
};
