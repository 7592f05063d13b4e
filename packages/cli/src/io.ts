// Where a command's answer goes: one JSON document on stdout with --json,
// human text otherwise. Notes about what happened go to stderr so that stdout
// stays clean for scripts (`TOKEN=$(keyward keys create …)`).
//
// Everything the command line prints passes through here and is made inert
// (core's safeLines): a store's text or a server's — a refusal's detail, any
// field of an answer from a hostile server — cannot move the cursor, retitle
// the terminal or change its colours. The command line itself never prints an
// escape sequence, so nothing it means to print is lost.

import { safeJson, safeLines } from '@keyward/core';

/** Writes text for a person, made inert line by line (its line breaks kept). */
export function print(stream: NodeJS.WritableStream, text: string): void {
  stream.write(safeLines(text));
}

export interface Output {
  json: boolean;
  /** Prints the command's answer: `doc` with --json, `text()` otherwise. */
  result(doc: unknown, text: () => string): void;
  /** A note for a person, on stderr (never with --json). */
  note(line: string): void;
}

export function consoleOutput(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(doc, text) {
      if (json) stdout.write(safeJson(doc, 2) + '\n');
      else {
        const t = text();
        if (t) print(stdout, t + '\n');
      }
    },
    note(line) {
      if (!json) print(stderr, line + '\n');
    },
  };
}
