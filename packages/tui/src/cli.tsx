// The `keyward` program: subcommands for scripts, the terminal UI without one.
import { run } from './cli/run.js';

const code = await run(process.argv.slice(2), process.env, {});
process.exitCode = code;
