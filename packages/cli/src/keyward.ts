// The `keyward` program: subcommands for scripts, the terminal UI without one.
// The UI and the server are imported only when used, so subcommands start fast.
import { run } from './run.js';
import { serve } from './commands/serve.js';

const code = await run(process.argv.slice(2), process.env, {
  ui: async ({ service, location }, notes, { refreshMs }) => {
    const { runTerminalUI } = await import('@keyward/tui');
    // A store just made for this person: say so inside the UI too, and where the first key is. The
    // status line has two lines: what to do first, the path last, where a long one is what gets cut
    // (the header shows it too).
    const greeting = notes
      .map((n) => n.replace(/^Created a new Keyward store at (.+) with you \((.+)\) as the first tenant admin\.$/, 'You ($2) are the first tenant admin of a new store. My keys (5), then n: your first key. It is at $1.'))
      .join(' ');
    await runTerminalUI(service, { location, greeting: greeting.trim() || undefined, refreshMs });
  },
  serve,
});
process.exitCode = code;
