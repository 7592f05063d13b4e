// The `keyward` program: subcommands for scripts, the terminal UI without one.
// The UI and the server are imported only when used, so subcommands start fast.
import { run } from './cli/run.js';
import { serve } from './cli/commands/serve.js';

const code = await run(process.argv.slice(2), process.env, {
  ui: async ({ service, location }, notes) => {
    const { runTerminalUI } = await import('./ui/index.js');
    // A store just made for this person: say so inside the UI too, and where the first key is.
    const created = notes.some((n) => n.startsWith('Created a new Keyward store'));
    const greeting = notes.join(' ') + (created ? ' My keys (5), then n: your first key.' : '');
    await runTerminalUI(service, { location, greeting: greeting.trim() || undefined });
  },
  serve,
});
process.exitCode = code;
