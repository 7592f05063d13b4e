// Keyward's terminal UI, the Ink screens only: the `keyward` command
// (packages/cli) opens the service and calls runTerminalUI with it.
export { runTerminalUI, type TerminalUIOptions } from './ui/index.js';
