// The key map as data (behaviour §7). Handlers ask `commandFor`, the footer and
// the help screen read `BINDINGS`: one table, so what the help says is what
// the keys do.

import type { KeyPress } from './keypress.js';

export interface Binding {
  keys: readonly string[];
  /** How the keys are written in the footer and help ("j/↓"). */
  shown: string;
  /** A word or two for the footer. */
  label: string;
  /** A sentence for the help screen. */
  help: string;
}

const b = (keys: string[], shown: string, label: string, help: string): Binding => ({ keys, shown, label, help });

export const BINDINGS = {
  quit: b(['q', 'ctrl+c'], 'q', 'quit', 'Quit Keyward (ctrl-c works everywhere)'),
  help: b(['?'], '?', 'help', 'Show every key of this screen'),
  back: b(['esc'], 'esc', 'back', 'Back, cancel, clear the search'),
  interrupt: b(['ctrl+c'], 'ctrl-c', 'quit', 'Quit Keyward'),

  goKeys: b(['1'], '1', 'keys', 'Keys: every key of the tenant'),
  goEvents: b(['2'], '2', 'events', 'Events, and usage per key'),
  goSettings: b(['3'], '3', 'settings', 'Settings of the tenant'),
  goUsers: b(['4'], '4', 'users', 'Users, licences and roles'),
  goMyKeys: b(['5'], '5', 'my keys', 'My keys'),

  down: b(['j', 'down'], 'j/↓', 'down', 'Move down'),
  up: b(['k', 'up'], 'k/↑', 'up', 'Move up'),
  first: b(['g', 'home'], 'g', 'first', 'Go to the first row'),
  last: b(['G', 'end'], 'G', 'last', 'Go to the last row'),
  pageDown: b(['pagedown', 'ctrl+d'], 'PgDn', 'page down', 'Move one page down'),
  pageUp: b(['pageup', 'ctrl+u'], 'PgUp', 'page up', 'Move one page up'),

  search: b(['/'], '/', 'search', 'Search by description, id or owner (esc clears)'),
  filterEvents: b(['/'], '/', 'filter', 'Filter by key id or user (esc clears)'),
  cycleStatus: b(['s'], 's', 'status', 'Cycle the status filter: all, active, expired, revoked'),
  cycleType: b(['t'], 't', 'type', 'Cycle the event type filter'),
  toggleUsage: b(['u'], 'u', 'usage events', 'Show or hide the usage batches (used, auth-failed) among the events'),
  select: b(['space'], 'space', 'select', 'Select or unselect the row, and move down'),
  selectAll: b(['a'], 'a', 'select all', 'Select every row on screen (again: unselect them)'),
  open: b(['enter'], 'enter', 'details', 'Open the details'),
  switchPanel: b(['tab'], 'tab', 'usage', 'Switch between the events and the usage panel'),

  generate: b(['n'], 'n', 'new key', 'Generate a key'),
  rename: b(['e'], 'e', 'rename', 'Rename the key'),
  revoke: b(['r'], 'r', 'revoke', 'Revoke the current or the selected keys, after a confirmation'),
  rotate: b(['R'], 'R', 'rotate', 'Rotate the key: a new token, shown once; the old one works for an overlap you choose'),
  delete: b(['d'], 'd', 'delete', 'Delete the key, after a confirmation'),
  deleteAll: b(['D'], 'D', 'delete all', 'Delete all my keys, after typing a confirmation'),
  copy: b(['c'], 'c', 'copy id', 'Copy the key id (OSC 52)'),
  copyToken: b(['c'], 'c', 'copy token', 'Copy the token (OSC 52); it is shown only this once'),
  openKey: b(['o'], 'o', 'open key', 'Open the key of this row in Keys'),

  addUser: b(['n'], 'n', 'add user', 'Add a user'),
  toggleLicence: b(['l'], 'l', 'licence', 'Give or take the licence'),
  toggleDeveloper: b(['d'], 'd', 'developer', 'Give or take the Developer role'),
  toggleAdmin: b(['A'], 'A', 'admin', 'Give or take the TenantAdmin role'),
  removeUser: b(['x'], 'x', 'remove', 'Remove the user, after a confirmation: their active keys are revoked first'),

  edit: b(['enter'], 'enter', 'change', 'Change the setting (on/off settings switch at once)'),
  confirm: b(['y'], 'y', 'yes', 'Confirm'),
  cancel: b(['n', 'esc'], 'n/esc', 'no', 'Cancel'),
  submit: b(['enter'], 'enter', 'ok', 'Accept'),
  close: b(['esc', 'enter'], 'esc', 'close', 'Close'),
} satisfies Record<string, Binding>;

export type Command = keyof typeof BINDINGS;

export function commandFor(k: KeyPress, commands: readonly Command[]): Command | undefined {
  if (!k.name) return undefined;
  return commands.find((c) => BINDINGS[c].keys.includes(k.name));
}

/** Movement keys every list understands. */
export const LIST_COMMANDS: readonly Command[] = ['down', 'up', 'first', 'last', 'pageDown', 'pageUp'];
