// Every shell example of README.md and packages/server/README.md, run as
// written: each file's ```sh blocks, in order, as one bash script, with
// `keyward` on the PATH (a temporary bin dir, as an installed keyward would
// be), a temporary HOME and working directory, and no KEYWARD_* from the
// machine. Every command must succeed; the first that fails fails the test,
// naming its line. Two liberties, both so that tests can run side by side:
// the port 8787 becomes a free one, and `keyward serve`, the one command
// that runs until stopped, runs in the background until the script ends.
//
// A block the test cannot run (one that installs, or runs the whole test
// suite) is marked by `<!-- not run: REASON -->` on the line before it.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, keywardBinDir, repoRoot, tempDir } from './support/keyward.js';

interface Block {
  /** 1-based line of the first command in the file. */
  line: number;
  lines: string[];
  skip?: string;
}

function shellBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(sh|bash|shell)\s*$/.test(lines[i])) continue;
    const marker = /^<!-- not run: (.+) -->$/.exec(lines[i - 1] ?? '');
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i]);
    blocks.push({ line: start + 1, lines: body, skip: marker?.[1] });
  }
  return blocks;
}

/** One bash script that runs the blocks' commands in order and stops at the first that fails. */
function scriptOf(file: string, blocks: Block[], port: number): string {
  const out = ['trap \'kill $(jobs -p) 2>/dev/null\' EXIT', 'SERVE_LOG=$(mktemp)'];
  for (const b of blocks.filter((x) => !x.skip)) {
    for (let j = 0; j < b.lines.length; j++) {
      let cmd = b.lines[j];
      const at = b.line + j;
      while (cmd.endsWith('\\') && j + 1 < b.lines.length) cmd = cmd.slice(0, -1) + ' ' + b.lines[++j].trim();
      // A trailing comment would swallow what is appended below.
      cmd = cmd.replace(/\s+#\s.*$/, '').replaceAll('8787', String(port)).trim();
      if (cmd === '' || cmd.startsWith('#')) continue;
      const where = `${file}:${at}`;
      if (/^keyward serve\b/.test(cmd)) {
        out.push(`${cmd} 2>"$SERVE_LOG" &`);
        out.push(`for i in $(seq 200); do grep -q 'listening on' "$SERVE_LOG" && break; sleep 0.05; done`);
        out.push(`grep -q 'listening on' "$SERVE_LOG" || { cat "$SERVE_LOG" >&2; echo ${JSON.stringify(`FAILED ${where}: ${cmd}`)} >&2; exit 1; }`);
        continue;
      }
      out.push(`${cmd} || { echo ${JSON.stringify(`FAILED ${where}: ${cmd}`).replaceAll('$', '\\$')} >&2; exit 1; }`);
    }
  }
  return out.join('\n') + '\n';
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('the READMEs, run as written', () => {
  for (const file of ['README.md', 'packages/server/README.md']) {
    it(`runs every shell example of ${file}`, async () => {
      const blocks = shellBlocks(readFileSync(join(repoRoot, file), 'utf8'));
      expect(blocks.filter((b) => !b.skip).length).toBeGreaterThan(0);
      const home = tempDir('keyward-readme-');
      const script = join(home, 'readme.sh');
      writeFileSync(script, scriptOf(file, blocks, await freePort()));
      const env = cleanEnv({ HOME: home, USER: userInfo().username, PATH: `${keywardBinDir()}:${process.env.PATH}` });
      delete env.XDG_DATA_HOME;
      try {
        // Every example's `keyward` one after another: 7 s on a quiet machine, 32 s at load ~16 on 2
        // cores, and over 90 s (killed) in a CI at load 15-26 whose own scheduling group held three
        // busy loops (that CI took 70 min, six times a quiet machine's, twice one at load ~16).
        execFileSync('bash', [script], { cwd: home, env, encoding: 'utf8', stdio: 'pipe', timeout: 240_000 });
      } catch (e) {
        const err = e as { stderr?: string; stdout?: string };
        throw new Error(`${file}: an example failed\n${err.stderr ?? ''}\n--- stdout ---\n${(err.stdout ?? '').slice(-2000)}`);
      }
    }, 300_000);
  }
});
