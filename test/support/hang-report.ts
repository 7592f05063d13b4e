// What a `keyward` command that does not end was doing. A CLI command of a
// test once printed nothing for 60 s in CI and was killed (status -1), and a
// quiet machine never did it again: this makes the next such hang say where
// it waits. The command runs under coreutils' `timeout`, which first asks
// node for a diagnostic report and kills it a moment later. The report goes
// to a private folder made for the call and deleted after it (on stderr it
// was cut short: node writes it in one go to a non-blocking pipe), and is cut
// down to what tells the wait apart (the JavaScript stack, the event loop's
// handles: timers, watches, sockets; workers) — never its environment or
// command line, which may hold a store URL's password or a token.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How long a command may run before its report is asked for, and how long after that it is killed. */
const REPORT_AFTER_S = 75;
const KILL_AFTER_S = 5;
/** spawnSync's own timeout, behind the wrapper's: a backstop only. */
export const BACKSTOP_MS = (REPORT_AFTER_S + KILL_AFTER_S + 10) * 1000;

/**
 * Runs `run(command, argv)`, where they run `node ARGS` under the wrapper,
 * and hands back its result and, if the command hung, a summary of its report.
 */
export function withHangReport<T>(node: string, args: string[], run: (command: string, argv: string[]) => T): { result: T; hang?: string } {
  const dir = mkdtempSync(join(tmpdir(), 'keyward-hang-'));
  try {
    const result = run('timeout', ['-s', 'USR2', '-k', `${KILL_AFTER_S}s`, `${REPORT_AFTER_S}s`, node, '--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${dir}`, ...args]);
    const report = readdirSync(dir)[0];
    return { result, hang: report === undefined ? undefined : summarise(readFileSync(join(dir, report), 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Report {
  header?: { nodejsVersion?: string; processId?: number };
  javascriptStack?: { message?: string; stack?: string[] };
  libuv?: { type: string; is_active?: boolean; is_referenced?: boolean; [k: string]: unknown }[];
  workers?: unknown[];
}

/** What the report says the process waited on. */
function summarise(text: string): string {
  let report: Report;
  try {
    report = JSON.parse(text) as Report;
  } catch {
    return `[still running after ${REPORT_AFTER_S} s; its diagnostic report does not parse]`;
  }
  const handles = (report.libuv ?? [])
    .filter((h) => h.is_active)
    .map((h) => {
      const { type, is_active: _a, is_referenced: ref, address: _ad, ...rest } = h;
      return `  ${type}${ref === false ? ' (unref)' : ''} ${JSON.stringify(rest)}`;
    });
  return [
    `[still running after ${REPORT_AFTER_S} s: node ${report.header?.nodejsVersion}]`,
    `JavaScript stack: ${report.javascriptStack?.message ?? ''}`,
    ...(report.javascriptStack?.stack ?? []).map((l) => `  ${l}`),
    `active handles (${handles.length}):`,
    ...handles,
    `workers: ${report.workers?.length ?? 0}`,
  ].join('\n');
}
