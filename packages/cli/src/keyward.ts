// The `keyward` program: subcommands for scripts, the terminal UI without one.
// The UI and the server are imported only when used, so subcommands start fast.
import { run } from './run.js';
import { serve } from './commands/serve.js';

const code = await run(process.argv.slice(2), process.env, {
  ui: async ({ service, location }, notes, { refreshMs }) => {
    const { runTerminalUI } = await import('@keyward/tui');
    // A store just made for this person: say so inside the UI too, and where the first key is.
    // Short enough for two lines at 80 columns, with the whole path (the header may cut it).
    const greeting = notes
      .map((n) => n.replace(/^Created a new Keyward store at (.+) with you \((.+)\) as the first tenant admin\.$/, 'Created $1 with you ($2) as its first tenant admin. My keys (5), then n: your first key.'))
      .join(' ');
    await runTerminalUI(service, { location, greeting: greeting.trim() || undefined, refreshMs });
  },
  serve,
});
process.exitCode = code;
