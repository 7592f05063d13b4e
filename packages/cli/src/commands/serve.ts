import { readFileSync } from 'node:fs';
import { KeywardError, isPostgresUrl, printable, reasonOnly, storeLocation } from '@keyward/core';
import type { ParsedCommand } from '../argv.js';
import { actorOf, storeChoice, whenMissing } from '../connect.js';
import { expectArgs } from './command.js';
import { print } from '../io.js';
import { wholeNumber } from '../options.js';

/** `keyward serve`: the HTTP API on the local store until SIGINT/SIGTERM, which flush usage. */
export async function serve(cmd: ParsedCommand, env: NodeJS.ProcessEnv): Promise<number> {
  expectArgs(cmd, 0, 0, '');
  const { startServer, closeOnSignals, parseLeakKeys, parseTrustedProxies, DEFAULT_HOST, DEFAULT_PORT } = await import('@keyward/server');
  const host = (cmd.flags.host as string | undefined) ?? DEFAULT_HOST;
  const port = portOf((cmd.flags.port as string | undefined) ?? String(DEFAULT_PORT), '--port');
  // GitHub's public keys for secret scanning reports, as it publishes them.
  const leakKeysFile = cmd.flags.leakKeys as string | undefined;
  const leakKeys = leakKeysFile === undefined ? undefined : parseLeakKeys(readFileSync(leakKeysFile, 'utf8'), leakKeysFile);
  const trustProxy = typeof cmd.flags.trustProxy === 'string' ? parseTrustedProxies(cmd.flags.trustProxy) : undefined;
  const choice = storeChoice(cmd, env);
  const path = choice.path;
  const dbConnections = connectionsOf(cmd.flags.dbConnections as string | undefined, path);
  const metricsText = cmd.flags.metricsPort as string | undefined;
  const metricsPort = metricsText === undefined ? undefined : portOf(metricsText, '--metrics-port');
  // Created at the default location on the very first run, as for any command.
  const missing = whenMissing(choice, actorOf(cmd, env), (line) => print(process.stderr, line + '\n'));
  // The server logs one JSON line per request to stdout, and refuses a port
  // it cannot listen on with UNAVAILABLE.
  // A database that cannot answer yet (starting, in a failover) is waited for, answering 503 meanwhile,
  // not given up on: a supervisor restarting an exited server backs off, and would keep it down longer.
  const whenStoreAway = (why: KeywardError) =>
    print(process.stderr, `${reasonOnly(why)}. Listening anyway: requests that need it are answered 503 until it answers.\n`);
  const whenClockOff = (line: string) => print(process.stderr, `${line}\n`);
  const server = await startServer({ storePath: path, missing, host, port, leakKeys, trustProxy, dbConnections, metricsPort, whenStoreAway, whenClockOff });
  print(process.stderr, `Keyward server listening on ${server.url} (store ${storeLocation(path)}); Ctrl-C stops it.\n`);
  if (server.metricsUrl) print(process.stderr, `Metrics for Prometheus at ${server.metricsUrl}\n`);
  const signal = await closeOnSignals(server);
  print(process.stderr, `Stopped on ${signal}; usage flushed.\n`);
  return 0;
}

/** A port option's number, 0 (a free one) to 65535. */
function portOf(text: string, flag: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new KeywardError('INVALID_INPUT', `${flag} takes a port number from 0 to 65535, not "${printable(text)}".`);
  return Number(text);
}

/**
 * `--db-connections N`: how many connections this server's pool may hold on a
 * PostgreSQL store (10 by default, and one more for the change feed), so that
 * servers × N fits the database's max_connections. At least 2: half the pool
 * at most runs transactions, so that reads always find a connection.
 */
function connectionsOf(text: string | undefined, path: string): number | undefined {
  const n = wholeNumber(text, '--db-connections', 'INVALID_INPUT', { min: 2, max: 1000 });
  if (n !== undefined && !isPostgresUrl(path)) throw new KeywardError('INVALID_INPUT', `--db-connections is for a PostgreSQL store (postgres://…); ${storeLocation(path)} is a JSON store, which holds no connections.`);
  return n;
}
