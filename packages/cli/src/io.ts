// Where a command's answer goes: one JSON document on stdout with --json,
// human text otherwise. Notes about what happened go to stderr so that stdout
// stays clean for scripts (`TOKEN=$(keyward keys create …)`).

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
      if (json) stdout.write(JSON.stringify(doc, null, 2) + '\n');
      else {
        const t = text();
        if (t) stdout.write(t + '\n');
      }
    },
    note(line) {
      if (!json) stderr.write(line + '\n');
    },
  };
}
