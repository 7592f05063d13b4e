// The `keyward` program: subcommands for scripts, the terminal UI without one.
// The UI and the server are imported only when used, so subcommands start fast.
import { run } from './cli/run.js';
import { serve } from './cli/commands/serve.js';

const code = await run(process.argv.slice(2), process.env, {
  ui: async ({ service, location }, notes) => {
    const { runTerminalUI } = await import('./ui/index.js');
    await runTerminalUI(service, { location, greeting: notes.join(' ') || undefined });
  },
  serve,
});
process.exitCode = code;
